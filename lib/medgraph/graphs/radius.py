"""The L1-radius superpixel graph of SMGNN §3: edge radius ``α·√S`` and the radius search.

``E_ij = 1  ⇔  |x_i − x_j| + |y_i − y_j| < α·√S``, ``S = H·W / K``, ``α ≥ 2``, between
superpixels of the same image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree

__all__ = ["edge_threshold", "radius_edges"]


def edge_threshold(scale: float, alpha: float = 2.0) -> float:
    """L1 radius ``α·√S`` of the superpixel graph (SMGNN §3).

    Parameters
    ----------
    scale : float
        Mean superpixel area S in pixels (``H·W / K``).
    alpha : float, default 2
        The paper's hyper-parameter; must be ≥ 2.

    Returns
    -------
    float, in pixels.
    """
    if not math.isfinite(alpha) or alpha < 2:
        raise ValueError(f"alpha must be ≥ 2 (SMGNN §3), got {alpha}")
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive area in pixels, got {scale}")
    return alpha * math.sqrt(scale)


def radius_edges(
    centroids_px: torch.Tensor,
    batch: torch.Tensor | None,
    threshold: float | Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Edges between superpixels of one image whose centroids are closer than a radius in L1.

    ``(i, j)`` is an edge when ``i ≠ j``, both nodes belong to the same image and
    ``|x_i − x_j| + |y_i − y_j| < threshold`` (strict, as in SMGNN §3).

    Parameters
    ----------
    centroids_px : (K, 2) float tensor
        Node positions in pixels (:func:`~medgraph.graphs.superpixel.superpixel_centroids`).
    batch : (K,) int64 tensor or None
        Image index of every node, non-decreasing (nodes of one image contiguous, as PyG
        batches them). None means one image.
    threshold : float, or (B,) sequence/tensor
        Radius in pixels, one for all images or one per image (``α·√S_b``).

    Returns
    -------
    (2, E) int64 tensor on the device of ``centroids_px``: both directions of every undirected
    edge, no self loops, sorted by source then target.

    Notes
    -----
    A uniform grid with cells of side ``r_b`` (the radius of the node's image): two nodes closer
    than ``r_b`` in L1 are closer than ``r_b`` along each axis, so they lie in the same or
    adjacent cells. Nodes are sorted by (image, cell row, cell column); for each node and each of
    its three candidate cell rows, the three adjacent cells of that row are one contiguous run
    of the sorted order, found with :func:`torch.searchsorted`. The candidates (about 4.5× the
    true neighbours for points spread evenly) are expanded without a Python loop and kept when
    their float64 L1 distance is below the radius, so ties with the radius are decided exactly
    for the rational centroids. Time and memory are O(K + E) on whatever device the centroids
    live, against O(Σ_b K_b²) for all pairwise distances.

    On the CPU a k-d tree per image (:class:`scipy.spatial.cKDTree`, ``query_pairs`` in L1)
    finds the candidates instead, about 3.5× faster for 8 images of 5 600 nodes: it is asked
    for a radius a relative 1e-9 wider, and the same exact float64 filter keeps the pairs below
    the radius, so both searches return the same edges (tested on ties).
    """
    pos = torch.as_tensor(centroids_px)
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise ValueError(f"centroids must be (K, 2), got shape {tuple(pos.shape)}")
    device = pos.device
    k = pos.shape[0]
    if batch is None:
        batch = torch.zeros(k, dtype=torch.long, device=device)
    batch = torch.as_tensor(batch, device=device).long()
    if batch.shape != (k,):
        raise ValueError(f"batch must have shape ({k},), got {tuple(batch.shape)}")
    empty = torch.empty((2, 0), dtype=torch.long, device=device)
    if k == 0:
        return empty
    if bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("batch must be non-decreasing (nodes of one image contiguous)")
    n_images = int(batch[-1]) + 1
    radii = torch.as_tensor(threshold, dtype=torch.float64).reshape(-1).to(device)
    if radii.numel() == 1:
        radii = radii.expand(n_images)
    if radii.numel() != n_images:
        raise ValueError(f"got {radii.numel()} thresholds for {n_images} images")
    if not bool(torch.isfinite(radii).all()):
        raise ValueError("thresholds must be finite")
    pos64 = pos.to(torch.float64)
    if not bool(torch.isfinite(pos64).all()):
        raise ValueError("centroids must be finite")

    if device.type == "cpu":
        return _kdtree_edges(pos64, batch, radii)
    return _grid_edges(pos64, batch, radii)


def _kdtree_edges(pos64: torch.Tensor, batch: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """:func:`radius_edges` on the CPU: a k-d tree per image, then the exact filter."""
    k = pos64.shape[0]
    points = pos64.detach().contiguous().numpy()
    bounds = np.searchsorted(batch.numpy(), np.arange(radii.numel() + 1))
    pairs = []
    for image, r in enumerate(radii.tolist()):  # a loop over images, not nodes
        lo, hi = int(bounds[image]), int(bounds[image + 1])
        if hi - lo < 2 or not r > 0:
            continue
        part = points[lo:hi]
        found = cKDTree(part).query_pairs(r * (1 + 1e-9), p=1, output_type="ndarray")
        if len(found):
            dist = np.abs(part[found[:, 0]] - part[found[:, 1]]).sum(1)
            pairs.append(found[dist < r].astype(np.int64) + lo)
    if not pairs:
        return torch.empty((2, 0), dtype=torch.long)
    both = np.concatenate(pairs)
    flat = np.sort(np.concatenate([both[:, 0] * k + both[:, 1], both[:, 1] * k + both[:, 0]]))
    return torch.from_numpy(np.stack([flat // k, flat % k]))


def _grid_edges(pos64: torch.Tensor, batch: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """:func:`radius_edges` on any device: the uniform grid and sorted runs (its notes)."""
    device = pos64.device
    k = pos64.shape[0]
    empty = torch.empty((2, 0), dtype=torch.long, device=device)
    radius = radii[batch]  # (K,) radius of each node's image
    side = radius.clamp_min(1e-12)  # a radius ≤ 0 gives no edges (distance filter below)
    cell = torch.floor(pos64 / side[:, None]).long()  # (K, 2)
    cell = cell - cell.min(0).values + 1  # ≥ 1, so that cell − 1 stays ≥ 0
    n0 = int(cell[:, 0].max()) + 2
    n1 = int(cell[:, 1].max()) + 2
    key = (batch * n0 + cell[:, 0]) * n1 + cell[:, 1]
    sorted_key, order = torch.sort(key, stable=True)

    src_parts, dst_parts = [], []
    node = torch.arange(k, device=device)
    for d0 in (-1, 0, 1):
        row = (batch * n0 + cell[:, 0] + d0) * n1
        lo = torch.searchsorted(sorted_key, row + cell[:, 1] - 1, right=False)
        hi = torch.searchsorted(sorted_key, row + cell[:, 1] + 1, right=True)
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        src = torch.repeat_interleave(node, counts)
        first = torch.cumsum(counts, 0) - counts  # where each node's run starts in the output
        within = torch.arange(total, device=device) - torch.repeat_interleave(first, counts)
        dst = order[torch.repeat_interleave(lo, counts) + within]
        dist = (pos64[src] - pos64[dst]).abs().sum(1)
        keep = (dist < radius[src]) & (src != dst)
        src_parts.append(src[keep])
        dst_parts.append(dst[keep])
    if not src_parts:
        return empty
    src = torch.cat(src_parts)
    dst = torch.cat(dst_parts)
    flat = torch.sort(src * k + dst).values
    return torch.stack([flat // k, flat % k])
