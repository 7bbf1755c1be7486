"""Tests of the binary-mask data sets: EMDS-5/6, ISIC 2016 and PH2 readers, lesion phantoms.

Everything runs offline on tiny copies of the published layouts written into tmp_path (20x30 px
images); the environment is isolated so that no real cache or MEDGRAPH_DATA leaks in. The
real-data test reads the team's EMDS-5 copy when present and skips otherwise.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgraph.data import (
    EMDS_CLASSES,
    PH2_CLASSES,
    REGISTRY,
    BinarySegmentationDataset,
    DataFormatError,
    DataUnavailableError,
    SegmentationDataset,
    get_info,
    load_dataset,
    load_emds,
    load_isic2016,
    load_ph2,
    make_lesion_phantoms,
    make_wbc_phantoms,
    read_ph2_diagnoses,
)
from medgraph.data.binary import MASK_THRESHOLD, binarize
from medgraph.data.emds import emds_class, emds_key
from medgraph.data.lesion_phantoms import _render_dermoscopy

# captured at import, before the autouse fixture clears the variable
REAL_ROOT = Path(
    os.environ.get("MEDGRAPH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
HAVE_REAL_EMDS5 = (REAL_ROOT / "emds5" / "EMDS5-Original").is_dir()

H, W = 20, 30
BINARY_NAMES = ("emds5", "emds6", "isic2016", "ph2")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MEDGRAPH_DATA, and a private empty cache."""
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEDGRAPH_CACHE", str(cache))
    return cache


# -- fixtures: tiny copies of the published layouts ----------------------------------------------


def grey_mask(seed: int, size: tuple[int, int] = (H, W)) -> np.ndarray:
    """An anti-aliased white blob on black, with the grey levels 127 and 128 at known places."""
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
    rng = np.random.default_rng(seed)
    cy, cx = rng.uniform(6, size[0] - 6), rng.uniform(8, size[1] - 8)
    grey = np.clip(255 * (6.0 - np.hypot(yy - cy, xx - cx)) / 3.0, 0, 255).astype(np.uint8)
    grey[0, 0], grey[0, 1] = 127, 128  # just below and just above the threshold
    return grey


def expected(grey: np.ndarray) -> np.ndarray:
    return (grey > 127).astype(np.uint8)


def random_image(seed: int, size: tuple[int, int] = (H, W)) -> np.ndarray:
    return np.random.default_rng(100 + seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


EMDS_STEMS = ("EMDS5-g01-01", "EMDS5-g01-02", "EMDS5-g02-01")


def write_emds5(base: Path) -> tuple[Path, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``base/emds5/EMDS5-{Original,GTS,GTM}/``: three images with single and multi masks."""
    folder = base / "emds5"
    images, gts = {}, {}
    for i, stem in enumerate(EMDS_STEMS):
        images[stem] = random_image(i)
        gts[stem] = grey_mask(i)
        write_png(folder / "EMDS5-Original" / f"{stem}.png", images[stem])
        write_png(folder / "EMDS5-GTS" / f"{stem}-GTS.png", gts[stem])
        write_png(folder / "EMDS5-GTM" / f"{stem}-GTM.png", 255 - gts[stem])  # another mask
    (folder / "EMDS5-GTS" / "a.txt").write_text("")  # as in the public copy
    return folder, images, gts


@pytest.fixture
def emds5(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray], dict[str, np.ndarray]]:
    return write_emds5(tmp_path / "data")


def write_emds6(base: Path) -> Path:
    """``base/EMDS-6/EMDS5-Original/CC/…`` and ``EMDS5-Ground Truth/CC/…-GTM.png`` (figshare)."""
    folder = base / "EMDS-6"
    for i, stem in enumerate(("EMDS5-g01-01", "EMDS5-g01-40", "EMDS5-g21-03")):
        cls = stem[7:9]
        write_png(folder / "EMDS5-Original" / cls / f"{stem}.png", random_image(i))
        write_png(folder / "EMDS5-Ground Truth" / cls / f"{stem}-GTM.png", grey_mask(i))
    return folder


ISIC_TRAIN = ("ISIC_0000000", "ISIC_0000001")
ISIC_TEST = ("ISIC_0000003",)


def write_isic2016(base: Path) -> Path:
    """``base/isic2016/ISBI2016_ISIC_Part1_{Training,Test}_{Data,GroundTruth}/``."""
    folder = base / "isic2016"
    for part, stems in (("Training", ISIC_TRAIN), ("Test", ISIC_TEST)):
        for i, stem in enumerate(stems):
            image_path = folder / f"ISBI2016_ISIC_Part1_{part}_Data" / f"{stem}.jpg"
            image_path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(random_image(i)).save(image_path, quality=100, subsampling=0)
            mask = np.where(grey_mask(i) > 127, 255, 0).astype(np.uint8)
            write_png(
                folder / f"ISBI2016_ISIC_Part1_{part}_GroundTruth" / f"{stem}_Segmentation.png",
                mask,
            )
    return folder


PH2_CASES = ("IMD002", "IMD003", "IMD010")
PH2_TABLE = """\
||   Name   || Histological Diagnosis || Clinical Diagnosis || Asymmetry || Colors ||
||  IMD002  ||                        ||          0         ||     0     ||   3 4  ||
||  IMD003  ||       Melanoma         ||          2         ||     2     ||   4 5  ||
||  IMD010  ||                        ||          1         ||     1     ||    4   ||

Legend: Clinical Diagnosis: 0 - Common Nevus; 1 - Atypical Nevus; 2 - Melanoma.
"""


def write_ph2(base: Path, table: str | None = PH2_TABLE) -> Path:
    """``base/PH2Dataset/PH2 Dataset images/IMDnnn/…`` (BMP) and ``PH2_dataset.txt``."""
    folder = base / "PH2Dataset"
    cases = folder / "PH2 Dataset images"
    for i, ident in enumerate(PH2_CASES):
        write_png(cases / ident / f"{ident}_Dermoscopic_Image" / f"{ident}.bmp", random_image(i))
        lesion = np.where(grey_mask(i) > 127, 255, 0).astype(np.uint8)
        write_png(cases / ident / f"{ident}_lesion" / f"{ident}_lesion.bmp", lesion)
    if table is not None:
        (folder / "PH2_dataset.txt").write_text(table)
    return folder


# -- EMDS-5 and EMDS-6 ------------------------------------------------------------------------------


def test_emds5_reads_published_layout(emds5: tuple) -> None:
    folder, images, gts = emds5
    ds = load_emds(5, root=folder.parent)
    assert isinstance(ds, BinarySegmentationDataset) and isinstance(ds, SegmentationDataset)
    assert ds.name == "emds5" and ds.source == "real" and len(ds) == 3
    assert ds.ids == list(EMDS_STEMS)
    np.testing.assert_array_equal(ds.class_labels, [1, 1, 2])
    assert ds.class_names == EMDS_CLASSES and ds.class_counts() == {
        name: (2 if name == "Actinophrys" else 1 if name == "Arcella" else 0)
        for name in EMDS_CLASSES[1:]
    }
    assert ds.label_names == ("background", "foreground")
    for ident, image, mask in zip(ds.ids, ds.images, ds.masks, strict=True):
        assert image.dtype == np.uint8 and image.shape == (H, W, 3)
        np.testing.assert_array_equal(image, images[ident])
        assert mask.dtype == np.uint8 and mask.shape == (H, W)
        np.testing.assert_array_equal(mask, expected(gts[ident]))
        assert set(np.unique(mask).tolist()) == {0, 1}
    assert ds.root is not None and ds.root.endswith("EMDS5-Original")
    # the data-set folder itself works as root too; "multi" reads the other mask set
    multi = load_emds(5, root=folder, masks="multi")
    np.testing.assert_array_equal(multi.masks[0], expected(255 - gts[EMDS_STEMS[0]]))


def test_mask_threshold_is_strictly_above_127(emds5: tuple) -> None:
    folder, _, _ = emds5
    assert MASK_THRESHOLD == 127
    np.testing.assert_array_equal(
        binarize(np.array([[0, 127, 128, 255]], np.uint8)), [[0, 0, 1, 1]]
    )
    ramp = (np.arange(H * W) % 256).astype(np.uint8).reshape(H, W)  # every grey level
    write_png(folder / "EMDS5-GTS" / "EMDS5-g01-02-GTS.png", ramp)
    mask = load_emds(5, root=folder).masks[1]
    np.testing.assert_array_equal(mask, ramp > 127)
    assert mask[ramp == 127].max() == 0 and mask[ramp == 128].min() == 1


def test_emds_gts_name_without_hyphen_is_accepted(emds5: tuple) -> None:
    folder, _, gts = emds5
    gts_dir = folder / "EMDS5-GTS"
    (gts_dir / "EMDS5-g01-02-GTS.png").rename(gts_dir / "EMDS5g01-02-GTS.png")  # as g10-07
    ds = load_emds(5, root=folder)
    assert ds.ids[1] == "EMDS5-g01-02"
    np.testing.assert_array_equal(ds.masks[1], expected(gts["EMDS5-g01-02"]))
    assert emds_key("EMDS5g10-07-GTS") == emds_key("EMDS5-g10-07") == "g1007"
    assert emds_key("EMDS5-g10-07GTM") == "g1007" and emds_class("EMDS5g10-07-GTS") == 10


def test_emds_converts_grey_rgba_images_and_colour_masks(emds5: tuple) -> None:
    folder, images, gts = emds5
    original = folder / "EMDS5-Original"
    grey = images["EMDS5-g01-01"][..., 0]
    write_png(original / "EMDS5-g01-01.png", grey)  # mode L
    rgba = np.dstack([images["EMDS5-g01-02"], np.full((H, W), 200, np.uint8)])
    write_png(original / "EMDS5-g01-02.png", rgba)  # mode RGBA
    mask = gts["EMDS5-g02-01"]
    write_png(folder / "EMDS5-GTS" / "EMDS5-g02-01-GTS.png", np.dstack([mask] * 3))  # RGB
    Image.fromarray(mask).convert("LA").save(folder / "EMDS5-GTM" / "EMDS5-g02-01-GTM.png")
    ds = load_emds(5, root=folder)
    np.testing.assert_array_equal(ds.images[0], np.dstack([grey] * 3))
    np.testing.assert_array_equal(ds.images[1], images["EMDS5-g01-02"])
    np.testing.assert_array_equal(ds.masks[2], expected(mask))
    np.testing.assert_array_equal(load_emds(5, root=folder, masks="multi").masks[2], expected(mask))


def test_emds_missing_mask_names_the_file(emds5: tuple) -> None:
    folder, _, _ = emds5
    (folder / "EMDS5-GTS" / "EMDS5-g01-02-GTS.png").unlink()
    with pytest.raises(
        DataFormatError, match=r"EMDS5-g01-02\.png: expected .*EMDS5-g01-02-GTS\.png"
    ):
        load_emds(5, root=folder)
    assert len(load_emds(5, root=folder, masks="multi")) == 3  # the other set is complete


def test_emds_mask_of_another_size_names_the_file(emds5: tuple) -> None:
    folder, _, _ = emds5
    write_png(folder / "EMDS5-GTS" / "EMDS5-g02-01-GTS.png", grey_mask(2, (H, W - 1)))
    with pytest.raises(
        DataFormatError, match=r"EMDS5-g02-01-GTS\.png is 29x20 px .* is 30x20 px"
    ) as info:
        load_emds(5, root=folder)
    assert info.value.path is not None and info.value.path.name == "EMDS5-g02-01-GTS.png"
    assert "\n" not in str(info.value)


def test_emds_empty_folder_and_class_index_mask(emds5: tuple) -> None:
    folder, _, _ = emds5
    write_png(folder / "EMDS5-GTS" / "EMDS5-g01-01-GTS.png", (grey_mask(0) > 127).astype(np.uint8))
    with pytest.raises(
        DataFormatError, match=r"EMDS5-g01-01-GTS\.png holds only the values 0 and 1"
    ):
        load_emds(5, root=folder)
    for path in (folder / "EMDS5-Original").iterdir():
        path.unlink()
    with pytest.raises(DataFormatError, match=r"no images in .*EMDS5-Original"):
        load_emds(5, root=folder)


def test_emds6_per_class_layout(tmp_path: Path) -> None:
    folder = write_emds6(tmp_path)
    ds = load_emds(6, root=tmp_path)  # finds EMDS-6/ by its folder name and markers
    assert ds.name == "emds6" and ds.ids == ["EMDS5-g01-01", "EMDS5-g01-40", "EMDS5-g21-03"]
    np.testing.assert_array_equal(ds.class_labels, [1, 1, 21])
    assert ds.class_counts()["Synchaeta"] == 1
    np.testing.assert_array_equal(ds.masks[2], expected(grey_mask(2)))
    with pytest.raises(DataFormatError, match=r"no single-object mask folder EMDS6-GTS .*'multi'"):
        load_emds(6, root=folder, masks="single")
    (folder / "EMDS5-Ground Truth" / "21" / "EMDS5-g21-03-GTM.png").unlink()
    with pytest.raises(DataFormatError, match=r"expected .*Ground Truth.21.EMDS5-g21-03-GTM\.png"):
        load_emds(6, root=folder)
    with pytest.raises(ValueError, match="masks"):
        load_emds(5, root=folder, masks="both")


# -- ISIC 2016 ------------------------------------------------------------------------------------


def test_isic2016_reads_published_layout(tmp_path: Path) -> None:
    folder = write_isic2016(tmp_path)
    train_dir = folder / "ISBI2016_ISIC_Part1_Training_Data"
    (train_dir / "ISIC_0000001_superpixels.png").write_bytes(b"not read")  # skipped by name
    ds = load_isic2016(root=tmp_path)
    assert isinstance(ds, BinarySegmentationDataset) and ds.name == "isic2016"
    assert ds.ids == list(ISIC_TRAIN) and ds.root == str(train_dir)
    np.testing.assert_array_equal(ds.class_labels, [0, 0])
    for i, (image, mask) in enumerate(zip(ds.images, ds.masks, strict=True)):
        assert image.shape == (H, W, 3) and image.dtype == np.uint8
        with Image.open(train_dir / f"{ds.ids[i]}.jpg") as jpeg:  # JPEG is lossy: compare
            np.testing.assert_array_equal(image, np.asarray(jpeg.convert("RGB")))  # with PIL
        assert np.abs(image.astype(int) - random_image(i)).mean() < 10
        np.testing.assert_array_equal(mask, expected(grey_mask(i)))
    assert load_isic2016(root=folder, split="test").ids == list(ISIC_TEST)
    assert load_isic2016(root=folder, split="all").ids == [*ISIC_TRAIN, *ISIC_TEST]
    with pytest.raises(ValueError, match="split"):
        load_isic2016(root=folder, split="validation")


def test_isic2016_errors_name_the_file(tmp_path: Path) -> None:
    folder = write_isic2016(tmp_path)
    masks = folder / "ISBI2016_ISIC_Part1_Training_GroundTruth"
    (masks / "ISIC_0000001_Segmentation.png").unlink()
    with pytest.raises(DataFormatError, match=r"ISIC_0000001\.jpg: expected .*_Segmentation\.png"):
        load_isic2016(root=folder)
    write_png(masks / "ISIC_0000001_Segmentation.png", np.zeros((H + 1, W), np.uint8))
    with pytest.raises(DataFormatError, match=r"ISIC_0000001_Segmentation\.png is 30x21 px"):
        load_isic2016(root=folder)
    for path in (folder / "ISBI2016_ISIC_Part1_Test_Data").iterdir():
        path.unlink()
    with pytest.raises(DataFormatError, match=r"no ISIC_<digits> images in .*Part1_Test_Data"):
        load_isic2016(root=folder, split="test")


# -- PH2 ------------------------------------------------------------------------------------------


def test_ph2_reads_published_layout(tmp_path: Path) -> None:
    folder = write_ph2(tmp_path)
    ds = load_ph2(root=tmp_path)
    assert isinstance(ds, BinarySegmentationDataset) and ds.name == "ph2"
    assert ds.ids == list(PH2_CASES) and ds.class_names == PH2_CLASSES
    np.testing.assert_array_equal(ds.class_labels, [1, 3, 2])  # table code + 1; 0 = unknown
    assert ds.class_counts() == {"common nevus": 1, "atypical nevus": 1, "melanoma": 1}
    for i, (image, mask) in enumerate(zip(ds.images, ds.masks, strict=True)):
        np.testing.assert_array_equal(image, random_image(i))  # BMP: lossless
        np.testing.assert_array_equal(mask, expected(grey_mask(i)))
    # the folder holding the IMDnnn folders directly, also through load_dataset("auto")
    cases = folder / "PH2 Dataset images"
    assert load_ph2(root=cases).checksum == ds.checksum
    direct = load_dataset("ph2", source="auto", root=cases)
    assert direct.source == "real" and direct.checksum == ds.checksum
    np.testing.assert_array_equal(direct.class_labels, [1, 3, 2])  # the table beside it


def test_ph2_without_table_and_errors(tmp_path: Path) -> None:
    folder = write_ph2(tmp_path, table=None)
    np.testing.assert_array_equal(load_ph2(root=folder).class_labels, [0, 0, 0])
    cases = folder / "PH2 Dataset images"
    (cases / "IMD003" / "IMD003_lesion" / "IMD003_lesion.bmp").unlink()
    with pytest.raises(DataFormatError, match=r"IMD003\.bmp: expected .*IMD003_lesion\.bmp"):
        load_ph2(root=folder)
    write_png(cases / "IMD003" / "IMD003_lesion" / "IMD003_lesion.bmp", np.zeros((H, 2), np.uint8))
    with pytest.raises(DataFormatError, match=r"IMD003_lesion\.bmp is 2x20 px"):
        load_ph2(root=folder)


def test_read_ph2_diagnoses(tmp_path: Path) -> None:
    path = tmp_path / "PH2_dataset.txt"
    path.write_text(PH2_TABLE)
    assert read_ph2_diagnoses(path) == {"IMD002": 0, "IMD003": 2, "IMD010": 1}
    # the column is found by its header, wherever it is
    path.write_text("|| Name || Clinical Diagnosis || Other ||\n|| IMD004 || 2 || x ||\n")
    assert read_ph2_diagnoses(path) == {"IMD004": 2}
    path.write_text(PH2_TABLE.replace("||          1         ||", "||          7         ||"))
    with pytest.raises(DataFormatError, match=r"PH2_dataset\.txt, line 4: .*'7' of IMD010"):
        read_ph2_diagnoses(path)
    path.write_text(PH2_TABLE + "||  IMD002  ||   ||  1  ||  0  ||  3  ||\n")
    with pytest.raises(DataFormatError, match="IMD002 listed twice"):
        read_ph2_diagnoses(path)


# -- load_dataset and the registry ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "style", "size"),
    [
        ("emds5", "microscopy", 420),
        ("emds6", "microscopy", 840),
        ("isic2016", "dermoscopy", 900),
        ("ph2", "dermoscopy", 200),
    ],
)
def test_registry_loaders_of_binary_sets(name: str, style: str, size: int) -> None:
    loader = get_info(name).loader
    assert loader is not None and loader.phantom_style == style and loader.real_size == size
    assert f"style={style!r}" in str(loader)
    ds = loader.phantoms(2, seed=5)
    assert isinstance(ds, BinarySegmentationDataset) and ds.name == name and len(ds) == 2
    assert ds.checksum == make_lesion_phantoms(2, seed=5, style=style).checksum


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_load_dataset_falls_back_when_absent_and_raises_with_real(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with caplog.at_level(logging.WARNING, logger="medgraph.data.loaders"):
        ds = load_dataset(name, source="auto", root=empty, n_phantoms=2, seed=1)
    assert ds.source == "phantom" and ds.name == name and len(ds) == 2
    assert "phantoms instead" in caplog.text and f"data set {name!r}" in caplog.text
    with pytest.raises(DataUnavailableError, match=f"data set {name!r}.*not found") as info:
        load_dataset(name, source="real", root=empty)
    assert get_info(name).source_url in str(info.value) or "fetch" in str(info.value)
    assert "\n" not in str(info.value)


def test_load_dataset_prefers_real_binary_sets(tmp_path: Path) -> None:
    write_emds5(tmp_path)
    write_emds6(tmp_path)
    write_isic2016(tmp_path)
    write_ph2(tmp_path)
    sizes = {"emds5": 3, "emds6": 3, "isic2016": 2, "ph2": 3}
    for name in BINARY_NAMES:
        ds = load_dataset(name, source="auto", root=tmp_path)
        assert ds.source == "real" and ds.name == name and len(ds) == sizes[name]
        assert isinstance(ds, BinarySegmentationDataset)
    with_loader = {name for name, info in REGISTRY.items() if info.loader is not None}
    assert with_loader == {"wbc1", "wbc2", *BINARY_NAMES, "cnmc2019", "bccd", "isic2017"}


# -- lesion phantoms ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["dermoscopy", "microscopy"])
def test_lesion_phantoms_are_deterministic(style: str) -> None:
    a = make_lesion_phantoms(4, seed=7, size=64, style=style)
    b = make_lesion_phantoms(4, seed=7, size=64, style=style)
    c = make_lesion_phantoms(4, seed=8, size=64, style=style)
    for x, y in zip(a.images + a.masks, b.images + b.masks, strict=True):
        assert x.tobytes() == y.tobytes()
    assert a.checksum == b.checksum != c.checksum
    # every image has its own seed stream: the first k of n do not depend on n
    assert (
        make_lesion_phantoms(2, seed=7, size=64, style=style).checksum == a.subset([0, 1]).checksum
    )


@pytest.mark.parametrize("style", ["dermoscopy", "microscopy"])
def test_lesion_phantom_images_and_masks(style: str) -> None:
    ds = make_lesion_phantoms(12, seed=0, style=style)
    assert isinstance(ds, BinarySegmentationDataset) and ds.source == "phantom"
    assert ds.name == style and ds.ids[0] == "P0001" and (ds.class_labels == 0).all()
    centres = []
    for image, mask in zip(ds.images, ds.masks, strict=True):
        assert image.shape == (128, 128, 3) and image.dtype == np.uint8
        assert mask.shape == (128, 128) and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) == {0, 1}
        # the object lies inside the image: the mask never touches the border
        assert not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
        grey = image.astype(float).mean(axis=2)
        ring = np.zeros_like(mask, dtype=bool)
        ring[32:96, 32:96] = True  # inside the field of view
        assert grey[mask == 1].mean() < grey[(mask == 0) & ring].mean()  # darker object
        ys, xs = np.nonzero(mask)
        centres.append((ys.mean(), xs.mean()))
        if style == "dermoscopy":  # dark corners of the round field of view
            assert max(grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]) < 30
        else:  # light background
            assert np.median(grey[mask == 0]) > 150
    offsets = np.hypot(*(np.asarray(centres) - 64).T)
    assert offsets.max() > 6  # not always centred
    assert make_lesion_phantoms(1, size=(40, 56)).images[0].shape == (40, 56, 3)
    with pytest.raises(ValueError, match="style"):
        make_lesion_phantoms(1, style="histology")
    with pytest.raises(ValueError, match="size"):
        make_lesion_phantoms(1, size=8)


def test_dermoscopy_hairs_are_dark_and_not_in_the_mask() -> None:
    yy, xx = np.mgrid[0:128, 0:128]
    field = np.hypot(yy - 64, xx - 64) < 55  # well inside the field of view
    outside_total = 0
    for seed in range(6):
        image, mask, hair = _render_dermoscopy(128, 128, np.random.default_rng(seed))
        strands = hair > 0.8
        assert strands.sum() > 30  # a few thin strands
        grey = image.astype(float).mean(axis=2)
        skin = (mask == 0) & (hair == 0) & field
        assert np.median(grey[strands]) < 0.6 * np.median(grey[skin])  # dark
        outside_total += int((strands & (mask == 0)).sum())
        # the mask is the lesion alone, a star-shaped blob whose centre is inside it
        ys, xs = np.nonzero(mask)
        assert mask[int(ys.mean()), int(xs.mean())] == 1
    assert outside_total > 0  # hair lies over the skin too, and the mask ignores it


# -- the container --------------------------------------------------------------------------------


def test_binary_container() -> None:
    ds = make_lesion_phantoms(3, seed=0, size=32)
    sub = ds.subset([2, 0])
    assert isinstance(sub, BinarySegmentationDataset) and sub.ids == ["P0003", "P0001"]
    assert sub.label_names == ("background", "foreground") and sub.class_names == ("unknown",)
    bad = [m.copy() for m in ds.masks]
    bad[1][0, 0] = 2
    with pytest.raises(ValueError, match="P0002: a binary mask holds only 0 and 1"):
        BinarySegmentationDataset("x", "phantom", ds.images, bad, ds.ids, ds.class_labels)
    with pytest.raises(ValueError, match="class labels must lie in 0..0"):
        BinarySegmentationDataset("x", "phantom", ds.images, ds.masks, ds.ids, [0, 1, 0])
    info = ds.describe()
    assert info["label_names"] == ["background", "foreground"]
    assert 0 < info["foreground_share"][0] <= info["foreground_share"][1] < 1
    # the WBC container keeps its three classes
    wbc = make_wbc_phantoms(2, size=16)
    assert type(wbc.subset([1])) is SegmentationDataset
    assert wbc.label_names == ("background", "cytoplasm", "nucleus")
    assert wbc.class_names[1] == "neutrophil" and "label_names" not in wbc.describe()


# -- the real data (when the team's copy is present) ----------------------------------------------


@pytest.mark.skipif(
    not HAVE_REAL_EMDS5, reason=f"real EMDS-5 not found under {REAL_ROOT} (set MEDGRAPH_DATA)"
)
def test_real_emds5() -> None:
    ds = load_dataset("emds5", source="real", root=REAL_ROOT)
    assert isinstance(ds, BinarySegmentationDataset) and len(ds) == 420
    originals = sorted(p.stem for p in (REAL_ROOT / "emds5" / "EMDS5-Original").glob("*.png"))
    assert ds.ids == originals  # every image has a mask (a missing one would have raised)
    assert "EMDS5-g10-07" in ds.ids  # its mask is the one named without a hyphen
    assert list(ds.class_counts().values()) == [20] * 21
    for image, mask in zip(ds.images, ds.masks, strict=True):
        assert mask.shape == image.shape[:2] and mask.dtype == np.uint8
    values = np.unique(np.concatenate([np.unique(m) for m in ds.masks]))
    assert values.tolist() == [0, 1]
    share = ds.foreground_share()
    assert ((share > 0) & (share < 1)).mean() > 0.95  # both classes in (almost) every mask
    assert 0.05 < share.mean() < 0.3
    multi = load_emds(5, root=REAL_ROOT, masks="multi")
    assert multi.ids == ds.ids and multi.foreground_share().mean() >= share.mean()
