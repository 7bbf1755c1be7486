"""Correlation clustering without the N × N matrix: its affinity is low rank plus a constant.

DeepCut's correlation-clustering affinity (:func:`medgraph.graphs.affinity.cc_affinity`) is

    W = X Xᵀ − c 1 1ᵀ,    c = max_ij (X Xᵀ)_ij / α,

a rank-D matrix (D = feature width, 13 for the colour–texture features) minus a constant. Every
product the optimisation forms with W therefore factorises, with no N × N matrix:

- ``W S = X (Xᵀ S) − c 1 (1ᵀ S)``, so the loss
  ``−Tr(Sᵀ W S) = −‖Xᵀ S‖²_F + c ‖1ᵀ S‖²`` (:func:`cc_lowrank_loss`) costs O(N D K) per
  step instead of O(N² K), and autograd's gradient ``−2 W S`` is formed the same way;
- GCN without normalisation (the seed study's setting for CC) propagates the fixed input,
  ``Wᵀ X = W X = X (Xᵀ X) − c 1 (1ᵀ X)`` (:func:`cc_lowrank_propagation`), computed once.

These are the same numbers as the dense formulas up to float rounding (the sums are taken in
another order); the tests compare both in float64. c is taken from the symmetrised Gram matrix
exactly as :func:`~medgraph.graphs.affinity.cc_affinity` takes it (:func:`cc_offset`), so it is
the same float.
"""

from __future__ import annotations

import math

import torch

from medgraph.graphs.affinity import patch_gram

__all__ = ["cc_offset", "cc_lowrank_loss", "cc_lowrank_propagation"]


def cc_offset(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """CC's constant ``c = max_ij (X Xᵀ)_ij / α`` of every image.

    The maximum is taken over the symmetrised Gram matrix
    (:func:`~medgraph.graphs.affinity.patch_gram`), as
    :func:`~medgraph.graphs.affinity.cc_affinity` takes it, so that
    ``cc_affinity(x, α) == patch_gram(x) − c`` holds bit for bit. The (B, N, N) Gram matrix is
    formed once here, in chunks of images, and not kept.

    Parameters
    ----------
    x : (B, N, D) floating tensor
        Patch features.
    alpha : float
        α > 0.

    Returns
    -------
    (B,) tensor c, dtype and device of x.

    Raises
    ------
    ValueError
        ``alpha`` not a positive number, or an image whose features are all zero (max 0).
    """
    if not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha}")
    if x.ndim != 3:
        raise ValueError(f"features must be (B, N, D), got shape {tuple(x.shape)}")
    gmax = torch.cat([patch_gram(part).amax(dim=(1, 2)) for part in x.split(8)])
    bad = torch.nonzero(gmax <= 0).flatten().tolist()
    if bad:
        raise ValueError(
            f"cc_affinity: max_ij (X Xᵀ) is 0 for image(s) {bad[:10]} (all their features are "
            "zero); the normalisation by the maximum is undefined"
        )
    return gmax / alpha


def cc_lowrank_loss(s: torch.Tensor, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """DeepCut's correlation-clustering loss ``−Tr(Sᵀ W S)`` with ``W = X Xᵀ − c 1 1ᵀ``.

    ``−Tr(Sᵀ W S) = −‖Xᵀ S‖²_F + c ‖1ᵀ S‖²`` (module notes): equal to
    :func:`medgraph.losses.correlation_clustering_loss` on ``cc_affinity(x, α)`` up to float
    rounding, value and gradient, in O(N D K) per image.

    Parameters
    ----------
    s : (B, N, K) floating tensor
        Soft assignments.
    x : (B, N, D) tensor
        Patch features (converted to the dtype of s).
    offset : (B,) tensor
        c of every image (:func:`cc_offset`).

    Returns
    -------
    (B,) tensor.
    """
    x = x.to(s.dtype)
    xts = torch.bmm(x.transpose(1, 2), s)  # (B, D, K)
    sizes = s.sum(dim=1)  # 1ᵀS, (B, K)
    return offset.to(s.dtype) * (sizes * sizes).sum(dim=1) - (xts * xts).sum(dim=(1, 2))


def cc_lowrank_propagation(x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """``Wᵀ X = X (Xᵀ X) − c 1 (1ᵀ X)``: unnormalised GCN propagation of the input on CC's W.

    Equal to ``gcn_propagation(cc_affinity(x, α), normalize=False) @ x`` (PyG's
    ``GCNConv(normalize=False)`` before its weights) up to float rounding, in O(N D²) per image.

    Parameters
    ----------
    x : (B, N, D) floating tensor
    offset : (B,) tensor
        c of every image (:func:`cc_offset`).

    Returns
    -------
    (B, N, D) tensor, dtype of x.
    """
    gram = torch.bmm(x.transpose(1, 2), x)  # XᵀX, (B, D, D)
    column_sums = x.sum(dim=1, keepdim=True)  # 1ᵀX, (B, 1, D)
    return torch.bmm(x, gram) - offset.to(x.dtype)[:, None, None] * column_sums
