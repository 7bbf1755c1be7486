"""The superpixel scale study (SMGNN paper §2, §4.2, Fig 6): quality versus number of superpixels.

For every image, method and mean scale S (pixels per superpixel, ``K = HW / S``) the study records
the achieved K, reconstruction IoU (Eq 2.2), boundary recall, under-segmentation error, compression
ratio (§2.1) and the wall time of the over-segmentation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from medgraph.superpixels.algorithms import compute_superpixels
from medgraph.superpixels.quality import (
    boundary_recall,
    compression_ratio,
    reconstruction_iou,
    undersegmentation_error,
)

__all__ = ["evaluate_superpixels", "scale_study", "summarize_study", "METRICS"]

#: the columns of :func:`scale_study` that :func:`summarize_study` averages
METRICS = (
    "n_superpixels",
    "iou_r",
    "boundary_recall",
    "undersegmentation_error",
    "compression_ratio",
    "seconds",
)


def evaluate_superpixels(
    image: np.ndarray,
    mask: np.ndarray,
    method: str,
    scale: float,
    num_classes: int = 3,
    tolerance: int = 2,
    **kwargs: Any,
) -> tuple[dict[str, float], np.ndarray]:
    """Over-segment one image at mean scale ``scale`` and measure the result.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB image
    mask : (H, W) integer class map (0 background, 1 cytoplasm, 2 nucleus for WBC)
    method : ``"snic"`` or ``"slic"``
    scale : mean superpixel area S in pixels
    num_classes : number of classes of ``mask``
    tolerance : boundary-recall tolerance in pixels
    **kwargs : passed to the superpixel algorithm (for example ``compactness``)

    Returns
    -------
    row : dict with ``method, scale, n_target, n_superpixels, iou_r, boundary_recall,
        undersegmentation_error, compression_ratio, seconds``
    labels : (H, W) int label map
    """
    h, w = mask.shape
    start = time.perf_counter()
    labels = compute_superpixels(image, method, scale=scale, **kwargs)
    seconds = time.perf_counter() - start
    k = int(labels.max()) + 1
    row = {
        "method": method,
        "scale": float(scale),
        "n_target": round(h * w / scale),
        "n_superpixels": k,
        "iou_r": reconstruction_iou(mask, labels, num_classes),
        "boundary_recall": boundary_recall(labels, mask, tolerance),
        "undersegmentation_error": undersegmentation_error(labels, mask),
        "compression_ratio": compression_ratio(k, h * w),
        "seconds": seconds,
    }
    return row, labels


def scale_study(
    images: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    methods: Sequence[str],
    scales: Sequence[float],
    ids: Sequence[str] | None = None,
    method_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    num_classes: int = 3,
    progress: bool = True,
) -> pd.DataFrame:
    """Run :func:`evaluate_superpixels` over images × methods × scales.

    Each method is called once on the first image before timing starts, so that a JIT compile
    (SNIC) is not charged to the first measurement.

    Returns
    -------
    DataFrame with one row per (image, method, scale) and the columns of
    :func:`evaluate_superpixels` plus ``image``.
    """
    if len(images) != len(masks):
        raise ValueError(f"{len(images)} images but {len(masks)} masks")
    if not len(images):
        raise ValueError("the scale study needs at least one image")
    method_kwargs = method_kwargs or {}
    ids = list(ids) if ids is not None else [str(i) for i in range(len(images))]
    for method in methods:  # warm-up, untimed
        compute_superpixels(images[0], method, scale=max(scales), **method_kwargs.get(method, {}))
    rows = []
    jobs = [(i, m, s) for i in range(len(images)) for m in methods for s in scales]
    iterator = jobs
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(jobs, desc="superpixels", unit="seg", leave=False)
    for i, method, scale in iterator:
        row, _ = evaluate_superpixels(
            images[i], masks[i], method, scale, num_classes, **method_kwargs.get(method, {})
        )
        row["image"] = ids[i]
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_study(frame: pd.DataFrame, by: Sequence[str] = ("method", "scale")) -> pd.DataFrame:
    """Mean and standard deviation over images of every metric, per method and scale.

    Returns
    -------
    DataFrame with columns ``by + [<metric>_mean, <metric>_std …, n_images]``.
    """
    grouped = frame.groupby(list(by), sort=True)
    stats = grouped[list(METRICS)].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats["n_images"] = grouped.size()
    return stats.reset_index()
