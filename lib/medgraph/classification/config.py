"""Cell-type labels and the hyper-parameters of the cell-type classifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["CELL_TYPES", "ClassifierConfig"]

#: Display names of the cell-type labels of :class:`SegmentationDataset` (label → name).
CELL_TYPES: dict[int, str] = {
    1: "Neutrophil",
    2: "Lymphocyte",
    3: "Monocyte",
    4: "Eosinophil",
    5: "Basophil",
}


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


def _targets(labels: Sequence[int] | np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Class labels → logit indices (position in ``classes``), rejecting unknown labels."""
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    lookup = {int(c): i for i, c in enumerate(classes)}
    unknown = sorted(set(np.unique(y).tolist()) - set(lookup))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {tuple(classes)}")
    return np.array([lookup[int(v)] for v in y], dtype=np.int64)
