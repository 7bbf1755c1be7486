"""Orchestration of the segmentation studies of notebooks 02 and 03.

Small functions over :mod:`medgraph.segmentation`: the plans of notebook 02's and notebook 03's
training runs (:func:`segmentation_study`, :func:`metric_learning_study`, :func:`notebook_study`)
and their data; train several models over several seeds on one split
(through the result cache of :mod:`medgraph.result_cache` when a folder is given) and score their
test predictions; list where each run was trained; aggregate the scores over seeds (means over
the three classes and over the two cell classes, as notebook 02 reports them); and read the GNN
node embeddings of a trained SMGNN with each node's majority label (notebook 03).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from medgraph.data import SegmentationDataset, load_dataset
from medgraph.result_cache import cached_train_segmentation
from medgraph.segmentation import (
    GRAPH_MODELS,
    IDENTITY,
    SegmentationConfig,
    SegmentationRun,
    evaluate_segmentation,
    make_batch,
    prepare_images,
    summarize_segmentation,
)
from medgraph.training import split_indices

__all__ = [
    "StudyGroup",
    "segmentation_study",
    "metric_learning_study",
    "notebook_study",
    "classifies_cell_types",
    "load_study_data",
    "compare_segmentation_models",
    "aggregate_over_seeds",
    "run_provenance",
    "node_embeddings",
    "METRICS",
]

#: the per-class metrics aggregated by :func:`aggregate_over_seeds`
METRICS = ("dice", "iou", "hausdorff", "hd95", "ppv", "accuracy", "sensitivity")

Variants = Sequence[str] | Mapping[str, tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class StudyGroup:
    """One table of notebook 02: labelled model variants, trained with some seeds and a config.

    Attributes
    ----------
    name : {"comparison", "lambda", "gnn", "scale"} (notebook 02) or "metric" (notebook 03)
    variants : dict ``label → (model name, config overrides)``
    seeds : tuple of int
    config : SegmentationConfig
        Shared by the variants (each adds its overrides).
    """

    name: str
    variants: dict[str, tuple[str, dict[str, Any]]]
    seeds: tuple[int, ...]
    config: SegmentationConfig


def classifies_cell_types(run_classification: bool | None, dataset: str) -> bool:
    """Whether notebook 02 runs its cell-type classification (Algorithm 1 step 3).

    Parameters
    ----------
    run_classification : bool or None
        The notebook's parameter; ``None`` means "when the data set has cell-type labels".
    dataset : str
        ``"wbc1"`` or ``"wbc2"``; only dataset-2 has the class labels (its CSV).

    Returns
    -------
    bool
    """
    if run_classification is None:
        return dataset == "wbc2"
    return bool(run_classification)


def segmentation_study(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """Every training run of notebook 02, grouped as its tables are, from its parameters.

    The one place where the notebook's parameters become training runs: the notebook trains
    these groups, and :mod:`medgraph.pieces` trains any part of them into the result cache, so
    both ask for runs with the same keys.

    Parameters
    ----------
    params : mapping with notebook 02's parameters ``models``, ``seeds``, ``epochs``, ``config``,
        ``baseline_size``, ``run_ablations``, ``ablation_seed``, ``ablation_epochs``,
        ``ablation_lambdas``, ``ablation_gnns`` and ``ablation_scales``

    Returns
    -------
    dict ``name → StudyGroup``, in the notebook's order: ``comparison`` (every model, every
    seed, ``epochs``), then, when ``run_ablations``, ``lambda`` (λ of the joint loss, Fig 4),
    ``gnn`` (GIN / GCN / GAT, §4.4) and ``scale`` (pure GNN vs SMGNN with and without the metric
    loss over superpixel scales, Figs 10-11), with one seed and ``ablation_epochs``
    """
    needed = ["models", "seeds", "epochs", "config", "baseline_size", "run_ablations"]
    if params.get("run_ablations"):
        needed += [
            "ablation_seed",
            "ablation_epochs",
            "ablation_lambdas",
            "ablation_gnns",
            "ablation_scales",
        ]
    missing = [k for k in needed if k not in params]
    if missing:
        raise KeyError(f"segmentation_study needs the parameters {missing}")
    base = SegmentationConfig.from_any(
        params["config"] or {}, epochs=int(params["epochs"]), baseline_size=params["baseline_size"]
    )
    groups = {
        "comparison": StudyGroup(
            "comparison",
            {name: (name, {}) for name in params["models"]},
            tuple(int(s) for s in params["seeds"]),
            base,
        )
    }
    if not params["run_ablations"]:
        return groups
    abl = SegmentationConfig.from_any(base, epochs=int(params["ablation_epochs"]))
    seed = (int(params["ablation_seed"]),)
    lam_variants = {f"λ = {lam:g}": ("smgnn", {"lam": lam}) for lam in params["ablation_lambdas"]}
    groups["lambda"] = StudyGroup("lambda", lam_variants, seed, abl)
    gnn_variants = {name: (name, {}) for name in params["ablation_gnns"]}
    groups["gnn"] = StudyGroup("gnn", gnn_variants, seed, abl)
    scale_variants = {
        f"{label}, S = {s:g}": (model, {"scale": float(s), "lam": lam})
        for s in params["ablation_scales"]
        for label, model, lam in [
            ("SMGNN + metric", "smgnn", 0.1),
            ("SMGNN", "smgnn", 0.0),
            ("pure GNN + metric", "pure_gnn", 0.1),
            ("pure GNN", "pure_gnn", 0.0),
        ]
    }
    groups["scale"] = StudyGroup("scale", scale_variants, seed, abl)
    return groups


def metric_learning_study(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """Both training runs of notebook 03 (SMGNN with and without the metric loss), from its parameters.

    The one place where notebook 03's parameters become training runs, as
    :func:`segmentation_study` is for notebook 02: the notebook trains this group and
    :mod:`medgraph.pieces` trains it into the result cache, with the same keys.

    Parameters
    ----------
    params : mapping with notebook 03's parameters ``lambdas``, ``seed``, ``epochs`` and ``config``

    Returns
    -------
    dict with the one group ``metric``: an SMGNN per λ of ``lambdas`` (labelled ``"λ = 0.1"``
    …), the seed ``seed``, ``epochs`` epochs and the shared ``config``
    """
    missing = [k for k in ("lambdas", "seed", "epochs", "config") if k not in params]
    if missing:
        raise KeyError(f"metric_learning_study needs the parameters {missing}")
    base = SegmentationConfig.from_any(params["config"] or {}, epochs=int(params["epochs"]))
    variants = {f"λ = {lam:g}": ("smgnn", {"lam": lam}) for lam in params["lambdas"]}
    if len(variants) != len(params["lambdas"]):
        raise ValueError(f"lambdas must be distinct, got {params['lambdas']}")
    return {"metric": StudyGroup("metric", variants, (int(params["seed"]),), base)}


#: the notebooks whose runs :func:`notebook_study` plans: the plan, and the parameter that seeds
#: the data (phantoms) and the split
_STUDIES = {
    "02_smgnn_vs_baselines": (segmentation_study, "split_seed"),
    "03_metric_learning_umap": (metric_learning_study, "seed"),
}


def notebook_study(
    notebook: str | os.PathLike[str], params: Mapping[str, Any]
) -> tuple[dict[str, StudyGroup], int]:
    """The training runs a notebook will ask for, and the seed of its data and split.

    Parameters
    ----------
    notebook : path or name of notebook 02 or 03 (``.ipynb`` or ``.py``; the stem is what counts)
    params : that notebook's parameters (defaults merged with a declared run's)

    Returns
    -------
    study : dict ``name → StudyGroup``
    split_seed : int
        The ``split_seed`` argument of :func:`load_study_data` for this notebook.

    Raises
    ------
    KeyError
        For another notebook (it trains nothing through the result cache) or missing parameters.
    """
    stem = os.path.splitext(os.path.basename(os.fspath(notebook)))[0]
    if stem not in _STUDIES:
        raise KeyError(f"{stem!r} plans no training runs; the notebooks that do: {list(_STUDIES)}")
    plan, seed_name = _STUDIES[stem]
    if seed_name not in params:
        raise KeyError(f"{stem} needs the parameter {seed_name!r}")
    return plan(params), int(params[seed_name])


def load_study_data(
    dataset: str,
    data_source: str = "auto",
    data_root: str | os.PathLike[str] | None = None,
    n_phantoms: int = 60,
    split_seed: int = 0,
) -> tuple[SegmentationDataset, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The data set of a segmentation study and its 80/10/10 split (the SMGNN paper's).

    Parameters
    ----------
    dataset, data_source, data_root, n_phantoms
        As for :func:`medgraph.data.load_dataset` (``n_phantoms`` only for phantoms).
    split_seed : int
        Seeds the phantoms and the split.

    Returns
    -------
    data : SegmentationDataset
    splits : (train, val, test) int64 index arrays
    """
    data = load_dataset(
        dataset, source=data_source, root=data_root, n_phantoms=n_phantoms, seed=split_seed
    )
    return data, split_indices(len(data), (0.8, 0.1, 0.1), seed=split_seed)


def compare_segmentation_models(
    data: SegmentationDataset,
    variants: Variants,
    seeds: Sequence[int],
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    device: torch.device | str = "auto",
    result_cache: str | os.PathLike[str] | None = None,
) -> tuple[dict[tuple[str, int], SegmentationRun], pd.DataFrame]:
    """Train every variant with every seed on one split and score the test predictions.

    Parameters
    ----------
    data : SegmentationDataset
    variants : list of model names (see :func:`medgraph.segmentation.train_segmentation`), or a
        mapping ``label → (model name, config overrides)`` for ablations
    seeds : training seeds
    splits : (train, val, test) indices, the same for every variant and seed
    config : shared settings (overridden per variant)
    device : torch device or ``"auto"``
    result_cache : folder or None
        Trained runs are looked up in, and saved to, this folder
        (:func:`medgraph.result_cache.cached_train_segmentation`); None trains every run.

    Returns
    -------
    runs : dict ``(label, seed) → SegmentationRun``
    scores : DataFrame, one row per (label, seed, test image, class) with the columns of
        :func:`medgraph.segmentation.evaluate_segmentation` plus ``model``, ``seed``,
        ``parameters`` and ``seconds_per_epoch``
    """
    if isinstance(variants, Mapping):
        plan = {label: (name, dict(overrides)) for label, (name, overrides) in variants.items()}
    else:
        plan = {name: (name, {}) for name in variants}
    if not plan or not seeds:
        raise ValueError("compare_segmentation_models needs at least one model and one seed")
    runs: dict[tuple[str, int], SegmentationRun] = {}
    frames = []
    for label, (name, overrides) in plan.items():
        cfg = SegmentationConfig.from_any(config, **overrides)
        for seed in seeds:
            run = cached_train_segmentation(
                name, data, splits, cfg, device=device, seed=int(seed), cache_dir=result_cache
            )
            runs[(label, int(seed))] = run
            frame = evaluate_segmentation(
                run.test_predictions, [data.masks[i] for i in run.test_idx], run.test_ids
            )
            frame.insert(0, "seed", int(seed))
            frame.insert(0, "model", label)
            frame["parameters"] = run.n_parameters
            frame["seconds_per_epoch"] = run.seconds_per_epoch
            frames.append(frame)
    return runs, pd.concat(frames, ignore_index=True)


def aggregate_over_seeds(
    scores: pd.DataFrame,
    runs: Mapping[tuple[str, int], SegmentationRun] | None = None,
    metrics: Sequence[str] = METRICS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per model: each seed's image-averaged class means, then mean ± std over seeds.

    For every (model, seed), :func:`medgraph.segmentation.summarize_segmentation` averages each
    metric over the three classes (``3cls``) and over the two cell classes (``cell``) per image,
    then over the test images. Those per-seed values are then averaged over seeds.

    Parameters
    ----------
    scores : DataFrame of :func:`compare_segmentation_models`
    runs : optional, adds the number of epochs run and the device trained on (``trained_on``, the
        GPU's name or ``"cpu"``) to the per-seed table
    metrics : metric columns to aggregate

    Returns
    -------
    table : one row per model: ``parameters``, ``seconds_per_epoch``, ``n_seeds`` and, per metric,
        ``<metric>_3cls_mean``, ``<metric>_3cls_std``, ``<metric>_cell_mean``, ``<metric>_cell_std``
        (sample std over seeds, ``ddof=1``; NaN for a single seed); models in first-appearance order
    per_seed : one row per (model, seed) with ``<metric>_3cls`` and ``<metric>_cell``
    """
    rows = []
    id_cols = ["image", "class_index", "class_name"]
    for (model, seed), part in scores.groupby(["model", "seed"], sort=False):
        summary = summarize_segmentation(part[id_cols + list(metrics)], metrics=metrics)
        row: dict[str, Any] = {
            "model": model,
            "seed": seed,
            "parameters": int(part["parameters"].iloc[0]),
            "seconds_per_epoch": float(part["seconds_per_epoch"].iloc[0]),
            "test_images": int(summary["n_images"].iloc[0]),
        }
        if runs is not None and (model, seed) in runs:
            run = runs[(model, seed)]
            row["epochs_run"] = len(run.history)
            # where seconds_per_epoch was measured (a cached run may come from another machine)
            row["trained_on"] = run.provenance.get("gpu") or run.provenance.get(
                "device", run.device
            )
        for metric in metrics:
            row[f"{metric}_3cls"] = summary.loc[metric, "all_classes"]
            row[f"{metric}_cell"] = summary.loc[metric, "cell_classes"]
        rows.append(row)
    per_seed = pd.DataFrame(rows)
    table_rows = []
    for model, part in per_seed.groupby("model", sort=False):
        row = {
            "model": model,
            "parameters": int(part["parameters"].iloc[0]),
            "seconds_per_epoch": float(part["seconds_per_epoch"].mean()),
            "n_seeds": len(part),
        }
        for metric in metrics:
            for which in ("3cls", "cell"):
                values = part[f"{metric}_{which}"].astype(float)
                row[f"{metric}_{which}_mean"] = float(values.mean())
                # one seed has no spread to report: NaN (printed as the mean alone)
                row[f"{metric}_{which}_std"] = (
                    float(values.std(ddof=1)) if len(values) > 1 else np.nan
                )
        table_rows.append(row)
    return pd.DataFrame(table_rows), per_seed


def run_provenance(runs: Mapping[tuple[str, int], SegmentationRun]) -> pd.DataFrame:
    """Where and when every run was trained, and whether it was loaded from the result cache.

    Parameters
    ----------
    runs : dict ``(label, seed) → SegmentationRun`` of :func:`compare_segmentation_models`

    Returns
    -------
    DataFrame, one row per run: ``model``, ``seed``, ``device`` (with the GPU's name when there
    was one), ``host``, ``git_revision``, ``code_fingerprint`` (of the training code, for runs
    of the result cache), ``trained_utc``, ``torch``, ``train_seconds`` (wall time
    of the training itself; for a resumed run, with the epochs of the interrupted calls),
    ``epochs_run``, ``best_epoch``, ``resumed_at`` (the epochs at which an interrupted run was
    continued from its resume state, space-separated; empty when trained in one go) and
    ``from_cache`` (the entry's file name, or empty when trained in this process)
    """
    rows = []
    for (label, seed), run in runs.items():
        info = run.provenance
        device = str(info.get("device", run.device))
        if info.get("gpu"):
            device = f"{device} ({info['gpu']})"
        rows.append(
            {
                "model": label,
                "seed": int(seed),
                "device": device,
                "host": info.get("host", ""),
                "git_revision": info.get("git_revision", ""),
                "code_fingerprint": info.get("code_fingerprint", ""),
                "trained_utc": info.get("trained_utc", ""),
                "torch": info.get("torch", ""),
                "train_seconds": float(run.seconds),
                "epochs_run": len(run.history),
                "best_epoch": int(run.history.best_epoch),
                "resumed_at": " ".join(str(e) for e in run.history.resumed_at),
                "from_cache": info.get("from_cache", ""),
            }
        )
    return pd.DataFrame(rows)


def node_embeddings(
    run: SegmentationRun,
    data: SegmentationDataset,
    indices: Sequence[int],
    batch_size: int = 16,
    return_scores: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GNN embeddings H of the superpixels of some images, with their majority labels.

    Parameters
    ----------
    run : a trained graph model (``smgnn``, ``smgnn_gcn``, ``smgnn_gat``, ``pure_gnn``)
    data : the data set the indices refer to
    indices : which images (typically the test split)
    batch_size : images per forward pass
    return_scores : also return each superpixel's metric score 𝒴 (Eq 2.1, scaled to [0, 1]:
        :func:`medgraph.graphs.node_metric_score`), the target the metric loss was trained on

    Returns
    -------
    embeddings : (K, d) float32 array, the output of the last graph layer for every superpixel
        that covers at least one real (non-padding) pixel
    labels : (K,) int64 array, each superpixel's majority class over its real pixels (Eq 4.2)
    scores : (K,) float32 array, only with ``return_scores``
    """
    if run.model_name not in GRAPH_MODELS:
        raise ValueError(f"{run.model_name!r} has no node embeddings (not a graph model)")
    idx = [int(i) for i in indices]
    if not idx:
        raise ValueError("node_embeddings needs at least one image")
    prepared = prepare_images(
        [data.images[i] for i in idx], [data.masks[i] for i in idx], run.preprocessing
    )
    model = run.model.eval()
    device = next(model.parameters()).device
    embs, labels, scores = [], [], []
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            chunk = np.arange(start, min(start + batch_size, len(idx)))
            batch = make_batch(prepared, chunk, run.preprocessing, [IDENTITY] * len(chunk), device)
            graph = batch.graph.graph
            h = model.embed(graph.x, graph.edge_index)
            keep = graph.valid if hasattr(graph, "valid") else graph.y >= 0
            embs.append(h[keep].cpu().numpy().astype(np.float32))
            labels.append(graph.y[keep].cpu().numpy().astype(np.int64))
            scores.append(graph.score[keep].cpu().numpy().astype(np.float32))
    if return_scores:
        return np.concatenate(embs), np.concatenate(labels), np.concatenate(scores)
    return np.concatenate(embs), np.concatenate(labels)
