"""Reader of the Environmental Microorganism data sets EMDS-5 and EMDS-6 in their published layouts.

::

    EMDS-5 (public copy NEUZihan/EMDS-5)        EMDS-6 (figshare archive)
    emds5/                                       emds6/
      EMDS5-Original/EMDS5-gCC-NN.png              EMDS5-Original/CC/EMDS5-gCC-NN.png
      EMDS5-GTS/EMDS5-gCC-NN-GTS.png  (single)     EMDS5-Ground Truth/CC/EMDS5-gCC-NN-GTM.png
      EMDS5-GTM/EMDS5-gCC-NN-GTM.png  (multi)

``CC`` is the class (01..21, :data:`EMDS_CLASSES`), ``NN`` the image number (01..20 in EMDS-5,
01..40 in EMDS-6). EMDS-6 keeps the EMDS-5 file names and folder prefix, puts every class in its
own sub-folder and has one mask set (all objects, ``-GTM``); folders named ``EMDS6-Original``,
``EMDS6-GTS`` and ``EMDS6-GTM`` are accepted too, flat or per class. Masks are white on black and
anti-aliased: foreground is grey > 127 (:mod:`medgraph.data.binary`).

A mask belongs to the image whose name it repeats, compared without the ``EMDSn`` prefix, the
``GTS``/``GTM`` suffix, hyphens, underscores, spaces and case: the real EMDS-5 copy names one mask
``EMDS5g10-07-GTS.png`` (no hyphen after ``EMDS5``), which is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medgraph.data.binary import list_images, read_pair
from medgraph.data.dataset import BinarySegmentationDataset
from medgraph.data.errors import DataFormatError
from medgraph.data.paths import locate

__all__ = ["load_emds", "EMDS_CLASSES", "MASK_SETS", "emds_class", "emds_key"]

#: The 21 microorganism classes of EMDS-5 and EMDS-6 (file names ``gCC``); index 0 is unknown.
EMDS_CLASSES: tuple[str, ...] = (
    "unknown",
    "Actinophrys",
    "Arcella",
    "Aspidisca",
    "Codosiga",
    "Colpoda",
    "Epistylis",
    "Euglypha",
    "Paramecium",
    "Rotifera",
    "Vorticella",
    "Noctiluca",
    "Ceratium",
    "Stentor",
    "Siprostomum",
    "Keratella Quadrala",
    "Euglena",
    "Gymnodinium",
    "Gonyaulax",
    "Phacus",
    "Stylongchia",
    "Synchaeta",
)
#: Mask sets: ``"single"`` (GTS, one object per image) and ``"multi"`` (GTM, every object).
MASK_SETS: tuple[str, ...] = ("single", "multi")


@dataclass(frozen=True)
class _Layout:
    images: tuple[str, ...]  # accepted image folders, in order of preference
    masks: dict[str, tuple[str, ...]]  # mask set -> accepted mask folders
    default: str  # default mask set


_LAYOUTS: dict[int, _Layout] = {
    5: _Layout(
        images=("EMDS5-Original",),
        masks={"single": ("EMDS5-GTS",), "multi": ("EMDS5-GTM",)},
        default="single",
    ),
    6: _Layout(
        images=("EMDS5-Original", "EMDS6-Original"),
        masks={"single": ("EMDS6-GTS",), "multi": ("EMDS5-Ground Truth", "EMDS6-GTM")},
        default="multi",
    ),
}
_SUFFIX = {"single": "GTS", "multi": "GTM"}

_GT_SUFFIX = re.compile(r"[-_ ]*gt[sm]$", re.IGNORECASE)
_PREFIX = re.compile(r"^emds\d*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_ ]")
_CLASS = re.compile(r"(?:^|[-_ ]|emds\d*)g(\d+)-", re.IGNORECASE)


def emds_key(stem: str) -> str:
    """The name an image and its mask share: no prefix, GT suffix, separators or case.

    ``"EMDS5-g10-07"``, ``"EMDS5-g10-07-GTS"`` and ``"EMDS5g10-07-GTS"`` all give ``"g1007"``.
    """
    core = _GT_SUFFIX.sub("", stem)
    return _PREFIX.sub("", _SEPARATORS.sub("", core).lower())


def emds_class(stem: str) -> int:
    """The class number ``CC`` of a name like ``EMDS5-gCC-NN``; 0 when the name has none."""
    match = _CLASS.search(stem)
    return int(match.group(1)) if match else 0


def _first_folder(base: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (base / name).is_dir():
            return base / name
    return None


def _index_masks(mask_dir: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in list_images(mask_dir, recursive=True):
        key = emds_key(path.stem)
        if key in index:
            raise DataFormatError(
                f"masks {index[key]} and {path} belong to the same image", path=path
            )
        index[key] = path
    return index


def load_emds(
    version: int = 5, root: str | Path | None = None, masks: str | None = None
) -> BinarySegmentationDataset:
    """Load EMDS-5 or EMDS-6 from its published layout (see the module docstring).

    Parameters
    ----------
    version : {5, 6}
        EMDS-5 (420 images, two mask sets) or EMDS-6 (840 images, one mask set).
    root : str or Path, optional
        The data-set folder or a directory holding it; otherwise ``MEDGRAPH_DATA`` and the cache
        are searched (see :func:`medgraph.data.locate`). Nothing is downloaded.
    masks : {"single", "multi"}, optional
        ``"single"``: the single-object masks (GTS); ``"multi"``: the multi-object masks (GTM).
        Default: ``"single"`` for EMDS-5, ``"multi"`` for EMDS-6 (its only set).

    Returns
    -------
    BinarySegmentationDataset
        ``name="emds5"`` or ``"emds6"``, ``source="real"``; images (H, W, 3) uint8 RGB (grey or
        RGBA files converted); masks (H, W) uint8 in {0, 1} (grey > 127); ids the image file
        names without extension (``"EMDS5-g01-01"`` …), sorted; class labels 1..21 from ``gCC``
        with :attr:`~BinarySegmentationDataset.class_names` :data:`EMDS_CLASSES`.

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the file or folder: no image folder or no images, no folder of the chosen mask
        set, a missing mask, two masks for one image, a class number outside 1..21, an unreadable
        file, or a mask whose size differs from its image's.
    """
    if version not in _LAYOUTS:
        raise ValueError(f"version must be 5 or 6, not {version!r}")
    layout = _LAYOUTS[version]
    masks = layout.default if masks is None else masks
    if masks not in MASK_SETS:
        raise ValueError(f"masks must be one of {', '.join(MASK_SETS)}, not {masks!r}")
    name = f"emds{version}"
    folder = locate(name, root)

    image_dir = _first_folder(folder, layout.images)
    if image_dir is None:
        raise DataFormatError(
            f"no image folder {' or '.join(layout.images)} in {folder}", path=folder
        )
    mask_dir = _first_folder(folder, layout.masks[masks])
    if mask_dir is None:
        other = next(m for m in MASK_SETS if m != masks)
        has_other = _first_folder(folder, layout.masks[other]) is not None
        hint = f"; masks={other!r} is available" if has_other else ""
        raise DataFormatError(
            f"no {masks}-object mask folder {' or '.join(layout.masks[masks])} in {folder}{hint}",
            path=folder,
        )
    paths = sorted(list_images(image_dir, recursive=True), key=lambda p: (p.stem, str(p)))
    if not paths:
        raise DataFormatError(f"no images in {image_dir}", path=image_dir)
    mask_index = _index_masks(mask_dir)

    images, mask_arrays, ids, labels = [], [], [], []
    seen: dict[str, Path] = {}
    for path in paths:
        key = emds_key(path.stem)
        if key in seen:
            raise DataFormatError(f"images {seen[key]} and {path} have the same name", path=path)
        seen[key] = path
        mask_path = mask_index.get(key)
        if mask_path is None:
            expected = (
                mask_dir
                / path.parent.relative_to(image_dir)
                / (f"{path.stem}-{_SUFFIX[masks]}.png")
            )
            raise DataFormatError(
                f"mask missing for image {path}: expected {expected}", path=expected
            )
        label = emds_class(path.stem)
        if not 0 <= label < len(EMDS_CLASSES):
            raise DataFormatError(
                f"image {path}: class g{label:02d} is not one of g01..g{len(EMDS_CLASSES) - 1}",
                path=path,
            )
        image, mask = read_pair(path, mask_path)
        images.append(image)
        mask_arrays.append(mask)
        ids.append(path.stem)
        labels.append(label)
    return BinarySegmentationDataset(
        name=name,
        source="real",
        images=images,
        masks=mask_arrays,
        ids=ids,
        class_labels=np.asarray(labels, dtype=np.int64),
        root=str(image_dir),
        class_names=EMDS_CLASSES,
    )
