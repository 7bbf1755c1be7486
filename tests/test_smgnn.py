"""SMGNN: size, shapes, gradients through the back-projection QH, and a few training steps."""

import numpy as np
import pytest
import torch

from medgraph.graphs import build_superpixel_graphs
from medgraph.losses import SuperpixelMetricLoss, dice_loss
from medgraph.models import SMGNN, count_parameters

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


def test_device_argument_is_respected(tiny_batch):
    images, sb, _ = tiny_batch
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        model = SMGNN(device=device)
        assert all(p.device.type == device for p in model.parameters())
        logits, emb = model(images.to(device), sb.to(device))
        assert logits.device.type == device and emb.device.type == device
