"""Augmentations shared by every trained model: the dihedral group of the square.

Segmentation (:mod:`medgraph.segmentation`) applies one random element of the group to each
training image, its mask and its superpixel label map, and moves the superpixel graph with it
(:func:`transform_graph`); the cell-type classifier (:mod:`medgraph.classification`) applies one
to each input tensor (:func:`augment_dihedral`). Test-time averaging uses the same elements and
their inverses (:func:`invert_array`). A transform is a triple ``(transpose, flip_rows,
flip_cols)`` applied in that order; the eight triples are the eight symmetries of the square
(four of them, the flips, keep a non-square shape).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = [
    "Op",
    "IDENTITY",
    "dihedral_ops",
    "transform_array",
    "invert_array",
    "transform_graph",
    "augment_dihedral",
]

#: A transform of the dihedral group: (transpose, flip rows, flip columns), applied in that order.
Op = tuple[bool, bool, bool]
IDENTITY: Op = (False, False, False)


def dihedral_ops(square: bool = True) -> list[Op]:
    """The transforms used for augmentation and test-time averaging.

    Returns
    -------
    list of (transpose, flip_rows, flip_cols)
        All eight elements of the dihedral group of the square (identity first) when
        ``square``; otherwise the four that keep the shape (identity and flips).
    """
    transposes = (False, True) if square else (False,)
    return [(t, r, c) for t in transposes for r in (False, True) for c in (False, True)]


def transform_array(array: np.ndarray | torch.Tensor, op: Op, channels_last: bool = True) -> Any:
    """Apply a dihedral transform to an image, mask or label map.

    Parameters
    ----------
    array : numpy array or tensor
        ``(H, W, …)`` when ``channels_last`` else ``(…, H, W)``.
    op : (transpose, flip_rows, flip_cols)
        Applied in this order.
    channels_last : bool, default True

    Returns
    -------
    The transformed array (a view for numpy, a copy for torch).
    """
    transpose, flip_r, flip_c = op
    ra, ca = (0, 1) if channels_last else (-2, -1)
    is_torch = isinstance(array, torch.Tensor)
    out = array
    if transpose:
        out = out.transpose(ra, ca) if is_torch else np.swapaxes(out, ra, ca)
    if flip_r:
        out = torch.flip(out, (ra,)) if is_torch else np.flip(out, ra)
    if flip_c:
        out = torch.flip(out, (ca,)) if is_torch else np.flip(out, ca)
    return out


def invert_array(array: torch.Tensor, op: Op) -> torch.Tensor:
    """Undo :func:`transform_array` on a (…, H, W) tensor (flips first, then the transpose)."""
    transpose, flip_r, flip_c = op
    out = array
    if flip_c:
        out = torch.flip(out, (-1,))
    if flip_r:
        out = torch.flip(out, (-2,))
    if transpose:
        out = out.transpose(-2, -1)
    return out


def transform_graph(data: Data, op: Op, shape: tuple[int, int]) -> Data:
    """The superpixel graph of a transformed image, from the graph of the original.

    Node colours, class fractions and edges are unchanged (the superpixels are the same sets of
    pixels, moved; L1 distances between centroids are invariant under flips and transposition).
    The normalised positions (columns 3, 4 of ``x``: row, col in (0, 1)) and the pixel centroids
    ``pos`` are transformed exactly.

    Parameters
    ----------
    data : Data
        One image's graph with ``x`` (K, 5) and ``pos`` (K, 2).
    op : (transpose, flip_rows, flip_cols)
    shape : (H, W)
        Image size before the transform, in pixels.

    Returns
    -------
    Data, a shallow copy with new ``x`` and ``pos``.
    """
    transpose, flip_r, flip_c = op
    if op == IDENTITY:
        return data
    x, pos = data.x.clone(), data.pos.clone()
    height, width = shape
    if transpose:
        x[:, [3, 4]] = x[:, [4, 3]]
        pos = pos[:, [1, 0]]
        height, width = width, height
    if flip_r:
        x[:, 3] = 1.0 - x[:, 3]
        pos[:, 0] = (height - 1) - pos[:, 0]
    if flip_c:
        x[:, 4] = 1.0 - x[:, 4]
        pos[:, 1] = (width - 1) - pos[:, 1]
    out = Data(**dict(data.items()))
    out.x, out.pos = x, pos
    return out


def augment_dihedral(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Apply a random flip/90°-rotation (one of the 8 symmetries of the square) to each sample.

    Cell type does not depend on orientation, so these transforms keep every label. For
    non-square inputs only the rotations by 0° and 180° are drawn (shapes are kept).

    Parameters
    ----------
    x : (B, C, H, W) tensor
    rng : numpy Generator
        Source of the random choices (so that augmentation is reproducible on any device).

    Returns
    -------
    (B, C, H, W) tensor
    """
    square = x.shape[-1] == x.shape[-2]
    turns = rng.integers(0, 4, size=x.shape[0]) if square else 2 * rng.integers(0, 2, x.shape[0])
    flips = rng.integers(0, 2, size=x.shape[0])
    out = []
    for sample, k, flip in zip(x, turns, flips, strict=True):
        y = torch.rot90(sample, int(k), dims=(1, 2)) if k else sample
        out.append(y.flip(2) if flip else y)
    return torch.stack(out)
