"""The cell-type experiment: one classifier per segmentation source, on one shared split."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from medgraph.classification.classifier import predict_classes, train_classifier
from medgraph.classification.config import CELL_TYPES, ClassifierConfig, _targets
from medgraph.classification.inputs import classifier_inputs, stratified_fraction_split
from medgraph.classification.report import classification_report
from medgraph.data.dataset import SegmentationDataset

__all__ = [
    "CLASSIFIER_CANDIDATES",
    "choose_classifier_on_validation",
    "run_cell_type_experiment",
]

logger = logging.getLogger(__name__)


def run_cell_type_experiment(
    dataset: SegmentationDataset,
    segmentations_by_source: Mapping[str, Sequence[np.ndarray] | None],
    config: ClassifierConfig | None = None,
    seed: int = 0,
    device: torch.device | str = "auto",
    fraction: float = 1 / 3,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Train and test one classifier per segmentation source on one shared split.

    For every source — ``None`` for the image-only baseline, or one label map per image of
    ``dataset`` (the ground-truth masks, or a segmentation model's predictions) — the inputs are
    built with :func:`classifier_inputs` (``config.region`` for the sources with segmentations;
    the image-only source always sees the whole image), a classifier is trained with :func:`train_classifier`
    on the training part of :func:`stratified_fraction_split` and evaluated on the test part. The
    split, the initialisation and the shuffling/augmentation draws are the same for every source
    (all from ``seed``), so the sources differ only in their inputs. A source's segmentations are
    used for its training images as well as its test images (as in the paper's Algorithm 1, which
    trains the ResNet on the segmentation model's outputs).

    Parameters
    ----------
    dataset : SegmentationDataset
        Images and class labels (every label one of ``config.classes``).
    segmentations_by_source : mapping name → list of (H, W) label maps or None
        E.g. ``{"image only": None, "ground truth": dataset.masks, "SMGNN": predictions}``.
    config : ClassifierConfig, optional
    seed : int
        Seed of the split and of every training run.
    device : torch.device or str, default "auto"
        Where to train, resolved by :func:`medgraph.training.select_device` (``"auto"``: CUDA,
        then MPS, then the CPU).
    fraction : float, default 1/3
        Training share of each class.
    class_names : mapping label → name, or sequence, optional
        Passed to :func:`classification_report` (default :data:`CELL_TYPES`).

    Returns
    -------
    DataFrame
        One row per source (index ``source``, in the given order) with columns ``in_channels``,
        ``n_train``, ``n_test``, ``overall_accuracy``, ``balanced_accuracy``,
        ``final_train_loss``, ``train_seconds``, ``confusion`` (the DataFrame of
        :func:`classification_report`), ``y_pred`` (test predictions, in ``test_idx`` order).
        ``attrs`` holds ``train_idx``, ``test_idx``, ``test_ids``, ``y_test``, ``seed`` and
        ``config`` (as a dict).
    """
    cfg = config if config is not None else ClassifierConfig()
    if not segmentations_by_source:
        raise ValueError("segmentations_by_source is empty")
    labels = np.asarray(dataset.class_labels, dtype=np.int64)
    _targets(labels, cfg.classes)  # every label must be a class the network predicts
    names = class_names if class_names is not None else {c: CELL_TYPES[c] for c in cfg.classes}
    train_idx, test_idx = stratified_fraction_split(labels, fraction, seed)
    if train_idx.size == 0 or test_idx.size == 0:
        raise ValueError(
            f"the split left {train_idx.size} training and {test_idx.size} test images"
        )
    rows = []
    for source, segmentations in segmentations_by_source.items():
        if segmentations is not None and len(segmentations) != len(dataset):
            raise ValueError(
                f"{source!r}: {len(segmentations)} segmentations for {len(dataset)} images"
            )
        region = cfg.region if segmentations is not None else "whole"
        x = classifier_inputs(
            dataset.images, segmentations, cfg.size, region=region, margin=cfg.region_margin
        )
        start = time.perf_counter()
        model, history = train_classifier(
            x[train_idx], labels[train_idx], cfg, device=device, seed=seed
        )
        seconds = time.perf_counter() - start
        y_pred = predict_classes(model, x[test_idx], cfg.classes)
        confusion, numbers = classification_report(labels[test_idx], y_pred, names)
        logger.info(
            "%s: overall accuracy %.4f on %d test images (%.1f s training)",
            source,
            numbers["overall_accuracy"],
            test_idx.size,
            seconds,
        )
        rows.append(
            {
                "source": source,
                "in_channels": int(x.shape[1]),
                "n_train": int(train_idx.size),
                "n_test": int(test_idx.size),
                "overall_accuracy": numbers["overall_accuracy"],
                "balanced_accuracy": numbers["balanced_accuracy"],
                "final_train_loss": history["loss"][-1],
                "train_seconds": seconds,
                "confusion": confusion,
                "y_pred": y_pred,
            }
        )
    result = pd.DataFrame(rows).set_index("source")
    result.attrs.update(
        {
            "train_idx": train_idx,
            "test_idx": test_idx,
            "test_ids": [dataset.ids[i] for i in test_idx],
            "y_test": labels[test_idx],
            "seed": int(seed),
            "config": asdict(cfg),
        }
    )
    return result


#: The classifier settings tried on validation in notebook 02 (issue 35 §3): the input layout
#: (the segmented cell cut out, or the whole image beside the segmentation channels), class-
#: balanced loss weights or none, and dihedral augmentation or none.
CLASSIFIER_CANDIDATES: dict[str, dict[str, Any]] = {
    f"{region}, {'balanced' if balanced else 'unweighted'} loss, "
    f"{'augmented' if augment else 'no augmentation'}": {
        "region": region,
        "class_weighting": "balanced" if balanced else "none",
        "augment": augment,
    }
    for region in ("cell", "whole")
    for balanced in (True, False)
    for augment in (True, False)
}


def choose_classifier_on_validation(
    dataset: SegmentationDataset,
    segmentations: Sequence[np.ndarray],
    candidates: Mapping[str, Mapping[str, Any]],
    config: ClassifierConfig | None = None,
    seed: int = 0,
    device: torch.device | str = "auto",
    fraction: float = 1 / 3,
    n_splits: int = 3,
) -> tuple[str, pd.DataFrame]:
    """Choose the classifier's settings by cross-validation inside the training images.

    The split is :func:`run_cell_type_experiment`'s (:func:`stratified_fraction_split` with the
    same ``fraction`` and ``seed``); only its training images take part. They are divided into
    ``n_splits`` stratified folds (:class:`sklearn.model_selection.StratifiedKFold`, shuffled with
    ``seed``; a class with fewer images than folds is spread as far as it goes). For every
    candidate (``config`` with the candidate's overrides) a classifier is trained on all folds
    but one and scored on the one left out, with the same folds for every candidate; the
    validation accuracy is the share of training images classified correctly when held out.
    The candidate with the highest accuracy is chosen, the earlier one on a tie. No test image
    is read. The number of folds is at most the size of the largest class among the training
    images; when that is one (tiny data), nothing can be held out: every accuracy is NaN and
    the first candidate is returned.

    Parameters
    ----------
    dataset : SegmentationDataset
        Images and cell-type labels.
    segmentations : list of (H, W) label maps
        One per image; the reference segmentation the choice is made with (e.g. the ground
        truth).
    candidates : mapping label → ClassifierConfig overrides
        E.g. :data:`CLASSIFIER_CANDIDATES`, or ``{"cell": {"region": "cell"}, ...}``.
    config : ClassifierConfig, optional
        The settings every candidate starts from.
    seed : int
        Seed of the split, the folds and every training run.
    device : torch.device or str, default "auto"
    fraction : float, default 1/3
        Training share of each class (as in :func:`run_cell_type_experiment`).
    n_splits : int, default 3
        Folds of the training images (≥ 2; fewer when no class has that many images).

    Returns
    -------
    chosen : str
        The chosen candidate's label.
    table : DataFrame
        One row per candidate, in the given order: ``candidate``, its overrides as columns,
        ``validation_accuracy``, ``n_validation`` (training images scored once each),
        ``folds`` (the number used), ``chosen`` (bool).
    """
    from sklearn.model_selection import StratifiedKFold

    cfg = config if config is not None else ClassifierConfig()
    if not candidates:
        raise ValueError("candidates is empty")
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    if len(segmentations) != len(dataset):
        raise ValueError(f"{len(segmentations)} segmentations for {len(dataset)} images")
    settings = {label: replace(cfg, **dict(over)) for label, over in candidates.items()}
    labels = np.asarray(dataset.class_labels, dtype=np.int64)
    _targets(labels, cfg.classes)
    train_idx, _ = stratified_fraction_split(labels, fraction, seed)
    y = labels[train_idx]
    n_splits = min(n_splits, int(np.bincount(y).max(initial=0)))
    if n_splits < 2:  # no class has two training images: nothing to hold out
        table = pd.DataFrame(
            [
                {
                    "candidate": label,
                    **dict(over),
                    "validation_accuracy": math.nan,
                    "n_validation": 0,
                    "folds": 0,
                }
                for label, over in candidates.items()
            ]
        )
        table["chosen"] = np.arange(len(table)) == 0
        return str(table["candidate"].iloc[0]), table
    with warnings.catch_warnings():  # a class smaller than n_splits: sklearn warns, still splits
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        folds = list(
            StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(
                np.zeros(y.size), y
            )
        )
    images = [dataset.images[i] for i in train_idx]
    masks = [segmentations[i] for i in train_idx]
    inputs: dict[tuple[int, str, int], np.ndarray] = {}
    rows = []
    for label, cand in settings.items():
        key = (cand.size, cand.region, cand.region_margin)
        if key not in inputs:
            inputs[key] = classifier_inputs(
                images, masks, cand.size, region=cand.region, margin=cand.region_margin
            )
        x = inputs[key]
        correct = 0
        for fit_part, held_out in folds:
            model, _ = train_classifier(x[fit_part], y[fit_part], cand, device=device, seed=seed)
            correct += int((predict_classes(model, x[held_out], cand.classes) == y[held_out]).sum())
        rows.append(
            {
                "candidate": label,
                **dict(candidates[label]),
                "validation_accuracy": correct / y.size,
                "n_validation": int(y.size),
                "folds": n_splits,
            }
        )
    table = pd.DataFrame(rows)
    best = int(np.argmax(table["validation_accuracy"].to_numpy()))  # first maximum: earlier wins
    table["chosen"] = np.arange(len(table)) == best
    return str(table["candidate"].iloc[best]), table
