"""SMGNN superpixel graphs: node features, node targets and batches of graphs (SMGNN §3).

Every superpixel becomes a node with a five-dimensional feature (mean RGB and mean position);
edges come from :func:`~medgraph.graphs.radius.radius_edges`. A batch of such graphs is one PyG
:class:`~torch_geometric.data.Batch` plus the globally offset label maps that tie nodes to
pixels (:class:`SuperpixelBatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Batch, Data

from medgraph.graphs._inputs import (
    ArrayLike,
    ImagesLike,
    _image_list,
    _label_list,
    _pixel_coordinates,
)
from medgraph.graphs.radius import edge_threshold, radius_edges
from medgraph.superpixels.bridge import class_fractions, majority_label, offset_labels, to_nodes

__all__ = [
    "SuperpixelBatch",
    "superpixel_node_features",
    "superpixel_centroids",
    "node_metric_score",
    "build_superpixel_graphs",
]


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
