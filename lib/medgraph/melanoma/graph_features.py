"""Vertex-domain and graph-Fourier features of weighted superpixel graphs, batched in torch.

The melanoma paper (Elwer, Rushdi, Annaby, 2026, §5) describes every image by weighted,
undirected superpixel graphs without self-loops (n = 10..100 nodes, complete or pruned; a weight
0 means no edge) and extracts per graph

- vertex-domain ("time-domain") features, ``F1 = 6n + 5``: per node local efficiency (LE), local
  clustering coefficient (LCC), nodal strength (NS), betweenness centrality (NBC), closeness
  centrality (CC) and eccentricity (Ecc); per graph characteristic path length (CPL), global
  efficiency (GE), global clustering coefficient (GCC), density (D) and assortativity (GA);
- graph-Fourier features, ``F2 = n + 4``: the graph Fourier transform of a node signal plus its
  energy, power, entropy and amplitude.

The paper names the features without formulas. The definitions below follow networkx where it
has a weighted version (each stated in the function's docstring); the tests check every one
against networkx to 1e-9. Everything works on a batch ``w`` of shape (B, n, n) (float64, any
device, ``(n, n)`` for a single graph), with no Python loop over nodes or edges except the
n steps of O(n³) algorithms (Floyd–Warshall's k and the betweenness pair sum's v).

Conventions
-----------
- Weights: ``w_ij ≥ 0`` finite and symmetric; ``w_ij = 0`` is no edge; the diagonal is ignored
  (taken as 0). The (unweighted) degree ``k_i`` counts the edges at i.
- Edge lengths: ``ℓ_ij = 1 / w_ij`` for ``w_ij > 0``, ``+inf`` without an edge, ``ℓ_ii = 0``.
  Strong similarity is a short edge.
- Distances ``d_ij``: weighted shortest-path lengths with lengths ℓ (batched Floyd–Warshall,
  min-plus over k), ``+inf`` between nodes of different components. Units: 1 / weight.
- Ties between path lengths (shortest-path counts and betweenness): two lengths a and b are
  equal when ``|a − b| ≤ TIE_RTOL · b`` with ``TIE_RTOL = 1e-12`` (sums of the same lengths in a
  different order differ by a few ulp; networkx's Dijkstra compares exactly, which agrees
  whenever ties are exact or absent).

Cost and memory
---------------
Per graph: O(n³) for distances, path counts, betweenness and clustering; local efficiency is
O(n³ log n) on complete graphs (the "shortest paths avoiding each vertex" divide and conquer)
and O(Σ_i k_i³) on pruned ones (one Floyd–Warshall per neighbourhood, vectorised over all
neighbourhoods of a chunk). Batches are processed in chunks of ``chunk_size`` graphs; the
temporaries are O(chunk_size · n² · log n) float64 values plus a bounded buffer of
``_SUBGRAPH_BUDGET`` values for the pruned neighbourhoods, so peak memory does not grow with B.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "TIE_RTOL",
    "edge_lengths",
    "shortest_paths",
    "shortest_path_counts",
    "node_strength",
    "clustering",
    "betweenness",
    "closeness",
    "eccentricity",
    "local_efficiency",
    "characteristic_path_length",
    "global_efficiency",
    "average_clustering",
    "density",
    "assortativity",
    "vertex_features",
    "vertex_feature_names",
    "laplacian",
    "graph_fourier_basis",
    "gft",
    "gft_features",
    "gft_feature_names",
]

Tensor = torch.Tensor
ArrayLike = np.ndarray | torch.Tensor

#: Relative tolerance under which two path lengths count as equal (ties of shortest paths).
TIE_RTOL = 1e-12
#: Per-node blocks of :func:`vertex_features`, in output order.
VERTEX_BLOCKS = ("LE", "LCC", "NS", "NBC", "CC", "Ecc")
#: Per-graph features of :func:`vertex_features`, in output order.
GLOBAL_FEATURES = ("CPL", "GE", "GCC", "D", "GA")
#: Per-signal scalars of :func:`gft_features`, in output order.
GFT_SCALARS = ("energy", "power", "entropy", "amplitude")
#: Most float64 values in one group of the neighbourhood Floyd–Warshall of pruned graphs
#: (2¹⁸ values = 2 MiB per buffer, two buffers: small enough to stay in cache).
_SUBGRAPH_BUDGET = 1 << 18

# --------------------------------------------------------------------------------------------
# inputs, chunks
# --------------------------------------------------------------------------------------------


def _as_weights(w: ArrayLike) -> tuple[Tensor, bool]:
    """(B, n, n) weights as given (unchecked values, no copy), and whether one graph was given.

    The values are checked, converted to float64 and symmetrised chunk by chunk
    (:func:`_prep`), so that no temporary of the whole batch's size is made.
    """
    t = w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w))
    single = t.ndim == 2
    if single:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[-1] != t.shape[-2]:
        raise ValueError(f"expected weights of shape (B, n, n) or (n, n), got {tuple(t.shape)}")
    if t.shape[-1] < 1:
        raise ValueError("graphs need at least one node")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"weights must be real numbers, got dtype {t.dtype}")
    return t, single


def _prep(c: Tensor) -> Tensor:
    """Checked float64 weights of a chunk: finite, ≥ 0, symmetric; diagonal set to 0."""
    t = c.to(torch.float64)
    if t.numel():
        if not bool(torch.isfinite(t).all()):
            raise ValueError("weights contain NaN or inf (a missing edge is weight 0)")
        if bool((t < 0).any()):
            raise ValueError("weights must be non-negative")
    t = t.masked_fill(_eye(t.shape[-1], t.device), 0.0)
    if not torch.allclose(t, t.mT, rtol=TIE_RTOL, atol=0.0):
        raise ValueError("weights must be symmetric (undirected graphs)")
    return 0.5 * (t + t.mT)


def _check_chunk(chunk_size: int) -> int:
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    return int(chunk_size)


def _map_chunks(
    fn: Callable[[Tensor], Tensor | tuple[Tensor, ...]], w: Tensor, chunk_size: int = 256
) -> Tensor | tuple[Tensor, ...]:
    """``fn`` of each checked chunk (:func:`_prep`), results concatenated along dim 0."""
    chunk_size = _check_chunk(chunk_size)
    starts = range(0, max(w.shape[0], 1), chunk_size)
    parts = [fn(_prep(w[i : i + chunk_size])) for i in starts]
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(p, 0) for p in zip(*parts, strict=True))
    return torch.cat(parts, 0)


def _unbatch(x: Tensor, single: bool) -> Tensor:
    return x[0] if single else x


def _eye(n: int, device: torch.device) -> Tensor:
    return torch.eye(n, dtype=torch.bool, device=device)


# --------------------------------------------------------------------------------------------
# lengths, Floyd–Warshall, path counts
# --------------------------------------------------------------------------------------------


def _lengths(w: Tensor) -> Tensor:
    """ℓ = 1 / w on edges, +inf elsewhere, 0 on the diagonal (w checked, zero diagonal)."""
    ell = torch.where(w > 0, 1.0 / w, torch.inf)
    return ell.masked_fill(_eye(w.shape[-1], w.device), 0.0)


def _relax_(d: Tensor, ks: Sequence[int] | range, tmp: Tensor | None = None) -> None:
    """Floyd–Warshall steps over intermediates ``ks``, in place on symmetric (B, m, m) ``d``.

    ``d`` stays exactly symmetric (``a + b == b + a`` in floating point), so row k stands for
    column k and every read is contiguous. Row k does not change in step k (``d_kk = 0``).
    ``tmp`` (shaped like ``d``) is a scratch buffer, reused to avoid fresh allocations (large
    fresh buffers cost page faults on every step).
    """
    if len(ks) == 0:
        return
    if tmp is None:
        tmp = torch.empty_like(d)
    for k in ks:
        r = d[:, k, :]
        torch.add(r[:, :, None], r[:, None, :], out=tmp)
        d.clamp_max_(tmp)  # = minimum(d, tmp), in place (the fastest form on CPU)


def _apsp(ell: Tensor) -> Tensor:
    d = ell.clone()
    _relax_(d, range(d.shape[-1]))
    return d


def _count_paths(ell: Tensor) -> tuple[Tensor, Tensor]:
    """Distances and numbers of shortest paths σ (σ_ii = 0), by a counting Floyd–Warshall.

    With positive lengths a shortest path is simple, so after step k a shortest i–j path with
    intermediates in {0..k} either avoids k (σ kept when its length survives) or splits uniquely
    at k (σ_ik σ_kj added on a tie, replacing σ when strictly shorter). σ_ii = 0 makes the
    steps k = i and k = j add nothing.
    """
    n = ell.shape[-1]
    d = ell.clone()
    sigma = torch.isfinite(ell).to(ell.dtype).masked_fill_(_eye(n, ell.device), 0.0)
    new, prod, thr, flag = (torch.empty_like(d) for _ in range(4))
    for k in range(n):
        dk, sk = d[:, k, :], sigma[:, k, :]
        torch.add(dk[:, :, None], dk[:, None, :], out=new)
        torch.mul(sk[:, :, None], sk[:, None, :], out=prod)
        # 0/1 flags as float64: float arithmetic is much faster than bool masks on CPU
        torch.mul(d, 1.0 + TIE_RTOL, out=thr)
        torch.le(new, thr, out=flag)  # tie or shorter: the paths through k count
        prod.mul_(flag)
        torch.mul(d, 1.0 - TIE_RTOL, out=thr)
        torch.ge(new, thr, out=flag)  # not strictly shorter: the old paths still count
        sigma.mul_(flag).add_(prod)
        d.clamp_max_(new)
    return d, sigma


def edge_lengths(w: ArrayLike) -> Tensor:
    """Edge lengths ``ℓ_ij = 1 / w_ij`` (``+inf`` without an edge, 0 on the diagonal).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge; the diagonal is ignored.

    Returns
    -------
    (B, n, n) or (n, n) float64 tensor
        Lengths in units of 1 / weight, on ``w``'s device.
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(_lengths, t), single)


def shortest_paths(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Weighted shortest-path lengths ``d_ij`` with edge lengths ``ℓ = 1 / w``.

    Batched Floyd–Warshall (n min-plus steps over k, each vectorised over the batch and all
    pairs); ``+inf`` between nodes of different components; ``d_ii = 0``.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B, n, n) or (n, n) float64 tensor
        Distances in units of 1 / weight.
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(lambda c: _apsp(_lengths(c)), t, chunk_size), single)


def shortest_path_counts(w: ArrayLike, *, chunk_size: int = 16) -> tuple[Tensor, Tensor]:
    """Distances and numbers of shortest paths ``σ_ij`` between every pair.

    A counting Floyd–Warshall: two path lengths are tied when they agree to ``TIE_RTOL``
    relative. ``σ_ij = 0`` for ``i = j`` and for unreachable pairs.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    d : (B, n, n) or (n, n) float64 tensor
        Distances (as :func:`shortest_paths`).
    sigma : (B, n, n) or (n, n) float64 tensor
        Path counts (exact integers while below 2⁵³; inf or NaN beyond float64, see
        :func:`betweenness`).
    """
    t, single = _as_weights(w)
    d, sigma = _map_chunks(lambda c: _count_paths(_lengths(c)), t, chunk_size)
    return _unbatch(d, single), _unbatch(sigma, single)


# --------------------------------------------------------------------------------------------
# per-node features
# --------------------------------------------------------------------------------------------


def _clustering(w: Tensor) -> Tensor:
    n = w.shape[-1]
    wmax = w.amax(dim=(-2, -1), keepdim=True)
    c = torch.where(wmax > 0, w / wmax.clamp_min(torch.finfo(w.dtype).tiny), 0.0).pow(1.0 / 3.0)
    tri = ((c @ c) * c).sum(-1)  # Σ_jh c_ij c_jh c_hi
    k = (w > 0).sum(-1).to(w.dtype)
    if n < 3:
        return torch.zeros_like(k)
    return torch.where(k >= 2, tri / (k * (k - 1)).clamp_min(1.0), 0.0)


def _betweenness(d: Tensor, sigma: Tensor) -> Tensor:
    """Normalised betweenness from distances and path counts (the pair formula, loop over v)."""
    n = d.shape[-1]
    inv_sigma = torch.where(sigma > 0, 1.0 / sigma.clamp_min(1.0), 0.0)  # 0: s = t, unreachable
    d_hi = d * (1.0 + TIE_RTOL)
    bc = torch.zeros(d.shape[:-1], dtype=d.dtype, device=d.device)
    through, m = torch.empty_like(d), torch.empty_like(d)
    for v in range(n):
        dv, sv = d[:, v, :], sigma[:, v, :]
        torch.add(dv[:, :, None], dv[:, None, :], out=through)
        torch.le(through, d_hi, out=m)  # 1.0 where d_sv + d_vt == d_st
        m.mul_(inv_sigma).mul_(sv[:, None, :])
        # Σ_st σ_sv σ_vt [on path] / σ_st over ordered pairs (σ_vv = 0 drops s = v and t = v)
        bc[:, v] = (m.sum(-1) * sv).sum(-1)
    if n > 2:
        bc = bc / ((n - 1) * (n - 2))
    return bc


def _count_paths_log(ell: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`_count_paths` with ``log σ`` instead of σ (−inf for no path), for counts beyond
    float64: the same distances, ties and updates, with sums of counts as ``logaddexp``."""
    n = ell.shape[-1]
    d = ell.clone()
    neg = torch.tensor(float("-inf"), dtype=ell.dtype, device=ell.device)
    log_sigma = torch.where(torch.isfinite(ell), 0.0, neg).masked_fill_(_eye(n, ell.device), neg)
    for k in range(n):
        dk, lk = d[:, k, :], log_sigma[:, k, :]
        new = dk[:, :, None] + dk[:, None, :]
        prod = torch.where(new <= d * (1.0 + TIE_RTOL), lk[:, :, None] + lk[:, None, :], neg)
        kept = torch.where(new >= d * (1.0 - TIE_RTOL), log_sigma, neg)
        log_sigma = torch.logaddexp(kept, prod)
        d = torch.minimum(d, new)
    return d, log_sigma


def _betweenness_log(d: Tensor, log_sigma: Tensor) -> Tensor:
    """:func:`_betweenness` from ``log σ``: every term σ_sv σ_vt / σ_st is exponentiated from
    its logarithm, so counts beyond float64 do not overflow, and capped at 1 (its value by
    definition, which tolerant ties at float64 resolution can exceed)."""
    n = d.shape[-1]
    d_hi = d * (1.0 + TIE_RTOL)
    reach = torch.isfinite(log_sigma)  # False: s = t or unreachable
    bc = torch.zeros(d.shape[:-1], dtype=d.dtype, device=d.device)
    for v in range(n):
        dv, lv = d[:, v, :], log_sigma[:, v, :]
        on_path = (dv[:, :, None] + dv[:, None, :] <= d_hi) & reach
        on_path &= torch.isfinite(lv)[:, :, None] & torch.isfinite(lv)[:, None, :]
        # a pair's share of paths through v is at most 1; at float64 resolution the tolerant
        # ties can count more paths through v than from s to t, so each share is capped at 1
        log_share = (lv[:, :, None] + lv[:, None, :] - log_sigma).clamp_max(0.0)
        ratio = torch.exp(torch.where(on_path, log_share, float("-inf")))
        bc[:, v] = ratio.sum(dim=(-2, -1))
    if n > 2:
        bc = bc / ((n - 1) * (n - 2))
    return bc


def _betweenness_of(ell: Tensor, d: Tensor, sigma: Tensor) -> Tensor:
    """:func:`_betweenness`, and for the graphs whose path counts overflow float64 (σ inf or
    NaN: when a few edges are ~1e200 times longer than the rest, sums of lengths tie at float64
    resolution and the number of tied paths explodes) the same sum computed from ``log σ``."""
    bc = _betweenness(d, sigma)
    bad = ~torch.isfinite(sigma).flatten(1).all(dim=1)
    if bool(bad.any()):
        bc[bad] = _betweenness_log(*_count_paths_log(ell[bad]))
    return bc


def _closeness(d: Tensor) -> Tensor:
    n = d.shape[-1]
    reach = torch.isfinite(d) & ~_eye(n, d.device)
    r = reach.sum(-1).to(d.dtype)
    tot = torch.where(reach, d, 0.0).sum(-1)
    if n < 2:
        return torch.zeros_like(tot)
    return torch.where(tot > 0, (r / tot.clamp_min(1e-300)) * (r / (n - 1)), 0.0)


def _eccentricity(d: Tensor) -> Tensor:
    return torch.where(torch.isfinite(d), d, 0.0).amax(-1)


def _local_efficiency_complete(ell: Tensor) -> Tensor:
    """LE of complete graphs: distances in G − i for every i by divide and conquer.

    ``rec(D, S)``: D holds shortest paths whose intermediates avoid S. Split S = S1 ∪ S2; a copy
    relaxed over S2 recurses into S1, D itself relaxed over S1 recurses into S2. At a leaf {i}
    D holds the distances of G − i, which for a complete graph is the subgraph induced by
    i's neighbours. n steps per recursion level, ⌈log₂ n⌉ levels: O(n³ log n) per graph.
    """
    b, n, _ = ell.shape
    out = torch.zeros(b, n, dtype=ell.dtype, device=ell.device)
    if n < 3:
        return out
    norm = float((n - 1) * (n - 2))
    tmp = torch.empty_like(ell)  # scratch of _relax_ and of the leaves
    copies: list[Tensor] = []  # one buffer per recursion depth, reused

    def leaf(d: Tensor, i: int) -> None:
        inv = torch.reciprocal(d, out=tmp)
        inv.diagonal(dim1=-2, dim2=-1).zero_()
        out[:, i] = (inv.sum(dim=(-2, -1)) - 2.0 * inv[:, i, :].sum(-1)) / norm

    _avoid_each_vertex(ell.clone(), list(range(n)), 0, leaf, copies, tmp)
    return out


def _avoid_each_vertex(
    d: Tensor,
    verts: list[int],
    depth: int,
    leaf: Callable[[Tensor, int], None],
    copies: list[Tensor],
    tmp: Tensor,
) -> None:
    """The recursion of :func:`_local_efficiency_complete` (module level: no reference cycle).

    ``d`` holds shortest paths whose intermediates avoid ``verts``; ``copies[depth]`` is the
    reusable buffer of this depth, ``tmp`` the scratch of :func:`_relax_`.
    """
    if len(verts) == 1:
        leaf(d, verts[0])
        return
    half = len(verts) // 2
    s1, s2 = verts[:half], verts[half:]
    if len(copies) <= depth:
        copies.append(torch.empty_like(d))
    d1 = copies[depth].copy_(d)
    _relax_(d1, s2, tmp)
    _avoid_each_vertex(d1, s1, depth + 1, leaf, copies, tmp)
    _relax_(d, s1, tmp)
    _avoid_each_vertex(d, s2, depth + 1, leaf, copies, tmp)


def _local_efficiency_masked(ell: Tensor, adj: Tensor) -> Tensor:
    """LE of any graphs: Floyd–Warshall inside every neighbourhood, vectorised over all of them.

    The (graph, node) neighbourhoods of the chunk are sorted by degree and processed in groups
    padded to the group's largest degree K (at most ``_SUBGRAPH_BUDGET`` values per group);
    padding rows and columns are +inf, so they never shorten a path. O(Σ_i k_i³) per graph.
    """
    b, n, _ = ell.shape
    deg = adj.sum(-1).reshape(-1)  # (b·n,)
    out = torch.zeros(b * n, dtype=ell.dtype, device=ell.device)
    order = torch.argsort(deg, descending=True, stable=True)
    m = int((deg >= 2).sum())
    if m == 0:
        return out.reshape(b, n)
    # neighbours of each node first (stable: ascending index), then the non-neighbours
    nbr = torch.argsort((~adj).to(torch.int8), dim=-1, stable=True).reshape(b * n, n)
    start = 0
    while start < m:
        kmax = int(deg[order[start]])
        g = max(1, _SUBGRAPH_BUDGET // (kmax * kmax))
        sel = order[start : min(start + g, m)]
        idx = nbr[sel, :kmax]  # (g, K)
        k = deg[sel].to(ell.dtype)
        valid = torch.arange(kmax, device=ell.device)[None, :] < deg[sel][:, None]
        pair = valid[:, :, None] & valid[:, None, :]
        sub = ell[(sel // n)[:, None, None], idx[:, :, None], idx[:, None, :]]
        sub.masked_fill_(~pair, torch.inf)
        _relax_(sub, range(kmax))
        inv = torch.where(pair & ~_eye(kmax, ell.device), torch.reciprocal(sub), 0.0)
        out[sel] = inv.sum(dim=(-2, -1)) / (k * (k - 1))
        start += g
    return out.reshape(b, n)


def _local_efficiency(ell: Tensor, adj: Tensor) -> Tensor:
    """Complete graphs of the chunk by divide and conquer, the others by neighbourhood FW."""
    n = ell.shape[-1]
    complete = (adj | _eye(n, adj.device)).all(dim=-1).all(dim=-1)
    out = torch.zeros(ell.shape[:-1], dtype=ell.dtype, device=ell.device)
    ic = torch.nonzero(complete).flatten()
    ip = torch.nonzero(~complete).flatten()
    if ic.numel():
        out[ic] = _local_efficiency_complete(ell[ic])
    if ip.numel():
        out[ip] = _local_efficiency_masked(ell[ip], adj[ip])
    return out


def node_strength(w: ArrayLike) -> Tensor:
    """Nodal strength ``NS_i = Σ_j w_ij``.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Strengths in weight units.
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(lambda c: c.sum(-1), t), single)


def clustering(w: ArrayLike) -> Tensor:
    """Local clustering coefficient, Onnela's weighted version as ``nx.clustering(G, weight=…)``.

    With ``ŵ = w / max(w)`` (the graph's largest weight) and ``k_i`` the unweighted degree,
    ``c_i = Σ_{j,h} (ŵ_ij ŵ_jh ŵ_hi)^{1/3} / (k_i (k_i − 1))``, computed as
    ``diag(C³)`` with ``C = ŵ^{1/3}``; ``c_i = 0`` when ``k_i < 2``.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Coefficients in [0, 1].
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(_clustering, t), single)


def betweenness(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Betweenness centrality with lengths ``ℓ = 1 / w``, as networkx normalises it.

    ``NBC_v = Σ_{s ≠ v ≠ t} σ_st(v) / σ_st / ((n − 1)(n − 2))`` over ordered pairs (s, t), as
    ``nx.betweenness_centrality(G, weight="length", normalized=True)``; ``σ_st(v) =
    σ_sv σ_vt`` when ``d_sv + d_vt = d_st`` (to ``TIE_RTOL``), else 0. σ from
    :func:`shortest_path_counts`, so tied shortest paths share the credit. No scaling for
    n ≤ 2 (the values are 0). Pairs in different components contribute nothing.

    **Degenerate weights.** When a few weights are ~1e-200 of the others (Gaussian or learned
    weights of an outlying superpixel), lengths 1/w span hundreds of orders of magnitude, sums
    of lengths tie at float64 resolution, and the tolerant ties can count more paths through v
    than from s to t: the value then exceeds 1, as networkx's does on the same graph (1.7e32 on
    one ISIC 2017 graph; about 1 % of the study's graphs). Where the counts overflow float64
    (σ inf, which would give NaN), the sum is computed from log σ with every pair's share capped
    at 1 instead; on graphs whose counts fit, the values are unchanged.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Normalised betweenness in [0, 1].
    """
    t, single = _as_weights(w)

    def chunk(c: Tensor) -> Tensor:
        ell = _lengths(c)
        return _betweenness_of(ell, *_count_paths(ell))

    out = _map_chunks(chunk, t, chunk_size)
    return _unbatch(out, single)


def closeness(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Closeness centrality with lengths ``ℓ``, as ``nx.closeness_centrality(G, distance=…)``.

    ``CC_i = (r_i / Σ_{j reachable} d_ij) · (r_i / (n − 1))`` with ``r_i`` the number of nodes
    reachable from i (itself excluded): Wasserman and Faust's scaling, which for a connected
    graph is ``(n − 1) / Σ_j d_ij``; 0 for an isolated node.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Closeness in units of weight (1 / length).
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(lambda c: _closeness(_apsp(_lengths(c))), t, chunk_size), single)


def eccentricity(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Weighted eccentricity ``Ecc_i = max_j d_ij`` with lengths ``ℓ``.

    As ``nx.eccentricity(G, sp=…)`` with weighted shortest-path lengths for a connected graph.
    networkx raises for a disconnected graph; ours takes the maximum over the nodes reachable
    from i (0 for an isolated node).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Eccentricities in units of 1 / weight.
    """
    t, single = _as_weights(w)
    out = _map_chunks(lambda c: _eccentricity(_apsp(_lengths(c))), t, chunk_size)
    return _unbatch(out, single)


def local_efficiency(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Weighted local efficiency (Latora–Marchiori) with lengths ``ℓ``.

    ``LE_i = Σ_{j ≠ h ∈ N_i} 1 / d⁽ⁱ⁾_jh / (k_i (k_i − 1))``, where ``d⁽ⁱ⁾`` are shortest-path
    lengths inside the subgraph induced by i's neighbours ``N_i`` (i removed; ``1/inf = 0``);
    0 when ``k_i < 2``. Two exact paths, chosen per graph:

    - complete graphs (every off-diagonal weight > 0): the induced subgraph is G − i, and the
      distances of G − i for every i come from one divide and conquer over the vertex set
      (relax with one half, recurse into the other; O(n³ log n));
    - other graphs: a Floyd–Warshall inside every neighbourhood's induced subgraph, all
      neighbourhoods of the chunk at once (grouped by degree; O(Σ_i k_i³)). Non-neighbours of i
      are not allowed as intermediates, which is why G − i would be wrong here.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B, n) or (n,) float64 tensor
        Local efficiencies in units of weight (1 / length).
    """
    t, single = _as_weights(w)
    out = _map_chunks(lambda c: _local_efficiency(_lengths(c), c > 0), t, chunk_size)
    return _unbatch(out, single)


# --------------------------------------------------------------------------------------------
# per-graph features
# --------------------------------------------------------------------------------------------


def _path_length_and_efficiency(d: Tensor) -> tuple[Tensor, Tensor]:
    n = d.shape[-1]
    off = ~_eye(n, d.device)
    reach = torch.isfinite(d) & off
    cnt = reach.sum(dim=(-2, -1)).to(d.dtype)
    cpl = torch.where(cnt > 0, torch.where(reach, d, 0.0).sum(dim=(-2, -1)) / cnt.clamp_min(1), 0.0)
    inv = torch.where(off, torch.reciprocal(d), 0.0)  # 1/inf = 0
    ge = inv.sum(dim=(-2, -1)) / max(n * (n - 1), 1)
    return cpl, ge


def _density(w: Tensor) -> Tensor:
    n = w.shape[-1]
    return (w > 0).sum(dim=(-2, -1)).to(w.dtype) / max(n * (n - 1), 1)


def _assortativity(w: Tensor) -> Tensor:
    a = (w > 0).to(w.dtype)
    s = w.sum(-1)
    k = a.sum(-1)
    m2 = k.sum(-1, keepdim=True).clamp_min(1.0)  # 2·edges: both ends of every edge
    c = s - (k * s).sum(-1, keepdim=True) / m2
    var = (k * c * c).sum(-1) / m2[..., 0]
    cov = ((a @ c[..., None])[..., 0] * c).sum(-1) / m2[..., 0]
    floor = (TIE_RTOL * s.abs().amax(-1)) ** 2
    return torch.where(var > floor, cov / var.clamp_min(torch.finfo(w.dtype).tiny), 0.0)


def characteristic_path_length(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Characteristic path length: mean ``d_ij`` over ordered pairs i ≠ j with finite ``d_ij``.

    ``nx.average_shortest_path_length(G, weight="length")`` for a connected graph (networkx
    raises otherwise; ours averages the reachable pairs, and is 0 when there are none).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B,) or () float64 tensor
        Mean distance in units of 1 / weight.
    """
    t, single = _as_weights(w)
    out = _map_chunks(lambda c: _path_length_and_efficiency(_apsp(_lengths(c)))[0], t, chunk_size)
    return _unbatch(out, single)


def global_efficiency(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """Weighted global efficiency: mean of ``1 / d_ij`` over ordered pairs i ≠ j (1/inf = 0).

    networkx's ``global_efficiency`` is unweighted; this is its formula with lengths ``ℓ``.
    0 for n < 2.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    chunk_size : int
        Graphs processed at once.

    Returns
    -------
    (B,) or () float64 tensor
        Efficiency in units of weight.
    """
    t, single = _as_weights(w)
    out = _map_chunks(lambda c: _path_length_and_efficiency(_apsp(_lengths(c)))[1], t, chunk_size)
    return _unbatch(out, single)


def average_clustering(w: ArrayLike) -> Tensor:
    """Global clustering coefficient: the mean of :func:`clustering` over all nodes.

    As ``nx.average_clustering(G, weight="weight")`` (nodes with ``k < 2`` count as 0).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    (B,) or () float64 tensor
        Mean coefficient in [0, 1].
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(lambda c: _clustering(c).mean(-1), t), single)


def density(w: ArrayLike) -> Tensor:
    """Density: number of edges / (n (n − 1) / 2), unweighted (1 for a complete graph; 0, n < 2).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    (B,) or () float64 tensor
        Density in [0, 1].
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(_density, t), single)


def assortativity(w: ArrayLike) -> Tensor:
    """Strength assortativity, as ``nx.degree_assortativity_coefficient(G, weight="weight")``.

    The Pearson correlation of the strengths at the two ends of every edge, each edge counted
    in both directions. Defined as 0 where networkx gives NaN or rounding noise: when the
    variance of the end strengths is ≤ ``(TIE_RTOL · max strength)²`` (a graph whose edge ends
    all have the same strength, e.g. a regular graph with equal weights, or no edge).

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    (B,) or () float64 tensor
        Correlation in [−1, 1].
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(_assortativity, t), single)


# --------------------------------------------------------------------------------------------
# all vertex-domain features
# --------------------------------------------------------------------------------------------


def _vertex_chunk(w: Tensor) -> Tensor:
    ell = _lengths(w)
    d, sigma = _count_paths(ell)
    lcc = _clustering(w)
    cpl, ge = _path_length_and_efficiency(d)
    blocks = [
        _local_efficiency(ell, w > 0),
        lcc,
        w.sum(-1),
        _betweenness_of(ell, d, sigma),
        _closeness(d),
        _eccentricity(d),
        torch.stack([cpl, ge, lcc.mean(-1), _density(w), _assortativity(w)], dim=-1),
    ]
    return torch.cat(blocks, dim=-1)


def vertex_features(w: ArrayLike, *, chunk_size: int = 16) -> Tensor:
    """All ``6n + 5`` vertex-domain features of every graph.

    Order: ``[LE (n), LCC (n), NS (n), NBC (n), CC (n), Ecc (n), CPL, GE, GCC, D, GA]``, each
    per-node block in node order; see :func:`local_efficiency`, :func:`clustering`,
    :func:`node_strength`, :func:`betweenness`, :func:`closeness`, :func:`eccentricity`,
    :func:`characteristic_path_length`, :func:`global_efficiency`,
    :func:`average_clustering`, :func:`density` and :func:`assortativity` for the definitions
    (the distances and path counts are computed once per chunk and shared). Names:
    :func:`vertex_feature_names`.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge; the diagonal is ignored.
    chunk_size : int
        Graphs processed at once; peak temporaries ≈ ``chunk_size · n² · (⌈log₂ n⌉ + 12)``
        float64 values (≈ 23 MiB at 16 graphs of 100 nodes) plus ≈ 4 MiB for pruned graphs,
        whatever B. The default, 16, keeps the working set near the cache and was the fastest
        on a 2-core CPU (≈ 5 ms per complete 100-node graph with 2 threads, ≈ 8 ms with 1).

    Returns
    -------
    (B, 6n + 5) or (6n + 5,) float64 tensor
        The features, on ``w``'s device.
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(_vertex_chunk, t, chunk_size), single)


def vertex_feature_names(n: int) -> list[str]:
    """Names of :func:`vertex_features`' columns: ``"LE_0", …, "Ecc_{n−1}", "CPL", …, "GA"``.

    Parameters
    ----------
    n : int
        Number of nodes.

    Returns
    -------
    list of str
        ``6n + 5`` names.
    """
    return [f"{b}_{i}" for b in VERTEX_BLOCKS for i in range(n)] + list(GLOBAL_FEATURES)


# --------------------------------------------------------------------------------------------
# graph Fourier transform
# --------------------------------------------------------------------------------------------


def laplacian(w: ArrayLike) -> Tensor:
    """Combinatorial Laplacian ``L = diag(W 1) − W``.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge; the diagonal is ignored.

    Returns
    -------
    (B, n, n) or (n, n) float64 tensor
        Symmetric positive semi-definite Laplacians.
    """
    t, single = _as_weights(w)
    return _unbatch(_map_chunks(lambda c: torch.diag_embed(c.sum(-1)) - c, t), single)


def graph_fourier_basis(w: ArrayLike) -> tuple[Tensor, Tensor]:
    """Graph frequencies and Fourier basis: ``torch.linalg.eigh`` of the Laplacian.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.

    Returns
    -------
    eigenvalues : (B, n) or (n,) float64 tensor
        Graph frequencies in ascending order (weight units; the first is 0).
    eigenvectors : (B, n, n) or (n, n) float64 tensor
        Orthonormal columns ``U[:, k]``; each sign is arbitrary, and within a repeated eigenvalue
        the basis is any rotation LAPACK returns.
    """
    t, single = _as_weights(w)
    lam, u = _map_chunks(lambda c: torch.linalg.eigh(torch.diag_embed(c.sum(-1)) - c), t)
    return _unbatch(lam, single), _unbatch(u, single)


def _as_signal(s: ArrayLike, t: Tensor, single: bool) -> tuple[Tensor, bool]:
    """(B, n, C) float64 signal on ``t``'s device, and whether there was no channel axis."""
    x = s if isinstance(s, torch.Tensor) else torch.as_tensor(np.asarray(s))
    x = x.to(device=t.device, dtype=torch.float64)
    if single:
        x = x.unsqueeze(0)
    b, n = t.shape[0], t.shape[-1]
    if x.ndim not in (2, 3) or tuple(x.shape[:2]) != (b, n):
        want = "(n,) or (n, C)" if single else "(B, n) or (B, n, C)"
        raise ValueError(f"expected a signal of shape {want} for weights {tuple(t.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("signal contains NaN or inf")
    flat = x.ndim == 2
    return (x[..., None] if flat else x), flat


def _gft_chunk(t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    _, u = torch.linalg.eigh(torch.diag_embed(t.sum(-1)) - t)
    coef = u.mT @ x  # (b, n, C)
    n = t.shape[-1]
    sq = coef * coef
    energy = sq.sum(1)  # (b, C)
    p = sq / torch.where(energy > 0, energy, 1.0)[:, None, :]
    entropy = torch.where(energy > 0, -torch.special.xlogy(p, p).sum(1), 0.0)
    scal = torch.stack([energy, energy / n, entropy, coef.abs().amax(1)], dim=1)  # (b, 4, C)
    return coef, torch.cat([coef.abs(), scal], dim=1)


def gft(w: ArrayLike, s: ArrayLike, *, chunk_size: int = 64) -> Tensor:
    """Graph Fourier coefficients ``ŝ = Uᵀ s`` of node signals (signed).

    ``U`` from :func:`graph_fourier_basis` (ascending frequencies); the sign of each ``ŝ_k`` is
    that of LAPACK's eigenvector and therefore arbitrary.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    s : (B, n) or (B, n, C) array or tensor; (n,) or (n, C) for one graph
        Node signals (C channels share one eigendecomposition).
    chunk_size : int
        Graphs decomposed at once.

    Returns
    -------
    tensor of ``s``'s shape, float64
        Coefficients in ``s``'s units, frequency index on the node axis.
    """
    t, single = _as_weights(w)
    x, flat = _as_signal(s, t, single)
    chunk_size = _check_chunk(chunk_size)
    parts = [
        _gft_chunk(_prep(t[i : i + chunk_size]), x[i : i + chunk_size])[0]
        for i in range(0, len(t), chunk_size)
    ]
    coef = torch.cat(parts, 0) if parts else x
    coef = coef[..., 0] if flat else coef
    return _unbatch(coef, single)


def gft_features(w: ArrayLike, s: ArrayLike, *, chunk_size: int = 64) -> Tensor:
    """The ``n + 4`` graph-Fourier features of node signals.

    With ``ŝ = Uᵀ s`` (:func:`gft`; eigenvalues of ``L = diag(W1) − W`` ascending):

    - ``|ŝ_k|``, k = 0..n−1 (magnitudes because eigenvector signs are arbitrary; where an
      eigenvalue repeats, the individual coefficients depend on the basis LAPACK picks and only
      their energy within the eigenspace is determined);
    - energy ``E = Σ_k ŝ_k²`` (= ``‖s‖²`` by Parseval);
    - power ``P = E / n``;
    - spectral entropy ``H = −Σ_k p_k ln p_k`` with ``p_k = ŝ_k² / E`` (nats; 0 ln 0 = 0;
      H = 0 when E = 0);
    - amplitude ``A = max_k |ŝ_k|``.

    The paper names energy, power, entropy and amplitude without formulas; these are ours.

    Parameters
    ----------
    w : (B, n, n) or (n, n) array or tensor
        Symmetric non-negative weights; 0 is no edge.
    s : (B, n) or (B, n, C) array or tensor; (n,) or (n, C) for one graph
        Node signals (C channels share one eigendecomposition).
    chunk_size : int
        Graphs decomposed at once.

    Returns
    -------
    (B, n + 4) float64 tensor, or (B, C, n + 4) for channelled signals
        ``[|ŝ_0|, …, |ŝ_{n−1}|, E, P, H, A]`` (without the B axis for one graph). Names:
        :func:`gft_feature_names`.
    """
    t, single = _as_weights(w)
    x, flat = _as_signal(s, t, single)
    chunk_size = _check_chunk(chunk_size)
    parts = [
        _gft_chunk(_prep(t[i : i + chunk_size]), x[i : i + chunk_size])[1]
        for i in range(0, len(t), chunk_size)
    ]
    n = t.shape[-1]
    feats = torch.cat(parts, 0) if parts else x.new_zeros(0, n + 4, x.shape[-1])
    feats = feats.mT  # (B, C, n + 4)
    feats = feats[:, 0] if flat else feats
    return _unbatch(feats, single)


def gft_feature_names(n: int) -> list[str]:
    """Names of :func:`gft_features`' columns: ``"GFT_0", …, "GFT_{n−1}"``, then the scalars.

    Parameters
    ----------
    n : int
        Number of nodes.

    Returns
    -------
    list of str
        ``n + 4`` names: ``GFT_k`` then ``GFT_energy``, ``GFT_power``, ``GFT_entropy``,
        ``GFT_amplitude``.
    """
    return [f"GFT_{k}" for k in range(n)] + [f"GFT_{name}" for name in GFT_SCALARS]
