"""The container every segmentation loader and phantom generator returns."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["SegmentationDataset", "CLASS_NAMES", "LABEL_NAMES"]

#: Cell types of the WBC class-label CSVs; index 0 means "unknown / not labelled".
CLASS_NAMES: tuple[str, ...] = (
    "unknown",
    "neutrophil",
    "lymphocyte",
    "monocyte",
    "eosinophil",
    "basophil",
)
#: Pixel classes of the masks.
LABEL_NAMES: tuple[str, ...] = ("background", "cytoplasm", "nucleus")


@dataclass
class SegmentationDataset:
    """Images with pixel masks and one class label per image.

    Attributes
    ----------
    name : str
        Data-set name, e.g. ``"wbc1"`` (also for phantoms in the style of wbc1; see ``source``).
    source : str
        ``"real"`` (read from disk) or ``"phantom"`` (synthetic).
    images : list of ndarray
        Each (H, W, 3) uint8 RGB; sizes may differ between images.
    masks : list of ndarray
        Each (H, W) uint8 with the size of its image: 0 background (red cells included),
        1 cytoplasm, 2 nucleus.
    ids : list of str
        Image identifiers, e.g. ``"001"``.
    class_labels : ndarray
        (N,) int64: 1 neutrophil, 2 lymphocyte, 3 monocyte, 4 eosinophil, 5 basophil, 0 unknown.
    root : str or None
        Folder the images were read from (``None`` for phantoms).
    """

    name: str
    source: str
    images: list[np.ndarray]
    masks: list[np.ndarray]
    ids: list[str]
    class_labels: np.ndarray
    root: str | None = None

    class_names: ClassVar[tuple[str, ...]] = CLASS_NAMES
    label_names: ClassVar[tuple[str, ...]] = LABEL_NAMES

    def __post_init__(self) -> None:
        if self.source not in ("real", "phantom"):
            raise ValueError(f"source must be 'real' or 'phantom', not {self.source!r}")
        self.images = list(self.images)
        self.masks = list(self.masks)
        self.ids = [str(i) for i in self.ids]
        self.class_labels = np.asarray(self.class_labels, dtype=np.int64).reshape(-1)
        n = len(self.images)
        lengths = (len(self.masks), len(self.ids), len(self.class_labels))
        if any(length != n for length in lengths):
            raise ValueError(
                f"{self.name}: {n} images but {lengths[0]} masks, {lengths[1]} ids and "
                f"{lengths[2]} class labels"
            )
        for image, mask, ident in zip(self.images, self.masks, self.ids, strict=True):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(
                    f"{self.name}/{ident}: image must be (H, W, 3) uint8, "
                    f"got {image.shape} {image.dtype}"
                )
            if mask.dtype != np.uint8 or mask.shape != image.shape[:2]:
                raise ValueError(
                    f"{self.name}/{ident}: mask must be {image.shape[:2]} uint8, "
                    f"got {mask.shape} {mask.dtype}"
                )
        if n and (self.class_labels.min() < 0 or self.class_labels.max() >= len(CLASS_NAMES)):
            raise ValueError(f"{self.name}: class labels must lie in 0..{len(CLASS_NAMES) - 1}")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: Sequence[int] | np.ndarray) -> SegmentationDataset:
        """A data set of the chosen images, in the given order.

        Parameters
        ----------
        indices : sequence of int, or boolean array of length N

        Returns
        -------
        SegmentationDataset
            Sharing the image and mask arrays with this one (no copies).
        """
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"boolean index of shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"index out of range for {len(self)} images")
        return SegmentationDataset(
            name=self.name,
            source=self.source,
            images=[self.images[i] for i in idx],
            masks=[self.masks[i] for i in idx],
            ids=[self.ids[i] for i in idx],
            class_labels=self.class_labels[idx],
            root=self.root,
        )

    @property
    def checksum(self) -> str:
        """SHA-256 (hex) of every image and mask, shapes and raw bytes, in order.

        Two data sets with the same checksum hold the same pixels in the same order; ids and
        class labels are not part of it.
        """
        digest = hashlib.sha256()
        for image, mask in zip(self.images, self.masks, strict=True):
            for array in (image, mask):
                digest.update(repr(array.shape).encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def class_counts(self) -> dict[str, int]:
        """Number of images of each cell type (``"unknown"`` only when some are unlabelled)."""
        counts = np.bincount(self.class_labels, minlength=len(CLASS_NAMES))
        out = {name: int(c) for name, c in zip(CLASS_NAMES[1:], counts[1:], strict=True)}
        if counts[0]:
            out["unknown"] = int(counts[0])
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for reports.

        Returns
        -------
        dict
            ``name``, ``source``, ``n_images``, ``height_range`` and ``width_range`` ([min, max]
            in pixels), ``class_counts``, ``checksum`` and ``root``.
        """
        heights = [int(im.shape[0]) for im in self.images]
        widths = [int(im.shape[1]) for im in self.images]
        return {
            "name": self.name,
            "source": self.source,
            "n_images": len(self),
            "height_range": [min(heights), max(heights)] if heights else None,
            "width_range": [min(widths), max(widths)] if widths else None,
            "class_counts": self.class_counts(),
            "checksum": self.checksum,
            "root": self.root,
        }
