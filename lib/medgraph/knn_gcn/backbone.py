"""Stage 1 of the seed study: a ResNet-18 trained on one split's training cells, then embeddings.

The seed fine-tunes an ImageNet ResNet-18 on the cell images and replaces its last layer by the
identity, so that every image becomes a 512-d embedding ``f_i``; the same network with its
classification head is the "CNN alone" baseline. Here:

- the backbone starts from ImageNet weights when the user has them (a torch hub cache or a file,
  :func:`medgraph.models.resnet18.cell_classifier`), else from a seeded random initialisation;
  which one is recorded in the run (``weights_used``) and in every report;
- it is trained on ``split.train`` only, with the seed's pipeline (128 × 128, flips, rotation
  ±10°, colour jitter, ImageNet normalisation; :class:`medgraph.models.cell_augment.CellAugment`),
  Adam (learning rate 1e-3, the seed's tuned value) and batches of 32, each epoch drawing as many
  cells as the training part holds with every class equally likely (the seed keeps the classes
  balanced in each epoch);
- the epoch is chosen on ``split.val`` (lowest class-balanced validation loss, ties to the
  earlier epoch), never on test cells;
- finally every node of the graph, test nodes included, is embedded by the chosen network in
  evaluation mode (no augmentation): a test image's embedding comes from a network that never
  trained on it (:func:`medgraph.knn_gcn.protocol.check_no_leakage`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from medgraph.knn_gcn.protocol import Split, check_no_leakage
from medgraph.losses.segmentation import NonFiniteLossError
from medgraph.models.cell_augment import CellAugment
from medgraph.models.resnet18 import ResNet18, cell_classifier
from medgraph.models.sample_gcn import class_weights

__all__ = ["BackboneSettings", "BackboneRun", "train_backbone", "embed_cells", "balanced_epoch"]


@dataclass(frozen=True)
class BackboneSettings:
    """Everything that changes a trained backbone, besides the data, the split and the seed.

    Attributes
    ----------
    epochs : int
        Passes of ``len(split.train)`` balanced draws.
    batch_size : int
        The seed's 32.
    lr, weight_decay : float
        Adam's (the seed: learning rate 1e-3; weight decay unstated, 1e-4 here).
    size : int
        Side of the resized input (the seed's 128).
    rotation, jitter : float
        Augmentation: rotation range ±degrees, colour-jitter strength.
    pretrained : str or None
        ``"auto"`` (torch hub cache when present), a weights file, or None (random init).
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    size: int = 128
    rotation: float = 10.0
    jitter: float = 0.2
    pretrained: str | None = "auto"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (the weights' path reduced to its file name)."""
        pre = self.pretrained
        if pre not in (None, "auto"):
            pre = "file:" + str(pre).replace("\\", "/").rsplit("/", 1)[-1]
        return {
            "epochs": int(self.epochs),
            "batch_size": int(self.batch_size),
            "lr": float(self.lr),
            "weight_decay": float(self.weight_decay),
            "size": int(self.size),
            "rotation": float(self.rotation),
            "jitter": float(self.jitter),
            "pretrained": pre,
        }


@dataclass
class BackboneRun:
    """What training one backbone on one split produced.

    Attributes
    ----------
    embeddings : (N, 512) float32 array
        Every node's embedding by the chosen network (evaluation mode).
    cnn_probabilities : (N, C) float32 array
        The CNN-alone baseline: softmax of the chosen network's head, every node.
    trained_on, validated_on : int64 arrays
        The nodes whose images trained the network and chose its epoch.
    best_epoch : int
        1-based epoch kept.
    train_loss, val_loss, val_accuracy : (epochs,) float arrays
    weights_used : str
        ``"imagenet:<file>"`` or ``"random-init"``.
    seconds : float
        Wall time of the training and embedding.
    provenance : dict
    """

    embeddings: np.ndarray
    cnn_probabilities: np.ndarray
    trained_on: np.ndarray
    validated_on: np.ndarray
    best_epoch: int
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    weights_used: str
    seconds: float
    provenance: dict[str, Any] = field(default_factory=dict)


def balanced_epoch(labels: np.ndarray, train: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``len(train)`` training nodes drawn with replacement, every class equally likely.

    Parameters
    ----------
    labels : (N,) int array
    train : (n,) int array
    rng : numpy Generator

    Returns
    -------
    (n,) int64 array of nodes (a class's members equally likely within the class).
    """
    y = labels[train]
    classes, counts = np.unique(y, return_counts=True)
    p = (1.0 / counts[np.searchsorted(classes, y)]) / classes.size
    return train[rng.choice(train.size, size=train.size, replace=True, p=p / p.sum())]


@torch.no_grad()
def embed_cells(
    model: ResNet18, images: torch.Tensor, augment: CellAugment, batch: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (N, 512) and head probabilities (N, C) of prepared images, evaluation mode.

    Parameters
    ----------
    model : ResNet18
    images : (N, 3, S, S) float tensor in [0, 1] on the model's device
    augment : CellAugment
        Only its normalisation is applied.
    batch : int
    """
    model.eval()
    embs, probs = [], []
    for start in range(0, images.shape[0], batch):
        f = model.embed(augment.normalise(images[start : start + batch]))
        embs.append(f.float().cpu())
        probs.append(torch.softmax(model.fc(f), dim=1).float().cpu())
    return torch.cat(embs).numpy(), torch.cat(probs).numpy()


def _weighted_loss(logits: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Mean over the classes present in ``y`` of each class's mean cross-entropy.

    The cross-entropy weighted inversely to ``y``'s own class frequencies
    (:func:`~medgraph.models.sample_gcn.class_weights`); a class with no sample in ``y`` (a tiny
    validation set) gets weight 0 instead of failing.
    """
    w = class_weights(y.cpu().numpy(), n_classes, allow_absent=True)
    return F.cross_entropy(logits, y, weight=w.to(logits.device, logits.dtype))


def train_backbone(
    images: torch.Tensor,
    labels: np.ndarray,
    split: Split,
    settings: BackboneSettings,
    *,
    n_classes: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Callable[[int, float, float], None] | None = None,
) -> BackboneRun:
    """Train a ResNet-18 on ``split.train``, choose its epoch on ``split.val``, embed every node.

    Parameters
    ----------
    images : (N, 3, S, S) float tensor in [0, 1]
        Every node's image, prepared at ``settings.size`` (:func:`prepare_cells`).
    labels : (N,) int array
        Only the train and validation entries are read (test entries may be −1).
    split : Split
    settings : BackboneSettings
    n_classes : int
    seed : int
        Initialisation, balanced draws and augmentation.
    device : torch device
    progress : callable(epoch, train_loss, val_loss), optional

    Returns
    -------
    BackboneRun

    Raises
    ------
    NonFiniteLossError
        The training loss became NaN or infinite (naming the epoch).
    """
    start_time = time.perf_counter()
    device = torch.device(device)
    labels = np.asarray(labels, dtype=np.int64)
    visible = split.visible_labels(labels)
    check_no_leakage(split, labels_given=visible)
    for part in ("train", "val"):
        if np.any(visible[getattr(split, part)] < 0):
            raise ValueError(f"split {split.name!r}: a {part} node has no label (−1)")
    model, weights_used = cell_classifier(
        n_classes, pretrained=settings.pretrained, seed=seed, device=device
    )
    augment = CellAugment(size=settings.size, rotation=settings.rotation, jitter=settings.jitter)
    opt = torch.optim.Adam(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, foreach=True
    )
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(int(seed))
    images = images.to(device)
    y_all = torch.as_tensor(visible, device=device)
    val_x = images[split.val]
    val_y = y_all[split.val]
    epochs = int(settings.epochs)
    hist = {k: np.full(epochs, np.nan) for k in ("train", "val", "acc")}
    best_state, best_val, best_epoch = None, np.inf, 0
    for epoch in range(1, epochs + 1):
        model.train()
        order = balanced_epoch(visible, split.train, rng)
        total, count = 0.0, 0
        for first in range(0, order.size, settings.batch_size):
            idx = order[first : first + settings.batch_size]
            if idx.size < 2:  # batch normalisation needs two samples
                continue
            x = augment(images[idx], gen)
            loss = F.cross_entropy(model(x), y_all[idx])
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"backbone training loss became {float(loss.detach())} at epoch {epoch} "
                    f"(split {split.name!r}, seed {seed})"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.size
            count += idx.size
        model.eval()
        with torch.no_grad():
            logits = torch.cat(
                [
                    model(augment.normalise(val_x[i : i + 128]))
                    for i in range(0, val_x.shape[0], 128)
                ]
            )
            val_loss = float(_weighted_loss(logits, val_y, n_classes))
            val_acc = float((logits.argmax(1) == val_y).float().mean())
        hist["train"][epoch - 1] = total / max(count, 1)
        hist["val"][epoch - 1], hist["acc"][epoch - 1] = val_loss, val_acc
        if val_loss < best_val:
            best_val, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        if progress is not None:
            progress(epoch, hist["train"][epoch - 1], val_loss)
    if best_state is None:
        raise NonFiniteLossError(
            f"no finite validation loss in {epochs} epochs (split {split.name!r})"
        )
    model.load_state_dict(best_state)
    embeddings, probabilities = embed_cells(model, images, augment)
    from medgraph.training import training_provenance

    return BackboneRun(
        embeddings=embeddings.astype(np.float32),
        cnn_probabilities=probabilities.astype(np.float32),
        trained_on=split.train.copy(),
        validated_on=split.val.copy(),
        best_epoch=int(best_epoch),
        train_loss=hist["train"],
        val_loss=hist["val"],
        val_accuracy=hist["acc"],
        weights_used=weights_used,
        seconds=time.perf_counter() - start_time,
        provenance=training_provenance(device),
    )
