"""Reader of the WBC segmentation data sets of Zheng et al. (2018) in their published layout.

::

    wbc/
      Dataset 1/001.bmp, 001.png, …, 300.bmp, 300.png
      Dataset 2/001.bmp, 001.png, …, 100.bmp, 100.png
      Class Labels of Dataset 1.csv   (header "image ID,class label")
      Class Labels of Dataset 2.csv   (header "image ID,class")

Masks are greyscale PNGs: 0 background (red cells included), 128 cytoplasm, 255 nucleus. They
become the classes 0 / 1 / 2. A few pixels of five dataset-2 masks carry stray values (2–50) from
anti-aliasing; every value within :data:`SNAP_TOLERANCE` grey levels of 0, 128 or 255 is snapped
to the nearest of the three. Values farther from all three (57–71 and 185–198: halfway between two
classes) cannot be assigned and raise :class:`DataFormatError`. Snapping is for scattered strays
only: a mask in which more than :data:`MAX_FAR_SNAP_SHARE` of the pixels would move by more than
:data:`FAR_SNAP` grey levels (a block of value 40, say) is refused rather than silently relabelled.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from medgraph.data.dataset import CLASS_NAMES, SegmentationDataset
from medgraph.data.errors import DataFormatError
from medgraph.data.paths import locate

__all__ = [
    "load_wbc",
    "read_class_labels",
    "mask_to_labels",
    "SNAP_TOLERANCE",
    "FAR_SNAP",
    "MAX_FAR_SNAP_SHARE",
    "MASK_LEVELS",
]

#: Grey levels of the published masks, in class order (background, cytoplasm, nucleus).
MASK_LEVELS = (0, 128, 255)
#: Largest distance (grey levels) from 0/128/255 that is still snapped to it.
SNAP_TOLERANCE = 56
#: A pixel snapped by more than this many grey levels counts as "moved far" (see below). The real
#: strays are 2, 3, 7, 9, 24, 25, 37 and 42-50; 8 keeps the faint 2-7 ones out of the count.
FAR_SNAP = 8
#: Largest share of a mask's pixels that may move far when snapped; more is refused. Measured on
#: all 400 real WBC masks: the largest share is 57 of 90,000 px = 0.063 % (dataset 2, 034.png;
#: 050.png has 22 px, 076.png 3 px, no dataset-1 mask has any). 0.5 % is 8x that, and 8x below a
#: 60x60 block in a 300x300 mask (4 %; 25 % in a 120x120 one).
MAX_FAR_SNAP_SHARE = 0.005

_READ_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
)


def _build_luts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.arange(256)[:, None]
    distance = np.abs(values - np.asarray(MASK_LEVELS)[None, :])
    nearest = distance.argmin(axis=1).astype(np.uint8)
    too_far = distance.min(axis=1) > SNAP_TOLERANCE
    moves_far = distance.min(axis=1) > FAR_SNAP
    return nearest, too_far, moves_far


_NEAREST, _TOO_FAR, _MOVES_FAR = _build_luts()


def mask_to_labels(mask: np.ndarray, path: str | Path = "<array>") -> np.ndarray:
    """Map a published mask to class indices.

    Parameters
    ----------
    mask : ndarray
        (H, W) uint8 grey levels (0 / 128 / 255 plus anti-aliasing strays).
    path : str or Path
        Named in error messages.

    Returns
    -------
    ndarray
        (H, W) uint8 in {0, 1, 2}.

    Raises
    ------
    DataFormatError
        When a value lies more than :data:`SNAP_TOLERANCE` from all of 0/128/255; when the mask
        holds only 0, 1, 2 (already class indices, which snapping would silently erase); or when
        more than :data:`MAX_FAR_SNAP_SHARE` of its pixels would move by more than
        :data:`FAR_SNAP` grey levels (a region in a foreign grey level rather than stray pixels).
    """
    mask = np.asarray(mask)
    if mask.dtype != np.uint8:
        if mask.size and (mask.min() < 0 or mask.max() > 255):
            raise DataFormatError(
                f"mask {path} holds values outside 0..255 ({mask.min()}..{mask.max()})", path=path
            )
        mask = mask.astype(np.uint8)
    counts = np.bincount(mask.ravel(), minlength=256)
    present = np.flatnonzero(counts)
    bad = present[_TOO_FAR[present]]
    if bad.size:
        shown = ", ".join(str(v) for v in bad[:10]) + (" …" if bad.size > 10 else "")
        raise DataFormatError(
            f"mask {path} holds unknown label values {shown} (more than {SNAP_TOLERANCE} grey "
            f"levels from each of 0/128/255)",
            path=path,
        )
    if present.size and present.max() <= 2 and present.max() > 0:
        raise DataFormatError(
            f"mask {path} holds only the values {present.tolist()}: it looks like class indices, "
            "but the published masks use 0/128/255",
            path=path,
        )
    far = present[_MOVES_FAR[present]]
    n_far = int(counts[far].sum())
    if n_far > MAX_FAR_SNAP_SHARE * mask.size:
        shown = ", ".join(f"{v} ({counts[v]} px)" for v in far[:10]) + (
            " …" if far.size > 10 else ""
        )
        raise DataFormatError(
            f"mask {path}: {n_far} of {mask.size} pixels ({n_far / mask.size:.2%}) hold grey "
            f"values more than {FAR_SNAP} levels from 0/128/255: {shown}; snapping them would "
            f"relabel a whole region (at most {MAX_FAR_SNAP_SHARE:.1%} of the pixels may be such "
            "strays)",
            path=path,
        )
    return _NEAREST[mask]


def _read_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            rgb = im if im.mode == "RGB" else im.convert("RGB")
            array = np.asarray(rgb, dtype=np.uint8)
    except _READ_ERRORS as exc:
        raise DataFormatError(f"cannot read image {path}: {exc}", path=path) from exc
    return array


def _read_mask(path: Path) -> np.ndarray:
    """Read a mask as one channel of grey levels, whatever its PNG mode."""
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("L", "I", "I;16", "I;16B", "I;16L", "F"):
                array = np.asarray(im)
            elif im.mode == "LA":
                array = np.asarray(im.getchannel("L"))
            elif im.mode == "1":
                array = np.asarray(im.convert("L"))
            else:  # P, RGB, RGBA, CMYK …: compare the colour channels
                array = np.asarray(im.convert("RGB"))
    except _READ_ERRORS as exc:
        raise DataFormatError(f"cannot read mask {path}: {exc}", path=path) from exc
    if array.ndim == 3:
        if not (
            np.array_equal(array[..., 0], array[..., 1])
            and np.array_equal(array[..., 0], array[..., 2])
        ):
            raise DataFormatError(
                f"mask {path} is a colour image whose channels differ; expected grey levels "
                "0/128/255",
                path=path,
            )
        array = array[..., 0]
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
            raise DataFormatError(f"mask {path} holds non-integer values", path=path)
        array = array.astype(np.int64)
    return array


def _sort_key(path: Path) -> tuple[int, int | str]:
    stem = path.stem
    return (0, int(stem)) if stem.isdigit() else (1, stem)


def read_class_labels(csv_path: str | Path) -> dict[str, int]:
    """Read a ``Class Labels of Dataset N.csv`` file.

    Both published headers (``image ID,class label`` and ``image ID,class``) are accepted; the
    first column is the image number, the second the class (1..5). An empty class cell means
    "unknown" and maps to 0.

    Returns
    -------
    dict
        Image id without leading zeros (``"7"`` for ``007.bmp``) → class label.

    Raises
    ------
    DataFormatError
        For a file that is not UTF-8 text (e.g. saved as Latin-1 or UTF-16) or not a readable
        CSV, a label that is not an integer in 0..5, or an id listed twice.
    """
    path = Path(csv_path)
    labels: dict[str, int] = {}
    data = path.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        hint = "it starts with a UTF-16 byte-order mark; " if utf16 else ""
        line = data[:at].count(b"\n") + 1
        raise DataFormatError(
            f"{path} is not UTF-8 text ({hint}byte 0x{data[at]:02x} at offset {at}, line {line}); "
            "save the class labels as a UTF-8 CSV",
            path=path,
        ) from exc
    if "\x00" in text:  # valid UTF-8, but no CSV holds NULs: UTF-16 without a byte-order mark?
        at = data.index(b"\x00")
        line = data[:at].count(b"\n") + 1
        raise DataFormatError(
            f"{path} is not UTF-8 text (NUL byte at offset {at}, line {line}: UTF-16?); save the "
            "class labels as a UTF-8 CSV",
            path=path,
        )
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataFormatError(f"{path} is not a readable CSV file: {exc}", path=path) from exc
    if not rows:
        return labels
    header = [cell.strip().lower() for cell in rows[0]]
    start = 1 if header and not header[0].isdigit() else 0
    for line_no, row in enumerate(rows[start:], start=start + 1):
        if not row or not row[0].strip():
            continue
        key = _id_key(row[0].strip())
        value = row[1].strip() if len(row) > 1 else ""
        if value == "":
            label = 0
        else:
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            label = int(number) if number.is_integer() else -1
            if not 0 <= label < len(CLASS_NAMES):
                raise DataFormatError(
                    f"{path}, line {line_no}: class {value!r} is not one of 1..5 (or empty)",
                    path=path,
                )
        if key in labels:
            raise DataFormatError(
                f"{path}, line {line_no}: image {row[0]!r} listed twice", path=path
            )
        labels[key] = label
    return labels


def _id_key(ident: str) -> str:
    return str(int(ident)) if ident.isdigit() else ident


def _find_csv(folder: Path, which: int) -> Path | None:
    exact = folder / f"Class Labels of Dataset {which}.csv"
    if exact.is_file():
        return exact
    wanted = f"class labels of dataset {which}.csv"
    for candidate in folder.glob("*.csv"):
        if candidate.name.lower() == wanted:
            return candidate
    return None


def load_wbc(which: int, root: str | Path | None = None) -> SegmentationDataset:
    """Load WBC data set 1 or 2 of Zheng et al. (2018) from its published layout.

    Parameters
    ----------
    which : {1, 2}
        Data set 1 (300 images, 88–120 px a side, Jiangxi Tecom) or 2 (100 images, 300×300 px,
        CellaVision blog).
    root : str or Path, optional
        The ``wbc`` folder or a directory holding it; otherwise ``MEDGRAPH_DATA`` and the cache
        are searched (see :func:`medgraph.data.locate`). Nothing is downloaded.

    Returns
    -------
    SegmentationDataset
        ``source="real"``; images (H, W, 3) uint8; masks (H, W) uint8 in {0, 1, 2}; ids
        ``"001"`` …; class labels from the CSV (0 where missing or empty).

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the file: an unreadable image or mask, a missing mask, an image and mask of
        different sizes, an unknown mask value, a bad CSV row, or a folder without images.
    """
    if which not in (1, 2):
        raise ValueError(f"which must be 1 or 2, not {which!r}")
    folder = locate(f"wbc{which}", root)
    image_dir = folder / f"Dataset {which}"
    bmps = sorted(
        (p for p in image_dir.iterdir() if p.suffix.lower() == ".bmp" and p.is_file()),
        key=_sort_key,
    )
    if not bmps:
        raise DataFormatError(f"no .bmp images in {image_dir}", path=image_dir)

    csv_path = _find_csv(folder, which)
    table = read_class_labels(csv_path) if csv_path is not None else {}

    images, masks, ids, labels = [], [], [], []
    for bmp in bmps:
        mask_path = bmp.with_suffix(".png")
        if not mask_path.is_file():
            upper = bmp.with_suffix(".PNG")
            if not upper.is_file():
                raise DataFormatError(
                    f"mask missing for image {bmp}: expected {mask_path}", path=mask_path
                )
            mask_path = upper
        image = _read_image(bmp)
        grey = _read_mask(mask_path)
        if grey.shape != image.shape[:2]:
            raise DataFormatError(
                f"mask {mask_path} is {grey.shape[1]}x{grey.shape[0]} px but image {bmp.name} is "
                f"{image.shape[1]}x{image.shape[0]} px",
                path=mask_path,
            )
        masks.append(mask_to_labels(grey, mask_path))
        images.append(image)
        ids.append(bmp.stem)
        labels.append(table.get(_id_key(bmp.stem), 0))
    return SegmentationDataset(
        name=f"wbc{which}",
        source="real",
        images=images,
        masks=masks,
        ids=ids,
        class_labels=np.asarray(labels, dtype=np.int64),
        root=str(image_dir),
    )
