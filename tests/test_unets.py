"""Pixel-space baselines: shapes at any size, training, parameter counts, Swin window machinery."""

import pytest
import torch
import torch.nn.functional as F

import medgraph.models
from medgraph.models.common import count_parameters
from medgraph.models.unets import (
    BASELINES,
    PAPER_CONFIGS,
    SMALL_CONFIGS,
    AttentionGate,
    PatchExpand,
    PatchMerging,
    SwinBlock,
    UNet,
    UNetPlusPlus,
    WindowAttention,
    build_baseline,
    crop_padding,
    pad_to_multiple,
    shifted_window_mask,
    window_partition,
    window_reverse,
)
from medgraph.published import PAPER_PARAMS_M

NAMES = ["unet", "attention_unet", "unet++", "swin_unet"]

# Tiny widths for the optimisation tests (a few thousand parameters, fast on 2 CPU cores).
TINY = {
    "unet": {"base": 4, "depth": 2},
    "attention_unet": {"base": 4, "depth": 2},
    "unet++": {"base": 4, "depth": 2},
    "swin_unet": {
        "embed_dim": 16,
        "depths": (2, 2),
        "num_heads": (1, 2),
        "window_size": 4,
        "patch_size": 2,
        "drop_path_rate": 0.0,
    },
}

# Exact counts at 3 → 3 channels, pinned so that an accidental change of an architecture shows.
EXPECTED_PARAMS = {
    ("unet", "small"): 1_942_611,
    ("attention_unet", "small"): 2_182_455,
    ("unet++", "small"): 2_263_747,
    ("swin_unet", "small"): 3_035_212,
    ("unet", "paper"): 5_527_632,
    ("attention_unet", "paper"): 34_869_447,
    ("unet++", "paper"): 9_045_891,
    ("swin_unet", "paper"): 73_499_184,
}


@pytest.fixture(autouse=True)
def one_thread():
    """Run single-threaded: these models are tiny, and two OpenMP threads that spin on a busy
    2-core machine made the training tests 50× slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def meta_model(name, size):
    """Build on the meta device: parameter shapes without memory or initialisation time."""
    with torch.device("meta"):
        return build_baseline(name, size=size)


def test_registry_and_paper_numbers():
    assert sorted(BASELINES) == sorted(NAMES)
    assert set(SMALL_CONFIGS) == set(PAPER_CONFIGS) == set(NAMES)
    assert set(PAPER_PARAMS_M) == {*NAMES, "smgnn"} and PAPER_PARAMS_M["smgnn"] == 7e-3
    # the paper's numbers live in medgraph.published only
    assert not hasattr(medgraph.models, "PAPER_PARAMS_M")


def test_the_former_module_re_exports_the_split_modules():
    import medgraph.models.baselines as baselines
    import medgraph.models.blocks as blocks
    import medgraph.models.swin_unet as swin_unet
    import medgraph.models.unet as unet
    import medgraph.models.unetpp as unetpp
    import medgraph.models.unets as unets

    homes = [baselines, blocks, swin_unet, unet, unetpp]
    for name in unets.__all__:
        assert any(getattr(home, name, None) is getattr(unets, name) for home in homes), name
    assert medgraph.models.UNet is unet.UNet and medgraph.models.SwinUNet is swin_unet.SwinUNet
    assert medgraph.models.build_baseline is baselines.build_baseline


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(2, 3, 120, 120), (1, 3, 300, 300), (1, 3, 88, 101)])
def test_forward_shape_small(name, shape):
    torch.manual_seed(0)
    model = build_baseline(name, num_classes=3, size="small").eval()
    with torch.no_grad():
        y = model(torch.rand(shape))
    assert y.shape == (shape[0], 3, shape[2], shape[3])
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", NAMES)
def test_num_classes_and_bad_input(name):
    model = build_baseline(name, num_classes=5, **TINY[name]).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 37, 45)).shape == (1, 5, 37, 45)
    with pytest.raises(ValueError, match="expects"):
        model(torch.rand(1, 4, 32, 32))


@pytest.mark.parametrize("name", NAMES)
def test_backward_and_adam_lower_cross_entropy(name):
    torch.manual_seed(0)
    model = build_baseline(name, num_classes=3, **TINY[name]).train()
    x = torch.rand(2, 3, 36, 44)
    target = x.argmax(1)  # a fixed random map that the networks can learn
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(20):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        if step == 0:
            missing = [n for n, p in model.named_parameters() if p.grad is None]
            assert not missing, f"parameters without gradient: {missing}"
            assert all(torch.isfinite(p.grad).all() for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0], losses


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", ["small", "paper"])
def test_parameter_counts(name, size):
    n = count_parameters(meta_model(name, size))
    assert n > 0
    assert n == EXPECTED_PARAMS[(name, size)]


@pytest.mark.parametrize("name", ["unet", "attention_unet", "swin_unet"])
def test_paper_size_is_close_to_the_paper(name):
    n = count_parameters(meta_model(name, "paper")) / 1e6
    small = count_parameters(meta_model(name, "small")) / 1e6
    assert abs(n - PAPER_PARAMS_M[name]) / PAPER_PARAMS_M[name] < 0.03
    assert small < n


@pytest.mark.parametrize("name", NAMES)
def test_paper_size_classmethod_matches_builder(name):
    with torch.device("meta"):
        a = BASELINES[name].paper_size()
        b = build_baseline(name, size="paper")
    assert count_parameters(a) == count_parameters(b) == EXPECTED_PARAMS[(name, "paper")]


def test_build_baseline_rejects_unknown():
    with pytest.raises(ValueError, match="unknown baseline 'resnet'"):
        build_baseline("resnet")
    with pytest.raises(ValueError, match="unknown size"):
        build_baseline("unet", size="huge")
    # spelling variants of a known name are accepted
    assert isinstance(build_baseline("UNet", base=4, depth=1), UNet)
    assert type(build_baseline("Swin-UNet", **TINY["swin_unet"])).__name__ == "SwinUNet"


def test_pad_to_multiple_round_trip():
    x = torch.arange(2 * 3 * 7 * 10, dtype=torch.float32).view(2, 3, 7, 10)
    xp, pads = pad_to_multiple(x, 8)
    assert xp.shape[-2:] == (8, 16)
    assert pads == (0, 1, 3, 3)
    assert torch.equal(crop_padding(xp, pads), x)
    # reflect: the first padded column mirrors column 1
    assert torch.equal(xp[..., 0, 2], x[..., 0, 1])
    # too small to reflect: falls back to replicate instead of failing
    tiny = torch.rand(1, 1, 3, 3)
    tp, tpads = pad_to_multiple(tiny, 16)
    assert tp.shape[-2:] == (16, 16)
    assert torch.equal(tp[..., 0, 0], tiny[..., 0, 0].expand_as(tp[..., 0, 0]))
    assert torch.equal(crop_padding(tp, tpads), tiny)


def test_attention_gate_coefficients():
    torch.manual_seed(0)
    gate = AttentionGate(x_channels=4, g_channels=6, inter_channels=2)
    x, g = torch.rand(2, 4, 5, 7), torch.rand(2, 6, 5, 7)
    alpha = gate.coefficients(x, g)
    assert alpha.shape == (2, 1, 5, 7)
    assert ((alpha > 0) & (alpha < 1)).all()
    assert torch.allclose(gate(x, g), x * alpha)


def test_unetpp_deep_supervision_averages_heads():
    torch.manual_seed(0)
    model = UNetPlusPlus(base=4, depth=3, deep_supervision=True).eval()
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        heads = model.forward_heads(x)
        y = model(x)
    assert len(heads) == 3
    assert all(h.shape == (1, 3, 20, 28) for h in heads)
    assert torch.allclose(y, torch.stack(heads).mean(0), atol=1e-6)
    assert not torch.allclose(heads[0], heads[-1])
    assert len(UNetPlusPlus(base=4, depth=3).forward_heads(x)) == 1


def test_window_partition_round_trip():
    x = torch.randn(2, 12, 8, 5)
    win = window_partition(x, 4)
    assert win.shape == (2 * 3 * 2, 16, 5)
    # window 1 of image 0 is rows 0-3, columns 4-7, row-major
    assert torch.equal(win[1], x[0, 0:4, 4:8].reshape(16, 5))
    assert torch.equal(window_reverse(win, 4, 12, 8), x)


def test_shifted_window_mask_known_entries():
    w, s = 4, 2
    mask = shifted_window_mask(8, 8, w, s)
    assert mask.shape == (4, 16, 16)
    # window 0 (top-left) holds one region only: nothing blocked
    assert (mask[0] == 0).all()
    # window 3 (bottom-right): token 0 = grid (4, 4) is region (1, 1), token 10 = grid (6, 6)
    # is region (2, 2) — they came from opposite corners of the map before the roll
    assert mask[3, 0, 10] == -100.0
    assert mask[3, 0, 1] == 0.0  # (4, 5) is region (1, 1) too
    assert mask[3, 10, 15] == 0.0  # (6, 6) and (7, 7): both region (2, 2)
    assert torch.equal(mask, mask.transpose(1, 2))


def test_shifted_window_mask_blocks_exactly_wrapped_pairs():
    """Allowed pairs are those that were within a window's reach before the cyclic roll."""
    h, wd, w, s = 12, 8, 4, 2
    mask = shifted_window_mask(h, wd, w, s)
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(wd), indexing="ij")
    # original coordinates of the tokens that sit at each grid position after roll by −s
    orig = torch.stack([(rows + s) % h, (cols + s) % wd], dim=-1).float()
    o = window_partition(orig.unsqueeze(0), w)  # (nW, w², 2)
    dist = (o[:, :, None, :] - o[:, None, :, :]).abs().amax(-1)
    assert torch.equal(mask == -100.0, dist >= w)
    assert (mask == -100.0).any() and (mask == 0).any()


def test_shifted_block_does_not_mix_wrapped_tokens():
    torch.manual_seed(0)
    blk = SwinBlock(dim=8, num_heads=2, window=4, shift=2).eval()
    x = torch.randn(1, 8, 8, 8)
    x2 = x.clone()
    x2[0, 7, 7] += 3.0 * torch.randn(8)  # bottom-right corner (not a constant: LayerNorm)
    with torch.no_grad():
        y, y2 = blk(x), blk(x2)
        # without the mask the corner would leak into (0, 0), which shares its shifted window
        unmasked = torch.zeros(4, 16, 16)
        z, z2 = blk(x, unmasked), blk(x2, unmasked)
    assert torch.allclose(y[0, 0, 0], y2[0, 0, 0], atol=1e-6)
    assert not torch.allclose(y[0, 6, 6], y2[0, 6, 6], atol=1e-4)  # same region: does mix
    assert not torch.allclose(z[0, 0, 0], z2[0, 0, 0], atol=1e-4)
    # a map that is one window needs no shift
    assert blk.effective_shift(4, 4) == 0 and blk.effective_shift(8, 8) == 2


def test_relative_position_bias_depends_on_offset_only():
    w = 3
    attn = WindowAttention(dim=4, window=w, num_heads=2)
    r, c = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")
    r, c = r.flatten(), c.flatten()
    offsets = torch.stack([r[:, None] - r[None, :], c[:, None] - c[None, :]], -1).view(-1, 2)
    index = attn.rel_index.view(-1, 1)
    n_offsets = len(torch.unique(offsets, dim=0))
    assert n_offsets == (2 * w - 1) ** 2
    # one table entry per offset, and one offset per table entry
    assert len(torch.unique(torch.cat([offsets, index], 1), dim=0)) == n_offsets
    assert len(torch.unique(index)) == n_offsets
    bias = attn.relative_position_bias()
    assert bias.shape == (2, w * w, w * w)
    # tokens (0,0)→(1,1) and (1,1)→(2,2) share the offset (−1, −1)
    assert torch.equal(bias[:, 0, 4], bias[:, 4, 8])


def test_swin_padding_multiple():
    small = meta_model("swin_unet", "small")
    paper = meta_model("swin_unet", "paper")
    assert small.input_multiple == 4 * 5 * 8  # patch · window · 2^(stages − 1)
    assert paper.input_multiple == 4 * 7 * 8


def changed_positions(module, x, r, c):
    """Output positions (rows, cols) that change when input token (r, c) is perturbed."""
    x2 = x.clone()
    x2[0, r, c] += torch.randn(x.shape[-1])
    with torch.no_grad():
        diff = (module(x2) - module(x)).abs().amax(-1)[0]
    return set(map(tuple, (diff > 1e-6).nonzero().tolist()))


def test_patch_merging_and_expanding_are_local():
    torch.manual_seed(0)
    merge, expand = PatchMerging(dim=4), PatchExpand(dim=4, scale=2, out_dim=2)
    x = torch.randn(1, 6, 4, 4)
    for r, c in [(0, 0), (1, 0), (0, 1), (3, 2), (5, 3)]:
        assert changed_positions(merge, x, r, c) == {(r // 2, c // 2)}
        block = {(2 * r + i, 2 * c + j) for i in range(2) for j in range(2)}
        assert changed_positions(expand, x, r, c) == block
    assert merge(x).shape == (1, 3, 2, 8) and expand(x).shape == (1, 12, 8, 2)
