"""Reader of the ISIC 2016 challenge, part 1 (lesion segmentation), in its published layout.

::

    isic2016/
      ISBI2016_ISIC_Part1_Training_Data/ISIC_0000000.jpg …              (900 images)
      ISBI2016_ISIC_Part1_Training_GroundTruth/ISIC_0000000_Segmentation.png …
      ISBI2016_ISIC_Part1_Test_Data/ISIC_NNNNNNN.jpg …                  (379 images)
      ISBI2016_ISIC_Part1_Test_GroundTruth/ISIC_NNNNNNN_Segmentation.png …

These are the folders the four official archives unpack to. Masks are 0 (skin) / 255 (lesion)
PNGs of the image's size; they are thresholded at > 127 like every binary mask
(:mod:`medgraph.data.binary`). Files in the image folders whose names are not ``ISIC_<digits>``
(e.g. ``*_superpixels.png`` of later challenges, or a stray ``Thumbs.db``) are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from medgraph.data.binary import list_images, read_pair
from medgraph.data.dataset import BinarySegmentationDataset
from medgraph.data.errors import DataFormatError
from medgraph.data.paths import locate

__all__ = ["load_isic2016", "ISIC2016_SPLITS"]

_PREFIX = "ISBI2016_ISIC_Part1"
#: Split name -> (image folder, mask folder) of the published layout.
ISIC2016_SPLITS: dict[str, tuple[str, str]] = {
    "train": (f"{_PREFIX}_Training_Data", f"{_PREFIX}_Training_GroundTruth"),
    "test": (f"{_PREFIX}_Test_Data", f"{_PREFIX}_Test_GroundTruth"),
}
_IMAGE_ID = re.compile(r"ISIC_\d+", re.IGNORECASE)


def _read_split(folder: Path, split: str) -> tuple[list, list, list, Path]:
    image_name, mask_name = ISIC2016_SPLITS[split]
    image_dir, mask_dir = folder / image_name, folder / mask_name
    for needed in (image_dir, mask_dir):
        if not needed.is_dir():
            raise DataFormatError(
                f"no folder {needed.name} in {folder} (ISIC 2016 part 1, split {split!r})",
                path=needed,
            )
    paths = [p for p in list_images(image_dir) if _IMAGE_ID.fullmatch(p.stem)]
    if not paths:
        raise DataFormatError(f"no ISIC_<digits> images in {image_dir}", path=image_dir)
    masks_by_name = {p.name.lower(): p for p in list_images(mask_dir)}
    images, masks, ids = [], [], []
    for path in paths:
        expected = mask_dir / f"{path.stem}_Segmentation.png"
        mask_path = masks_by_name.get(expected.name.lower())
        if mask_path is None:
            raise DataFormatError(
                f"mask missing for image {path}: expected {expected}", path=expected
            )
        image, mask = read_pair(path, mask_path)
        images.append(image)
        masks.append(mask)
        ids.append(path.stem)
    return images, masks, ids, image_dir


def load_isic2016(
    root: str | Path | None = None, split: str = "train"
) -> BinarySegmentationDataset:
    """Load ISIC 2016 part 1 (dermoscopic images with lesion masks) from its published layout.

    Parameters
    ----------
    root : str or Path, optional
        The data-set folder or a directory holding it; otherwise ``MEDGRAPH_DATA`` and the cache
        are searched (see :func:`medgraph.data.locate`). Nothing is downloaded.
    split : {"train", "test", "all"}
        The 900 training images (default; the set the unsupervised graph-cut study uses), the
        379 test images, or both (training first).

    Returns
    -------
    BinarySegmentationDataset
        ``name="isic2016"``, ``source="real"``; images (H, W, 3) uint8 RGB of various sizes;
        masks (H, W) uint8 in {0, 1} (1 lesion); ids ``"ISIC_0000000"`` …, sorted within a split;
        class labels 0 (the segmentation part has no diagnoses).

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the file or folder: a missing image or mask folder, no images, a missing mask,
        an unreadable file, or a mask whose size differs from its image's.
    """
    splits = ("train", "test") if split == "all" else (split,)
    if any(s not in ISIC2016_SPLITS for s in splits):
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    folder = locate("isic2016", root)
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    ids: list[str] = []
    image_dir = folder
    for part in splits:
        part_images, part_masks, part_ids, image_dir = _read_split(folder, part)
        images += part_images
        masks += part_masks
        ids += part_ids
    return BinarySegmentationDataset(
        name="isic2016",
        source="real",
        images=images,
        masks=masks,
        ids=ids,
        class_labels=np.zeros(len(images), dtype=np.int64),
        root=str(image_dir if len(splits) == 1 else folder),
    )
