"""Tests of medgraph.data: registry, root resolution, fetch, CLI, WBC loader, phantoms.

Everything runs offline: fixtures write tiny WBC layouts into tmp_path, the one download test
uses a file:// URL, and the environment is isolated so that no real cache or MEDGRAPH_DATA leaks
in. The real-data tests run when the team's copy of the WBC data is present and skip otherwise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgraph.data import (
    REGISTRY,
    DataConfigError,
    DataError,
    DataFormatError,
    DataUnavailableError,
    Download,
    Loader,
    SegmentationDataset,
    UnknownDatasetError,
    cache_dir,
    fetch,
    get_info,
    load_dataset,
    load_wbc,
    locate,
    make_wbc_phantoms,
)
from medgraph.data.cli import main as cli_main
from medgraph.data.registry import read_wbc1, read_wbc2, wbc_phantoms
from medgraph.data.wbc import (
    FAR_SNAP,
    MAX_FAR_SNAP_SHARE,
    SNAP_TOLERANCE,
    mask_to_labels,
    read_class_labels,
)

# captured at import, before the autouse fixture clears the variable
REAL_ROOT = Path(
    os.environ.get("MEDGRAPH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
HAVE_REAL_WBC = (REAL_ROOT / "wbc" / "Dataset 1").is_dir() and (
    REAL_ROOT / "wbc" / "Dataset 2"
).is_dir()

ALL_NAMES = {"wbc1", "wbc2", "cnmc2019", "isic2016", "isic2017", "ph2", "emds5", "emds6", "bccd"}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MEDGRAPH_DATA, and a private empty cache."""
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEDGRAPH_CACHE", str(cache))
    return cache


# -- fixtures: a tiny WBC layout ------------------------------------------------------------------

SIZE = (12, 16)  # H, W


def raw_mask(size: tuple[int, int] = SIZE) -> np.ndarray:
    """A published-style mask: 0 border, 128 ring, 255 core."""
    raw = np.zeros(size, np.uint8)
    raw[2:-2, 2:-2] = 128
    raw[4:-4, 5:-5] = 255
    return raw


def write_wbc(
    root: Path,
    which: int = 1,
    n: int = 3,
    header: str = "image ID,class label",
    labels: tuple[str, ...] = ("2", "1", ""),
) -> tuple[Path, list[np.ndarray]]:
    """Write ``root/wbc/Dataset N/00k.bmp|png`` and the class CSV; return the folder and images."""
    folder = root / "wbc" / f"Dataset {which}"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(which)
    images = []
    for i in range(n):
        image = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{i + 1:03d}.bmp")
        Image.fromarray(raw_mask()).save(folder / f"{i + 1:03d}.png")
        images.append(image)
    rows = [header] + [f"{i + 1},{lab}" for i, lab in enumerate(labels[:n])]
    (root / "wbc" / f"Class Labels of Dataset {which}.csv").write_text("\r\n".join(rows) + "\r\n")
    return folder, images


@pytest.fixture
def wbc_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_wbc(root, 1)
    return root


def replace_pair(folder: Path, ident: str, mask: np.ndarray) -> None:
    """Overwrite ``ident.bmp`` and ``ident.png`` with a random image of the mask's size, and it."""
    image = np.random.default_rng(0).integers(0, 256, (*mask.shape, 3), dtype=np.uint8)
    Image.fromarray(image).save(folder / f"{ident}.bmp")
    Image.fromarray(mask).save(folder / f"{ident}.png")


def expected_labels(raw: np.ndarray) -> np.ndarray:
    """Class indices of a mask holding only 0 / 128 / 255."""
    return np.select([raw == 0, raw == 128, raw == 255], [0, 1, 2]).astype(np.uint8)


# -- the WBC loader -------------------------------------------------------------------------------


def test_loader_reads_fixture_and_maps_levels(wbc_root: Path) -> None:
    ds = load_wbc(1, root=wbc_root)
    expected = np.select([raw_mask() == 0, raw_mask() == 128, raw_mask() == 255], [0, 1, 2])
    _, images = write_wbc(wbc_root.parent / "again", 1)  # same seed: the same pixels
    assert len(ds) == 3 and ds.source == "real" and ds.name == "wbc1"
    assert ds.ids == ["001", "002", "003"]
    for image, mask, written in zip(ds.images, ds.masks, images, strict=True):
        assert image.dtype == np.uint8 and image.shape == (*SIZE, 3)
        np.testing.assert_array_equal(image, written)
        assert mask.dtype == np.uint8
        np.testing.assert_array_equal(mask, expected)
    np.testing.assert_array_equal(ds.class_labels, [2, 1, 0])  # empty CSV cell -> 0
    assert ds.root is not None and ds.root.endswith("Dataset 1")


def test_loader_finds_folder_itself_and_env(
    wbc_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(load_wbc(1, root=wbc_root / "wbc")) == 3
    monkeypatch.setenv("MEDGRAPH_DATA", str(wbc_root))
    assert len(load_wbc(1)) == 3
    assert locate("wbc1") == (wbc_root / "wbc").absolute()


@pytest.mark.parametrize(("value", "label"), [(20, 0), (50, 0), (140, 1), (100, 1), (240, 2)])
def test_stray_values_snap_to_nearest(wbc_root: Path, value: int, label: int) -> None:
    raw = raw_mask((120, 120))
    clean = expected_labels(raw)
    raw[0, :3] = value  # three strays, as in the real masks
    replace_pair(wbc_root / "wbc" / "Dataset 1", "002", raw)
    mask = load_wbc(1, root=wbc_root).masks[1]
    assert (mask[0, :3] == label).all()
    np.testing.assert_array_equal(mask[1:], clean[1:])
    assert set(np.unique(mask).tolist()) == {0, 1, 2}


def test_real_like_strays_load_and_snap(wbc_root: Path) -> None:
    # like dataset-2 mask 034: 97 strays of 2..45 in a 300x300 mask, 57 of them more than 8 away
    raw = raw_mask((300, 300))
    clean = expected_labels(raw)
    rng = np.random.default_rng(34)
    flat = rng.choice(np.flatnonzero(raw == 0), size=97, replace=False)
    raw.ravel()[flat] = np.repeat([2, 7, 25, 42, 44, 45], [2, 38, 52, 1, 3, 1])
    replace_pair(wbc_root / "wbc" / "Dataset 1", "003", raw)
    mask = load_wbc(1, root=wbc_root).masks[2]
    np.testing.assert_array_equal(mask, clean)  # every stray became background


@pytest.mark.parametrize(("side", "share"), [(120, "25.00%"), (300, "4.00%")])
def test_block_of_foreign_grey_is_refused(wbc_root: Path, side: int, share: str) -> None:
    # a 60x60 block of value 40 lies within the snap tolerance of 0, but is not a stray
    raw = raw_mask((side, side))
    raw[:60, :60] = 40
    replace_pair(wbc_root / "wbc" / "Dataset 1", "002", raw)
    with pytest.raises(DataFormatError, match=r"002\.png") as info:
        load_wbc(1, root=wbc_root)
    message = str(info.value)
    assert f"3600 of {side * side} pixels ({share})" in message
    assert "40 (3600 px)" in message and "\n" not in message
    assert info.value.path is not None and info.value.path.name == "002.png"


def test_far_snap_share_threshold() -> None:
    raw = raw_mask((120, 120))
    limit = int(MAX_FAR_SNAP_SHARE * raw.size)  # 72 of 14,400 pixels
    assert limit == 72
    ok = raw.copy()
    ok.ravel()[:limit] = FAR_SNAP + 1  # just far enough to count
    np.testing.assert_array_equal(mask_to_labels(ok), expected_labels(raw))
    faint = raw.copy()
    faint.ravel()[:500] = 255 - FAR_SNAP  # moved by FAR_SNAP: not counted, however many
    np.testing.assert_array_equal(mask_to_labels(faint)[0], 2)
    refused = raw.copy()
    refused.ravel()[: limit + 1] = FAR_SNAP + 1
    with pytest.raises(DataFormatError, match=rf"<array>: {limit + 1} of 14400 pixels"):
        mask_to_labels(refused)


@pytest.mark.parametrize("value", [64, 192, SNAP_TOLERANCE + 1])
def test_unknown_mask_value_names_file(wbc_root: Path, value: int) -> None:
    # 64 is 64 from both 0 and 128; 192 is 63 from 255; both exceed the tolerance of 56
    raw = raw_mask()
    raw[1, 1] = value
    Image.fromarray(raw).save(wbc_root / "wbc" / "Dataset 1" / "002.png")
    with pytest.raises(DataFormatError, match=rf"002\.png.*\b{value}\b") as info:
        load_wbc(1, root=wbc_root)
    assert info.value.path is not None and info.value.path.name == "002.png"
    assert "\n" not in str(info.value)


def test_class_index_mask_is_rejected(wbc_root: Path) -> None:
    Image.fromarray(
        np.select([raw_mask() == 0, raw_mask() == 128], [0, 1], 2).astype(np.uint8)
    ).save(wbc_root / "wbc" / "Dataset 1" / "003.png")
    with pytest.raises(DataFormatError, match=r"003\.png"):
        load_wbc(1, root=wbc_root)


def test_rgb_and_palette_masks(wbc_root: Path) -> None:
    folder = wbc_root / "wbc" / "Dataset 1"
    grey = raw_mask()
    Image.fromarray(np.stack([grey] * 3, -1)).save(folder / "001.png")  # RGB, equal channels
    Image.fromarray(grey).convert("P").save(folder / "002.png")  # palette
    ds = load_wbc(1, root=wbc_root)
    np.testing.assert_array_equal(ds.masks[0], ds.masks[2])
    np.testing.assert_array_equal(ds.masks[1], ds.masks[2])
    colour = np.stack([grey, grey, np.zeros_like(grey)], -1)
    Image.fromarray(colour).save(folder / "001.png")
    with pytest.raises(DataFormatError, match=r"001\.png.*channels"):
        load_wbc(1, root=wbc_root)


def test_size_mismatch_names_file(wbc_root: Path) -> None:
    Image.fromarray(raw_mask((10, 16))).save(wbc_root / "wbc" / "Dataset 1" / "003.png")
    with pytest.raises(DataFormatError, match=r"003\.png.*16x10.*16x12"):
        load_wbc(1, root=wbc_root)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image_names_file(wbc_root: Path, damage: str) -> None:
    bmp = wbc_root / "wbc" / "Dataset 1" / "002.bmp"
    if damage == "garbage":
        bmp.write_bytes(b"this is not a bitmap" * 10)
    else:
        bmp.write_bytes(bmp.read_bytes()[:80])
    with pytest.raises(DataFormatError, match=r"002\.bmp"):
        load_wbc(1, root=wbc_root)


def test_missing_mask_names_file(wbc_root: Path) -> None:
    (wbc_root / "wbc" / "Dataset 1" / "001.png").unlink()
    with pytest.raises(DataFormatError, match=r"001\.png"):
        load_wbc(1, root=wbc_root)


def test_empty_folder_raises(tmp_path: Path) -> None:
    (tmp_path / "wbc" / "Dataset 2").mkdir(parents=True)
    with pytest.raises(DataFormatError, match=r"no \.bmp images in .*Dataset 2"):
        load_wbc(2, root=tmp_path)


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("image ID,class label\n1,2\n2,1\n".encode("utf-16"), "UTF-16 byte-order mark"),
        ("image ID,class label\n1,2\n".encode("utf-16-le"), "NUL byte at offset 1, line 1"),
        ("image ID,class label,remarque\n1,2,\n2,1,noyau bilobé\n".encode("latin-1"), "line 3"),
        (b"image ID,class label\n1,2\xff\n", "byte 0xff at offset 24, line 2"),
    ],
    ids=["utf16-bom", "utf16-no-bom", "latin1", "invalid-byte"],
)
def test_csv_not_utf8_names_file(wbc_root: Path, content: bytes, detail: str) -> None:
    csv_path = wbc_root / "wbc" / "Class Labels of Dataset 1.csv"
    csv_path.write_bytes(content)
    with pytest.raises(DataFormatError, match="Class Labels of Dataset 1.csv is not UTF-8") as info:
        load_wbc(1, root=wbc_root)
    assert detail in str(info.value) and "\n" not in str(info.value)
    assert info.value.path == csv_path
    with pytest.raises(DataFormatError, match="is not UTF-8"):
        read_class_labels(csv_path)


def test_csv_with_utf8_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes("image ID,class label\r\n1,3\r\n2,\r\n".encode("utf-8-sig"))
    assert read_class_labels(path) == {"1": 3, "2": 0}


def test_csv_header_variants_and_bad_rows(tmp_path: Path) -> None:
    write_wbc(tmp_path, 2, header="image ID,class", labels=("5", "", "3"))
    np.testing.assert_array_equal(load_wbc(2, root=tmp_path).class_labels, [5, 0, 3])
    bad = tmp_path / "bad.csv"
    bad.write_text("image ID,class\n1,7\n")
    with pytest.raises(DataFormatError, match=r"bad\.csv, line 2"):
        read_class_labels(bad)
    assert read_class_labels(tmp_path / "wbc" / "Class Labels of Dataset 2.csv") == {
        "1": 5,
        "2": 0,
        "3": 3,
    }


def test_missing_dataset_says_how_to_get_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataUnavailableError) as info:
        load_wbc(1, root=empty)
    message = str(info.value)
    assert "medgraph data fetch wbc1" in message
    assert "MEDGRAPH_DATA" in message and str(empty) in message
    assert "\n" not in message
    with pytest.raises(DataUnavailableError, match="https://www.fc.up.pt"):
        locate("ph2")


# -- misconfigured locations ---------------------------------------------------------------------


def test_missing_env_folder_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("MEDGRAPH_DATA", str(missing))
    with caplog.at_level(logging.WARNING), pytest.raises(DataConfigError) as info:
        load_dataset("wbc1", source="auto", n_phantoms=2)
    assert not isinstance(info.value, DataUnavailableError)  # the "auto" fallback catches those
    assert str(info.value) == (
        f"MEDGRAPH_DATA={missing} does not exist; point it at a folder holding the data sets "
        "(see data/README.md) or unset it to use the synthetic phantoms"
    )
    assert info.value.setting == "MEDGRAPH_DATA" and info.value.path == missing
    assert "phantoms instead" not in caplog.text
    with pytest.raises(DataConfigError, match="MEDGRAPH_DATA=.*does not exist"):
        load_wbc(2)
    with pytest.raises(DataConfigError, match="MEDGRAPH_DATA=.*does not exist"):
        locate("isic2017")
    a_file = tmp_path / "data.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("MEDGRAPH_DATA", str(a_file))
    with pytest.raises(DataConfigError, match=r"data\.txt is not a folder"):
        load_dataset("wbc2", source="auto")


def test_env_folder_without_the_data_set_still_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "shared"
    empty.mkdir()
    monkeypatch.setenv("MEDGRAPH_DATA", str(empty))
    with caplog.at_level(logging.WARNING, logger="medgraph.data.loaders"):
        ds = load_dataset("wbc2", source="auto", n_phantoms=1)
    assert ds.source == "phantom" and len(ds) == 1
    assert f"MEDGRAPH_DATA={empty}" in caplog.text and "phantoms instead" in caplog.text


def test_missing_explicit_root_is_an_error(tmp_path: Path, wbc_root: Path) -> None:
    missing = tmp_path / "typo"
    for call in (
        lambda: load_dataset("wbc1", source="auto", root=missing),
        lambda: load_dataset("wbc1", source="real", root=missing),
        lambda: load_wbc(1, root=missing),
        lambda: locate("wbc1", root=missing),
    ):
        with pytest.raises(DataConfigError, match=r"^root=.*typo does not exist; pass the data-"):
            call()
    assert locate("wbc1", root=wbc_root) == wbc_root / "wbc"  # an existing root is fine


def test_cli_reports_missing_env_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("MEDGRAPH_DATA", str(missing))
    status = cli_main(["list"])  # must not raise
    out, err = capsys.readouterr()
    assert isinstance(status, int) and "Traceback" not in err
    assert f"MEDGRAPH_DATA={missing} does not exist" in out + err


# -- load_dataset ---------------------------------------------------------------------------------


def test_auto_falls_back_to_phantoms(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="medgraph.data.loaders"):
        ds = load_dataset("wbc1", source="auto", n_phantoms=4, seed=3)
    assert ds.source == "phantom" and ds.name == "wbc1" and len(ds) == 4
    assert "phantoms" in caplog.text and "medgraph data fetch wbc1" in caplog.text
    assert ds.checksum == make_wbc_phantoms(4, seed=3, style="wbc1").checksum


def test_auto_prefers_real_data(wbc_root: Path) -> None:
    ds = load_dataset("wbc1", source="auto", root=wbc_root)
    assert ds.source == "real" and len(ds) == 3
    with pytest.raises(DataUnavailableError):
        load_dataset("wbc2", source="real", root=wbc_root)


def test_phantom_default_size_is_real_size(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(n: int, seed: int = 0, style: str = "wbc1") -> str:
        calls.append((n, seed, style))
        return "stub"

    for name in ("wbc1", "wbc2"):
        info = REGISTRY[name]
        loader = dataclasses.replace(info.loader, make_phantoms=fake)
        monkeypatch.setitem(REGISTRY, name, dataclasses.replace(info, loader=loader))
    load_dataset("wbc1", source="phantom")
    load_dataset("wbc2", source="auto", seed=7)
    load_dataset("wbc2", source="phantom", n_phantoms=3.0, seed=1)
    assert calls == [(300, 0, "wbc1"), (100, 7, "wbc2"), (3, 1, "wbc2")]


def test_registry_loaders_are_callables_used_by_load_dataset(
    wbc_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_loader = {name for name, info in REGISTRY.items() if info.loader is not None}
    assert with_loader == {
        "wbc1",
        "wbc2",
        "isic2016",
        "ph2",
        "emds5",
        "emds6",
        "cnmc2019",
        "bccd",
        "isic2017",
    }
    for name, reader, size in (("wbc1", read_wbc1, 300), ("wbc2", read_wbc2, 100)):
        loader = get_info(name).loader
        assert isinstance(loader, Loader) and loader.read is reader and callable(loader.read)
        assert loader.make_phantoms is wbc_phantoms and loader.phantom_style == name
        assert loader.real_size == size
        assert str(loader).startswith(f"medgraph.data.registry.read_{name}(root)")
        assert f"style={name!r}" in str(loader)
    # the reader reads the published layout; the phantom maker matches make_wbc_phantoms
    assert read_wbc1(wbc_root).checksum == load_wbc(1, root=wbc_root).checksum
    assert get_info("wbc2").loader.phantoms(2, seed=4).checksum == (
        make_wbc_phantoms(2, seed=4, style="wbc2").checksum
    )
    # load_dataset calls whatever the registry entry holds
    seen = []

    def fake_read(root: str | Path | None) -> SegmentationDataset:
        seen.append(root)
        return make_wbc_phantoms(1, seed=0, style="wbc1", size=16)

    info = get_info("wbc1")
    loader = dataclasses.replace(info.loader, read=fake_read)
    monkeypatch.setitem(REGISTRY, "wbc1", dataclasses.replace(info, loader=loader))
    assert len(load_dataset("wbc1", source="real", root="anywhere")) == 1
    assert len(load_dataset("wbc1", source="auto", root=wbc_root)) == 1
    assert seen == ["anywhere", wbc_root]
    with pytest.raises(TypeError, match="loader must be a Loader"):
        dataclasses.replace(info, loader="medgraph.data.load_wbc(1)")
    with pytest.raises(TypeError, match="callables"):
        Loader("load_wbc", wbc_phantoms, phantom_style="wbc1", real_size=300)


def test_load_dataset_rejects_unknown_and_unimplemented(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnknownDatasetError, match="wbc1") as info:
        load_dataset("nope")
    assert isinstance(info.value, KeyError)
    info_isic = get_info("isic2017")
    with monkeypatch.context() as m:  # an entry recorded before its loader exists
        m.setitem(REGISTRY, "isic2017", dataclasses.replace(info_isic, loader=None))
        with pytest.raises(DataError, match="no loader for 'isic2017' yet"):
            load_dataset("isic2017")
    with pytest.raises(ValueError, match="source"):
        load_dataset("wbc1", source="web")


# -- phantoms -------------------------------------------------------------------------------------


def test_phantoms_are_deterministic() -> None:
    a = make_wbc_phantoms(5, seed=11, style="wbc2", size=64)
    b = make_wbc_phantoms(5, seed=11, style="wbc2", size=64)
    c = make_wbc_phantoms(5, seed=12, style="wbc2", size=64)
    for x, y in zip(a.images + a.masks, b.images + b.masks, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.class_labels, b.class_labels)
    assert a.checksum == b.checksum != c.checksum
    assert not np.array_equal(a.images[0], c.images[0])


def test_phantom_images_and_masks() -> None:
    ds = make_wbc_phantoms(12, seed=0, style="wbc1")
    assert ds.source == "phantom" and ds.root is None and len(ds) == 12
    for image, mask in zip(ds.images, ds.masks, strict=True):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert mask.dtype == np.uint8 and mask.shape == image.shape[:2]
        assert 88 <= min(mask.shape) and max(mask.shape) <= 120
        assert set(np.unique(mask).tolist()) == {0, 1, 2}
        # the nucleus is darker than the cytoplasm, which is darker than the background
        grey = image.mean(axis=2)
        assert grey[mask == 2].mean() < grey[mask == 1].mean() < grey[mask == 0].mean()
    big = make_wbc_phantoms(2, seed=0, style="wbc2")
    assert all(im.shape == (300, 300, 3) for im in big.images)
    assert make_wbc_phantoms(1, size=(40, 56)).images[0].shape == (40, 56, 3)


def test_phantom_styles_differ_in_colour() -> None:
    def background_and_nucleus(style: str) -> tuple[np.ndarray, np.ndarray]:
        ds = make_wbc_phantoms(6, seed=1, style=style, size=96)
        bg = np.mean([im[m == 0].mean(0) for im, m in zip(ds.images, ds.masks, strict=True)], 0)
        nu = np.mean([im[m == 2].mean(0) for im, m in zip(ds.images, ds.masks, strict=True)], 0)
        return bg, nu

    bg1, _ = background_and_nucleus("wbc1")
    _, nu2 = background_and_nucleus("wbc2")
    assert bg1[2] < bg1[0] - 20  # wbc1: yellowish background (less blue than red)
    assert nu2[2] > nu2[1] + 30  # wbc2: purple nucleus (blue well above green)


def test_phantom_class_proportions_match_real_sets() -> None:
    wbc1 = make_wbc_phantoms(300, seed=5, style="wbc1", size=16)
    assert wbc1.class_counts() == {
        "neutrophil": 176,
        "lymphocyte": 53,
        "monocyte": 48,
        "eosinophil": 22,
        "basophil": 1,
    }
    wbc2 = make_wbc_phantoms(100, seed=5, style="wbc2", size=16)
    assert list(wbc2.class_counts().values()) == [33, 37, 15, 12, 3]
    assert len(set(wbc1.class_labels[:30].tolist())) > 1  # shuffled, not sorted


# -- the container --------------------------------------------------------------------------------


def test_container_subset_checksum_describe() -> None:
    ds = make_wbc_phantoms(4, seed=2, size=(20, 24))
    sub = ds.subset([2, 0])
    assert sub.ids == [ds.ids[2], ds.ids[0]] and len(sub) == 2
    np.testing.assert_array_equal(sub.class_labels, ds.class_labels[[2, 0]])
    assert len(ds.subset(np.array([True, False, True, True]))) == 3
    before = ds.checksum
    assert len(before) == 64 and before == ds.subset(range(4)).checksum
    ds.masks[3] = ds.masks[3].copy()
    ds.masks[3][0, 0] ^= 1
    assert ds.checksum != before
    info = ds.describe()
    assert info["name"] == "wbc1" and info["source"] == "phantom" and info["n_images"] == 4
    assert info["height_range"] == [20, 20] and info["width_range"] == [24, 24]
    assert sum(info["class_counts"].values()) == 4 and info["checksum"] == ds.checksum
    json.dumps(info)  # report-ready
    with pytest.raises(ValueError, match="masks"):
        SegmentationDataset("x", "real", ds.images, ds.masks[:3], ds.ids, ds.class_labels)
    with pytest.raises(ValueError, match="source"):
        SegmentationDataset("x", "fake", ds.images, ds.masks, ds.ids, ds.class_labels)


# -- registry and roots ---------------------------------------------------------------------------


def test_registry_lists_every_study_data_set() -> None:
    assert set(REGISTRY) == ALL_NAMES
    for name, info in REGISTRY.items():
        assert info.name == name
        for text in (info.title, info.licence, info.citation, info.how_to_get, info.layout):
            assert text.strip(), f"{name}: empty field"
        assert info.source_url.startswith("https://")
        if info.auto_download:
            assert info.downloads and all(d.url.startswith("https://") for d in info.downloads)
        else:
            assert "fetch " + name + " --from" in info.how_to_get
    assert get_info("wbc1").folder == get_info("wbc2").folder == "wbc"
    assert "cnmc_sample" in get_info("cnmc2019").folders
    assert get_info("isic2017").folder == "isic2017"
    urls = get_info("isic2017").download_urls
    assert "https://isic-challenge-data.s3.amazonaws.com/2017/ISIC-2017_Training_Data.zip" in urls
    assert len(urls) == 6
    assert "GPL-3.0" in get_info("wbc1").licence and "Tecom" in get_info("wbc1").licence
    assert "CellaVision" in get_info("wbc2").licence
    assert not get_info("ph2").auto_download and not get_info("emds6").auto_download
    with pytest.raises(UnknownDatasetError, match="known data sets: wbc1, wbc2") as info:
        get_info("wbc3")
    assert isinstance(info.value, KeyError)


def test_cache_dir_and_locate_order(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache_dir() == isolated_env
    monkeypatch.delenv("MEDGRAPH_CACHE")
    assert cache_dir() == Path(__file__).resolve().parents[1] / "data" / "cache"
    monkeypatch.setenv("MEDGRAPH_CACHE", str(isolated_env))
    explicit, env, cached = tmp_path / "a", tmp_path / "b", isolated_env
    for base in (explicit, env, cached):
        write_wbc(base, 1, n=1)
    monkeypatch.setenv("MEDGRAPH_DATA", str(env))
    assert locate("wbc1", root=explicit) == explicit / "wbc"
    assert locate("wbc1") == env / "wbc"
    monkeypatch.delenv("MEDGRAPH_DATA")
    assert locate("wbc1") == cached / "wbc"


# -- fetch and the command line -------------------------------------------------------------------


def test_fetch_manual_prints_instructions(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["fetch", "ph2"]) == 2
    out, err = capsys.readouterr()
    assert "https://www.fc.up.pt/addi/ph2%20database.html" in out
    assert "medgraph data fetch ph2 --from DIR" in out
    assert err.count("\n") == 1 and "ph2" in err and "Traceback" not in err
    with pytest.raises(DataUnavailableError, match="cannot be downloaded automatically"):
        fetch("emds6", progress=False)


def test_fetch_from_local_copy(
    wbc_root: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = fetch("wbc1", from_dir=wbc_root, progress=False)
    assert target == isolated_env / "wbc" and target.is_symlink()
    assert target.resolve() == (wbc_root / "wbc").resolve()
    assert locate("wbc1") == target
    assert load_dataset("wbc1", source="real").source == "real"
    assert cli_main(["fetch", "wbc1", "--from", str(wbc_root / "wbc"), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    with pytest.raises(DataFormatError, match="does not hold wbc2"):
        fetch("wbc2", from_dir=wbc_root, progress=False)  # the fixture has no Dataset 2


def test_fetch_downloads_verifies_and_records(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = write_wbc(tmp_path / "src", 1)
    archive = tmp_path / "master.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # GitHub-style: everything under one top folder
        for path in sorted((tmp_path / "src" / "wbc").rglob("*")):
            zf.write(
                path,
                "segmentation_WBC-master/" + path.relative_to(tmp_path / "src" / "wbc").as_posix(),
            )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    item = Download(archive.as_uri(), "master.zip", sha256=None, extract=True, strip_top=True)
    info = dataclasses.replace(
        get_info("wbc1"), downloads=(item,), expected_counts={"Dataset 1/*.bmp": 3}
    )
    monkeypatch.setitem(REGISTRY, "wbc1", info)

    target = fetch("wbc1", progress=False)
    assert target == isolated_env / "wbc" and not target.is_symlink()
    assert sorted(p.name for p in (target / "Dataset 1").iterdir()) == sorted(
        p.name for p in source.iterdir()
    )
    record = json.loads((target / ".medgraph-fetch.json").read_text())
    assert record["files"][0]["sha256"] == digest and record["files"][0]["url"] == item.url
    assert not list(isolated_env.rglob("*.part")) and not (isolated_env / ".wbc.partial").exists()
    assert len(load_wbc(1)) == 3

    # a pinned digest that does not match is refused, and leaves nothing behind
    wrong = dataclasses.replace(item, sha256="0" * 64)
    monkeypatch.setitem(REGISTRY, "wbc1", dataclasses.replace(info, downloads=(wrong,)))
    other = tmp_path / "other"
    with pytest.raises(DataError, match="does not match the pinned"):
        fetch("wbc1", dest=other, progress=False)
    assert not (other / "wbc").exists() and not (other / ".wbc.partial").exists()


def test_cli_list_info_and_errors(capsys: pytest.CaptureFixture[str], wbc_root: Path) -> None:
    assert cli_main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ALL_NAMES)
    assert "missing" in out and "manual" in out and "auto" in out
    fetch("wbc1", from_dir=wbc_root, progress=False)
    assert cli_main(["list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("wbc1 "))
    assert str(cache_dir() / "wbc") in line
    assert cli_main(["info", "isic2017"]) == 0
    assert "Codella" in capsys.readouterr().out
    for argv in (["info", "nope"], ["frobnicate"], ["fetch"]):
        assert cli_main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("medgraph data:")


# -- the real data (when the team's copy is present) ----------------------------------------------

needs_real = pytest.mark.skipif(
    not HAVE_REAL_WBC, reason=f"real WBC data not found under {REAL_ROOT} (set MEDGRAPH_DATA)"
)


@needs_real
def test_real_wbc1() -> None:
    ds = load_wbc(1, root=REAL_ROOT)
    assert len(ds) == 300 and ds.ids[0] == "001" and ds.ids[-1] == "300"
    assert set(np.unique(np.concatenate([m.ravel() for m in ds.masks])).tolist()) == {0, 1, 2}
    assert sum(im.shape[:2] == (120, 120) for im in ds.images) == 224
    assert all(88 <= min(im.shape[:2]) and max(im.shape[:2]) <= 120 for im in ds.images)
    assert list(ds.class_counts().values()) == [176, 53, 48, 22, 1]
    # the pixels every committed wbc1 report was computed from (reports/*/results.json)
    assert ds.checksum == "94ea0a26974413f7ac33a189be20d809c7f47d7595d70c59a5c0616303492e80"


@needs_real
def test_real_wbc2() -> None:
    ds = load_dataset("wbc2", source="real", root=REAL_ROOT)
    assert len(ds) == 100 and ds.source == "real"
    assert all(im.shape == (300, 300, 3) for im in ds.images)
    assert set(np.unique(np.concatenate([m.ravel() for m in ds.masks])).tolist()) == {0, 1, 2}
    assert list(ds.class_counts().values()) == [33, 37, 15, 12, 3]
    # the five masks with stray grey values load, and their strays became background
    raw = np.asarray(Image.open(REAL_ROOT / "wbc" / "Dataset 2" / "034.png"))
    stray = ~np.isin(raw, (0, 128, 255))
    assert stray.sum() > 0 and (ds.masks[ds.ids.index("034")][stray] == 0).all()
    # the pixels every committed wbc2 report was computed from (reports/*/results.json)
    assert ds.checksum == "1b2f8ea0ca6c084a4a931dd469fe056ee111490ee84c8293988822c5e6a8ac48"
