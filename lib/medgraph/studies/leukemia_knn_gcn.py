"""Notebook 05: leukemia classification with CNN features, a cosine kNN graph and a two-layer GCN.

Reproduces the seed study "Leukemia Classifier Using Graph Neural Networks" (C-NMC 2019, ALL
against HEM): one ResNet-18 per split embeds every cell (:mod:`medgraph.knn_gcn.backbone`,
stored runs), then the kNN graph, the GCN and the SVM run on the embeddings in seconds
(:mod:`medgraph.knn_gcn.classifiers`). Protocols (:mod:`medgraph.knn_gcn.protocol`):
``holdout`` (the seed's stratified 80/20, one backbone per seed), ``folds`` (3-fold
cross-validation, over the official folds where the data set has them) and ``patients`` (no
patient on two sides; only where the data name patients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from medgraph.studies import Piece, Study, StudyGroup

__all__ = [
    "STUDY",
    "STUDY_NAME",
    "PROTOCOLS",
    "MODELS",
    "load_data",
    "backbone_settings",
    "gcn_settings",
    "make_splits",
    "make_pieces",
    "results_table",
    "choose_neighbours",
    "seed_comparison",
]

STUDY_NAME = "leukemia_knn_gcn"
PROTOCOLS: tuple[str, ...] = ("holdout", "folds", "patients")
MODELS: tuple[str, ...] = ("SVM", "CNN", "CNN + GCN")


def load_data(params: Mapping[str, Any]) -> Any:
    """The cell set of notebook 05's parameters.

    ``dataset``: ``"cnmc2019"``, ``"bccd"`` (registry names; phantoms offline with
    ``data_source="auto"``) or ``"class_folders"`` (any one-folder-per-class set at
    ``data_root``, with ``class_map`` mapping folders to labels). ``max_images``: a stratified,
    seeded subset.
    """
    from medgraph.data import load_dataset
    from medgraph.data.cells import read_class_folders

    if params["dataset"] == "class_folders":
        if params.get("data_root") is None:
            raise ValueError("dataset='class_folders' needs data_root (one sub-folder per class)")
        data = read_class_folders(params["data_root"], mapping=params.get("class_map") or None)
    else:
        data = load_dataset(
            params["dataset"],
            source=params["data_source"],
            root=params["data_root"],
            n_phantoms=params["n_phantoms"],
            seed=int(params["seed"]),
        )
    from medgraph.knn_gcn.protocol import stratified_subset

    return stratified_subset(data, params.get("max_images"), int(params["seed"]))


def backbone_settings(params: Mapping[str, Any]) -> Any:
    """The :class:`~medgraph.knn_gcn.backbone.BackboneSettings` of the parameters."""
    from medgraph.knn_gcn.backbone import BackboneSettings

    return BackboneSettings(
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
        size=int(params["image_size"]),
        rotation=float(params["rotation"]),
        jitter=float(params["jitter"]),
        pretrained=params["pretrained"],
    )


def gcn_settings(params: Mapping[str, Any], n_neighbours: int | None = None) -> Any:
    """The :class:`~medgraph.knn_gcn.classifiers.GCNSettings` of the parameters."""
    from medgraph.knn_gcn.classifiers import GCNSettings

    return GCNSettings(
        k=int(n_neighbours if n_neighbours is not None else params["neighbour_grid"][0]),
        hidden=int(params["gcn_hidden"]),
        dropout=float(params["dropout"]),
        epochs=int(params["gcn_epochs"]),
        lr=float(params["gcn_lr"]),
        weight_decay=float(params["gcn_weight_decay"]),
    )


def make_splits(params: Mapping[str, Any], data: Any) -> list[tuple[str, Any, int]]:
    """Every (protocol, split, seed) the parameters ask for.

    ``holdout``: one split per seed in ``seeds``; ``folds``: the official folds (or stratified
    folds) with the first seed; ``patients``: one patient-level split with the first seed, only
    when the data name fewer groups than images (else it would equal a holdout split).
    """
    from medgraph.knn_gcn.protocol import fold_splits, group_holdout_split, holdout_split

    out = []
    seeds = [int(s) for s in params["seeds"]]
    kw = dict(
        test_fraction=float(params["test_fraction"]), val_fraction=float(params["val_fraction"])
    )
    for protocol in params["protocols"]:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; choose from {list(PROTOCOLS)}")
        if protocol == "holdout":
            for s in seeds:
                out.append(
                    ("holdout", holdout_split(data.labels, seed=s, name=f"holdout{s}", **kw), s)
                )
        elif protocol == "folds":
            for split in fold_splits(
                data.labels, data.folds, val_fraction=kw["val_fraction"], seed=seeds[0]
            ):
                out.append(("folds", split, seeds[0]))
        elif len(np.unique(data.groups)) < len(data):
            split = group_holdout_split(data.labels, data.groups, seed=seeds[0], **kw)
            out.append(("patients", split, seeds[0]))
    return out


def make_pieces(params: Mapping[str, Any]) -> tuple[list[Piece], Any]:
    """One stored backbone per (protocol, split, seed), and the data."""
    from medgraph.data import data_fingerprint
    from medgraph.knn_gcn.recipe import CELL_BACKBONE, BackboneRequest
    from medgraph.models.cell_augment import prepare_cells

    data = load_data(params)
    settings = backbone_settings(params)
    images = prepare_cells(data.images, settings.size)
    fingerprint = data_fingerprint(data)
    pieces = []
    for protocol, split, seed in make_splits(params, data):
        request = BackboneRequest(
            images, data.labels, len(data.class_names), split, settings, seed, fingerprint
        )
        pieces.append(Piece(protocol, split.name, "resnet18", seed, CELL_BACKBONE, request))
    return pieces, data


def _plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    return {}  # backbones are not segmentation runs; their pieces come from make_pieces


def results_table(results: Sequence[Any], protocol: str) -> pd.DataFrame:
    """Mean ± std over the splits of one protocol, per model: the seed's columns.

    Parameters
    ----------
    results : sequence of :class:`~medgraph.knn_gcn.classifiers.SplitResult`
    protocol : str
        Written into the table.

    Returns
    -------
    DataFrame, one row per model: ``<metric>`` (mean), ``<metric> std``, ``runs``, ``test cells``
    (mean per split).
    """
    from medgraph.knn_gcn.classifiers import METRICS

    rows = []
    for model in MODELS:
        values = [r.scores[model] for r in results if model in r.scores]
        if not values:
            continue
        row: dict[str, Any] = {"protocol": protocol, "model": model}
        for m in METRICS:
            v = np.array([x[m] for x in values], dtype=float)
            row[m] = float(np.nanmean(v))
            row[f"{m} std"] = float(np.nanstd(v)) if v.size > 1 else float("nan")
        row["runs"] = len(values)
        row["test cells"] = float(
            np.mean([r.split.test.size for r in results if model in r.scores])
        )
        rows.append(row)
    return pd.DataFrame(rows)


def choose_neighbours(sweep: pd.DataFrame) -> int:
    """The number of neighbours with the best mean *validation* balanced score.

    Parameters
    ----------
    sweep : DataFrame with ``n_neighbours`` and ``val_f1`` (macro F1 of the GCN on validation
        nodes, one row per split and k)

    Returns
    -------
    int (ties: the smaller k)
    """
    mean = sweep.groupby("n_neighbours")["val_f1"].mean()
    best = mean.max()
    return int(min(k for k, v in mean.items() if v == best))


#: half-width of our interval above which a verdict is "inconclusive" (too few test cells)
INCONCLUSIVE_HALF_WIDTH = 0.05


def _half_width(row: Mapping[str, Any], metric: str) -> float:
    """Two standard errors of our mean: std / √runs over the splits, or for one split the
    binomial standard error √(p(1 − p) / test cells) of its accuracy (used for the AUC too)."""
    runs = int(row["runs"])
    std = float(row.get(f"{metric} std", np.nan))
    if runs > 1 and np.isfinite(std):
        return 2.0 * std / np.sqrt(runs)
    p = float(row["accuracy"])
    return 2.0 * float(np.sqrt(max(p * (1.0 - p), 0.25 / row["test cells"]) / row["test cells"]))


def seed_comparison(table: pd.DataFrame, dataset: str, source: str) -> pd.DataFrame:
    """Our results beside the seed's Table 1, with a verdict per row.

    **Rule**: our interval for a metric is the mean ± two standard errors (std / √runs over the
    splits; for a single split, the binomial standard error of its accuracy). When the interval's
    half-width exceeds :data:`INCONCLUSIVE_HALF_WIDTH` (0.05) for accuracy or AUC, the verdict is
    *inconclusive* (too few test cells to tell). Otherwise a row is *reproduced* when the seed's
    accuracy and AUC both lie within our mean ± max(half-width, 0.02), and *not reproduced (ours
    higher / lower)* otherwise. Only real C-NMC 2019 is comparable: other data sets (BCCD's five
    white-cell types, phantoms) say *not comparable*.
    """
    from medgraph.published import leukemia_seed_table

    seed = leukemia_seed_table().set_index("model")
    out = []
    for _, row in table.iterrows():
        paper = seed.loc[row["model"]]
        widths = {m: _half_width(row, m) for m in ("accuracy", "roc_auc")}
        inside = [
            abs(row[m] - paper[f"paper_{m}"]) <= max(widths[m], 0.02)
            for m in ("accuracy", "roc_auc")
        ]
        if dataset != "cnmc2019" or source != "real":
            verdict = f"not comparable ({'phantom data' if source != 'real' else dataset})"
        elif max(widths.values()) > INCONCLUSIVE_HALF_WIDTH:
            verdict = (
                f"inconclusive (our interval ±{max(widths.values()):.2f}: "
                f"{row['test cells']:.0f} test cells per split)"
            )
        elif all(inside):
            verdict = "reproduced"
        else:
            verdict = "not reproduced (ours " + (
                "higher)" if row["accuracy"] > paper["paper_accuracy"] else "lower)"
            )
        out.append(
            {
                "protocol": row["protocol"],
                "model": row["model"],
                "ours: accuracy": row["accuracy"],
                "ours: accuracy ± (2 SE)": widths["accuracy"],
                "ours: ROC-AUC": row["roc_auc"],
                "runs": row["runs"],
                "test cells per split": row["test cells"],
                "seed's accuracy (published)": float(paper["paper_accuracy"]),
                "seed's ROC-AUC (published)": float(paper["paper_roc_auc"]),
                "verdict": verdict,
            }
        )
    return pd.DataFrame(out)


STUDY = Study(
    STUDY_NAME,
    "Leukemia kNN-GCN: ResNet-18 embeddings, cosine kNN graph, two-layer GCN vs SVM and CNN",
    _plan,
    split_seed="seed",
    groups=PROTOCOLS,
    make_pieces=make_pieces,
)
