"""The classifier's data: a seeded per-class split and the input tensors (image ± segmentation)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["stratified_fraction_split", "cell_region", "classifier_inputs"]

_NUM_SEGMENTATION_LABELS = 3  # background, cytoplasm, nucleus


def stratified_fraction_split(
    labels: Sequence[int] | np.ndarray, fraction: float = 1 / 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split: about ``fraction`` of every class for training, the rest for test.

    A class of ``n`` samples gives ``round(fraction · n)`` (halves rounded up) training samples,
    clamped to ``[1, n − 1]`` when ``n ≥ 2`` so that the class is both learned and tested; a class
    with a single sample goes to training when ``fraction ≥ 0.5`` and to test otherwise. With
    dataset-2 (33/37/15/12/3) and ``fraction=1/3`` this is 11/12/5/4/1 = 33 training and 67 test
    images (the paper's test confusion matrices hold 61, i.e. 39 training images).

    No validation subset is returned: the classifier trains for a fixed number of epochs
    (:class:`ClassifierConfig`), so no model is selected on held-out data.

    Parameters
    ----------
    labels : (N,) int array
        Class label of every sample.
    fraction : float in (0, 1), default 1/3
        Share of each class for training.
    seed : int
        Seed of the numpy Generator that shuffles each class (classes in sorted order).

    Returns
    -------
    train_idx, test_idx : (N_train,), (N_test,) int64 arrays
        Sorted, disjoint, together ``0 … N−1``.
    """
    y = np.asarray(labels).reshape(-1)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), not {fraction}")
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        n = members.size
        k = int(math.floor(fraction * n + 0.5))
        if n >= 2:
            k = min(max(k, 1), n - 1)
        members = rng.permutation(members)
        train.append(members[:k])
        test.append(members[k:])
    empty = np.zeros(0, dtype=np.int64)
    train_idx = np.sort(np.concatenate(train)) if train else empty
    test_idx = np.sort(np.concatenate(test)) if test else empty
    return train_idx.astype(np.int64), test_idx.astype(np.int64)


def _resize(x: Tensor, size: int, mode: Literal["image", "labels"]) -> Tensor:
    """Resize ``(B, C, H, W)`` to ``size × size``: area/bilinear for images, nearest for labels."""
    if x.shape[-2:] == (size, size):
        return x
    if mode == "labels":
        return F.interpolate(x, size=(size, size), mode="nearest-exact")
    if x.shape[-2] >= size and x.shape[-1] >= size:
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def cell_region(
    image: np.ndarray, segmentation: np.ndarray, margin: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """The segmented cell of an image, alone on black, in a square centred on it.

    The cell is every pixel labelled cytoplasm or nucleus (label > 0). Its bounding box, widened
    by ``margin`` pixels on each side (clipped to the image), is cut out; pixels of the box that
    are not cell are set to 0 (black) in the image and stay background in the segmentation; the
    box is centred in the smallest square that holds it, padded with black / background. A
    segmentation without any cell pixel returns the image and segmentation unchanged (nothing
    to extract; the classifier then sees the whole image).

    Parameters
    ----------
    image : (H, W, 3) uint8 array
    segmentation : (H, W) int array in {0, 1, 2}
    margin : int, default 6
        Pixels.

    Returns
    -------
    image : (s, s, 3) uint8 array, with s the longer side of the widened box
    segmentation : (s, s) array of the input's dtype
    """
    cell = segmentation > 0
    if not cell.any():
        return image, segmentation
    rows = np.flatnonzero(cell.any(axis=1))
    cols = np.flatnonzero(cell.any(axis=0))
    r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, cell.shape[0])
    c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, cell.shape[1])
    h, w = r1 - r0, c1 - c0
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    out_image = np.zeros((side, side, 3), dtype=image.dtype)
    out_seg = np.zeros((side, side), dtype=segmentation.dtype)
    keep = cell[r0:r1, c0:c1]
    out_image[top : top + h, left : left + w] = np.where(keep[..., None], image[r0:r1, c0:c1], 0)
    out_seg[top : top + h, left : left + w] = segmentation[r0:r1, c0:c1]
    return out_image, out_seg


def classifier_inputs(
    images: Sequence[np.ndarray],
    segmentations: Sequence[np.ndarray] | None = None,
    size: int = 150,
    region: Literal["whole", "cell"] = "whole",
    margin: int = 6,
) -> Tensor:
    """Stack images (and optionally their segmentations) into the classifier's input tensor.

    Channels 0–2 are the RGB image scaled from [0, 255] to [−1, 1] (a fixed affine map, so no
    statistic of any image set enters), resized with area averaging when shrinking and bilinear
    interpolation when enlarging. With ``segmentations``, channels 3–5 are their one-hot
    background / cytoplasm / nucleus indicators, resized by nearest neighbour so that they stay
    one-hot (they sum to 1 at every pixel). Non-square images are stretched to the square.

    Parameters
    ----------
    images : sequence of (H, W, 3) uint8 arrays
        Sizes may differ between images.
    segmentations : sequence of (H, W) int arrays in {0, 1, 2}, optional
        One label map per image, each the size of its image (ground truth or a model's argmax).
    size : int, default 150
        Side of the output in pixels.
    region : {"whole", "cell"}, default "whole"
        ``"cell"``: each image and its segmentation are first reduced to the segmented cell by
        :func:`cell_region` (needs ``segmentations``).
    margin : int, default 6
        :func:`cell_region`'s margin, pixels.

    Returns
    -------
    torch.Tensor
        ``(N, 3, size, size)`` or ``(N, 6, size, size)`` float32 on the CPU.
    """
    if region not in ("whole", "cell"):
        raise ValueError(f"region must be 'whole' or 'cell', not {region!r}")
    if region == "cell" and segmentations is None:
        raise ValueError("region='cell' needs segmentations to find the cell")
    if segmentations is not None and len(segmentations) != len(images):
        raise ValueError(f"{len(images)} images but {len(segmentations)} segmentations")
    if size < 1:
        raise ValueError(f"size must be >= 1, not {size}")
    channels = 3 if segmentations is None else 3 + _NUM_SEGMENTATION_LABELS
    out = torch.empty((len(images), channels, size, size), dtype=torch.float32)
    for i, image in enumerate(images):
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"image {i} must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
        seg = None
        if segmentations is not None:
            seg = np.asarray(segmentations[i])
            if seg.shape != img.shape[:2]:
                raise ValueError(
                    f"segmentation {i} has shape {seg.shape}, its image {img.shape[:2]}"
                )
            if not np.issubdtype(seg.dtype, np.integer):
                raise ValueError(f"segmentation {i} must hold integer labels, not {seg.dtype}")
            if seg.size and (seg.min() < 0 or seg.max() >= _NUM_SEGMENTATION_LABELS):
                raise ValueError(f"segmentation {i} has labels outside 0..2")
            if region == "cell":
                img, seg = cell_region(img, seg, margin)
        # a copy: arrays may be read-only
        rgb = torch.tensor(img).permute(2, 0, 1)[None].float() / 255.0
        out[i, :3] = _resize(rgb, size, "image")[0] * 2.0 - 1.0
        if seg is None:
            continue
        onehot = F.one_hot(torch.from_numpy(seg.astype(np.int64)), _NUM_SEGMENTATION_LABELS)
        onehot = onehot.permute(2, 0, 1)[None].float()
        out[i, 3:] = _resize(onehot, size, "labels")[0]
    return out
