"""The container every segmentation loader and phantom generator returns."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "SegmentationDataset",
    "BinarySegmentationDataset",
    "CLASS_NAMES",
    "LABEL_NAMES",
    "BINARY_LABEL_NAMES",
    "data_fingerprint",
]

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
#: Pixel classes of binary masks (lesion or organism against everything else).
BINARY_LABEL_NAMES: tuple[str, ...] = ("background", "foreground")


def subset_indices(indices: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """The (k,) int64 positions that ``indices`` (ints, or a boolean mask of length n) select
    among n images; out-of-range positions are an IndexError, a mask of another length a
    ValueError. Shared by every data set's ``subset``."""
    idx = np.asarray(indices)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"boolean index of shape {idx.shape}, expected ({n},)")
        idx = np.flatnonzero(idx)
    idx = idx.astype(np.int64).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index out of range for {n} images")
    return idx


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
        n_classes = len(self.class_names)
        if n and (self.class_labels.min() < 0 or self.class_labels.max() >= n_classes):
            raise ValueError(f"{self.name}: class labels must lie in 0..{n_classes - 1}")

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
            Of the same type as this one (a :class:`BinarySegmentationDataset` stays one), sharing
            the image and mask arrays with it (no copies).
        """
        idx = subset_indices(indices, len(self))
        return dataclasses.replace(
            self,
            images=[self.images[i] for i in idx],
            masks=[self.masks[i] for i in idx],
            ids=[self.ids[i] for i in idx],
            class_labels=self.class_labels[idx],
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
        """Number of images of each class (``"unknown"`` only when some are unlabelled)."""
        names = self.class_names
        counts = np.bincount(self.class_labels, minlength=len(names))
        out = {name: int(c) for name, c in zip(names[1:], counts[1:], strict=True)}
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


@dataclass
class BinarySegmentationDataset(SegmentationDataset):
    """Images with binary masks (0 background, 1 foreground) and one class label per image.

    The container of the lesion and microorganism data sets (ISIC 2016, PH2, EMDS-5, EMDS-6) and
    of their phantoms. It behaves like :class:`SegmentationDataset` (``subset``, ``checksum``,
    ``class_counts``), with two differences: masks hold only 0 and 1 (:attr:`label_names` is
    ``("background", "foreground")``), and the image classes are named per data set by the
    instance field :attr:`class_names` (index 0 always means "unknown / not labelled").

    Attributes
    ----------
    name, source, ids, root
        As for :class:`SegmentationDataset`.
    images : list of ndarray
        Each (H, W, 3) uint8 RGB; sizes may differ between images.
    masks : list of ndarray
        Each (H, W) uint8 with the size of its image: 0 background, 1 foreground (lesion or
        organism).
    class_labels : ndarray
        (N,) int64 indices into :attr:`class_names`; 0 where the layout gives no class.
    class_names : tuple of str
        Names of the image classes, ``class_names[0] == "unknown"``; e.g. the 21 microorganisms
        of EMDS for ``class_labels`` 1..21. Default ``("unknown",)``: no classes.
    """

    class_names: tuple[str, ...] = ("unknown",)  # an instance field here, a ClassVar above

    label_names: ClassVar[tuple[str, ...]] = BINARY_LABEL_NAMES

    def __post_init__(self) -> None:
        self.class_names = tuple(str(c) for c in self.class_names)
        if not self.class_names or self.class_names[0] != "unknown":
            raise ValueError(
                f"{self.name}: class_names must start with 'unknown', got {self.class_names!r}"
            )
        super().__post_init__()
        for mask, ident in zip(self.masks, self.ids, strict=True):
            if mask.size and mask.max() > 1:
                raise ValueError(
                    f"{self.name}/{ident}: a binary mask holds only 0 and 1, found {mask.max()}"
                )

    def foreground_share(self) -> np.ndarray:
        """Share of foreground pixels of every mask.

        Returns
        -------
        ndarray
            (N,) float64 in [0, 1].
        """
        return np.array(
            [float(np.count_nonzero(m)) / m.size if m.size else 0.0 for m in self.masks],
            dtype=np.float64,
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for reports.

        Returns
        -------
        dict
            As :meth:`SegmentationDataset.describe`, plus ``label_names`` and
            ``foreground_share`` ([min, mean, max] over the masks, or ``None`` when empty).
        """
        info = super().describe()
        share = self.foreground_share()
        info["label_names"] = list(self.label_names)
        info["foreground_share"] = (
            [float(share.min()), float(share.mean()), float(share.max())] if share.size else None
        )
        return info


def data_fingerprint(data: SegmentationDataset) -> str:
    """SHA-256 over a data set's name, ids and the shapes, dtypes and bytes of images and masks.

    The data checksum in the key of every stored run (:mod:`medgraph.store`). It hashes more than
    :attr:`SegmentationDataset.checksum` (the name, the arrays' shapes and dtypes) and must never
    change for data that did not: every stored run's key depends on it.
    """
    digest = hashlib.sha256()
    digest.update(f"{data.name}\0{len(data)}\0".encode())
    for ident, image, mask in zip(data.ids, data.images, data.masks, strict=True):
        for array in (image, mask):
            array = np.ascontiguousarray(array)
            digest.update(f"{ident}\0{array.shape}\0{array.dtype.str}\0".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()
