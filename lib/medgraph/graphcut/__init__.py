"""Unsupervised per-image segmentation by graph cuts on patch features (issue 36).

The seed study (DeepCut's NCut and CC losses, UnSeGGNet's DMoN, each with a GCN, GAT or ARMA
layer) segments an image without training data: a small GNN is fitted to the image's own patch
graph, and the argmax of its soft assignments splits the patches in two. This package holds the
optimisation and the evaluation around it; the pieces are

- :mod:`medgraph.graphs.affinity` — the graphs (NCut, CC, DMoN affinities);
- :mod:`medgraph.losses.graph_cut` — the per-image losses;
- :mod:`medgraph.models.clustering` — the network with per-image weights;
- :mod:`~medgraph.graphcut.optimise` — :func:`optimise_graph_cuts`, many images at once;
- :mod:`~medgraph.graphcut.foreground` — which cluster is the object without the ground truth
  (:func:`foreground_cluster`), upsampling, IoU/Dice, and the seed study's optimistic
  :func:`oracle_flip_scores`;
- :mod:`~medgraph.graphcut.classical` — Otsu and 2-means rows scored with the same rule.
"""

from __future__ import annotations

from medgraph.graphcut.classical import kmeans_lab_mask, lab_image, otsu_lab_mask, pixel_foreground
from medgraph.graphcut.foreground import (
    border_patches,
    centre_distances,
    foreground_cluster,
    foreground_mask,
    iou_dice,
    oracle_flip_scores,
    patch_mask_to_image,
)
from medgraph.graphcut.optimise import (
    GraphCutResult,
    LossName,
    NonFiniteGraphCutError,
    optimise_graph_cuts,
)

__all__ = [
    "GraphCutResult",
    "LossName",
    "NonFiniteGraphCutError",
    "optimise_graph_cuts",
    "centre_distances",
    "border_patches",
    "foreground_cluster",
    "foreground_mask",
    "patch_mask_to_image",
    "iou_dice",
    "oracle_flip_scores",
    "lab_image",
    "otsu_lab_mask",
    "kmeans_lab_mask",
    "pixel_foreground",
]
