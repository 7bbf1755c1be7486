"""Hyperparameters of a segmentation run, and the label conventions of its masks."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from medgraph.models.registry import get_model

__all__ = ["IGNORE_INDEX", "NODE_IGNORE", "SegmentationConfig"]

#: Mask value of padded pixels: they count in no loss and no score.
IGNORE_INDEX = 255
#: Node label of superpixels with no valid pixel (``torch.nn.functional.cross_entropy`` skips it).
NODE_IGNORE = -100


@dataclass
class SegmentationConfig:
    """Hyperparameters of one segmentation training run: everything that can change its result.

    How a run is carried out (device, progress bars, caches, resume state) is not here but in
    :class:`medgraph.options.RunOptions`, so that this whole dataclass enters the run's key.

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
    metric_target : {"literal", "class"}
        Target of the metric loss: ``"literal"``, Eq 2.7 as printed, ``(𝒴_i + 𝒴_j)/2`` with the
        scalar score 𝒴 ∈ [0, 1] (:func:`medgraph.graphs.node_metric_score`); ``"class"``, the
        class-aware reading ``𝒴_i·𝒴_j`` with 𝒴 the vector of class fractions of a superpixel
        (:func:`medgraph.losses.superpixel_metric_loss`). Added after runs were stored: left out
        of the key at its default.
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
    metric_target: Literal["literal", "class"] = dataclasses.field(
        default="literal", metadata={"added": True}
    )

    def __post_init__(self) -> None:
        if self.metric_target not in ("literal", "class"):
            raise ValueError(
                f"metric_target must be 'literal' or 'class', got {self.metric_target!r}"
            )

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
        return get_model(model_name).default_lr

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return dataclasses.asdict(self)

    def key_hyperparameters(self) -> dict[str, Any]:
        """The fields that enter a run's key (:mod:`medgraph.store`).

        Every field, except that a field added after runs were stored (``metadata={"added":
        True}``) is left out while it holds its default, which must be the behaviour from before
        it existed: stored runs keep their keys, and only runs that use the new setting get new
        ones. ``tests/test_store.py`` pins the key of a reference run, so a field added without
        this fails a test.
        """
        values = self.to_dict()
        for f in dataclasses.fields(self):
            if f.metadata.get("added") and values[f.name] == f.default:
                del values[f.name]
        return values
