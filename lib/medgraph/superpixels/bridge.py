"""The pixel↔node bridge: the association matrix Q kept as a label map.

The SMGNN paper (Jiang et al., MBE 2024, §2.2) ties the N pixels of an image to its K superpixels
with an association matrix ``Q ∈ {0,1}^{N×K}`` (``Q[i, j] = 1`` when pixel i lies in superpixel j)
and its column-normalised form ``Q̄ = Q · diag(1/|V_j|)``. Both are never built here: a label map
``labels`` with ``labels[i] = j`` *is* Q, and

- ``Q̄ᵀY`` (pixels → nodes, the metric score of Eq 2.1) is a scatter-mean over the label map,
- ``QH``  (nodes → pixels, the back-projection of Algorithm 1) is a gather ``H[labels]``.

Both are O(N) in time and memory, batched (labels of several images offset into one index space)
and run on whatever device the tensors live on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "offset_labels",
    "to_nodes",
    "to_pixels",
    "node_sizes",
    "metric_score",
    "class_fractions",
    "majority_label",
    "reconstruct_labels",
]

ArrayLike = np.ndarray | torch.Tensor


def _as_index(labels: ArrayLike, device: torch.device | str | None = None) -> torch.Tensor:
    index = torch.as_tensor(labels, device=device)
    if index.dtype.is_floating_point or index.dtype == torch.bool:
        raise TypeError(f"labels must be an integer label map, got dtype {index.dtype}")
    index = index.long()
    if index.numel() and int(index.min()) < 0:
        raise ValueError("labels must be non-negative superpixel indices")
    return index


def offset_labels(
    labels: ArrayLike | Sequence[ArrayLike],
) -> tuple[torch.Tensor | list[torch.Tensor], torch.Tensor]:
    """Shift per-image superpixel labels into one index space for a batch.

    Parameters
    ----------
    labels : (B, H, W) integer array or tensor, or a sequence of B (H_b, W_b) label maps
        Per-image labels ``0 … K_b − 1``.

    Returns
    -------
    global_labels : (B, H, W) tensor, or a list of B (H_b, W_b) tensors for a sequence input
        ``labels[b] + Σ_{b' < b} K_{b'}``: node indices of the batched graph.
    counts : (B,) int64 tensor
        ``K_b = max(labels[b]) + 1``, the number of nodes each image contributes.
    """
    if isinstance(labels, (list, tuple)):
        maps = [_as_index(lab) for lab in labels]
        if not maps:
            raise ValueError("offset_labels needs at least one label map")
        counts = torch.stack([m.max() + 1 for m in maps]).to("cpu")
        offsets = torch.cumsum(counts, 0) - counts
        return [m + int(o) for m, o in zip(maps, offsets, strict=True)], counts
    index = _as_index(labels)
    if index.ndim != 3:
        raise ValueError(
            f"expected a (B, H, W) batch of label maps, got shape {tuple(index.shape)}"
        )
    counts = index.flatten(1).amax(1) + 1
    offsets = torch.cumsum(counts, 0) - counts
    return index + offsets[:, None, None], counts


def node_sizes(labels: ArrayLike, num_nodes: int | None = None) -> torch.Tensor:
    """Number of pixels in each superpixel, ``|V_j| = Σ_i Q[i, j]``.

    Parameters
    ----------
    labels : (...) integer label map (any shape; flattened)
    num_nodes : int, optional
        K; defaults to ``max(labels) + 1``.

    Returns
    -------
    (K,) int64 tensor on the device of ``labels``.
    """
    index = _as_index(labels).reshape(-1)
    k = int(index.max()) + 1 if num_nodes is None else int(num_nodes)
    return torch.bincount(index, minlength=k)


def to_nodes(values: ArrayLike, labels: ArrayLike, num_nodes: int | None = None) -> torch.Tensor:
    """Average pixel values over each superpixel: ``Q̄ᵀY`` (a scatter-mean).

    Parameters
    ----------
    values : (..., C) or (...) float array/tensor
        Per-pixel values whose leading shape equals ``labels.shape`` (for example a (B, H, W, C)
        batch of images or one-hot masks). A trailing channel axis is optional.
    labels : (...) integer label map, global node indices (see :func:`offset_labels`)
    num_nodes : int, optional
        K; defaults to ``max(labels) + 1``. A superpixel with no pixels gets 0.

    Returns
    -------
    (K, C) float tensor (or (K,) when ``values`` has no channel axis), on the device of
    ``values``; differentiable with respect to ``values``.
    """
    vals = torch.as_tensor(values)
    if not vals.dtype.is_floating_point:
        vals = vals.float()
    index = _as_index(labels, device=vals.device)
    squeeze = vals.shape == index.shape
    if squeeze:
        vals = vals.unsqueeze(-1)
    if vals.shape[:-1] != index.shape:
        raise ValueError(
            f"values {tuple(vals.shape)} do not match labels {tuple(index.shape)} "
            "(expected values of shape labels.shape or labels.shape + (C,))"
        )
    flat_index = index.reshape(-1)
    flat_vals = vals.reshape(-1, vals.shape[-1])
    k = int(flat_index.max()) + 1 if num_nodes is None else int(num_nodes)
    sums = flat_vals.new_zeros((k, flat_vals.shape[1])).index_add_(0, flat_index, flat_vals)
    sizes = torch.bincount(flat_index, minlength=k).clamp_min(1).to(flat_vals.dtype)
    means = sums / sizes[:, None]
    return means.squeeze(-1) if squeeze else means


def to_pixels(node_values: ArrayLike, labels: ArrayLike) -> torch.Tensor:
    """Broadcast node values back to the pixels: ``QH`` (a gather).

    Parameters
    ----------
    node_values : (K, C) or (K,) array/tensor
        One row per node (for example GNN embeddings H or node labels).
    labels : (...) integer label map with values in ``0 … K − 1``

    Returns
    -------
    (..., C) or (...) tensor: ``node_values[labels]``, differentiable with respect to
    ``node_values``.
    """
    nodes = torch.as_tensor(node_values)
    index = _as_index(labels, device=nodes.device)
    if index.numel() and int(index.max()) >= nodes.shape[0]:
        raise ValueError(
            f"labels reference node {int(index.max())} but only {nodes.shape[0]} nodes were given"
        )
    return nodes[index]


def metric_score(mask: ArrayLike, labels: ArrayLike, num_nodes: int | None = None) -> torch.Tensor:
    """Superpixel metric score of Eq 2.1: the mean pixel label in each superpixel.

    ``𝒴_j = Σ_{x∈V_j} Y_x / |V_j| = (Q̄ᵀY)_j``. For a binary mask this is the fraction of
    foreground pixels in superpixel j.

    Parameters
    ----------
    mask : (...) label image Y (binary or real-valued), same shape as ``labels``
    labels : (...) integer label map
    num_nodes : int, optional

    Returns
    -------
    (K,) float tensor.
    """
    return to_nodes(torch.as_tensor(mask).float(), labels, num_nodes)


def class_fractions(
    mask: ArrayLike, labels: ArrayLike, num_classes: int, num_nodes: int | None = None
) -> torch.Tensor:
    """Metric score of every class at once: Eq 2.1 applied to the one-hot mask.

    Parameters
    ----------
    mask : (...) integer class map with values in ``0 … num_classes − 1``
    labels : (...) integer label map of the same shape
    num_classes : int
    num_nodes : int, optional

    Returns
    -------
    (K, num_classes) float tensor; each row sums to 1 for a non-empty superpixel.
    """
    classes = _as_index(mask)
    if classes.numel() and int(classes.max()) >= num_classes:
        raise ValueError(f"mask holds class {int(classes.max())} but num_classes={num_classes}")
    one_hot = torch.nn.functional.one_hot(classes, num_classes).float()
    return to_nodes(one_hot, labels, num_nodes)


def majority_label(score: ArrayLike) -> torch.Tensor:
    """Majority label of each superpixel (Eq 4.2).

    Parameters
    ----------
    score : (K,) metric score of a binary label, or (K, C) class fractions

    Returns
    -------
    (K,) int64 tensor. For (K,) scores, ``⌊𝒴 + 0.5⌋`` exactly as Eq 4.2 (a tie at 0.5 goes to 1).
    For (K, C) fractions, the class of largest fraction (lowest class index on ties), which is the
    class whose ``⌊𝒴_c + 0.5⌋ = 1`` whenever one class holds more than half the pixels.
    """
    s = torch.as_tensor(score)
    if s.ndim == 1:
        return torch.floor(s.double() + 0.5).long()
    if s.ndim == 2:
        return s.argmax(dim=1)
    raise ValueError(f"score must be (K,) or (K, C), got shape {tuple(s.shape)}")


def reconstruct_labels(mask: ArrayLike, labels: ArrayLike, num_classes: int) -> np.ndarray:
    """Reconstructed label image (RLI): every pixel takes its superpixel's majority class.

    ``Ȳ = Q · majority(Q̄ᵀ onehot(Y))``, the image of the SMGNN paper's Fig 6 (c)–(f).

    Parameters
    ----------
    mask : (H, W) integer class map (or (B, H, W) with globally offset labels)
    labels : integer label map of the same shape
    num_classes : int

    Returns
    -------
    numpy int64 array of the shape of ``mask``.
    """
    fractions = class_fractions(mask, labels, num_classes)
    return to_pixels(majority_label(fractions), labels).cpu().numpy()
