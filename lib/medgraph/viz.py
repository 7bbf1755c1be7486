"""Figures shared by the notebooks (matplotlib, no state kept between calls)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from skimage.segmentation import mark_boundaries  # noqa: E402

__all__ = ["label_to_grey", "boundary_overlay", "plot_scale_curves", "reconstruction_panel"]


def label_to_grey(mask: np.ndarray, num_classes: int = 3) -> np.ndarray:
    """Render a class map as the data set's grey levels (0 → black … C−1 → white).

    Returns
    -------
    (H, W) float array in [0, 1].
    """
    return np.asarray(mask, dtype=np.float64) / max(num_classes - 1, 1)


def boundary_overlay(
    image: np.ndarray, labels: np.ndarray, color: tuple[float, float, float] = (1.0, 0.9, 0.0)
) -> np.ndarray:
    """The image with superpixel boundaries drawn in ``color``.

    Parameters
    ----------
    image : (H, W, 3) uint8 or float image
    labels : (H, W) superpixel label map

    Returns
    -------
    (H, W, 3) float array in [0, 1].
    """
    img = np.asarray(image)
    if img.dtype == np.uint8:
        img = img / 255.0
    return mark_boundaries(img, np.asarray(labels), color=color, mode="inner")


def plot_scale_curves(
    summary: pd.DataFrame,
    metric: str,
    ax: plt.Axes,
    x: str = "scale",
    label_fmt: str = "{method}",
    logx: bool = True,
) -> plt.Axes:
    """Mean ± std of ``metric`` against ``x`` for every method of a :func:`summarize_study` table."""
    for method, part in summary.groupby("method"):
        part = part.sort_values(f"{x}_mean" if f"{x}_mean" in part else x)
        xs = part[f"{x}_mean"] if f"{x}_mean" in part else part[x]
        mean = part[f"{metric}_mean"].to_numpy()
        std = np.nan_to_num(part[f"{metric}_std"].to_numpy())
        (line,) = ax.plot(xs, mean, marker="o", ms=4, label=label_fmt.format(method=method.upper()))
        ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def reconstruction_panel(
    image: np.ndarray,
    mask: np.ndarray,
    segmentations: Sequence[tuple[str, np.ndarray, np.ndarray]],
    num_classes: int = 3,
) -> plt.Figure:
    """The layout of the SMGNN paper's Fig 6 (b)–(f).

    Parameters
    ----------
    image : (H, W, 3) image
    mask : (H, W) ground-truth class map
    segmentations : sequence of ``(title, labels, reconstructed)``: a superpixel label map and its
        reconstructed label image (:func:`medgraph.superpixels.reconstruct_labels`)

    Returns
    -------
    Figure with the image and ground truth in the first column and, per segmentation, the
    superpixel overlay above its reconstructed label image.
    """
    n = len(segmentations)
    fig, axes = plt.subplots(2, n + 1, figsize=(2.6 * (n + 1), 5.4), squeeze=False)
    axes[0, 0].imshow(image)
    axes[0, 0].set_title("image")
    axes[1, 0].imshow(label_to_grey(mask, num_classes), cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("ground truth")
    for col, (title, labels, recon) in enumerate(segmentations, start=1):
        axes[0, col].imshow(boundary_overlay(image, labels))
        axes[0, col].set_title(title, fontsize=9)
        axes[1, col].imshow(label_to_grey(recon, num_classes), cmap="gray", vmin=0, vmax=1)
        axes[1, col].set_title("reconstructed labels", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    return fig
