"""Training objectives: soft Dice (Eq 3.2), superpixel metric loss (Eqs 2.5–2.7), joint (Eq 3.3).

References are to Jiang et al., "Superpixel metric graph neural network" (SMGNN), MBE 2024.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "dice_coefficients",
    "dice_loss",
    "superpixel_metric_loss",
    "SuperpixelMetricLoss",
    "joint_loss",
    "NonFiniteLossError",
    "check_finite",
]

# n1·n2 above which the metric loss is evaluated in factored form instead of as a matrix: the
# dense form keeps three n1×n2 float32 matrices for backward (12 MiB at the training default of
# 1024 × 1024), the factored form O((n1 + n2)·d) numbers
_DENSE_LIMIT = 1 << 16


# --------------------------------------------------------------------------------------------
# Dice
# --------------------------------------------------------------------------------------------


def dice_coefficients(
    probs: torch.Tensor,
    target: torch.Tensor,
    num_classes: int,
    eps: float = 1e-6,
    valid: torch.Tensor | None = None,
    ignore_index: int | None = None,
) -> torch.Tensor:
    """Soft Dice coefficient (Eq 3.1 with probabilities) of every image and class.

    ``D_bc = (2 Σ_x p_bcx g_bcx + ε) / (Σ_x (p_bcx + g_bcx) + ε)`` with ``g = onehot(target)``.
    ε makes a class absent from both prediction and target score 1 instead of 0/0.

    Parameters
    ----------
    probs : (B, C, H, W) float tensor
        Class probabilities (softmax output), C = ``num_classes``.
    target : (B, H, W) integer tensor
        Class of every pixel, ``0 … C − 1``.
    num_classes : int
    eps : float, default 1e-6
        Smoothing added to numerator and denominator.
    valid : (B, H, W) bool tensor, optional
        Pixels that count; the others (e.g. padding) are left out of every sum, so neither their
        probabilities nor their targets change the result. None: all pixels count.
    ignore_index : int, optional
        A target value marking pixels to leave out (combined with ``valid``). The target may
        hold any value at left-out pixels.

    Returns
    -------
    (B, C) tensor of soft Dice coefficients in [0, 1], differentiable in ``probs``.
    """
    if probs.ndim != 4 or probs.shape[1] != num_classes:
        raise ValueError(f"probs must be (B, {num_classes}, H, W), got shape {tuple(probs.shape)}")
    if target.shape != probs.shape[:1] + probs.shape[2:]:
        raise ValueError(
            f"target {tuple(target.shape)} does not match probs {tuple(probs.shape)} "
            "(expected (B, H, W))"
        )
    if target.dtype.is_floating_point or target.dtype == torch.bool:
        raise TypeError(f"target must be an integer class map, got dtype {target.dtype}")
    target = target.long()
    keep = None
    if ignore_index is not None:
        keep = target != ignore_index
    if valid is not None:
        if valid.shape != target.shape:
            raise ValueError(
                f"valid {tuple(valid.shape)} does not match target {tuple(target.shape)}"
            )
        keep = valid.bool() if keep is None else keep & valid.bool()
    if keep is not None:
        target = torch.where(keep, target, torch.zeros_like(target))
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= num_classes):
        raise ValueError(f"target holds classes outside 0..{num_classes - 1}")
    # Σ_x p·g without the one-hot (B, C, H, W) tensor: gather each pixel's probability of its
    # target class and add it to that class (autograd then keeps only the integer target).
    b = probs.shape[0]
    flat_target = target.reshape(b, -1)
    hit = probs.gather(1, target[:, None]).reshape(b, -1)
    if keep is not None:
        weight = keep.reshape(b, -1).to(probs.dtype)
        hit = hit * weight
        prob_sum = (probs * keep[:, None].to(probs.dtype)).sum(dim=(2, 3))
    else:
        weight = torch.ones_like(flat_target, dtype=probs.dtype)
        prob_sum = probs.sum(dim=(2, 3))
    zeros = probs.new_zeros(b, num_classes)
    inter = zeros.scatter_add(1, flat_target, hit)
    target_sum = zeros.scatter_add(1, flat_target, weight)  # pixels of each class that count
    return (2.0 * inter + eps) / (prob_sum + target_sum + eps)


def dice_loss(
    probs: torch.Tensor,
    target: torch.Tensor,
    num_classes: int,
    eps: float = 1e-6,
    convention: Literal["one_minus", "negative"] = "one_minus",
    valid: torch.Tensor | None = None,
    ignore_index: int | None = None,
) -> torch.Tensor:
    """Soft Dice loss (Eq 3.2), averaged over classes and images.

    The Dice of every image and class (:func:`dice_coefficients`) is averaged first over the C
    classes and then over the B images (one mean over the (B, C) matrix; background included).

    Parameters
    ----------
    probs : (B, C, H, W) float tensor
        Softmax output.
    target : (B, H, W) integer tensor
    num_classes : int
    eps : float, default 1e-6
    convention : {"one_minus", "negative"}, default "one_minus"
        ``"one_minus"`` returns ``1 − mean Dice`` in [0, 1] (0 for a perfect prediction);
        ``"negative"`` returns ``−mean Dice`` in [−1, 0], the sign convention of Eq 3.2. The two
        differ by a constant and have the same gradient.
    valid : (B, H, W) bool tensor, optional
        Pixels that count (see :func:`dice_coefficients`); padding is left out this way.
    ignore_index : int, optional
        Target value of pixels to leave out.

    Returns
    -------
    Scalar tensor.
    """
    mean_dice = dice_coefficients(probs, target, num_classes, eps, valid, ignore_index).mean()
    if convention == "one_minus":
        return 1.0 - mean_dice
    if convention == "negative":
        return -mean_dice
    raise ValueError(f"convention must be 'one_minus' or 'negative', got {convention!r}")


# --------------------------------------------------------------------------------------------
# superpixel metric loss
# --------------------------------------------------------------------------------------------


def _sample(
    k: int, n: int | None, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor | None:
    """Indices of ``min(n, k)`` nodes drawn without replacement, or None for all nodes."""
    if n is None or n >= k:
        return None
    if n < 1:
        raise ValueError(f"number of anchors/references must be ≥ 1, got {n}")
    gen_device = generator.device if generator is not None else device
    return torch.randperm(k, generator=generator, device=gen_device)[:n].to(device)


def _dense_mse(
    u: torch.Tensor,
    v: torch.Tensor,
    p: torch.Tensor,
    q: torch.Tensor,
    a: torch.Tensor | float,
    b: torch.Tensor | float,
) -> torch.Tensor:
    sim = a * (u @ v.T) + b  # Eq 2.6
    if p.ndim == 2:  # class-aware reading: Metric_ij = 𝒴_i · 𝒴_j (class-fraction vectors)
        metric = p @ q.T
    else:
        metric = (p[:, None] + q[None, :]) / 2  # Eq 2.7
    return F.mse_loss(sim, metric)  # Eq 2.5


def _factored_mse(
    u: torch.Tensor,
    v: torch.Tensor,
    p: torch.Tensor,
    q: torch.Tensor,
    a: torch.Tensor | float,
    b: torch.Tensor | float,
) -> torch.Tensor:
    """The same mean of ``(a·u_i·v_j + b − (p_i + q_j)/2)²`` without the n1×n2 matrix.

    Expanding the square with ``r_i = b − p_i/2`` and ``s_j = q_j/2``:
    ``Σ_ij (u_i·v_j)² = Σ (UᵀU ⊙ VᵀV)``, ``Σ_ij u_i·v_j (r_i − s_j) = (Uᵀr)·ΣV − ΣU·(Vᵀs)``,
    ``Σ_ij (r_i − s_j)² = n2 Σr² − 2 Σr Σs + n1 Σs²``; evaluated in float64 against cancellation.
    """
    dtype = u.dtype
    u, v, p, q = u.double(), v.double(), p.double(), q.double()
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    n1, n2 = u.shape[0], v.shape[0]
    if p.ndim == 2:
        # class-aware target p_i·q_j: Σ_ij (u_i·v_j)(p_i·q_j) = Σ (UᵀP ⊙ VᵀQ),
        # Σ_ij (p_i·q_j)² = Σ (PᵀP ⊙ QᵀQ), Σ_ij p_i·q_j = ΣP·ΣQ
        cos_sq = ((u.T @ u) * (v.T @ v)).sum()
        cross = b * (u.sum(0) @ v.sum(0)) - ((u.T @ p) * (v.T @ q)).sum()
        const = n1 * n2 * b * b - 2 * b * (p.sum(0) @ q.sum(0)) + ((p.T @ p) * (q.T @ q)).sum()
        return ((a * a * cos_sq + 2 * a * cross + const) / (n1 * n2)).to(dtype)
    r = b - p / 2
    s = q / 2
    cos_sq = ((u.T @ u) * (v.T @ v)).sum()
    cos_cross = (u.T @ r) @ v.sum(0) - u.sum(0) @ (v.T @ s)
    const = n2 * (r * r).sum() - 2 * r.sum() * s.sum() + n1 * (s * s).sum()
    total = a * a * cos_sq + 2 * a * cos_cross + const
    return (total / (n1 * n2)).to(dtype)


def superpixel_metric_loss(
    embeddings: torch.Tensor,
    scores: torch.Tensor,
    a: torch.Tensor | float,
    b: torch.Tensor | float,
    n_anchors: int | None = None,
    n_refs: int | None = None,
    generator: torch.Generator | None = None,
    method: Literal["auto", "dense", "factored"] = "auto",
) -> torch.Tensor:
    """Superpixel metric loss, Eqs 2.5–2.7.

    ``L_SM = MSE(SIM, Metric)`` over the n1×n2 anchor–reference matrix, with
    ``SIM_ij = a·cos(A_i, R_j) + b`` (Eq 2.6) and ``Metric_ij = (𝒴(A_i) + 𝒴(R_j)) / 2``
    (Eq 2.7, the literal reading: one scalar score per node). With (K, C) scores, the
    class-aware reading (Eq 4.1 indexes the score by class; Fig 2's caption calls it the share of
    the majority class): 𝒴_i is the vector of class fractions of node i and
    ``Metric_ij = 𝒴(A_i)·𝒴(R_j)``, 1 for two pure superpixels of one class, 0 for two of
    different classes.

    Parameters
    ----------
    embeddings : (K, d) float tensor
        Node embeddings H of all superpixels of the batch (all images together).
    scores : (K,) or (K, C) float tensor
        (K,): metric score 𝒴 of every node (Eq 2.1), normally in [0, 1]; (K, C): class
        fractions of every node (rows summing to 1), for the class-aware target. For the 3-class WBC masks
        the workbook uses Eq 2.1 of the label image scaled to [0, 1], ``Y/(C − 1)``
        (:func:`medgraph.graphs.node_metric_score`: background 0, cytoplasm 0.5, nucleus 1),
        because a mean of raw class indices {0, 1, 2} is not a similarity target; any (K,)
        score may be passed instead.
    a, b : scalar tensors or floats
        Scale and offset of Eq 2.6 (learnable in :class:`SuperpixelMetricLoss`).
    n_anchors, n_refs : int, optional
        Numbers n1, n2 of anchors and references, each drawn uniformly without replacement
        from all K nodes of the batch (so they may come from different images, §2.4); the two
        draws are independent, so a node can be both an anchor and a reference. None, or a
        number ≥ K, uses all nodes.
    generator : torch.Generator, optional
        Source of randomness for the draws (reproducible sampling).
    method : {"auto", "dense", "factored"}, default "auto"
        ``"dense"`` builds the n1×n2 matrices (O(n1·n2) memory); ``"factored"`` computes the
        same mean by expanding the square (O((n1 + n2)·d²), exact up to rounding);
        ``"auto"`` uses dense up to 2¹⁶ entries.

    Returns
    -------
    Scalar tensor, differentiable in ``embeddings``, ``a`` and ``b``.

    Raises
    ------
    ValueError
        Empty node set, mismatched shapes, or NaN/inf in embeddings or scores.

    Notes
    -----
    Cosines use :func:`torch.nn.functional.normalize` (ε = 1e-12), so an all-zero embedding
    has cosine 0 with everything.
    """
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be (K, d), got shape {tuple(embeddings.shape)}")
    k = embeddings.shape[0]
    if k == 0:
        raise ValueError("superpixel metric loss needs at least one node, got an empty set")
    scores = torch.as_tensor(scores, device=embeddings.device)
    if scores.shape[:1] != (k,) or scores.ndim not in (1, 2):
        raise ValueError(f"scores must have shape ({k},) or ({k}, C), got {tuple(scores.shape)}")
    if not bool(torch.isfinite(embeddings).all()):
        raise ValueError("embeddings contain NaN or inf")
    if not bool(torch.isfinite(scores).all()):
        raise ValueError("metric scores contain NaN or inf")
    scores = scores.to(embeddings.dtype)
    anchors = _sample(k, n_anchors, generator, embeddings.device)
    refs = _sample(k, n_refs, generator, embeddings.device)
    unit = F.normalize(embeddings, dim=1)
    u = unit if anchors is None else unit[anchors]
    v = unit if refs is None else unit[refs]
    p = scores if anchors is None else scores[anchors]
    q = scores if refs is None else scores[refs]
    if method == "auto":
        method = "dense" if u.shape[0] * v.shape[0] <= _DENSE_LIMIT else "factored"
    if method == "dense":
        return _dense_mse(u, v, p, q, a, b)
    if method == "factored":
        return _factored_mse(u, v, p, q, a, b)
    raise ValueError(f"method must be 'auto', 'dense' or 'factored', got {method!r}")


class SuperpixelMetricLoss(nn.Module):
    """Superpixel metric loss (Eqs 2.5–2.7) with learnable ``a`` and ``b``.

    Parameters
    ----------
    n_anchors, n_refs : int, optional
        Default numbers of anchors and references (None: all nodes).
    a_init, b_init : float, default 1 and 0
        Initial scale and offset of Eq 2.6.

    Notes
    -----
    ``a`` and ``b`` are parameters of this module: give them to the optimiser together with
    the model's (``list(model.parameters()) + list(loss.parameters())``).
    """

    def __init__(
        self,
        n_anchors: int | None = None,
        n_refs: int | None = None,
        a_init: float = 1.0,
        b_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_anchors = n_anchors
        self.n_refs = n_refs
        self.a = nn.Parameter(torch.tensor(float(a_init)))
        self.b = nn.Parameter(torch.tensor(float(b_init)))

    def forward(
        self,
        embeddings: torch.Tensor,
        scores: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Loss of (K, d) embeddings against (K,) metric scores; see :func:`superpixel_metric_loss`."""
        return superpixel_metric_loss(
            embeddings, scores, self.a, self.b, self.n_anchors, self.n_refs, generator
        )


def joint_loss(dice: torch.Tensor, metric: torch.Tensor, lam: float = 0.1) -> torch.Tensor:
    """Joint objective of Eq 3.3, ``L_Dice + λ·L_SM`` (the paper uses λ = 0.1).

    Parameters
    ----------
    dice, metric : scalar tensors
    lam : float, default 0.1
        λ ≥ 0.

    Returns
    -------
    Scalar tensor.
    """
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lambda must be ≥ 0, got {lam}")
    return dice + lam * metric


# --------------------------------------------------------------------------------------------
# guard
# --------------------------------------------------------------------------------------------


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


def check_finite(loss: torch.Tensor | float, step: int) -> None:
    """Stop training on a NaN or infinite loss.

    Parameters
    ----------
    loss : scalar tensor or float
    step : int
        Optimisation step, for the message.

    Raises
    ------
    NonFiniteLossError
        With the message ``"loss became NaN at step N; training stopped, no report written"``
        (``inf`` in place of ``NaN`` for an infinite loss).
    """
    value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
    if math.isfinite(value):
        return
    kind = "NaN" if math.isnan(value) else "inf"
    raise NonFiniteLossError(
        f"loss became {kind} at step {step}; training stopped, no report written"
    )
