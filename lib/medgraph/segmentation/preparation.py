"""From raw images to model inputs: padding, superpixel graphs, normalisation and batches.

1. **Padding.** Images of one data set may differ in size (wbc1: 88-120 px a side). Every image
   is reflect-padded, evenly on both sides, to the largest height and width of the data set;
   the padded pixels of the mask get :data:`IGNORE_INDEX`, so they count neither in the Dice
   loss, nor in the node labels of the metric loss and the pure-GNN cross-entropy (class
   fractions over valid pixels only), nor in any score: predictions are cropped back to the
   original image before they are scored.
2. **Superpixels and graphs.** SNIC label maps of the padded images are computed once per image
   (on disk when a superpixel cache is given), and the per-image graphs (node features,
   L1-radius edges with α·√S) once per run; a mini-batch collates them into one large graph (PyG
   ``Batch``) with globally offset label maps (:class:`~medgraph.graphs.SuperpixelBatch`).
3. **Normalisation** (``normalize="standard"``): image channels and the five node features are
   standardised with the statistics of the *training* split. ``"unit"`` keeps images in [0, 1].
4. **Batches** apply a dihedral transform per image (:mod:`medgraph.transforms`) to the image,
   the mask, the label map and the graph alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data

from medgraph.graphs import (
    SuperpixelBatch,
    build_superpixel_graphs,
    compute_label_maps,
    node_metric_score,
)
from medgraph.models.registry import get_model
from medgraph.segmentation.config import IGNORE_INDEX, NODE_IGNORE, SegmentationConfig
from medgraph.transforms import IDENTITY, Op, transform_array, transform_graph

__all__ = [
    "common_shape",
    "pad_to_shape",
    "Preprocessing",
    "PreparedImages",
    "prepare_images",
    "fit_preprocessing",
    "SegmentationBatch",
    "make_batch",
]


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
        return get_model(self.model_name).needs_graph


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
    model_name: str,
    config: SegmentationConfig,
    pad_shape: tuple[int, int],
    superpixel_cache: str | os.PathLike[str] | None = None,
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
        cache_dir=None if superpixel_cache is None else str(superpixel_cache),
        num_classes=config.num_classes,
    )


def fit_preprocessing(
    model_name: str,
    train: PreparedImages,
    config: SegmentationConfig,
    pad_shape: tuple[int, int],
    superpixel_cache: str | os.PathLike[str] | None = None,
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
    pre = _identity_preprocessing(model_name, config, pad_shape, superpixel_cache)
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
