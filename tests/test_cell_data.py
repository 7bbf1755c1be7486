"""Tests of the cell-classification data: CellImageSet, the C-NMC, BCCD and class-folder readers,
and the cell phantoms.

Everything runs offline on tiny copies of the published layouts written into tmp_path (12x16 px
images); the environment is isolated so that no real cache or MEDGRAPH_DATA leaks in. The
real-data test reads the team's C-NMC sample and BCCD crops through MEDGRAPH_DATA when it is set
and holds them, and skips otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgraph.data import (
    CNMC_CLASSES,
    REGISTRY,
    CellImageSet,
    DataConfigError,
    DataFormatError,
    DataUnavailableError,
    Loader,
    data_fingerprint,
    get_info,
    load_dataset,
    make_cell_phantoms,
    make_wbc_phantoms,
    read_bccd,
    read_class_folders,
    read_cnmc,
)
from medgraph.data.cells import bccd_source_image, cnmc_patient
from medgraph.data.dataset import data_fingerprint as segmentation_fingerprint

# captured at import, before the autouse fixture clears the variable; only the variable is used
_ENV_DATA = os.environ.get("MEDGRAPH_DATA", "").strip()
REAL_ROOT = Path(_ENV_DATA) if _ENV_DATA else None
HAVE_REAL_CNMC = REAL_ROOT is not None and (REAL_ROOT / "cnmc_sample" / "fold_0").is_dir()
HAVE_REAL_BCCD = REAL_ROOT is not None and (REAL_ROOT / "bccd_crops" / "BCCD_cropped").is_dir()

H, W = 12, 16
TEMPLATE = "UID_[idPaciente]_[numImage]_[CellsID]_[ALL:Cancer-HEM-Normal]"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MEDGRAPH_DATA, and a private empty cache."""
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEDGRAPH_CACHE", str(cache))
    return cache


# -- tiny copies of the published layouts --------------------------------------------------------


def pixels(seed: int, size: tuple[int, int] = (H, W)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def write_image(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        Image.fromarray(array).save(path, quality=95)
    else:
        Image.fromarray(array).save(path)


#: (fold, class folder, file name) of the tiny C-NMC copy; ``UID_h3`` is spelt as in the sample
CNMC_FILES = (
    ("fold_0", "all", "UID_11_1_2_all.bmp"),
    ("fold_0", "all", "UID_5_1_1_all.bmp"),
    ("fold_0", "hem", "UID_H7_1_1_hem.bmp"),
    ("fold_1", "all", "UID_2_1_1_all.bmp"),
    ("fold_1", "hem", "UID_H10_2_1_hem.bmp"),
    ("fold_2", "all", "UID_13_3_1_all.bmp"),
    ("fold_2", "hem", "UID_h3_1_1_hem.bmp"),
    ("fold_2", "hem", "UID_H3_2_1_hem.bmp"),
)


def write_cnmc(base: Path, official: bool = True) -> tuple[Path, dict[str, np.ndarray]]:
    """``base/cnmc2019/training_data/fold_N/{all,hem}/UID_*.bmp`` (or the sample's layout
    ``base/cnmc_sample/fold_N/...``), with one zero-byte cell and the sample's empty template
    file at the top."""
    folder = base / ("cnmc2019" if official else "cnmc_sample")
    parent = folder / "training_data" if official else folder
    arrays = {}
    for i, (fold, cls, fname) in enumerate(CNMC_FILES):
        arrays[fname] = pixels(i)
        write_image(parent / fold / cls / fname, arrays[fname])
    (parent / "fold_1" / "all" / "UID_9_1_1_all.bmp").write_bytes(b"")  # zero bytes
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TEMPLATE).write_bytes(b"")  # as in the public sample
    (folder / "README.md").write_text("sample\n")
    return folder, arrays


def write_bccd(base: Path) -> Path:
    """``base/bccd/BCCD_cropped/<Class>/BloodImage_NNNNN_K.jpg`` with ``labels.csv`` beside."""
    folder = base / "bccd"
    crops = (
        ("Neutrophil", "BloodImage_00000_1.jpg"),
        ("Neutrophil", "BloodImage_00001_1.jpg"),
        ("Neutrophil", "BloodImage_00007_2.jpg"),
        ("Eosinophil", "BloodImage_00007_1.jpg"),
        ("Basophil", "BloodImage_00008_1.jpg"),
    )
    for i, (cls, fname) in enumerate(crops):
        write_image(folder / "BCCD_cropped" / cls / fname, pixels(i, (20 + i, 20 + i)))
    (folder / "labels.csv").write_text(",Image,Category\n,0,NEUTROPHIL\n")
    return folder


def write_class_folders(root: Path) -> dict[str, np.ndarray]:
    """``root/{a,b,c}/``: two png in ``a``, one bmp and one jpg in ``b``, one png in ``c``."""
    arrays = {
        "a/x1.png": pixels(1),
        "a/x2.png": pixels(2),
        "b/y1.bmp": pixels(3),
        "b/y2.JPG": np.full((H, W, 3), 90, np.uint8),  # upper-case ending; flat: jpeg-exact
        "c/z1.png": pixels(5),
    }
    for rel, array in arrays.items():
        write_image(root / rel, array)
    (root / "notes.txt").write_text("ignored: not in a class folder\n")
    (root / ".hidden").mkdir()  # hidden folders are not classes
    return arrays


# -- CellImageSet --------------------------------------------------------------------------------


def small_set() -> CellImageSet:
    return CellImageSet(
        images=[pixels(i, (H + i, W)) for i in range(4)],
        labels=[0, 1, 1, 0],
        class_names=("neg", "pos"),
        paths=("n/a.png", "p/b.png", "p/c.png", "n/d.png"),
        name="tiny",
    )


def test_cell_image_set_defaults_subset_and_counts() -> None:
    data = small_set()
    assert len(data) == 4 and data.source == "real" and data.root is None
    assert data.labels.dtype == np.int64 and data.folds.tolist() == [-1] * 4
    assert data.groups.dtype == object and data.groups.tolist() == ["a", "b", "c", "d"]
    assert data.counts() == {"neg": 2, "pos": 2}
    part = data.subset([3, 1])
    assert part.paths == ("n/d.png", "p/b.png") and part.labels.tolist() == [0, 1]
    assert part.groups.tolist() == ["d", "b"] and part.images[0] is data.images[3]
    assert part.class_names == data.class_names and part.name == "tiny"
    assert data.subset(np.array([False, True, False, False])).paths == ("p/b.png",)
    assert data.subset([]).counts() == {"neg": 0, "pos": 0}
    with pytest.raises(IndexError):
        data.subset([4])
    with pytest.raises(ValueError, match="boolean index"):
        data.subset(np.array([True, False]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"  # type: ignore[misc]
    summary = data.describe()
    assert summary["n_images"] == 4 and summary["height_range"] == [H, H + 3]
    assert summary["class_counts"] == {"neg": 2, "pos": 2} and summary["folds"] == [-1]
    assert summary["fingerprint"] == data.fingerprint() and summary["n_groups"] == 4
    no_paths = CellImageSet(images=[pixels(0)] * 2, labels=[0, 0], class_names=("x",))
    assert no_paths.paths == ("", "") and no_paths.groups.tolist() == ["0", "1"]


def test_cell_image_set_validates() -> None:
    image = pixels(0)
    with pytest.raises(ValueError, match="source"):
        CellImageSet([image], [0], ("a",), source="web")
    with pytest.raises(ValueError, match="1 images but 2 labels"):
        CellImageSet([image], [0, 0], ("a",))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        CellImageSet([image], [2], ("a", "b"))
    with pytest.raises(ValueError, match="unique"):
        CellImageSet([image], [0], ("a", "a"))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        CellImageSet([image[..., 0]], [0], ("a",))
    with pytest.raises(ValueError, match="folds"):
        CellImageSet([image], [0], ("a",), folds=[-2])


def test_fingerprint_is_deterministic_and_covers_pixels_and_labels() -> None:
    data = small_set()
    assert data.fingerprint() == small_set().fingerprint() == data_fingerprint(data)
    assert len(data.fingerprint()) == 64
    # neither the name, the paths nor the groups take part; labels, pixels and order do
    renamed = dataclasses.replace(data, name="other", paths=("",) * 4, groups=["g"] * 4)
    assert renamed.fingerprint() == data.fingerprint()
    relabelled = dataclasses.replace(data, labels=[1, 1, 1, 0])
    assert relabelled.fingerprint() != data.fingerprint()
    changed = [im.copy() for im in data.images]
    changed[2][0, 0, 0] ^= 1
    assert dataclasses.replace(data, images=changed).fingerprint() != data.fingerprint()
    assert data.subset([1, 0, 2, 3]).fingerprint() != data.fingerprint()
    # the exported data_fingerprint leaves the segmentation sets' checksum unchanged
    wbc = make_wbc_phantoms(2, seed=0, size=16)
    assert data_fingerprint(wbc) == segmentation_fingerprint(wbc)


# -- C-NMC 2019 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("official", [True, False], ids=["training_data", "sample"])
def test_read_cnmc_layouts(tmp_path: Path, official: bool) -> None:
    folder, arrays = write_cnmc(tmp_path / "data", official=official)
    with pytest.warns(UserWarning, match=r"skipping empty file .*UID_9_1_1_all\.bmp \(0 bytes\)"):
        data = read_cnmc(tmp_path / "data")
    assert data.name == "cnmc2019" and data.source == "real" and data.root == str(folder)
    assert data.class_names == CNMC_CLASSES == ("hem", "all")
    prefix = "training_data/" if official else ""
    # ordered by fold, then class (hem first), then file name
    assert data.paths == (
        f"{prefix}fold_0/hem/UID_H7_1_1_hem.bmp",
        f"{prefix}fold_0/all/UID_11_1_2_all.bmp",
        f"{prefix}fold_0/all/UID_5_1_1_all.bmp",
        f"{prefix}fold_1/hem/UID_H10_2_1_hem.bmp",
        f"{prefix}fold_1/all/UID_2_1_1_all.bmp",
        f"{prefix}fold_2/hem/UID_H3_2_1_hem.bmp",
        f"{prefix}fold_2/hem/UID_h3_1_1_hem.bmp",
        f"{prefix}fold_2/all/UID_13_3_1_all.bmp",
    )
    assert data.labels.tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    assert data.folds.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert data.groups.tolist() == ["H7", "11", "5", "H10", "2", "H3", "H3", "13"]
    assert data.counts() == {"hem": 4, "all": 4}
    for path, image in zip(data.paths, data.images, strict=True):
        np.testing.assert_array_equal(image, arrays[Path(path).name])
    # the same through the registry
    with pytest.warns(UserWarning, match="skipping empty file"):
        again = load_dataset("cnmc2019", source="real", root=folder)
    assert again.fingerprint() == data.fingerprint() and again.paths == data.paths


def test_cnmc_patient_and_bccd_source_image() -> None:
    assert cnmc_patient("UID_11_1_2_all.bmp") == "11"
    assert cnmc_patient("UID_H7_1_2_hem.bmp") == "H7" == cnmc_patient("UID_h7_1_1_hem")
    assert cnmc_patient("fold_0/all/UID_23_2_1_all.bmp") == "23"
    assert cnmc_patient("cell42.bmp") == "cell42"
    assert bccd_source_image("BloodImage_00008_1.jpg") == "BloodImage_00008"
    assert bccd_source_image("Neutrophil/BloodImage_00410_12.jpg") == "BloodImage_00410"
    assert bccd_source_image("crop.jpg") == "crop"


def test_read_cnmc_errors_name_the_file(tmp_path: Path) -> None:
    folder, _ = write_cnmc(tmp_path / "data")
    stray = folder / "training_data" / "fold_2" / "all" / "UID_13_3_1_all.png"
    stray.write_bytes(b"png")
    with (
        warnings.catch_warnings(),
        pytest.raises(DataFormatError, match=r"UID_13_3_1_all\.png is not an image") as info,
    ):
        warnings.simplefilter("ignore")
        read_cnmc(folder)
    assert info.value.path == stray
    stray.unlink()
    hem = folder / "training_data" / "fold_1" / "hem"
    for path in hem.iterdir():
        path.unlink()
    hem.rmdir()
    with (
        warnings.catch_warnings(),
        pytest.raises(DataFormatError, match=r"class folder .*fold_1.hem .*does not exist"),
    ):
        warnings.simplefilter("ignore")
        read_cnmc(folder)
    (folder / "training_data" / "fold_01").mkdir()
    with pytest.raises(DataFormatError, match=r"fold_0?1 and .*fold_0?1 are both fold 1"):
        read_cnmc(folder)
    # a folder with the marker but no fold folder is not C-NMC
    bare = tmp_path / "bare" / "cnmc2019"
    bare.mkdir(parents=True)
    (bare / "fold_0").write_text("")  # the marker exists, but as a file
    with pytest.raises(DataFormatError, match="no fold_N folders"):
        read_cnmc(bare)


# -- folder-per-class layouts --------------------------------------------------------------------


def test_read_class_folders_every_folder_a_class(tmp_path: Path) -> None:
    arrays = write_class_folders(tmp_path / "cells")
    data = read_class_folders(tmp_path / "cells", name="mine")
    assert data.name == "mine" and data.root == str(tmp_path / "cells")
    assert data.class_names == ("a", "b", "c")
    assert data.paths == ("a/x1.png", "a/x2.png", "b/y1.bmp", "b/y2.JPG", "c/z1.png")
    assert data.labels.tolist() == [0, 0, 1, 1, 2] and data.folds.tolist() == [-1] * 5
    assert data.groups.tolist() == ["x1", "x2", "y1", "y2", "z1"]
    for path, image in zip(data.paths, data.images, strict=True):
        assert image.shape == (H, W, 3) and image.dtype == np.uint8
        if not path.endswith(".JPG"):
            np.testing.assert_array_equal(image, arrays[path])
    assert abs(int(data.images[3].astype(int).mean()) - 90) <= 2  # lossy jpeg of a flat grey


def test_read_class_folders_mapping(tmp_path: Path) -> None:
    write_class_folders(tmp_path / "cells")
    # two folders map to one class, folder b is left out; classes in order of first appearance
    data = read_class_folders(tmp_path / "cells", {"c": "second", "a": "first_seen"})
    assert data.class_names == ("second", "first_seen")
    assert data.paths == ("c/z1.png", "a/x1.png", "a/x2.png")
    assert data.labels.tolist() == [0, 1, 1]
    merged = read_class_folders(tmp_path / "cells", {"b": "pooled", "c": "pooled", "a": "other"})
    assert merged.class_names == ("pooled", "other")
    assert merged.counts() == {"pooled": 3, "other": 2}
    # only the chosen endings are images
    with pytest.raises(DataFormatError, match=r"y1\.bmp is not an image"):
        read_class_folders(tmp_path / "cells", {"b": "b"}, extensions=("jpg",))
    with pytest.raises(DataFormatError, match=r"class folder .*nope \(class 'x'\) does not exist"):
        read_class_folders(tmp_path / "cells", {"nope": "x"})
    with pytest.raises(DataFormatError, match="no class folders"):
        read_class_folders(tmp_path / "cells", {})


def test_read_class_folders_errors_name_the_path(tmp_path: Path) -> None:
    root = tmp_path / "cells"
    write_class_folders(root)

    (root / "d").mkdir()  # an empty class folder
    with pytest.raises(DataFormatError, match=r"class folder .*cells.d holds no images") as info:
        read_class_folders(root)
    assert info.value.path == root / "d"
    (root / "d").rmdir()

    note = root / "a" / "README.txt"
    note.write_text("not an image")
    with pytest.raises(DataFormatError, match=r"README\.txt is not an image .*in class folder"):
        read_class_folders(root)
    note.unlink()

    corrupt = root / "b" / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataFormatError, match=r"cannot read image .*broken\.png") as info:
        read_class_folders(root)
    assert info.value.path == corrupt
    corrupt.unlink()

    nested = root / "c" / "more"
    nested.mkdir()
    with pytest.raises(DataFormatError, match="holds a sub-folder more"):
        read_class_folders(root)
    nested.rmdir()

    empty_file = root / "c" / "zero.png"
    empty_file.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"cannot read image .*zero\.png"):
        read_class_folders(root)
    with pytest.warns(UserWarning, match=r"skipping empty file .*zero\.png"):
        assert len(read_class_folders(root, skip_empty=True)) == 5

    missing = tmp_path / "typo"
    with pytest.raises(DataConfigError, match=r"root=.*typo does not exist") as config:
        read_class_folders(missing)
    assert config.value.path == missing
    with pytest.raises(DataConfigError, match="is not a folder"):
        read_class_folders(root / "notes.txt")
    no_classes = tmp_path / "flat"
    write_image(no_classes / "image.png", pixels(0))
    with pytest.raises(DataFormatError, match=r"no class folders in .*flat"):
        read_class_folders(no_classes)


# -- BCCD ----------------------------------------------------------------------------------------


def test_read_bccd(tmp_path: Path) -> None:
    folder = write_bccd(tmp_path / "data")
    data = read_bccd(tmp_path / "data")
    assert data.name == "bccd" and data.source == "real" and data.root == str(folder)
    assert data.class_names == ("basophil", "eosinophil", "neutrophil")
    assert data.counts() == {"basophil": 1, "eosinophil": 1, "neutrophil": 3}
    assert data.paths[0] == "BCCD_cropped/Basophil/BloodImage_00008_1.jpg"
    assert data.groups.tolist() == [
        "BloodImage_00008",
        "BloodImage_00007",
        "BloodImage_00000",
        "BloodImage_00001",
        "BloodImage_00007",  # a second crop of image 7, in another class
    ]
    assert data.folds.tolist() == [-1] * 5
    assert [im.shape[0] for im in data.images] == [24, 23, 20, 21, 22]
    assert load_dataset("bccd", source="auto", root=folder).fingerprint() == data.fingerprint()
    (folder / "BCCD_cropped").rename(folder / "cropped")
    (folder / "BCCD_cropped").write_text("")  # the marker exists, but as a file
    with pytest.raises(DataFormatError, match="no BCCD_cropped folder"):
        read_bccd(folder)


# -- phantoms ------------------------------------------------------------------------------------


def test_cell_phantoms_deterministic_balanced_and_seeded() -> None:
    a = make_cell_phantoms(30, seed=3, size=48)
    b = make_cell_phantoms(30, seed=3, size=48)
    c = make_cell_phantoms(30, seed=4, size=48)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert not np.array_equal(a.images[0], c.images[0])
    assert a.source == "phantom" and a.root is None and a.name == "cell_phantoms"
    assert a.class_names == ("healthy", "blast") and a.counts() == {"healthy": 15, "blast": 15}
    assert a.paths == ("",) * 30 and a.groups.tolist() == [f"phantom{i}" for i in range(30)]
    assert a.folds.tolist() == [i % 3 for i in range(30)]
    assert 0 < a.labels[:10].sum() < 10  # shuffled, not in blocks
    odd = make_cell_phantoms(7, seed=0, size=32, n_classes=3)
    assert sorted(odd.counts().values()) == [2, 2, 3]
    assert odd.class_names == ("level0", "level1", "level2")
    named = make_cell_phantoms(4, seed=0, size=32, class_names=("hem", "all"), name="cnmc2019")
    assert named.class_names == ("hem", "all") and named.name == "cnmc2019"
    assert len(make_cell_phantoms(0)) == 0
    for bad in (
        dict(n=-1),
        dict(n=2, size=16),
        dict(n=2, n_classes=1),
        dict(n=2, class_names=("a", "b", "c")),
    ):
        with pytest.raises(ValueError):
            make_cell_phantoms(**bad)


def test_cell_phantoms_look_like_cnmc_crops_and_separate_by_texture_not_colour() -> None:
    from scipy.ndimage import laplace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = make_cell_phantoms(160, seed=0)
    for image in data.images[:20]:
        assert image.shape == (96, 96, 3) and image.dtype == np.uint8
        corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
        assert corners.max() == 0  # a black background, like the segmented C-NMC crops
        assert image[48, 48].sum() > 0  # a cell in the middle
    y = data.labels
    colour = np.array([im.reshape(-1, 3).mean(0) for im in data.images])
    model = make_pipeline(StandardScaler(), LogisticRegression())
    assert model.fit(colour, y).score(colour, y) < 0.9  # mean colour alone: far from perfect

    def texture(image: np.ndarray) -> list[float]:
        grey = image.astype(np.float64).mean(axis=2)
        cell = grey > 8
        return [grey[cell].std(), np.abs(laplace(grey))[cell].mean(), cell.mean()]

    feats = np.array([texture(im) for im in data.images])
    assert model.fit(feats, y).score(feats, y) > 0.85  # shape and texture tell them apart


# -- the registry and load_dataset ---------------------------------------------------------------


def test_registry_entries_have_cell_loaders() -> None:
    for name, size in (("cnmc2019", 10661), ("bccd", 351)):
        loader = get_info(name).loader
        assert isinstance(loader, Loader) and loader.real_size == size
        assert loader.phantom_style == name
        assert str(loader).startswith(f"medgraph.data.registry.read_{name}(root)")
    cnmc = get_info("cnmc2019").loader.phantoms(6, seed=2)
    assert isinstance(cnmc, CellImageSet) and cnmc.class_names == ("hem", "all")
    assert cnmc.name == "cnmc2019"
    assert (
        cnmc.fingerprint() == make_cell_phantoms(6, seed=2, class_names=CNMC_CLASSES).fingerprint()
    )
    bccd = get_info("bccd").loader.phantoms(10, seed=2)
    assert len(bccd.class_names) == 5 and bccd.name == "bccd"
    assert set(bccd.counts().values()) == {2}
    with pytest.raises(ValueError, match="style"):
        REGISTRY["bccd"].loader.make_phantoms(2, seed=0, style="wbc1")


@pytest.mark.parametrize("name", ["cnmc2019", "bccd"])
def test_load_dataset_falls_back_or_refuses(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with caplog.at_level(logging.WARNING, logger="medgraph.data.loaders"):
        data = load_dataset(name, source="auto", root=empty, n_phantoms=4, seed=1)
    assert isinstance(data, CellImageSet) and data.source == "phantom" and len(data) == 4
    assert data.name == name
    assert "phantoms instead" in caplog.text and f"medgraph data fetch {name} --from" in caplog.text
    phantom = load_dataset(name, source="phantom", n_phantoms=4, seed=1)
    assert phantom.fingerprint() == data.fingerprint()
    with pytest.raises(DataUnavailableError, match="downloaded by hand") as info:
        load_dataset(name, source="real", root=empty)
    assert info.value.name == name and "\n" not in str(info.value)
    with pytest.raises(DataConfigError, match="does not exist"):
        load_dataset(name, source="auto", root=tmp_path / "typo")


# -- the team's real copies (skipped unless MEDGRAPH_DATA holds them) ----------------------------


@pytest.mark.skipif(not HAVE_REAL_CNMC, reason="C-NMC sample not found (set MEDGRAPH_DATA)")
def test_real_cnmc_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_ROOT is not None
    monkeypatch.setenv("MEDGRAPH_DATA", str(REAL_ROOT))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sample's empty file lies outside the folds
        data = load_dataset("cnmc2019", source="real")
    assert data.source == "real" and len(data) == 52
    assert data.counts() == {"hem": 26, "all": 26}
    assert sorted(set(data.folds.tolist())) == [0, 1, 2]
    assert all(im.shape == (450, 450, 3) for im in data.images)
    assert len(set(data.groups.tolist())) == 26
    hem_groups = set(data.groups[data.labels == 0].tolist())
    assert all(g.startswith("H") for g in hem_groups) and "H3" in hem_groups
    for group in set(data.groups.tolist()):  # every patient lies in one fold
        assert len(set(data.folds[data.groups == group].tolist())) == 1


@pytest.mark.skipif(not HAVE_REAL_BCCD, reason="BCCD crops not found (set MEDGRAPH_DATA)")
def test_real_bccd(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_ROOT is not None
    monkeypatch.setenv("MEDGRAPH_DATA", str(REAL_ROOT))
    data = load_dataset("bccd", source="real")
    assert len(data) == 351
    counts = data.counts()
    assert len(counts) == 5
    assert sorted(counts.values(), reverse=True) == [207, 88, 33, 20, 3]
    assert counts["neutrophil"] == 207 and counts["basophil"] == 3
    sides = [im.shape[0] for im in data.images]
    assert min(sides) == 131 and max(sides) == 367
    assert all(g.startswith("BloodImage_") for g in data.groups.tolist())
