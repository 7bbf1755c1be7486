"""Tests of medgraph.features: the patch-feature extractors of notebook 04."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from medgraph.features import (
    COLOUR_TEXTURE_COLUMNS,
    COLOUR_TEXTURE_DIM,
    COLOUR_TEXTURE_GROUPS,
    DINO_VITS8_FILENAME,
    DINO_VITS8_URL,
    FEATURE_EXTRACTORS,
    DinoVisionTransformer,
    FeaturesUnavailableError,
    PatchFeatures,
    colour_texture_features,
    dino_state_dict,
    dino_vits8,
    extract_patch_features,
    load_dino_vits8,
    patch_labels_to_image,
    patch_positions,
    resize_images,
    srgb_to_lab,
)
from medgraph.features.patches import image_list


def _noisy_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _two_colour_image(rng: np.random.Generator, size: int = 224) -> np.ndarray:
    """Left half red, right half blue, with mild noise (σ ≈ 6 grey levels)."""
    img = np.zeros((size, size, 3), dtype=np.float64)
    img[:, : size // 2] = (200, 40, 40)
    img[:, size // 2 :] = (40, 60, 200)
    img += rng.normal(0.0, 6.0, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# colour conversion and resizing
# --------------------------------------------------------------------------------------------


def test_srgb_to_lab_matches_skimage_on_random_pixels():
    rng = np.random.default_rng(0)
    pixels = rng.random((4000, 3))
    # the edges of both piecewise functions, black, white and the primaries
    extra = np.array(
        [[0, 0, 0], [1, 1, 1], [0.04045, 0.04045, 0.04045], [0.0405, 0.04, 0.05]]
        + [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.01, 0.002, 0.0]]
    )
    pixels = np.concatenate([pixels, extra])
    expected = rgb2lab(pixels[None])[0]  # (N, 3), float64
    rgb = torch.from_numpy(pixels.T.astype(np.float32)).reshape(3, -1, 1)  # (3, N, 1)
    got = srgb_to_lab(rgb).reshape(3, -1).T.numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-3, rtol=0)
    assert got[:, 0].min() >= -1e-4 and got[:, 0].max() <= 100 + 1e-3


def test_srgb_to_lab_batched_layout():
    rng = np.random.default_rng(1)
    img = rng.random((2, 5, 7, 3))
    got = srgb_to_lab(torch.from_numpy(img).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(got, rgb2lab(img), atol=1e-6)
    with pytest.raises(ValueError, match="3, H, W"):
        srgb_to_lab(torch.zeros(4, 5, 5))


def test_resize_images_antialiased_and_validated():
    rng = np.random.default_rng(2)
    flat = np.full((300, 180, 3), (10, 120, 250), dtype=np.uint8)
    noisy = _noisy_image(rng, 300, 180)
    out = resize_images(image_list([flat, noisy, flat[:64, :64]]), 32, "cpu")
    assert out.shape == (3, 3, 32, 32) and out.dtype == torch.float32
    np.testing.assert_allclose(out[0].mean(dim=(1, 2)).numpy(), np.array([10, 120, 250]) / 255)
    np.testing.assert_allclose(out[0], out[2], atol=1e-6)  # a flat image stays flat
    # antialiasing averages the noise over ~9×6 source pixels: the std drops well below the
    # source's (≈ 74 grey levels); without antialiasing it would stay near the source's
    assert float(out[1].std()) * 255 < 30
    with pytest.raises(ValueError, match="H, W, 3"):
        image_list([np.zeros((8, 8), dtype=np.uint8)])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        resize_images(image_list([np.full((8, 8, 3), 3.0)]), 8, "cpu")
    with pytest.raises(ValueError, match="at least one"):
        image_list([])


def test_patch_labels_to_image_inverts_the_grid():
    grid = (28, 28)
    labels = np.arange(28 * 28)  # every patch its own label
    shape = (300, 190)
    img = patch_labels_to_image(labels, grid, shape)
    assert img.shape == shape
    ys, xs = np.arange(300), np.arange(190)
    rows = np.floor((ys + 0.5) * 28 / 300).astype(int)
    cols = np.floor((xs + 0.5) * 28 / 190).astype(int)
    np.testing.assert_array_equal(img, rows[:, None] * 28 + cols[None, :])
    torch_img = patch_labels_to_image(torch.from_numpy(labels).reshape(28, 28), grid, shape)
    np.testing.assert_array_equal(torch_img.numpy(), img)
    with pytest.raises(ValueError, match="784"):
        patch_labels_to_image(np.arange(100), grid, shape)


# --------------------------------------------------------------------------------------------
# colour_texture
# --------------------------------------------------------------------------------------------


def test_colour_texture_shape_dimension_and_description():
    rng = np.random.default_rng(3)
    images = [_noisy_image(rng, 300, 300), _noisy_image(rng, 120, 250), _two_colour_image(rng)]
    feats = extract_patch_features(images, "colour_texture", device="cpu")
    assert isinstance(feats, PatchFeatures)
    assert feats.features.shape == (3, 784, 13) and feats.features.dtype == torch.float32
    assert COLOUR_TEXTURE_DIM == 13 == len(COLOUR_TEXTURE_COLUMNS) == feats.dim
    assert sum(s.stop - s.start for s in COLOUR_TEXTURE_GROUPS.values()) == 13
    assert bool(torch.isfinite(feats.features).all())
    assert feats.grid == (28, 28) and feats.n_patches == 784 and len(feats) == 3
    assert feats.image_shapes == ((300, 300), (120, 250), (224, 224))
    assert feats.extractor == "colour_texture"
    assert "13-d" in feats.description and "\n" not in feats.description
    assert feats.labels_to_image(np.zeros(784, dtype=np.int64), 1).shape == (120, 250)


@pytest.mark.parametrize("weight", [1.0, 2.5])
def test_position_columns_equal_the_patch_grid(weight):
    rng = np.random.default_rng(4)
    feats = extract_patch_features(
        [_noisy_image(rng, 96, 64)], size=64, patch=8, device="cpu", position_weight=weight
    )
    pos = feats.features[0, :, COLOUR_TEXTURE_GROUPS["position"]] / weight
    rows, cols = np.divmod(np.arange(64), 8)
    expected = np.stack([rows / 7, cols / 7], axis=1)
    np.testing.assert_allclose(pos.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(patch_positions((8, 8)).numpy(), expected, atol=1e-7)


def test_colour_and_texture_are_standardised_per_image_and_weighted():
    rng = np.random.default_rng(5)
    # patchwise random colours plus pixel noise of patchwise random amplitude
    base = rng.random((2, 3, 8, 8)) * 0.6 + 0.2
    amplitude = rng.random((2, 1, 8, 8)) * 0.2
    up = np.repeat(np.repeat(base, 8, axis=2), 8, axis=3)
    noise = np.repeat(np.repeat(amplitude, 8, axis=2), 8, axis=3) * rng.standard_normal(up.shape)
    img = torch.from_numpy(np.clip(up + noise, 0, 1).astype(np.float32))
    img[1] = img[1] * 0.5 + 0.25  # another contrast: the same scaling after standardisation
    out = colour_texture_features(img, 8, colour_weight=2.0, texture_weight=0.5)
    for group, weight, dim in (("colour", 2.0, 6), ("texture", 0.5, 5)):
        cols = out[:, :, COLOUR_TEXTURE_GROUPS[group]]
        np.testing.assert_allclose(cols.mean(dim=1).numpy(), 0.0, atol=1e-5)
        np.testing.assert_allclose(
            cols.std(dim=1, correction=0).numpy(), weight / math.sqrt(dim), rtol=1e-4
        )
    # a column whose spread is below its floor (1 ΔE) is not blown up to unit std
    faint = img[:1].clone()
    faint[:, 0] = 0.5 + 0.002 * faint[:, 0]  # red channel nearly constant ...
    faint[:, 1:] = faint[:, :1]  # ... and grey: a* and b* patch means vary by < 1 ΔE
    cols = colour_texture_features(faint, 8)[0, :, 1:3]  # a_mean, b_mean
    assert float(cols.std(dim=0, correction=0).max()) < 0.1 / math.sqrt(6)


def test_constant_image_gives_zero_colour_and_texture_columns():
    feats = extract_patch_features(
        [np.full((50, 70, 3), 128, dtype=np.uint8)], size=64, device="cpu"
    )
    assert bool(torch.isfinite(feats.features).all())
    assert float(feats.features[0, :, :11].abs().max()) < 1e-5


def test_different_colours_are_farther_apart_than_equal_colours():
    rng = np.random.default_rng(6)
    f = extract_patch_features([_two_colour_image(rng)], device="cpu").features[0]

    def patch(row: int, col: int) -> torch.Tensor:
        return f[row * 28 + col]

    # same colour (red), opposite corners of the red half: far apart in position
    same = float(torch.dist(patch(0, 0), patch(27, 12)))
    # different colour, close in position (neither patch touches the boundary at column 14)
    different = float(torch.dist(patch(13, 12), patch(13, 16)))
    assert different > 2 * same, (same, different)
    # and the colour group alone separates the halves by much more than its noise
    colour = f[:, COLOUR_TEXTURE_GROUPS["colour"]].reshape(28, 28, 6)
    left, right = colour[:, :13].reshape(-1, 6), colour[:, 15:].reshape(-1, 6)
    gap = float(torch.dist(left.mean(0), right.mean(0)))
    spread = float(left.std(0).norm() + right.std(0).norm())
    assert gap > 3 * spread


def test_batching_gives_the_same_features_as_one_image_at_a_time():
    rng = np.random.default_rng(7)
    images = [_noisy_image(rng, h, w) for h, w in [(70, 90), (64, 64), (70, 90), (33, 120)]]
    together = extract_patch_features(images, size=64, batch_size=3, device="cpu").features
    alone = torch.cat(
        [extract_patch_features([im], size=64, device="cpu").features for im in images]
    )
    np.testing.assert_allclose(together.numpy(), alone.numpy(), atol=1e-5)
    # (B, H, W, 3) arrays and tensors are accepted as well
    same = np.stack([images[0], images[2]])
    from_array = extract_patch_features(same, size=64, device="cpu").features
    from_tensor = extract_patch_features(torch.from_numpy(same), size=64, device="cpu").features
    np.testing.assert_allclose(from_array.numpy(), alone[[0, 2]].numpy(), atol=1e-5)
    assert torch.equal(from_array, from_tensor)


def test_colour_texture_is_deterministic():
    rng = np.random.default_rng(8)
    images = [_noisy_image(rng, 100, 100) for _ in range(3)]
    a = extract_patch_features(images, size=64, device="cpu").features
    b = extract_patch_features(images, size=64, device="cpu").features
    assert torch.equal(a, b)


def test_unknown_extractor_and_options_are_clear_errors():
    img = [np.zeros((16, 16, 3), dtype=np.uint8)]
    with pytest.raises(ValueError, match="unknown feature extractor 'dino'") as err:
        extract_patch_features(img, "dino", device="cpu")
    for name in FEATURE_EXTRACTORS:
        assert name in str(err.value)
    assert set(FEATURE_EXTRACTORS) == {"colour_texture", "dino_vits8"}
    with pytest.raises(TypeError, match="colour_wieght"):
        extract_patch_features(img, size=16, device="cpu", colour_wieght=2.0)
    with pytest.raises(ValueError, match="multiple of patch"):
        extract_patch_features(img, size=20, patch=8, device="cpu")
    with pytest.raises(ValueError, match="colour_weight"):
        extract_patch_features(img, size=16, device="cpu", colour_weight=-1.0)


# --------------------------------------------------------------------------------------------
# DINO ViT-S/8
# --------------------------------------------------------------------------------------------


def _documented_dino_vits8_shapes(patch: int = 8, grid: int = 28) -> dict[str, tuple[int, ...]]:
    """The parameter names and shapes of DINO's vit_small(patch_size=8, num_classes=0)."""
    d, hidden = 384, 1536
    shapes: dict[str, tuple[int, ...]] = {
        "cls_token": (1, 1, d),
        "pos_embed": (1, 1 + grid * grid, d),
        "patch_embed.proj.weight": (d, 3, patch, patch),
        "patch_embed.proj.bias": (d,),
    }
    for i in range(12):
        b = f"blocks.{i}."
        shapes |= {
            b + "norm1.weight": (d,),
            b + "norm1.bias": (d,),
            b + "attn.qkv.weight": (3 * d, d),
            b + "attn.qkv.bias": (3 * d,),
            b + "attn.proj.weight": (d, d),
            b + "attn.proj.bias": (d,),
            b + "norm2.weight": (d,),
            b + "norm2.bias": (d,),
            b + "mlp.fc1.weight": (hidden, d),
            b + "mlp.fc1.bias": (hidden,),
            b + "mlp.fc2.weight": (d, hidden),
            b + "mlp.fc2.bias": (d,),
        }
    return shapes | {"norm.weight": (d,), "norm.bias": (d,)}


def test_vit_state_dict_matches_the_dino_checkpoint_layout():
    model = DinoVisionTransformer(device="meta")
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == _documented_dino_vits8_shapes()
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 21_670_272
    # ViT-S/16 (DINO's dino_deitsmall16, 21,665,664 parameters) differs in the patch
    # projection (3·16²·384 vs 3·8²·384 weights) and the positional embedding (197 vs 785 rows)
    s16 = DinoVisionTransformer(patch=16, device="meta")
    n16 = sum(p.numel() for p in s16.parameters())
    assert n16 == 21_665_664
    assert n_params - n16 == 3 * 384 * (8 * 8 - 16 * 16) + 384 * (785 - 197)


def test_random_vit_is_seeded_without_touching_the_global_rng():
    state = torch.random.get_rng_state()
    a, b = dino_vits8(seed=3), dino_vits8(seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(a.pos_embed, dino_vits8(seed=4).pos_embed)


def test_keys_are_the_last_qkv_key_third_for_224_input():
    model = dino_vits8(seed=0)
    captured: dict[str, torch.Tensor] = {}
    hook = model.blocks[-1].attn.qkv.register_forward_hook(
        lambda _m, _i, out: captured.__setitem__("qkv", out.detach())
    )
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(x)  # the full forward, which runs the last block's qkv projection
        keys = model.last_keys(x)
    hook.remove()
    assert keys.shape == (1, 784, 384)
    # qkv output per token: [q (6 heads × 64) | k (6 × 64) | v (6 × 64)]; drop the cls token
    np.testing.assert_allclose(keys.numpy(), captured["qkv"][:, 1:, 384:768].numpy(), atol=1e-5)
    assert bool(torch.isfinite(keys).all()) and float(keys.std()) > 0


def test_positional_embedding_interpolates_to_other_grids():
    model = dino_vits8(seed=1)
    assert model.interpolate_pos_encoding(28, 28) is model.pos_embed
    pos = model.interpolate_pos_encoding(20, 20)
    assert pos.shape == (1, 401, 384)
    assert torch.equal(pos[:, 0], model.pos_embed[:, 0])  # the class token's is kept
    # bicubic weights sum to one: a constant embedding stays constant
    with torch.no_grad():
        model.pos_embed[:, 1:] = 0.25
    np.testing.assert_allclose(
        model.interpolate_pos_encoding(20, 12)[:, 1:].detach().numpy(), 0.25, atol=1e-6
    )
    keys = model.last_keys(torch.zeros(2, 3, 160, 160))
    assert keys.shape == (2, 400, 384)


def test_dino_extractor_by_name_with_a_given_model():
    rng = np.random.default_rng(9)
    images = [_noisy_image(rng, 80, 100), _noisy_image(rng, 64, 64)]
    model = dino_vits8(seed=0)
    feats = extract_patch_features(
        images, "dino_vits8", size=64, device="cpu", batch_size=1, model=model
    )
    assert feats.features.shape == (2, 64, 384) and feats.grid == (8, 8)
    assert "384-d" in feats.description and "keys" in feats.description
    assert not feats.features.requires_grad and not feats.features.is_inference()
    with pytest.raises(ValueError, match="patch=8"):
        extract_patch_features(images, "dino_vits8", size=64, patch=16, device="cpu", model=model)


def test_checkpoint_round_trips_through_load_dino_vits8(tmp_path):
    model = dino_vits8(seed=5)
    path = tmp_path / "vits8.pth"
    torch.save(model.state_dict(), path)
    loaded = load_dino_vits8(path, device="cpu")
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    # a training checkpoint: teacher/student wrappers, prefixes and a projection head
    wrapped = {
        "teacher": {f"backbone.{k}": v for k, v in model.state_dict().items()}
        | {"head.mlp.0.weight": torch.zeros(2, 384)},
        "student": {f"module.backbone.{k}": v * 0 for k, v in model.state_dict().items()},
        "epoch": 100,
    }
    torch.save(wrapped, tmp_path / "train.pth")
    loaded = load_dino_vits8(tmp_path / "train.pth", device="cpu")
    assert torch.equal(loaded.pos_embed, model.pos_embed)  # the teacher, not the student
    assert set(dino_state_dict({"state_dict": {"module.norm.bias": torch.ones(3)}})) == {
        "norm.bias"
    }
    x = torch.rand(1, 3, 64, 64)
    np.testing.assert_allclose(loaded.last_keys(x).detach(), model.last_keys(x).detach())


def test_load_refuses_a_checkpoint_of_another_architecture(tmp_path):
    s16 = DinoVisionTransformer(patch=16, device="cpu").init_weights(torch.Generator())
    torch.save(s16.state_dict(), tmp_path / "vits16.pth")
    with pytest.raises(ValueError, match="not a DINO ViT-S/8 checkpoint.*wrong shape"):
        load_dino_vits8(tmp_path / "vits16.pth", device="cpu")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read"):
        load_dino_vits8(tmp_path / "junk.pth", device="cpu")


def test_missing_weights_error_names_both_places_and_the_url(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    cache = tmp_path / "hub" / "checkpoints" / DINO_VITS8_FILENAME
    with pytest.raises(FeaturesUnavailableError) as err:
        load_dino_vits8(device="cpu")
    message = str(err.value)
    assert "\n" not in message
    assert DINO_VITS8_URL in message and str(cache) in message and "weights=" in message
    with pytest.raises(FeaturesUnavailableError, match="nowhere.pth") as err:
        load_dino_vits8(tmp_path / "nowhere.pth", device="cpu")
    assert DINO_VITS8_URL in str(err.value) and str(cache) in str(err.value)
    with pytest.raises(FeaturesUnavailableError, match="dl.fbaipublicfiles.com"):
        extract_patch_features([np.zeros((16, 16, 3), np.uint8)], "dino_vits8", device="cpu")
    # once the file is in the hub cache it is found without weights=
    cache.parent.mkdir(parents=True)
    torch.save(dino_vits8(seed=2).state_dict(), cache)
    assert torch.equal(load_dino_vits8(device="cpu").cls_token, dino_vits8(seed=2).cls_token)


def test_real_weights_when_present_in_the_hub_cache():
    """Runs only where the official checkpoint was put in the torch hub cache by hand."""
    try:
        model = load_dino_vits8(device="cpu")
    except FeaturesUnavailableError:
        pytest.skip("official DINO ViT-S/8 weights not in the torch hub cache")
    img = np.zeros((224, 224, 3), dtype=np.uint8)
    img[:, 112:] = 255
    f = extract_patch_features([img], "dino_vits8", device="cpu", model=model).features[0]
    assert f.shape == (784, 384) and bool(torch.isfinite(f).all())
    # pretrained keys tell the black half from the white half
    sim = torch.nn.functional.normalize(f, dim=1) @ torch.nn.functional.normalize(f, dim=1).T
    left, right = 28 * 14 + 3, 28 * 14 + 24
    assert float(sim[left, left + 1]) > float(sim[left, right])
