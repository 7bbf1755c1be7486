"""Per-image graph-cut optimisation, many images at once.

DeepCut and UnSeGGNet segment an image by fitting a fresh clustering GNN to it: the image's patch
features give a graph (:mod:`medgraph.graphs.affinity`), the network
(:class:`medgraph.models.clustering.GraphCutNet`) maps the patches to soft assignments, and a
graph-cut loss (:mod:`medgraph.losses.graph_cut`) is minimised for a fixed number of epochs;
the argmax of the assignments is the segmentation. Nothing is learnt across images.

Batching. Fitting images one after another spends most of the time in Python and small kernels.
:func:`optimise_graph_cuts` fits ``batch_size`` images in one set of batched tensor operations:
every parameter has a leading image axis, each image has its own graph and loss, and the
optimiser minimises the SUM of the per-image losses. The sum's gradient is block-diagonal —
image b's parameters receive the gradient of image b's loss alone — and Adam(W) updates every
element from that element's own gradient history, so the batched run follows exactly the
per-image runs (up to rounding of batched matrix products): image i of a call with ``seed`` is
initialised from ``seed + i`` (see :class:`~medgraph.models.clustering.GraphCutNet`), so
``optimise_graph_cuts(features[i:i+1], seed=seed + i)`` reproduces image i of the batch.

How exactly, and how fast (``benchmarks/bench_graphcut_batching.py``, 64 images of 784 patches,
D = 32, 100 epochs). On the CPU the batched run gave the loop's soft assignments bit for bit
(2 cores) or within 4e-5 (16 cores). On CUDA in float32, cuBLAS rounds a product of a batch of
64 differently from a batch of 1, and 100 Adam steps amplify the last-bit differences to
≤ 3e-4 in S (a few patches near S = ½ flip); in float64 (``dtype=torch.float64``) the two runs
were identical. Speed: on an H200 the batch of 64 ran 50–60× faster than the loop (NCut+GCN,
DMoN+GAT); on CPUs 2.5× (2 cores) to 8× (16 cores) for NCut+GCN. On a CPU, the (B, N, N)
tensors of GAT leave the cache for large batches and the batch is no faster than the loop:
there, small chunks (2–4 images) are best, and GAT runs in such chunks (below, "Chunks").

Per-step arithmetic. What the graph contributes without the parameters is computed once per
chunk, before the epochs: the GCN and ARMA layers propagate the fixed input, ``P X`` and
``L̂ X`` (:meth:`medgraph.models.clustering.GraphCutNet.prepare`), so each step multiplies an
N × D matrix by the layer's weights; the NCut and DMoN losses take the fixed degrees ``W1``, so
each step multiplies W by K − 1 columns of S. Correlation clustering needs no N × N product per
step: its W is ``X Xᵀ − c 1 1ᵀ`` and the loss is ``−‖XᵀS‖²_F + c‖1ᵀS‖²``; with the unnormalised
GCN its propagation ``W X`` factorises too, and no N × N matrix is formed but the Gram matrix
from which c is taken (:mod:`medgraph.graphcut.lowrank`). All are the same numbers as the dense
formulas up to float rounding. GAT's attention depends on the parameters: N² work per step.

Rounding and CC + GCN. Correlation clustering's loss is large (≈ 2·10⁶ for 784 random patches
of D = 13) and, with the GCN, its optimisation amplifies rounding: in float64 two runs whose
arithmetic differs only in the order of a sum (batch of 16 against the loop, or the dense
formulas against the factorised ones) start 1e-15 apart in the loss and end 5e-5 apart
(relative) after 100 epochs, with max |ΔS| up to 1 on a few of 12 544 patches. That is the
dynamics, not the method: equal inputs give equal results, and the factorised products make
batched and looped CC runs agree exactly on the CPU (the dense (B, N, N) product did not).

Chunks. Images are optimised ``batch_size`` at a time, except for GAT on a CPU, where the
(b, N, N) attention tensors of a large batch leave the cache and the batch would run slower
than the loop: there a chunk holds at most :data:`GAT_CPU_CHUNK_BYTES` per (b, N, N) tensor
(:func:`chunk_images`). ``result.config["chunk"]`` records the chunk used.

What "the assignment at epoch e" means. As in DeepCut's loop, epoch e is one forward pass, the
loss, a backward pass and one optimiser step; the assignment and loss recorded for epoch e are
those of that forward pass (parameters after e − 1 updates). DeepCut segments with the S of its
last forward pass; ``result.soft`` is that S.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from medgraph.graphcut.lowrank import cc_lowrank_loss, cc_lowrank_propagation, cc_offset
from medgraph.graphs.affinity import dmon_adjacency, ncut_affinity, patch_gram
from medgraph.losses.graph_cut import dmon_loss, ncut_loss
from medgraph.models.clustering import GraphCutNet, LayerName

__all__ = [
    "GraphCutResult",
    "NonFiniteGraphCutError",
    "optimise_graph_cuts",
    "LossName",
    "chunk_images",
    "GAT_CPU_CHUNK_BYTES",
]

LossName = Literal["ncut", "cc", "dmon"]
_LOSSES = ("ncut", "cc", "dmon")
_LAYERS = ("gcn", "gat", "arma")


class NonFiniteGraphCutError(RuntimeError):
    """An image's graph-cut loss became NaN or infinite."""


@dataclass(frozen=True)
class GraphCutResult:
    """What :func:`optimise_graph_cuts` produced for B images of N patches.

    Attributes
    ----------
    assignments : (B, E, N) uint8 array
        Hard cluster of every patch (argmax over K) at each evaluation epoch.
    eval_epochs : (E,) int array
        The evaluation epochs (1-based): multiples of ``eval_every``, and the last epoch.
    soft : (B, N, K) float32 array
        Soft assignments of the last epoch.
    losses : (B, epochs) float64 array
        Every image's loss at every epoch.
    seconds : float
        Wall-clock time of the whole call (affinities, optimisation, copies).
    loss, layer : str
        The loss and GNN layer used.
    config : dict
        The remaining settings (k, hidden, lr, weight decay, α, τ, normalisation, seed, batch
        size, dtype, device).
    """

    assignments: np.ndarray
    eval_epochs: np.ndarray
    soft: np.ndarray
    losses: np.ndarray
    seconds: float
    loss: str
    layer: str
    config: dict = field(default_factory=dict)

    @property
    def final_assignments(self) -> np.ndarray:
        """(B, N) uint8 hard assignments of the last epoch."""
        return self.assignments[:, -1]

    def at_epoch(self, epoch: int) -> np.ndarray:
        """(B, N) uint8 hard assignments recorded at ``epoch`` (one of :attr:`eval_epochs`)."""
        hits = np.flatnonzero(self.eval_epochs == epoch)
        if hits.size == 0:
            raise KeyError(
                f"epoch {epoch} was not evaluated; evaluated: {self.eval_epochs.tolist()}"
            )
        return self.assignments[:, int(hits[0])]


def _evaluation_epochs(epochs: int, eval_every: int) -> list[int]:
    marks = list(range(eval_every, epochs + 1, eval_every))
    if not marks or marks[-1] != epochs:
        marks.append(epochs)
    return marks


#: Bytes of one (b, N, N) tensor of a chunk of b images that the GAT layer may fill on a CPU
#: (module notes, "Chunks").
GAT_CPU_CHUNK_BYTES = 8 * 2**20


def chunk_images(
    batch_size: int, layer: str, n_nodes: int, dtype: torch.dtype, device: torch.device
) -> int:
    """How many images one set of batched operations holds (module notes, "Chunks").

    ``batch_size``, except for the GAT layer on a CPU: its attention needs several
    (b, N, N) tensors per step (logits, weights, their gradients, the mask), and once they
    leave the last-level cache a large batch runs slower than the one-image loop. There the
    chunk is the largest b ≤ ``batch_size`` with ``b · N² · itemsize ≤``
    :data:`GAT_CPU_CHUNK_BYTES` (at least 1): 3 images of N = 784 patches in float32, 1 in
    float64. Images are independent, so the chunking changes no result beyond the rounding
    of a batched product.

    Parameters
    ----------
    batch_size : int
        The images the caller asked to optimise together.
    layer : str
    n_nodes : int
        N.
    dtype : torch.dtype
    device : torch.device

    Returns
    -------
    int in [1, batch_size].
    """
    if layer != "gat" or device.type != "cpu":
        return int(batch_size)
    per_image = n_nodes * n_nodes * dtype.itemsize
    return max(1, min(int(batch_size), GAT_CPU_CHUNK_BYTES // per_image))


def _affinity(
    x: torch.Tensor,
    loss: str,
    alpha: float,
    tau: float,
    dmon_self_loops: bool,
    offset: torch.Tensor | None,
) -> torch.Tensor:
    if loss == "ncut":
        return ncut_affinity(x)
    if loss == "cc":  # cc_affinity(x, α), with the c already computed
        assert offset is not None
        return patch_gram(x) - offset[:, None, None]
    return dmon_adjacency(x, tau, self_loops=dmon_self_loops)


def _per_image_loss(
    loss: str,
    s: torch.Tensor,
    w: torch.Tensor | None,
    degrees: torch.Tensor | None,
    collapse_weight: float,
    x: torch.Tensor,
    offset: torch.Tensor | None,
) -> torch.Tensor:
    if loss == "cc":  # −Tr(SᵀWS) from W's factors (medgraph.graphcut.lowrank)
        assert offset is not None
        return cc_lowrank_loss(s, x, offset)
    assert w is not None
    if loss == "ncut":
        return ncut_loss(s, w, symmetric=True, degrees=degrees)
    return dmon_loss(s, w, collapse_weight=collapse_weight, symmetric=True, degrees=degrees)


def optimise_graph_cuts(
    features: np.ndarray | torch.Tensor,
    loss: LossName = "ncut",
    layer: LayerName = "gcn",
    *,
    epochs: int = 100,
    eval_every: int = 10,
    k: int = 2,
    hidden: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    alpha: float = 5.0,
    tau: float = 0.7,
    dmon_self_loops: bool = True,
    collapse_weight: float = 1.0,
    gcn_normalize: bool | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    batch_size: int = 64,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> GraphCutResult:
    """Fit one clustering GNN per image to its patch graph with a graph-cut loss.

    Parameters
    ----------
    features : (B, N, D) or (N, D) array or tensor
        Patch features of B images with N patches each (row-major over the patch grid, as
        :func:`medgraph.graphcut.foreground_cluster` expects).
    loss : {"ncut", "cc", "dmon"}, default "ncut"
        The loss and its affinity: DeepCut's normalised cut on
        :func:`~medgraph.graphs.affinity.ncut_affinity`, DeepCut's correlation clustering on
        :func:`~medgraph.graphs.affinity.cc_affinity` (α), or DMoN on
        :func:`~medgraph.graphs.affinity.dmon_adjacency` (τ).
    layer : {"gcn", "gat", "arma"}, default "gcn"
        The GNN layer (:mod:`medgraph.models.clustering`). ``loss="cc"`` with ``"arma"`` is
        refused: ARMA's D^-1/2 is undefined for the signed CC weights.
    epochs : int, default 100
    eval_every : int, default 10
        Hard assignments are kept at epochs eval_every, 2·eval_every, … and at the last epoch.
    k : int, default 2
        Number of clusters.
    hidden : int, default 64
        Width of the GNN layer.
    lr : float, default 1e-3
        Learning rate. DeepCut uses ``AdamW(lr=1e-3)`` (``segment.py``), i.e. with PyTorch's
        default weight decay 0.01; here ``weight_decay`` defaults to 0 (plain Adam, the seed
        study's optimiser as briefed). Pass ``weight_decay=0.01`` for DeepCut's.
    weight_decay : float, default 0.0
        Decoupled weight decay of ``torch.optim.AdamW`` (0: Adam).
    alpha : float, default 5.0
        CC's α. Ignored by the other losses.
    tau : float, default 0.7
        DMoN's cosine threshold τ. Ignored by the other losses.
    dmon_self_loops : bool, default True
        Keep ``A_ii = 1`` in DMoN's adjacency (UnSeGGNet's graph).
    collapse_weight : float, default 1.0
        Weight of DMoN's collapse term.
    gcn_normalize : bool, optional
        GCN's ``normalize``; None: False for ``loss="cc"`` (the seed study's setting: negative
        weights), True otherwise.
    seed : int, default 0
        Image i of this call is initialised from ``seed + i`` (module notes).
    device : torch.device or str, optional
        None: the features' device (CPU for numpy input).
    batch_size : int, default 64
        Images optimised together; the chunks of ``batch_size`` images run one after another.
        GAT on a CPU uses smaller chunks (:func:`chunk_images`).
    dtype : torch.dtype, default float32
    progress : bool, default False
        A tqdm bar over chunks.

    Returns
    -------
    GraphCutResult

    Raises
    ------
    ValueError
        Unknown loss or layer, ``cc`` with ``arma``, or invalid numbers.
    NonFiniteGraphCutError
        An image's loss became NaN or inf; the message names the image (index in ``features``)
        and the epoch.
    """
    start_time = time.perf_counter()
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    if layer not in _LAYERS:
        raise ValueError(f"layer must be one of {_LAYERS}, got {layer!r}")
    if loss == "cc" and layer == "arma":
        raise ValueError(
            "loss='cc' cannot be used with layer='arma': ARMAConv normalises by D^-1/2 and the "
            "correlation-clustering weights are signed, so node degrees can be negative and "
            "D^-1/2 is undefined; use layer='gcn' (unnormalised) or layer='gat'"
        )
    for name, value in (("epochs", epochs), ("eval_every", eval_every), ("batch_size", batch_size)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if not (lr > 0):
        raise ValueError(f"lr must be positive, got {lr}")
    if gcn_normalize is None:
        gcn_normalize = loss != "cc"

    feats = (
        features if isinstance(features, torch.Tensor) else torch.as_tensor(np.asarray(features))
    )
    if feats.ndim == 2:
        feats = feats.unsqueeze(0)
    if feats.ndim != 3:
        raise ValueError(f"features must be (B, N, D) or (N, D), got shape {tuple(feats.shape)}")
    if device is None:
        device = feats.device
    device = torch.device(device)
    n_images, n_nodes, dim = feats.shape
    if n_images == 0:
        raise ValueError("features hold no images (B = 0)")
    if k > 256:
        raise ValueError(f"k must be ≤ 256 (assignments are stored as uint8), got {k}")
    marks = _evaluation_epochs(int(epochs), int(eval_every))
    mark_index = {e: i for i, e in enumerate(marks)}

    assignments = np.empty((n_images, len(marks), n_nodes), dtype=np.uint8)
    soft = np.empty((n_images, n_nodes, k), dtype=np.float32)
    history = np.empty((n_images, int(epochs)), dtype=np.float64)

    chunk = chunk_images(int(batch_size), layer, n_nodes, dtype, device)
    chunks = range(0, n_images, chunk)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=f"graph cuts ({loss}+{layer})", unit="chunk")
    for first in chunks:
        last = min(first + chunk, n_images)
        x = feats[first:last].to(device=device, dtype=dtype)
        offset = cc_offset(x, alpha) if loss == "cc" else None
        # CC with unnormalised GCN needs no N × N matrix at all (medgraph.graphcut.lowrank)
        lowrank_gcn = loss == "cc" and layer == "gcn" and not gcn_normalize
        w = None if lowrank_gcn else _affinity(x, loss, alpha, tau, dmon_self_loops, offset)
        model = GraphCutNet(
            [seed + i for i in range(first, last)],
            dim,
            hidden,
            k,
            layer,
            normalize=gcn_normalize,
            dtype=dtype,
            device=device,
        )
        if w is None:
            assert offset is not None
            prepared = {"px": cc_lowrank_propagation(x, offset)}  # PerImageGCNConv.prepare
        else:
            prepared = model.prepare(x, w)
        # fixed: the NCut and DMoN losses then multiply W by K − 1 columns of S
        degrees = None if loss == "cc" or w is None else w.sum(dim=2)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        hist = torch.empty((last - first, int(epochs)), dtype=dtype, device=device)
        hard = torch.empty((last - first, len(marks), n_nodes), dtype=torch.uint8, device=device)
        s = None
        for epoch in range(1, int(epochs) + 1):
            opt.zero_grad(set_to_none=True)
            s = model.assign(prepared)
            per_image = _per_image_loss(loss, s, w, degrees, collapse_weight, x, offset)
            finite = torch.isfinite(per_image)
            if not bool(finite.all()):
                bad = first + int(torch.nonzero(~finite)[0, 0])
                raise NonFiniteGraphCutError(
                    f"graph-cut loss ({loss}+{layer}) became {float(per_image[bad - first].detach())} "
                    f"for image {bad} at epoch {epoch}"
                )
            hist[:, epoch - 1] = per_image.detach()
            if epoch in mark_index:
                hard[:, mark_index[epoch]] = s.detach().argmax(dim=2).to(torch.uint8)
            per_image.sum().backward()
            opt.step()
        assert s is not None
        assignments[first:last] = hard.cpu().numpy()
        soft[first:last] = s.detach().float().cpu().numpy()
        history[first:last] = hist.double().cpu().numpy()

    config = {
        "k": k,
        "hidden": hidden,
        "epochs": int(epochs),
        "eval_every": int(eval_every),
        "lr": lr,
        "weight_decay": weight_decay,
        "alpha": alpha if loss == "cc" else None,
        "tau": tau if loss == "dmon" else None,
        "dmon_self_loops": dmon_self_loops if loss == "dmon" else None,
        "collapse_weight": collapse_weight if loss == "dmon" else None,
        "gcn_normalize": gcn_normalize if layer == "gcn" else None,
        "seed": seed,
        "batch_size": int(batch_size),
        "chunk": chunk,
        "dtype": str(dtype),
        "device": str(device),
    }
    return GraphCutResult(
        assignments=assignments,
        eval_epochs=np.asarray(marks, dtype=np.int64),
        soft=soft,
        losses=history,
        seconds=time.perf_counter() - start_time,
        loss=loss,
        layer=layer,
        config=config,
    )
