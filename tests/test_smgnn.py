"""SMGNN: size, shapes, gradients through the back-projection QH, and a few training steps."""

import numpy as np
import pytest
import torch

from medgraph.graphs import build_superpixel_graphs
from medgraph.losses import SuperpixelMetricLoss, dice_loss
from medgraph.models import SMGNN, count_parameters
from medgraph.models.lean import conv_bn_relu
from medgraph.profiling import saved_activation_bytes

SIZE = 32


def voronoi_labels(k: int, seed: int) -> np.ndarray:
    """Hand-made irregular superpixels: nearest of k random seeds, relabelled 0 … K − 1."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, SIZE, size=(k, 2))
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    d = (rows[..., None] - seeds[:, 0]) ** 2 + (cols[..., None] - seeds[:, 1]) ** 2
    _, inverse = np.unique(d.argmin(-1), return_inverse=True)
    return inverse.reshape(SIZE, SIZE)


def cell(center: tuple[float, float], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A phantom cell: nucleus (2) inside cytoplasm (1) on background (0), coloured + noise."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    r = np.hypot(rows - center[0], cols - center[1])
    mask = np.where(r < 6, 2, np.where(r < 11, 1, 0))
    colours = np.array([[0.9, 0.8, 0.8], [0.7, 0.5, 0.7], [0.3, 0.1, 0.5]])
    noise = np.random.default_rng(seed).normal(0, 0.03, (SIZE, SIZE, 3))
    return np.clip(colours[mask] + noise, 0, 1).astype(np.float32), mask


@pytest.fixture(scope="module")
def tiny_batch():
    (im0, m0), (im1, m1) = cell((14, 15), 0), cell((18, 16), 1)
    images = np.stack([im0, im1])
    sb = build_superpixel_graphs(
        images, [voronoi_labels(60, 0), voronoi_labels(70, 1)], masks=[m0, m1]
    )
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    return pixels, sb, torch.from_numpy(np.stack([m0, m1])).long()


def test_default_parameter_count_is_about_seven_thousand():
    n = count_parameters(SMGNN())
    print(f"SMGNN default trainable parameters: {n}")
    assert 3_000 <= n <= 10_000
    gin = SMGNN().graph_layers
    assert len(gin) == 3 and all(layer.eps.requires_grad for layer in gin)  # w of Eq 2.4


def test_forward_shapes(tiny_batch):
    images, sb, _ = tiny_batch
    model = SMGNN()
    logits, emb = model(images, sb)
    assert logits.shape == (2, 3, SIZE, SIZE)
    assert emb.shape == (sb.num_nodes, 16)
    same = model(images, sb.graph, sb.label_maps)[0]
    assert torch.allclose(logits, same)
    with pytest.raises(ValueError, match="images"):
        model(images[:, :2], sb)


def test_pixel_loss_reaches_gin_weights_through_back_projection(tiny_batch):
    images, sb, masks = tiny_batch
    torch.manual_seed(0)
    model = SMGNN()
    logits, _ = model(images, sb)
    dice_loss(logits.softmax(1), masks, 3).backward()
    first = model.graph_layers[0]
    assert first.nn[0].weight.grad is not None
    assert float(first.nn[0].weight.grad.abs().sum()) > 0
    assert float(first.eps.grad.abs()) > 0


def test_adam_steps_lower_the_dice_loss(tiny_batch):
    images, sb, masks = tiny_batch
    torch.manual_seed(0)
    model = SMGNN()
    metric = SuperpixelMetricLoss(n_anchors=64, n_refs=64)
    optimiser = torch.optim.Adam([*model.parameters(), *metric.parameters()], lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(15):
        logits, emb = model(images, sb)
        dice = dice_loss(logits.softmax(1), masks, 3)
        loss = dice + 0.1 * metric(emb, sb.graph.score, generator=gen)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(dice.item())
    print(f"Dice loss {losses[0]:.4f} → {losses[-1]:.4f}")
    assert losses[-1] < losses[0] - 0.02


@pytest.mark.parametrize("gnn", ["gcn", "gat"])
def test_gcn_and_gat_variants_run(tiny_batch, gnn):
    images, sb, masks = tiny_batch
    model = SMGNN(gnn=gnn)
    logits, emb = model(images, sb)
    assert logits.shape == (2, 3, SIZE, SIZE) and emb.shape == (sb.num_nodes, 16)
    dice_loss(logits.softmax(1), masks, 3).backward()
    first = next(model.graph_layers[0].parameters())
    assert first.grad is not None and float(first.grad.abs().sum()) > 0
    assert count_parameters(model) <= 10_000


def test_pure_gnn_head_projects_node_logits_through_q(tiny_batch):
    _, sb, _ = tiny_batch
    model = SMGNN(head="none")
    logits, emb = model(None, sb)
    node_logits = model.node_logits(emb)
    assert node_logits.shape == (sb.num_nodes, 3)
    # every pixel carries the logits of its superpixel
    assert torch.equal(logits.permute(0, 2, 3, 1), node_logits[sb.label_maps])
    loss = torch.nn.functional.cross_entropy(node_logits, sb.graph.y)  # Eq 4.1
    loss.backward()
    assert model.graph_layers[0].nn[0].weight.grad is not None
    with pytest.raises(RuntimeError):
        SMGNN().node_logits(emb)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="gnn"):
        SMGNN(gnn="sage")
    with pytest.raises(ValueError, match="head"):
        SMGNN(head="unet")
    for bad in (0, 1.5, (1, 2), (1, 0, 2), (1.5, 1, 1)):
        with pytest.raises(ValueError, match="cnn_dilation"):
            SMGNN(cnn_dilation=bad)


@pytest.mark.parametrize(("dilation", "radius"), [(1, 3), ((1, 2, 4), 7), ((2, 1, 3), 6)])
def test_cnn_head_receptive_field_is_the_sum_of_dilations(tiny_batch, dilation, radius):
    # three 3×3 convolutions with dilations d1, d2, d3 see ±(d1 + d2 + d3) pixels: a change of
    # the input at that offset reaches the centre logit, one pixel further does not
    torch.manual_seed(0)
    model = SMGNN(cnn_dilation=dilation).eval()
    n = 2 * radius + 7
    x = torch.rand(1, 19, n, n)
    c = n // 2
    with torch.no_grad():
        base = model.head(x)[0, :, c, c]
        for offset, reaches in ((radius, True), (radius + 1, False)):
            for dr, dc in ((0, offset), (offset, 0), (-offset, -offset)):
                y = x.clone()
                y[0, :, c + dr, c + dc] += 5.0
                changed = not torch.equal(model.head(y)[0, :, c, c], base)
                assert changed is reaches, (offset, dr, dc)
    assert count_parameters(model) == count_parameters(SMGNN())  # same weights, wider view
    images, sb, _ = tiny_batch
    assert model(images, sb)[0].shape == (2, 3, SIZE, SIZE)  # padding keeps the image size


def test_device_argument_is_respected(tiny_batch):
    images, sb, _ = tiny_batch
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        model = SMGNN(device=device)
        assert all(p.device.type == device for p in model.parameters())
        logits, emb = model(images.to(device), sb.to(device))
        assert logits.device.type == device and emb.device.type == device


def _train_step(model, pixels, sb, masks):
    images = pixels.clone().requires_grad_(True)
    logits, emb = model(images, sb)
    loss = dice_loss(logits.softmax(1), masks, 3) + SuperpixelMetricLoss()(emb, sb.graph.score)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return logits.detach(), grads, images.grad, dict(model.named_buffers())


@pytest.mark.parametrize("dilation", [1, (1, 2, 4)])
def test_memory_efficient_head_equals_plain_modules(tiny_batch, dilation):
    pixels, sb, masks = tiny_batch
    torch.manual_seed(3)
    plain = SMGNN(memory_efficient=False, cnn_dilation=dilation)
    lean = SMGNN(memory_efficient=True, cnn_dilation=dilation)
    lean.load_state_dict(plain.state_dict())
    plain.train(), lean.train()
    for _ in range(2):  # two steps: running statistics accumulate alike
        a = _train_step(plain, pixels, sb, masks)
        b = _train_step(lean, pixels, sb, masks)
        plain.zero_grad(), lean.zero_grad()
    assert torch.allclose(a[0], b[0], atol=1e-6)
    for name, grad in a[1].items():
        assert torch.allclose(grad, b[1][name], rtol=1e-4, atol=1e-7), name
    assert torch.allclose(a[2], b[2], rtol=1e-4, atol=1e-9)  # gradient reaches the image too
    for name, buf in a[3].items():
        assert torch.allclose(buf.float(), b[3][name].float()), name
    assert int(b[3]["head.1.num_batches_tracked"]) == 2
    # evaluation takes the plain path and agrees
    plain.eval(), lean.eval()
    with torch.no_grad():
        assert torch.equal(plain(pixels, sb)[0], lean(pixels, sb)[0])


def test_memory_efficient_head_saves_fewer_activation_bytes(tiny_batch):
    pixels, sb, masks = tiny_batch
    sizes = {}
    for flag in (False, True):
        model = SMGNN(memory_efficient=flag).train()
        sizes[flag] = saved_activation_bytes(
            lambda m=model: dice_loss(m(pixels, sb)[0].softmax(1), masks, 3),
            exclude=list(model.buffers()),
        )
    # the plain head keeps [QH, X] (19 maps) and two BatchNorm inputs (16 maps each); the lean
    # one keeps X (3 maps) and H (K × 16) instead, all float32
    b, _, h, w = pixels.shape
    k = sb.graph.num_nodes
    assert sizes[False] - sizes[True] == 4 * (b * h * w * (19 + 16 + 16 - 3) - k * 16)


def test_conv_bn_relu_cumulative_momentum_and_checks():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
    bn = torch.nn.BatchNorm2d(4, momentum=None)
    ref_bn = torch.nn.BatchNorm2d(4, momentum=None)
    x = torch.randn(2, 3, 5, 5)
    for _ in range(3):
        out = conv_bn_relu(conv, bn, x)
        ref = torch.relu(ref_bn(conv(x)))
    assert torch.allclose(out, ref, atol=1e-6)
    assert torch.allclose(bn.running_var, ref_bn.running_var)
    assert int(bn.num_batches_tracked) == 3
    with pytest.raises(ValueError, match="together"):
        conv_bn_relu(conv, bn, x, node_h=torch.zeros(2, 1))
    bn.eval()
    with pytest.raises(ValueError, match="training"):
        conv_bn_relu(conv, bn, x)


def test_inference_logits_equal_those_of_the_recorded_forward(tiny_batch):
    images, sb, _ = tiny_batch
    torch.manual_seed(3)
    model = SMGNN(cnn_dilation=(1, 2, 4)).eval()
    recorded, _ = model(images, sb)
    with torch.no_grad():
        fast, _ = model(images, sb)
    assert recorded.requires_grad
    assert torch.equal(fast, recorded.detach())
