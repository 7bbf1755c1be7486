"""The per-image clustering network of the seed study, for many images with their own weights.

DeepCut and UnSeGGNet fit a small GNN to each image separately: the image's patches are the
nodes, its affinity (:mod:`medgraph.graphs.affinity`) the graph, and the network's softmax output
the soft assignment ``S`` of every patch to K clusters, trained by a graph-cut loss
(:mod:`medgraph.losses.graph_cut`). The seed study's network is

    one GNN layer (GCN, GAT or ARMA; ``in → hidden``) → SiLU → Linear (``hidden → K``) → ELU →
    softmax over the K clusters,

with hidden = 64 and K = 2 by default. (DeepCut's own head is ELU → Linear(64, 32) → ELU →
Dropout → Linear(32, K); the seed study's single linear layer is implemented here.)

To optimise B images at once, each with its own parameters, the layers are written densely with
a leading image axis on every parameter (weights (B, in, out), biases (B, out)) and the graph as
a dense (B, N, N) matrix, computed with batched matrix products. Each layer reproduces one PyG
layer applied to the graph whose edges are the non-zero entries of the dense matrix, with those
entries as edge weights (``edge_index = W.nonzero().T``, ``edge_weight = W[edge_index]``; PyG's
``source → target`` flow, so node i aggregates over column i of W, i.e. the product is with
``Wᵀ``; the affinities here are symmetric):

- :class:`PerImageGCNConv` — ``GCNConv`` (``gcn_norm`` with ``add_remaining_self_loops``);
- :class:`PerImageGATConv` — ``GATConv(heads=1)``;
- :class:`PerImageARMAConv` — ``ARMAConv(num_stacks=1, num_layers=1)``.

Initialisation is reproducible per image: :class:`GraphCutNet` takes one seed per image and
draws that image's parameters from its own ``torch.Generator`` (on the CPU, in float32, in a
fixed order: the GNN layer's tensors, then the linear head's weight and bias), so an image gets
the same initial weights whether it is optimised alone or in a batch, on any device. The
distributions are those of the PyG layers (Glorot uniform weights, zero biases) and of
``torch.nn.Linear`` for the head (uniform in ±1/√hidden).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LayerName",
    "gcn_propagation",
    "arma_propagation",
    "gat_neighbours",
    "PerImageGCNConv",
    "PerImageGATConv",
    "PerImageARMAConv",
    "GraphCutNet",
]

LayerName = Literal["gcn", "gat", "arma"]
Prepared = dict[str, torch.Tensor]


# --------------------------------------------------------------------------------------------
# propagation matrices (parameter free: computed once per graph)
# --------------------------------------------------------------------------------------------


def _check_adjacency(adj: torch.Tensor) -> None:
    if adj.ndim != 3 or adj.shape[1] != adj.shape[2]:
        raise ValueError(f"adjacency must be (B, N, N), got shape {tuple(adj.shape)}")


def _inv_sqrt(deg: torch.Tensor) -> torch.Tensor:
    """``deg^-1/2`` with PyG's convention that a zero degree gives 0 (not inf)."""
    out = deg.pow(-0.5)
    return out.masked_fill(torch.isinf(out), 0.0)


def gcn_propagation(adj: torch.Tensor, *, normalize: bool = True) -> torch.Tensor:
    """The matrix P of PyG's ``GCNConv``, ``out = P X Θ + b``.

    ``normalize=True``: ``P = D̃^-1/2 Ã D̃^-1/2`` with ``Ã = Wᵀ`` whose zero diagonal entries are
    set to 1 and ``D̃ = diag(Ã 1)``. This is PyG's ``gcn_norm``: ``add_remaining_self_loops``
    adds a self loop of weight 1 to every node that has none and keeps the weight of an
    existing one. For a W with zero diagonal, ``Ã = W + I`` exactly; the NCut and DMoN
    affinities have non-zero diagonals (``‖x_i‖²/max``, 1), which PyG — and so DeepCut and the
    seed study — keep instead of adding 1. A zero degree gives a zero row (PyG's inf → 0).

    ``normalize=False``: ``P = Wᵀ`` — PyG's ``GCNConv(normalize=False)`` neither normalises
    nor adds self loops. Needed for correlation clustering, whose negative weights can make
    ``D̃`` negative.

    Parameters
    ----------
    adj : (B, N, N) tensor
        Dense weighted adjacency W (entry (j, i) is the weight of the edge j → i).
    normalize : bool, default True

    Returns
    -------
    (B, N, N) tensor P, row i = target node i.
    """
    _check_adjacency(adj)
    at = adj.transpose(1, 2)
    if not normalize:
        return at
    diag = at.diagonal(dim1=1, dim2=2)
    loops = torch.where(diag != 0, diag, torch.ones_like(diag))
    at = at - torch.diag_embed(diag) + torch.diag_embed(loops)
    dis = _inv_sqrt(at.sum(dim=2))
    return dis[:, :, None] * at * dis[:, None, :]


def arma_propagation(adj: torch.Tensor) -> torch.Tensor:
    """The matrix ``L̂ = D^-1/2 Wᵀ D^-1/2`` of PyG's ``ARMAConv`` (``gcn_norm`` without self loops).

    ``D = diag(Wᵀ 1)``; self loops present in W (a non-zero diagonal) are kept as they are, none
    are added. ``D^-1/2`` is undefined for a negative degree, which the signed weights of
    correlation clustering produce: such graphs are refused.

    Parameters
    ----------
    adj : (B, N, N) tensor

    Returns
    -------
    (B, N, N) tensor.

    Raises
    ------
    ValueError
        A node with a negative degree (naming the images).
    """
    _check_adjacency(adj)
    at = adj.transpose(1, 2)
    deg = at.sum(dim=2)
    bad = torch.nonzero((deg < 0).any(dim=1)).flatten().tolist()
    if bad:
        raise ValueError(
            f"ARMA normalisation D^-1/2 is undefined: negative node degrees in image(s) "
            f"{bad[:10]} (signed weights such as correlation clustering's cannot be used)"
        )
    dis = _inv_sqrt(deg)
    return dis[:, :, None] * at * dis[:, None, :]


def gat_neighbours(adj: torch.Tensor) -> torch.Tensor:
    """Which sources each node attends to in PyG's ``GATConv``: ``Wᵀ ≠ 0`` plus self loops.

    ``GATConv(add_self_loops=True)`` removes the self loops of the graph and adds one per node,
    so the diagonal is always included, once. Edge weights are not used by ``GATConv`` without
    edge features, only whether an edge exists.

    Parameters
    ----------
    adj : (B, N, N) tensor

    Returns
    -------
    (B, N, N) bool tensor M, ``M[b, i, j]``: node i attends to node j.
    """
    _check_adjacency(adj)
    mask = adj.transpose(1, 2) != 0
    eye = torch.eye(adj.shape[1], dtype=torch.bool, device=adj.device)
    return mask | eye


# --------------------------------------------------------------------------------------------
# per-image parameters
# --------------------------------------------------------------------------------------------


def _uniform(gen: torch.Generator, shape: tuple[int, ...], bound: float) -> torch.Tensor:
    """float32 CPU tensor uniform in [−bound, bound) drawn from ``gen``."""
    return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2.0 - 1.0) * bound


def _glorot(gen: torch.Generator, fan_in: int, fan_out: int) -> torch.Tensor:
    """PyG's ``glorot``: uniform in ±√(6 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    return _uniform(gen, (fan_in, fan_out), math.sqrt(6.0 / (fan_in + fan_out)))


class _PerImageModule(nn.Module):
    """Parameters with a leading image axis, filled image by image from generators."""

    n_images: int

    def _draw(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """One image's initial values, by parameter name, in a fixed order of draws."""
        raise NotImplementedError

    @torch.no_grad()
    def reset_parameters(self, generators: Sequence[torch.Generator]) -> None:
        """Draw every image's parameters from its generator (image b from ``generators[b]``).

        Parameters
        ----------
        generators : sequence of B CPU torch.Generator
        """
        if len(generators) != self.n_images:
            raise ValueError(f"need {self.n_images} generators, got {len(generators)}")
        draws = [self._draw(g) for g in generators]
        for name, param in self.named_parameters(recurse=False):
            param.copy_(torch.stack([d[name] for d in draws]).to(param.dtype))

    def _param(
        self, *shape: int, dtype: torch.dtype, device: torch.device | str | None
    ) -> nn.Parameter:
        return nn.Parameter(torch.zeros((self.n_images, *shape), dtype=dtype, device=device))


class PerImageGCNConv(_PerImageModule):
    """PyG ``GCNConv`` with one weight matrix and bias per image: ``out = P X Θ_b + b_b``.

    P is :func:`gcn_propagation`. Parameters: ``weight`` (B, in, out) — PyG's ``lin.weight``
    transposed — and ``bias`` (B, out).

    Parameters
    ----------
    n_images, in_channels, out_channels : int
    normalize : bool, default True
        PyG's ``normalize`` (False for correlation clustering).
    dtype : torch.dtype, default float32
    device : torch.device or str, optional
    """

    def __init__(
        self,
        n_images: int,
        in_channels: int,
        out_channels: int,
        *,
        normalize: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.n_images, self.in_channels, self.out_channels = n_images, in_channels, out_channels
        self.normalize = normalize
        self.weight = self._param(in_channels, out_channels, dtype=dtype, device=device)
        self.bias = self._param(out_channels, dtype=dtype, device=device)

    def _draw(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        return {
            "weight": _glorot(gen, self.in_channels, self.out_channels),
            "bias": torch.zeros(self.out_channels),
        }

    def prepare(self, x: torch.Tensor, adj: torch.Tensor) -> Prepared:
        """The parameter-free part, ``P X`` (B, N, in), computed once per graph.

        ``P (X Θ) = (P X) Θ``: with the graph fixed during the optimisation, ``P X`` is formed
        once and every step costs a (N × in) by (in × out) product per image instead of N².
        """
        p = gcn_propagation(adj.to(self.weight.dtype), normalize=self.normalize)
        return {"px": torch.bmm(p, x.to(self.weight.dtype))}

    def forward_prepared(self, prepared: Prepared) -> torch.Tensor:
        """(B, N, out) output from :meth:`prepare`'s tensors."""
        return torch.baddbmm(self.bias[:, None, :], prepared["px"], self.weight)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """(B, N, out) output for features x (B, N, in) on the graphs adj (B, N, N)."""
        return self.forward_prepared(self.prepare(x, adj))


class PerImageGATConv(_PerImageModule):
    """PyG ``GATConv`` (one head, ``concat=True``, ``negative_slope=0.2``, ``add_self_loops=True``,
    no edge features, dropout 0) with per-image parameters.

    ``h = X Θ``; ``e_ij = LeakyReLU(⟨a_dst, h_i⟩ + ⟨a_src, h_j⟩)`` for j among i's neighbours
    (:func:`gat_neighbours`, self included); ``α_i· = softmax_j(e_i·)``;
    ``out_i = Σ_j α_ij h_j + b``. Parameters: ``weight`` (B, in, out) (PyG's ``lin.weight``
    transposed), ``att_src`` and ``att_dst`` (B, out), ``bias`` (B, out). Costs (B, N, N) memory
    per step: attention depends on the parameters.
    """

    def __init__(
        self,
        n_images: int,
        in_channels: int,
        out_channels: int,
        *,
        negative_slope: float = 0.2,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.n_images, self.in_channels, self.out_channels = n_images, in_channels, out_channels
        self.negative_slope = negative_slope
        self.weight = self._param(in_channels, out_channels, dtype=dtype, device=device)
        self.att_src = self._param(out_channels, dtype=dtype, device=device)
        self.att_dst = self._param(out_channels, dtype=dtype, device=device)
        self.bias = self._param(out_channels, dtype=dtype, device=device)

    def _draw(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        att_bound = math.sqrt(6.0 / (1 + self.out_channels))  # glorot of PyG's (1, 1, out)
        return {
            "weight": _glorot(gen, self.in_channels, self.out_channels),
            "att_src": _uniform(gen, (self.out_channels,), att_bound),
            "att_dst": _uniform(gen, (self.out_channels,), att_bound),
            "bias": torch.zeros(self.out_channels),
        }

    def prepare(self, x: torch.Tensor, adj: torch.Tensor) -> Prepared:
        """The features and the (B, N, N) bool mask of the pairs NOT attended to."""
        return {"x": x.to(self.weight.dtype), "blocked": ~gat_neighbours(adj)}

    def forward_prepared(self, prepared: Prepared) -> torch.Tensor:
        """(B, N, out) output from :meth:`prepare`'s tensors.

        The order of the products follows the widths. The attention logits need only
        ``⟨a, h_j⟩ = x_j · (Θ a)``, and ``Σ_j α_ij h_j = (Σ_j α_ij x_j) Θ``: when the input is
        narrower than the output (in < out, as for colour–texture features), the (B, N, N)
        attention multiplies X (N × in) rather than h (N × out), forward and backward, which
        saves a factor out / in on the layer's largest products. Same values up to rounding.
        """
        x = prepared["x"]
        att = torch.stack([self.att_src, self.att_dst], dim=2)  # (B, out, 2)
        if self.in_channels < self.out_channels:
            scores = torch.bmm(x, torch.bmm(self.weight, att))  # (B, N, 2)
            h = None
        else:
            h = torch.bmm(x, self.weight)  # (B, N, out)
            scores = torch.bmm(h, att)
        a_src, a_dst = scores[:, :, 0], scores[:, :, 1]
        # one (B, N, N) buffer for the logits, changed in place: the sum saves nothing for
        # backward, LeakyReLU (last, −inf stays −inf) reads its gradient from its own output
        e = (a_dst[:, :, None] + a_src[:, None, :]).masked_fill_(prepared["blocked"], -math.inf)
        alpha = torch.softmax(F.leaky_relu_(e, self.negative_slope), dim=2)
        if h is None:
            return torch.baddbmm(self.bias[:, None, :], torch.bmm(alpha, x), self.weight)
        return torch.baddbmm(self.bias[:, None, :], alpha, h)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """(B, N, out) output for features x (B, N, in) on the graphs adj (B, N, N)."""
        return self.forward_prepared(self.prepare(x, adj))


class PerImageARMAConv(_PerImageModule):
    """PyG ``ARMAConv(num_stacks=1, num_layers=1, shared_weights=False, act=ReLU, dropout=0)``
    with per-image parameters: ``out = ReLU(L̂ X W + X V + b)``.

    ``L̂ = D^-1/2 Wᵀ D^-1/2`` without added self loops (:func:`arma_propagation`). It cannot be
    used with correlation clustering: its weights are signed, node degrees can be negative and
    ``D^-1/2`` is then undefined (NaN), which is why the seed study ran CC with GCN and GAT only.
    Parameters: ``init_weight`` W and ``root_weight`` V (B, in, out), ``bias`` (B, out) — PyG's
    ``init_weight[0]``, ``root_weight[0, 0]``, ``bias[0, 0, 0]``.
    """

    def __init__(
        self,
        n_images: int,
        in_channels: int,
        out_channels: int,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.n_images, self.in_channels, self.out_channels = n_images, in_channels, out_channels
        self.init_weight = self._param(in_channels, out_channels, dtype=dtype, device=device)
        self.root_weight = self._param(in_channels, out_channels, dtype=dtype, device=device)
        self.bias = self._param(out_channels, dtype=dtype, device=device)

    def _draw(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        return {
            "init_weight": _glorot(gen, self.in_channels, self.out_channels),
            "root_weight": _glorot(gen, self.in_channels, self.out_channels),
            "bias": torch.zeros(self.out_channels),
        }

    def prepare(self, x: torch.Tensor, adj: torch.Tensor) -> Prepared:
        """The features and ``L̂ X`` (B, N, in), computed once per graph."""
        x = x.to(self.init_weight.dtype)
        lap = arma_propagation(adj.to(self.init_weight.dtype))
        return {"x": x, "lx": torch.bmm(lap, x)}

    def forward_prepared(self, prepared: Prepared) -> torch.Tensor:
        """(B, N, out) output from :meth:`prepare`'s tensors."""
        out = torch.baddbmm(self.bias[:, None, :], prepared["lx"], self.init_weight)
        return torch.relu(torch.baddbmm(out, prepared["x"], self.root_weight))

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """(B, N, out) output for features x (B, N, in) on the graphs adj (B, N, N)."""
        return self.forward_prepared(self.prepare(x, adj))


# --------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------


class GraphCutNet(_PerImageModule):
    """GNN layer → SiLU → Linear(hidden → K) → ELU → softmax, one set of weights per image.

    Parameters
    ----------
    seeds : sequence of int
        One seed per image; image b's parameters are drawn from
        ``torch.Generator().manual_seed(seeds[b])`` (module notes).
    in_channels : int
        Feature dimension D.
    hidden : int, default 64
        Output width of the GNN layer.
    k : int, default 2
        Number of clusters K.
    layer : {"gcn", "gat", "arma"}, default "gcn"
    normalize : bool, default True
        GCN only: PyG's ``normalize`` (False for correlation clustering).
    dtype : torch.dtype, default float32
    device : torch.device or str, optional

    Notes
    -----
    Call :meth:`prepare` once per graph and :meth:`assign` at every step: the parameter-free
    products with the graph (GCN, ARMA) are then not repeated. ``forward(x, adj)`` does both.
    """

    def __init__(
        self,
        seeds: Sequence[int],
        in_channels: int,
        hidden: int = 64,
        k: int = 2,
        layer: LayerName = "gcn",
        *,
        normalize: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("need at least one image (one seed)")
        if k < 2:
            raise ValueError(f"k must be ≥ 2, got {k}")
        if hidden < 1 or in_channels < 1:
            raise ValueError(f"widths must be ≥ 1, got in={in_channels}, hidden={hidden}")
        self.n_images, self.in_channels, self.hidden, self.k = len(seeds), in_channels, hidden, k
        self.layer = layer
        b = self.n_images
        conv: _PerImageModule
        if layer == "gcn":
            conv = PerImageGCNConv(
                b, in_channels, hidden, normalize=normalize, dtype=dtype, device=device
            )
        elif layer == "gat":
            conv = PerImageGATConv(b, in_channels, hidden, dtype=dtype, device=device)
        elif layer == "arma":
            conv = PerImageARMAConv(b, in_channels, hidden, dtype=dtype, device=device)
        else:
            raise ValueError(f"layer must be 'gcn', 'gat' or 'arma', got {layer!r}")
        self.conv = conv
        self.head_weight = self._param(hidden, k, dtype=dtype, device=device)
        self.head_bias = self._param(k, dtype=dtype, device=device)
        self.reset_parameters([torch.Generator().manual_seed(s) for s in seeds])

    def _draw(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        bound = 1.0 / math.sqrt(self.hidden)  # torch.nn.Linear's default initialisation
        return {
            "head_weight": _uniform(gen, (self.hidden, self.k), bound),
            "head_bias": _uniform(gen, (self.k,), bound),
        }

    @torch.no_grad()
    def reset_parameters(self, generators: Sequence[torch.Generator]) -> None:
        """Draw image b's GNN-layer parameters, then its head's, from ``generators[b]``."""
        if len(generators) != self.n_images:
            raise ValueError(f"need {self.n_images} generators, got {len(generators)}")
        conv_draws, head_draws = [], []
        for gen in generators:  # one image at a time: the order of draws is per image
            conv_draws.append(self.conv._draw(gen))
            head_draws.append(self._draw(gen))
        for module, draws in ((self.conv, conv_draws), (self, head_draws)):
            for name, param in module.named_parameters(recurse=False):
                param.copy_(torch.stack([d[name] for d in draws]).to(param.dtype))

    def prepare(self, x: torch.Tensor, adj: torch.Tensor) -> Prepared:
        """The GNN layer's parameter-free tensors for features (B, N, D) and graphs (B, N, N)."""
        if x.ndim != 3 or x.shape[0] != self.n_images or x.shape[2] != self.in_channels:
            raise ValueError(
                f"features must be ({self.n_images}, N, {self.in_channels}), got {tuple(x.shape)}"
            )
        if adj.shape != (x.shape[0], x.shape[1], x.shape[1]):
            raise ValueError(
                f"adjacency {tuple(adj.shape)} does not match features {tuple(x.shape)}"
            )
        return self.conv.prepare(x, adj)

    def assign(self, prepared: Prepared) -> torch.Tensor:
        """Soft assignments S (B, N, K), rows on the simplex."""
        h = F.silu(self.conv.forward_prepared(prepared))
        z = F.elu(torch.baddbmm(self.head_bias[:, None, :], h, self.head_weight))
        return torch.softmax(z, dim=2)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """Soft assignments S (B, N, K) for features x (B, N, D) on the graphs adj (B, N, N)."""
        return self.assign(self.prepare(x, adj))
