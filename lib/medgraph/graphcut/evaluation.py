"""Scoring unsupervised segmentations honestly, with the optimistic protocol beside them.

An unsupervised method returns clusters, not a foreground. Two protocols turn them into a
score:

- **Honest** (ours): the foreground cluster is chosen without the ground truth, by the centre
  rule (:func:`medgraph.graphcut.foreground_cluster`), and the number of epochs is chosen on a
  validation subset of images (:func:`choose_epoch`), never on the scored ones.
- **Optimistic** (the seed study's reference code): the cluster that scores better against the
  ground truth is taken as foreground (the "oracle flip", :func:`medgraph.graphcut.oracle_flip_scores`)
  and the epoch with the best score on the scored images is reported.

:func:`score_assignments` scores every image at every evaluated epoch under both rules at the
image's own resolution; :func:`bootstrap_interval` gives the interval over images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medgraph.features.patches import pixel_to_patch
from medgraph.graphcut.foreground import foreground_cluster
from medgraph.metrics import bootstrap_interval  # re-exported: its home is medgraph.metrics

__all__ = ["score_assignments", "score_masks", "choose_epoch", "bootstrap_interval"]


def _iou_dice(inter: np.ndarray, pred: np.ndarray, truth: int) -> tuple[np.ndarray, np.ndarray]:
    """IoU and Dice from counts; both masks empty counts as perfect (1, 1)."""
    union = pred + truth - inter
    total = pred + truth
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
        dice = np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)
    return iou, dice


def score_masks(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Honest and oracle-flip IoU and Dice of binary masks at one image's resolution.

    Parameters
    ----------
    pred : (E, H, W) bool array
        The predicted foreground at E evaluation points (or E methods).
    truth : (H, W) bool array

    Returns
    -------
    dict of (E,) float arrays: ``iou``, ``dice`` (the prediction as it is), ``iou_oracle``,
    ``dice_oracle`` (the better of the prediction and its complement, judged by IoU: the
    optimistic rule) and ``foreground_share`` (the predicted share of the image).
    """
    p = np.asarray(pred, dtype=bool)
    t = np.asarray(truth, dtype=bool)
    if p.ndim != 3 or p.shape[1:] != t.shape:
        raise ValueError(
            f"pred must be (E, H, W) with the truth's (H, W), got {p.shape}, {t.shape}"
        )
    hw = t.size
    n_truth = int(np.count_nonzero(t))
    inter = np.count_nonzero(p & t, axis=(1, 2))
    n_pred = np.count_nonzero(p, axis=(1, 2))
    iou, dice = _iou_dice(inter, n_pred, n_truth)
    # the complement: |~P ∩ T| = |T| − |P ∩ T|, |~P| = HW − |P|
    iou_c, dice_c = _iou_dice(n_truth - inter, hw - n_pred, n_truth)
    flip = iou_c > iou
    return {
        "iou": iou,
        "dice": dice,
        "iou_oracle": np.where(flip, iou_c, iou),
        "dice_oracle": np.where(flip, dice_c, dice),
        "foreground_share": n_pred / hw,
    }


def score_assignments(
    assignments: np.ndarray,
    grid: tuple[int, int],
    masks: Sequence[np.ndarray],
    k: int = 2,
) -> dict[str, np.ndarray]:
    """Score patch clusterings of B images at E evaluation epochs against their masks.

    The foreground cluster of every image and epoch is chosen by the centre rule
    (:func:`~medgraph.graphcut.foreground_cluster`, which never sees a mask); the patch mask is
    mapped to the image's own size (each pixel takes the patch whose cell holds its centre) and
    compared with the ground truth there.

    Parameters
    ----------
    assignments : (B, E, N) integer array
        Hard clusters per patch (row-major over ``grid``).
    grid : (rows, cols)
    masks : B binary (H_b, W_b) arrays (non-zero = foreground)
    k : int, default 2

    Returns
    -------
    dict of (B, E) float arrays, the keys of :func:`score_masks`.
    """
    lab = np.asarray(assignments)
    if lab.ndim != 3 or lab.shape[0] != len(masks):
        raise ValueError(f"assignments must be (B, E, N) for {len(masks)} masks, got {lab.shape}")
    rows, cols = int(grid[0]), int(grid[1])
    n_img, n_eval, _ = lab.shape
    fg = foreground_cluster(lab.reshape(n_img * n_eval, -1), grid, k).reshape(n_img, n_eval)
    patch_fg = (lab == fg[..., None]).reshape(n_img, n_eval, rows, cols)
    out: dict[str, list[np.ndarray]] = {}
    for b, mask in enumerate(masks):
        truth = np.asarray(mask) > 0
        h, w = truth.shape
        ys, xs = pixel_to_patch(h, rows), pixel_to_patch(w, cols)
        pred = patch_fg[b][:, ys[:, None], xs[None, :]]
        for name, values in score_masks(pred, truth).items():
            out.setdefault(name, []).append(values)
    return {name: np.stack(values) for name, values in out.items()}


def choose_epoch(scores: np.ndarray, epochs: Sequence[int]) -> tuple[int, int]:
    """The evaluated epoch with the highest mean score (ties: the earliest).

    Parameters
    ----------
    scores : (V, E) array
        Scores of V images (the validation subset) at E evaluated epochs.
    epochs : the E epochs

    Returns
    -------
    (epoch, column index)
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] != len(epochs):
        raise ValueError(f"scores must be (V ≥ 1, {len(epochs)}), got {s.shape}")
    column = int(np.argmax(s.mean(axis=0)))
    return int(epochs[column]), column
