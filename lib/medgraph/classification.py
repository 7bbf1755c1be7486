"""Segmentation-based white-blood-cell type classification (SMGNN paper §4.6, Algorithm 1 step 3).

After an image is segmented into background, cytoplasm and nucleus, a lightweight ResNet
(:class:`medgraph.models.resnet.LightResNet`) classifies the cell type — 1 neutrophil,
2 lymphocyte, 3 monocyte, 4 eosinophil, 5 basophil — from the image together with the one-hot
segmentation (6 input channels); the baseline is the same network on the image alone (3 channels).
The paper trains on about a third of each class of dataset-2 and tests on the rest, reporting
96.72% overall accuracy with SMGNN segmentations (Table 4) against 72.13% on the image alone
(Table 5), and compares segmentations of several models in Table 6.

The pieces, used in this order by :func:`run_cell_type_experiment`:

- :func:`stratified_fraction_split` — a seeded per-class split (no validation subset: training
  runs for a fixed number of epochs, so nothing is selected on held-out data, least of all on
  the test set);
- :func:`classifier_inputs` — normalised RGB plus, optionally, one-hot segmentation channels, at
  a fixed square size; with ``region="cell"`` the image is first reduced to the segmented cell
  (:func:`cell_region`: the bounding square of the cytoplasm and nucleus, every other pixel set
  to black), the paper's "extraction on salient cell regions" (§4.6);
- :func:`train_classifier` — Adam with a cosine-decayed learning rate, label-safe dihedral
  augmentation (flips and 90° rotations), class-balanced cross-entropy weights;
  :func:`predict_classes` / :func:`predict_proba`;
- :func:`classification_report` — the confusion matrix laid out like the paper's Tables 4–5 and
  the numbers behind it; :func:`format_confusion` prints it with percentages;
  :func:`plot_confusion` draws it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from medgraph.data.dataset import SegmentationDataset
from medgraph.models.resnet import LightResNet

__all__ = [
    "CELL_TYPES",
    "PAPER_CLASS_ORDER",
    "PAPER_OVERALL_ACCURACY",
    "ClassifierConfig",
    "stratified_fraction_split",
    "cell_region",
    "classifier_inputs",
    "augment_dihedral",
    "class_weights",
    "train_classifier",
    "predict_proba",
    "predict_classes",
    "classification_report",
    "format_confusion",
    "plot_confusion",
    "run_cell_type_experiment",
]

logger = logging.getLogger(__name__)

#: Display names of the cell-type labels of :class:`SegmentationDataset` (label → name).
CELL_TYPES: dict[int, str] = {
    1: "Neutrophil",
    2: "Lymphocyte",
    3: "Monocyte",
    4: "Eosinophil",
    5: "Basophil",
}
#: Row/column order of the paper's Tables 4–5 (alphabetical): basophil, eosinophil, lymphocyte,
#: monocyte, neutrophil. ``{k: CELL_TYPES[k] for k in PAPER_CLASS_ORDER}`` gives that layout.
PAPER_CLASS_ORDER: tuple[int, ...] = (5, 4, 2, 3, 1)
#: Overall test accuracy on dataset-2 as printed in the paper (Table 5 for "image only", Table 6
#: "CA" for the segmentation models, Table 4 for SMGNN) — the paper's numbers, not ours.
PAPER_OVERALL_ACCURACY: dict[str, float] = {
    "image only": 0.7213,
    "U-Net": 0.9344,
    "R2U-Net": 0.9672,
    "Attention U-Net": 0.9508,
    "Swin-Unet": 0.9508,
    "MIF-Net": 0.9508,
    "VGU-Net": 0.9672,
    "SMGNN": 0.9672,
}

_NUM_SEGMENTATION_LABELS = 3  # background, cytoplasm, nucleus


@dataclass
class ClassifierConfig:
    """Hyper-parameters of the cell-type classifier (inputs, network, optimisation).

    Attributes
    ----------
    size : int, default 150
        Side of the square network input in pixels (300×300 dataset-2 images are averaged over
        exact 2×2 blocks).
    epochs : int, default 100
        Fixed training budget; the model of the last epoch is returned (no early stopping).
    batch_size : int, default 8
        Mini-batch size; every epoch's shuffled images are split into ``ceil(N / batch_size)``
        batches of near-equal size, so no batch is left with a single image.
    lr : float, default 1e-3
        Adam learning rate at the start.
    weight_decay : float, default 1e-4
        Adam's L2 penalty.
    lr_schedule : {"cosine", "constant"}, default "cosine"
        Cosine decay per step from ``lr`` to ``lr / 100`` over the whole budget, or constant.
    class_weighting : {"balanced", "none"}, default "balanced"
        ``"balanced"``: cross-entropy weights ``N / (K · N_c)`` over the K classes present in the
        training set, so each class weighs the same in the loss; ``"none"``: plain mean.
    augment : bool, default True
        Random element of the dihedral group (horizontal flip × 90° rotations) per image and step.
    widths, blocks : tuple of int
        :class:`LightResNet` stages.
    dropout : float, default 0.0
        Dropout before the linear head.
    classes : tuple of int, default (1, 2, 3, 4, 5)
        The labels the network predicts, in logit order.
    region : {"whole", "cell"}, default "whole"
        Input of the segmentation-based classifiers (the image-only baseline always sees the
        whole image): ``"whole"``, the whole image with the one-hot segmentation as three more
        channels; ``"cell"``, the segmented cell alone (:func:`cell_region`), with its one-hot
        segmentation. The paper (§4.6) credits its gain to "extraction on salient cell regions"
        without giving the input's layout; ``"cell"`` is our reading of it.
    region_margin : int, default 6
        Pixels of context kept around the cell's bounding box with ``region="cell"`` (masked
        to black like every pixel outside the cell).
    """

    size: int = 150
    epochs: int = 100
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    lr_schedule: Literal["cosine", "constant"] = "cosine"
    class_weighting: Literal["balanced", "none"] = "balanced"
    augment: bool = True
    widths: tuple[int, ...] = (16, 32, 64, 128)
    blocks: tuple[int, ...] = (1, 1, 1, 1)
    dropout: float = 0.0
    classes: tuple[int, ...] = field(default=(1, 2, 3, 4, 5))
    region: Literal["whole", "cell"] = "whole"
    region_margin: int = 6

    def __post_init__(self) -> None:
        if self.size < 8 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"size >= 8, epochs >= 1 and batch_size >= 1 required, got {self.size}, "
                f"{self.epochs}, {self.batch_size}"
            )
        if self.lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'constant', not {self.lr_schedule}")
        if self.class_weighting not in ("balanced", "none"):
            raise ValueError(
                f"class_weighting must be 'balanced' or 'none', not {self.class_weighting}"
            )
        self.classes = tuple(int(c) for c in self.classes)
        if len(set(self.classes)) != len(self.classes) or not self.classes:
            raise ValueError(f"classes must be distinct and non-empty, got {self.classes}")
        self.widths = tuple(int(w) for w in self.widths)
        self.blocks = tuple(int(b) for b in self.blocks)
        if self.region not in ("whole", "cell"):
            raise ValueError(f"region must be 'whole' or 'cell', not {self.region!r}")
        if self.region_margin < 0:
            raise ValueError(f"region_margin must be >= 0, not {self.region_margin}")


# --------------------------------------------------------------------------------------------
# split and inputs
# --------------------------------------------------------------------------------------------


def stratified_fraction_split(
    labels: Sequence[int] | np.ndarray, fraction: float = 1 / 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split: about ``fraction`` of every class for training, the rest for test.

    A class of ``n`` samples gives ``round(fraction · n)`` (halves rounded up) training samples,
    clamped to ``[1, n − 1]`` when ``n ≥ 2`` so that the class is both learned and tested; a class
    with a single sample goes to training when ``fraction ≥ 0.5`` and to test otherwise. With
    dataset-2 (33/37/15/12/3) and ``fraction=1/3`` this is 11/12/5/4/1 = 33 training and 67 test
    images (the paper's test confusion matrices hold 61, i.e. 39 training images).

    No validation subset is returned: the classifier trains for a fixed number of epochs
    (:class:`ClassifierConfig`), so no model is selected on held-out data.

    Parameters
    ----------
    labels : (N,) int array
        Class label of every sample.
    fraction : float in (0, 1), default 1/3
        Share of each class for training.
    seed : int
        Seed of the numpy Generator that shuffles each class (classes in sorted order).

    Returns
    -------
    train_idx, test_idx : (N_train,), (N_test,) int64 arrays
        Sorted, disjoint, together ``0 … N−1``.
    """
    y = np.asarray(labels).reshape(-1)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), not {fraction}")
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        n = members.size
        k = int(math.floor(fraction * n + 0.5))
        if n >= 2:
            k = min(max(k, 1), n - 1)
        members = rng.permutation(members)
        train.append(members[:k])
        test.append(members[k:])
    empty = np.zeros(0, dtype=np.int64)
    train_idx = np.sort(np.concatenate(train)) if train else empty
    test_idx = np.sort(np.concatenate(test)) if test else empty
    return train_idx.astype(np.int64), test_idx.astype(np.int64)


def _resize(x: Tensor, size: int, mode: Literal["image", "labels"]) -> Tensor:
    """Resize ``(B, C, H, W)`` to ``size × size``: area/bilinear for images, nearest for labels."""
    if x.shape[-2:] == (size, size):
        return x
    if mode == "labels":
        return F.interpolate(x, size=(size, size), mode="nearest-exact")
    if x.shape[-2] >= size and x.shape[-1] >= size:
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def cell_region(
    image: np.ndarray, segmentation: np.ndarray, margin: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """The segmented cell of an image, alone on black, in a square centred on it.

    The cell is every pixel labelled cytoplasm or nucleus (label > 0). Its bounding box, widened
    by ``margin`` pixels on each side (clipped to the image), is cut out; pixels of the box that
    are not cell are set to 0 (black) in the image and stay background in the segmentation; the
    box is centred in the smallest square that holds it, padded with black / background. A
    segmentation without any cell pixel returns the image and segmentation unchanged (nothing
    to extract; the classifier then sees the whole image).

    Parameters
    ----------
    image : (H, W, 3) uint8 array
    segmentation : (H, W) int array in {0, 1, 2}
    margin : int, default 6
        Pixels.

    Returns
    -------
    image : (s, s, 3) uint8 array, with s the longer side of the widened box
    segmentation : (s, s) array of the input's dtype
    """
    cell = segmentation > 0
    if not cell.any():
        return image, segmentation
    rows = np.flatnonzero(cell.any(axis=1))
    cols = np.flatnonzero(cell.any(axis=0))
    r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, cell.shape[0])
    c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, cell.shape[1])
    h, w = r1 - r0, c1 - c0
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    out_image = np.zeros((side, side, 3), dtype=image.dtype)
    out_seg = np.zeros((side, side), dtype=segmentation.dtype)
    keep = cell[r0:r1, c0:c1]
    out_image[top : top + h, left : left + w] = np.where(keep[..., None], image[r0:r1, c0:c1], 0)
    out_seg[top : top + h, left : left + w] = segmentation[r0:r1, c0:c1]
    return out_image, out_seg


def classifier_inputs(
    images: Sequence[np.ndarray],
    segmentations: Sequence[np.ndarray] | None = None,
    size: int = 150,
    region: Literal["whole", "cell"] = "whole",
    margin: int = 6,
) -> Tensor:
    """Stack images (and optionally their segmentations) into the classifier's input tensor.

    Channels 0–2 are the RGB image scaled from [0, 255] to [−1, 1] (a fixed affine map, so no
    statistic of any image set enters), resized with area averaging when shrinking and bilinear
    interpolation when enlarging. With ``segmentations``, channels 3–5 are their one-hot
    background / cytoplasm / nucleus indicators, resized by nearest neighbour so that they stay
    one-hot (they sum to 1 at every pixel). Non-square images are stretched to the square.

    Parameters
    ----------
    images : sequence of (H, W, 3) uint8 arrays
        Sizes may differ between images.
    segmentations : sequence of (H, W) int arrays in {0, 1, 2}, optional
        One label map per image, each the size of its image (ground truth or a model's argmax).
    size : int, default 150
        Side of the output in pixels.
    region : {"whole", "cell"}, default "whole"
        ``"cell"``: each image and its segmentation are first reduced to the segmented cell by
        :func:`cell_region` (needs ``segmentations``).
    margin : int, default 6
        :func:`cell_region`'s margin, pixels.

    Returns
    -------
    torch.Tensor
        ``(N, 3, size, size)`` or ``(N, 6, size, size)`` float32 on the CPU.
    """
    if region not in ("whole", "cell"):
        raise ValueError(f"region must be 'whole' or 'cell', not {region!r}")
    if region == "cell" and segmentations is None:
        raise ValueError("region='cell' needs segmentations to find the cell")
    if segmentations is not None and len(segmentations) != len(images):
        raise ValueError(f"{len(images)} images but {len(segmentations)} segmentations")
    if size < 1:
        raise ValueError(f"size must be >= 1, not {size}")
    channels = 3 if segmentations is None else 3 + _NUM_SEGMENTATION_LABELS
    out = torch.empty((len(images), channels, size, size), dtype=torch.float32)
    for i, image in enumerate(images):
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"image {i} must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
        seg = None
        if segmentations is not None:
            seg = np.asarray(segmentations[i])
            if seg.shape != img.shape[:2]:
                raise ValueError(
                    f"segmentation {i} has shape {seg.shape}, its image {img.shape[:2]}"
                )
            if not np.issubdtype(seg.dtype, np.integer):
                raise ValueError(f"segmentation {i} must hold integer labels, not {seg.dtype}")
            if seg.size and (seg.min() < 0 or seg.max() >= _NUM_SEGMENTATION_LABELS):
                raise ValueError(f"segmentation {i} has labels outside 0..2")
            if region == "cell":
                img, seg = cell_region(img, seg, margin)
        # a copy: arrays may be read-only
        rgb = torch.tensor(img).permute(2, 0, 1)[None].float() / 255.0
        out[i, :3] = _resize(rgb, size, "image")[0] * 2.0 - 1.0
        if seg is None:
            continue
        onehot = F.one_hot(torch.from_numpy(seg.astype(np.int64)), _NUM_SEGMENTATION_LABELS)
        onehot = onehot.permute(2, 0, 1)[None].float()
        out[i, 3:] = _resize(onehot, size, "labels")[0]
    return out


# --------------------------------------------------------------------------------------------
# training and prediction
# --------------------------------------------------------------------------------------------


def augment_dihedral(x: Tensor, rng: np.random.Generator) -> Tensor:
    """Apply a random flip/90°-rotation (one of the 8 symmetries of the square) to each sample.

    Cell type does not depend on orientation, so these transforms keep every label. For
    non-square inputs only the rotations by 0° and 180° are drawn (shapes are kept).

    Parameters
    ----------
    x : (B, C, H, W) tensor
    rng : numpy Generator
        Source of the random choices (so that augmentation is reproducible on any device).

    Returns
    -------
    (B, C, H, W) tensor
    """
    square = x.shape[-1] == x.shape[-2]
    turns = rng.integers(0, 4, size=x.shape[0]) if square else 2 * rng.integers(0, 2, x.shape[0])
    flips = rng.integers(0, 2, size=x.shape[0])
    out = []
    for sample, k, flip in zip(x, turns, flips, strict=True):
        y = torch.rot90(sample, int(k), dims=(1, 2)) if k else sample
        out.append(y.flip(2) if flip else y)
    return torch.stack(out)


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


def _targets(labels: Sequence[int] | np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Class labels → logit indices (position in ``classes``), rejecting unknown labels."""
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    lookup = {int(c): i for i, c in enumerate(classes)}
    unknown = sorted(set(np.unique(y).tolist()) - set(lookup))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {tuple(classes)}")
    return np.array([lookup[int(v)] for v in y], dtype=np.int64)


def train_classifier(
    x_train: Tensor,
    y_train: Sequence[int] | np.ndarray,
    config: ClassifierConfig | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
) -> tuple[LightResNet, dict[str, list[float]]]:
    """Train a :class:`LightResNet` on ``(x_train, y_train)`` for a fixed number of epochs.

    Cross-entropy (with balanced class weights by default), Adam, learning rate decayed by a
    cosine per step, random flips and 90° rotations of every image at every step. The model of
    the last epoch is returned in eval mode; no data other than the training set is looked at.

    Parameters
    ----------
    x_train : (N, C, H, W) float tensor
        From :func:`classifier_inputs` (C = 3 or 6).
    y_train : (N,) int array
        Labels, each one of ``config.classes``.
    config : ClassifierConfig, optional
        Defaults to ``ClassifierConfig()``.
    device : torch.device or str, default "cpu"
        Where to train; the returned model lives there.
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
    """
    cfg = config if config is not None else ClassifierConfig()
    if x_train.ndim != 4:
        raise ValueError(f"x_train must be (N, C, H, W), got {tuple(x_train.shape)}")
    targets = _targets(y_train, cfg.classes)
    n = x_train.shape[0]
    if n != targets.size or n == 0:
        raise ValueError(f"{n} inputs but {targets.size} labels (need at least one of each)")
    device = torch.device(device)
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
    scheduler = None
    if cfg.lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimiser, T_max=total_steps, eta_min=cfg.lr / 100
        )
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "lr": [], "seconds": []}
    model.train()
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        loss_sum = weight_sum = 0.0
        correct = 0
        for batch in np.array_split(rng.permutation(n), n_batches):
            idx = torch.from_numpy(batch).to(device)
            xb, yb = x_all[idx], y_all[idx]
            if cfg.augment:
                xb = augment_dihedral(xb, rng)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, weight=weight)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            w = float(weight[yb].sum()) if weight is not None else float(len(batch))
            loss_sum += float(loss.detach()) * w
            weight_sum += w
            correct += int((logits.detach().argmax(1) == yb).sum())
        history["loss"].append(loss_sum / max(weight_sum, 1e-12))
        history["accuracy"].append(correct / n)
        history["lr"].append(float(optimiser.param_groups[0]["lr"]))
        history["seconds"].append(time.perf_counter() - start)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "epoch %d/%d loss %.4f acc %.3f",
                epoch + 1,
                cfg.epochs,
                history["loss"][-1],
                history["accuracy"][-1],
            )
    model.eval()
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


# --------------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------------


def _name_mapping(
    class_names: Mapping[int, str] | Sequence[str] | None,
) -> dict[int, str]:
    if class_names is None:
        return dict(CELL_TYPES)
    if isinstance(class_names, Mapping):
        return {int(k): str(v) for k, v in class_names.items()}
    return {i + 1: str(name) for i, name in enumerate(class_names)}


def classification_report(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Confusion matrix with per-class and overall accuracy, laid out like the paper's Tables 4–5.

    Parameters
    ----------
    y_true, y_pred : (N,) int arrays
        True and predicted labels.
    class_names : mapping label → name, or sequence of names, optional
        A mapping fixes the labels and their row/column order (e.g.
        ``{k: CELL_TYPES[k] for k in PAPER_CLASS_ORDER}`` for the paper's alphabetical order); a
        sequence names the labels 1, 2, …; default :data:`CELL_TYPES` (labels 1–5 in order).
        Every label in ``y_true`` and ``y_pred`` must be named.

    Returns
    -------
    confusion : DataFrame
        Rows: the true classes, then ``"Overall Accuracy"``; columns: ``"Recognized <name>"``
        (counts, nullable Int64, empty in the last row), then ``"Accuracy"`` (float in [0, 1]:
        the row's recall, NaN for a class absent from ``y_true``; the overall accuracy in the last
        row).
    numbers : dict
        ``overall_accuracy``, ``balanced_accuracy`` (mean recall over the classes present),
        ``n_samples``, ``n_correct``, ``per_class_accuracy`` (name → recall or NaN),
        ``support`` (name → count), ``matrix`` (the count matrix as nested lists, rows true).
    """
    names = _name_mapping(class_names)
    labels = list(names)
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred {p.size}")
    t_idx = _targets(t, labels)
    p_idx = _targets(p, labels)
    k = len(labels)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (t_idx, p_idx), 1)
    support = matrix.sum(1)
    diag = np.diag(matrix)
    recall = np.full(k, np.nan)
    recall[support > 0] = diag[support > 0] / support[support > 0]
    n = int(matrix.sum())
    overall = float(diag.sum() / n) if n else float("nan")
    row_names = [names[c] for c in labels]
    columns = [f"Recognized {name}" for name in row_names]
    confusion = pd.DataFrame(
        np.vstack([matrix, np.zeros((1, k), dtype=np.int64)]),
        index=[*row_names, "Overall Accuracy"],
        columns=columns,
    ).astype("Int64")
    confusion.iloc[k, :] = pd.NA
    confusion["Accuracy"] = np.append(recall, overall)
    confusion.index.name = "True class"
    numbers: dict[str, Any] = {
        "overall_accuracy": overall,
        "balanced_accuracy": float(np.nanmean(recall)) if (support > 0).any() else float("nan"),
        "n_samples": n,
        "n_correct": int(diag.sum()),
        "per_class_accuracy": dict(zip(row_names, recall.tolist(), strict=True)),
        "support": dict(zip(row_names, support.tolist(), strict=True)),
        "matrix": matrix.tolist(),
    }
    return confusion, numbers


def format_confusion(confusion: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The confusion table as strings, like the paper: counts, ``"92.00%"``, ``"-"`` when empty.

    Parameters
    ----------
    confusion : DataFrame
        From :func:`classification_report`.
    digits : int, default 2
        Decimals of the percentages.

    Returns
    -------
    DataFrame of str
    """
    out = confusion.astype(object).copy()
    for column in confusion.columns:
        values = confusion[column]
        if column == "Accuracy":
            out[column] = ["-" if pd.isna(v) else f"{100 * v:.{digits}f}%" for v in values]
        else:
            out[column] = ["-" if pd.isna(v) else str(int(v)) for v in values]
    return out


def plot_confusion(
    confusion: pd.DataFrame,
    title: str | None = None,
    ax: Any = None,
    cmap: str = "Blues",
) -> Any:
    """Draw a confusion table from :func:`classification_report` as an annotated heat map.

    Cells are coloured by the share of their row (recall-normalised) and show the counts; the
    row labels carry the per-class accuracy, the title the overall accuracy.

    Parameters
    ----------
    confusion : DataFrame
        From :func:`classification_report`.
    title : str, optional
        Prefix of the title (the overall accuracy is appended).
    ax : matplotlib Axes, optional
        Axes to draw on; a new 4.5×4 inch figure otherwise.
    cmap : str, default "Blues"

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.0))
    count_cols = [c for c in confusion.columns if c != "Accuracy"]
    rows = [r for r in confusion.index if r != "Overall Accuracy"]
    counts = confusion.loc[rows, count_cols].to_numpy(dtype=np.float64)
    totals = counts.sum(1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    ax.imshow(share, cmap=cmap, vmin=0.0, vmax=1.0)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", color=colour)
    accuracy = confusion["Accuracy"]
    ax.set_xticks(range(len(count_cols)))
    ax.set_xticklabels([c.removeprefix("Recognized ") for c in count_cols], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [f"{r} ({'-' if pd.isna(accuracy[r]) else f'{100 * accuracy[r]:.0f}%'})" for r in rows]
    )
    ax.set_xlabel("Recognized")
    ax.set_ylabel("True (accuracy)")
    overall = accuracy.get("Overall Accuracy", float("nan"))
    suffix = f"overall {100 * overall:.2f}%" if not pd.isna(overall) else ""
    ax.set_title(f"{title}: {suffix}" if title else suffix)
    return ax


# --------------------------------------------------------------------------------------------
# the experiment
# --------------------------------------------------------------------------------------------


def run_cell_type_experiment(
    dataset: SegmentationDataset,
    segmentations_by_source: Mapping[str, Sequence[np.ndarray] | None],
    config: ClassifierConfig | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
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
    device : torch.device or str, default "cpu"
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
