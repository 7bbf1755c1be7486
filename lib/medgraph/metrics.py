"""Evaluation measures on label images.

All functions take integer class maps (numpy arrays or anything ``np.asarray`` accepts) and are
vectorised through one confusion matrix (``np.bincount`` on ``target · C + pred``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["confusion_matrix", "iou_per_class", "dice_per_class", "mean_over_present"]


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
