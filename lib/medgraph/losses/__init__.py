"""Training objectives, one module per family, all re-exported here.

- :mod:`~medgraph.losses.segmentation` — supervised segmentation objectives of the SMGNN paper
  (Jiang et al., MBE 2024): soft Dice (Eq 3.2), the superpixel metric loss (Eqs 2.5–2.7), the
  joint loss (Eq 3.3), and the non-finite-loss guard of the training loop.
- :mod:`~medgraph.losses.graph_cut` — unsupervised graph-clustering objectives optimised per
  image on patch-feature graphs: DeepCut's normalised cut and correlation clustering (Aflalo et
  al., ICCV-W 2023) and DMoN's modularity with collapse regularisation (Tsitsulin et al., JMLR
  2023), batched over images with one loss per image.

``from medgraph.losses import X`` works for every name of both modules' ``__all__``.
"""

from __future__ import annotations

from medgraph.losses.graph_cut import (
    GRAPH_CUT_LOSSES,
    association_trace,
    collapse_penalty,
    correlation_clustering_loss,
    dmon_loss,
    modularity,
    ncut_loss,
    orthogonality_penalty,
)
from medgraph.losses.segmentation import (
    NonFiniteLossError,
    SuperpixelMetricLoss,
    check_finite,
    dice_coefficients,
    dice_loss,
    joint_loss,
    superpixel_metric_loss,
)

__all__ = [
    # segmentation
    "dice_coefficients",
    "dice_loss",
    "superpixel_metric_loss",
    "SuperpixelMetricLoss",
    "joint_loss",
    "NonFiniteLossError",
    "check_finite",
    # graph cut
    "GRAPH_CUT_LOSSES",
    "association_trace",
    "ncut_loss",
    "orthogonality_penalty",
    "correlation_clustering_loss",
    "modularity",
    "collapse_penalty",
    "dmon_loss",
]
