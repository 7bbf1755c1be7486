"""Reading binary-mask layouts: images as RGB, masks as grey levels thresholded at > 127.

Shared by the readers of ISIC 2016 (:mod:`medgraph.data.isic`), PH2 (:mod:`medgraph.data.ph2`)
and EMDS-5/6 (:mod:`medgraph.data.emds`). Their masks are white (255) objects on black (0); the
EMDS masks are anti-aliased, so every mask is thresholded: a pixel is foreground when its grey
level exceeds :data:`MASK_THRESHOLD` (127 is background, 128 foreground). A mask may be stored as
grey, grey with alpha, palette, 1-bit, RGB(A) or 16-bit; colour masks are reduced to grey by
luminance (equal channels keep their value exactly). Every problem is a
:class:`~medgraph.data.DataFormatError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from medgraph.data.errors import DataFormatError

__all__ = [
    "MASK_THRESHOLD",
    "IMAGE_SUFFIXES",
    "read_rgb",
    "read_grey",
    "binarize",
    "read_binary_mask",
    "read_pair",
    "list_images",
]

#: A mask pixel is foreground when its grey level (0..255) is greater than this.
MASK_THRESHOLD = 127
#: File endings (lower case) read as images.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_READ_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read an image as RGB; grey, palette and RGBA images are converted (alpha is dropped).

    Returns
    -------
    ndarray
        (H, W, 3) uint8.

    Raises
    ------
    DataFormatError
        When the file cannot be read as an image.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            rgb = im if im.mode == "RGB" else im.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8)
    except _READ_ERRORS as exc:
        raise DataFormatError(f"cannot read image {path}: {exc}", path=path) from exc


def read_grey(path: str | Path) -> np.ndarray:
    """Read a mask as grey levels 0..255, whatever its mode.

    Grey (``L``) is read as is; grey with alpha loses the alpha; 1-bit, palette and colour masks
    are converted to grey by luminance; 16-bit masks keep their high byte.

    Returns
    -------
    ndarray
        (H, W) uint8.

    Raises
    ------
    DataFormatError
        When the file cannot be read, or holds 32-bit integer or float pixels.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode == "L":
                return np.asarray(im, dtype=np.uint8)
            if im.mode.startswith("I;16"):
                return (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
            if im.mode in ("I", "F"):
                raise DataFormatError(
                    f"mask {path} has 32-bit pixels (mode {im.mode}); expected 8-bit grey levels",
                    path=path,
                )
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except _READ_ERRORS as exc:
        raise DataFormatError(f"cannot read mask {path}: {exc}", path=path) from exc


def binarize(grey: np.ndarray, path: str | Path = "<array>") -> np.ndarray:
    """Threshold grey levels at :data:`MASK_THRESHOLD`.

    Parameters
    ----------
    grey : ndarray
        (H, W) uint8 grey levels (0 background, 255 foreground, anti-aliased values between).
    path : str or Path
        Named in error messages.

    Returns
    -------
    ndarray
        (H, W) uint8: 1 where ``grey > 127``, else 0.

    Raises
    ------
    DataFormatError
        When the mask holds only the values 0 and 1 (class indices rather than grey levels:
        thresholding would silently make it empty).
    """
    grey = np.asarray(grey)
    if grey.size and int(grey.max()) == 1:
        raise DataFormatError(
            f"mask {path} holds only the values 0 and 1: it looks like class indices, but the "
            "published masks are white (255) on black (0)",
            path=path,
        )
    return (grey > MASK_THRESHOLD).astype(np.uint8)


def read_binary_mask(path: str | Path) -> np.ndarray:
    """Read a mask file and threshold it: :func:`read_grey` then :func:`binarize`.

    Returns
    -------
    ndarray
        (H, W) uint8 in {0, 1}.
    """
    return binarize(read_grey(path), path)


def read_pair(image_path: str | Path, mask_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an image and its mask, and check that their sizes agree.

    Returns
    -------
    image : ndarray
        (H, W, 3) uint8.
    mask : ndarray
        (H, W) uint8 in {0, 1}.

    Raises
    ------
    DataFormatError
        Naming the file: unreadable image or mask, class-index mask, or a mask whose size
        differs from its image's.
    """
    image_path, mask_path = Path(image_path), Path(mask_path)
    image = read_rgb(image_path)
    mask = read_binary_mask(mask_path)
    if mask.shape != image.shape[:2]:
        raise DataFormatError(
            f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} px but image {image_path.name} "
            f"is {image.shape[1]}x{image.shape[0]} px",
            path=mask_path,
        )
    return image, mask


def list_images(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Image files in a folder (:data:`IMAGE_SUFFIXES`, any case), sorted by path.

    Parameters
    ----------
    folder : str or Path
    recursive : bool
        Also look in sub-folders (e.g. EMDS-6's one folder per class).

    Returns
    -------
    list of Path
        Hidden files (names starting with ``.``) are skipped.
    """
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )
