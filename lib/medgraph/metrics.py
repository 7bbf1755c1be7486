"""Evaluation measures on label images.

All functions take integer class maps (numpy arrays or anything ``np.asarray`` accepts) and are
vectorised through one confusion matrix (``np.bincount`` on ``target · C + pred``). The second
half scores sets of segmentations: every measure per image and class
(:func:`evaluate_segmentation`), their means over classes and images
(:func:`summarize_segmentation`, :func:`mean_dice`), and over training seeds
(:func:`aggregate_over_seeds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from medgraph.data.dataset import LABEL_NAMES

__all__ = [
    "bootstrap_interval",
    "confusion_matrix",
    "iou_per_class",
    "dice_per_class",
    "mean_over_present",
    "surface_distances",
    "hausdorff",
    "segmentation_scores",
    "SEGMENTATION_METRICS",
    "mean_dice",
    "evaluate_segmentation",
    "summarize_segmentation",
    "aggregate_over_seeds",
]

#: the per-class metrics aggregated by :func:`aggregate_over_seeds`
SEGMENTATION_METRICS = ("dice", "iou", "hausdorff", "hd95", "ppv", "accuracy", "sensitivity")


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

    A surface pixel is a mask pixel with a 4-neighbour outside the mask (the image border counts
    as outside).

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

    The surface of a mask is the set of its pixels with a 4-neighbour outside it (the image
    border counts as outside); ``d_ab`` are the Euclidean distances, in pixels (unit spacing), from
    every surface pixel of ``a`` to the nearest surface pixel of ``b``, ``d_ba`` the reverse
    (:func:`surface_distances`). The result is

    ``max(P_q(d_ab), P_q(d_ba))``,

    with ``P_q`` the q-th percentile (linear interpolation, ``np.percentile``): q = 100 is the
    Hausdorff distance, q = 95 the HD95, the larger of the two directed 95th percentiles. This is
    the convention of MONAI's ``compute_hausdorff_distance(..., percentile=95)``, and the tests
    check agreement with it (``tests/test_metrics_reference.py``). medpy's ``hd95`` instead takes
    the 95th percentile of both directions pooled, which is never larger and can be much smaller
    (a small far island of one mask can hold more than 5 % of its surface but less than 5 % of
    the pooled distances); the maxima (q = 100) agree.

    Parameters
    ----------
    a, b : (H, W) boolean masks
    percentile : float in [0, 100], default 100

    Returns
    -------
    float, pixels; 0 when both masks are empty, NaN when exactly one is (MONAI gives NaN and inf
    or NaN there).
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

    Notes
    -----
    ``hausdorff`` and ``hd95`` follow :func:`hausdorff`: surfaces are the class's pixels with a
    4-neighbour outside it, distances Euclidean in pixels, HD95 the larger of the two directed
    95th percentiles (MONAI's convention; medpy's ``hd95`` pools both directions and is never
    larger). A class present in only one of the maps has NaN distances, a class absent from both
    has distance 0 and NaN Dice, IoU, PPV and sensitivity.
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


# --------------------------------------------------------------------------------------------
# scores of a set of segmentations (per image and class, and their means)
# --------------------------------------------------------------------------------------------


def mean_dice(
    preds: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    num_classes: int = 3,
    classes: Sequence[int] | None = None,
) -> float:
    """Dice averaged over classes per image (absent classes skipped), then over images.

    Parameters
    ----------
    preds, masks : lists of (H_n, W_n) integer class maps
    num_classes : int, default 3
    classes : ints, optional
        Which classes enter the per-image mean (default all).

    Returns
    -------
    float (NaN when no image has a scorable class).
    """
    sel = list(range(num_classes)) if classes is None else list(classes)
    per_image = []
    for p, m in zip(preds, masks, strict=True):
        d = dice_per_class(p, m, num_classes)[sel]
        if np.isfinite(d).any():
            per_image.append(np.nanmean(d))
    return float(np.mean(per_image)) if per_image else float("nan")


def evaluate_segmentation(
    preds: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    ids: Sequence[str] | None = None,
    num_classes: int = 3,
    class_names: Sequence[str] = LABEL_NAMES,
) -> pd.DataFrame:
    """Every score of :func:`medgraph.metrics.segmentation_scores`, per image and class.

    Parameters
    ----------
    preds, masks : lists of (H_n, W_n) integer class maps (original, unpadded sizes)
    ids : image ids, optional (default "0", "1", …)
    num_classes : int, default 3
    class_names : names of the classes, default background, cytoplasm, nucleus

    Returns
    -------
    DataFrame with one row per (image, class): ``image``, ``class_index``, ``class_name``,
    ``dice``, ``iou``, ``ppv``, ``sensitivity``, ``accuracy``, ``hausdorff``, ``hd95``
    (distances in pixels; NaN where a score is undefined, e.g. a class absent from both maps).
    """
    if len(preds) != len(masks):
        raise ValueError(f"got {len(preds)} predictions for {len(masks)} masks")
    ids = [str(i) for i in range(len(preds))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(preds):
        raise ValueError(f"got {len(ids)} ids for {len(preds)} predictions")
    names = list(class_names)[:num_classes]
    names += [str(c) for c in range(len(names), num_classes)]
    rows = []
    for ident, p, m in zip(ids, preds, masks, strict=True):
        p, m = np.asarray(p), np.asarray(m)
        if p.shape != m.shape:
            raise ValueError(f"{ident}: prediction {p.shape} does not match mask {m.shape}")
        scores = segmentation_scores(p, m, num_classes)
        frame = pd.DataFrame(scores)
        frame.insert(0, "class_name", names)
        frame.insert(0, "class_index", np.arange(num_classes))
        frame.insert(0, "image", ident)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def summarize_segmentation(
    frame: pd.DataFrame,
    cell_classes: Sequence[int] = (1, 2),
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-metric means: over all classes and over the cell classes.

    For every metric and image, the values of the selected classes are averaged (NaN skipped);
    the per-image means are then averaged over images (images with no finite value skipped).

    Parameters
    ----------
    frame : DataFrame from :func:`evaluate_segmentation`
    cell_classes : class indices of the cell (default cytoplasm 1 and nucleus 2)
    metrics : names of the metric columns (default every column except the identifiers)

    Returns
    -------
    DataFrame indexed by metric with columns ``all_classes`` (mean over all classes),
    ``cell_classes`` (mean over ``cell_classes``), their standard deviations over images
    ``all_classes_std`` and ``cell_classes_std``, ``n_images``, and ``nan_all`` / ``nan_cell``:
    how many (image, class) values were NaN and skipped.
    """
    id_cols = {"image", "class_index", "class_name"}
    cols = [c for c in frame.columns if c not in id_cols] if metrics is None else list(metrics)
    cell = frame["class_index"].isin(list(cell_classes))
    out = {}
    for metric in cols:
        entry: dict[str, float] = {}
        for label, rows in (("all_classes", frame), ("cell_classes", frame[cell])):
            values = rows[metric].astype(float)
            per_image = values.groupby(rows["image"], sort=False).mean()  # skips NaN
            entry[label] = float(per_image.mean())  # images with only NaN are NaN: skipped
            entry[f"{label}_std"] = float(per_image.std(ddof=0))
            entry["nan_all" if label == "all_classes" else "nan_cell"] = int(values.isna().sum())
        entry["n_images"] = int(frame["image"].nunique())
        out[metric] = entry
    result = pd.DataFrame.from_dict(out, orient="index")
    result.index.name = "metric"
    order = ["all_classes", "cell_classes", "all_classes_std", "cell_classes_std", "n_images"]
    return result[order + ["nan_all", "nan_cell"]]


def aggregate_over_seeds(
    scores: pd.DataFrame,
    runs: Mapping[tuple[str, int], Any] | None = None,
    metrics: Sequence[str] = SEGMENTATION_METRICS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model: each seed's image-averaged class means, then mean ± std over seeds.

    For every (model, seed), :func:`medgraph.segmentation.summarize_segmentation` averages each
    metric over the three classes (``3cls``) and over the two cell classes (``cell``) per image,
    then over the test images. Those per-seed values are then averaged over seeds.

    Parameters
    ----------
    scores : DataFrame of :func:`medgraph.segmentation.compare_segmentation_models`
    runs : mapping ``(model, seed) → run``, optional
        Runs with ``history`` and ``provenance`` (:class:`~medgraph.segmentation.SegmentationRun`);
        adds the number of epochs run and the device trained on (``trained_on``, the GPU's name
        or ``"cpu"``) to the per-seed table
    metrics : metric columns to aggregate

    Returns
    -------
    table : one row per model: ``parameters``, ``seconds_per_epoch``, ``n_seeds`` and, per metric,
        ``<metric>_3cls_mean``, ``<metric>_3cls_std``, ``<metric>_cell_mean``, ``<metric>_cell_std``
        (sample std over seeds, ``ddof=1``; NaN for a single seed); models in first-appearance order
    per_seed : one row per (model, seed) with ``<metric>_3cls`` and ``<metric>_cell``
    """
    rows = []
    id_cols = ["image", "class_index", "class_name"]
    for (model, seed), part in scores.groupby(["model", "seed"], sort=False):
        summary = summarize_segmentation(part[id_cols + list(metrics)], metrics=metrics)
        row: dict[str, Any] = {
            "model": model,
            "seed": seed,
            "parameters": int(part["parameters"].iloc[0]),
            "seconds_per_epoch": float(part["seconds_per_epoch"].iloc[0]),
            "test_images": int(summary["n_images"].iloc[0]),
        }
        if runs is not None and (model, seed) in runs:
            run = runs[(model, seed)]
            row["epochs_run"] = len(run.history)
            # where seconds_per_epoch was measured (a cached run may come from another machine)
            row["trained_on"] = run.provenance.get("gpu") or run.provenance.get(
                "device", run.device
            )
        for metric in metrics:
            row[f"{metric}_3cls"] = summary.loc[metric, "all_classes"]
            row[f"{metric}_cell"] = summary.loc[metric, "cell_classes"]
        rows.append(row)
    per_seed = pd.DataFrame(rows)
    table_rows = []
    for model, part in per_seed.groupby("model", sort=False):
        row = {
            "model": model,
            "parameters": int(part["parameters"].iloc[0]),
            "seconds_per_epoch": float(part["seconds_per_epoch"].mean()),
            "n_seeds": len(part),
        }
        for metric in metrics:
            for which in ("3cls", "cell"):
                values = part[f"{metric}_{which}"].astype(float)
                row[f"{metric}_{which}_mean"] = float(values.mean())
                # one seed has no spread to report: NaN (printed as the mean alone)
                row[f"{metric}_{which}_std"] = (
                    float(values.std(ddof=1)) if len(values) > 1 else np.nan
                )
        table_rows.append(row)
    return pd.DataFrame(table_rows), per_seed


def bootstrap_interval(
    values: np.ndarray, n: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over images.

    Parameters
    ----------
    values : (B,) array, one score per image
    n : resamples
    level : coverage
    seed : seeds the resampling (numpy Generator)

    Returns
    -------
    (low, high); NaN for no value.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n, v.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)
