"""Edge weights of fully connected superpixel graphs (Elwer, Rushdi, Annaby, 2026, Sec. 4.2-4.3, 7.4).

Every graph is simple, undirected and fully connected: ``n`` nodes (superpixels), node ``i``
carrying a feature vector ``x_i`` in ``R^m``; the data matrix of one graph is ``X`` of shape
``(n, m)``. All functions are batched over ``B`` graphs with the same ``n`` and work on torch
tensors of shape ``(B, n, m)`` or ``(B, n, n)``; results keep the device and dtype of the input
(float64 recommended).

- :func:`pairwise_distances`: Eq 1, ``d_ij = ||x_i - x_j||`` (Euclidean, not squared).
- :func:`gaussian_weights`: Eq 2, the handcrafted Gaussian-kernel weights.
- :func:`learn_weights_mm` and :func:`mm_objective`: Eqs 3-7 and Algorithm 1, the weights learned
  by majorization-minimization (Kalofolias 2016, in the vector form of Fatima et al. 2022).
- :func:`prune_weights` and :func:`prune_mask`: Eqs 8-10, keeping the strongest edges.

Edges are indexed in the row-major order of the strict upper triangle,
``(0, 1), (0, 2), ..., (0, n-1), (1, 2), ...`` (that of :func:`torch.triu_indices` with offset 1),
so that ``r = n (n - 1) / 2`` edges give the vectors ``w`` and ``d`` of Eqs 4-5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

__all__ = [
    "MMResult",
    "gaussian_weights",
    "learn_weights_mm",
    "mm_objective",
    "pairwise_distances",
    "prune_mask",
    "prune_weights",
]

Centre = Literal["data", "distances", "zero"]

# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _check_features(x: torch.Tensor, min_nodes: int = 1) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of shape (B, n, m), got {type(x).__name__}")
    if x.ndim != 3:
        raise ValueError(f"expected node features of shape (B, n, m), got shape {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"node features must be a floating dtype, got {x.dtype}")
    if x.shape[1] < min_nodes:
        raise ValueError(f"need at least {min_nodes} nodes per graph, got n = {x.shape[1]}")
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError("node features contain NaN or inf")


def _check_square(w: torch.Tensor, name: str) -> None:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, n, n), got {type(w).__name__}")
    if w.ndim != 3 or w.shape[1] != w.shape[2]:
        raise ValueError(f"{name} must have shape (B, n, n), got shape {tuple(w.shape)}")
    if not w.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating dtype, got {w.dtype}")
    if w.numel() and not bool(torch.isfinite(w).all()):
        raise ValueError(f"{name} contains NaN or inf")


def _upper(a: torch.Tensor) -> torch.Tensor:
    """The strict upper triangle of (B, n, n) as (B, r), in row-major edge order."""
    n = a.shape[-1]
    iu = torch.triu_indices(n, n, offset=1, device=a.device)
    return a[:, iu[0], iu[1]]


def _mirror(upper: torch.Tensor, n: int) -> torch.Tensor:
    """(B, r) edge values -> (B, n, n) exactly symmetric matrix with a zero diagonal."""
    out = upper.new_zeros((upper.shape[0], n, n))
    iu = torch.triu_indices(n, n, offset=1, device=upper.device)
    out[:, iu[0], iu[1]] = upper
    out[:, iu[1], iu[0]] = upper
    return out


# --------------------------------------------------------------------------------------------
# Eq 1 and Eq 2
# --------------------------------------------------------------------------------------------


def pairwise_distances(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between the node feature vectors of each graph (Eq 1).

    Parameters
    ----------
    x : torch.Tensor, shape (B, n, m)
        Node features of ``B`` graphs (floating dtype, any device), in the units of the features.

    Returns
    -------
    torch.Tensor, shape (B, n, n)
        ``d_ij = ||x_i - x_j||_2`` (not squared), in the units of ``x``; exactly symmetric with
        exact zeros on the diagonal; same device and dtype as ``x``.

    Notes
    -----
    The distances are computed from the coordinate differences
    (:func:`torch.cdist` with ``compute_mode="donot_use_mm_for_euclid_dist"``), not from the
    expansion ``|x_i|^2 + |x_j|^2 - 2 x_i . x_j``, so close points lose no precision to
    cancellation and no negative squared distance can arise (the result is still clamped at 0
    for safety). No gradient is guaranteed at ``d_ij = 0``.
    """
    _check_features(x)
    n = x.shape[1]
    d = torch.cdist(x, x, p=2.0, compute_mode="donot_use_mm_for_euclid_dist").clamp_min(0.0)
    return _mirror(_upper(d), n)


def _off_diagonal_stats(d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    upper = _upper(d)
    if upper.shape[1] == 0:
        raise ValueError("need at least 2 nodes per graph to take statistics of the distances")
    return upper.mean(dim=1), upper.var(dim=1, unbiased=False)


def gaussian_weights(x: torch.Tensor, *, centre: Centre = "data") -> torch.Tensor:
    """Handcrafted Gaussian-kernel edge weights of fully connected graphs (Eq 2).

    ``w_ij = exp(-(d_ij - mu)^2 / (2 sigma^2))`` for ``i != j`` and ``w_ii = 0``, with ``d_ij``
    the Euclidean distances of Eq 1.

    Parameters
    ----------
    x : torch.Tensor, shape (B, n, m)
        Node features of ``B`` graphs (floating dtype, any device).
    centre : {"data", "distances", "zero"}, default "data"
        Where ``mu`` and ``sigma^2`` come from, per graph:

        - ``"data"`` (the paper as written: "let mu and sigma^2 be the mean and variance of the
          data matrix X"): the mean and population variance of all ``n * m`` entries of that
          graph's ``X``.
        - ``"distances"``: the mean and population variance of that graph's off-diagonal
          distances ``d_ij``, ``i < j``.
        - ``"zero"``: ``mu = 0`` and ``sigma^2`` the population variance of the off-diagonal
          distances: the usual kernel, monotone decreasing in ``d``.

    Returns
    -------
    torch.Tensor, shape (B, n, n)
        Weights in ``(0, 1]`` off the diagonal (some may underflow to 0), zero diagonal, exactly
        symmetric; same device and dtype as ``x``.

    Raises
    ------
    ValueError
        If ``sigma^2 = 0`` for some graph (for ``"data"``: all entries of ``X`` equal; for the
        other modes: all off-diagonal distances equal, e.g. ``n = 2``); the message names the
        graph index.

    Notes
    -----
    With ``mu != 0`` (the default ``"data"`` and ``"distances"``) the kernel is **not monotone**
    in ``d``: it peaks at ``d = mu``, so identical superpixels (``d = 0``) do not get the largest
    weight. This is what the paper's Eq 2 says as written; ``centre="zero"`` gives the
    conventional similarity kernel. With ``"data"`` the result also depends on the offset and
    units of the features (``mu`` is a feature value compared with a distance), so the caller
    decides whether ``X`` is standardised.
    """
    _check_features(x, min_nodes=2)
    d = pairwise_distances(x)
    if centre == "data":
        flat = x.reshape(x.shape[0], -1)
        mu = flat.mean(dim=1)
        var = flat.var(dim=1, unbiased=False)
    elif centre == "distances":
        mu, var = _off_diagonal_stats(d)
    elif centre == "zero":
        _, var = _off_diagonal_stats(d)
        mu = torch.zeros_like(var)
    else:
        raise ValueError(f"centre must be 'data', 'distances' or 'zero', got {centre!r}")
    bad = torch.nonzero(~(var > 0)).flatten().tolist()
    if bad:
        what = "all entries of X are equal" if centre == "data" else "all distances are equal"
        raise ValueError(
            f"sigma^2 = 0 for graph index {bad[0]} (graphs {bad}): {what}, "
            f"so the Gaussian kernel of centre={centre!r} is undefined"
        )
    upper = _upper(d)
    w = torch.exp(-((upper - mu[:, None]) ** 2) / (2.0 * var[:, None]))
    return _mirror(w, x.shape[1])


# --------------------------------------------------------------------------------------------
# Eqs 3-7, Algorithm 1: majorization-minimization
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MMResult:
    """Output of :func:`learn_weights_mm`.

    Attributes
    ----------
    weights : torch.Tensor, shape (B, n, n)
        Learned weights, non-negative, exactly symmetric, zero diagonal; dtype/device of the input.
    objective : torch.Tensor, shape (B, K + 1)
        ``f(w^(0)), f(w^(1)), ...`` per graph, ``K = max(iterations)``; a graph that stopped
        earlier is padded with its final value.
    iterations : torch.Tensor, shape (B,), int64
        MM updates applied to each graph.
    converged : torch.Tensor, shape (B,), bool
        Whether the relative-change criterion was met (False if ``max_iter`` was reached first).
    """

    weights: torch.Tensor
    objective: torch.Tensor
    iterations: torch.Tensor
    converged: torch.Tensor


def mm_objective(
    w_matrix: torch.Tensor,
    distances: torch.Tensor,
    delta: float = 1.0,
    gamma: float = 1.0,
) -> torch.Tensor:
    """Objective of Eqs 4-5 evaluated from the matrix form.

    ``f(w) = 2 w^T d - delta sum_i log(t_i^T w) + gamma ||w||^2``, where ``w`` and ``d`` are the
    strict upper triangles (``i < j``) of ``W`` and ``D`` and ``t_i^T w = sum_j W_ij`` is the
    degree of node ``i``. This equals Eq 3, ``||W o D||_1 - delta 1^T log(W 1) +
    gamma / 2 ||W||_F^2``, for symmetric ``W``, ``D`` with zero diagonals.

    Parameters
    ----------
    w_matrix : torch.Tensor, shape (B, n, n)
        Weights; only the strict upper triangle is read (the degree uses it mirrored).
    distances : torch.Tensor, shape (B, n, n)
        Distances ``d_ij`` (Eq 1), in the units of the features; strict upper triangle read.
    delta, gamma : float
        Regularisation weights of the log-degree barrier and of the squared norm.

    Returns
    -------
    torch.Tensor, shape (B,)
        ``f`` per graph (``+inf`` if some degree is 0); dtype/device of ``w_matrix``.
    """
    _check_square(w_matrix, "w_matrix")
    if distances.shape != w_matrix.shape:
        raise ValueError(
            f"distances must have the shape of w_matrix {tuple(w_matrix.shape)}, "
            f"got {tuple(distances.shape)}"
        )
    w = _upper(w_matrix)
    d = _upper(distances.to(w_matrix))
    deg = _mirror(w, w_matrix.shape[1]).sum(dim=2)
    return 2.0 * (w * d).sum(dim=1) - delta * torch.log(deg).sum(dim=1) + gamma * (w * w).sum(1)


def _mm_step(
    w: torch.Tensor, d: torch.Tensor, offdiag: torch.Tensor, delta: float, gamma: float
) -> torch.Tensor:
    """One MM update (Eqs 6-7) of symmetric (B, n, n) weights; diagonal stays 0."""
    deg = w.sum(dim=2)  # (B, n): t_i^T w
    inv = 1.0 / deg
    c = delta * w * (inv[:, :, None] + inv[:, None, :])  # Eq 7, c_e for e = (a, b)
    c = torch.where(offdiag, c, torch.zeros_like(c))
    # Eq 6 in the cancellation-free form  2c / (2d + sqrt(4d^2 + 8 gamma c))
    #   = c / (d + hypot(d, sqrt(2 gamma c)))   (hypot also avoids overflow of d^2)
    denom = d + torch.hypot(d, torch.sqrt(2.0 * gamma * c))
    safe = denom > 0
    return torch.where(safe, c / torch.where(safe, denom, torch.ones_like(denom)), 0.0)


def learn_weights_mm(
    x: torch.Tensor,
    *,
    delta: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-6,
    max_iter: int = 2000,
    distances: torch.Tensor | None = None,
) -> MMResult:
    """Learn the edge weights by majorization-minimization (Eqs 3-7, Algorithm 1).

    Solves, per graph, ``min_w f(w) = 2 w^T d - delta sum_i log(t_i^T w) + gamma ||w||^2`` over
    the ``r = n (n - 1) / 2`` edge weights ``w >= 0`` (Kalofolias 2016 in the form of Fatima et
    al. 2022). Starting from ``w^(0) = 1``, each MM step sets, for edge ``e = (a, b)``,

    ``c_e = delta w_e (1 / deg_a + 1 / deg_b)``  (Eq 7, degrees of ``w^(k)``),
    ``w_e <- (-2 d_e + sqrt(4 d_e^2 + 8 gamma c_e)) / (4 gamma)``  (Eq 6),

    the minimiser of the separable surrogate ``2 d_e w - c_e log w + gamma w^2``, which
    majorizes ``f`` up to a constant (Jensen's inequality on the concave ``log`` of each degree),
    so ``f`` never increases. The root is evaluated as ``2 c / (2 d + sqrt(4 d^2 + 8 gamma c))``
    (same value, no cancellation for large ``d``). Iteration stops per graph once
    ``|f(w^(k-1)) - f(w^(k))| / |f(w^(k-1))| <= eps`` (Algorithm 1, line 16) or at ``max_iter``;
    converged graphs are frozen while the others continue.

    Parameters
    ----------
    x : torch.Tensor, shape (B, n, m)
        Node features (floating dtype, any device), ``n >= 2``. Their scale matters: the
        optimal weights scale like ``1 / d``, and the balance between the terms depends on the
        units of ``d``; the caller decides whether ``X`` is standardised.
    delta : float, default 1.0
        Weight of the log-degree barrier (> 0). The paper does not state its value.
    gamma : float, default 1.0
        Weight of the squared-norm penalty (> 0). The paper does not state its value.
    eps : float, default 1e-6
        Relative-change tolerance of the objective (>= 0).
    max_iter : int, default 2000
        Maximum number of MM updates (>= 0).
    distances : torch.Tensor, shape (B, n, n), optional
        Precomputed non-negative distances (Eq 1); only their strict upper triangle is read.
        Default: :func:`pairwise_distances` of ``x``.

    Returns
    -------
    MMResult
        Weights (B, n, n), objective history (B, K + 1), iterations (B,) and converged (B,).

    Raises
    ------
    FloatingPointError
        If a node degree reaches 0 or the objective becomes non-finite (possible only through
        underflow/overflow, e.g. distances near the dtype's range); the message names the graph.
    """
    _check_features(x, min_nodes=2)
    if not (delta > 0 and gamma > 0):
        raise ValueError(f"delta and gamma must be > 0, got delta={delta}, gamma={gamma}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be an int >= 0, got {max_iter!r}")
    bsz, n = x.shape[0], x.shape[1]
    if distances is None:
        d = pairwise_distances(x)
    else:
        _check_square(distances, "distances")
        if distances.shape != (bsz, n, n):
            raise ValueError(
                f"distances must have shape {(bsz, n, n)}, got {tuple(distances.shape)}"
            )
        d = _mirror(_upper(distances.to(device=x.device, dtype=x.dtype)), n)
        if bool((d < 0).any()):
            raise ValueError("distances must be non-negative")

    with torch.no_grad():
        offdiag = ~torch.eye(n, dtype=torch.bool, device=x.device)
        w = offdiag.to(x.dtype).expand(bsz, n, n).clone()  # w^(0) = 1 off the diagonal
        f = mm_objective(w, d, delta, gamma)
        history = [f]
        iterations = torch.zeros(bsz, dtype=torch.int64, device=x.device)
        converged = torch.zeros(bsz, dtype=torch.bool, device=x.device)
        active = torch.ones(bsz, dtype=torch.bool, device=x.device)
        for k in range(max_iter):
            if not bool(active.any()):
                break
            w_new = _mm_step(w, d, offdiag, delta, gamma)
            w = torch.where(active[:, None, None], w_new, w)
            deg = w.sum(dim=2)
            f_new = mm_objective(w, d, delta, gamma)
            bad = active & (~(deg > 0).all(dim=1) | ~torch.isfinite(f_new))
            if bool(bad.any()):
                g = int(torch.nonzero(bad)[0])
                raise FloatingPointError(
                    f"MM iteration {k + 1}, graph index {g}: a node degree reached 0 or the "
                    "objective is not finite (under/overflow; rescale the features or distances)"
                )
            change = (f - f_new).abs()
            scale = f.abs()
            rel = torch.where(
                scale > 0,
                change / torch.where(scale > 0, scale, torch.ones_like(scale)),
                torch.where(change > 0, math.inf, 0.0),
            )
            iterations = iterations + active.to(torch.int64)
            done = active & (rel <= eps)
            converged = converged | done
            active = active & ~done
            f = torch.where(active | done, f_new, f)
            history.append(f)
    return MMResult(
        weights=w,
        objective=torch.stack(history, dim=1),
        iterations=iterations,
        converged=converged,
    )


# --------------------------------------------------------------------------------------------
# Eqs 8-10: pruning
# --------------------------------------------------------------------------------------------


def _kept_count(tau: float, r: int) -> int:
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0.0 <= tau < 1.0:
        raise ValueError(f"tau must be a number in [0, 1), got {tau!r}")
    # round half up; the 1e-9 keeps binary rounding of tau (0.7 * 5 = 3.4999...) from moving a half
    return min(r, int(math.floor((1.0 - tau) * r + 0.5 + 1e-9)))


def _check_symmetric(w: torch.Tensor) -> None:
    if w.numel() and not torch.allclose(w, w.mT, rtol=1e-5, atol=0.0):
        raise ValueError("w must be symmetric (an undirected graph)")


def prune_mask(w: torch.Tensor, tau: float) -> torch.Tensor:
    """Mask of the edges kept by pruning ratio ``tau`` (Eq 10's ``M^(tau)``).

    Among the ``r = n (n - 1) / 2`` edges ``i < j`` of each graph, exactly
    ``k = round((1 - tau) r)`` (round half up) strongest ones are kept; ties are broken by the
    lower edge index first (row-major upper-triangle order, a stable sort).

    Parameters
    ----------
    w : torch.Tensor, shape (B, n, n)
        Symmetric weights (finite); only the strict upper triangle is ranked.
    tau : float
        Pruning ratio in ``[0, 1)``: the weakest ``tau * 100 %`` of the edges are dropped.

    Returns
    -------
    torch.Tensor, shape (B, n, n), bool
        True on the kept edges, symmetric, False on the diagonal; ``k`` True entries above the
        diagonal per graph (a kept edge may have weight 0 if fewer than ``k`` are positive).

    Notes
    -----
    The paper keeps ``W(i, j) >= T_tau`` with ``T_tau`` the threshold that retains the top
    ``(1 - tau) 100 %`` of edges, i.e. the ``tau``-quantile of the edge weights. With distinct
    weights and ``T_tau`` the ``k``-th largest weight the two agree; an exact count avoids ties
    at ``T_tau`` keeping more edges than ``(1 - tau) r`` and does not depend on a quantile
    interpolation convention.
    """
    _check_square(w, "w")
    _check_symmetric(w)
    n = w.shape[1]
    upper = _upper(w)
    k = _kept_count(tau, upper.shape[1])
    order = torch.sort(upper, dim=1, descending=True, stable=True).indices
    keep = torch.zeros_like(upper, dtype=torch.bool)
    keep.scatter_(1, order[:, :k], True)
    mask = torch.zeros((w.shape[0], n, n), dtype=torch.bool, device=w.device)
    iu = torch.triu_indices(n, n, offset=1, device=w.device)
    mask[:, iu[0], iu[1]] = keep
    mask[:, iu[1], iu[0]] = keep
    return mask


def prune_weights(w: torch.Tensor, tau: float) -> torch.Tensor:
    """Prune the weakest ``tau * 100 %`` of each graph's edges (Eqs 8-9).

    ``W^(tau) = W o M^(tau)`` with the mask of :func:`prune_mask`: exactly
    ``round((1 - tau) r)`` (round half up) of the ``r = n (n - 1) / 2`` edges are kept, the
    strongest ones, ties broken by the lower edge index first.

    Parameters
    ----------
    w : torch.Tensor, shape (B, n, n)
        Symmetric weights (finite); only the strict upper triangle is read.
    tau : float
        Pruning ratio in ``[0, 1)``; ``tau = 0`` returns a copy of ``w`` (for a symmetric ``w``
        with a zero diagonal).

    Returns
    -------
    torch.Tensor, shape (B, n, n)
        Pruned weights, exactly symmetric, zero diagonal; same device and dtype as ``w``.

    Notes
    -----
    See :func:`prune_mask` for how the exact count relates to the paper's threshold ``T_tau``.
    """
    mask = prune_mask(w, tau)
    full = _mirror(_upper(w), w.shape[1])
    return torch.where(mask, full, torch.zeros_like(full))
