"""Stages 2–4 of the seed study on one split: kNN graph, two-layer GCN, and the two baselines.

Given a backbone run (:mod:`medgraph.knn_gcn.backbone`) on a split:

- **CNN alone** — the backbone's own head: its softmax probabilities;
- **SVM** — an RBF support-vector machine on the standardised embeddings (scaler fitted on the
  training nodes), class-balanced; its C is chosen on the validation nodes from ``svm_cs``;
- **CNN + GCN** — the cosine kNN graph of all nodes' embeddings
  (:func:`medgraph.graphs.knn.cosine_knn_graph`, symmetric, no self loops), and the seed's
  two-layer GCN (:func:`medgraph.models.sample_gcn.train_sample_gcn`: 512 → 128 → C, ReLU,
  dropout 0.5, Adam 1e-3 with weight decay, class-weighted cross-entropy, 400 epochs, the
  epoch chosen on validation nodes).

Every fitter gets :meth:`Split.visible_labels` (test nodes −1), checked by
:func:`~medgraph.knn_gcn.protocol.check_no_leakage`, together with the nodes the backbone trained
on. Scores (:func:`classification_scores`) are computed on the test nodes only, afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medgraph.knn_gcn.backbone import BackboneRun
from medgraph.knn_gcn.protocol import Split, check_no_leakage

__all__ = [
    "GCNSettings",
    "SplitResult",
    "classification_scores",
    "fit_svm",
    "fit_gcn",
    "evaluate_split",
    "METRICS",
]

#: the seed's table columns
METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class GCNSettings:
    """The GCN stage: graph and training (the seed's values by default).

    Attributes
    ----------
    k : int
        Neighbours per node of the cosine kNN graph.
    hidden, dropout, epochs, lr, weight_decay : the GCN's (128, 0.5, 400, 1e-3, 5e-4)
    svm_cs : tuple of float
        The SVM's C values tried on validation.
    """

    k: int = 10
    hidden: int = 128
    dropout: float = 0.5
    epochs: int = 400
    lr: float = 1e-3
    weight_decay: float = 5e-4
    svm_cs: tuple[float, ...] = (0.1, 1.0, 10.0)


def classification_scores(
    y_true: np.ndarray, proba: np.ndarray, n_classes: int
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and ROC-AUC of per-class scores against labels.

    The prediction is the argmax of ``proba``; the AUC ranks by its columns, so any monotone
    per-class score works (probabilities, or the SVM's decision values).

    Two classes: precision, recall and F1 of class 1 (ALL, leukemic: the seed's positive class)
    and the AUC of ``proba[:, 1]``. More classes: macro averages over the classes, and the mean
    one-vs-rest AUC over the classes present in ``y_true`` with at least one negative.

    Parameters
    ----------
    y_true : (n,) int array
    proba : (n, C) float array
        Probabilities or other per-class scores.
    n_classes : int

    Returns
    -------
    dict with :data:`METRICS` (floats in [0, 1]; AUC NaN when undefined)
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score

    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    pred = proba.argmax(axis=1)
    out = {"accuracy": float(accuracy_score(y_true, pred))}
    if n_classes == 2:
        p, r, f, _ = precision_recall_fscore_support(
            y_true, pred, labels=[1], average=None, zero_division=0
        )
        out.update(precision=float(p[0]), recall=float(r[0]), f1=float(f[0]))
        out["roc_auc"] = (
            float(roc_auc_score(y_true, proba[:, 1])) if np.unique(y_true).size == 2 else np.nan
        )
        return out
    p, r, f, _ = precision_recall_fscore_support(
        y_true, pred, labels=list(range(n_classes)), average="macro", zero_division=0
    )
    out.update(precision=float(p), recall=float(r), f1=float(f))
    aucs = [
        roc_auc_score(y_true == c, proba[:, c])
        for c in range(n_classes)
        if 0 < (y_true == c).sum() < y_true.size
    ]
    out["roc_auc"] = float(np.mean(aucs)) if aucs else np.nan
    return out


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean([(pred[y == c] == c).mean() for c in np.unique(y)]))


def fit_svm(
    embeddings: np.ndarray,
    labels_given: np.ndarray,
    split: Split,
    cs: Sequence[float] = (0.1, 1.0, 10.0),
    *,
    n_classes: int | None = None,
) -> tuple[np.ndarray, float]:
    """The SVM baseline: per-class scores of every node, and the C chosen on validation.

    Parameters
    ----------
    embeddings : (N, D) float array
    labels_given : (N,) int array
        −1 on test nodes (checked).
    split : Split
    cs : sequence of float
        C values; the one with the best balanced validation accuracy is kept (ties: the smaller C).
    n_classes : int, optional
        Columns of the scores (default: the largest given label + 1); a class without a
        training node scores −inf.

    Returns
    -------
    scores : (N, C) float array
        The one-vs-rest decision values (two classes: ``[−d, d]``); their argmax is the SVM's
        prediction (``break_ties=True``), and they rank nodes for the ROC curve. They are not
        probabilities (no Platt scaling).
    c : float
    """
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    check_no_leakage(split, labels_given=labels_given)
    scaler = StandardScaler().fit(embeddings[split.train])
    z = scaler.transform(embeddings)
    y_train, y_val = labels_given[split.train], labels_given[split.val]
    best = None
    for c in cs:
        svm = SVC(
            C=float(c),
            kernel="rbf",
            class_weight="balanced",
            break_ties=True,
            decision_function_shape="ovr",
        ).fit(z[split.train], y_train)
        score = _balanced_accuracy(y_val, svm.predict(z[split.val]))
        if best is None or score > best[0]:
            best = (score, float(c), svm)
    assert best is not None
    svm = best[2]
    if n_classes is None:
        n_classes = int(labels_given.max()) + 1
    decision = svm.decision_function(z)
    scores = np.full((embeddings.shape[0], n_classes), -np.inf)
    if decision.ndim == 1:  # two classes in training: d > 0 means classes_[1]
        scores[:, svm.classes_[0]], scores[:, svm.classes_[1]] = -decision, decision
    else:
        scores[:, svm.classes_] = decision
    return scores, best[1]


def fit_gcn(
    embeddings: np.ndarray,
    labels_given: np.ndarray,
    split: Split,
    settings: GCNSettings,
    *,
    n_classes: int,
    seed: int = 0,
    device: Any = None,
) -> dict[str, Any]:
    """kNN graph of every node and the seed's two-layer GCN, trained on the split's labels.

    Parameters
    ----------
    embeddings : (N, D) float array
    labels_given : (N,) int array
        −1 on test nodes (checked).
    split : Split
    settings : GCNSettings
    n_classes : int
    seed : int
    device : torch device, optional

    Returns
    -------
    dict with ``proba`` (N, C), ``hidden`` (N, hidden) (the first layer's ReLU output, for the
    UMAP), ``fit`` (:class:`medgraph.models.sample_gcn.SampleGCNFit`), ``graph``
    (:class:`medgraph.graphs.knn.KnnGraph`)
    """
    import torch

    from medgraph.graphs.knn import cosine_knn_graph
    from medgraph.models.sample_gcn import gcn_probabilities, train_sample_gcn

    check_no_leakage(split, labels_given=labels_given)
    graph = cosine_knn_graph(embeddings, settings.k, symmetric=True)
    fit = train_sample_gcn(
        embeddings,
        graph.edge_index,
        graph.edge_weight,
        labels_given,
        split.train,
        split.val,
        n_classes=n_classes,
        hidden=settings.hidden,
        dropout=settings.dropout,
        epochs=settings.epochs,
        lr=settings.lr,
        weight_decay=settings.weight_decay,
        seed=seed,
        device=device,
    )
    proba = gcn_probabilities(fit, embeddings, graph.edge_index, graph.edge_weight)
    model = fit.model()
    model.eval()
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
        ew = torch.as_tensor(graph.edge_weight, dtype=torch.float32)
        hidden = torch.relu(model.conv1(x, torch.as_tensor(graph.edge_index), ew)).numpy()
    return {"proba": proba, "hidden": hidden, "fit": fit, "graph": graph}


@dataclass
class SplitResult:
    """The three models of the seed's table on one split.

    Attributes
    ----------
    split : Split
    seed : int
    proba : dict model → (N, C) scores of every node (probabilities; the SVM's decision values)
    scores : dict model → test scores (:func:`classification_scores`)
    val_scores : dict model → validation scores (what choices may look at)
    details : dict
        The SVM's C, the GCN's chosen epoch and graph size, the backbone's epoch and weights.
    """

    split: Split
    seed: int
    proba: dict[str, np.ndarray]
    scores: dict[str, dict[str, float]]
    val_scores: dict[str, dict[str, float]]
    details: dict[str, Any] = field(default_factory=dict)
    gcn_hidden: np.ndarray | None = None


def evaluate_split(
    run: BackboneRun,
    labels: np.ndarray,
    split: Split,
    settings: GCNSettings,
    *,
    n_classes: int,
    seed: int = 0,
    device: Any = None,
    models: Sequence[str] = ("SVM", "CNN", "CNN + GCN"),
) -> SplitResult:
    """Fit the SVM and the GCN on a backbone's embeddings and score all three models on test.

    Parameters
    ----------
    run : BackboneRun
        Trained on ``split.train`` (checked: :class:`~medgraph.knn_gcn.protocol.LeakageError`
        otherwise).
    labels : (N,) int array
        All labels; the fitters see :meth:`Split.visible_labels` only, test labels are read
        after fitting, for the scores.
    split : Split
    settings : GCNSettings
    n_classes : int
    seed : int
    device : torch device, optional
    models : which of "SVM", "CNN", "CNN + GCN"

    Returns
    -------
    SplitResult
    """
    labels = np.asarray(labels, dtype=np.int64)
    check_no_leakage(split, backbone_trained_on=run.trained_on)
    given = split.visible_labels(labels)
    proba: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {
        "backbone_epoch": run.best_epoch,
        "weights_used": run.weights_used,
    }
    hidden = None
    if "SVM" in models:
        proba["SVM"], details["svm_c"] = fit_svm(
            run.embeddings, given, split, settings.svm_cs, n_classes=n_classes
        )
    if "CNN" in models:
        proba["CNN"] = run.cnn_probabilities.astype(np.float64)
    if "CNN + GCN" in models:
        gcn = fit_gcn(
            run.embeddings, given, split, settings, n_classes=n_classes, seed=seed, device=device
        )
        proba["CNN + GCN"] = gcn["proba"]
        hidden = gcn["hidden"]
        details.update(
            gcn_epoch=int(gcn["fit"].best_epoch) + 1,
            graph_edges=int(gcn["graph"].edge_index.shape[1]),
        )
    scores = {
        m: classification_scores(labels[split.test], p[split.test], n_classes)
        for m, p in proba.items()
    }
    val_scores = {
        m: classification_scores(labels[split.val], p[split.val], n_classes)
        for m, p in proba.items()
    }
    return SplitResult(split, int(seed), proba, scores, val_scores, details, hidden)


def combine_results(first: SplitResult, second: SplitResult) -> SplitResult:
    """One split's results of two :func:`evaluate_split` calls with different ``models``.

    Lets a caller reuse a fit it already has (the GCN of the k sweep at the chosen k) instead of
    fitting it again. Both must come from the same split and seed; a model in both is an error.
    """
    if first.split is not second.split and first.split.to_dict() != second.split.to_dict():
        raise ValueError("combine_results: the results come from different splits")
    if first.seed != second.seed:
        raise ValueError(f"combine_results: seeds {first.seed} and {second.seed} differ")
    both = set(first.proba) & set(second.proba)
    if both:
        raise ValueError(f"combine_results: {sorted(both)} in both results")
    return SplitResult(
        first.split,
        first.seed,
        first.proba | second.proba,
        first.scores | second.scores,
        first.val_scores | second.val_scores,
        first.details | second.details,
        first.gcn_hidden if first.gcn_hidden is not None else second.gcn_hidden,
    )
