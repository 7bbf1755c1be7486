"""Notebook 02: SMGNN against the U-Net family, its ablations and cell-type classification.

Reproduces §3-4 (Tables 1-2, 4-6; Figs 4, 10-11) of Jiang, Shen, Wang & Ding, "Automatic
recognition of white blood cell images with memory efficient superpixel metric GNN: SMGNN", MBE
2024. :func:`plan` turns the notebook's parameters into its training runs, grouped as its tables
are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgraph.options import split_settings
from medgraph.segmentation.config import SegmentationConfig
from medgraph.studies import Study, StudyGroup

__all__ = ["STUDY", "STUDY_NAME", "plan", "classifies_cell_types", "keeps_all_predictions"]

#: the study's name (part of every run key)
STUDY_NAME = "smgnn_vs_baselines"


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


def plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """Every training run of notebook 02, grouped as its tables are, from its parameters.

    The one place where the notebook's parameters become training runs: the notebook trains
    these groups, and :mod:`medgraph.pieces` trains any part of them into the result cache, so
    both ask for runs with the same keys. Option keys of ``config`` (``progress``, …:
    :class:`medgraph.options.RunOptions`) are left out: they do not change what is trained.

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
        raise KeyError(f"study {STUDY_NAME} needs the parameters {missing}")
    hyper, _options = split_settings(params["config"])
    base = SegmentationConfig.from_any(
        hyper, epochs=int(params["epochs"]), baseline_size=params["baseline_size"]
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


def keeps_all_predictions(params: Mapping[str, Any], group: str, seed: int) -> bool:
    """Whether a run's store form keeps its predictions on every image: the comparison's first
    seed, when the notebook classifies cell types (the classifier is trained on them)."""
    if not classifies_cell_types(params.get("run_classification"), str(params.get("dataset"))):
        return False
    return group == "comparison" and int(seed) == int(list(params.get("seeds") or [0])[0])


STUDY = Study(
    STUDY_NAME,
    "SMGNN vs the U-Net family, ablations, cell-type classification (SMGNN paper §3-4)",
    plan,
    split_seed="split_seed",
    groups=("comparison", "lambda", "gnn", "scale"),
    keeps_all_predictions=keeps_all_predictions,
)
