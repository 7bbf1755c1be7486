"""Over-segmentation and the pixel↔node bridge.

- algorithms: :func:`snic` (numba-compiled, Achanta & Süsstrunk 2017), :func:`slic`
  (scikit-image), :func:`compute_superpixels`;
- bridge: the association matrix Q as a label map: :func:`to_nodes` (``Q̄ᵀY``),
  :func:`to_pixels` (``QH``), :func:`metric_score` (Eq 2.1), :func:`majority_label` (Eq 4.2),
  :func:`reconstruct_labels`;
- quality: :func:`reconstruction_iou` (Eq 2.2), :func:`compression_ratio` (§2.1),
  :func:`boundary_recall`, :func:`undersegmentation_error`;
- study: the scale study of notebook 01.
"""

from medgraph.superpixels.algorithms import compute_superpixels, grid_shape, slic, snic
from medgraph.superpixels.bridge import (
    class_fractions,
    majority_label,
    metric_score,
    node_sizes,
    offset_labels,
    reconstruct_labels,
    to_nodes,
    to_pixels,
)
from medgraph.superpixels.quality import (
    boundary_map,
    boundary_recall,
    compression_ratio,
    reconstruction_iou,
    undersegmentation_error,
)
from medgraph.superpixels.study import evaluate_superpixels, scale_study, summarize_study

__all__ = [
    "snic",
    "slic",
    "compute_superpixels",
    "grid_shape",
    "offset_labels",
    "to_nodes",
    "to_pixels",
    "node_sizes",
    "metric_score",
    "class_fractions",
    "majority_label",
    "reconstruct_labels",
    "reconstruction_iou",
    "compression_ratio",
    "boundary_map",
    "boundary_recall",
    "undersegmentation_error",
    "evaluate_superpixels",
    "scale_study",
    "summarize_study",
]
