"""Tests of the superpixel algorithms: SNIC (numba) and the SLIC wrapper."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from medgraph.superpixels.algorithms import (
    compute_superpixels,
    grid_seeds,
    grid_shape,
    slic,
    snic,
)

SIZES = [(37, 53), (120, 120), (88, 101)]
KINDS = ["noise", "gradient", "two_region"]


def make_image(kind: str, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A seeded synthetic (H, W, 3) uint8 RGB image."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    if kind == "gradient":
        yy, xx = np.mgrid[0:height, 0:width]
        img = np.stack([xx / max(width - 1, 1), yy / max(height - 1, 1), 0.5 + 0.0 * xx], axis=-1)
        return np.round(255 * img).astype(np.uint8)
    if kind == "two_region":
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[:, (2 * width) // 5 :] = 255
        return img
    raise ValueError(kind)


def count_4_components(labels: np.ndarray) -> int:
    """Number of 4-connected same-label regions of a label map (one graph, all labels at once)."""
    h, w = labels.shape
    idx = np.arange(h * w).reshape(h, w)
    right = labels[:, :-1] == labels[:, 1:]
    down = labels[:-1, :] == labels[1:, :]
    rows = np.concatenate([idx[:, :-1][right], idx[:-1, :][down]])
    cols = np.concatenate([idx[:, 1:][right], idx[1:, :][down]])
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(h * w, h * w))
    n_components, _ = connected_components(graph, directed=False)
    return n_components


def assert_valid_superpixels(labels: np.ndarray, shape: tuple[int, int]) -> int:
    """Every pixel labelled, labels exactly 0..K-1 all used, each label one 4-connected region."""
    assert labels.shape == shape
    assert labels.dtype == np.int32
    assert labels.min() == 0, "labels must start at 0 (and no pixel may be unlabelled)"
    k = int(labels.max()) + 1
    sizes = np.bincount(labels.ravel(), minlength=k)
    assert (sizes > 0).all(), f"unused labels: {np.flatnonzero(sizes == 0)[:10]}"
    n_components = count_4_components(labels)
    assert n_components == k, f"{n_components - k} superpixels are not 4-connected"
    return k


# ----------------------------------------------------------------------------------------------
# the checker itself must be able to fail
# ----------------------------------------------------------------------------------------------


def test_checker_accepts_a_grid_partition():
    labels = (np.arange(6)[:, None] // 3 * 2 + np.arange(8)[None, :] // 4).astype(np.int32)
    assert assert_valid_superpixels(labels, (6, 8)) == 4


@pytest.mark.parametrize(
    "bad",
    [
        np.array([[0, 1, 0], [1, 1, 1]], dtype=np.int32),  # label 0 in two pieces
        np.array([[0, 1], [1, 0]], dtype=np.int32),  # label 0 joined only diagonally
        np.array([[0, 0], [2, 2]], dtype=np.int32),  # label 1 unused
        np.array([[-1, 0], [0, 0]], dtype=np.int32),  # unlabelled pixel
        np.array([[0, 0], [1, 1]], dtype=np.int64),  # wrong dtype
    ],
)
def test_checker_rejects_bad_label_maps(bad):
    with pytest.raises(AssertionError):
        assert_valid_superpixels(bad, bad.shape)


# ----------------------------------------------------------------------------------------------
# grid
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "k", "expected"),
    [
        (300, 300, 5625, (75, 75)),  # c0 = 75, rows = 75: exact
        (120, 120, 100, (10, 10)),
        (100, 200, 50, (5, 10)),  # c0 = round(sqrt(100)) = 10, rows = 5
        (200, 100, 50, (10, 5)),
        # c0 = round(sqrt(40·53/37)) = 8, rows = 5 → 40; 4 × 10 = 40 too, but its cells are
        # 9.25 × 5.3 (aspect 1.75) against 7.4 × 6.6 (1.12)
        (37, 53, 40, (5, 8)),
        # c0 = round(sqrt(7)) = 3: 2×3, 3×2 (err 1) beat 3×3 (err 2); both cells have aspect 1.5,
        # fewer rows wins
        (60, 60, 7, (2, 3)),
        (1, 100, 50, (1, 50)),  # a one-row image: built from the rows side
        (10, 10, 1, (1, 1)),
        (2, 3, 100, (2, 3)),  # K clamped to H·W
    ],
)
def test_grid_shape_hand_computed(height, width, k, expected):
    assert grid_shape(height, width, k) == expected


@pytest.mark.parametrize("args", [(0, 10, 5), (10, 0, 5), (10, 10, 0), (10, 10, -3), (10.0, 10, 5)])
def test_grid_shape_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        grid_shape(*args)


def test_grid_seeds_are_distinct_cell_centres():
    seeds = grid_seeds(37, 53, 40)  # 5 × 8 grid, cells 7.4 × 6.625
    assert seeds.shape == (40, 2)
    assert seeds[0].tolist() == [3, 3]
    assert seeds[-1].tolist() == [33, 49]
    assert len({tuple(s) for s in seeds.tolist()}) == 40
    full = grid_seeds(5, 7, 35)  # one seed per pixel
    assert sorted(map(tuple, full.tolist())) == [(r, c) for r in range(5) for c in range(7)]


# ----------------------------------------------------------------------------------------------
# invariants of both methods
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["snic", "slic"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES)
def test_partition_invariants(method, kind, size):
    img = make_image(kind, *size)
    for scale in (9, 64):
        labels = compute_superpixels(img, method, scale=scale)
        k = assert_valid_superpixels(labels, size)
        if method == "snic":  # SLIC's count is scikit-image's business (it collapses on noise)
            target = round(size[0] * size[1] / scale)
            assert abs(k - target) <= 0.1 * target


@pytest.mark.parametrize("size", SIZES)
def test_snic_8_connectivity_output_is_still_4_connected(size):
    img = make_image("noise", *size)
    labels8 = snic(img, scale=16, connectivity=8)
    assert_valid_superpixels(labels8, size)
    assert not np.array_equal(labels8, snic(img, scale=16, connectivity=4))


@pytest.mark.parametrize("shape", [(120, 120), (300, 300)])
def test_snic_number_of_superpixels(shape):
    img = make_image("gradient", *shape)
    n = shape[0] * shape[1]
    for scale in (4, 8, 16, 32, 64, 128, 256):
        target = round(n / scale)
        labels = snic(img, scale=scale)
        k = assert_valid_superpixels(labels, shape)
        rows, cols = grid_shape(*shape, target)
        assert k == rows * cols
        assert abs(k - target) <= 0.1 * target, (scale, k, target)


def test_snic_scale_and_n_segments_agree():
    img = make_image("noise", 88, 101)
    np.testing.assert_array_equal(snic(img, scale=25), snic(img, n_segments=round(88 * 101 / 25)))


def test_snic_labels_grow_from_their_seeds():
    img = make_image("noise", 88, 101)
    labels = snic(img, n_segments=60)
    seeds = grid_seeds(88, 101, 60)
    np.testing.assert_array_equal(labels[seeds[:, 0], seeds[:, 1]], np.arange(len(seeds)))


@pytest.mark.parametrize("method", ["snic", "slic"])
def test_deterministic(method):
    img = make_image("noise", 88, 101, seed=3)
    a = compute_superpixels(img, method, n_segments=150)
    b = compute_superpixels(img.copy(), method, n_segments=150)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["snic", "slic"])
def test_uint8_float_and_greyscale_inputs(method):
    img = make_image("noise", 37, 53, seed=5)
    ref = compute_superpixels(img, method, scale=16)
    np.testing.assert_array_equal(compute_superpixels(img / 255.0, method, scale=16), ref)
    grey = img[:, :, 0]
    grey_ref = compute_superpixels(np.repeat(grey[:, :, None], 3, axis=2), method, scale=16)
    np.testing.assert_array_equal(compute_superpixels(grey, method, scale=16), grey_ref)
    np.testing.assert_array_equal(compute_superpixels(grey[:, :, None], method, scale=16), grey_ref)


def test_snic_extreme_numbers_of_superpixels():
    img = make_image("noise", 5, 7)
    np.testing.assert_array_equal(snic(img, n_segments=1), np.zeros((5, 7), dtype=np.int32))
    every = snic(img, n_segments=10_000)  # clamped to one superpixel per pixel
    np.testing.assert_array_equal(np.sort(every.ravel()), np.arange(35))
    assert_valid_superpixels(every, (5, 7))


# ----------------------------------------------------------------------------------------------
# what SNIC computes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize(("height", "width", "edge"), [(120, 120, 53), (88, 101, 45)])
def test_snic_respects_a_strong_edge(connectivity, height, width, edge):
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[:, edge:] = 255
    k_target = 100
    rows, cols = grid_shape(height, width, k_target)
    cell = width / cols
    assert abs(edge / cell - round(edge / cell)) > 0.2, "the edge must not lie on a grid line"
    labels = snic(img, n_segments=k_target, connectivity=connectivity)
    k = assert_valid_superpixels(labels, (height, width))
    white = np.bincount(labels.ravel(), weights=(img[:, :, 0] > 0).ravel(), minlength=k)
    total = np.bincount(labels.ravel(), minlength=k)
    assert np.all((white == 0) | (white == total)), "a superpixel straddles the edge"


def test_snic_compactness_trades_regularity_for_colour():
    from scipy import ndimage

    rng = np.random.default_rng(7)
    blobs = ndimage.gaussian_filter(rng.random((120, 120, 3)), sigma=(4, 4, 0))
    blobs = (blobs - blobs.min()) / (blobs.max() - blobs.min())

    def boundary_length(lab):
        return int((lab[:, 1:] != lab[:, :-1]).sum() + (lab[1:, :] != lab[:-1, :]).sum())

    lengths = [boundary_length(snic(blobs, scale=36, compactness=m)) for m in (1.0, 10.0, 100.0)]
    assert lengths[0] > lengths[1] > lengths[2]
    assert lengths[2] < 0.8 * lengths[0]


def reference_snic(lab: np.ndarray, seeds: np.ndarray, compactness: float) -> np.ndarray:
    """Plain-Python SNIC (heapq, running means) — the definition the numba kernel must follow."""
    h, w, _ = lab.shape
    k = len(seeds)
    spatial, colour = k / (h * w), 1.0 / compactness**2
    labels = -np.ones((h, w), dtype=np.int64)
    mean = np.zeros((k, 5))
    count = np.zeros(k, dtype=np.int64)
    heap = [(0.0, j, int(r), int(c)) for j, (r, c) in enumerate(seeds)]
    heapq.heapify(heap)
    while heap:
        _, j, r, c = heapq.heappop(heap)
        if labels[r, c] >= 0:
            continue
        labels[r, c] = j
        count[j] += 1
        mean[j] += (np.array([r, c, *lab[r, c]]) - mean[j]) / count[j]
        for rr, cc in ((r, c - 1), (r - 1, c), (r, c + 1), (r + 1, c)):
            if 0 <= rr < h and 0 <= cc < w and labels[rr, cc] < 0:
                dpos = (rr - mean[j, 0]) ** 2 + (cc - mean[j, 1]) ** 2
                dcol = float(((lab[rr, cc] - mean[j, 2:]) ** 2).sum())
                heapq.heappush(heap, (spatial * dpos + colour * dcol, j, rr, cc))
    return labels


def test_snic_matches_a_plain_python_reference():
    from skimage.color import rgb2lab

    rng = np.random.default_rng(11)
    img = rng.random((23, 31, 3))  # continuous colours: no ties in the queue
    lab = rgb2lab(img)
    seeds = grid_seeds(23, 31, 30)
    ours = snic(img, n_segments=30, compactness=7.0)
    np.testing.assert_array_equal(ours, reference_snic(lab, seeds, 7.0))


def test_snic_matches_pysnic_with_equivalent_compactness():
    """pysnic ranks by ‖Δx‖²/√s + ‖Δc‖²/m_p; ours by ‖Δx‖²/s + ‖Δc‖²/m², same when m_p = m²/√s."""
    pysnic_snic = pytest.importorskip("pysnic.algorithms.snic").snic
    from skimage.color import rgb2lab

    rng = np.random.default_rng(12)
    img = rng.random((26, 34, 3))
    seeds = grid_seeds(26, 34, 40)
    m = 10.0
    s = 26 * 34 / len(seeds)
    seg, _, _ = pysnic_snic(
        rgb2lab(img).tolist(), [[int(c), int(r)] for r, c in seeds], m * m / np.sqrt(s)
    )
    np.testing.assert_array_equal(snic(img, n_segments=40, compactness=m), np.array(seg))


def test_slic_relabels_to_contiguous_range(monkeypatch):
    import skimage.segmentation

    def gappy_slic(image, **kwargs):
        out = np.zeros(image.shape[:2], dtype=np.int64)
        out[:, image.shape[1] // 2 :] = 7
        return out

    monkeypatch.setattr(skimage.segmentation, "slic", gappy_slic)
    labels = slic(make_image("noise", 10, 12), n_segments=4)
    assert labels.dtype == np.int32
    assert set(np.unique(labels).tolist()) == {0, 1}
    assert labels[0, -1] == 1


# ----------------------------------------------------------------------------------------------
# bad inputs
# ----------------------------------------------------------------------------------------------

GOOD = make_image("noise", 20, 24)
NAN_IMAGE = GOOD / 255.0
NAN_IMAGE[3, 4, 1] = np.nan


@pytest.mark.parametrize("method", ["snic", "slic"])
@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (GOOD, {"n_segments": 10, "scale": 16}, "exactly one"),
        (GOOD, {}, "exactly one"),
        (NAN_IMAGE, {"n_segments": 10}, "NaN"),
        (GOOD[None], {"n_segments": 10}, "shape"),
        (np.zeros((0, 5, 3), dtype=np.uint8), {"n_segments": 10}, "empty"),
        (np.zeros((4, 0), dtype=np.uint8), {"n_segments": 10}, "empty"),
        (np.zeros(10, dtype=np.uint8), {"n_segments": 2}, "shape"),
        (np.zeros((6, 6, 4), dtype=np.uint8), {"n_segments": 2}, "shape"),
        (GOOD * 1.0, {"n_segments": 10}, r"\[0, 1\]"),
        (GOOD, {"n_segments": 0}, "n_segments"),
        (GOOD, {"n_segments": 2.5}, "n_segments"),
        (GOOD, {"scale": -4.0}, "scale"),
        (GOOD, {"scale": float("nan")}, "scale"),
        (GOOD, {"n_segments": 10, "compactness": 0.0}, "compactness"),
        (np.array([["a", "b"], ["c", "d"]]), {"n_segments": 2}, "numeric"),
    ],
)
def test_bad_inputs_raise(method, image, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compute_superpixels(image, method, **kwargs)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="connectivity"):
        snic(GOOD, n_segments=10, connectivity=6)
    with pytest.raises(ValueError, match="unknown superpixel method"):
        compute_superpixels(GOOD, "watershed", n_segments=10)
    with pytest.raises(ValueError, match="start_label"):
        slic(GOOD, n_segments=10, start_label=1)


@pytest.mark.parametrize("fused", [True, False])
def test_lab_conversion_equals_scikit_image_bit_for_bit(monkeypatch, fused):
    from skimage.color import rgb2lab

    from medgraph.superpixels import algorithms
    from medgraph.superpixels.algorithms import _to_lab

    if fused and not algorithms._fused_xyz_is_numpys():
        pytest.skip("this machine's BLAS does not round the XYZ product as one FMA chain")
    # the fused product, or numpy's (the path taken where the probe finds them different)
    monkeypatch.setattr(algorithms, "_fused_xyz_is_numpys", lambda: fused)

    # every uint8 value in every channel, in many combinations, plus a random image
    r, g = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    grid = np.stack([r, g, (r * 7 + g * 3) % 256], axis=-1).astype(np.uint8)
    noisy = np.random.default_rng(4).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    for image in (grid, noisy):
        np.testing.assert_array_equal(_to_lab(image), rgb2lab(image).reshape(-1, 3))
    as_float = noisy / 255.0  # other dtypes go through scikit-image itself
    np.testing.assert_array_equal(_to_lab(as_float), rgb2lab(as_float).reshape(-1, 3))


@pytest.mark.parametrize(
    ("connectivity", "digest"),
    [
        (4, "0989b32c2bf7f5110142c0410dbc002b909541db46edc88d20101ccd6838523a"),
        (8, "ee88b54f78a8312c9552de1c0b7ccbdf3d9cbbb2bcad59de32da6bec077d8916"),
    ],
)
def test_snic_kernel_breaks_ties_as_it_always_has(connectivity, digest):
    """Flat colour regions put many equal distances in the queue, and which of them pops first
    depends on the heap's inner workings; the stored SMGNN runs were trained on label maps made
    this way, so the order must never change. The digests were recorded with the kernel of
    2026-11-22 (float64 keys) and are reproduced by today's (int64 bit-pattern keys); a 4-ary
    heap, equally correct on distinct keys, gives another map here. The Lab values are whole
    numbers, so the arithmetic is exact on any machine."""
    import hashlib

    from medgraph.superpixels.algorithms import _snic_kernel

    rng = np.random.default_rng(7)
    h, w = 60, 80
    lab = np.zeros((h, w, 3))
    lab[:] = (80.0, 10.0, -5.0)
    lab[15:45, 20:60] = (50.0, 30.0, -30.0)
    lab[25:35, 30:50] = (30.0, 40.0, -45.0)
    lab[::2, :, 0] += rng.integers(0, 2, (h // 2, w))
    seeds_rc = grid_seeds(h, w, 300)
    seeds = np.ascontiguousarray(seeds_rc[:, 0] * w + seeds_rc[:, 1], dtype=np.int64)
    flat = np.ascontiguousarray(lab.reshape(-1, 3))
    labels = _snic_kernel(flat, h, w, seeds, seeds.size / (h * w), 0.01, connectivity)
    assert hashlib.sha256(labels.astype(np.int32).tobytes()).hexdigest() == digest


def test_fused_multiply_add_rounds_once():
    import numba

    from medgraph.superpixels.algorithms import _fma

    fma = numba.njit(lambda a, b, c: _fma(a, b, c))
    e = 2.0**-30
    # (1 + e)(1 − e) − 1 = −e²: a separate product rounds to 1 first and leaves 0
    assert fma(1.0 + e, 1.0 - e, -1.0) == -(e * e)
    assert (1.0 + e) * (1.0 - e) - 1.0 == 0.0
    assert fma(2.0, 3.0, 4.0) == 10.0


def test_int64_bit_patterns_order_non_negative_doubles_as_floats():
    values = np.array(
        [
            0.0,
            5e-324,
            2.2250738585072014e-308,
            1e-300,
            0.0625,
            0.1,
            1.0,
            1.0 + 2**-52,
            1e300,
            np.inf,
        ]
    )
    bits = values.view(np.int64)
    order = np.argsort(bits, kind="stable")
    assert np.array_equal(order, np.arange(values.size))
    a, b = np.meshgrid(values, values)
    ia, ib = np.meshgrid(bits, bits)
    assert np.array_equal(a < b, ia < ib) and np.array_equal(a <= b, ia <= ib)
