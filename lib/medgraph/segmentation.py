"""Segmentation experiments: data preparation, training, prediction and scoring (notebook 02).

The experiment of the SMGNN paper (Jiang et al., MBE 2024, §3, §4.1–4.4, Algorithm 1), as small
functions over :mod:`medgraph.data`, :mod:`medgraph.graphs`, :mod:`medgraph.models`,
:mod:`medgraph.losses`, :mod:`medgraph.metrics` and the loop of :mod:`medgraph.training`:

1. **Padding.** Images of one data set may differ in size (wbc1: 88–120 px a side). Every image
   is reflect-padded, evenly on both sides, to the largest height and width of the data set;
   the padded pixels of the mask get :data:`IGNORE_INDEX`, so they count neither in the Dice
   loss (``valid`` of :func:`medgraph.losses.dice_loss`), nor in the node labels of the metric
   loss and the pure-GNN cross-entropy (class fractions over valid pixels only), nor in any
   score: predictions are cropped back to the original image before they are scored.
2. **Superpixels and graphs.** SNIC label maps (mean area S = 16 px by default) of the padded
   images are computed once per image through :func:`medgraph.graphs.cached_superpixels` (on
   disk when a cache folder is given), and the per-image graphs (node features, L1-radius edges
   with α·√S, S measured per image as H·W/K) once per run; a mini-batch collates them into one
   large graph (PyG ``Batch``) with globally offset label maps (:class:`SuperpixelBatch`).
3. **Normalisation** (``normalize="standard"``, the default): image channels and the five node
   features are standardised with the mean and standard deviation of the *training* split
   (valid pixels; all training nodes). ``"unit"`` keeps images in [0, 1] and the raw features.
4. **Augmentation** (``augment=True``): each training image gets a random element of the
   dihedral group of the square (identity, flips, 90° rotations; flips only for non-square
   padded images). The same transform is applied to the image, the mask and the SNIC label map,
   so the superpixels are exactly those of the transformed image; node colours are unchanged,
   node positions are transformed exactly, and the edges are unchanged because L1 distances
   between centroids are invariant under these transforms (the test suite checks this against
   rebuilding the graph from the transformed image).
5. **Models and losses.** ``"smgnn"`` (GIN + CNN head), ``"smgnn_gcn"``, ``"smgnn_gat"``:
   Dice loss + λ·superpixel metric loss (Eq 3.3) with anchors and references drawn across all
   images of the batch; ``"pure_gnn"`` (Fig 10): node classifier trained with cross-entropy on
   the majority labels (Eqs 4.1, 4.2), plus λ·metric loss when λ > 0; the pixel baselines
   (``"unet"``, ``"attention_unet"``, ``"unet++"``, ``"swin_unet"``) use the same Dice loss,
   data, split and epoch budget.
6. **Selection.** The epoch with the best validation mean Dice (three classes, per image, then
   over images) is kept; the test split is predicted once, with those weights.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch, Data

from medgraph.data.dataset import LABEL_NAMES, SegmentationDataset
from medgraph.graphs import (
    SuperpixelBatch,
    build_superpixel_graphs,
    compute_label_maps,
    node_metric_score,
)
from medgraph.losses import SuperpixelMetricLoss, dice_loss
from medgraph.metrics import dice_per_class, segmentation_scores
from medgraph.models import SMGNN, build_baseline, count_parameters
from medgraph.reporting import git_revision
from medgraph.training import History, fit, seed_everything, select_device

__all__ = [
    "IGNORE_INDEX",
    "NODE_IGNORE",
    "MODEL_NAMES",
    "GRAPH_MODELS",
    "BASELINE_MODELS",
    "SegmentationConfig",
    "Preprocessing",
    "PreparedImages",
    "SegmentationBatch",
    "SegmentationRun",
    "pad_to_shape",
    "common_shape",
    "prepare_images",
    "fit_preprocessing",
    "make_batch",
    "dihedral_ops",
    "transform_array",
    "transform_graph",
    "invert_array",
    "build_segmentation_model",
    "train_segmentation",
    "training_provenance",
    "predict",
    "predict_prepared",
    "mean_dice",
    "evaluate_segmentation",
    "summarize_segmentation",
]

#: Mask value of padded pixels: they count in no loss and no score.
IGNORE_INDEX = 255
#: Node label of superpixels with no valid pixel (``torch.nn.functional.cross_entropy`` skips it).
NODE_IGNORE = -100

#: model name -> (graph layer, head) of :class:`~medgraph.models.SMGNN`
GRAPH_MODELS: dict[str, tuple[str, str]] = {
    "smgnn": ("gin", "cnn"),
    "smgnn_gcn": ("gcn", "cnn"),
    "smgnn_gat": ("gat", "cnn"),
    "pure_gnn": ("gin", "none"),
}
BASELINE_MODELS: tuple[str, ...] = ("unet", "attention_unet", "unet++", "swin_unet")
MODEL_NAMES: tuple[str, ...] = (*GRAPH_MODELS, *BASELINE_MODELS)

#: A transform of the dihedral group: (transpose, flip rows, flip columns), applied in that order.
Op = tuple[bool, bool, bool]
IDENTITY: Op = (False, False, False)


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------


@dataclass
class SegmentationConfig:
    """Settings of one training run.

    The defaults are the SMGNN setting calibrated on wbc1 (80/10/10 split, seed 0, CPU): 150
    epochs of batches of 8, Adam at 1e-2 with 3 warm-up epochs and cosine decay, standardised
    inputs, dihedral augmentation, λ = 0.1 with 1024 anchors × 1024 references, SNIC S = 16,
    α = 2, the model's default widths (6,998 parameters).

    Attributes
    ----------
    epochs : int
        Epoch budget (the same for every model of a comparison).
    batch_size : int
        Images per mini-batch (their graphs are batched into one large graph).
    lr : float or None
        Adam learning rate; None picks 1e-2 for the graph models and 1e-3 for the baselines.
    weight_decay : float
        Adam's L2 penalty.
    lam : float
        λ of Eq 3.3 (metric-loss weight); the paper's 0.1. For ``pure_gnn`` λ > 0 adds the metric
        loss to the cross-entropy, λ = 0 trains it without.
    n_anchors, n_refs : int or None
        Anchors and references of the metric loss, drawn across all nodes of the batch (None:
        all nodes).
    scale : float
        Mean superpixel area S in pixels (the paper's 16).
    alpha : float
        Edge radius factor α (the radius is α·√S, S measured per image).
    superpixels : {"snic", "slic"}
    compactness : float
        Superpixel compactness m.
    patience : int or None
        Early-stopping patience in epochs on the validation Dice (None: run every epoch).
    baseline_size : {"small", "paper"}
        Width of the pixel baselines (:func:`medgraph.models.build_baseline`).
    baseline_options : dict or None
        Constructor overrides of the baseline (e.g. ``{"base": 4, "depth": 2}`` for a tiny U-Net).
    schedule : {"cosine", "plateau", "constant"}
        Learning-rate schedule of :func:`medgraph.training.fit`.
    warmup_epochs : float
        Linear warm-up length of the cosine schedule.
    min_lr_factor : float
        Final learning rate of the cosine schedule, as a fraction of ``lr``.
    normalize : {"standard", "unit"}
        Input normalisation (see the module notes).
    augment : bool
        Random flips / 90° rotations of training images, masks and label maps.
    tta : bool
        Average the softmax over the eight flips/rotations when predicting the test split (and
        in :func:`predict`); validation, which selects the epoch, always uses the plain forward.
    hidden, embedding_dim, num_layers, cnn_hidden, gat_heads : int
        Widths of :class:`~medgraph.models.SMGNN` (the model's own defaults: 16, 16, 3, 16, 1).
    cnn_dilation : int or list of three int
        Dilations of the SMGNN head's three 3×3 convolutions (1: the plain 7 × 7-pixel head;
        ``[1, 2, 4]``: a 15 × 15 receptive field, same parameters).
    grad_clip : float or None
        Maximum gradient norm.
    num_classes : int
    eval_batch_size : int
        Images per forward pass when predicting.
    cache_dir : str or None
        Folder of the superpixel cache (None: computed in memory, once per run).
    checkpoint : str or None
        Where :func:`medgraph.training.fit` saves the best weights at the end.
    resume : str or None
        The resume state of :func:`medgraph.training.fit` (written after every epoch, continued
        from when it exists), so that a run killed part-way is finished by calling
        :func:`train_segmentation` again; the shuffling, augmentation and metric-loss streams are
        part of it. Not part of the result: a resumed run ends as one trained in one go.
    progress : bool
        tqdm progress bars.
    """

    epochs: int = 150
    batch_size: int = 8
    lr: float | None = None
    weight_decay: float = 0.0
    lam: float = 0.1
    n_anchors: int | None = 1024
    n_refs: int | None = 1024
    scale: float = 16.0
    alpha: float = 2.0
    superpixels: str = "snic"
    compactness: float = 10.0
    patience: int | None = None
    baseline_size: Literal["small", "paper"] = "small"
    baseline_options: dict[str, Any] | None = None
    schedule: Literal["cosine", "plateau", "constant"] = "cosine"
    warmup_epochs: float = 3.0
    min_lr_factor: float = 0.01
    normalize: Literal["standard", "unit"] = "standard"
    augment: bool = True
    tta: bool = False
    hidden: int = 16
    embedding_dim: int = 16
    num_layers: int = 3
    cnn_hidden: int = 16
    gat_heads: int = 1
    cnn_dilation: int | list[int] = 1
    grad_clip: float | None = 5.0
    num_classes: int = 3
    eval_batch_size: int = 32
    cache_dir: str | None = None
    checkpoint: str | None = None
    resume: str | None = None
    progress: bool = True

    @classmethod
    def from_any(
        cls, config: SegmentationConfig | Mapping[str, Any] | None = None, **overrides: Any
    ) -> SegmentationConfig:
        """A config from None, a dict or a config, with keyword overrides (unknown keys raise)."""
        if config is None:
            values: dict[str, Any] = {}
        elif isinstance(config, SegmentationConfig):
            values = dataclasses.asdict(config)
        else:
            values = dict(config)
        values.update(overrides)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown segmentation config keys {unknown}; known: {sorted(known)}")
        return cls(**values)

    def learning_rate(self, model_name: str) -> float:
        """``lr``, or the default for the model family."""
        if self.lr is not None:
            return float(self.lr)
        return 1e-2 if model_name in GRAPH_MODELS else 1e-3

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------
# padding
# --------------------------------------------------------------------------------------------


def common_shape(images: Sequence[np.ndarray]) -> tuple[int, int]:
    """Largest height and largest width over a list of (H, W, …) arrays."""
    if not len(images):
        raise ValueError("need at least one image")
    return max(int(im.shape[0]) for im in images), max(int(im.shape[1]) for im in images)


def pad_to_shape(
    array: np.ndarray, shape: tuple[int, int], fill: int | None = None
) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad the first two axes of an array up to ``shape``, evenly on both sides.

    Parameters
    ----------
    array : (H, W) or (H, W, C) array
    shape : (H', W') with ``H' ≥ H`` and ``W' ≥ W``
    fill : int, optional
        None: reflect padding (``numpy.pad(mode="reflect")``, the image continues as its mirror
        image; larger pads reflect repeatedly). A number: constant padding with it (masks get
        :data:`IGNORE_INDEX`).

    Returns
    -------
    padded : (H', W', …) array of the same dtype
    offset : (top, left)
        Where the original array starts; ``padded[top:top + H, left:left + W]`` is ``array``.
    """
    h, w = array.shape[:2]
    ph, pw = int(shape[0]) - h, int(shape[1]) - w
    if ph < 0 or pw < 0:
        raise ValueError(f"cannot pad an array of shape {array.shape[:2]} to {tuple(shape)}")
    top, left = ph // 2, pw // 2
    widths = [(top, ph - top), (left, pw - left)] + [(0, 0)] * (array.ndim - 2)
    if ph == 0 and pw == 0:
        return array, (0, 0)
    if fill is None:
        mode = "reflect" if min(h, w) > 1 else "edge"
        return np.pad(array, widths, mode=mode), (top, left)
    return np.pad(array, widths, mode="constant", constant_values=fill), (top, left)


# --------------------------------------------------------------------------------------------
# dihedral transforms
# --------------------------------------------------------------------------------------------


def dihedral_ops(square: bool = True) -> list[Op]:
    """The transforms used for augmentation and test-time averaging.

    Returns
    -------
    list of (transpose, flip_rows, flip_cols)
        All eight elements of the dihedral group of the square (identity first) when
        ``square``; otherwise the four that keep the shape (identity and flips).
    """
    transposes = (False, True) if square else (False,)
    return [(t, r, c) for t in transposes for r in (False, True) for c in (False, True)]


def transform_array(array: np.ndarray | torch.Tensor, op: Op, channels_last: bool = True) -> Any:
    """Apply a dihedral transform to an image, mask or label map.

    Parameters
    ----------
    array : numpy array or tensor
        ``(H, W, …)`` when ``channels_last`` else ``(…, H, W)``.
    op : (transpose, flip_rows, flip_cols)
        Applied in this order.
    channels_last : bool, default True

    Returns
    -------
    The transformed array (a view for numpy, a copy for torch).
    """
    transpose, flip_r, flip_c = op
    ra, ca = (0, 1) if channels_last else (-2, -1)
    is_torch = isinstance(array, torch.Tensor)
    out = array
    if transpose:
        out = out.transpose(ra, ca) if is_torch else np.swapaxes(out, ra, ca)
    if flip_r:
        out = torch.flip(out, (ra,)) if is_torch else np.flip(out, ra)
    if flip_c:
        out = torch.flip(out, (ca,)) if is_torch else np.flip(out, ca)
    return out


def invert_array(array: torch.Tensor, op: Op) -> torch.Tensor:
    """Undo :func:`transform_array` on a (…, H, W) tensor (flips first, then the transpose)."""
    transpose, flip_r, flip_c = op
    out = array
    if flip_c:
        out = torch.flip(out, (-1,))
    if flip_r:
        out = torch.flip(out, (-2,))
    if transpose:
        out = out.transpose(-2, -1)
    return out


def transform_graph(data: Data, op: Op, shape: tuple[int, int]) -> Data:
    """The superpixel graph of a transformed image, from the graph of the original.

    Node colours, class fractions and edges are unchanged (the superpixels are the same sets of
    pixels, moved; L1 distances between centroids are invariant under flips and transposition).
    The normalised positions (columns 3, 4 of ``x``: row, col in (0, 1)) and the pixel centroids
    ``pos`` are transformed exactly.

    Parameters
    ----------
    data : Data
        One image's graph with ``x`` (K, 5) and ``pos`` (K, 2).
    op : (transpose, flip_rows, flip_cols)
    shape : (H, W)
        Image size before the transform, in pixels.

    Returns
    -------
    Data, a shallow copy with new ``x`` and ``pos``.
    """
    transpose, flip_r, flip_c = op
    if op == IDENTITY:
        return data
    x, pos = data.x.clone(), data.pos.clone()
    height, width = shape
    if transpose:
        x[:, [3, 4]] = x[:, [4, 3]]
        pos = pos[:, [1, 0]]
        height, width = width, height
    if flip_r:
        x[:, 3] = 1.0 - x[:, 3]
        pos[:, 0] = (height - 1) - pos[:, 0]
    if flip_c:
        x[:, 4] = 1.0 - x[:, 4]
        pos[:, 1] = (width - 1) - pos[:, 1]
    out = Data(**dict(data.items()))
    out.x, out.pos = x, pos
    return out


# --------------------------------------------------------------------------------------------
# preparation
# --------------------------------------------------------------------------------------------


@dataclass
class Preprocessing:
    """Everything needed to turn raw images into model inputs (stored with a run).

    Attributes
    ----------
    model_name : str
    pad_shape : (H, W)
        Images smaller than this are reflect-padded up to it (larger ones keep their size).
    image_mean, image_std : (3,) float arrays
        Per-channel statistics of images scaled to [0, 1] (0 and 1 for ``normalize="unit"``).
    node_mean, node_std : (5,) float arrays or None
        Statistics of the node features (None: raw features).
    superpixels, scale, compactness, alpha
        Over-segmentation and graph settings.
    cache_dir : str or None
    num_classes : int
    """

    model_name: str
    pad_shape: tuple[int, int]
    image_mean: np.ndarray
    image_std: np.ndarray
    node_mean: np.ndarray | None = None
    node_std: np.ndarray | None = None
    superpixels: str = "snic"
    scale: float = 16.0
    compactness: float = 10.0
    alpha: float = 2.0
    cache_dir: str | None = None
    num_classes: int = 3

    @property
    def uses_graphs(self) -> bool:
        """Whether the model needs superpixel graphs."""
        return self.model_name in GRAPH_MODELS


@dataclass
class PreparedImages:
    """Padded images with their masks, label maps and per-image graphs.

    Attributes
    ----------
    images : (N, H, W, 3) uint8 array
        Reflect-padded images.
    masks : (N, H, W) uint8 array or None
        Padded masks, :data:`IGNORE_INDEX` on the padding.
    crops : (N, 4) int64 array
        ``top, left, height, width`` of each original image inside the padded one.
    ids : list of str
    label_maps : (N, H, W) int32 array or None
        Per-image superpixel labels ``0 … K_n − 1`` of the padded images.
    graphs : list of N Data or None
        ``x`` (K, 5) features, ``edge_index``, ``pos`` (K, 2) centroids in pixels, and with masks
        ``fractions`` (K, C) class fractions over valid pixels, ``valid`` (K,) whether the node
        holds a valid pixel, ``y`` (K,) majority class (:data:`NODE_IGNORE` if not valid) and
        ``score`` (K,) metric score (:func:`medgraph.graphs.node_metric_score`).
    thresholds : (N,) float array or None
        Edge radius α·√S of each image, in pixels.
    """

    images: np.ndarray
    masks: np.ndarray | None
    crops: np.ndarray
    ids: list[str]
    label_maps: np.ndarray | None = None
    graphs: list[Data] | None = None
    thresholds: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """Padded (H, W)."""
        return int(self.images.shape[1]), int(self.images.shape[2])

    def crop(self, array: np.ndarray, index: int) -> np.ndarray:
        """The part of a padded (H, W, …) array that covers the original image ``index``."""
        top, left, h, w = (int(v) for v in self.crops[index])
        return array[top : top + h, left : left + w]


def _valid_node_labels(
    masks: np.ndarray, global_maps: torch.Tensor, num_nodes: int, num_classes: int
) -> dict[str, torch.Tensor]:
    """Class fractions over the valid pixels of every node (Eq 2.1 restricted to the image)."""
    m = torch.from_numpy(np.ascontiguousarray(masks)).long()
    valid = m != IGNORE_INDEX
    classes = torch.where(valid, m, torch.zeros_like(m))
    if int(classes.max()) >= num_classes:
        raise ValueError(f"masks hold classes outside 0..{num_classes - 1}")
    onehot = F.one_hot(classes, num_classes).float() * valid[..., None]
    counts = torch.zeros(num_nodes, num_classes).index_add_(
        0, global_maps.reshape(-1).cpu(), onehot.reshape(-1, num_classes)
    )
    n_valid = counts.sum(1)
    ok = n_valid > 0
    fractions = counts / n_valid.clamp_min(1.0)[:, None]
    y = torch.where(
        ok, fractions.argmax(1), torch.full_like(n_valid, NODE_IGNORE, dtype=torch.long)
    )
    return {"fractions": fractions, "valid": ok, "y": y, "score": node_metric_score(fractions)}


def prepare_images(
    images: Sequence[np.ndarray],
    masks: Sequence[np.ndarray] | None,
    preprocessing: Preprocessing,
    ids: Sequence[str] | None = None,
    shape: tuple[int, int] | None = None,
    chunk: int = 32,
) -> PreparedImages:
    """Pad images (and masks) and, for graph models, compute label maps and graphs once.

    Parameters
    ----------
    images : list of (H_n, W_n, 3) uint8 arrays
    masks : list of (H_n, W_n) integer class maps, or None (prediction)
    preprocessing : Preprocessing
        Pad shape and superpixel settings.
    ids : list of str, optional
    shape : (H, W), optional
        Padded size; default ``preprocessing.pad_shape``. Every image must fit.
    chunk : int, default 32
        Images per call of :func:`medgraph.graphs.build_superpixel_graphs`.

    Returns
    -------
    PreparedImages
    """
    n = len(images)
    if n == 0:
        raise ValueError("need at least one image")
    if masks is not None and len(masks) != n:
        raise ValueError(f"got {len(masks)} masks for {n} images")
    target = tuple(shape) if shape is not None else tuple(preprocessing.pad_shape)
    padded, padded_masks, crops = [], [], []
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"image {i}: expected (H, W, 3) uint8, got {image.shape} {image.dtype}"
            )
        img_p, (top, left) = pad_to_shape(image, target)
        padded.append(img_p)
        crops.append((top, left, image.shape[0], image.shape[1]))
        if masks is not None:
            mask = np.asarray(masks[i])
            if mask.shape != image.shape[:2]:
                raise ValueError(f"mask {i} of shape {mask.shape} does not match its image")
            padded_masks.append(pad_to_shape(mask.astype(np.uint8), target, IGNORE_INDEX)[0])
    prepared = PreparedImages(
        images=np.stack(padded),
        masks=np.stack(padded_masks) if masks is not None else None,
        crops=np.asarray(crops, dtype=np.int64),
        ids=[str(i) for i in ids] if ids is not None else [str(i) for i in range(n)],
    )
    if not preprocessing.uses_graphs:
        return prepared

    label_maps = np.stack(
        compute_label_maps(
            list(prepared.images),
            preprocessing.superpixels,
            preprocessing.scale,
            preprocessing.cache_dir,
            compactness=preprocessing.compactness,
        )
    ).astype(np.int32)
    graphs: list[Data] = []
    thresholds: list[float] = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        sb = build_superpixel_graphs(
            prepared.images[start:stop], label_maps[start:stop], alpha=preprocessing.alpha
        )
        parts = sb.graph.to_data_list()
        if prepared.masks is not None:
            extra = _valid_node_labels(
                prepared.masks[start:stop], sb.label_maps, sb.num_nodes, preprocessing.num_classes
            )
            sizes = sb.counts.tolist()
            split = {k: torch.split(v, sizes) for k, v in extra.items()}
            for b, part in enumerate(parts):
                for key, values in split.items():
                    part[key] = values[b]
        graphs.extend(parts)
        thresholds.extend(sb.thresholds.tolist())
    prepared.label_maps = label_maps
    prepared.graphs = graphs
    prepared.thresholds = np.asarray(thresholds, dtype=np.float64)
    return prepared


def _identity_preprocessing(
    model_name: str, config: SegmentationConfig, pad_shape: tuple[int, int]
) -> Preprocessing:
    """Preprocessing with the config's superpixel settings and no normalisation."""
    return Preprocessing(
        model_name=model_name,
        pad_shape=(int(pad_shape[0]), int(pad_shape[1])),
        image_mean=np.zeros(3),
        image_std=np.ones(3),
        superpixels=config.superpixels,
        scale=float(config.scale),
        compactness=float(config.compactness),
        alpha=float(config.alpha),
        cache_dir=config.cache_dir,
        num_classes=config.num_classes,
    )


def fit_preprocessing(
    model_name: str,
    train: PreparedImages,
    config: SegmentationConfig,
    pad_shape: tuple[int, int],
) -> Preprocessing:
    """Normalisation statistics of the training split (valid pixels; all nodes).

    Parameters
    ----------
    model_name : str
    train : PreparedImages
        The training images, padded (with graphs for graph models).
    config : SegmentationConfig
    pad_shape : (H, W)

    Returns
    -------
    Preprocessing
    """
    pre = _identity_preprocessing(model_name, config, pad_shape)
    if config.normalize == "unit":
        return pre
    if config.normalize != "standard":
        raise ValueError(f"normalize must be 'standard' or 'unit', got {config.normalize!r}")
    pixels = train.images.reshape(-1, 3).astype(np.float64) / 255.0
    if train.masks is not None:
        pixels = pixels[train.masks.reshape(-1) != IGNORE_INDEX]
    pre.image_mean = pixels.mean(0)
    pre.image_std = np.maximum(pixels.std(0), 1e-6)
    if train.graphs is not None:
        x = torch.cat([g.x for g in train.graphs]).double()
        pre.node_mean = x.mean(0).numpy()
        pre.node_std = x.std(0).clamp_min(1e-6).numpy()
    return pre


# --------------------------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------------------------


@dataclass
class SegmentationBatch:
    """One mini-batch on a device.

    Attributes
    ----------
    images : (B, 3, H, W) float tensor
        Normalised images.
    target : (B, H, W) int64 tensor or None
        Classes, :data:`IGNORE_INDEX` on padding.
    valid : (B, H, W) bool tensor or None
        Pixels that count (not padding).
    graph : SuperpixelBatch or None
        For graph models: the batched graph (normalised ``x``) and global label maps.
    index : (B,) int64 array
        Positions of the images in their :class:`PreparedImages`.
    ops : list of B transforms applied
    """

    images: torch.Tensor
    target: torch.Tensor | None
    valid: torch.Tensor | None
    graph: SuperpixelBatch | None
    index: np.ndarray
    ops: list[Op]


def make_batch(
    prepared: PreparedImages,
    index: Sequence[int] | np.ndarray,
    preprocessing: Preprocessing,
    ops: Sequence[Op] | None = None,
    device: torch.device | str = "cpu",
) -> SegmentationBatch:
    """Collate images (transformed by ``ops``) into model inputs.

    Parameters
    ----------
    prepared : PreparedImages
    index : (B,) ints
        Which images.
    preprocessing : Preprocessing
        Normalisation statistics.
    ops : list of B dihedral transforms, optional
        Default: identity for all.
    device : torch device

    Returns
    -------
    SegmentationBatch
    """
    idx = np.asarray(index, dtype=np.int64).reshape(-1)
    ops = [IDENTITY] * len(idx) if ops is None else [tuple(op) for op in ops]  # type: ignore[misc]
    if len(ops) != len(idx):
        raise ValueError(f"got {len(ops)} transforms for {len(idx)} images")
    shape = prepared.shape
    imgs = np.stack(
        [transform_array(prepared.images[i], op) for i, op in zip(idx, ops, strict=True)]
    )
    mean = torch.as_tensor(preprocessing.image_mean, dtype=torch.float32)
    std = torch.as_tensor(preprocessing.image_std, dtype=torch.float32)
    images = (torch.from_numpy(imgs).float() / 255.0 - mean) / std
    images = images.permute(0, 3, 1, 2).contiguous().to(device)
    target = valid = None
    if prepared.masks is not None:
        masks = np.stack(
            [transform_array(prepared.masks[i], op) for i, op in zip(idx, ops, strict=True)]
        )
        target = torch.from_numpy(masks).long().to(device)
        valid = target != IGNORE_INDEX
    graph = None
    if preprocessing.uses_graphs:
        if prepared.graphs is None or prepared.label_maps is None:
            raise ValueError("graph models need prepared graphs (prepare_images with graphs)")
        parts = [
            transform_graph(prepared.graphs[i], op, shape) for i, op in zip(idx, ops, strict=True)
        ]
        batch = Batch.from_data_list(parts)
        counts = torch.tensor([p.num_nodes for p in parts], dtype=torch.long)
        offsets = torch.cumsum(counts, 0) - counts
        maps = np.stack(
            [transform_array(prepared.label_maps[i], op) for i, op in zip(idx, ops, strict=True)]
        )
        global_maps = torch.from_numpy(maps).long() + offsets[:, None, None]
        if preprocessing.node_mean is not None and preprocessing.node_std is not None:
            node_mean = torch.as_tensor(preprocessing.node_mean, dtype=batch.x.dtype)
            node_std = torch.as_tensor(preprocessing.node_std, dtype=batch.x.dtype)
            batch.x = (batch.x - node_mean) / node_std
        thresholds = (
            torch.as_tensor(prepared.thresholds[idx], dtype=torch.float64)
            if prepared.thresholds is not None
            else torch.full((len(idx),), float("nan"), dtype=torch.float64)
        )
        graph = SuperpixelBatch(batch, global_maps, counts, thresholds).to(device)
    return SegmentationBatch(images, target, valid, graph, idx, list(ops))


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------


def build_segmentation_model(model_name: str, config: SegmentationConfig) -> nn.Module:
    """The network of a model name.

    Parameters
    ----------
    model_name : one of :data:`MODEL_NAMES`
    config : SegmentationConfig
        Widths of SMGNN; size of the baselines.

    Returns
    -------
    nn.Module
        :class:`~medgraph.models.SMGNN` for the graph models, a baseline of
        :func:`~medgraph.models.build_baseline` otherwise.
    """
    if model_name in GRAPH_MODELS:
        gnn, head = GRAPH_MODELS[model_name]
        return SMGNN(
            hidden=config.hidden,
            embedding_dim=config.embedding_dim,
            num_layers=config.num_layers,
            cnn_hidden=config.cnn_hidden,
            num_classes=config.num_classes,
            gnn=gnn,  # type: ignore[arg-type]
            head=head,  # type: ignore[arg-type]
            gat_heads=config.gat_heads,
            cnn_dilation=config.cnn_dilation,
        )
    if model_name in BASELINE_MODELS:
        return build_baseline(
            model_name,
            num_classes=config.num_classes,
            size=config.baseline_size,
            **(config.baseline_options or {}),
        )
    raise ValueError(f"unknown model {model_name!r}; choose one of {list(MODEL_NAMES)}")


def _forward_probs(model: nn.Module, model_name: str, batch: SegmentationBatch) -> torch.Tensor:
    """Class probabilities (B, C, H, W) of a batch."""
    if model_name in GRAPH_MODELS:
        images = None if GRAPH_MODELS[model_name][1] == "none" else batch.images
        logits, _ = model(images, batch.graph)
    else:
        logits = model(batch.images)
    return logits.softmax(1)


# --------------------------------------------------------------------------------------------
# prediction
# --------------------------------------------------------------------------------------------


def predict_prepared(
    model: nn.Module,
    preprocessing: Preprocessing,
    prepared: PreparedImages,
    index: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    tta: bool = False,
) -> list[np.ndarray]:
    """Predicted class maps of prepared images, cropped to their original sizes.

    Parameters
    ----------
    model : nn.Module
        Put in eval mode.
    preprocessing : Preprocessing
    prepared : PreparedImages
    index : ints, optional
        Which images (default all, in order).
    batch_size : int, default 32
    device : torch device
    tta : bool, default False
        Average the softmax over the dihedral transforms (8 for square padded images).

    Returns
    -------
    list of (H_n, W_n) int64 arrays
        ``argmax`` over classes of the (averaged) softmax. For ``pure_gnn`` every pixel carries
        its superpixel's prediction (the node argmax gathered through the label map).
    """
    idx = np.arange(len(prepared)) if index is None else np.asarray(index, dtype=np.int64)
    name = preprocessing.model_name
    ops = dihedral_ops(prepared.shape[0] == prepared.shape[1]) if tta else [IDENTITY]
    model.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            chunk = idx[start : start + batch_size]
            probs = None
            for op in ops:
                batch = make_batch(prepared, chunk, preprocessing, [op] * len(chunk), device)
                p = invert_array(_forward_probs(model, name, batch), op)
                probs = p if probs is None else probs + p
            assert probs is not None
            labels = probs.argmax(1).cpu().numpy()
            out.extend(prepared.crop(labels[b], int(i)) for b, i in enumerate(chunk))
    return out


def predict(
    run_or_model: SegmentationRun | nn.Module,
    images: Sequence[np.ndarray],
    preprocessing: Preprocessing | None = None,
    batch_size: int = 32,
    device: torch.device | str | None = None,
    tta: bool | None = None,
) -> list[np.ndarray]:
    """Segment new images with a trained model.

    Images smaller than the run's pad shape are reflect-padded to it (as in training); larger
    ones are processed at their own size (both models are size-agnostic; node positions are
    normalised by the image size). Images are grouped by padded size into batches.

    Parameters
    ----------
    run_or_model : SegmentationRun or nn.Module
        A run (its model and preprocessing are used) or a bare model (then ``preprocessing`` is
        required).
    images : list of (H_n, W_n, 3) uint8 arrays
    preprocessing : Preprocessing, optional
    batch_size : int, default 32
    device : torch device, optional
        Default: the device of the model's parameters.
    tta : bool, optional
        Test-time averaging over flips/rotations; default the run's ``config.tta`` (False for a
        bare model).

    Returns
    -------
    list of (H_n, W_n) int64 class maps (0 background, 1 cytoplasm, 2 nucleus for WBC).
    """
    if isinstance(run_or_model, SegmentationRun):
        model = run_or_model.model
        pre = preprocessing or run_or_model.preprocessing
        if tta is None:
            tta = run_or_model.config.tta
    else:
        model = run_or_model
        if preprocessing is None:
            raise ValueError("a bare model needs its Preprocessing (take it from the run)")
        pre = preprocessing
    tta = bool(tta)
    if device is None:
        device = next(model.parameters()).device
    images = [np.asarray(im) for im in images]
    shapes = [
        (max(pre.pad_shape[0], im.shape[0]), max(pre.pad_shape[1], im.shape[1])) for im in images
    ]
    result: list[np.ndarray | None] = [None] * len(images)
    for shape in sorted(set(shapes)):
        members = [i for i, s in enumerate(shapes) if s == shape]
        prepared = prepare_images([images[i] for i in members], None, pre, shape=shape)
        preds = predict_prepared(model, pre, prepared, None, batch_size, device, tta)
        for i, p in zip(members, preds, strict=True):
            result[i] = p
    return [r for r in result if r is not None]


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def mean_dice(
    preds: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    num_classes: int = 3,
    classes: Sequence[int] | None = None,
) -> float:
    """Dice averaged over classes per image (absent classes skipped), then over images.

    Parameters
    ----------
    preds, masks : lists of (H_n, W_n) integer class maps
    num_classes : int, default 3
    classes : ints, optional
        Which classes enter the per-image mean (default all).

    Returns
    -------
    float (NaN when no image has a scorable class).
    """
    sel = list(range(num_classes)) if classes is None else list(classes)
    per_image = []
    for p, m in zip(preds, masks, strict=True):
        d = dice_per_class(p, m, num_classes)[sel]
        if np.isfinite(d).any():
            per_image.append(np.nanmean(d))
    return float(np.mean(per_image)) if per_image else float("nan")


def evaluate_segmentation(
    preds: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    ids: Sequence[str] | None = None,
    num_classes: int = 3,
    class_names: Sequence[str] = LABEL_NAMES,
) -> pd.DataFrame:
    """Every score of :func:`medgraph.metrics.segmentation_scores`, per image and class.

    Parameters
    ----------
    preds, masks : lists of (H_n, W_n) integer class maps (original, unpadded sizes)
    ids : image ids, optional (default "0", "1", …)
    num_classes : int, default 3
    class_names : names of the classes, default background, cytoplasm, nucleus

    Returns
    -------
    DataFrame with one row per (image, class): ``image``, ``class_index``, ``class_name``,
    ``dice``, ``iou``, ``ppv``, ``sensitivity``, ``accuracy``, ``hausdorff``, ``hd95``
    (distances in pixels; NaN where a score is undefined, e.g. a class absent from both maps).
    """
    if len(preds) != len(masks):
        raise ValueError(f"got {len(preds)} predictions for {len(masks)} masks")
    ids = [str(i) for i in range(len(preds))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(preds):
        raise ValueError(f"got {len(ids)} ids for {len(preds)} predictions")
    names = list(class_names)[:num_classes]
    names += [str(c) for c in range(len(names), num_classes)]
    rows = []
    for ident, p, m in zip(ids, preds, masks, strict=True):
        p, m = np.asarray(p), np.asarray(m)
        if p.shape != m.shape:
            raise ValueError(f"{ident}: prediction {p.shape} does not match mask {m.shape}")
        scores = segmentation_scores(p, m, num_classes)
        frame = pd.DataFrame(scores)
        frame.insert(0, "class_name", names)
        frame.insert(0, "class_index", np.arange(num_classes))
        frame.insert(0, "image", ident)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def summarize_segmentation(
    frame: pd.DataFrame,
    cell_classes: Sequence[int] = (1, 2),
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-metric means: over all classes and over the cell classes.

    For every metric and image, the values of the selected classes are averaged (NaN skipped);
    the per-image means are then averaged over images (images with no finite value skipped).

    Parameters
    ----------
    frame : DataFrame from :func:`evaluate_segmentation`
    cell_classes : class indices of the cell (default cytoplasm 1 and nucleus 2)
    metrics : names of the metric columns (default every column except the identifiers)

    Returns
    -------
    DataFrame indexed by metric with columns ``all_classes`` (mean over all classes),
    ``cell_classes`` (mean over ``cell_classes``), their standard deviations over images
    ``all_classes_std`` and ``cell_classes_std``, ``n_images``, and ``nan_all`` / ``nan_cell``:
    how many (image, class) values were NaN and skipped.
    """
    id_cols = {"image", "class_index", "class_name"}
    cols = [c for c in frame.columns if c not in id_cols] if metrics is None else list(metrics)
    cell = frame["class_index"].isin(list(cell_classes))
    out = {}
    for metric in cols:
        entry: dict[str, float] = {}
        for label, rows in (("all_classes", frame), ("cell_classes", frame[cell])):
            values = rows[metric].astype(float)
            per_image = values.groupby(rows["image"], sort=False).mean()  # skips NaN
            entry[label] = float(per_image.mean())  # images with only NaN are NaN: skipped
            entry[f"{label}_std"] = float(per_image.std(ddof=0))
            entry["nan_all" if label == "all_classes" else "nan_cell"] = int(values.isna().sum())
        entry["n_images"] = int(frame["image"].nunique())
        out[metric] = entry
    result = pd.DataFrame.from_dict(out, orient="index")
    result.index.name = "metric"
    order = ["all_classes", "cell_classes", "all_classes_std", "cell_classes_std", "n_images"]
    return result[order + ["nan_all", "nan_cell"]]


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
    seed : int
    preprocessing : Preprocessing
        Padding, normalisation and superpixel settings, for :func:`predict`.
    device : str
    metric_loss : SuperpixelMetricLoss or None
        The metric loss with its learned a, b (graph models with λ > 0).
    provenance : dict
        Where and when it was trained (:func:`training_provenance`); a run loaded from the result
        cache (:mod:`medgraph.result_cache`) adds ``from_cache``, the entry's file name.
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
        """:func:`evaluate_segmentation` of the test predictions against ``data``'s masks."""
        masks = [data.masks[i] for i in self.test_idx]
        return evaluate_segmentation(
            self.test_predictions, masks, self.test_ids, self.config.num_classes
        )


def training_provenance(device: torch.device | str) -> dict[str, Any]:
    """Where a run was trained: device (and GPU name), host, versions, git revision.

    ``trained_utc`` is the time of the call (:func:`train_segmentation` calls it when training
    has finished), ISO 8601 in UTC.
    """
    dev = str(device)
    info: dict[str, Any] = {
        "device": dev,
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "git_revision": git_revision(),
        "trained_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if dev.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(dev))
    return info


def _check_splits(
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
    device: torch.device | str = "auto",
    seed: int = 0,
) -> SegmentationRun:
    """Train one segmentation model on a data set and predict its test split.

    Parameters
    ----------
    model_name : {"smgnn", "smgnn_gcn", "smgnn_gat", "pure_gnn", "unet", "attention_unet",
        "unet++", "swin_unet"}
    data : SegmentationDataset
        Images (H_n, W_n, 3) uint8 and masks (H_n, W_n) in 0 … C − 1.
    splits : (train, val, test) index arrays
        For example :func:`medgraph.training.split_indices` (disjoint; the test split may be
        empty).
    config : SegmentationConfig or dict, optional
        Defaults of :class:`SegmentationConfig` for missing keys.
    device : str or torch.device, default "auto"
        :func:`medgraph.training.select_device`.
    seed : int, default 0
        Seeds the weights, the shuffling, the augmentation and the metric-loss sampling.

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
    if model_name not in MODEL_NAMES:
        raise ValueError(f"unknown model {model_name!r}; choose one of {list(MODEL_NAMES)}")
    dev = select_device(device)
    train_idx, val_idx, test_idx = _check_splits(len(data), splits)
    seed_everything(seed)

    pad_shape = common_shape(data.images)
    draft = _identity_preprocessing(model_name, cfg, pad_shape)
    prepared = prepare_images(data.images, data.masks, draft, data.ids)
    train_part = PreparedImages(
        images=prepared.images[train_idx],
        masks=prepared.masks[train_idx] if prepared.masks is not None else None,
        crops=prepared.crops[train_idx],
        ids=[prepared.ids[i] for i in train_idx],
        graphs=[prepared.graphs[i] for i in train_idx] if prepared.graphs is not None else None,
    )
    pre = fit_preprocessing(model_name, train_part, cfg, pad_shape)

    model = build_segmentation_model(model_name, cfg).to(dev)
    is_graph = model_name in GRAPH_MODELS
    pure = is_graph and GRAPH_MODELS[model_name][1] == "none"
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
                loss = loss + cfg.lam * metric(emb[keep], g.score[keep], generator=sample_gen)
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
        checkpoint=cfg.checkpoint,
        resume=cfg.resume,
        generators=(rng, sample_gen),
        progress=cfg.progress,
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
