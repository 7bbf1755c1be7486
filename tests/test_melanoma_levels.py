"""Tests of medgraph.melanoma.levels: exact superpixel counts, SEG/SHG levels, node signals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from skimage.color import rgb2lab

from medgraph.data import DataConfigError, DataUnavailableError, locate
from medgraph.melanoma.levels import (
    SIGNAL_COLUMNS,
    SIGNAL_KINDS,
    LevelMap,
    coarsen,
    ensemble_levels,
    exact_superpixels,
    graph_signal,
    hierarchy_levels,
    image_levels,
    node_signals,
    parents,
)
from medgraph.superpixels.algorithms import slic

# -- images -------------------------------------------------------------------------------------


def lesion(height: int = 64, width: int = 64, seed: int = 0) -> np.ndarray:
    """A seeded synthetic dermoscopy-like image: a brown ellipse on skin colour, with noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    r = ((yy - 0.45 * height) / (0.3 * height)) ** 2 + ((xx - 0.55 * width) / (0.35 * width)) ** 2
    t = np.clip(1.5 - r, 0.0, 1.0)[..., None]
    img = np.array([220.0, 180, 160]) * (1 - t) + np.array([110.0, 60, 40]) * t
    img = img + rng.normal(0.0, 12.0, size=(height, width, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def blocks(grid: int = 4, size: int = 64, seed: int = 0) -> np.ndarray:
    """A ``grid × grid`` mosaic of random flat colours (SLIC over-segments it for small n)."""
    colours = np.random.default_rng(seed).integers(0, 256, size=(grid, grid, 3))
    cell = size // grid
    return np.repeat(np.repeat(colours, cell, axis=0), cell, axis=1).astype(np.uint8)


def _real_isic_images(count: int = 2) -> list[np.ndarray]:
    try:
        folder = locate("isic2017")
    except (DataUnavailableError, DataConfigError):
        return []
    from skimage.io import imread

    files = sorted(Path(folder, "ISIC-2017_Training_Data").glob("*.jpg"))[:count]
    return [np.asarray(imread(f))[..., :3] for f in files]


REAL = _real_isic_images()
needs_real = pytest.mark.skipif(not REAL, reason="ISIC 2017 not found (set MEDGRAPH_DATA)")


def assert_exact(labels: np.ndarray, n: int) -> None:
    """Labels are int64, exactly 0 … n − 1, all non-empty, numbered in raster order."""
    assert labels.dtype == np.int64
    counts = np.bincount(labels.ravel(), minlength=n)
    assert counts.size == n and counts.min() > 0
    _, first = np.unique(labels.ravel(), return_index=True)
    assert np.all(np.diff(first) > 0), "labels are not in raster order of their first pixel"


def assert_nested(fine: np.ndarray, coarse: np.ndarray) -> None:
    """Every fine superpixel's pixels carry a single coarse label."""
    n_fine = int(fine.max()) + 1
    n_coarse_per_fine = np.zeros(n_fine, dtype=int)
    pairs = np.unique(np.stack([fine.ravel(), coarse.ravel()], axis=1), axis=0)
    np.add.at(n_coarse_per_fine, pairs[:, 0], 1)
    assert np.all(n_coarse_per_fine == 1)


# -- exact superpixels --------------------------------------------------------------------------


def test_exact_counts_on_synthetic_images_cover_merge_and_split() -> None:
    seen_more, seen_fewer = False, False
    for image in (lesion(seed=0), lesion(seed=1), blocks(4), blocks(6)):
        for n in (3, 8, 13, 20, 30):
            k = int(slic(image, n).max()) + 1
            seen_more |= k > n
            seen_fewer |= k < n
            assert_exact(exact_superpixels(image, n), n)
    assert seen_more and seen_fewer  # both the merging and the splitting paths ran


def test_merging_only_coarsens_slic() -> None:
    image = blocks(4)
    raw = slic(image, 8)
    assert raw.max() + 1 > 8  # SLIC over-shoots here, so superpixels are merged
    labels = exact_superpixels(image, 8)
    assert_exact(labels, 8)
    assert_nested(raw, labels)  # each SLIC superpixel lies in one final superpixel


def test_splitting_only_refines_slic() -> None:
    image = blocks(4)
    raw = slic(image, 30)
    assert raw.max() + 1 < 30  # SLIC under-shoots here, so superpixels are split
    labels = exact_superpixels(image, 30)
    assert_exact(labels, 30)
    assert_nested(labels, raw)


@pytest.mark.parametrize("shape", [(16, 32), (32, 16)])
def test_split_of_a_rectangle_is_across_its_long_axis(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    assert slic(image, 2).max() == 0  # one SLIC superpixel (noise): the split path makes two
    labels = exact_superpixels(image, 2)
    expected = np.zeros(shape, dtype=np.int64)
    if shape[1] > shape[0]:
        expected[:, shape[1] // 2 :] = 1  # cut through the centroid, across the long axis
    else:
        expected[shape[0] // 2 :, :] = 1
    np.testing.assert_array_equal(labels, expected)


def test_exact_superpixels_is_deterministic_and_validates() -> None:
    image = lesion(seed=2)
    np.testing.assert_array_equal(exact_superpixels(image, 17), exact_superpixels(image, 17))
    assert_exact(exact_superpixels(image, 1), 1)
    with pytest.raises(ValueError):
        exact_superpixels(image, 0)
    with pytest.raises(ValueError):
        exact_superpixels(image[:4, :4], 17)  # more superpixels than pixels


def test_ensemble_levels_are_independent_exact_maps() -> None:
    image = lesion(seed=3)
    levels = ensemble_levels(image, counts=(5, 10, 15))
    for labels, n in zip(levels, (5, 10, 15), strict=True):
        assert_exact(labels, n)
        np.testing.assert_array_equal(labels, exact_superpixels(image, n))


@needs_real
def test_real_isic_levels_are_exact_and_nest() -> None:
    for image in REAL:
        assert image.shape == (256, 256, 3)
        seg = ensemble_levels(image)
        for labels, n in zip(seg, (20, 40, 60, 80, 100), strict=True):
            assert_exact(labels, n)
        shg = hierarchy_levels(image)
        for labels, n in zip(shg, (80, 40, 20, 10), strict=True):
            assert_exact(labels, n)
        for fine, coarse in zip(shg[:-1], shg[1:], strict=True):
            assert_nested(fine, coarse)


# -- superpixel hierarchy -----------------------------------------------------------------------


def test_hierarchy_halves_exactly_and_nests() -> None:
    image = lesion(seed=4)
    levels = hierarchy_levels(image, finest=40, n_levels=4)
    assert [int(lv.max()) + 1 for lv in levels] == [40, 20, 10, 5]
    np.testing.assert_array_equal(levels[0], exact_superpixels(image, 40))
    for labels, n in zip(levels, (40, 20, 10, 5), strict=True):
        assert_exact(labels, n)
    for fine, coarse in zip(levels[:-1], levels[1:], strict=True):
        assert_nested(fine, coarse)
        p = parents(fine, coarse)
        assert p.shape == (int(fine.max()) + 1,)
        np.testing.assert_array_equal(p[fine], coarse)
    odd = hierarchy_levels(image, finest=25, n_levels=3)
    assert [int(lv.max()) + 1 for lv in odd] == [25, 13, 7]  # odd counts round up


def test_parents_rejects_maps_that_do_not_nest() -> None:
    fine = np.array([[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="nest"):
        parents(fine, np.array([[0, 1, 1, 1]]))
    np.testing.assert_array_equal(parents(fine, np.array([[0, 0, 0, 0]])), [0, 0])


def test_greedy_pairing_merges_the_closest_pair_by_ciede2000() -> None:
    # quadrants TL, TR, BL, BR; adjacent pairs TL–TR, TL–BL, TR–BR, BL–BR. By CIEDE2000 the
    # closest pair is TL–BL (ΔE00 18.4; next 48.9), by Euclidean CIELAB it is TL–TR (64 vs 87),
    # so a ΔE76 implementation would pair the quadrants horizontally instead.
    colours = np.array([[5, 46, 93], [120, 208, 253], [9, 4, 212], [94, 232, 85]], dtype=np.uint8)
    quadrant = np.array([[0, 1], [2, 3]])
    labels = np.repeat(np.repeat(quadrant, 8, axis=0), 8, axis=1)
    image = colours[labels]
    coarse = coarsen(image, labels)
    assert_exact(coarse, 2)
    np.testing.assert_array_equal(parents(labels, coarse), [0, 1, 0, 1])


def test_pairing_fallback_reaches_the_exact_count() -> None:
    # four vertical bands (greys 90, 120, 125, 250): the greedy pass pairs bands 1–2 (ΔE00 2.0)
    # and leaves 0 and 3 with no unmatched neighbour; the fallback merges band 0 into {1, 2}
    # (ΔE00 12.4 to the merged mean, against 34.3 for band 3).
    greys = np.array([90, 120, 125, 250], dtype=np.uint8)
    labels = np.repeat(np.arange(4)[None, :], 6, axis=0).repeat(5, axis=1)
    image = np.repeat(greys[labels][..., None], 3, axis=2)
    coarse = coarsen(image, labels)
    assert_exact(coarse, 2)
    np.testing.assert_array_equal(parents(labels, coarse), [0, 0, 0, 1])
    assert_exact(coarsen(image[:, :15], labels[:, :15]), 2)  # odd: 3 → 2


# -- node signals -------------------------------------------------------------------------------


def test_node_signals_by_hand() -> None:
    labels = np.ones((4, 4), dtype=np.int64)
    labels[:, 0] = 0  # region 0: the first column (4 px); region 1: a 4 × 3 block (12 px)
    image = np.full((4, 4, 3), 255, dtype=np.uint8)
    image[:, 0] = (255, 0, 0)
    signals = node_signals(image, labels, 2)
    assert set(signals) == set(SIGNAL_KINDS)
    for kind in SIGNAL_KINDS:
        assert signals[kind].shape == (2, len(SIGNAL_COLUMNS[kind]))
        assert signals[kind].dtype == np.float64 and np.isfinite(signals[kind]).all()

    lab = rgb2lab(np.array([[[255, 0, 0], [255, 255, 255]]], dtype=np.uint8))[0]
    np.testing.assert_allclose(signals["colour"][:, :3], lab, atol=1e-9)
    np.testing.assert_allclose(signals["colour"][:, 3:], 0.0, atol=1e-9)

    geo = signals["geometric"]
    np.testing.assert_allclose(geo[:, 0], [0.25, 0.75])  # area fraction
    np.testing.assert_allclose(geo[:, 1], [0.5, 0.5])  # centroid row (pixel centres)
    np.testing.assert_allclose(geo[:, 2], [0.125, 0.625])  # centroid column
    # boundary pixels / √area: all 4 of region 0; 10 of 12 in region 1 (2 interior pixels)
    np.testing.assert_allclose(geo[:, 3], [4 / 2, 10 / np.sqrt(12)])
    np.testing.assert_allclose(geo[:, 4], [np.sqrt(15) / 4, np.sqrt(7) / 4])  # eccentricity
    np.testing.assert_allclose(geo[:, 5], [4.0, 4 / 3])  # elongation = side ratio
    np.testing.assert_allclose(geo[:, 6], [1.0, 1.0])  # extent

    tex = signals["texture"]
    np.testing.assert_allclose(tex[:, 3:].sum(axis=1), 1.0)  # LBP fractions
    assert np.all(tex[:, :3] >= 0) and tex[0, 0] > 0  # the red column touches an edge

    np.testing.assert_array_equal(graph_signal(signals, "colour"), signals["colour"][:, 0])
    np.testing.assert_array_equal(graph_signal(signals, "geometric"), [0.25, 0.75])
    np.testing.assert_array_equal(graph_signal(signals, "texture"), tex[:, 0])
    with pytest.raises(ValueError):
        graph_signal(signals, "shape")


def test_node_signals_extent_and_flat_texture() -> None:
    labels = np.array([[0, 1, 1], [0, 1, 1], [0, 0, 0]])  # an L-shape of 5 px and a 2 × 2 block
    image = np.full((3, 3, 3), 90, dtype=np.uint8)
    signals = node_signals(image, labels, 2)
    np.testing.assert_allclose(signals["geometric"][:, 6], [5 / 9, 1.0])
    np.testing.assert_allclose(signals["texture"][:, :3], 0.0, atol=1e-9)  # a flat image
    np.testing.assert_allclose(signals["texture"][:, 3 + 8], 1.0)  # LBP: all neighbours equal


def test_node_signals_validate_the_label_map() -> None:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="empty"):
        node_signals(image, np.zeros((4, 4), dtype=int), 2)
    with pytest.raises(ValueError, match="shape"):
        node_signals(image, np.zeros((3, 4), dtype=int), 1)
    with pytest.raises(ValueError):
        node_signals(image, np.full((4, 4), 2), 2)


# -- convenience --------------------------------------------------------------------------------


def test_image_levels_seg_and_shg() -> None:
    image = lesion(seed=5)
    seg = image_levels(image, "seg", counts=(6, 12))
    shg = image_levels(image, "shg", counts=(24, 12, 6))
    assert [lv.n for lv in seg] == [6, 12] and [lv.n for lv in shg] == [24, 12, 6]
    for level in seg + shg:
        assert isinstance(level, LevelMap)
        assert_exact(level.labels, level.n)
        for kind in SIGNAL_KINDS:
            assert level.signals[kind].shape == (level.n, len(SIGNAL_COLUMNS[kind]))
            assert np.isfinite(level.signals[kind]).all()
            assert level.graph_signals[kind].shape == (level.n,)
        expected = node_signals(image, level.labels, level.n)
        for kind in SIGNAL_KINDS:
            np.testing.assert_allclose(level.signals[kind], expected[kind])
    np.testing.assert_array_equal(seg[1].labels, exact_superpixels(image, 12))
    for fine, coarse in zip(shg[:-1], shg[1:], strict=True):
        assert_nested(fine.labels, coarse.labels)
    with pytest.raises(dataclasses.FrozenInstanceError):
        seg[0].n = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="halve"):
        image_levels(image, "shg", counts=(24, 10))
    with pytest.raises(ValueError):
        image_levels(image, "graph")  # type: ignore[arg-type]
