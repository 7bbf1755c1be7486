"""``medgraph.metrics`` against reference implementations (MONAI; medpy where installed).

The convention checked here (stated in :func:`medgraph.metrics.hausdorff`): the surface of a mask
is its pixels with a 4-neighbour outside it, distances are Euclidean in pixels, and HD95 is the
larger of the two directed 95th percentiles, as MONAI's ``compute_hausdorff_distance`` computes
it. medpy's ``hd95`` pools the distances of both directions before taking the percentile, which
is never larger and can be much smaller.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import ndimage

from medgraph.metrics import dice_per_class, hausdorff, segmentation_scores, surface_distances

monai_metrics = pytest.importorskip("monai.metrics")
torch = pytest.importorskip("torch")

NUM_CLASSES = 3
SHAPES = [(32, 32), (48, 64), (65, 40)]


def blob_label_map(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A cell-like three-class map: smoothed noise thresholded into cytoplasm (1) and nucleus (2).

    Irregular, possibly several components per class, touching the image border at times.
    """
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=min(shape) / 8)
    field = (field - field.mean()) / field.std()
    out = np.zeros(shape, dtype=np.int64)
    out[field > 0.0] = 1
    out[field > 1.0] = 2
    return out


def perturb(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible prediction: the map shifted by a pixel or two, with a few spurious islands."""
    shift = tuple(int(s) for s in rng.integers(-2, 3, size=2))
    pred = np.roll(labels, shift, axis=(0, 1))
    for _ in range(3):
        r, c = (int(rng.integers(0, n - 3)) for n in labels.shape)
        pred[r : r + 3, c : c + 3] = int(rng.integers(0, NUM_CLASSES))
    return pred


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES):
    """(H, W) class map → (1, C, H, W) float tensor, MONAI's input layout."""
    eye = torch.eye(num_classes)
    return eye[torch.as_tensor(labels)].permute(2, 0, 1)[None]


def monai_hd(pred: np.ndarray, target: np.ndarray, percentile: float | None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MONAI warns about empty classes and a deprecation
        out = monai_metrics.compute_hausdorff_distance(
            one_hot(pred),
            one_hot(target),
            include_background=True,
            distance_metric="euclidean",
            percentile=percentile,
            directed=False,
            spacing=None,
        )
    return out[0].numpy().astype(np.float64)


def cases():
    rng = np.random.default_rng(20240534)
    for shape in SHAPES:
        for _ in range(3):
            target = blob_label_map(shape, rng)
            yield target, perturb(target, rng)


CASES = list(cases())


@pytest.mark.parametrize("index", range(len(CASES)))
def test_hausdorff_and_hd95_match_monai(index):
    target, pred = CASES[index]
    ours = segmentation_scores(pred, target, NUM_CLASSES)
    present = [c for c in range(NUM_CLASSES) if (pred == c).any() and (target == c).any()]
    assert present, "the generator should give at least one class present in both maps"
    # MONAI computes in float32: agree to a few parts in a million of a pixel
    np.testing.assert_allclose(
        ours["hausdorff"][present], monai_hd(pred, target, None)[present], rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(
        ours["hd95"][present], monai_hd(pred, target, 95.0)[present], rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize("index", range(len(CASES)))
def test_dice_matches_monai(index):
    target, pred = CASES[index]
    reference = monai_metrics.compute_dice(
        one_hot(pred), one_hot(target), include_background=True, ignore_empty=True
    )[0].numpy()
    ours = dice_per_class(pred, target, NUM_CLASSES)
    # MONAI's ignore_empty=True gives NaN for an empty ground truth; ours scores a prediction
    # against an empty ground truth as 0 (NaN only when both are empty): compare where T is not
    # empty
    scored = [c for c in range(NUM_CLASSES) if (target == c).any()]
    np.testing.assert_allclose(ours[scored], reference[scored], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        segmentation_scores(pred, target, NUM_CLASSES)["dice"][scored], reference[scored], atol=1e-6
    )


def test_empty_mask_conventions_documented():
    """Where the conventions differ from MONAI's, on purpose.

    - both masks empty: ours 0 (nothing to be wrong about), MONAI NaN;
    - exactly one empty: ours NaN (skipped in the means), MONAI inf (HD) or NaN (HD95).
    Dice: both empty NaN in ours (skipped), 1 in MONAI with ``ignore_empty=False``; a non-empty
    prediction against an empty ground truth 0 in both (with ``ignore_empty=False``).
    """
    empty = np.zeros((16, 16), dtype=bool)
    square = empty.copy()
    square[4:10, 4:10] = True
    assert hausdorff(empty, empty) == 0.0
    assert hausdorff(empty, empty, 95.0) == 0.0
    assert np.isnan(hausdorff(square, empty)) and np.isnan(hausdorff(empty, square, 95.0))

    def monai_binary(a, b, percentile):
        return monai_hd(a.astype(np.int64), b.astype(np.int64), percentile)[1]

    assert np.isnan(monai_binary(empty, empty, None))
    assert np.isinf(monai_binary(square, empty, None))
    assert np.isnan(monai_binary(square, empty, 95.0))

    def monai_dice(a, b):
        return monai_metrics.compute_dice(
            one_hot(a.astype(np.int64), 2), one_hot(b.astype(np.int64), 2), ignore_empty=False
        )[0, 1].item()

    assert np.isnan(dice_per_class(empty, empty, 2)[1]) and monai_dice(empty, empty) == 1.0
    assert dice_per_class(square, empty, 2)[1] == 0.0 and monai_dice(square, empty) == 0.0


def island_case() -> tuple[np.ndarray, np.ndarray]:
    """A square, and the same square with a small far island: the two directions disagree.

    Every surface pixel of ``a`` lies on the surface of ``b`` (directed distances all 0); the
    island holds more than 5 % of ``b``'s surface, so ``b``'s directed 95th percentile is the
    island's distance, but less than 5 % of the pooled distances.
    """
    a = np.zeros((64, 64), dtype=bool)
    a[4:34, 4:34] = True
    b = a.copy()
    b[52:55, 52:55] = True
    return a, b


def test_hd95_is_the_larger_directed_percentile_not_the_pooled_one():
    a, b = island_case()
    d_ab, d_ba = surface_distances(a, b)
    assert np.all(d_ab == 0)
    directed = max(np.percentile(d_ab, 95), np.percentile(d_ba, 95))
    pooled = np.percentile(np.concatenate([d_ab, d_ba]), 95)
    assert hausdorff(a, b, 95.0) == pytest.approx(directed)
    assert hausdorff(a, b, 95.0) > pooled + 10  # the island is about 25 px away; pooled ≈ 0
    assert monai_hd(a.astype(np.int64), b.astype(np.int64), 95.0)[1] == pytest.approx(
        hausdorff(a, b, 95.0), rel=1e-5
    )


def test_medpy_hd95_pools_both_directions():
    binary = pytest.importorskip("medpy.metric.binary")
    pairs = [island_case()] + [(t == 2, p == 2) for t, p in CASES[:4] if (p == 2).any()]
    for a, b in pairs:
        d_ab, d_ba = surface_distances(a, b)
        pooled = np.percentile(np.concatenate([d_ab, d_ba]), 95)
        assert binary.hd95(a, b) == pytest.approx(pooled)
        assert binary.hd(a, b) == pytest.approx(hausdorff(a, b))  # the maxima agree
        assert hausdorff(a, b, 95.0) >= pooled - 1e-9  # ours is never below the pooled value
    a, b = island_case()
    assert hausdorff(a, b, 95.0) - binary.hd95(a, b) > 10
