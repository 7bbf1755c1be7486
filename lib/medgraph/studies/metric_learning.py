"""Notebook 03: superpixel embeddings with and without the metric loss (SMGNN paper §4.5, Fig 12).

:func:`plan` gives the notebook's SMGNNs, which differ only in the metric loss: its weight λ and
the reading of its target (Eq 2.7 as printed, or the class-aware Y_i·Y_j).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from medgraph.options import split_settings
from medgraph.segmentation.config import SegmentationConfig
from medgraph.studies import Study, StudyGroup

__all__ = [
    "STUDY",
    "STUDY_NAME",
    "plan",
    "variant_key",
    "embedding_measures",
    "mean_sd",
    "differ_beyond_seeds",
    "claim_with_loss",
]

#: the study's name (part of every run key)
STUDY_NAME = "metric_learning_umap"


def plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    """Every training run of notebook 03 (SMGNNs that differ in the metric loss), from its parameters.

    The one place where notebook 03's parameters become training runs, as
    :func:`medgraph.studies.smgnn_vs_baselines.plan` is for notebook 02: the notebook trains this group and
    :mod:`medgraph.pieces` trains it into the result cache, with the same keys.

    Parameters
    ----------
    params : mapping with notebook 03's parameters ``lambdas``, ``seed``, ``epochs`` and
        ``config``, and optionally ``class_lambdas`` (default none) and ``seeds`` (default
        ``[seed]``)

    Returns
    -------
    dict with the one group ``metric``: an SMGNN per λ of ``lambdas`` with Eq 2.7's target as the
    paper prints it (labelled ``"λ = 0.1"`` …), then one per λ of ``class_lambdas`` with the
    class-aware target Y_i·Y_j (``metric_target="class"``, labelled ``"λ = 0.1, class target"``),
    each trained with every seed of ``seeds`` for ``epochs`` epochs and the shared ``config``

    Raises
    ------
    KeyError
        When a required parameter is missing.
    ValueError
        When λ values repeat, or ``class_lambdas`` holds 0 (without the metric loss the target
        does not matter: that model is ``λ = 0``'s).
    """
    missing = [k for k in ("lambdas", "seed", "epochs", "config") if k not in params]
    if missing:
        raise KeyError(f"study {STUDY_NAME} needs the parameters {missing}")
    hyper, _options = split_settings(params["config"])
    base = SegmentationConfig.from_any(hyper, epochs=int(params["epochs"]))
    lambdas = [float(lam) for lam in params["lambdas"]]
    class_lambdas = [float(lam) for lam in params.get("class_lambdas") or ()]
    if len(set(lambdas)) != len(lambdas) or len(set(class_lambdas)) != len(class_lambdas):
        raise ValueError(
            f"lambdas must be distinct, got {params['lambdas']} and {params.get('class_lambdas')}"
        )
    if any(lam == 0 for lam in class_lambdas):
        raise ValueError(
            "class_lambdas must not hold 0: without the metric loss the target does not matter "
            "(that model is λ = 0's, in lambdas)"
        )
    variants: dict[str, tuple[str, dict[str, Any]]] = {
        f"λ = {lam:g}": ("smgnn", {"lam": lam}) for lam in lambdas
    }
    for lam in class_lambdas:
        variants[f"λ = {lam:g}, class target"] = ("smgnn", {"lam": lam, "metric_target": "class"})
    seeds = tuple(int(s) for s in (params.get("seeds") or [params["seed"]]))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    return {"metric": StudyGroup("metric", variants, seeds, base)}


def variant_key(overrides: Mapping[str, Any]) -> str:
    """The results key of a variant of :func:`plan`: ``"lambda_0.1"`` (Eq 2.7 as printed; the
    key notebook 03 has always written) or ``"lambda_0.1_class"`` (the class-aware target)."""
    key = f"lambda_{float(overrides['lam'])}"
    return key + "_class" if overrides.get("metric_target", "literal") == "class" else key


def embedding_measures(
    run: Any, data: Any, indices: Sequence[int], n_pairs: int, seed: int
) -> dict[str, Any]:
    """Everything notebook 03 measures on one trained graph model's superpixel embeddings.

    Parameters
    ----------
    run : SegmentationRun of a graph model
    data : SegmentationDataset
    indices : the images whose superpixels are measured (the test split)
    n_pairs : pairs drawn for each cosine distribution and each target fit
    seed : seeds every draw

    Returns
    -------
    dict with ``embeddings`` (K, d), ``labels`` (K,) majority classes (Eq 4.2), ``scores`` (K,)
    metric scores 𝒴 (Eq 2.1), ``fractions`` (K, C) class fractions;
    ``separation`` (:func:`medgraph.embeddings.embedding_separation`), ``class_pairs``
    (:func:`medgraph.embeddings.class_pair_cosines`) and ``fit_literal`` / ``fit_class``
    (:func:`medgraph.embeddings.metric_target_fit` against (𝒴ᵢ + 𝒴ⱼ)/2 and against Yᵢ·Yⱼ, on
    the same pairs)
    """
    from medgraph.embeddings import (
        class_pair_cosines,
        embedding_separation,
        metric_target_fit,
        node_embeddings,
    )

    emb, labels, scores, fractions = node_embeddings(
        run, data, indices, return_scores=True, return_fractions=True
    )
    return {
        "embeddings": emb,
        "labels": labels,
        "scores": scores,
        "fractions": fractions,
        "separation": embedding_separation(emb, labels, n_pairs=n_pairs, seed=seed),
        "class_pairs": class_pair_cosines(emb, labels, n_pairs=n_pairs, seed=seed),
        "fit_literal": metric_target_fit(emb, scores, n_pairs=n_pairs, seed=seed),
        "fit_class": metric_target_fit(emb, fractions, n_pairs=n_pairs, seed=seed),
    }


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof = 1``) over seeds; the SD is NaN for one seed.

    Raises
    ------
    ValueError : no values
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("mean_sd needs at least one value")
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else math.nan


def differ_beyond_seeds(a: Sequence[float], b: Sequence[float]) -> bool | None:
    """Whether two models differ beyond the seed spread: their per-seed values do not overlap.

    The rule notebook 03 states: with at least two seeds each, the models differ when every
    seed of one scores above every seed of the other (the ranges ``[min, max]`` are disjoint).

    Returns
    -------
    bool, or None when either has fewer than two seeds (no spread measured)
    """
    if len(a) < 2 or len(b) < 2:
        return None
    return bool(max(a) < min(b) or max(b) < min(a))


def claim_with_loss(
    with_loss: Sequence[float],
    without: Sequence[float],
    rule: str,
    measure: str,
    floor: float = -math.inf,
) -> tuple[str, str]:
    """A verdict (:func:`medgraph.verdicts.claim`) that a measure is higher with the metric loss.

    Holds when the mean over seeds with the loss exceeds ``max(mean without, floor)`` and, with
    two or more seeds each, every seed with the loss is above every seed without
    (:func:`differ_beyond_seeds`); the rule's text says so.

    Parameters
    ----------
    with_loss, without : per-seed values of the measure
    rule : the claim in words; the seed-spread condition is appended when it applies
    measure : the measure's name for the verdict's reason ("silhouette", "gap")
    floor : a value the mean with the loss must also exceed (e.g. 0 for a gap)
    """
    from medgraph.verdicts import claim

    mean_with, mean_without = mean_sd(with_loss)[0], mean_sd(without)[0]
    differs = differ_beyond_seeds(with_loss, without)
    spread = (
        "" if differs is None else ", beyond the seed spread (every seed above every seed without)"
    )
    bar = max(mean_without, floor)
    return claim(
        mean_with > bar and differs is not False,
        rule + spread,
        f"{measure} {mean_with:.3f} with, {mean_without:.3f} without"
        + ("" if mean_with <= bar else ", within the seed spread"),
    )


STUDY = Study(
    STUDY_NAME,
    "UMAP and separation of superpixel embeddings with and without metric learning (Fig 12)",
    plan,
    split_seed="seed",
    groups=("metric",),
)
