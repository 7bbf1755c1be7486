"""Notebook 02: SMGNN against the U-Net family, its ablations and cell-type classification.

Reproduces §3-4 (Tables 1-2, 4-6; Figs 4, 10-11) of Jiang, Shen, Wang & Ding, "Automatic
recognition of white blood cell images with memory efficient superpixel metric GNN: SMGNN", MBE
2024. :func:`plan` turns the notebook's parameters into its training runs, grouped as its tables
are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from medgraph.options import split_settings
from medgraph.segmentation.config import SegmentationConfig
from medgraph.studies import Study, StudyGroup

__all__ = [
    "STUDY",
    "STUDY_NAME",
    "plan",
    "classifies_cell_types",
    "keeps_all_predictions",
    "validation_evidence",
    "summarize_evidence",
]

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


def validation_evidence(
    data: Any,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig,
    candidates: Mapping[str, Mapping[str, Any]],
    seeds: Sequence[int],
    options: Any,
) -> Any:
    """The validation Dice of the stored runs of candidate settings: how a setting was chosen.

    Reads the result cache and the committed stores only; it never trains. A candidate whose run
    is not kept says so (``entry`` "to train"), so that an untried alternative shows as untried.

    Parameters
    ----------
    data : SegmentationDataset
    splits : (train, validation, test) index arrays, the runs' split
    config : SegmentationConfig the candidates start from (the notebook's shared config)
    candidates : mapping ``label → settings``: SegmentationConfig overrides (``epochs``,
        ``cnn_dilation``, …) and optionally ``model`` (default ``"smgnn"``), ``study`` (default
        this study; another study's run of the same configuration is the same training with
        another key) and ``seeds`` (default ``seeds``)
    seeds : default seeds of every candidate
    options : RunOptions (the cache and stores to read)

    Returns
    -------
    pandas DataFrame, one row per candidate and seed: ``setting``, ``model``, ``study``,
    ``seed``, ``epochs``, ``head dilations`` (SMGNN's head; "–" for a pixel model),
    ``validation Dice`` (the best epoch's, the score
    that selected the run's weights; NaN when not kept), ``best epoch`` (1-based) and ``entry``
    (the entry's file, or the store's state of the run such as "to train")
    """
    import pandas as pd

    from medgraph.models.registry import get_model
    from medgraph.segmentation import SEGMENTATION, SegmentationRequest, data_fingerprint
    from medgraph.store import entry_status, obtain

    fingerprint = data_fingerprint(data)
    rows = []
    for label, settings in candidates.items():
        overrides = dict(settings)
        model = str(overrides.pop("model", "smgnn"))
        study = str(overrides.pop("study", STUDY_NAME))
        cand_seeds = [int(s) for s in overrides.pop("seeds", seeds)]
        cfg = SegmentationConfig.from_any(config, **overrides)
        for seed in cand_seeds:
            request = SegmentationRequest.make(model, data, splits, cfg, seed, fingerprint)
            state, path, _ = entry_status(SEGMENTATION.key(study, request), options)
            row = {
                "setting": label,
                "model": model,
                "study": study,
                "seed": seed,
                "epochs": cfg.epochs,
                # the head's dilations are SMGNN's alone
                "head dilations": str(cfg.cnn_dilation) if get_model(model).needs_graph else "–",
                "validation Dice": math.nan,
                "best epoch": -1,
                "entry": state,
            }
            if state in ("cached", "stored") and path is not None:
                run = obtain(SEGMENTATION, study, request, options)
                row["validation Dice"] = float(run.history.best_score)
                row["best epoch"] = int(run.history.best_epoch) + 1
                row["entry"] = path.name
            rows.append(row)
    return pd.DataFrame(rows)


def summarize_evidence(evidence: Any) -> Any:
    """One row per setting of :func:`validation_evidence`, with the model's best setting marked.

    Parameters
    ----------
    evidence : DataFrame of :func:`validation_evidence`

    Returns
    -------
    pandas DataFrame with ``setting``, ``model``, ``study``, ``epochs``, ``head dilations``,
    ``seeds kept`` ("k of n"), ``validation Dice`` (mean over the kept seeds; NaN when none is
    kept), ``per seed`` (text) and ``highest of its model`` (True for the kept setting with the
    highest mean validation Dice among the settings of the same model), in the settings' order
    """
    import pandas as pd

    rows = []
    for setting, part in evidence.groupby("setting", sort=False):
        kept = part["validation Dice"].dropna()
        rows.append(
            {
                "setting": setting,
                "model": part["model"].iloc[0],
                "study": part["study"].iloc[0],
                "epochs": int(part["epochs"].iloc[0]),
                "head dilations": part["head dilations"].iloc[0],
                "seeds kept": f"{len(kept)} of {len(part)}",
                "validation Dice": float(kept.mean()) if len(kept) else math.nan,
                "per seed": ", ".join(
                    f"{int(seed)}: {dice:.4f}" if dice == dice else f"{int(seed)}: not kept"
                    for seed, dice in zip(part["seed"], part["validation Dice"], strict=True)
                ),
            }
        )
    table = pd.DataFrame(rows)
    best = table.groupby("model", sort=False)["validation Dice"].transform("max")
    table["highest of its model"] = table["validation Dice"].notna() & (
        table["validation Dice"] == best
    )
    return table


STUDY = Study(
    STUDY_NAME,
    "SMGNN vs the U-Net family, ablations, cell-type classification (SMGNN paper §3-4)",
    plan,
    split_seed="split_seed",
    groups=("comparison", "lambda", "gnn", "scale"),
    keeps_all_predictions=keeps_all_predictions,
)
