"""Figures shared by the notebooks (matplotlib, no state kept between calls).

The module never chooses matplotlib's backend: in a kernel the inline backend shows every figure,
headless runs get matplotlib's own default (Agg without a display).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from skimage.segmentation import mark_boundaries

__all__ = [
    "label_to_grey",
    "boundary_overlay",
    "plot_scale_curves",
    "reconstruction_panel",
    "draw_superpixel_graph",
]


def label_to_grey(mask: np.ndarray, num_classes: int = 3) -> np.ndarray:
    """Render a class map as the data set's grey levels (0 → black … C−1 → white).

    Returns
    -------
    (H, W) float array in [0, 1].
    """
    return np.asarray(mask, dtype=np.float64) / max(num_classes - 1, 1)


def boundary_overlay(
    image: np.ndarray,
    labels: np.ndarray,
    color: tuple[float, float, float] = (1.0, 0.9, 0.0),
    upscale: int = 1,
) -> np.ndarray:
    """The image with superpixel boundaries drawn in ``color``.

    Parameters
    ----------
    image : (H, W, 3) uint8 or float image
    labels : (H, W) superpixel label map
    upscale : int
        Draw on an ``upscale``-times enlarged copy (nearest neighbour) so that boundaries of small
        superpixels are thin lines instead of covering the superpixels.

    Returns
    -------
    (upscale·H, upscale·W, 3) float array in [0, 1].
    """
    img = np.asarray(image)
    if img.dtype == np.uint8:
        img = img / 255.0
    lab = np.asarray(labels)
    if upscale > 1:
        img = img.repeat(upscale, 0).repeat(upscale, 1)
        lab = lab.repeat(upscale, 0).repeat(upscale, 1)
    return mark_boundaries(img, lab, color=color, mode="inner")


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
    crop_margin: float | None = 0.15,
) -> plt.Figure:
    """The layout of the SMGNN paper's Fig 6 (b)–(f).

    Parameters
    ----------
    image : (H, W, 3) image
    mask : (H, W) ground-truth class map
    segmentations : sequence of ``(title, labels, reconstructed)``: a superpixel label map and its
        reconstructed label image (:func:`medgraph.superpixels.reconstruct_labels`)
    crop_margin : float or None
        Show only the bounding box of the foreground (``mask > 0``) enlarged by this fraction of
        its size on each side, so that small superpixels stay visible; None shows the whole image.

    Returns
    -------
    Figure with the image and ground truth in the first column and, per segmentation, the
    superpixel overlay above its reconstructed label image.
    """
    window = (slice(None), slice(None))
    fg = np.argwhere(np.asarray(mask) > 0)
    if crop_margin is not None and fg.size:
        (r0, c0), (r1, c1) = fg.min(0), fg.max(0) + 1
        dr, dc = int(crop_margin * (r1 - r0)), int(crop_margin * (c1 - c0))
        window = (slice(max(r0 - dr, 0), r1 + dr), slice(max(c0 - dc, 0), c1 + dc))
    image, mask = np.asarray(image)[window], np.asarray(mask)[window]
    segmentations = [
        (t, np.asarray(lab)[window], np.asarray(rec)[window]) for t, lab, rec in segmentations
    ]
    upscale = max(1, int(np.ceil(600 / max(mask.shape))))
    n = len(segmentations)
    fig, axes = plt.subplots(2, n + 1, figsize=(2.6 * (n + 1), 5.4), squeeze=False)
    axes[0, 0].imshow(image)
    axes[0, 0].set_title("image")
    axes[1, 0].imshow(label_to_grey(mask, num_classes), cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("ground truth")
    for col, (title, labels, recon) in enumerate(segmentations, start=1):
        axes[0, col].imshow(boundary_overlay(image, labels, upscale=upscale))
        axes[0, col].set_title(title, fontsize=9)
        axes[1, col].imshow(label_to_grey(recon, num_classes), cmap="gray", vmin=0, vmax=1)
        axes[1, col].set_title("reconstructed labels", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def draw_superpixel_graph(
    ax: plt.Axes,
    image: np.ndarray,
    labels: np.ndarray,
    pos: np.ndarray,
    edge_index: np.ndarray,
    node_size: float = 4.0,
) -> plt.Axes:
    """Draw a superpixel graph over its image: boundaries, nodes at centroids, and edges.

    Parameters
    ----------
    ax : matplotlib axes
    image : (H, W, 3) image
    labels : (H, W) superpixel label map
    pos : (K, 2) node positions (row, col) in pixels
    edge_index : (2, E) int array of directed edges (each undirected edge drawn once)

    Returns
    -------
    The axes.
    """
    from matplotlib.collections import LineCollection

    ax.imshow(boundary_overlay(image, labels, color=(1.0, 1.0, 1.0)))
    src, dst = np.asarray(edge_index)
    keep = src < dst
    xy = np.asarray(pos)[:, ::-1]  # (col, row) = (x, y)
    segments = np.stack([xy[src[keep]], xy[dst[keep]]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#1f77b4", linewidths=0.4, alpha=0.7))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, color="#d62728", zorder=3)
    ax.set_xlim(-0.5, labels.shape[1] - 0.5)
    ax.set_ylim(labels.shape[0] - 0.5, -0.5)
    return ax
