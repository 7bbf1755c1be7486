"""Tests of the ISIC 2017 part-3 reader, its registry loader and the melanoma phantoms.

The reader runs on tiny copies of the two published layouts written into tmp_path (the official
archive's names and the team's 256×256 copy's names, 3 training + 2 test images); the
environment is isolated so that no real cache or MEDGRAPH_DATA leaks in. The real-data test
reads the copy through MEDGRAPH_DATA when it is set and holds ``isic2017/``, and skips otherwise.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgraph.data import (
    ISIC2017_CLASSES,
    CellImageSet,
    DataFormatError,
    DataUnavailableError,
    LesionImageSet,
    data_fingerprint,
    get_info,
    load_dataset,
    make_melanoma_phantoms,
    read_isic2017,
)
from medgraph.data.isic2017 import read_isic2017_labels
from medgraph.data.paths import find_in

# captured at import, before the autouse fixture clears the variable; only the variable is used
_ENV_DATA = os.environ.get("MEDGRAPH_DATA", "").strip()
REAL_ISIC = find_in(get_info("isic2017"), _ENV_DATA) if _ENV_DATA else None

TRAIN = "ISIC-2017_Training_Data"
TEST = "ISIC-2017_Test_v2_Data"
#: (part folder, image id, melanoma, seborrheic keratosis, (height, width))
FILES = (
    (TRAIN, "ISIC_0000000", 0, 0, (20, 24)),
    (TRAIN, "ISIC_0000001", 1, 0, (20, 24)),
    (TRAIN, "ISIC_0000002", 0, 1, (18, 30)),
    (TEST, "ISIC_0012086", 0, 1, (16, 16)),
    (TEST, "ISIC_0012092", 1, 0, (16, 16)),
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MEDGRAPH_DATA, and a private empty cache."""
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEDGRAPH_CACHE", str(cache))
    return cache


def write_isic(base: Path, official: bool = True) -> Path:
    """``base/isic2017/`` with the official CSV names (int labels, three columns) or the copy's
    (``*_Classes.csv`` with "0.0"/"1.0", Windows line ends and a row of commas at the end)."""
    folder = base / "isic2017"
    for i, (part, image_id, _, _, shape) in enumerate(FILES):
        path = folder / part / f"{image_id}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((*shape, 3), 40 * i, np.uint8)).save(path, quality=95)
    if official:  # the official training archive also holds superpixel maps and a metadata CSV
        Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(
            folder / TRAIN / "ISIC_0000000_superpixels.png"
        )
        (folder / TRAIN / "ISIC-2017_Training_Data_metadata.csv").write_text("image_id\n")
        for part, name in ((TRAIN, "Training"), (TEST, "Test_v2")):
            rows = [f"{i},{m},{s}" for p, i, m, s, _ in FILES if p == part]
            text = "\n".join(["image_id,melanoma,seborrheic_keratosis", *rows]) + "\n"
            (folder / f"ISIC-2017_{name}_Part3_GroundTruth.csv").write_text(text)
    else:
        rows = [f"{i},{float(m)}" for p, i, m, _, _ in FILES if p == TRAIN]
        text = "\r\n".join(["image_id,melanoma", *rows, ",", ""])
        (folder / "ISIC-2017_Training_Classes.csv").write_bytes(text.encode())
        rows = [f"{i},{m},{s}" for p, i, m, s, _ in FILES if p == TEST]
        (folder / "ISIC-2017_Test_v2_Part3_GroundTruth_mapped_by_sorted_id.csv").write_text(
            "\n".join(["image_id,melanoma,seborrheic_keratosis", *rows]) + "\n"
        )
    return folder


# -- the reader ----------------------------------------------------------------------------------


@pytest.mark.parametrize("official", [True, False])
def test_reader_reads_both_layouts(tmp_path: Path, official: bool) -> None:
    folder = write_isic(tmp_path, official=official)
    data = read_isic2017(tmp_path)  # a directory holding isic2017/
    assert isinstance(data, LesionImageSet) and isinstance(data, CellImageSet)
    assert data.name == "isic2017" and data.source == "real" and data.root == str(folder)
    assert data.class_names == ISIC2017_CLASSES == ("other", "melanoma")
    assert data.groups.tolist() == [f[1] for f in FILES]
    assert data.labels.tolist() == [f[2] for f in FILES]  # seborrheic keratosis -> 0
    assert data.parts == ("train", "train", "train", "test", "test")
    assert data.paths[0] == f"{TRAIN}/ISIC_0000000.jpg" and data.paths[-1].startswith(TEST)
    assert data.folds.tolist() == [-1] * 5
    assert [im.shape for im in data.images] == [(*f[4], 3) for f in FILES]
    assert all(im.dtype == np.uint8 for im in data.images)
    summary = data.describe()
    assert summary["height_range"] == [16, 20] and summary["width_range"] == [16, 30]
    assert summary["class_counts"] == {"other": 3, "melanoma": 2}
    assert summary["parts"] == {
        "train": {"other": 2, "melanoma": 1},
        "test": {"other": 1, "melanoma": 1},
    }
    assert data_fingerprint(data) == data.fingerprint()
    only_train = read_isic2017(folder, parts=("train",))
    assert len(only_train) == 3 and set(only_train.parts) == {"train"}
    picked = data.subset([4, 0])
    assert picked.parts == ("test", "train") and picked.groups.tolist() == [
        "ISIC_0012092",
        "ISIC_0000000",
    ]
    assert isinstance(picked, LesionImageSet)


def test_official_ground_truth_is_preferred(tmp_path: Path) -> None:
    folder = write_isic(tmp_path, official=True)
    (folder / "ISIC-2017_Training_Classes.csv").write_text(
        "image_id,melanoma\nISIC_0000000,1.0\nISIC_0000001,1.0\nISIC_0000002,1.0\n"
    )
    assert read_isic2017(folder).labels.tolist()[:3] == [0, 1, 0]


def test_missing_image_is_named(tmp_path: Path) -> None:
    folder = write_isic(tmp_path)
    (folder / TEST / "ISIC_0012092.jpg").unlink()
    with pytest.raises(DataFormatError, match=r"ISIC_0012092\.jpg listed in .* does not exist"):
        read_isic2017(folder)
    assert len(read_isic2017(folder, parts=("train",))) == 3  # the other part is fine


def test_unlisted_image_is_an_error(tmp_path: Path) -> None:
    folder = write_isic(tmp_path)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / TRAIN / "ISIC_0009999.jpg")
    with pytest.raises(DataFormatError, match=r"ISIC_0009999\.jpg is not listed") as info:
        read_isic2017(folder)
    assert info.value.path == folder / TRAIN / "ISIC_0009999.jpg"


def test_unreadable_image_is_named(tmp_path: Path) -> None:
    folder = write_isic(tmp_path)
    (folder / TRAIN / "ISIC_0000001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataFormatError, match=r"cannot read image .*ISIC_0000001\.jpg"):
        read_isic2017(folder)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image_id,melanoma\nISIC_1,0.5\n", r"line 2: melanoma must be 0 or 1, not '0\.5'"),
        ("image_id,melanoma\nISIC_1,\n", r"line 2: melanoma must be 0 or 1"),
        ("image_id,melanoma\nISIC_1,0\nISIC_1,1\n", "line 3: image ISIC_1 listed twice"),
        ("image,label\nISIC_1,0\n", "expected the columns image_id and melanoma"),
        (
            "image_id,melanoma,seborrheic_keratosis\nISIC_1,1,1\n",
            "both melanoma and seborrheic keratosis",
        ),
    ],
)
def test_bad_ground_truth_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gt.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        read_isic2017_labels(path)
    assert "gt.csv" in str(info.value)


def test_ground_truth_formats(tmp_path: Path) -> None:
    path = tmp_path / "gt.csv"
    path.write_bytes(b"\xef\xbb\xbfimage_id,melanoma,,\r\nISIC_1,1.0,,\r\nISIC_2,0.0,,\r\n,,,\r\n")
    assert read_isic2017_labels(path) == {"ISIC_1": 1, "ISIC_2": 0}


def test_missing_parts_and_bad_arguments(tmp_path: Path) -> None:
    folder = write_isic(tmp_path)
    with pytest.raises(DataFormatError, match="ISIC-2017_Validation_Data does not exist"):
        read_isic2017(folder, parts=("train", "validation"))
    (folder / "ISIC-2017_Test_v2_Part3_GroundTruth.csv").unlink()
    with pytest.raises(DataFormatError, match="no ground truth for the test part") as info:
        read_isic2017(folder)
    assert "_mapped_by_sorted_id.csv" in str(info.value)
    for parts in [("train", "train"), ("training",), ()]:
        with pytest.raises(ValueError, match="parts must be"):
            read_isic2017(folder, parts=parts)


# -- the registry loader -------------------------------------------------------------------------


def test_registry_loader(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    loader = get_info("isic2017").loader
    assert loader is not None and loader.real_size == 2600
    assert loader.phantom_style == "dermoscopy"
    assert str(loader).startswith("medgraph.data.registry.read_isic2017(root)")
    folder = write_isic(tmp_path)
    for source in ("real", "auto"):
        data = load_dataset("isic2017", source=source, root=folder)
        assert data.source == "real" and len(data) == 5
    # nothing on disk: "real" says where it looked and how to get it; "auto" falls back
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("isic2017", source="real", root=empty)
    message = str(info.value)
    assert "data set 'isic2017'" in message and "not found" in message
    assert "medgraph data fetch isic2017" in message and f"root={empty}" in message
    with caplog.at_level(logging.WARNING, logger="medgraph.data.loaders"):
        data = load_dataset("isic2017", source="auto", root=empty, n_phantoms=3, seed=2)
    assert "3 synthetic phantoms instead (seed 2)" in caplog.text
    assert isinstance(data, LesionImageSet) and data.source == "phantom"
    assert [im.shape for im in data.images] == [(256, 256, 3)] * 3
    again = load_dataset("isic2017", source="phantom", n_phantoms=3, seed=2)
    assert again.fingerprint() == data.fingerprint()


@pytest.mark.skipif(REAL_ISIC is None, reason="MEDGRAPH_DATA does not hold isic2017/")
def test_real_copy_has_the_papers_counts() -> None:
    data = read_isic2017(REAL_ISIC)
    assert len(data) == 2600 and int(data.labels.sum()) == 491
    assert data.describe()["parts"] == {
        "train": {"other": 1626, "melanoma": 374},
        "test": {"other": 483, "melanoma": 117},
    }
    assert len(set(data.groups.tolist())) == 2600


# -- phantoms ------------------------------------------------------------------------------------


def test_phantoms_are_seeded_and_two_class() -> None:
    a = make_melanoma_phantoms(10, seed=4, size=64, melanoma_fraction=0.3)
    b = make_melanoma_phantoms(10, seed=4, size=64, melanoma_fraction=0.3)
    c = make_melanoma_phantoms(10, seed=5, size=64, melanoma_fraction=0.3)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.counts() == {"other": 7, "melanoma": 3}
    assert a.class_names == ("other", "melanoma") and a.parts == ("phantom",) * 10
    assert [im.shape for im in a.images] == [(64, 64, 3)] * 10
    assert all(im.dtype == np.uint8 for im in a.images)
    assert a.source == "phantom" and a.root is None and a.folds.tolist() == [-1] * 10
    # every image has its own stream: with another n, an image with the same label is the same
    d = make_melanoma_phantoms(7, seed=4, size=64, melanoma_fraction=0.3)
    same = [i for i in range(7) if d.labels[i] == a.labels[i]]
    assert same and all(np.array_equal(d.images[i], a.images[i]) for i in same)
    assert len(make_melanoma_phantoms(0, size=32)) == 0
    with pytest.raises(ValueError, match="melanoma_fraction"):
        make_melanoma_phantoms(3, melanoma_fraction=1.5)
    with pytest.raises(ValueError, match="size"):
        make_melanoma_phantoms(3, size=16)
