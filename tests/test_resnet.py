"""ResNet-18 with torchvision's keys, its weight loading, and the seed's cell augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgraph.models.cell_augment import IMAGENET_MEAN, IMAGENET_STD, CellAugment, prepare_cells
from medgraph.models.resnet18 import (
    RESNET18_FILENAME,
    ResNet18,
    cell_classifier,
    find_cached_resnet18,
    load_imagenet_resnet18,
)

#: torchvision.models.resnet18().state_dict(): every key and shape, in order (written by hand
#: from torchvision's module tree, not from our model)
TORCHVISION_RESNET18 = [
    ("conv1.weight", (64, 3, 7, 7)),
    ("bn1.weight", (64,)),
    ("bn1.bias", (64,)),
    ("bn1.running_mean", (64,)),
    ("bn1.running_var", (64,)),
    ("bn1.num_batches_tracked", ()),
    ("layer1.0.conv1.weight", (64, 64, 3, 3)),
    ("layer1.0.bn1.weight", (64,)),
    ("layer1.0.bn1.bias", (64,)),
    ("layer1.0.bn1.running_mean", (64,)),
    ("layer1.0.bn1.running_var", (64,)),
    ("layer1.0.bn1.num_batches_tracked", ()),
    ("layer1.0.conv2.weight", (64, 64, 3, 3)),
    ("layer1.0.bn2.weight", (64,)),
    ("layer1.0.bn2.bias", (64,)),
    ("layer1.0.bn2.running_mean", (64,)),
    ("layer1.0.bn2.running_var", (64,)),
    ("layer1.0.bn2.num_batches_tracked", ()),
    ("layer1.1.conv1.weight", (64, 64, 3, 3)),
    ("layer1.1.bn1.weight", (64,)),
    ("layer1.1.bn1.bias", (64,)),
    ("layer1.1.bn1.running_mean", (64,)),
    ("layer1.1.bn1.running_var", (64,)),
    ("layer1.1.bn1.num_batches_tracked", ()),
    ("layer1.1.conv2.weight", (64, 64, 3, 3)),
    ("layer1.1.bn2.weight", (64,)),
    ("layer1.1.bn2.bias", (64,)),
    ("layer1.1.bn2.running_mean", (64,)),
    ("layer1.1.bn2.running_var", (64,)),
    ("layer1.1.bn2.num_batches_tracked", ()),
    ("layer2.0.conv1.weight", (128, 64, 3, 3)),
    ("layer2.0.bn1.weight", (128,)),
    ("layer2.0.bn1.bias", (128,)),
    ("layer2.0.bn1.running_mean", (128,)),
    ("layer2.0.bn1.running_var", (128,)),
    ("layer2.0.bn1.num_batches_tracked", ()),
    ("layer2.0.conv2.weight", (128, 128, 3, 3)),
    ("layer2.0.bn2.weight", (128,)),
    ("layer2.0.bn2.bias", (128,)),
    ("layer2.0.bn2.running_mean", (128,)),
    ("layer2.0.bn2.running_var", (128,)),
    ("layer2.0.bn2.num_batches_tracked", ()),
    ("layer2.0.downsample.0.weight", (128, 64, 1, 1)),
    ("layer2.0.downsample.1.weight", (128,)),
    ("layer2.0.downsample.1.bias", (128,)),
    ("layer2.0.downsample.1.running_mean", (128,)),
    ("layer2.0.downsample.1.running_var", (128,)),
    ("layer2.0.downsample.1.num_batches_tracked", ()),
    ("layer2.1.conv1.weight", (128, 128, 3, 3)),
    ("layer2.1.bn1.weight", (128,)),
    ("layer2.1.bn1.bias", (128,)),
    ("layer2.1.bn1.running_mean", (128,)),
    ("layer2.1.bn1.running_var", (128,)),
    ("layer2.1.bn1.num_batches_tracked", ()),
    ("layer2.1.conv2.weight", (128, 128, 3, 3)),
    ("layer2.1.bn2.weight", (128,)),
    ("layer2.1.bn2.bias", (128,)),
    ("layer2.1.bn2.running_mean", (128,)),
    ("layer2.1.bn2.running_var", (128,)),
    ("layer2.1.bn2.num_batches_tracked", ()),
    ("layer3.0.conv1.weight", (256, 128, 3, 3)),
    ("layer3.0.bn1.weight", (256,)),
    ("layer3.0.bn1.bias", (256,)),
    ("layer3.0.bn1.running_mean", (256,)),
    ("layer3.0.bn1.running_var", (256,)),
    ("layer3.0.bn1.num_batches_tracked", ()),
    ("layer3.0.conv2.weight", (256, 256, 3, 3)),
    ("layer3.0.bn2.weight", (256,)),
    ("layer3.0.bn2.bias", (256,)),
    ("layer3.0.bn2.running_mean", (256,)),
    ("layer3.0.bn2.running_var", (256,)),
    ("layer3.0.bn2.num_batches_tracked", ()),
    ("layer3.0.downsample.0.weight", (256, 128, 1, 1)),
    ("layer3.0.downsample.1.weight", (256,)),
    ("layer3.0.downsample.1.bias", (256,)),
    ("layer3.0.downsample.1.running_mean", (256,)),
    ("layer3.0.downsample.1.running_var", (256,)),
    ("layer3.0.downsample.1.num_batches_tracked", ()),
    ("layer3.1.conv1.weight", (256, 256, 3, 3)),
    ("layer3.1.bn1.weight", (256,)),
    ("layer3.1.bn1.bias", (256,)),
    ("layer3.1.bn1.running_mean", (256,)),
    ("layer3.1.bn1.running_var", (256,)),
    ("layer3.1.bn1.num_batches_tracked", ()),
    ("layer3.1.conv2.weight", (256, 256, 3, 3)),
    ("layer3.1.bn2.weight", (256,)),
    ("layer3.1.bn2.bias", (256,)),
    ("layer3.1.bn2.running_mean", (256,)),
    ("layer3.1.bn2.running_var", (256,)),
    ("layer3.1.bn2.num_batches_tracked", ()),
    ("layer4.0.conv1.weight", (512, 256, 3, 3)),
    ("layer4.0.bn1.weight", (512,)),
    ("layer4.0.bn1.bias", (512,)),
    ("layer4.0.bn1.running_mean", (512,)),
    ("layer4.0.bn1.running_var", (512,)),
    ("layer4.0.bn1.num_batches_tracked", ()),
    ("layer4.0.conv2.weight", (512, 512, 3, 3)),
    ("layer4.0.bn2.weight", (512,)),
    ("layer4.0.bn2.bias", (512,)),
    ("layer4.0.bn2.running_mean", (512,)),
    ("layer4.0.bn2.running_var", (512,)),
    ("layer4.0.bn2.num_batches_tracked", ()),
    ("layer4.0.downsample.0.weight", (512, 256, 1, 1)),
    ("layer4.0.downsample.1.weight", (512,)),
    ("layer4.0.downsample.1.bias", (512,)),
    ("layer4.0.downsample.1.running_mean", (512,)),
    ("layer4.0.downsample.1.running_var", (512,)),
    ("layer4.0.downsample.1.num_batches_tracked", ()),
    ("layer4.1.conv1.weight", (512, 512, 3, 3)),
    ("layer4.1.bn1.weight", (512,)),
    ("layer4.1.bn1.bias", (512,)),
    ("layer4.1.bn1.running_mean", (512,)),
    ("layer4.1.bn1.running_var", (512,)),
    ("layer4.1.bn1.num_batches_tracked", ()),
    ("layer4.1.conv2.weight", (512, 512, 3, 3)),
    ("layer4.1.bn2.weight", (512,)),
    ("layer4.1.bn2.bias", (512,)),
    ("layer4.1.bn2.running_mean", (512,)),
    ("layer4.1.bn2.running_var", (512,)),
    ("layer4.1.bn2.num_batches_tracked", ()),
    ("fc.weight", (1000, 512)),
    ("fc.bias", (1000,)),
]


@pytest.fixture(scope="module")
def net() -> ResNet18:
    return ResNet18(seed=0).eval()


def _hub(monkeypatch: pytest.MonkeyPatch, root) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(root))


# --------------------------------------------------------------------------- ResNet18


def test_state_dict_keys_and_shapes_are_torchvisions(net):
    sd = net.state_dict()
    assert len(TORCHVISION_RESNET18) == 122
    assert len(sd) == 122
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == TORCHVISION_RESNET18
    assert tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["layer4.1.bn2.running_var"].shape) == (512,)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)
    assert sum(p.numel() for p in net.parameters()) == 11_689_512  # torchvision's count


def test_torchvision_initialisation():
    model = ResNet18(seed=1)
    w = model.layer3[0].conv1.weight.detach()
    # kaiming normal, fan_out = 256 · 3 · 3, gain √2
    assert float(w.std()) == pytest.approx((2 / (256 * 9)) ** 0.5, rel=0.05)
    for name, t in model.state_dict().items():
        if ".bn" in name or name.startswith("bn1") or "downsample.1" in name:
            if name.endswith(("weight", "running_var")):
                assert torch.all(t == 1), name
            elif name.endswith(("bias", "running_mean", "num_batches_tracked")):
                assert torch.all(t == 0), name
    bound = 1 / 512**0.5
    assert float(model.fc.weight.detach().abs().max()) <= bound
    assert float(model.fc.bias.detach().abs().max()) <= bound


def test_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b, c = ResNet18(seed=3), ResNet18(seed=3), ResNet18(seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_embed_and_forward_at_128(net):
    x = torch.randn(3, 3, 128, 128)
    with torch.no_grad():
        e = net.embed(x)
        logits = net(x)
    assert e.shape == (3, 512)
    assert logits.shape == (3, 1000)
    torch.testing.assert_close(logits, net.fc(e))
    with pytest.raises(ValueError, match="expects"):
        net.embed(torch.randn(1, 1, 32, 32))


def test_load_roundtrip(tmp_path, net):
    path = tmp_path / "weights.pth"
    torch.save(ResNet18(seed=7).state_dict(), path)
    loaded = load_imagenet_resnet18(path)
    assert isinstance(loaded, ResNet18)
    for (k, va), vb in zip(
        ResNet18(seed=7).state_dict().items(), loaded.state_dict().values(), strict=True
    ):
        assert torch.equal(va, vb), k
    # wrapped and DataParallel-prefixed checkpoints load too
    wrapped = {"state_dict": {f"module.{k}": v for k, v in ResNet18(seed=7).state_dict().items()}}
    torch.save(wrapped, tmp_path / "wrapped.pth")
    again = load_imagenet_resnet18(tmp_path / "wrapped.pth")
    assert torch.equal(again.layer4[1].conv2.weight, loaded.layer4[1].conv2.weight)


def test_load_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_imagenet_resnet18(tmp_path / "nope.pth")


def test_load_wrong_keys_names_file_and_key(tmp_path):
    sd = ResNet18(seed=0).state_dict()
    sd["layer2.0.shortcut.0.weight"] = sd.pop("layer2.0.downsample.0.weight")
    path = tmp_path / "renamed.pth"
    torch.save(sd, path)
    with pytest.raises(
        ValueError, match=r"renamed\.pth.*'layer2\.0\.downsample\.0\.weight' missing"
    ):
        load_imagenet_resnet18(path)
    sd = ResNet18(seed=0).state_dict()
    sd["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    torch.save(sd, path)
    with pytest.raises(ValueError, match=r"'layer1\.0\.conv1\.weight' has shape \(64, 64, 1, 1\)"):
        load_imagenet_resnet18(path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pth"):
        load_imagenet_resnet18(tmp_path / "junk.pth")


def test_hub_cache_lookup(tmp_path, monkeypatch):
    _hub(monkeypatch, tmp_path)
    assert find_cached_resnet18() is None
    assert load_imagenet_resnet18() is None
    model, used = cell_classifier(2, pretrained="auto", seed=0)
    assert used == "random-init"
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    torch.save(ResNet18(seed=5).state_dict(), checkpoints / "resnet18-5c106cde.pth")
    assert find_cached_resnet18() == checkpoints / "resnet18-5c106cde.pth"
    torch.save(ResNet18(seed=6).state_dict(), checkpoints / RESNET18_FILENAME)
    assert find_cached_resnet18() == checkpoints / RESNET18_FILENAME  # torchvision's name first
    loaded = load_imagenet_resnet18()
    assert torch.equal(loaded.conv1.weight, ResNet18(seed=6).conv1.weight)
    model, used = cell_classifier(2, pretrained="auto", seed=0)
    assert used == f"imagenet:{RESNET18_FILENAME}"
    assert torch.equal(model.conv1.weight, ResNet18(seed=6).conv1.weight)


def test_cell_classifier(tmp_path):
    model, used = cell_classifier(2, seed=1)
    assert used == "random-init" and model.num_classes == 2
    assert model(torch.randn(2, 3, 128, 128)).shape == (2, 2)
    path = tmp_path / "imagenet.pth"
    torch.save(ResNet18(seed=9).state_dict(), path)
    state = torch.get_rng_state()
    a, used = cell_classifier(3, pretrained=path, seed=1)
    b, _ = cell_classifier(3, pretrained=str(path), seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert used == "imagenet:imagenet.pth"
    assert a.fc.weight.shape == (3, 512) and a.num_classes == 3
    assert torch.equal(a.fc.weight, b.fc.weight)
    assert torch.equal(a.layer2[0].conv1.weight, ResNet18(seed=9).layer2[0].conv1.weight)
    with pytest.raises(FileNotFoundError):
        cell_classifier(2, pretrained=tmp_path / "absent.pth")


# --------------------------------------------------------------------------- augmentation


def _cells(rng: np.random.Generator) -> list[np.ndarray]:
    sizes = [(90, 70), (128, 128), (90, 70), (200, 150)]
    return [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_prepare_cells_resizes_mixed_sizes():
    images = _cells(np.random.default_rng(0))
    x = prepare_cells(images, size=64)
    assert x.shape == (4, 3, 64, 64) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    # same-size images keep their order after being resized together
    alone = prepare_cells([images[2]], size=64)
    torch.testing.assert_close(x[2:3], alone)
    # an image already at the size is only converted
    exact = prepare_cells([images[1]], size=128)
    torch.testing.assert_close(exact[0], torch.from_numpy(images[1]).permute(2, 0, 1) / 255.0)
    flat = np.full((10, 12, 3), 200, dtype=np.uint8)
    torch.testing.assert_close(prepare_cells([flat], 8), torch.full((1, 3, 8, 8), 200 / 255))
    with pytest.raises(ValueError, match="uint8"):
        prepare_cells([flat.astype(np.float32)])
    with pytest.raises(ValueError, match="H, W, 3"):
        prepare_cells([flat[..., 0]])


def test_augment_shape_range_and_determinism():
    x = prepare_cells(_cells(np.random.default_rng(1)), size=32)
    aug = CellAugment(size=32)
    a = aug.augment(x, torch.Generator().manual_seed(0))
    b = aug.augment(x, torch.Generator().manual_seed(0))
    c = aug.augment(x, torch.Generator().manual_seed(1))
    assert a.shape == (4, 3, 32, 32)
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    n = aug(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(n, aug.normalise(a))
    lo = min((0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True))
    hi = max((1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True))
    assert lo - 1e-5 <= float(n.min()) and float(n.max()) <= hi + 1e-5
    # resizes inputs of another size
    assert aug(prepare_cells(_cells(np.random.default_rng(1)), size=40)).shape == (4, 3, 32, 32)


def test_augment_off_is_normalisation_only():
    x = prepare_cells(_cells(np.random.default_rng(2)), size=32)
    aug = CellAugment(size=32, rotation=0.0, jitter=0.0, flip=False)
    torch.testing.assert_close(aug(x, torch.Generator().manual_seed(0)), aug.normalise(x))
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(aug.normalise(x), (x - mean) / std)


def test_flips_flip():
    x = torch.rand(64, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    out = CellAugment(size=16, rotation=0.0, jitter=0.0).augment(
        x, torch.Generator().manual_seed(3)
    )
    kinds = []
    for i in range(64):
        options = [x[i], x[i].flip(-1), x[i].flip(-2), x[i].flip(-1, -2)]
        match = [j for j, o in enumerate(options) if torch.equal(out[i], o)]
        assert match, i
        kinds.append(match[0])
    assert set(kinds) == {0, 1, 2, 3}


def test_rotation_keeps_the_centre_and_blackens_corners():
    x = torch.ones(8, 3, 33, 33)
    out = CellAugment(size=33, rotation=10.0, jitter=0.0, flip=False).augment(
        x, torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(out[:, :, 16, 16], torch.ones(8, 3))
    assert float(out[:, :, 0, 0].max()) < 1.0  # a rotated corner samples the zero padding
    assert not torch.equal(out[0], out[1])


def test_colour_jitter_matches_torchvision_formulas():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    aug = CellAugment(size=8, rotation=0.0, jitter=0.3, flip=False)
    gen = torch.Generator().manual_seed(5)
    out = aug.augment(x, gen)
    f = 0.7 + 0.6 * torch.rand((2, 3), generator=torch.Generator().manual_seed(5))
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    expected = (x * f[:, 0].view(2, 1, 1, 1)).clamp(0, 1)
    m = (expected * luma).sum(1, keepdim=True).mean(dim=(1, 2, 3), keepdim=True)
    c = f[:, 1].view(2, 1, 1, 1)
    expected = (c * expected + (1 - c) * m).clamp(0, 1)
    s = f[:, 2].view(2, 1, 1, 1)
    expected = (s * expected + (1 - s) * (expected * luma).sum(1, keepdim=True)).clamp(0, 1)
    torch.testing.assert_close(out, expected)
