"""Figures shared by the notebooks (matplotlib, no state kept between calls).

The module never chooses matplotlib's backend nor touches ``rcParams``: in a kernel the inline
backend shows every figure, headless runs get matplotlib's own default (Agg without a display).
Functions that make a whole figure return it; functions that draw on given axes return the axes.
Seaborn (the ``notebooks`` extra) is imported only by the functions that use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from skimage.segmentation import mark_boundaries

from medgraph.metrics import dice_per_class, mean_over_present

__all__ = [
    "label_to_grey",
    "boundary_overlay",
    "plot_scale_curves",
    "reconstruction_panel",
    "draw_superpixel_graph",
    "superpixel_graph_figure",
    "segmentation_figure",
    "per_image_dice",
    "plot_interval_bars",
    "plot_scale_ablation",
    "ablation_figure",
    "confusion_grid",
]

#: colour of wrongly labelled pixels in :func:`segmentation_figure`
ERROR_COLOUR = (0.9, 0.1, 0.55)


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
    upscale: int = 1,
    edge_alpha: float = 0.7,
) -> plt.Axes:
    """Draw a superpixel graph over its image: boundaries, nodes at centroids, and edges.

    Parameters
    ----------
    ax : matplotlib axes
    image : (H, W, 3) image
    labels : (H, W) superpixel label map
    pos : (K, 2) node positions (row, col) in pixels
    edge_index : (2, E) int array of directed edges (each undirected edge drawn once)
    node_size : marker area (points²)
    upscale : int
        Draw the boundaries on an ``upscale``-times enlarged image so that they are thin lines
        and the image stays visible between them; coordinates stay in pixels of the original.
    edge_alpha : opacity of the edges

    Returns
    -------
    The axes (x: column, y: row, in pixels, origin at the top left).
    """
    from matplotlib.collections import LineCollection

    labels = np.asarray(labels)
    h, w = labels.shape
    overlay = boundary_overlay(image, labels, color=(1.0, 1.0, 1.0), upscale=upscale)
    ax.imshow(overlay, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    src, dst = np.asarray(edge_index)
    keep = src < dst
    xy = np.asarray(pos, dtype=np.float64)[:, ::-1]  # (col, row) = (x, y)
    segments = np.stack([xy[src[keep]], xy[dst[keep]]], axis=1)
    ax.add_collection(
        LineCollection(segments, colors="#1f77b4", linewidths=0.5, alpha=edge_alpha, zorder=2)
    )
    ax.scatter(
        xy[:, 0], xy[:, 1], s=node_size, color="#d62728", edgecolors="white", lw=0.3, zorder=3
    )
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    return ax


def _foreground_window(mask: np.ndarray, margin: float | None) -> tuple[slice, slice]:
    """Rows and columns of the foreground's (``mask > 0``) bounding box grown by ``margin``."""
    mask = np.asarray(mask)
    fg = np.argwhere(mask > 0)
    if margin is None or not fg.size:
        return slice(0, mask.shape[0]), slice(0, mask.shape[1])
    (r0, c0), (r1, c1) = fg.min(0), fg.max(0) + 1
    dr, dc = int(np.ceil(margin * (r1 - r0))), int(np.ceil(margin * (c1 - c0)))
    return (
        slice(max(r0 - dr, 0), min(r1 + dr, mask.shape[0])),
        slice(max(c0 - dc, 0), min(c1 + dc, mask.shape[1])),
    )


def _outline_cell(ax: plt.Axes, mask: np.ndarray, extent: tuple[float, ...]) -> None:
    """Contours of the cell (``mask > 0``, white) and of the nucleus (``mask == 2``, cyan)."""
    mask = np.asarray(mask)
    for region, colour in ((mask > 0, "white"), (mask == 2, "cyan")):
        if region.any() and not region.all():
            ax.contour(
                region.astype(float),
                levels=[0.5],
                colors=[colour],
                linewidths=1.2,
                extent=extent,
                origin="upper",
            )


def superpixel_graph_figure(
    image: np.ndarray,
    mask: np.ndarray,
    labels: np.ndarray,
    pos: np.ndarray,
    edge_index: np.ndarray,
    num_classes: int = 3,
    crop_margin: float | None = 0.15,
    title: str | None = None,
) -> plt.Figure:
    """The superpixel graph over the cell, beside the ground truth, both cropped to the cell.

    The image stays visible under the graph: superpixel boundaries are thin lines drawn on an
    enlarged copy, edges are translucent, nodes small; the cell's outline (white) and its
    nucleus's (cyan) from the ground truth are drawn on top, so one sees which nodes lie inside
    the cell, on its boundary, or in the background.

    Parameters
    ----------
    image : (H, W, 3) image
    mask : (H, W) ground-truth class map (0 background, 1 cytoplasm, 2 nucleus)
    labels : (H, W) superpixel label map, values 0 … K−1
    pos : (K, 2) node positions (row, col) in pixels of the full image
    edge_index : (2, E) directed edges (both directions of every undirected edge)
    num_classes : number of classes of ``mask``
    crop_margin : float or None
        Show the foreground's bounding box grown by this fraction on each side; None: all.
    title : str, optional
        Title of the graph panel (default: the numbers of nodes and undirected edges).

    Returns
    -------
    Figure with two axes, both in pixel coordinates of the full image.
    """
    rows, cols = _foreground_window(mask, crop_margin)
    image = np.asarray(image)[rows, cols]
    crop_mask = np.asarray(mask)[rows, cols]
    crop_labels = np.asarray(labels)[rows, cols]
    offset = np.array([rows.start, cols.start], dtype=np.float64)
    pos = np.asarray(pos, dtype=np.float64) - offset
    h, w = crop_mask.shape
    upscale = max(1, int(np.ceil(600 / max(h, w))))
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.2))
    draw_superpixel_graph(
        axes[0], image, crop_labels, pos, edge_index, node_size=9, upscale=upscale
    )
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    _outline_cell(axes[0], crop_mask, extent)
    src, dst = np.asarray(edge_index)
    n_edges = int(np.sum(src < dst))
    axes[0].set_title(title or f"{len(pos)} nodes, {n_edges} edges (cell outlined)")
    axes[1].imshow(
        label_to_grey(crop_mask, num_classes), cmap="gray", vmin=0, vmax=1, extent=extent
    )
    axes[1].set_title("ground truth (black background, grey cytoplasm, white nucleus)", fontsize=9)
    for ax in axes:
        # tick labels in pixels of the full image, so that distances (the radius) can be read
        ax.set_xlabel("column (pixels)")
        ax.set_ylabel("row (pixels)")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos, c=cols.start: f"{v + c:g}"))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos, r=rows.start: f"{v + r:g}"))
    fig.tight_layout()
    return fig


def _image_dice(pred: np.ndarray, mask: np.ndarray, num_classes: int) -> float:
    """Dice averaged over the classes present in either map (the tables' 3-class mean)."""
    return mean_over_present(dice_per_class(pred, mask, num_classes))


def _error_overlay(pred: np.ndarray, mask: np.ndarray, num_classes: int) -> np.ndarray:
    """(H, W, 3): the prediction in grey levels, wrongly labelled pixels in :data:`ERROR_COLOUR`."""
    grey = label_to_grey(pred, num_classes)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    wrong = np.asarray(pred) != np.asarray(mask)
    rgb[wrong] = 0.25 * rgb[wrong] + 0.75 * np.asarray(ERROR_COLOUR)
    return rgb


def segmentation_figure(
    images: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    predictions: Mapping[str, Sequence[np.ndarray]],
    ids: Sequence[str] | None = None,
    num_classes: int = 3,
    panel_size: float = 2.0,
) -> plt.Figure:
    """Test images, their ground truth, and every model's segmentation with its errors and Dice.

    Each prediction is drawn in the data set's grey levels with the wrongly labelled pixels
    (prediction ≠ ground truth) in :data:`ERROR_COLOUR`; its title gives the image's Dice
    averaged over the classes present (the per-image value behind the tables' 3-class mean).

    Parameters
    ----------
    images : N images, (H_n, W_n, 3)
    masks : N ground-truth class maps, (H_n, W_n)
    predictions : model name → N predicted class maps, (H_n, W_n), in the order of ``images``
    ids : N image ids for the row labels, optional
    num_classes : number of classes
    panel_size : inches per panel

    Returns
    -------
    Figure with N rows and ``2 + len(predictions)`` columns of axes.
    """
    n = len(images)
    if len(masks) != n or any(len(p) != n for p in predictions.values()):
        raise ValueError("images, masks and every model's predictions must have the same length")
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    ncols = 2 + len(predictions)
    fig, axes = plt.subplots(
        max(n, 1),
        ncols,
        figsize=(panel_size * ncols, (panel_size + 0.35) * max(n, 1) + 0.4),
        squeeze=False,
    )
    for row in range(n):
        mask = np.asarray(masks[row])
        axes[row, 0].imshow(images[row])
        axes[row, 0].set_title(f"image {ids[row]}", fontsize=9)
        axes[row, 1].imshow(label_to_grey(mask, num_classes), cmap="gray", vmin=0, vmax=1)
        axes[row, 1].set_title("ground truth", fontsize=9)
        for col, (name, preds) in enumerate(predictions.items(), start=2):
            pred = np.asarray(preds[row])
            axes[row, col].imshow(_error_overlay(pred, mask, num_classes))
            dice = _image_dice(pred, mask, num_classes)
            axes[row, col].set_title(f"{name}\nDice {dice:.3f}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    from matplotlib.patches import Patch

    fig.legend(
        handles=[Patch(color=ERROR_COLOUR, label="wrong class (prediction ≠ ground truth)")],
        loc="lower center",
        ncol=1,
        frameon=False,
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig


def per_image_dice(
    runs: Mapping[tuple[str, int], Any], masks: Sequence[np.ndarray], num_classes: int = 3
) -> pd.DataFrame:
    """Every run's per-image Dice (mean over the classes present) on its test images.

    Parameters
    ----------
    runs : mapping ``(label, seed) → run`` with ``test_predictions`` ((H_n, W_n) class maps),
        ``test_idx`` (indices into ``masks``) and ``test_ids`` (image ids), as
        :class:`medgraph.segmentation.SegmentationRun`
    masks : every ground-truth class map of the data set

    Returns
    -------
    DataFrame with one row per (label, seed, test image): ``model``, ``seed``, ``image``,
    ``dice``; averaging it over images gives the tables' ``dice_3cls`` of that seed.
    """
    rows = []
    for (label, seed), run in runs.items():
        for pred, idx, ident in zip(run.test_predictions, run.test_idx, run.test_ids, strict=True):
            dice = _image_dice(pred, masks[int(idx)], num_classes)
            rows.append({"model": label, "seed": int(seed), "image": str(ident), "dice": dice})
    return pd.DataFrame(rows, columns=["model", "seed", "image", "dice"])


def _interval_summary(
    per_image: pd.DataFrame,
    value: str = "dice",
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per model: mean of ``value`` over images and a percentile bootstrap interval of it.

    Seeds are averaged per image first, so the interval is over test images. Images whose value
    is NaN are skipped. Returns one row per model (first-appearance order): ``model``, ``mean``,
    ``low``, ``high``, ``n_images``, ``n_seeds``.
    """
    from medgraph.metrics import bootstrap_interval

    out = []
    for model, part in per_image.groupby("model", sort=False):
        seeds = part["seed"].nunique() if "seed" in part else 1
        values = part.groupby("image", sort=False)[value].mean().to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        mean = float(values.mean()) if values.size else float("nan")
        low, high = bootstrap_interval(values, n=n_boot, level=level, seed=seed)
        out.append(
            dict(model=model, mean=mean, low=low, high=high, n_images=values.size, n_seeds=seeds)
        )
    return pd.DataFrame(out, columns=["model", "mean", "low", "high", "n_images", "n_seeds"])


def plot_interval_bars(
    ax: plt.Axes,
    per_image: pd.DataFrame,
    value: str = "dice",
    ylabel: str = "test Dice (3-class mean)",
    cut: float | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    color: str = "#4c72b0",
) -> plt.Axes:
    """Bars of the mean over test images per model, with 95 % bootstrap intervals over images.

    Parameters
    ----------
    ax : axes to draw on
    per_image : DataFrame with ``model``, ``image``, ``value`` (and optionally ``seed``: seeds
        are averaged per image first), e.g. from :func:`per_image_dice`
    value : the column to plot
    ylabel : label of the y axis
    cut : float, optional
        Start the y axis here instead of at zero; the cut is then marked by a break symbol at
        the bottom of the axis and stated in the y label. Default: bars from zero.
    n_boot, seed : resamples and seed of the bootstrap
        (:func:`medgraph.metrics.bootstrap_interval`)

    Returns
    -------
    The axes; each bar is annotated with its mean.
    """
    summary = _interval_summary(per_image, value, n_boot=n_boot, seed=seed)
    x = np.arange(len(summary))
    mean = summary["mean"].to_numpy(dtype=np.float64)
    err = np.vstack([mean - summary["low"], summary["high"] - mean])
    err = np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0)
    bottom = 0.0 if cut is None else float(cut)
    heights = np.nan_to_num(mean - bottom, nan=0.0)
    ax.bar(x, heights, bottom=bottom, color=color, width=0.65)
    ax.errorbar(x, np.nan_to_num(mean, nan=bottom), yerr=err, fmt="none", ecolor="black", capsize=4)
    top = np.nanmax(summary["high"].to_numpy(dtype=np.float64)) if len(summary) else np.nan
    top = 1.0 if not np.isfinite(top) else max(1.0, float(top))
    for xi, (m, hi) in enumerate(zip(mean, summary["high"], strict=True)):
        label = "n/a" if not np.isfinite(m) else f"{m:.3f}"
        y = hi if np.isfinite(hi) else (m if np.isfinite(m) else bottom)
        ax.text(xi, y + 0.01 * (top - bottom), label, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(summary["model"].astype(str), rotation=20, ha="right")
    ax.set_ylim(bottom, top + 0.08 * (top - bottom))
    if cut is None:
        ax.set_ylabel(ylabel)
    else:
        ax.set_ylabel(f"{ylabel}\n(axis cut: starts at {bottom:g})")
        # the break mark: two short slanted strokes across the bottom of the y axis
        kw = dict(transform=ax.transAxes, color="black", clip_on=False, lw=1)
        for dy in (0.0, 0.025):
            ax.plot([-0.02, 0.02], [0.01 + dy, 0.035 + dy], **kw)
    ax.set_xlabel("variant (error bars: 95 % bootstrap interval over test images)")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_scale_ablation(
    ax: plt.Axes,
    per_image: pd.DataFrame,
    value: str = "dice",
    ylabel: str = "test Dice (3-class mean)",
    n_boot: int = 2000,
    seed: int = 0,
) -> plt.Axes:
    """Mean over test images against the superpixel scale, one line per variant, with bands.

    Parameters
    ----------
    ax : axes to draw on
    per_image : DataFrame with ``model`` labelled ``"<variant>, S = <scale>"`` (the scale
        ablation's labels), ``image`` and ``value``
    value, ylabel, n_boot, seed : as in :func:`plot_interval_bars`

    Returns
    -------
    The axes; the shaded bands are 95 % bootstrap intervals over test images, x is log₂.
    """
    summary = _interval_summary(per_image, value, n_boot=n_boot, seed=seed)
    parts = summary["model"].astype(str).str.split(", S = ", n=1, expand=True)
    if parts.shape[1] < 2 or parts[1].isna().any():
        raise ValueError("scale-ablation labels must read '<variant>, S = <scale>'")
    summary["variant"], summary["S"] = parts[0], parts[1].astype(float)
    for variant, part in summary.groupby("variant", sort=False):
        part = part.sort_values("S")
        (line,) = ax.plot(part["S"], part["mean"], marker="o", label=variant)
        ax.fill_between(
            part["S"], part["low"], part["high"], color=line.get_color(), alpha=0.2, lw=0
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("mean superpixel scale S (pixels per superpixel)")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def ablation_figure(
    per_image: Mapping[str, pd.DataFrame],
    titles: Mapping[str, str] | None = None,
    cut: float | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> plt.Figure:
    """The ablations side by side: bars for λ and the graph network, lines over the scale.

    Parameters
    ----------
    per_image : ablation name → per-image table (:func:`per_image_dice`); the name ``"scale"``
        is drawn by :func:`plot_scale_ablation`, every other by :func:`plot_interval_bars`;
        empty tables are left out
    titles : ablation name → panel title, optional
    cut : passed to :func:`plot_interval_bars` (default None: bars from zero)
    n_boot, seed : of the bootstrap over test images

    Returns
    -------
    Figure with one axes per non-empty ablation.
    """
    titles = dict(titles or {})
    panels = [(k, v) for k, v in per_image.items() if len(v)]
    fig, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(4.6 * max(len(panels), 1), 4.2), squeeze=False
    )
    for ax, (name, frame) in zip(axes[0], panels, strict=False):
        if name == "scale":
            plot_scale_ablation(ax, frame, n_boot=n_boot, seed=seed)
        else:
            plot_interval_bars(ax, frame, cut=cut, n_boot=n_boot, seed=seed)
        ax.set_title(titles.get(name, name), fontsize=10)
    if not panels:
        axes[0, 0].set_axis_off()
        axes[0, 0].set_title("no ablation to show")
    fig.tight_layout()
    return fig


def confusion_grid(
    confusions: Mapping[str, pd.DataFrame],
    ncols: int = 4,
    width: float = 10.0,
    cmap: str = "Blues",
) -> plt.Figure:
    """Confusion matrices of several classifiers in a grid a page wide (seaborn heat maps).

    Cells are coloured by the share of their row (the recall of the true class, one colour bar
    for all panels) and show the counts; the y tick labels carry each class's accuracy, the
    titles the overall accuracy; the predicted classes are abbreviated to three letters.

    Parameters
    ----------
    confusions : title → confusion DataFrame of :func:`medgraph.classification.
        classification_report` (rows: true classes then ``"Overall Accuracy"``; columns:
        ``"Recognized <name>"`` counts then ``"Accuracy"``)
    ncols : panels per row
    width : figure width in inches (the height follows)
    cmap : colour map of the shares

    Returns
    -------
    Figure with one axes per matrix plus one for the colour bar; unused grid cells are removed.
    """
    import seaborn as sns

    items = list(confusions.items())
    n = max(len(items), 1)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width, (width / ncols) * 1.05 * nrows + 0.2),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.ravel()[len(items) :]:
        fig.delaxes(ax)
    mappable = None
    for ax, (title, confusion) in zip(axes.ravel(), items, strict=False):
        count_cols = [c for c in confusion.columns if c != "Accuracy"]
        rows = [r for r in confusion.index if r != "Overall Accuracy"]
        counts = confusion.loc[rows, count_cols].to_numpy(dtype=np.float64, na_value=np.nan)
        totals = np.nansum(counts, axis=1, keepdims=True)
        share = np.divide(
            np.nan_to_num(counts), totals, out=np.zeros_like(counts), where=totals > 0
        )
        names = [str(c).removeprefix("Recognized ")[:3] for c in count_cols]
        accuracy = confusion["Accuracy"] if "Accuracy" in confusion else pd.Series(dtype=float)
        ylabels = [
            f"{r} ({'–' if pd.isna(accuracy.get(r)) else f'{100 * accuracy[r]:.0f}%'})"
            for r in rows
        ]
        annot = np.array([["" if np.isnan(v) else f"{int(v)}" for v in row] for row in counts])
        sns.heatmap(
            share,
            ax=ax,
            cmap=cmap,
            vmin=0.0,
            vmax=1.0,
            annot=annot,
            fmt="",
            annot_kws={"fontsize": 8},
            cbar=False,
            xticklabels=names,
            yticklabels=ylabels,
            linewidths=0.5,
            linecolor="white",
        )
        mappable = ax.collections[0]
        ax.tick_params(labelsize=7, length=0)
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
        ax.set_xticklabels(ax.get_xticklabels(), rotation=45, ha="right")
        overall = accuracy.get("Overall Accuracy", np.nan)
        suffix = "" if pd.isna(overall) else f": {100 * overall:.1f}%"
        ax.set_title(f"{title}{suffix}", fontsize=9)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true (accuracy)", fontsize=8)
    if mappable is not None:
        bar = fig.colorbar(mappable, ax=axes.ravel()[: len(items)].tolist(), shrink=0.8)
        bar.set_label("share of the true class (row)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return fig
