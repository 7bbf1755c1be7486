"""Cosine k-nearest-neighbour graph of samples, built in row blocks.

In the seed study's kNN-GCN leukemia classifier (Daxesh & Swarnalatha, *Leukemia Classifier
Using Graph Neural Networks (GNN)*, §III.E and §IV.B) every image of the data set is one node,
its 512-dimensional ResNet-18 embedding (``fc = nn.Identity()``) is the node feature, and each
node is joined to the ``k`` nodes whose embeddings are most similar in the cosine sense,
``E = {(i, j) | f_j ∈ kNN(f_i)}``, found with scikit-learn's ``NearestNeighbors``. A two-layer
GCN then runs over that graph. The paper states neither k nor whether the graph is symmetrised
(its set notation does not fix the direction in which messages flow); both are parameters here.
Here node i receives from its neighbours (edges ``j → i``, PyG's source → target), and the
default ``symmetric=True`` adds every reverse edge, which makes the direction moot.

Cosine similarity is the dot product of L2-normalised rows, ``s_ij = x̂_i · x̂_j``, so the whole
similarity matrix is one matrix product ``X̂ X̂ᵀ``. For N samples that matrix holds N² numbers:
40 GB in float32 for N = 100 000. The graph itself needs only the k best columns of every row,
so :func:`cosine_knn_graph` walks the rows in blocks of ``block_size``: one matmul gives the
(block, N) similarities of the block's queries against every sample, the query's own column is
masked, :func:`torch.topk` keeps the k best, and the block buffer is reused for the next block.
Memory is O(block·N + N·k + N·D) (one buffer of ``block·N`` floats, the normalised copy of the
input and the result) instead of O(N²), and the time is the same N²·D multiply-adds as the dense
product, on whatever device the data live.

Ties
----
Neighbours are ranked by decreasing similarity and, among equal similarities, by increasing
sample index. :func:`torch.topk` does not promise which of several equal values it returns, so
the rule is enforced explicitly: the block asks ``topk`` for k + 1 values; when the (k+1)-th
equals the k-th, a tie crosses the cut-off, and for those rows (rare on real embeddings) the
selected set is rebuilt exactly (every column strictly above the k-th value, then the
lowest-index columns equal to it). Within the k, the order is made deterministic by a stable sort
on similarity of the index-sorted neighbours. "Equal" means equal as computed: two mathematically
equal cosines can differ in the last bit when the matrix product rounds them differently (this
depends on the BLAS, the block size and the device), and then the larger computed value wins.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["KnnGraph", "cosine_knn_graph"]


@dataclass(frozen=True)
class KnnGraph:
    """A cosine k-nearest-neighbour graph of N samples (see :func:`cosine_knn_graph`).

    Attributes
    ----------
    neighbours : (N, k) int64 tensor
        ``neighbours[i]`` are the k samples most similar to sample i (never i itself), by
        decreasing cosine similarity, ties by increasing index.
    similarity : (N, k) float32 tensor
        Their cosine similarities, in [-1, 1], not clipped.
    edge_index : (2, E) int64 tensor
        PyG convention: row 0 source, row 1 target. For every node i the edges
        ``neighbours[i, m] → i`` (plus their reverses when symmetric, plus ``i → i`` with
        self loops). Each directed edge appears once; sorted by (target, source).
    edge_weight : (E,) float32 tensor or None
        Cosine similarity of each edge (clipped at 0 when ``clip_negative``); 1 on self loops.
        None when the graph was built with ``return_weights=False``.
    n_nodes : int
        N.
    k : int
        Neighbours per node.
    symmetric : bool
        Whether every edge ``j → i`` has its reverse ``i → j`` (the union of the kNN relation
        and its transpose): then the graph is undirected and a node may have more than k
        incoming edges; otherwise every node has exactly k incoming edges (plus its loop).
    self_loops : bool
        Whether every node has the loop ``i → i``.
    """

    neighbours: torch.Tensor
    similarity: torch.Tensor
    edge_index: torch.Tensor
    edge_weight: torch.Tensor | None
    n_nodes: int
    k: int
    symmetric: bool
    self_loops: bool = False

    @property
    def n_edges(self) -> int:
        """E, the number of directed edges."""
        return int(self.edge_index.shape[1])

    def to_scipy(self) -> sp.csr_matrix:
        """The (N, N) adjacency as a SciPy CSR matrix, ``A[source, target] = weight``.

        The orientation is that of :func:`torch_geometric.utils.to_scipy_sparse_matrix`
        (row = ``edge_index[0]``). Weights are the ``edge_weight`` (ones when the graph has
        none); an edge whose clipped weight is 0 is kept as an explicit zero, so
        ``A.nnz == E``.

        Returns
        -------
        (N, N) float32 ``scipy.sparse.csr_matrix``
        """
        ei = self.edge_index.cpu().numpy()
        if self.edge_weight is None:
            w = np.ones(ei.shape[1], dtype=np.float32)
        else:
            w = self.edge_weight.cpu().numpy().astype(np.float32, copy=False)
        n = self.n_nodes
        return sp.csr_matrix((w, (ei[0], ei[1])), shape=(n, n))


def _normalised_rows(
    x: np.ndarray | torch.Tensor, device: torch.device | str | None
) -> torch.Tensor:
    """(N, D) L2-normalised float32/float64 tensor on ``device``; ValueError on bad rows."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.ndim != 2:
        raise ValueError(f"x must be an (N, D) matrix of samples, got shape {tuple(t.shape)}")
    if t.shape[1] == 0:
        raise ValueError("x has no features (D = 0)")
    dtype = t.dtype if t.dtype in (torch.float32, torch.float64) else torch.float32
    t = t.to(device=device, dtype=dtype)
    finite = torch.isfinite(t).all(dim=1)
    if not bool(finite.all()):
        bad = torch.nonzero(~finite).flatten()
        raise ValueError(
            f"x has NaN or inf in {bad.numel()} row(s), first indices {bad[:10].tolist()}; "
            "the cosine similarity of such a sample is undefined"
        )
    # scale by the largest |entry| first, so that the norm neither overflows nor underflows
    scale = torch.linalg.vector_norm(t, ord=math.inf, dim=1, keepdim=True)
    zero = scale.flatten() == 0
    if bool(zero.any()):
        bad = torch.nonzero(zero).flatten()
        raise ValueError(
            f"x has {bad.numel()} zero row(s), first indices {bad[:10].tolist()}; "
            "the cosine similarity of a zero vector is undefined"
        )
    xn = t / scale
    xn /= torch.linalg.vector_norm(xn, dim=1, keepdim=True)
    return xn


def _order_ties(idx: torch.Tensor, val: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row of (R, k) neighbours by decreasing value, ties by increasing index."""
    idx, perm = torch.sort(idx, dim=1)
    val = torch.gather(val, 1, perm)
    val, perm = torch.sort(val, dim=1, descending=True, stable=True)
    return torch.gather(idx, 1, perm), val


def _block_topk(sim: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top k columns of every row of ``sim`` (R, N), lower index first among equal values.

    ``sim`` must have N ≥ k + 1 columns; it is not modified.
    """
    val, idx = torch.topk(sim, k + 1, dim=1, largest=True, sorted=True)
    kth = val[:, k - 1]
    tied = torch.nonzero(val[:, k] == kth).flatten()  # a tie crosses the cut-off
    val, idx = val[:, :k], idx[:, :k]
    if tied.numel():
        rows = sim[tied]  # (T, N), T small
        t_kth = kth[tied, None]
        above = rows > t_kth
        equal = rows == t_kth
        need = k - above.sum(dim=1, keepdim=True)  # how many of the equal ones to take
        take = above | (equal & (torch.cumsum(equal, dim=1) <= need))
        cols = torch.nonzero(take)[:, 1].reshape(-1, k)  # ascending column order per row
        idx = idx.clone()
        val = val.clone()
        idx[tied] = cols
        val[tied] = torch.gather(rows, 1, cols)
    return _order_ties(idx, val)


def cosine_knn_graph(
    x: np.ndarray | torch.Tensor,
    k: int,
    *,
    block_size: int = 4096,
    symmetric: bool = True,
    self_loops: bool = False,
    clip_negative: bool = True,
    device: torch.device | str | None = None,
    return_weights: bool = True,
) -> KnnGraph:
    """Cosine k-nearest-neighbour graph of the rows of ``x``, computed in row blocks.

    Node i's neighbours are the k other samples with the largest cosine similarity
    ``x_i · x_j / (‖x_i‖ ‖x_j‖)``; the graph has the edges ``j → i`` for every neighbour j of
    i (PyG's source → target, so a GCN aggregates over the k neighbours), the seed study's
    kNN graph of ResNet-18 embeddings (§IV.B). See the module docstring for the memory bound
    and the tie rule.

    Parameters
    ----------
    x : (N, D) float array or tensor
        One sample per row (float32 and float64 are kept; other dtypes become float32). Rows
        are L2-normalised internally; a zero row or a row with NaN/inf raises ValueError.
    k : int
        Neighbours per node, ``1 ≤ k ≤ N − 1``.
    block_size : int, default 4096
        Query rows per matrix product: the working buffer is ``block_size × N`` similarities
        (``4·block_size·N`` bytes in float32, twice that for float64 input). Results do not
        depend on it beyond rounding.
    symmetric : bool, default True
        Add the reverse of every edge (the union of ``j → i`` and ``i → j``, each directed edge
        once), so the graph is undirected; a node then has at least k neighbours. False keeps
        exactly k incoming edges per node.
    self_loops : bool, default False
        Add one loop ``i → i`` of weight 1 per node.
    clip_negative : bool, default True
        Edge weights are ``max(0, cos)`` (GCN's normalisation needs non-negative degrees); the
        edge itself is kept. False keeps negative cosines as weights. ``similarity`` is never
        clipped.
    device : torch.device or str, optional
        Where to compute; None keeps the tensor's device (CPU for numpy input). The results
        live there.
    return_weights : bool, default True
        False leaves ``edge_weight`` None.

    Returns
    -------
    KnnGraph
        ``neighbours`` (N, k) int64, ``similarity`` (N, k) float32, ``edge_index`` (2, E) int64
        sorted by (target, source), ``edge_weight`` (E,) float32; ``E = N·k`` (+N with self
        loops) when not symmetric, ``N·k ≤ E ≤ 2·N·k`` (+N) when symmetric.

    Raises
    ------
    ValueError
        ``x`` not (N, D); a zero, NaN or inf row (the message names its index); k outside
        [1, N − 1]; ``block_size < 1``.

    Notes
    -----
    Memory is O(block_size·N + N·k + N·D), never O(N²); time is O(N²·D) in ⌈N / block_size⌉
    matrix products, each followed by one :func:`torch.topk`. With ``symmetric=True`` the
    weight of ``i → j`` and ``j → i`` is the larger of the two computed cosines (mathematically
    equal; the matrix products may round them differently), so the weights are exactly
    symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    >>> g = cosine_knn_graph(pts, 1, symmetric=False)
    >>> g.neighbours.flatten().tolist()
    [1, 0, 3, 2]
    >>> g.edge_index.tolist()
    [[1, 0, 3, 2], [0, 1, 2, 3]]
    """
    k = operator.index(k)
    block_size = operator.index(block_size)
    xn = _normalised_rows(x, device)
    n = xn.shape[0]
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must satisfy 1 ≤ k ≤ N − 1 = {n - 1}, got k = {k}")
    if block_size < 1:
        raise ValueError(f"block_size must be ≥ 1, got {block_size}")
    dev = xn.device
    block_size = min(block_size, n)

    neighbours = torch.empty((n, k), dtype=torch.long, device=dev)
    similarity = torch.empty((n, k), dtype=torch.float32, device=dev)
    buffer = torch.empty((block_size, n), dtype=xn.dtype, device=dev)
    xt = xn.T
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        rows = stop - start
        sim = torch.mm(xn[start:stop], xt, out=buffer[:rows])  # (rows, N)
        own = torch.arange(rows, device=dev)
        sim[own, own + start] = -math.inf  # a sample is not its own neighbour
        idx, val = _block_topk(sim, k)
        neighbours[start:stop] = idx
        similarity[start:stop] = val
    del buffer

    target = torch.arange(n, device=dev).repeat_interleave(k)
    source = neighbours.flatten()
    weight = similarity.flatten()
    if symmetric:
        # both directions of every kNN pair; duplicates (mutual neighbours) merged
        key = torch.cat([target * n + source, source * n + target])
        weight = torch.cat([weight, weight])
        key, inverse = torch.unique(key, sorted=True, return_inverse=True)
        merged = torch.full(key.shape, -math.inf, dtype=torch.float32, device=dev)
        weight = merged.scatter_reduce_(0, inverse, weight, reduce="amax")
    else:
        key, order = torch.sort(target * n + source)
        weight = weight[order]
    if self_loops:
        loops = torch.arange(n, device=dev)
        key = torch.cat([key, loops * n + loops])
        weight = torch.cat([weight, torch.ones(n, dtype=torch.float32, device=dev)])
        key, order = torch.sort(key)
        weight = weight[order]
    edge_index = torch.stack([key % n, key // n])
    edge_weight = None
    if return_weights:
        edge_weight = weight.clamp_min(0.0) if clip_negative else weight
    return KnnGraph(
        neighbours=neighbours,
        similarity=similarity,
        edge_index=edge_index,
        edge_weight=edge_weight,
        n_nodes=n,
        k=k,
        symmetric=symmetric,
        self_loops=self_loops,
    )
