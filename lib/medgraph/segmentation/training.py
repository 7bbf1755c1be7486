"""Training one segmentation model (the SMGNN paper's §3, §4.1-4.4, Algorithm 1).

Graph models (:data:`medgraph.models.registry.MODELS`, family ``"graph"``) are trained with Dice
(Eq 3.2) plus λ·superpixel metric loss (Eq 3.3) with anchors and references drawn across all
images of the batch; the pure GNN (Fig 10) with cross-entropy on the majority labels of its
nodes (Eqs 4.1, 4.2), plus λ·metric loss when λ > 0; the pixel baselines with the same Dice loss,
data, split and epoch budget. Each training image gets a random element of the dihedral group
(:mod:`medgraph.transforms`; its superpixel graph moves with it). The epoch with the best
validation mean Dice (three classes, per image, then over images) is kept
(:func:`medgraph.training.fit`); the test split is predicted once, with those weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from medgraph.data.dataset import SegmentationDataset
from medgraph.losses import SuperpixelMetricLoss, dice_loss
from medgraph.metrics import evaluate_segmentation, mean_dice
from medgraph.models import count_parameters
from medgraph.models.registry import get_model
from medgraph.options import RunOptions
from medgraph.segmentation.config import NODE_IGNORE, SegmentationConfig
from medgraph.segmentation.prediction import predict_prepared
from medgraph.segmentation.preparation import (
    PreparedImages,
    Preprocessing,
    SegmentationBatch,
    _identity_preprocessing,
    common_shape,
    fit_preprocessing,
    make_batch,
    prepare_images,
)
from medgraph.training import History, fit, seed_everything, select_device, training_provenance
from medgraph.transforms import IDENTITY, dihedral_ops

__all__ = [
    "SegmentationRun",
    "build_segmentation_model",
    "train_segmentation",
    "training_provenance",
    "check_splits",
]


def build_segmentation_model(model_name: str, config: SegmentationConfig) -> nn.Module:
    """The network of a registered model (:mod:`medgraph.models.registry`), built from ``config``.

    Raises
    ------
    ValueError
        For a name that is not registered.
    """
    return get_model(model_name).build(config)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


@dataclass
class SegmentationRun:
    """A trained segmentation model and what it produced.

    Attributes
    ----------
    model_name : str
    model : nn.Module
        With the best-validation weights, in eval mode.
    history : History
    n_parameters : int
        Trainable parameters of ``model`` (the metric loss's a and b not included).
    train_idx, val_idx, test_idx : int64 arrays
        Indices into the data set.
    test_predictions : list of (H_n, W_n) int64 arrays
        Predicted class maps of the test images, original sizes, in ``test_idx`` order.
    test_ids : list of str
    seconds : float
        Wall time of :func:`train_segmentation` (preparation, training and test prediction), in
        seconds; for a run resumed from a resume state, plus the epochs the earlier calls trained
        (the part of an epoch lost to an interruption is not counted).
    config : SegmentationConfig
        The run's hyperparameters.
    seed : int
    preprocessing : Preprocessing
        Padding, normalisation and superpixel settings, for :func:`predict`.
    device : str
    metric_loss : SuperpixelMetricLoss or None
        The metric loss with its learned a, b (graph models with λ > 0).
    provenance : dict
        Where and when it was trained (:func:`training_provenance`); a run loaded from a store
        (:mod:`medgraph.store`) adds ``from_cache``, the entry's file name.
    """

    model_name: str
    model: nn.Module
    history: History
    n_parameters: int
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    test_predictions: list[np.ndarray]
    test_ids: list[str]
    seconds: float
    config: SegmentationConfig
    seed: int
    preprocessing: Preprocessing
    device: str = "cpu"
    metric_loss: SuperpixelMetricLoss | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of an epoch (training + validation), seconds."""
        return self.history.seconds_per_epoch

    def evaluate(self, data: SegmentationDataset) -> pd.DataFrame:
        """:func:`medgraph.metrics.evaluate_segmentation` of the test predictions."""
        masks = [data.masks[i] for i in self.test_idx]
        return evaluate_segmentation(
            self.test_predictions, masks, self.test_ids, self.config.num_classes
        )


def check_splits(
    n: int, splits: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(splits) != 3:
        raise ValueError("splits must be (train, val, test) index arrays")
    train, val, test = (np.asarray(s, dtype=np.int64).reshape(-1) for s in splits)
    for name, s in (("train", train), ("val", val), ("test", test)):
        if s.size and (s.min() < 0 or s.max() >= n):
            raise IndexError(f"{name} indices out of range for {n} images")
    if len(train) == 0 or len(val) == 0:
        raise ValueError("training and validation splits must not be empty")
    if (
        np.intersect1d(train, val).size
        or np.intersect1d(train, test).size
        or np.intersect1d(val, test).size
    ):
        raise ValueError("train, validation and test splits overlap")
    return train, val, test


def train_segmentation(
    model_name: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    options: RunOptions | None = None,
) -> SegmentationRun:
    """Train one segmentation model on a data set and predict its test split.

    Parameters
    ----------
    model_name : str
        A registered model (:data:`medgraph.models.registry.MODELS`): ``"smgnn"``,
        ``"smgnn_gcn"``, ``"smgnn_gat"``, ``"pure_gnn"``, ``"unet"``, ``"attention_unet"``,
        ``"unet++"``, ``"swin_unet"``.
    data : SegmentationDataset
        Images (H_n, W_n, 3) uint8 and masks (H_n, W_n) in 0 … C − 1.
    splits : (train, val, test) index arrays
        For example :func:`medgraph.training.split_indices` (disjoint; the test split may be
        empty).
    config : SegmentationConfig or dict, optional
        Defaults of :class:`SegmentationConfig` for missing keys.
    device : str or torch.device, optional
        :func:`medgraph.training.select_device`; default ``options.device``.
    seed : int, default 0
        Seeds the weights, the shuffling, the augmentation and the metric-loss sampling.
    options : RunOptions, optional
        How to run it (progress bars, superpixel cache, checkpoint, resume state); nothing in it
        changes the result. The result cache is not used here (:mod:`medgraph.store` is).

    Returns
    -------
    SegmentationRun

    Raises
    ------
    medgraph.losses.NonFiniteLossError
        When the loss becomes NaN or infinite.
    """
    started = time.perf_counter()
    cfg = SegmentationConfig.from_any(config)
    opts = options if options is not None else RunOptions()
    spec = get_model(model_name)
    dev = select_device(opts.device if device is None else device)
    train_idx, val_idx, test_idx = check_splits(len(data), splits)
    seed_everything(seed)

    pad_shape = common_shape(data.images)
    draft = _identity_preprocessing(model_name, cfg, pad_shape, opts.superpixel_cache)
    prepared = prepare_images(data.images, data.masks, draft, data.ids)
    train_part = PreparedImages(
        images=prepared.images[train_idx],
        masks=prepared.masks[train_idx] if prepared.masks is not None else None,
        crops=prepared.crops[train_idx],
        ids=[prepared.ids[i] for i in train_idx],
        graphs=[prepared.graphs[i] for i in train_idx] if prepared.graphs is not None else None,
    )
    pre = fit_preprocessing(model_name, train_part, cfg, pad_shape, opts.superpixel_cache)

    model = build_segmentation_model(model_name, cfg).to(dev)
    is_graph = spec.needs_graph
    pure = spec.loss == "node_cross_entropy"
    metric = None
    if is_graph and cfg.lam > 0:
        metric = SuperpixelMetricLoss(cfg.n_anchors, cfg.n_refs).to(dev)
    params = list(model.parameters()) + (list(metric.parameters()) if metric is not None else [])
    optimizer = torch.optim.Adam(
        params, lr=cfg.learning_rate(model_name), weight_decay=cfg.weight_decay
    )
    rng = np.random.default_rng(seed)
    sample_gen = torch.Generator(device="cpu").manual_seed(seed)
    square = pad_shape[0] == pad_shape[1]
    all_ops = dihedral_ops(square)
    steps = math.ceil(len(train_idx) / cfg.batch_size)

    def batches(epoch: int) -> Any:
        order = rng.permutation(train_idx)
        for start in range(0, len(order), cfg.batch_size):
            chunk = order[start : start + cfg.batch_size]
            if cfg.augment:
                ops = [all_ops[k] for k in rng.integers(0, len(all_ops), len(chunk))]
            else:
                ops = [IDENTITY] * len(chunk)
            yield make_batch(prepared, chunk, pre, ops, dev)

    def train_step(batch: SegmentationBatch) -> torch.Tensor:
        if is_graph:
            assert batch.graph is not None
            g = batch.graph.graph
            if pure:
                emb = model.embed(g.x, g.edge_index)  # type: ignore[operator]
                loss = F.cross_entropy(
                    model.node_logits(emb),  # type: ignore[operator]
                    g.y,
                    ignore_index=NODE_IGNORE,  # Eq 4.1
                )
            else:
                logits, emb = model(batch.images, batch.graph)
                loss = dice_loss(
                    logits.softmax(1), batch.target, cfg.num_classes, valid=batch.valid
                )
            if metric is not None:
                keep = g.valid
                target = g.score if cfg.metric_target == "literal" else g.fractions
                loss = loss + cfg.lam * metric(emb[keep], target[keep], generator=sample_gen)
            return loss
        logits = model(batch.images)
        return dice_loss(logits.softmax(1), batch.target, cfg.num_classes, valid=batch.valid)

    val_masks = [data.masks[i] for i in val_idx]

    def validate() -> dict[str, float]:
        preds = predict_prepared(model, pre, prepared, val_idx, cfg.eval_batch_size, dev)
        return {
            "dice": mean_dice(preds, val_masks, cfg.num_classes),
            "dice_cell": mean_dice(preds, val_masks, cfg.num_classes, classes=(1, 2)),
        }

    history = fit(
        model,
        optimizer,
        train_step,
        validate,
        batches,
        cfg.epochs,
        steps_per_epoch=steps,
        schedule=cfg.schedule,
        warmup_epochs=cfg.warmup_epochs,
        min_lr_factor=cfg.min_lr_factor,
        monitor="dice",
        patience=cfg.patience,
        grad_clip=cfg.grad_clip,
        extra_modules=[metric] if metric is not None else [],
        checkpoint=opts.checkpoint,
        resume=opts.resume,
        generators=(rng, sample_gen),
        progress=opts.progress,
        description=f"{model_name} ({data.name})",
    )
    # a resumed run: the epochs that earlier, interrupted calls trained count too
    earlier = sum(history.seconds[: history.resumed_at[-1]]) if history.resumed_at else 0.0
    test_preds = (
        predict_prepared(model, pre, prepared, test_idx, cfg.eval_batch_size, dev, tta=cfg.tta)
        if len(test_idx)
        else []
    )
    return SegmentationRun(
        model_name=model_name,
        model=model,
        history=history,
        n_parameters=count_parameters(model),
        train_idx=train_idx,
        val_idx=val_idx,
        test_idx=test_idx,
        test_predictions=test_preds,
        test_ids=[data.ids[i] for i in test_idx],
        seconds=time.perf_counter() - started + earlier,
        config=cfg,
        seed=int(seed),
        preprocessing=pre,
        device=str(dev),
        metric_loss=metric,
        provenance=training_provenance(dev),
    )
