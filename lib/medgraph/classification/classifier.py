"""Training the cell-type classifier with :func:`medgraph.training.fit`, and its predictions."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from medgraph.classification.config import ClassifierConfig, _targets
from medgraph.models.resnet import LightResNet
from medgraph.training import fit, select_device
from medgraph.transforms import augment_dihedral

__all__ = ["class_weights", "train_classifier", "predict_proba", "predict_classes"]

logger = logging.getLogger(__name__)


def class_weights(targets: np.ndarray, num_classes: int) -> np.ndarray:
    """Balanced cross-entropy weights ``N / (K · N_c)`` over the K classes present (0 if absent).

    Parameters
    ----------
    targets : (N,) int array of class indices in ``0 … num_classes−1``
    num_classes : int

    Returns
    -------
    (num_classes,) float64 array
    """
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes)
    present = counts > 0
    weights = np.zeros(num_classes, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def train_classifier(
    x_train: Tensor,
    y_train: Sequence[int] | np.ndarray,
    config: ClassifierConfig | None = None,
    device: torch.device | str = "auto",
    seed: int = 0,
) -> tuple[LightResNet, dict[str, list[float]]]:
    """Train a :class:`LightResNet` on ``(x_train, y_train)`` for a fixed number of epochs.

    Cross-entropy (with balanced class weights by default), Adam, learning rate decayed by a
    cosine per step, random flips and 90° rotations of every image at every step
    (:func:`~medgraph.transforms.augment_dihedral`). The loop is :func:`medgraph.training.fit`
    without validation: the model of the last epoch is returned in eval mode; no data other than
    the training set is looked at.

    Parameters
    ----------
    x_train : (N, C, H, W) float tensor
        From :func:`~medgraph.classification.classifier_inputs` (C = 3 or 6).
    y_train : (N,) int array
        Labels, each one of ``config.classes``.
    config : ClassifierConfig, optional
        Defaults to ``ClassifierConfig()``.
    device : torch.device or str, default "auto"
        Where to train, resolved by :func:`medgraph.training.select_device` (``"auto"``: CUDA,
        then MPS, then the CPU); the returned model lives there.
    seed : int
        Seeds the initialisation (without touching torch's global random state), the shuffling
        and the augmentation; the same seed and data give the same model on the same device.

    Returns
    -------
    model : LightResNet
        In eval mode on ``device``.
    history : dict of lists
        Per epoch: ``"loss"`` (mean training loss as weighted in the objective), ``"accuracy"``
        (on the augmented training batches, in train mode), ``"lr"`` (at the epoch's end) and
        ``"seconds"`` (wall time of the epoch).

    Raises
    ------
    medgraph.training.NonFiniteLossError
        The loss became NaN or infinite.
    """
    cfg = config if config is not None else ClassifierConfig()
    if x_train.ndim != 4:
        raise ValueError(f"x_train must be (N, C, H, W), got {tuple(x_train.shape)}")
    targets = _targets(y_train, cfg.classes)
    n = x_train.shape[0]
    if n != targets.size or n == 0:
        raise ValueError(f"{n} inputs but {targets.size} labels (need at least one of each)")
    device = select_device(device)
    num_classes = len(cfg.classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LightResNet(
            x_train.shape[1], num_classes, cfg.widths, cfg.blocks, dropout=cfg.dropout
        )
    model = model.to(device)
    rng = np.random.default_rng(seed)
    x_all = x_train.to(device=device, dtype=torch.float32)
    y_all = torch.from_numpy(targets).to(device)
    weight = None
    if cfg.class_weighting == "balanced":
        weight = torch.tensor(class_weights(targets, num_classes), dtype=torch.float32)
        weight = weight.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_batches = math.ceil(n / cfg.batch_size)
    total_steps = cfg.epochs * n_batches

    def cosine(opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=total_steps, eta_min=cfg.lr / 100
        )

    # per epoch: sum of weight × loss, sum of weights, correct predictions (train mode)
    loss_sums: list[float] = []
    weight_sums: list[float] = []
    correct: list[int] = []

    def batches(epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        # a generator: the shuffle and each batch's augmentation are drawn as the loop asks for
        # the batch, so the draws of ``rng`` come in the same order as in a hand-written loop
        loss_sums.append(0.0)
        weight_sums.append(0.0)
        correct.append(0)
        for batch in np.array_split(rng.permutation(n), n_batches):
            idx = torch.from_numpy(batch).to(device)
            xb, yb = x_all[idx], y_all[idx]
            if cfg.augment:
                xb = augment_dihedral(xb, rng)
            yield xb, yb

    def train_step(batch: tuple[Tensor, Tensor]) -> Tensor:
        xb, yb = batch
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, weight=weight)
        w = float(weight[yb].sum()) if weight is not None else float(len(yb))
        loss_sums[-1] += float(loss.detach()) * w
        weight_sums[-1] += w
        correct[-1] += int((logits.detach().argmax(1) == yb).sum())
        return loss

    fitted = fit(
        model,
        optimiser,
        train_step,
        None,  # a fixed budget: no validation, the last epoch's weights are kept
        batches,
        cfg.epochs,
        steps_per_epoch=n_batches,
        schedule="constant",
        scheduler=cosine if cfg.lr_schedule == "cosine" else None,
        progress=False,
        description="cell-type classifier",
    )
    history: dict[str, list[float]] = {
        "loss": [s / max(w, 1e-12) for s, w in zip(loss_sums, weight_sums, strict=True)],
        "accuracy": [c / n for c in correct],
        "lr": list(fitted.lr),
        "seconds": list(fitted.seconds),
    }
    if logger.isEnabledFor(logging.DEBUG):
        for epoch in range(cfg.epochs):
            logger.debug(
                "epoch %d/%d loss %.4f acc %.3f",
                epoch + 1,
                cfg.epochs,
                history["loss"][epoch],
                history["accuracy"][epoch],
            )
    return model, history


@torch.no_grad()
def predict_proba(model: torch.nn.Module, x: Tensor, batch_size: int = 32) -> np.ndarray:
    """Softmax class probabilities ``(N, num_classes)`` of inputs ``(N, C, H, W)``.

    The model is put in eval mode (BatchNorm running statistics) and evaluated on its own device.
    """
    model.eval()
    device = next(model.parameters()).device
    chunks = [
        torch.softmax(model(x[i : i + batch_size].to(device=device, dtype=torch.float32)), 1)
        for i in range(0, x.shape[0], batch_size)
    ]
    if not chunks:
        return np.zeros((0, getattr(model, "num_classes", 0)), dtype=np.float32)
    return torch.cat(chunks).cpu().numpy()


def predict_classes(
    model: torch.nn.Module,
    x: Tensor,
    classes: Sequence[int] = (1, 2, 3, 4, 5),
    batch_size: int = 32,
) -> np.ndarray:
    """Predicted labels ``(N,)``: ``classes[argmax logits]`` (the cell-type codes by default).

    Parameters
    ----------
    model : torch.nn.Module
        A trained classifier, e.g. from :func:`train_classifier`.
    x : (N, C, H, W) tensor
    classes : sequence of int, default (1, 2, 3, 4, 5)
        Label of each logit (``config.classes`` of the training run).
    batch_size : int, default 32

    Returns
    -------
    (N,) int64 array
    """
    proba = predict_proba(model, x, batch_size)
    if proba.shape[1] != len(classes):
        raise ValueError(f"the model has {proba.shape[1]} outputs but {len(classes)} classes")
    return np.asarray(classes, dtype=np.int64)[proba.argmax(1)]
