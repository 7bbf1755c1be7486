"""Evaluation measures on label images.

All functions take integer class maps (numpy arrays or anything ``np.asarray`` accepts) and are
vectorised through one confusion matrix (``np.bincount`` on ``target · C + pred``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "confusion_matrix",
    "iou_per_class",
    "dice_per_class",
    "mean_over_present",
    "surface_distances",
    "hausdorff",
    "segmentation_scores",
]


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixel confusion matrix.

    Parameters
    ----------
    pred, target : (...) integer class maps of the same shape, values in ``0 … num_classes − 1``
    num_classes : int

    Returns
    -------
    (num_classes, num_classes) int64 array, ``M[t, p]`` = number of pixels of true class t
    predicted as p.
    """
    p = np.asarray(pred).astype(np.int64, copy=False).ravel()
    t = np.asarray(target).astype(np.int64, copy=False).ravel()
    if p.shape != t.shape:
        raise ValueError(f"pred has {p.size} pixels but target has {t.size}")
    for name, arr in (("pred", p), ("target", t)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def iou_per_class(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """Intersection over union of every class, ``|P_c ∩ T_c| / |P_c ∪ T_c|``.

    Returns
    -------
    (num_classes,) float array; NaN for a class absent from both maps.
    """
    m = confusion_matrix(pred, target, num_classes).astype(np.float64)
    inter = np.diag(m)
    union = m.sum(0) + m.sum(1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, np.nan)


def dice_per_class(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """Dice coefficient of every class (Eq 3.1), ``2|P_c ∩ T_c| / (|P_c| + |T_c|)``.

    Returns
    -------
    (num_classes,) float array; NaN for a class absent from both maps.
    """
    m = confusion_matrix(pred, target, num_classes).astype(np.float64)
    inter = np.diag(m)
    total = m.sum(0) + m.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * inter / total, np.nan)


def mean_over_present(values: np.ndarray) -> float:
    """Mean of the finite entries (classes absent from both maps are skipped); NaN if none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _surface(region: np.ndarray) -> np.ndarray:
    """Pixels of ``region`` with a 4-neighbour outside it (image border counts as outside)."""
    padded = np.pad(region, 1, constant_values=False)
    eroded = ndimage.binary_erosion(padded, structure=ndimage.generate_binary_structure(2, 1))
    return (padded & ~eroded)[1:-1, 1:-1]


def surface_distances(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances (pixels, Euclidean) from the surface of ``a`` to that of ``b`` and back.

    Parameters
    ----------
    a, b : (H, W) boolean masks, both non-empty

    Returns
    -------
    d_ab : distances of every surface pixel of ``a`` to the nearest surface pixel of ``b``
    d_ba : the same from ``b`` to ``a``
    """
    sa, sb = _surface(np.asarray(a, bool)), _surface(np.asarray(b, bool))
    if not sa.any() or not sb.any():
        raise ValueError("surface distances need two non-empty masks")
    to_b = ndimage.distance_transform_edt(~sb)
    to_a = ndimage.distance_transform_edt(~sa)
    return to_b[sa], to_a[sb]


def hausdorff(a: np.ndarray, b: np.ndarray, percentile: float = 100.0) -> float:
    """Symmetric Hausdorff distance between the surfaces of two masks, in pixels.

    ``max(P_q(d_ab), P_q(d_ba))`` with ``P_q`` the q-th percentile of the directed surface
    distances; q = 100 is the Hausdorff distance, q = 95 the HD95 (the convention of MONAI's
    ``compute_hausdorff_distance``).

    Returns
    -------
    float; 0 when both masks are empty, NaN when exactly one is.
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return float("nan")
    d_ab, d_ba = surface_distances(a, b)
    return float(max(np.percentile(d_ab, percentile), np.percentile(d_ba, percentile)))


def segmentation_scores(
    pred: np.ndarray, target: np.ndarray, num_classes: int
) -> dict[str, np.ndarray]:
    """Per-class scores of one predicted label image, each class scored one-vs-rest.

    Parameters
    ----------
    pred, target : (H, W) integer class maps
    num_classes : int

    Returns
    -------
    dict of (num_classes,) float arrays: ``dice``, ``iou``, ``ppv`` (precision, TP/(TP+FP)),
    ``sensitivity`` (recall, TP/(TP+FN)), ``accuracy`` ((TP+TN)/N of the binary class-vs-rest
    problem), ``hausdorff`` and ``hd95`` (pixels). Ratios with an empty denominator are NaN.
    """
    m = confusion_matrix(pred, target, num_classes).astype(np.float64)
    n = m.sum()
    tp = np.diag(m)
    fp = m.sum(0) - tp
    fn = m.sum(1) - tp
    tn = n - tp - fp - fn
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = {
            "dice": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
            "iou": np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan),
            "ppv": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            "sensitivity": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
            "accuracy": (tp + tn) / n if n else np.full(num_classes, np.nan),
        }
    p, t = np.asarray(pred), np.asarray(target)
    scores["hausdorff"] = np.array([hausdorff(p == c, t == c) for c in range(num_classes)])
    scores["hd95"] = np.array([hausdorff(p == c, t == c, 95.0) for c in range(num_classes)])
    return scores
