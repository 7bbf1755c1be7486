"""Predicting class maps with a trained segmentation model (cropped back to the image)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from medgraph.models.registry import get_model
from medgraph.segmentation.preparation import (
    PreparedImages,
    Preprocessing,
    SegmentationBatch,
    make_batch,
    prepare_images,
)
from medgraph.transforms import IDENTITY, dihedral_ops, invert_array

if TYPE_CHECKING:
    from medgraph.segmentation.training import SegmentationRun

__all__ = ["predict", "predict_prepared"]


def _forward_probs(model: nn.Module, model_name: str, batch: SegmentationBatch) -> torch.Tensor:
    """Class probabilities (B, C, H, W) of a batch."""
    spec = get_model(model_name)
    if spec.needs_graph:
        images = batch.images if spec.needs_image else None
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
    if not isinstance(run_or_model, nn.Module):  # a SegmentationRun
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
