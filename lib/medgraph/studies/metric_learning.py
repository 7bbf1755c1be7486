"""Notebook 03: superpixel embeddings with and without the metric loss (SMGNN paper §4.5, Fig 12).

:func:`plan` gives the notebook's two SMGNNs, which differ only in λ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgraph.options import split_settings
from medgraph.segmentation.config import SegmentationConfig
from medgraph.studies import Study, StudyGroup

__all__ = ["STUDY", "STUDY_NAME", "plan"]

#: the study's name (part of every run key)
STUDY_NAME = "metric_learning_umap"


def plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """Both training runs of notebook 03 (SMGNN with and without the metric loss), from its parameters.

    The one place where notebook 03's parameters become training runs, as
    :func:`medgraph.studies.smgnn_vs_baselines.plan` is for notebook 02: the notebook trains this group and
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
        raise KeyError(f"study {STUDY_NAME} needs the parameters {missing}")
    hyper, _options = split_settings(params["config"])
    base = SegmentationConfig.from_any(hyper, epochs=int(params["epochs"]))
    variants = {f"λ = {lam:g}": ("smgnn", {"lam": lam}) for lam in params["lambdas"]}
    if len(variants) != len(params["lambdas"]):
        raise ValueError(f"lambdas must be distinct, got {params['lambdas']}")
    return {"metric": StudyGroup("metric", variants, (int(params["seed"]),), base)}


STUDY = Study(
    STUDY_NAME,
    "UMAP and separation of superpixel embeddings with and without metric learning (Fig 12)",
    plan,
    split_seed="seed",
    groups=("metric",),
)
