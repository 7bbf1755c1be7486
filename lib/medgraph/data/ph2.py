"""Reader of the PH2 dermoscopic image database in its published layout.

::

    PH2Dataset/
      PH2 Dataset images/
        IMD002/IMD002_Dermoscopic_Image/IMD002.bmp     (768x560 RGB)
        IMD002/IMD002_lesion/IMD002_lesion.bmp         (lesion mask, 255 lesion / 0 skin)
        …                                              (200 cases)
      PH2_dataset.txt                                  (diagnoses, '||'-separated table)
      PH2_dataset.xlsx                                 (the same table; not read)

The loader also accepts the folder that holds the ``IMDnnn`` folders directly. The class label
comes from the "Clinical Diagnosis" column of ``PH2_dataset.txt`` (0 common nevus, 1 atypical
nevus, 2 melanoma), shifted by one so that 0 keeps meaning "unknown" as in every data set of the
project: labels 1 common nevus, 2 atypical nevus, 3 melanoma (:data:`PH2_CLASSES`), 0 when the
table is absent or does not list the case.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from medgraph.data.binary import IMAGE_SUFFIXES, read_pair
from medgraph.data.dataset import BinarySegmentationDataset
from medgraph.data.errors import DataFormatError
from medgraph.data.paths import locate

__all__ = ["load_ph2", "read_ph2_diagnoses", "PH2_CLASSES", "PH2_IMAGES"]

logger = logging.getLogger(__name__)

#: Image classes of the loaded data set: label = clinical diagnosis code + 1, 0 unknown.
PH2_CLASSES: tuple[str, ...] = ("unknown", "common nevus", "atypical nevus", "melanoma")
#: The folder of the published archive that holds the ``IMDnnn`` folders.
PH2_IMAGES = "PH2 Dataset images"
_TABLE = "PH2_dataset.txt"
_CASE = re.compile(r"IMD\d+")
_DIAGNOSIS_COLUMN = 3  # "Clinical Diagnosis" when the header does not say otherwise


def read_ph2_diagnoses(path: str | Path) -> dict[str, int]:
    """Read the clinical diagnoses of ``PH2_dataset.txt``.

    The table separates columns by ``||``; its header row names them (``Name``, ``Histological
    Diagnosis``, ``Clinical Diagnosis``, …) and every case row starts with its id::

        ||   Name   || Histological Diagnosis || Clinical Diagnosis || ...
        ||  IMD003  ||                        ||          0         || ...

    Lines without ``||`` (the legend at the end of the file) are ignored.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        Case id (``"IMD003"``) -> clinical diagnosis code as in the table: 0 common nevus,
        1 atypical nevus, 2 melanoma.

    Raises
    ------
    DataFormatError
        Naming the file and line: a diagnosis that is not 0, 1 or 2, or a case listed twice.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8", errors="replace")
    column = _DIAGNOSIS_COLUMN
    table: dict[str, int] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if "||" not in line:
            continue
        cells = [cell.strip() for cell in line.split("||")]
        if len(cells) < 2:
            continue
        lowered = [cell.lower() for cell in cells]
        if "clinical diagnosis" in lowered:
            column = lowered.index("clinical diagnosis")
            continue
        if not _CASE.fullmatch(cells[1]):
            continue
        value = cells[column] if column < len(cells) else ""
        if value not in ("0", "1", "2"):
            raise DataFormatError(
                f"{path}, line {line_no}: clinical diagnosis {value!r} of {cells[1]} is not "
                "0, 1 or 2",
                path=path,
            )
        if cells[1] in table:
            raise DataFormatError(f"{path}, line {line_no}: {cells[1]} listed twice", path=path)
        table[cells[1]] = int(value)
    return table


def _holds_cases(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.is_dir() and _CASE.fullmatch(p.name) and (p / f"{p.name}_Dermoscopic_Image").is_dir()
        for p in folder.iterdir()
    )


def _find_file(folder: Path, stem: str) -> Path | None:
    """``folder/stem.bmp`` (or another image ending, any case), if present."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if path.stem == stem and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            return path
    return None


def load_ph2(root: str | Path | None = None) -> BinarySegmentationDataset:
    """Load PH2 (dermoscopic images with lesion masks and diagnoses) from its published layout.

    Parameters
    ----------
    root : str or Path, optional
        The data-set folder (``PH2Dataset``, holding ``PH2 Dataset images/``), a directory
        holding it, or the folder holding the ``IMDnnn`` folders itself; otherwise
        ``MEDGRAPH_DATA`` and the cache are searched (see :func:`medgraph.data.locate`).
        Nothing is downloaded.

    Returns
    -------
    BinarySegmentationDataset
        ``name="ph2"``, ``source="real"``; images (H, W, 3) uint8 RGB; masks (H, W) uint8 in
        {0, 1} (1 lesion); ids ``"IMD002"`` …, sorted; class labels 1 common nevus, 2 atypical
        nevus, 3 melanoma from ``PH2_dataset.txt`` (0 when the table is absent or silent), with
        :attr:`~BinarySegmentationDataset.class_names` :data:`PH2_CLASSES`.

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the file or folder: no ``IMDnnn`` folders, a missing image or mask, a bad table
        row, an unreadable file, or a mask whose size differs from its image's.
    """
    if root is not None and _holds_cases(Path(root).expanduser()):
        case_root = Path(root).expanduser().absolute()
    else:
        folder = locate("ph2", root)
        case_root = folder / PH2_IMAGES if (folder / PH2_IMAGES).is_dir() else folder
    cases = sorted(p for p in case_root.iterdir() if p.is_dir() and _CASE.fullmatch(p.name))
    if not cases:
        raise DataFormatError(f"no IMDnnn case folders in {case_root}", path=case_root)

    table_path = next(
        (d / _TABLE for d in (case_root.parent, case_root) if (d / _TABLE).is_file()), None
    )
    if table_path is not None:
        diagnoses = read_ph2_diagnoses(table_path)
    else:
        diagnoses = {}
        logger.info("no %s beside %s: PH2 class labels are 0 (unknown)", _TABLE, case_root)

    images, masks, labels = [], [], []
    for case in cases:
        ident = case.name
        image_path = _find_file(case / f"{ident}_Dermoscopic_Image", ident)
        if image_path is None:
            expected = case / f"{ident}_Dermoscopic_Image" / f"{ident}.bmp"
            raise DataFormatError(f"image missing: expected {expected}", path=expected)
        mask_path = _find_file(case / f"{ident}_lesion", f"{ident}_lesion")
        if mask_path is None:
            expected = case / f"{ident}_lesion" / f"{ident}_lesion.bmp"
            raise DataFormatError(
                f"mask missing for image {image_path}: expected {expected}", path=expected
            )
        image, mask = read_pair(image_path, mask_path)
        images.append(image)
        masks.append(mask)
        code = diagnoses.get(ident)
        labels.append(0 if code is None else code + 1)
    return BinarySegmentationDataset(
        name="ph2",
        source="real",
        images=images,
        masks=masks,
        ids=[case.name for case in cases],
        class_labels=np.asarray(labels, dtype=np.int64),
        root=str(case_root),
        class_names=PH2_CLASSES,
    )
