"""Dense affinities between the patches of one image, for per-image graph cuts.

Each image is a complete graph over its N patches (nodes) with features ``X`` of shape (N, D);
the three builders give the N×N weight matrix that DeepCut's and UnSeGGNet's losses cut
(:mod:`medgraph.losses.graph_cut`) and their GNN propagates over
(:mod:`medgraph.models.clustering`). All take a batch (B, N, D) (or one image (N, D)) and work
per image: every maximum below is over that image's own N×N matrix.

- Normalised cut (DeepCut): ``W = max(0, X Xᵀ) / max_ij (X Xᵀ)`` (:func:`ncut_affinity`).
- Correlation clustering (DeepCut): ``W = X Xᵀ − max_ij (X Xᵀ) / α``, α = 5 by default in the
  seed study (DeepCut's script uses 3) (:func:`cc_affinity`).
- DMoN (UnSeGGNet): ``A_ij = [cos(x_i, x_j) > τ]``, τ = 0.7 by default
  (:func:`dmon_adjacency`).

Sources: DeepCut's ``util.create_adj`` (``SAMPL-Weizmann/DeepCut``) and UnSeGGNet's
``util.create_adj`` (``ksgr5566/UnSegGNet``); the seed study's slides give the same formulas.

Every matrix is symmetrised as ``(G + Gᵀ)/2`` after the product ``G = X Xᵀ`` (matrix products need
not round ``G_ij`` and ``G_ji`` alike), so the results are exactly symmetric, which the losses'
``symmetric=True`` fast path relies on. The diagonal is kept: ``W_ii = ‖x_i‖²/max`` for NCut
(DeepCut passes these self loops to its GCN as edges, and its degrees include them) and
``A_ii = 1`` for DMoN (see :func:`dmon_adjacency`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["patch_gram", "ncut_affinity", "cc_affinity", "dmon_adjacency", "GRAPH_AFFINITIES"]


def _features(
    features: np.ndarray | torch.Tensor, device: torch.device | str | None
) -> tuple[torch.Tensor, bool]:
    """(B, N, D) floating tensor on ``device`` and whether the input was one (N, D) image."""
    x = features if isinstance(features, torch.Tensor) else torch.as_tensor(np.asarray(features))
    if device is not None:
        x = x.to(device)
    if not x.is_floating_point():
        x = x.float()
    single = x.ndim == 2
    if single:
        x = x.unsqueeze(0)
    if x.ndim != 3:
        raise ValueError(f"features must be (B, N, D) or (N, D), got shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError("features hold no nodes (N = 0)")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("features contain NaN or inf")
    return x, single


def _symmetric(g: torch.Tensor) -> torch.Tensor:
    return 0.5 * (g + g.transpose(-2, -1))


def _out(w: torch.Tensor, single: bool) -> torch.Tensor:
    return w[0] if single else w


def patch_gram(
    features: np.ndarray | torch.Tensor, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """Symmetrised Gram matrix ``X Xᵀ`` of every image.

    Parameters
    ----------
    features : (B, N, D) or (N, D) array or tensor
        Patch features; integers are converted to float32.
    device : torch.device or str, optional
        Where to compute; None keeps the tensor's device (CPU for numpy input).

    Returns
    -------
    (B, N, N) or (N, N) tensor, dtype of the features.
    """
    x, single = _features(features, device)
    return _out(_symmetric(torch.bmm(x, x.transpose(1, 2))), single)


def _gram_max(g: torch.Tensor, what: str) -> torch.Tensor:
    """(B, 1, 1) maxima of every image's Gram matrix, which must be positive."""
    gmax = g.amax(dim=(1, 2), keepdim=True)
    bad = torch.nonzero(gmax.flatten() <= 0).flatten().tolist()
    if bad:
        raise ValueError(
            f"{what}: max_ij (X Xᵀ) is 0 for image(s) {bad[:10]} (all their features are zero); "
            "the normalisation by the maximum is undefined"
        )
    return gmax


def ncut_affinity(
    features: np.ndarray | torch.Tensor, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """DeepCut's normalised-cut affinity ``W = max(0, X Xᵀ) / max_ij (X Xᵀ)``, per image.

    Negative similarities are set to 0 (the normalised cut needs non-negative weights) and the
    matrix is scaled so that its largest entry is 1. The diagonal ``‖x_i‖² / max`` is kept.

    Parameters
    ----------
    features : (B, N, D) or (N, D) array or tensor
    device : torch.device or str, optional
        None keeps the tensor's device.

    Returns
    -------
    (B, N, N) or (N, N) tensor with entries in [0, 1], exactly symmetric.

    Raises
    ------
    ValueError
        An image whose features are all zero (its maximum is 0).
    """
    x, single = _features(features, device)
    g = _symmetric(torch.bmm(x, x.transpose(1, 2)))
    return _out(g.clamp_min(0) / _gram_max(g, "ncut_affinity"), single)


def cc_affinity(
    features: np.ndarray | torch.Tensor,
    alpha: float = 5.0,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """DeepCut's correlation-clustering affinity ``W = X Xᵀ − max_ij (X Xᵀ) / α``, per image.

    Pairs more similar than ``max/α`` get positive weights (join), the others negative ones
    (separate); a larger α lowers the bar and favours fewer clusters.

    Parameters
    ----------
    features : (B, N, D) or (N, D) array or tensor
    alpha : float, default 5.0
        α > 0 (the seed study's value; DeepCut's script uses 3).
    device : torch.device or str, optional

    Returns
    -------
    (B, N, N) or (N, N) signed tensor, exactly symmetric.
    """
    if not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha}")
    x, single = _features(features, device)
    g = _symmetric(torch.bmm(x, x.transpose(1, 2)))
    return _out(g - _gram_max(g, "cc_affinity") / alpha, single)


def dmon_adjacency(
    features: np.ndarray | torch.Tensor,
    tau: float = 0.7,
    *,
    self_loops: bool = True,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """UnSeGGNet's binary adjacency for DMoN, ``A_ij = [cos(x_i, x_j) > τ]``, per image.

    The threshold is strict (``>``) as in the seed study's formula; UnSeGGNet's code uses ``≥``,
    which differs only for cosines exactly equal to τ.

    The diagonal. ``cos(x_i, x_i) = 1 > τ`` for every τ < 1, and UnSeGGNet builds A from the
    threshold alone, so its A keeps ``A_ii = 1``: the self loops count in the degrees (``d_i``
    includes 1) and in ``2m = Σ_ij A_ij`` (N more), and its GCN receives them as edges. With
    ``self_loops=True`` (default, UnSeGGNet's graph) the diagonal is set to 1 for every node —
    also for an all-zero feature vector, whose cosines are taken as 0; ``self_loops=False``
    sets it to 0, the simple graph of DMoN's paper.

    Parameters
    ----------
    features : (B, N, D) or (N, D) array or tensor
    tau : float, default 0.7
        Threshold on the cosine similarity, in [−1, 1).
    self_loops : bool, default True
        Diagonal 1 (True) or 0 (False).
    device : torch.device or str, optional

    Returns
    -------
    (B, N, N) or (N, N) tensor of 0.0 / 1.0 (dtype of the features), exactly symmetric.
    """
    if not (-1.0 <= tau < 1.0):
        raise ValueError(f"tau must lie in [-1, 1), got {tau}")
    x, single = _features(features, device)
    u = F.normalize(x, dim=2)  # a zero vector stays zero: cosine 0 with everything
    cos = _symmetric(torch.bmm(u, u.transpose(1, 2)))
    a = (cos > tau).to(x.dtype)
    a.diagonal(dim1=1, dim2=2).fill_(1.0 if self_loops else 0.0)
    return _out(a, single)


#: The affinity each loss of :data:`medgraph.losses.GRAPH_CUT_LOSSES` cuts.
GRAPH_AFFINITIES = {"ncut": ncut_affinity, "cc": cc_affinity, "dmon": dmon_adjacency}
