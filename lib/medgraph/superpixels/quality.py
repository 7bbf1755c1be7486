"""Quality of an over-segmentation against a ground-truth label image.

- reconstruction IoU, ``IoU_r`` (SMGNN paper, Eq 2.2): how well the superpixels can reproduce the
  ground truth when each one takes its majority class;
- compression ratio ``c ≈ 5K / 3N`` (SMGNN paper, §2.1);
- boundary recall (Martin et al. 2004 usage in the superpixel literature): the fraction of
  ground-truth boundary pixels within ``tolerance`` pixels of a superpixel boundary;
- under-segmentation error in the corrected form of Neubert & Protzel (2012):
  ``UE = (1/N) Σ_g Σ_{s ∩ g ≠ ∅} min(|s ∩ g|, |s \\ g|)``.

Ground-truth regions are the class regions of the label image (background, cytoplasm, nucleus).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from medgraph.metrics import iou_per_class, mean_over_present
from medgraph.superpixels.bridge import reconstruct_labels

__all__ = [
    "reconstruction_iou",
    "compression_ratio",
    "boundary_map",
    "boundary_recall",
    "undersegmentation_error",
]


def reconstruction_iou(mask: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """Reconstruction score ``IoU_r`` of Eq 2.2.

    Every superpixel is given the majority class of its pixels (Eq 4.2), the result is projected
    back to the pixels (``Ȳ = Q𝒴``), and the per-class IoU between ``Ȳ`` and the ground truth is
    averaged over the classes present in either (Eq 2.2 sums over the c classes and divides by c).

    Parameters
    ----------
    mask : (H, W) integer class map, values in ``0 … num_classes − 1``
    labels : (H, W) integer superpixel label map
    num_classes : int

    Returns
    -------
    float in [0, 1].
    """
    mask = np.asarray(mask)
    labels = np.asarray(labels)
    if mask.shape != labels.shape:
        raise ValueError(f"mask {mask.shape} and labels {labels.shape} differ in shape")
    recon = reconstruct_labels(mask, labels, num_classes)
    return mean_over_present(iou_per_class(recon, mask, num_classes))


def compression_ratio(
    n_nodes: int, n_pixels: int, n_features: int = 5, channels: int = 3, n_edges: int = 0
) -> float:
    """Graph size over image size, ``c = (d·K + 2E) / (channels · N)`` (§2.1: ``c ≈ 5K / 3N``).

    Parameters
    ----------
    n_nodes : K, number of superpixels
    n_pixels : N = H·W
    n_features : d, features per node (5: mean RGB and mean position)
    channels : values per pixel (3 for RGB)
    n_edges : E, undirected edges, each stored as two indices; 0 (the default) gives the paper's
        approximation, which neglects the sparse adjacency.

    Returns
    -------
    float, the ratio of stored numbers.
    """
    if n_pixels <= 0:
        raise ValueError("n_pixels must be positive")
    return (n_features * n_nodes + 2 * n_edges) / (channels * n_pixels)


def boundary_map(labels: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of a different label.

    Parameters
    ----------
    labels : (H, W) integer map

    Returns
    -------
    (H, W) bool array; both pixels on either side of a label change are marked.
    """
    lab = np.asarray(labels)
    out = np.zeros(lab.shape, dtype=bool)
    dv = lab[1:, :] != lab[:-1, :]
    dh = lab[:, 1:] != lab[:, :-1]
    out[1:, :] |= dv
    out[:-1, :] |= dv
    out[:, 1:] |= dh
    out[:, :-1] |= dh
    return out


def boundary_recall(labels: np.ndarray, mask: np.ndarray, tolerance: int = 2) -> float:
    """Fraction of ground-truth boundary pixels within ``tolerance`` of a superpixel boundary.

    Parameters
    ----------
    labels : (H, W) superpixel label map
    mask : (H, W) ground-truth class map
    tolerance : int
        Chessboard distance in pixels (0: the boundary pixels must coincide).

    Returns
    -------
    float in [0, 1]; NaN when the ground truth has no boundary.
    """
    gt = boundary_map(mask)
    n_gt = int(gt.sum())
    if n_gt == 0:
        return float("nan")
    sp = boundary_map(labels)
    if tolerance > 0:
        sp = ndimage.binary_dilation(sp, structure=np.ones((3, 3), bool), iterations=tolerance)
    return float((gt & sp).sum() / n_gt)


def undersegmentation_error(labels: np.ndarray, mask: np.ndarray) -> float:
    """Corrected under-segmentation error of Neubert & Protzel (2012).

    For every ground-truth region g and every superpixel s overlapping it, the smaller of the part
    of s inside g and the part outside g is counted as leakage; the sum is divided by N.

    Parameters
    ----------
    labels : (H, W) superpixel label map, values ``0 … K − 1``
    mask : (H, W) ground-truth class map

    Returns
    -------
    float in [0, 0.5]; 0 when every superpixel lies inside one region.
    """
    s = np.asarray(labels).astype(np.int64).ravel()
    g = np.asarray(mask).astype(np.int64).ravel()
    if s.shape != g.shape:
        raise ValueError("labels and mask differ in shape")
    n_g = int(g.max()) + 1
    overlap = np.bincount(s * n_g + g, minlength=(int(s.max()) + 1) * n_g).reshape(-1, n_g)
    size = overlap.sum(1, keepdims=True)
    leak = np.minimum(overlap, size - overlap)
    return float(leak[overlap > 0].sum() / s.size)
