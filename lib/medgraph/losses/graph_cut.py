"""Unsupervised graph-clustering objectives, one loss per image of a batch.

Every function takes soft cluster assignments ``S`` of shape (B, N, K) (rows on the simplex, the
softmax output of :class:`medgraph.models.clustering.GraphCutNet`) and a dense affinity of shape
(B, N, N) (:mod:`medgraph.graphs.affinity`), and returns a (B,) tensor: the loss of each image on
its own graph. The per-image optimisation (:func:`medgraph.graphcut.optimise_graph_cuts`) sums
them, so the gradient of image b's parameters is the gradient of image b's loss alone.
Unbatched inputs, (N, K) and (N, N), give a 0-d tensor.

Sources
-------
- NCut and CC: Aflalo, Bagon, Kashti, Eldar, "DeepCut: Unsupervised Segmentation using Graph
  Neural Networks Clustering", ICCV-W 2023; reference code ``SAMPL-Weizmann/DeepCut``
  (``gnn_pool.py``, ``gnn_pool_cc.py``). The relaxed normalised cut is MinCutPool's (Bianchi,
  Grattarola, Alippi, ICML 2020).
- DMoN: Tsitsulin, Palowitch, Perozzi, Müller, "Graph Clustering with Graph Neural Networks",
  JMLR 2023, used for segmentation by UnSeGGNet (reference code ``ksgr5566/UnSegGNet``).

Symmetric affinities
--------------------
The traces ``Tr(SᵀWS)`` cost one pass over the N×N matrix. For a symmetric ``W`` the gradient
``∂Tr(SᵀWS)/∂S = (W + Wᵀ)S = 2WS`` is the product already formed in the forward pass, so
``symmetric=True`` saves the second pass autograd would make (:func:`association_trace`), and the
degrees ``W1`` that NCut and DMoN need come from the same product (``W [S, 1]``), so a step reads
W once; the affinities of :mod:`medgraph.graphs.affinity` are exactly symmetric. Passing ``symmetric=True``
with a non-symmetric ``W`` gives a wrong gradient (the value is right).

Known degrees. W is fixed while the assignments are optimised, so its row sums ``d = W1`` can be
computed once (``degrees=``). The rows of S are on the simplex (``Σ_k S_ik = 1``, the softmax
output), so ``W S_:K = W1 − Σ_{k<K} W S_:k``: with ``d`` known, the product with W needs only
the first K − 1 columns of S (one column for K = 2 instead of K + 1). The identity is applied
only after checking that every row of S sums to 1 (to 1e-4); otherwise the full product is
formed. The value and the gradient are the same up to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "association_trace",
    "ncut_loss",
    "orthogonality_penalty",
    "correlation_clustering_loss",
    "modularity",
    "collapse_penalty",
    "dmon_loss",
    "GRAPH_CUT_LOSSES",
]


def _batched(s: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(B, N, K) assignments and (B, N, N) affinity, and whether the inputs were unbatched."""
    single = s.ndim == 2
    if single:
        s, w = s.unsqueeze(0), w.unsqueeze(0)
    if s.ndim != 3:
        raise ValueError(f"assignments must be (B, N, K) or (N, K), got shape {tuple(s.shape)}")
    b, n, _ = s.shape
    if w.shape != (b, n, n):
        raise ValueError(
            f"affinity must be ({b}, {n}, {n}) for assignments {tuple(s.shape)}, "
            f"got {tuple(w.shape)}"
        )
    if not s.is_floating_point():
        raise TypeError(f"assignments must be floating point, got {s.dtype}")
    return s, w.to(s.dtype), single


def _cluster_major(s: torch.Tensor) -> torch.Tensor:
    """The same (B, N, K) values stored as (B, K, N): a faster right operand for CPU BLAS."""
    return s.transpose(1, 2).contiguous().transpose(1, 2)


def _batched_degrees(degrees: torch.Tensor | None, single: bool) -> torch.Tensor | None:
    return degrees.unsqueeze(0) if degrees is not None and single else degrees


def _out(value: torch.Tensor, single: bool) -> torch.Tensor:
    return value[0] if single else value


class _SymmetricAssociation(torch.autograd.Function):
    """``Tr(SᵀWS)`` and the degrees ``W1`` per image for a symmetric W that needs no gradient.

    One product ``W [S, 1]`` gives both; backward reuses ``WS``: ``∂Tr(SᵀWS)/∂S = 2WS``. With the
    degrees given and S on the simplex, the product is ``W S_{:, :K−1}`` alone (module notes).
    """

    @staticmethod
    def forward(
        ctx: Any, s: torch.Tensor, w: torch.Tensor, known: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if known is not None:
            # [S_:1 .. S_:K−1] cluster-major; the last column from d − Σ (rows of S sum to 1)
            head = s[:, :, :-1].transpose(1, 2).contiguous().transpose(1, 2)
            ws_head = torch.bmm(w, head)  # (B, N, K − 1): the one pass over W
            ws = torch.cat([ws_head, (known - ws_head.sum(dim=2))[:, :, None]], dim=2)
            degrees = known
        else:
            ones = torch.ones(s.shape[0], 1, s.shape[1], dtype=s.dtype, device=s.device)
            # [S, 1] stored cluster-major ((B, K + 1, N) contiguous, passed transposed): CPU
            # BLAS is several times faster on a skinny right operand in this layout
            s1 = torch.cat([s.transpose(1, 2), ones], dim=1).transpose(1, 2)
            wsd = torch.bmm(w, s1)  # (B, N, K + 1): the one pass over W
            ws, degrees = wsd[:, :, :-1], wsd[:, :, -1]
        ctx.save_for_backward(ws)
        ctx.mark_non_differentiable(degrees)
        return (ws * s).sum(dim=(1, 2)), degrees

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor, _grad_degrees: torch.Tensor
    ) -> tuple[Any, None, None]:
        (ws,) = ctx.saved_tensors
        return 2.0 * ws * grad[:, None, None], None, None


def _on_simplex(s: torch.Tensor) -> bool:
    """Every row of S sums to 1 (to 1e-4): the softmax output the known-degree path needs."""
    with torch.no_grad():
        return bool(((s.sum(dim=2) - 1.0).abs() <= 1e-4).all())


def _trace_and_degrees(
    s: torch.Tensor, w: torch.Tensor, symmetric: bool, degrees: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) ``Tr(SᵀWS)`` and (B, N) row sums of W, in one pass over W when possible."""
    if degrees is not None:
        if degrees.shape != s.shape[:2]:
            raise ValueError(
                f"degrees must be {tuple(s.shape[:2])} (one per node), got {tuple(degrees.shape)}"
            )
        degrees = degrees.to(s.dtype)
    if symmetric and not w.requires_grad:
        known = degrees if degrees is not None and _on_simplex(s) else None
        return _SymmetricAssociation.apply(s, w, known)
    trace = (torch.bmm(w, _cluster_major(s)) * s).sum(dim=(1, 2))
    return trace, (w.sum(dim=2) if degrees is None else degrees)


def association_trace(
    s: torch.Tensor,
    w: torch.Tensor,
    *,
    symmetric: bool = False,
    degrees: torch.Tensor | None = None,
) -> torch.Tensor:
    """``Tr(Sᵀ W S) = Σ_ij W_ij ⟨S_i, S_j⟩`` of every image.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor
        Soft assignments.
    w : (B, N, N) or (N, N) tensor
        Affinity.
    symmetric : bool, default False
        W is symmetric: the backward pass reuses ``WS`` (module notes) instead of a second
        product with W. Used only when W itself needs no gradient.
    degrees : (B, N) or (N,) tensor, optional
        The row sums ``W1``, computed once for a fixed W: with S on the simplex the product
        with W then needs K − 1 columns only (module notes).

    Returns
    -------
    (B,) tensor, or 0-d for unbatched input.
    """
    s, w, single = _batched(s, w)
    return _out(_trace_and_degrees(s, w, symmetric, _batched_degrees(degrees, single))[0], single)


def orthogonality_penalty(s: torch.Tensor) -> torch.Tensor:
    """``‖SᵀS / ‖SᵀS‖_F − I_K / √K‖_F`` of every image (MinCutPool's orthogonality term).

    Zero when the K clusters are disjoint and of equal size; it keeps the normalised cut from
    putting every node in one cluster.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor

    Returns
    -------
    (B,) tensor in [0, √(2 − 2/√K)], or 0-d for unbatched input.
    """
    single = s.ndim == 2
    if single:
        s = s.unsqueeze(0)
    k = s.shape[-1]
    sts = torch.bmm(s.transpose(1, 2), s)  # (B, K, K)
    sts = sts / torch.linalg.matrix_norm(sts)[:, None, None]
    eye = torch.eye(k, dtype=s.dtype, device=s.device) / math.sqrt(k)
    return _out(torch.linalg.matrix_norm(sts - eye), single)


def ncut_loss(
    s: torch.Tensor,
    w: torch.Tensor,
    *,
    symmetric: bool = False,
    degrees: torch.Tensor | None = None,
) -> torch.Tensor:
    """DeepCut's relaxed normalised-cut loss, to be minimised.

    ``L(S, W) = −Tr(Sᵀ W S) / Tr(Sᵀ D S) + ‖SᵀS / ‖SᵀS‖_F − I_K / √K‖_F`` with
    ``D = diag(d)``, ``d_i = Σ_j W_ij`` (row sums), so ``Tr(SᵀDS) = Σ_i d_i ‖S_i‖²``.

    The sign. The seed study's slide prints ``+Tr(SᵀWS)/Tr(SᵀDS)``; DeepCut's code
    (``SAMPL-Weizmann/DeepCut``, ``gnn_pool.py``: ``mincut_loss = -(num / den)``) and MinCutPool,
    whose relaxation DeepCut uses, put a minus in front. The minus is right: for a hard
    partition ``Tr(SᵀWS)/Tr(SᵀDS)`` is the weighted mean association ``assoc(A_k)/vol(A_k)``, and
    the normalised cut ``Σ_k cut(A_k)/vol(A_k) = K − Σ_k assoc(A_k)/vol(A_k)`` falls as the
    association rises; minimising ``+ratio`` would instead seek the largest cut. This function
    implements DeepCut's form (minus), as DeepCut and UnSeGGNet train with it.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor
        Soft assignments.
    w : (B, N, N) or (N, N) tensor
        Non-negative affinity (:func:`medgraph.graphs.affinity.ncut_affinity`).
    symmetric : bool, default False
        See :func:`association_trace`.
    degrees : tensor, optional
        See :func:`association_trace`.

    Returns
    -------
    (B,) tensor in [−1, √(2 − 2/√K)] for a symmetric non-negative W, or 0-d for unbatched input. An image
    whose W is all zeros gives 0/0 = NaN.
    """
    s, w, single = _batched(s, w)
    num, d = _trace_and_degrees(s, w, symmetric, _batched_degrees(degrees, single))
    den = (d * (s * s).sum(dim=2)).sum(dim=1)
    return _out(-num / den + orthogonality_penalty(s), single)


def correlation_clustering_loss(
    s: torch.Tensor,
    w: torch.Tensor,
    *,
    symmetric: bool = False,
    degrees: torch.Tensor | None = None,
) -> torch.Tensor:
    """DeepCut's correlation-clustering loss ``L(S, W) = −Tr(W S Sᵀ)``, to be minimised.

    ``Tr(W S Sᵀ) = Σ_ij W_ij ⟨S_i, S_j⟩`` for symmetric ``SSᵀ``, the same number as
    ``Tr(SᵀWS)`` (DeepCut's ``gnn_pool_cc.py``: ``-torch.sum(A * (S @ S.T))``). Positive weights
    reward putting two nodes in one cluster, negative weights reward separating them, so the
    number of clusters used is not fixed by K (DeepCut: α sets it).

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor
    w : (B, N, N) or (N, N) tensor
        Signed affinity (:func:`medgraph.graphs.affinity.cc_affinity`).
    symmetric : bool, default False
        See :func:`association_trace`.
    degrees : tensor, optional
        See :func:`association_trace`.

    Returns
    -------
    (B,) tensor, or 0-d for unbatched input.
    """
    return -association_trace(s, w, symmetric=symmetric, degrees=degrees)


def modularity(
    s: torch.Tensor,
    a: torch.Tensor,
    *,
    symmetric: bool = False,
    degrees: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft modularity ``Tr(Sᵀ B S) / 2m`` with ``B = A − d dᵀ / 2m``.

    ``d_i = Σ_j A_ij`` are the degrees and ``m`` the number of edges, ``2m = Σ_ij A_ij``
    (DMoN, Tsitsulin et al., JMLR 2023, §3; PyG's ``DMoNPooling``: ``m = Σ A / 2``). A self loop
    ``A_ii = 1`` counts once in ``Σ_ij A_ij`` (half an edge), as in that sum. Computed without the
    N×N matrix B: ``Tr(SᵀBS) = Tr(SᵀAS) − ‖Sᵀd‖² / 2m``.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor
    a : (B, N, N) or (N, N) tensor
        Symmetric non-negative adjacency (:func:`medgraph.graphs.affinity.dmon_adjacency`).
    symmetric : bool, default False
        See :func:`association_trace`.
    degrees : tensor, optional
        See :func:`association_trace`.

    Returns
    -------
    (B,) tensor, or 0-d for unbatched input. A graph without edges gives NaN.
    """
    s, a, single = _batched(s, a)
    trace_a, d = _trace_and_degrees(s, a, symmetric, _batched_degrees(degrees, single))
    two_m = d.sum(dim=1)  # (B,)
    std = torch.einsum("bnk,bn->bk", s, d)  # Sᵀd, (B, K)
    trace_b = trace_a - (std * std).sum(dim=1) / two_m
    return _out(trace_b / two_m, single)


def collapse_penalty(s: torch.Tensor) -> torch.Tensor:
    """DMoN's collapse regulariser ``(√K / n) ‖Σ_i S_i‖_F − 1``.

    ``Σ_i S_i`` sums the assignment rows over the n nodes: the K-vector of soft cluster sizes
    (DMoN's ``cluster_sizes = reduce_sum(assignments, axis=0)``). The term is 0 for K clusters
    of equal size n/K and √K − 1 when one cluster holds every node, and it has a gradient
    ``∂/∂S_ik = (√K / n) c_k / ‖c‖`` with ``c = Σ_i S_i``. UnSeGGNet's reference code sums over
    the clusters instead (``torch.sum(C.t(), dim=0)``: the n-vector of row sums, all 1 after the
    softmax), which makes the term a constant without gradient; this function follows DMoN.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor

    Returns
    -------
    (B,) tensor in [0, √K − 1] for rows on the simplex, or 0-d for unbatched input.
    """
    single = s.ndim == 2
    if single:
        s = s.unsqueeze(0)
    n, k = s.shape[1], s.shape[2]
    sizes = s.sum(dim=1)  # (B, K)
    return _out(math.sqrt(k) / n * torch.linalg.vector_norm(sizes, dim=1) - 1.0, single)


def dmon_loss(
    s: torch.Tensor,
    a: torch.Tensor,
    *,
    collapse_weight: float = 1.0,
    symmetric: bool = False,
    degrees: torch.Tensor | None = None,
) -> torch.Tensor:
    """DMoN loss as UnSeGGNet trains it: ``−Tr(SᵀBS)/2m + λ((√K/n)‖Σ_i S_i‖_F − 1)``.

    ``B = A − d dᵀ/2m``, ``d`` the degrees, ``2m = Σ_ij A_ij`` (DMoN's definition: m is the
    number of edges; see :func:`modularity`), n the number of nodes, λ = ``collapse_weight``
    (1 in UnSeGGNet and the seed study; DMoN's own code defaults to 0.1).

    Two departures of reference code from the paper, not copied here: UnSeGGNet sets
    ``m = Σ A`` (twice DMoN's, halving the modularity term) and sums the collapse term over
    clusters (a constant, :func:`collapse_penalty`); google-research's DMoN code also divides by
    ``2 Σ A``. This function follows the paper.

    Parameters
    ----------
    s : (B, N, K) or (N, K) float tensor
    a : (B, N, N) or (N, N) tensor
        Symmetric non-negative adjacency (:func:`medgraph.graphs.affinity.dmon_adjacency`).
    collapse_weight : float, default 1.0
        λ ≥ 0.
    symmetric : bool, default False
        See :func:`association_trace`.
    degrees : tensor, optional
        See :func:`association_trace`.

    Returns
    -------
    (B,) tensor, or 0-d for unbatched input.
    """
    if not math.isfinite(collapse_weight) or collapse_weight < 0:
        raise ValueError(f"collapse_weight must be ≥ 0, got {collapse_weight}")
    return -modularity(
        s, a, symmetric=symmetric, degrees=degrees
    ) + collapse_weight * collapse_penalty(s)


#: The losses by the names :func:`medgraph.graphcut.optimise_graph_cuts` accepts; each is called
#: as ``loss(s, w, symmetric=...)`` and returns (B,).
GRAPH_CUT_LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "ncut": ncut_loss,
    "cc": correlation_clustering_loss,
    "dmon": dmon_loss,
}
