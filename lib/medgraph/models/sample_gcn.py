"""The seed's two-layer GCN over a graph of samples, trained transductively.

Daxesh & Swarnalatha ("Leukemia classifier using graph neural networks", §IV.C-D) make every cell
image a node with its 512-d ResNet-18 embedding, link it to its k nearest neighbours by cosine
similarity, and classify the nodes with two GCN layers (Kipf & Welling, ICLR 2017):
``GCNConv(512, 128) → ReLU → dropout 0.5 → GCNConv(128, 2) → log_softmax``, trained with Adam
(lr 1e-3, L2 weight decay) for 400 epochs on a class-weighted cross-entropy whose weights are
inverse to the class frequencies.

``torch_geometric.nn.GCNConv`` normalises symmetrically, ``D^{-1/2}(A + I)D^{-1/2}`` with the
edge weights in ``A`` and unit self-loops (the paper writes ``D^{-1}A``; PyG's layer, which the
paper names, is symmetric). Weight decay is Adam's coupled L2 penalty; its value is not in the
paper, 5e-4 is Kipf & Welling's.

Training is transductive and honest: every node's features go through the graph, but only the
labels of ``train_idx`` enter the loss and only those of ``val_idx`` the choice of the epoch; the
labels of every other node are never read (they may be −1). :func:`train_sample_gcn` keeps the
weights of the epoch with the lowest class-weighted validation loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from medgraph.losses import NonFiniteLossError

__all__ = [
    "SampleGCN",
    "SampleGCNFit",
    "class_weights",
    "train_sample_gcn",
    "gcn_probabilities",
]

Device = torch.device | str | None


def _generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


class SampleGCN(nn.Module):
    """Two GCN layers classifying the nodes of a graph of samples (the seed's GNN).

    Parameters
    ----------
    in_dim : int, default 512
        Node feature size (ResNet-18 embeddings).
    hidden : int, default 128
    n_classes : int, default 2
    dropout : float, default 0.5
        Dropout probability between the layers (training mode only).
    seed : int or None, default 0
        Seed of the private generator of the initialisation (Glorot-uniform weights, zero
        biases, as PyG's); the global torch random state is not touched.

    Notes
    -----
    ``forward(x, edge_index, edge_weight)`` maps ``x (N, in_dim)``, ``edge_index (2, E)`` int64
    and ``edge_weight (E,)`` (or None: unit weights) to log-probabilities ``(N, n_classes)``.
    """

    def __init__(
        self,
        in_dim: int = 512,
        hidden: int = 128,
        n_classes: int = 2,
        dropout: float = 0.5,
        *,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        if min(int(in_dim), int(hidden)) < 1 or int(n_classes) < 2:
            raise ValueError(
                f"need in_dim, hidden >= 1 and n_classes >= 2, got {in_dim}, {hidden}, {n_classes}"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.in_dim, self.hidden, self.n_classes = int(in_dim), int(hidden), int(n_classes)
        self.dropout = float(dropout)
        with torch.device("meta"):  # no draw from the global generator
            self.conv1 = GCNConv(self.in_dim, self.hidden)
            self.conv2 = GCNConv(self.hidden, self.n_classes)
        self.to_empty(device="cpu")
        self.reset_parameters(_generator(seed))

    def reset_parameters(self, generator: torch.Generator | None = None) -> SampleGCN:
        """Glorot-uniform weights and zero biases (PyG's GCNConv init) from ``generator``."""
        gen = generator if generator is not None else _generator(None)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                nn.init.xavier_uniform_(conv.lin.weight, generator=gen)
                nn.init.zeros_(conv.bias)
        return self

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Log-probabilities (N, n_classes); ``generator`` draws the dropout masks.

        The generator must live on ``x``'s device; None uses torch's global generator.
        """
        h = F.relu(self.conv1(x, edge_index, edge_weight))
        if self.training and self.dropout > 0:
            if generator is None:
                h = F.dropout(h, self.dropout, training=True)
            else:
                keep = torch.rand(h.shape, generator=generator, device=h.device) >= self.dropout
                h = h * keep / (1.0 - self.dropout)
        return F.log_softmax(self.conv2(h, edge_index, edge_weight), dim=-1)


def class_weights(
    labels: np.ndarray | Tensor | list[int], n_classes: int, *, allow_absent: bool = False
) -> Tensor:
    """Class weights inverse to the class frequencies: ``w_c = N / (C · n_c)``.

    ``N`` labels, ``C`` classes, ``n_c`` labels of class ``c``; so ``Σ_c w_c n_c = N`` (a
    balanced set gets all weights 1), and the weighted mean of the per-sample losses (torch's
    ``nll_loss(weight=w)`` divides by ``Σ_i w_{y_i} = N``) is the mean over classes of the
    per-class mean losses.

    Parameters
    ----------
    labels : (N,) int array
        Values in ``[0, n_classes)``.
    n_classes : int
    allow_absent : bool
        Give a class without any label the weight 0 (the others: the inverse frequencies among
        the classes present), as a small validation set needs; otherwise such a class is an
        error.

    Returns
    -------
    (n_classes,) float32 tensor (CPU)

    Raises
    ------
    ValueError
        When a label is out of range, or a class has no label (its weight would be infinite).
    """
    y = np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels).reshape(-1)
    if y.size == 0:
        raise ValueError("no labels given")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {y.dtype}")
    if int(n_classes) < 1 or y.min() < 0 or y.max() >= int(n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes}), got values {int(y.min())}..{int(y.max())}"
        )
    counts = np.bincount(y, minlength=int(n_classes))
    absent = np.flatnonzero(counts == 0)
    if absent.size and allow_absent:  # weight 0 for a class no label uses: it never applies
        present = counts > 0
        weights = np.zeros(int(n_classes))
        weights[present] = y.size / (int(present.sum()) * counts[present])
        return torch.as_tensor(weights, dtype=torch.float32)
    if absent.size:
        raise ValueError(
            f"class {int(absent[0])} has no sample among the {y.size} labels "
            f"(counts {counts.tolist()}); inverse-frequency weights need every class"
        )
    return torch.as_tensor(y.size / (int(n_classes) * counts), dtype=torch.float32)


@dataclass(eq=False)
class SampleGCNFit:
    """The result of :func:`train_sample_gcn`.

    Attributes
    ----------
    state_dict : dict of CPU tensors
        Weights of the selected epoch (:class:`SampleGCN` with the fields below).
    in_dim, hidden, n_classes : int
    dropout : float
    best_epoch : int
        Index (from 0) into the per-epoch arrays of the selected epoch.
    train_loss : (epochs,) float array
        Class-weighted NLL of the training nodes at each epoch's update (training mode,
        dropout on, before the step).
    val_loss : (epochs,) float array
        Class-weighted NLL of the validation nodes after each epoch's update (eval mode), with
        the validation labels' own inverse-frequency weights (the mean of the per-class mean
        losses): the selection criterion.
    val_accuracy, val_balanced_accuracy : (epochs,) float arrays
        Of the validation nodes after each epoch's update.
    train_class_weights : (n_classes,) float array
        The weights of the training loss.
    seed : int
    """

    state_dict: dict[str, Tensor]
    in_dim: int
    hidden: int
    n_classes: int
    dropout: float
    best_epoch: int
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    val_balanced_accuracy: np.ndarray
    train_class_weights: np.ndarray
    seed: int = 0

    @property
    def best_val_loss(self) -> float:
        """The validation loss of the selected epoch."""
        return float(self.val_loss[self.best_epoch])

    def model(self, device: Device = None) -> SampleGCN:
        """The selected network, in eval mode."""
        net = SampleGCN(self.in_dim, self.hidden, self.n_classes, self.dropout, seed=0)
        net.load_state_dict(self.state_dict)
        return (net if device is None else net.to(device)).eval()

    def predict_proba(
        self,
        x: np.ndarray | Tensor,
        edge_index: np.ndarray | Tensor,
        edge_weight: np.ndarray | Tensor | None = None,
        *,
        device: Device = None,
    ) -> np.ndarray:
        """(N, n_classes) class probabilities of every node (:func:`gcn_probabilities`)."""
        return gcn_probabilities(self, x, edge_index, edge_weight, device=device)


def _graph_tensors(
    x: np.ndarray | Tensor,
    edge_index: np.ndarray | Tensor,
    edge_weight: np.ndarray | Tensor | None,
    device: torch.device,
) -> tuple[Tensor, Tensor, Tensor | None]:
    xt = torch.as_tensor(x).to(device=device, dtype=torch.float32)
    if xt.ndim != 2:
        raise ValueError(f"x must be (N, F), got shape {tuple(xt.shape)}")
    ei = torch.as_tensor(edge_index).to(device=device, dtype=torch.long)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must be (2, E), got shape {tuple(ei.shape)}")
    if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= xt.shape[0]):
        raise ValueError(f"edge_index refers to nodes outside [0, {xt.shape[0]})")
    ew = None
    if edge_weight is not None:
        ew = torch.as_tensor(edge_weight).to(device=device, dtype=torch.float32).reshape(-1)
        if ew.shape[0] != ei.shape[1]:
            raise ValueError(f"edge_weight has {ew.shape[0]} entries for {ei.shape[1]} edges")
    return xt, ei, ew


def gcn_probabilities(
    fit: SampleGCNFit,
    x: np.ndarray | Tensor,
    edge_index: np.ndarray | Tensor,
    edge_weight: np.ndarray | Tensor | None = None,
    *,
    device: Device = None,
) -> np.ndarray:
    """Class probabilities of every node under the selected weights of ``fit``.

    Parameters
    ----------
    fit : SampleGCNFit
    x : (N, in_dim) float array; edge_index : (2, E) int array; edge_weight : (E,) or None
    device : torch device to run on, default CPU

    Returns
    -------
    (N, n_classes) float64 numpy array, rows summing to 1.
    """
    dev = torch.device("cpu") if device is None else torch.device(device)
    xt, ei, ew = _graph_tensors(x, edge_index, edge_weight, dev)
    net = fit.model(dev)
    with torch.no_grad():
        return net(xt, ei, ew).exp().double().cpu().numpy()


def _index(idx: np.ndarray | Tensor | list[int], n: int, name: str) -> np.ndarray:
    a = np.asarray(idx.cpu() if isinstance(idx, Tensor) else idx).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer node indices, got {a.dtype}")
    if a.min() < 0 or a.max() >= n:
        raise ValueError(f"{name} holds indices outside [0, {n})")
    if np.unique(a).size != a.size:
        raise ValueError(f"{name} repeats a node")
    return a.astype(np.int64)


def _balanced_accuracy(pred: Tensor, y: Tensor, n_classes: int) -> float:
    recalls = [
        float((pred[y == c] == c).float().mean()) for c in range(n_classes) if bool((y == c).any())
    ]
    return float(np.mean(recalls)) if recalls else math.nan


def train_sample_gcn(
    x: np.ndarray | Tensor,
    edge_index: np.ndarray | Tensor,
    edge_weight: np.ndarray | Tensor | None,
    labels: np.ndarray | Tensor,
    train_idx: np.ndarray | Tensor,
    val_idx: np.ndarray | Tensor,
    *,
    n_classes: int = 2,
    hidden: int = 128,
    dropout: float = 0.5,
    epochs: int = 400,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device: Device = None,
) -> SampleGCNFit:
    """Train :class:`SampleGCN` full-batch on one graph; keep the best validation epoch.

    Every epoch is one Adam step on the class-weighted NLL of the training nodes (weights
    :func:`class_weights` of the training labels), with dropout; then the validation loss is
    computed in eval mode (class-weighted by the validation labels' frequencies, i.e. the mean
    of the per-class mean losses). The weights of the epoch with the lowest validation loss are
    kept; a tie keeps the earlier epoch.

    Transductive: all ``N`` nodes' features pass through the graph, but ``labels`` is only ever
    indexed at ``train_idx`` (for the loss) and ``val_idx`` (for the selection); the other
    entries (the test nodes) are never read and may hold anything, e.g. −1.

    Parameters
    ----------
    x : (N, in_dim) float array
        Node features.
    edge_index : (2, E) int array
        Directed edges (source row 0, target row 1); give both directions for an undirected
        graph.
    edge_weight : (E,) float array or None
        Edge weights (None: 1).
    labels : (N,) int array
        Class of every node; only the ``train_idx`` and ``val_idx`` entries are read.
    train_idx, val_idx : int arrays
        Disjoint, non-empty sets of node indices; the training ones must hold every class.
    n_classes, hidden, dropout : network size (:class:`SampleGCN`), defaults the seed's
    epochs : int, default 400
    lr : float, default 1e-3
    weight_decay : float, default 5e-4
        Adam's L2 penalty.
    seed : int, default 0
        Seeds the initialisation and the dropout masks (private generators; the global torch
        random state is not touched). On the CPU the result is bit-for-bit reproducible.
    device : torch device, default CPU

    Returns
    -------
    SampleGCNFit

    Raises
    ------
    ValueError
        Malformed inputs: shapes, indices out of range, repeated or overlapping ``train_idx``
        and ``val_idx``, labels outside ``[0, n_classes)`` at those nodes, a class missing from
        the training labels or the validation labels, non-finite features or edge weights.
    medgraph.losses.NonFiniteLossError
        When the training loss becomes NaN or infinite; the message names the epoch.
    """
    if int(epochs) < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    dev = torch.device("cpu") if device is None else torch.device(device)
    xt, ei, ew = _graph_tensors(x, edge_index, edge_weight, dev)
    n = xt.shape[0]
    if not bool(torch.isfinite(xt).all()):
        bad = torch.nonzero(~torch.isfinite(xt).all(dim=1)).flatten()
        raise ValueError(
            f"x holds NaN or infinite values in {bad.numel()} node(s), first node {int(bad[0])}"
        )
    if ew is not None and not bool(torch.isfinite(ew).all()):
        raise ValueError("edge_weight holds NaN or infinite values")
    tr = _index(train_idx, n, "train_idx")
    va = _index(val_idx, n, "val_idx")
    shared = np.intersect1d(tr, va)
    if shared.size:
        raise ValueError(
            f"train_idx and val_idx share {shared.size} node(s), e.g. node {int(shared[0])}"
        )
    lab = labels.cpu() if isinstance(labels, Tensor) else labels
    lab = np.asarray(lab).reshape(-1)
    if lab.shape[0] != n:
        raise ValueError(f"labels has {lab.shape[0]} entries for {n} nodes")
    y_train_np, y_val_np = lab[tr], lab[va]  # the only reads of labels
    w_train = class_weights(y_train_np, n_classes).to(dev)
    w_val = class_weights(y_val_np, n_classes, allow_absent=True).to(dev)
    y_train = torch.as_tensor(y_train_np.astype(np.int64), device=dev)
    y_val = torch.as_tensor(y_val_np.astype(np.int64), device=dev)
    tr_t = torch.as_tensor(tr, device=dev)
    va_t = torch.as_tensor(va, device=dev)

    model = SampleGCN(xt.shape[1], hidden, n_classes, dropout, seed=seed).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    dropout_gen = _generator(seed + 1, dev)

    train_loss = np.empty(epochs)
    val_loss = np.empty(epochs)
    val_acc = np.empty(epochs)
    val_bacc = np.empty(epochs)
    best_epoch, best_loss = -1, math.inf
    best_state: dict[str, Tensor] = {}
    for epoch in range(int(epochs)):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        out = model(xt, ei, ew, generator=dropout_gen)
        loss = F.nll_loss(out[tr_t], y_train, weight=w_train)
        value = float(loss.detach())
        if not math.isfinite(value):
            kind = "NaN" if math.isnan(value) else "infinite"
            raise NonFiniteLossError(
                f"SampleGCN training loss became {kind} at epoch {epoch} (lr={lr}); "
                "training stopped"
            )
        loss.backward()
        optimizer.step()
        train_loss[epoch] = value

        model.eval()
        with torch.no_grad():
            out_val = model(xt, ei, ew)[va_t]
            val_loss[epoch] = float(F.nll_loss(out_val, y_val, weight=w_val))
            pred = out_val.argmax(dim=1)
            val_acc[epoch] = float((pred == y_val).float().mean())
            val_bacc[epoch] = _balanced_accuracy(pred, y_val, n_classes)
        if val_loss[epoch] < best_loss:
            best_epoch, best_loss = epoch, float(val_loss[epoch])
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    if best_epoch < 0:
        raise NonFiniteLossError(f"SampleGCN validation loss was NaN at all {epochs} epochs")
    return SampleGCNFit(
        state_dict=best_state,
        in_dim=int(xt.shape[1]),
        hidden=int(hidden),
        n_classes=int(n_classes),
        dropout=float(dropout),
        best_epoch=best_epoch,
        train_loss=train_loss,
        val_loss=val_loss,
        val_accuracy=val_acc,
        val_balanced_accuracy=val_bacc,
        train_class_weights=w_train.cpu().numpy(),
        seed=int(seed),
    )
