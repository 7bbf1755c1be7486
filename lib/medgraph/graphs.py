"""Graphs built from superpixels: node features, the L1-radius graph and batching.

The SMGNN paper (Jiang et al., MBE 2024, §3) turns every superpixel into a node with a
five-dimensional feature (mean RGB and mean position) and joins two superpixels of the same
image when their positions are close in the L1 sense,

    ``E_ij = 1  ⇔  |x_i − x_j| + |y_i − y_j| < α·√S``,  ``S = H·W / K``,  ``α ≥ 2``.

A batch of such graphs is one PyG :class:`~torch_geometric.data.Batch` plus the globally offset
label maps that tie nodes to pixels (the association matrix Q of §2.2, kept as a label map; see
:mod:`medgraph.superpixels.bridge`). :class:`SuperpixelBatch` holds the two together.

Over-segmentation is the expensive step, so :func:`cached_superpixels` keeps label maps on disk
keyed by a hash of the image and the parameters; features and edges are recomputed (they cost a
scatter-mean and a few distance blocks).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from medgraph.reporting import atomic_write
from medgraph.superpixels.algorithms import compute_superpixels
from medgraph.superpixels.bridge import class_fractions, majority_label, offset_labels, to_nodes

__all__ = [
    "SuperpixelBatch",
    "superpixel_node_features",
    "superpixel_centroids",
    "edge_threshold",
    "radius_edges",
    "node_metric_score",
    "build_superpixel_graphs",
    "superpixel_cache_key",
    "cached_superpixels",
    "compute_label_maps",
]

ArrayLike = np.ndarray | torch.Tensor
ImagesLike = ArrayLike | Sequence[ArrayLike]

# --------------------------------------------------------------------------------------------
# node features
# --------------------------------------------------------------------------------------------


def _image_tensor(image: ArrayLike, device: torch.device | str | None) -> torch.Tensor:
    """One (H, W, 3) image as a float32 tensor in [0, 1] (integers are scaled by 255)."""
    img = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    img = img.to(device)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {tuple(img.shape)}")
    if img.dtype == torch.uint8:
        return img.float() / 255.0
    if not img.dtype.is_floating_point:
        raise TypeError(f"images must be uint8 or float in [0, 1], got dtype {img.dtype}")
    img = img.float()
    if img.numel():
        if not bool(torch.isfinite(img).all()):
            raise ValueError("images contain NaN or inf")
        lo, hi = float(img.min()), float(img.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"float images must lie in [0, 1], got values in [{lo:.3g}, {hi:.3g}] "
                "(pass uint8 images to have them scaled by 255)"
            )
    return img


def _image_list(images: ImagesLike, device: torch.device | str | None) -> list[torch.Tensor]:
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("need at least one image")
        return [_image_tensor(im, device) for im in images]
    batch = torch.as_tensor(images) if not isinstance(images, torch.Tensor) else images
    if batch.ndim != 4:
        raise ValueError(
            f"expected a (B, H, W, 3) batch of images or a list of (H, W, 3) images, "
            f"got shape {tuple(batch.shape)}"
        )
    return [_image_tensor(im, device) for im in batch]


def _label_list(labels: ArrayLike | Sequence[ArrayLike]) -> list[torch.Tensor]:
    if isinstance(labels, (list, tuple)):
        return [torch.as_tensor(lab) for lab in labels]
    lab = torch.as_tensor(labels)
    if lab.ndim == 2:
        return [lab]
    if lab.ndim != 3:
        raise ValueError(f"expected (B, H, W) label maps, got shape {tuple(lab.shape)}")
    return list(lab)


def _pixel_coordinates(
    height: int, width: int, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.arange(height, device=device, dtype=torch.float32)[:, None].expand(height, width)
    cols = torch.arange(width, device=device, dtype=torch.float32)[None, :].expand(height, width)
    return rows, cols


def superpixel_centroids(
    labels: ArrayLike | Sequence[ArrayLike], num_nodes: int | None = None
) -> torch.Tensor:
    """Centroid of every superpixel in pixel units, ``Q̄ᵀ [row, col]``.

    Parameters
    ----------
    labels : (B, H, W) or (H, W) integer label map, or a list of (H_b, W_b) maps
        Global node indices (see :func:`~medgraph.superpixels.bridge.offset_labels`).
    num_nodes : int, optional
        K; defaults to ``max(labels) + 1``.

    Returns
    -------
    (K, 2) float32 tensor on the device of ``labels``: mean row index and mean column index of
    the pixels of each superpixel (pixel (r, c) sits at (r, c); a superpixel with no pixels
    gets (0, 0)).
    """
    maps = _label_list(labels)
    coords = []
    for lab in maps:
        rows, cols = _pixel_coordinates(lab.shape[0], lab.shape[1], lab.device)
        coords.append(torch.stack([rows, cols], -1).reshape(-1, 2))
    flat = torch.cat([lab.reshape(-1) for lab in maps])
    return to_nodes(torch.cat(coords), flat, num_nodes)


def superpixel_node_features(
    images: ImagesLike,
    labels: ArrayLike | Sequence[ArrayLike],
    normalize: bool = True,
    num_nodes: int | None = None,
) -> torch.Tensor:
    """The five-dimensional node features of SMGNN §3: mean colour and mean position.

    Parameters
    ----------
    images : (B, H, W, 3) tensor/array, or a list of B (H_b, W_b, 3) arrays
        RGB, uint8 in 0–255 (scaled by 1/255) or float in [0, 1]. A single (H, W, 3) image may
        be given inside a list.
    labels : (B, H, W) integer tensor/array or a list of B (H_b, W_b) maps
        Globally offset superpixel labels (the output of
        :func:`~medgraph.superpixels.bridge.offset_labels`), so that node indices of different
        images do not collide. Images of different sizes are supported here (lists).
    normalize : bool, default True
        If True, positions are pixel-centre coordinates divided by the image size,
        ``(row + 0.5) / H`` and ``(col + 0.5) / W``, so they lie in (0, 1) like the colours and
        do not depend on the image resolution. If False they are the raw mean pixel indices
        (row, col) in pixels.
    num_nodes : int, optional
        K; defaults to ``max(labels) + 1``.

    Returns
    -------
    (K, 5) float32 tensor on the device of ``images``: columns ``[R, G, B, row, col]``, each
    the mean over the superpixel's pixels (``Q̄ᵀ X``, a scatter-mean through
    :func:`~medgraph.superpixels.bridge.to_nodes`).
    """
    imgs = _image_list(images, None)
    maps = _label_list(labels)
    if len(imgs) != len(maps):
        raise ValueError(f"got {len(imgs)} images but {len(maps)} label maps")
    per_pixel = []
    for img, lab in zip(imgs, maps, strict=True):
        if tuple(img.shape[:2]) != tuple(lab.shape):
            raise ValueError(
                f"image of shape {tuple(img.shape)} does not match label map {tuple(lab.shape)}"
            )
        height, width = lab.shape
        rows, cols = _pixel_coordinates(height, width, img.device)
        if normalize:
            rows, cols = (rows + 0.5) / height, (cols + 0.5) / width
        per_pixel.append(torch.cat([img, rows[..., None], cols[..., None]], -1).reshape(-1, 5))
    flat_labels = torch.cat([lab.reshape(-1).to(imgs[0].device) for lab in maps])
    return to_nodes(torch.cat(per_pixel), flat_labels, num_nodes)


# --------------------------------------------------------------------------------------------
# edges
# --------------------------------------------------------------------------------------------


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
        Node positions in pixels (:func:`superpixel_centroids`).
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


# --------------------------------------------------------------------------------------------
# batches of graphs
# --------------------------------------------------------------------------------------------


def node_metric_score(fractions: torch.Tensor) -> torch.Tensor:
    """Metric score 𝒴 (Eq 2.1) of the label image scaled to [0, 1], from class fractions.

    ``𝒴_j = mean over superpixel j of Y/(C − 1)``; by linearity of the mean this is
    ``Σ_c fractions[j, c] · c/(C − 1)``. For C = 2 it is Eq 2.1 of the binary mask exactly; for
    the three WBC classes it gives background 0, cytoplasm 0.5, nucleus 1.

    Parameters
    ----------
    fractions : (K, C) float tensor, C ≥ 2
        Class fractions of every node (:func:`~medgraph.superpixels.bridge.class_fractions`).

    Returns
    -------
    (K,) float tensor in [0, 1].
    """
    if fractions.ndim != 2 or fractions.shape[1] < 2:
        raise ValueError(f"fractions must be (K, C) with C ≥ 2, got {tuple(fractions.shape)}")
    c = fractions.shape[1]
    levels = torch.arange(c, dtype=fractions.dtype, device=fractions.device) / (c - 1)
    return fractions @ levels


@dataclass
class SuperpixelBatch:
    """A batch of superpixel graphs and the label maps that tie its nodes to pixels.

    Attributes
    ----------
    graph : torch_geometric.data.Batch
        ``x`` (K, 5) node features (:func:`superpixel_node_features`), ``edge_index`` (2, E),
        ``batch`` (K,) image index, ``pos`` (K, 2) centroids in pixels, and when masks were
        given ``y`` (K,) majority class (Eq 4.2), ``fractions`` (K, C) class fractions and
        ``score`` (K,) metric score (:func:`node_metric_score`).
    label_maps : (B, H, W) int64 tensor
        Global node index of every pixel (Q as a label map).
    counts : (B,) int64 tensor
        Nodes per image, K_b.
    thresholds : (B,) float64 tensor
        Edge radius ``α·√S_b`` used for each image, in pixels.
    """

    graph: Batch
    label_maps: torch.Tensor
    counts: torch.Tensor
    thresholds: torch.Tensor

    @property
    def num_nodes(self) -> int:
        """Total number of nodes K."""
        return int(self.graph.num_nodes)

    @property
    def num_graphs(self) -> int:
        """Number of images B."""
        return int(self.counts.numel())

    def to(self, device: torch.device | str) -> SuperpixelBatch:
        """A copy with the graph and the label maps on ``device``."""
        return SuperpixelBatch(
            graph=self.graph.to(device),
            label_maps=self.label_maps.to(device),
            counts=self.counts,
            thresholds=self.thresholds,
        )


def build_superpixel_graphs(
    images: ImagesLike,
    label_maps: ArrayLike | Sequence[ArrayLike],
    scale: float | None = None,
    alpha: float = 2.0,
    masks: ArrayLike | Sequence[ArrayLike] | None = None,
    num_classes: int = 3,
    device: torch.device | str = "cpu",
) -> SuperpixelBatch:
    """Superpixel graphs of a batch of images, ready for a GNN (SMGNN §3, Algorithm 1 step 1).

    Parameters
    ----------
    images : (B, H, W, 3) tensor/array or a list of B (H, W, 3) arrays
        RGB, uint8 or float in [0, 1]; channels last. All images must have the same size (the
        label maps are stacked into one (B, H, W) tensor for the pixel branch of the model).
    label_maps : (B, H, W) or a list of B (H, W) integer maps
        Per-image superpixel labels ``0 … K_b − 1`` (for example from
        :func:`~medgraph.superpixels.snic`); they are offset here.
    scale : float, optional
        Mean superpixel area S in pixels for the radius ``α·√S``. None (default) measures it
        per image as ``H·W / K_b``, the paper's definition with the K actually produced.
    alpha : float, default 2
        Radius factor, ≥ 2 (the paper's constraint); ValueError otherwise.
    masks : (B, H, W) or a list of (H, W) integer class maps, optional
        Ground truth ``0 … num_classes − 1``. When given, the graph carries ``fractions``
        (Eq 2.1 per class), ``y`` (majority class, Eq 4.2) and ``score``
        (:func:`node_metric_score`).
    num_classes : int, default 3
        C (background, cytoplasm, nucleus for the WBC data).
    device : str or torch.device, default "cpu"
        Where the features, edges and label maps are computed and returned.

    Returns
    -------
    SuperpixelBatch
    """
    edge_threshold(1.0, alpha)  # validates alpha before any work
    imgs = _image_list(images, device)
    maps = [m.to(device) for m in _label_list(label_maps)]
    if len(imgs) != len(maps):
        raise ValueError(f"got {len(imgs)} images but {len(maps)} label maps")
    shapes = {tuple(m.shape) for m in maps}
    if len(shapes) != 1:
        raise ValueError(
            f"build_superpixel_graphs needs images of one size, got label maps of shapes "
            f"{sorted(shapes)}; resize or pad first"
        )
    global_maps, counts = offset_labels(torch.stack(maps))
    counts = counts.cpu()
    for img, lab in zip(imgs, global_maps, strict=True):
        if tuple(img.shape[:2]) != tuple(lab.shape):
            raise ValueError(
                f"image of shape {tuple(img.shape)} does not match label map {tuple(lab.shape)}"
            )
    height, width = global_maps.shape[1:]
    total = int(counts.sum())
    used = torch.bincount(global_maps.reshape(-1), minlength=total)
    if bool((used == 0).any()):
        raise ValueError("every label 0 … K_b − 1 of each map must be used (relabel first)")

    x = superpixel_node_features(imgs, global_maps, normalize=True, num_nodes=total)
    pos = superpixel_centroids(global_maps, num_nodes=total)
    counts_dev = counts.to(device)
    batch = torch.repeat_interleave(torch.arange(len(imgs), device=device), counts_dev)
    if scale is None:
        thresholds = [edge_threshold(height * width / int(k), alpha) for k in counts.tolist()]
    else:
        thresholds = [edge_threshold(float(scale), alpha)] * len(imgs)
    edge_index = radius_edges(pos, batch, thresholds)

    extra: dict[str, torch.Tensor] = {}
    if masks is not None:
        mask_list = _label_list(masks)
        if len(mask_list) != len(imgs):
            raise ValueError(f"got {len(mask_list)} masks for {len(imgs)} images")
        mask_t = torch.stack([m.to(device) for m in mask_list])
        if mask_t.shape != global_maps.shape:
            raise ValueError(
                f"masks {tuple(mask_t.shape)} do not match label maps {tuple(global_maps.shape)}"
            )
        fractions = class_fractions(mask_t, global_maps, num_classes, num_nodes=total)
        extra = {
            "fractions": fractions,
            "y": majority_label(fractions),
            "score": node_metric_score(fractions),
        }

    # split into per-image Data objects (local indices) so that the PyG Batch can be unbatched
    ptr = torch.cumsum(counts, 0) - counts
    edge_image = batch[edge_index[0]] if edge_index.numel() else batch.new_empty(0)
    edge_counts = torch.bincount(edge_image, minlength=len(imgs)).tolist()
    edge_parts = torch.split(edge_index, edge_counts, dim=1)
    node_counts = counts.tolist()
    node_parts = {
        name: torch.split(t, node_counts) for name, t in {"x": x, "pos": pos, **extra}.items()
    }
    data_list = []
    for b in range(len(imgs)):
        fields = {name: parts[b] for name, parts in node_parts.items()}
        data_list.append(Data(edge_index=edge_parts[b] - int(ptr[b]), **fields))
    graph = Batch.from_data_list(data_list)
    return SuperpixelBatch(
        graph=graph,
        label_maps=global_maps,
        counts=counts,
        thresholds=torch.tensor(thresholds, dtype=torch.float64),
    )


# --------------------------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------------------------


def superpixel_cache_key(image: np.ndarray, method: str, scale: float | None, **params: Any) -> str:
    """Hex sha256 of the image bytes, shape, dtype, method, scale and parameters.

    Parameters
    ----------
    image : array
        The image exactly as it will be over-segmented.
    method : str
        Algorithm name (``"snic"``, ``"slic"``).
    scale : float or None
        Mean superpixel area in pixels.
    **params
        Further keyword arguments of the algorithm (JSON-serialised with sorted keys).

    Returns
    -------
    str, 64 hex digits.
    """
    arr = np.ascontiguousarray(image)
    digest = hashlib.sha256()
    digest.update(arr.tobytes())
    meta = {
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "method": method,
        "scale": scale,
        "params": params,
        "format": 1,
    }
    digest.update(json.dumps(meta, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


def _atomic_save(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a handle: np.save would append ".npy" to a path
            np.save(handle, array)

    atomic_write(path, write)  # readable like any new file, not mkstemp's owner-only 0600


def cached_superpixels(
    image: np.ndarray,
    method: str = "snic",
    scale: float | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **params: Any,
) -> np.ndarray:
    """Over-segment an image, reusing a result stored on disk by an earlier call.

    Parameters
    ----------
    image : (H, W, 3) array
        As for :func:`~medgraph.superpixels.compute_superpixels`.
    method : {"snic", "slic"}, default "snic"
    scale : float, optional
        Mean superpixel area in pixels (or pass ``n_segments`` in ``params``).
    cache_dir : path, optional
        Directory of ``<sha256>.npy`` files (:func:`superpixel_cache_key`). None disables the
        cache. Files are written to a temporary name and moved into place with
        :func:`os.replace`, so a crash never leaves a partial file under the final name and
        concurrent writers of the same key are harmless.
    **params
        Passed to the algorithm (``compactness``, ``n_segments`` …) and part of the key.

    Returns
    -------
    (H, W) int32 array of labels ``0 … K − 1``.
    """
    image = np.asarray(image)
    if cache_dir is None:
        return compute_superpixels(image, method, scale=scale, **params)
    path = Path(cache_dir) / f"{superpixel_cache_key(image, method, scale, **params)}.npy"
    if path.exists():
        try:
            labels = np.load(path, allow_pickle=False)
            if labels.shape == image.shape[:2]:
                return labels
        except (OSError, ValueError):
            pass  # unreadable entry: recompute and overwrite
    labels = compute_superpixels(image, method, scale=scale, **params)
    _atomic_save(path, labels)
    return labels


def compute_label_maps(
    images: ImagesLike,
    method: str = "snic",
    scale: float | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    **params: Any,
) -> list[np.ndarray]:
    """Superpixel label maps of several images, through :func:`cached_superpixels`.

    Parameters
    ----------
    images : (B, H, W, 3) array/tensor or a list of (H, W, 3) arrays
    method, scale, cache_dir, **params
        As for :func:`cached_superpixels`.
    workers : int, optional
        Threads that over-segment images concurrently (SNIC's numba kernel releases the GIL).
        None: ``min(B, os.cpu_count())``; 1: one after the other. The result does not depend
        on it.

    Returns
    -------
    list of B (H_b, W_b) int32 arrays, labels local to each image.
    """
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    arrays = [np.asarray(im) for im in images]
    if workers is None:
        workers = min(len(arrays), os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be ≥ 1, got {workers}")

    def one(image: np.ndarray) -> np.ndarray:
        return cached_superpixels(image, method, scale, cache_dir, **params)

    if workers == 1 or len(arrays) < 2:
        return [one(im) for im in arrays]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, arrays))
