"""ISIC 2017 part 3 (melanoma vs other lesions) as an image-classification set, and its phantoms.

The data of the melanoma study (notebook 06): whole dermoscopic images with one binary label,
no masks. The published layout (official archive, or the team's 256×256 public copy)::

    isic2017/
      ISIC-2017_Training_Data/ISIC_NNNNNNN.jpg          2000 images (the official archive also
                                                        holds *_superpixels.png and a metadata
                                                        CSV; both are ignored)
      ISIC-2017_Validation_Data/ISIC_NNNNNNN.jpg        150
      ISIC-2017_Test_v2_Data/ISIC_NNNNNNN.jpg           600
      ISIC-2017_Training_Part3_GroundTruth.csv          official: image_id,melanoma,
      ISIC-2017_Validation_Part3_GroundTruth.csv          seborrheic_keratosis (0/1)
      ISIC-2017_Test_v2_Part3_GroundTruth.csv
      ISIC-2017_Training_Classes.csv                    public copy: image_id,melanoma ("0.0")
      ISIC-2017_Validation_Classes.csv
      ISIC-2017_Test_v2_Part3_GroundTruth_mapped_by_sorted_id.csv

For every part the official ground-truth name is used when present, otherwise the copy's name
(:data:`ISIC2017_PARTS`). Labels are 1 melanoma, 0 other (nevus or seborrheic keratosis). The
melanoma paper uses training + test: 2600 images, 491 melanomas (374 + 117).

:func:`make_melanoma_phantoms` is the seeded offline stand-in: dermoscopy lesion phantoms
(:func:`medgraph.data.make_lesion_phantoms`) post-processed into two classes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter
from scipy.special import expit

from medgraph.data.binary import read_rgb
from medgraph.data.cells import CellImageSet
from medgraph.data.errors import DataFormatError
from medgraph.data.paths import locate
from medgraph.data.phantoms import _smooth_noise

__all__ = [
    "ISIC2017_CLASSES",
    "ISIC2017_PARTS",
    "LesionImageSet",
    "read_isic2017",
    "read_isic2017_labels",
    "make_melanoma_phantoms",
]

#: Class names: label 0 other (nevus or seborrheic keratosis), label 1 melanoma.
ISIC2017_CLASSES: tuple[str, ...] = ("other", "melanoma")
#: Part name → (image folder, accepted ground-truth CSV names, official name first).
ISIC2017_PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "train": (
        "ISIC-2017_Training_Data",
        ("ISIC-2017_Training_Part3_GroundTruth.csv", "ISIC-2017_Training_Classes.csv"),
    ),
    "validation": (
        "ISIC-2017_Validation_Data",
        ("ISIC-2017_Validation_Part3_GroundTruth.csv", "ISIC-2017_Validation_Classes.csv"),
    ),
    "test": (
        "ISIC-2017_Test_v2_Data",
        (
            "ISIC-2017_Test_v2_Part3_GroundTruth.csv",
            "ISIC-2017_Test_v2_Part3_GroundTruth_mapped_by_sorted_id.csv",
        ),
    ),
}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_MELANOMA_SEED_OFFSET = 3000  # keeps the seed streams apart from the other phantoms'


# -- the container -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LesionImageSet(CellImageSet):
    """A :class:`~medgraph.data.CellImageSet` of whole lesion images that records each one's part.

    Everything of :class:`~medgraph.data.CellImageSet` applies (images, labels, class names,
    paths, groups, folds, :meth:`counts`, :meth:`fingerprint`; :func:`medgraph.data.
    data_fingerprint` accepts it); the part is not in the fingerprint.

    Attributes
    ----------
    parts : tuple of str
        The official part of every image (``"train"``, ``"validation"``, ``"test"``), or
        ``"phantom"``. Default: all ``""``.
    """

    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        parts = tuple(str(p) for p in self.parts) if self.parts else ("",) * len(self.images)
        if len(parts) != len(self.images):
            raise ValueError(f"{self.name}: {len(self.images)} images but {len(parts)} parts")
        object.__setattr__(self, "parts", parts)

    def _subset_fields(self, idx: np.ndarray) -> dict[str, Any]:
        """The base fields plus ``parts``, restricted to positions ``idx``."""
        return super()._subset_fields(idx) | {"parts": tuple(self.parts[i] for i in idx)}

    def describe(self) -> dict[str, Any]:
        """The base summary plus ``parts``: {part: {class name: count}} in order of appearance."""
        out = super().describe()
        parts: dict[str, dict[str, int]] = {}
        for part in dict.fromkeys(self.parts):
            labels = self.labels[np.asarray(self.parts) == part]
            counts = np.bincount(labels, minlength=len(self.class_names))
            parts[part] = {c: int(k) for c, k in zip(self.class_names, counts, strict=True)}
        out["parts"] = parts
        return out


# -- the reader ----------------------------------------------------------------------------------


def _binary(value: str, column: str, path: Path, line: int) -> int:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if number not in (0.0, 1.0):
        raise DataFormatError(
            f"{path}, line {line}: {column} must be 0 or 1, not {value!r}", path=path
        )
    return int(number)


def read_isic2017_labels(path: str | Path) -> dict[str, int]:
    """Read an ISIC 2017 part-3 ground-truth CSV: image id → 1 melanoma / 0 other.

    Accepts the official form (``image_id,melanoma,seborrheic_keratosis`` with 0/1) and the
    public copy's (``image_id,melanoma`` with ``0.0``/``1.0``); extra columns, a byte-order mark,
    Windows line ends and blank rows (also rows of commas only) are tolerated.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to int
        In file order.

    Raises
    ------
    DataFormatError
        Naming the file (and line): unreadable, no ``image_id`` or ``melanoma`` column, an empty
        or repeated image id, a label other than 0/1, or an image marked both melanoma and
        seborrheic keratosis.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"cannot read {path}: {exc}", path=path) from exc
    if not rows:
        raise DataFormatError(f"{path} is empty", path=path)
    header = [h.strip().lower() for h in rows[0]]
    if "image_id" not in header or "melanoma" not in header:
        raise DataFormatError(
            f"{path}: expected the columns image_id and melanoma, found {rows[0]!r}", path=path
        )
    i_id, i_mel = header.index("image_id"), header.index("melanoma")
    i_sk = header.index("seborrheic_keratosis") if "seborrheic_keratosis" in header else None
    labels: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [c.strip() for c in row] + [""] * len(header)
        image_id = cells[i_id]
        if not image_id:
            raise DataFormatError(f"{path}, line {line}: empty image_id", path=path)
        if image_id in labels:
            raise DataFormatError(f"{path}, line {line}: image {image_id} listed twice", path=path)
        label = _binary(cells[i_mel], "melanoma", path, line)
        if i_sk is not None and label and _binary(cells[i_sk], "seborrheic_keratosis", path, line):
            raise DataFormatError(
                f"{path}, line {line}: image {image_id} is both melanoma and seborrheic keratosis",
                path=path,
            )
        labels[image_id] = label
    return labels


def _ground_truth(folder: Path, part: str) -> Path:
    names = ISIC2017_PARTS[part][1]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise DataFormatError(
        f"no ground truth for the {part} part in {folder}: expected {' or '.join(names)}",
        path=folder,
    )


def _image_files(images_dir: Path) -> dict[str, Path]:
    """Image id → file of every image in the folder (superpixel maps and hidden files ignored)."""
    files: dict[str, Path] = {}
    for path in sorted(images_dir.iterdir()):
        if (
            path.name.startswith(".")
            or not path.is_file()
            or path.suffix.lower() not in _IMAGE_SUFFIXES
            or path.stem.endswith("_superpixels")
        ):
            continue
        if path.stem in files:
            raise DataFormatError(
                f"two images of {path.stem} in {images_dir}: {files[path.stem].name} and "
                f"{path.name}",
                path=path,
            )
        files[path.stem] = path
    return files


def read_isic2017(
    root: str | Path | None = None, parts: Sequence[str] = ("train", "test")
) -> LesionImageSet:
    """ISIC 2017 part 3 (melanoma detection) from its published layout.

    Every image listed in a part's ground-truth CSV must exist in the part's folder, and every
    image in the folder must be listed (an unlisted image is an error, not a warning: a copy
    that holds other images than its labels is not the published set). ``*_superpixels.png``,
    hidden files and non-image files in the folders are ignored.

    Parameters
    ----------
    root : str or Path, optional
        The data-set folder or a directory holding it; otherwise ``MEDGRAPH_DATA`` and the cache
        are searched (:func:`medgraph.data.locate`, registry name ``"isic2017"``). Nothing is
        downloaded.
    parts : sequence of {"train", "validation", "test"}
        Which parts to read, in this order. The default, training + test, is the melanoma
        paper's set: 2600 images, 491 melanomas.

    Returns
    -------
    LesionImageSet
        ``name="isic2017"``, ``source="real"``, ``class_names=("other", "melanoma")``; images
        (H, W, 3) uint8 RGB at their stored size (any size; 256×256 in the public copy, several
        megapixels in the official archive: :meth:`describe` reports the range), ordered by part
        then image id; paths ``"<image folder>/<file>"`` relative to the data-set folder
        (``root``); groups the image ids; folds ``-1``; ``parts`` the part of every image.

    Raises
    ------
    ValueError
        For an unknown or repeated part.
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the file or folder: a missing image folder or ground-truth CSV, a malformed CSV
        (:func:`read_isic2017_labels`), a listed image that does not exist, an image that is not
        listed, an image id in two parts, an unreadable image.
    """
    parts = tuple(parts)
    unknown = [p for p in parts if p not in ISIC2017_PARTS]
    if unknown or not parts or len(set(parts)) != len(parts):
        raise ValueError(
            f"parts must be distinct names among {', '.join(ISIC2017_PARTS)}, not {parts!r}"
        )
    folder = locate("isic2017", root)
    files: list[Path] = []
    labels: list[int] = []
    ids: list[str] = []
    part_of: list[str] = []
    seen: dict[str, str] = {}
    for part in parts:
        images_dir = folder / ISIC2017_PARTS[part][0]
        if not images_dir.is_dir():
            raise DataFormatError(
                f"no {part} images: folder {images_dir} does not exist", path=images_dir
            )
        csv_path = _ground_truth(folder, part)
        listed = read_isic2017_labels(csv_path)
        found = _image_files(images_dir)
        missing = [i for i in listed if i not in found]
        if missing:
            first = images_dir / f"{missing[0]}.jpg"
            raise DataFormatError(
                f"image {first} listed in {csv_path.name} does not exist ({len(missing)} listed "
                "images missing)",
                path=first,
            )
        extra = [i for i in found if i not in listed]
        if extra:
            raise DataFormatError(
                f"image {found[extra[0]]} is not listed in {csv_path.name} ({len(extra)} "
                "unlisted images)",
                path=found[extra[0]],
            )
        for image_id in sorted(listed):
            if image_id in seen:
                raise DataFormatError(
                    f"image {image_id} is in both the {seen[image_id]} and the {part} part",
                    path=found[image_id],
                )
            seen[image_id] = part
            files.append(found[image_id])
            labels.append(listed[image_id])
            ids.append(image_id)
            part_of.append(part)
    return LesionImageSet(
        images=[read_rgb(p) for p in files],
        labels=np.asarray(labels, dtype=np.int64),
        class_names=ISIC2017_CLASSES,
        paths=tuple(p.relative_to(folder).as_posix() for p in files),
        groups=np.array(ids, dtype=object),
        folds=np.full(len(files), -1, dtype=np.int64),
        name="isic2017",
        source="real",
        root=str(folder),
        parts=tuple(part_of),
    )


# -- phantoms ------------------------------------------------------------------------------------

#: Colours (RGB in [0, 1]) of the blotches painted into the lesions of the phantoms.
_BLUE_GREY = (0.38, 0.43, 0.54)
_DARK_BROWN = (0.22, 0.12, 0.08)
_BLACK = (0.08, 0.06, 0.06)
_LIGHT_BROWN = (0.62, 0.42, 0.30)


@dataclass(frozen=True)
class _Look:
    """How one class of phantom is edited: ranges (low, high) drawn uniformly per image."""

    bulge: tuple[float, float]  # outward bulge on one side, × the equivalent radius
    ragged: tuple[float, float]  # smooth noise on the signed distance, × the equivalent radius
    damp: tuple[float, float]  # fraction of the large-scale colour variation removed
    blotches: tuple[int, int]  # number of blotches, low..high inclusive
    blotch_chance: float  # probability of having any blotch
    palette: tuple[tuple[float, float, float], ...]  # colours of the blotches
    first_chance: float  # probability that the first blotch has the palette's first colour
    opacity: tuple[float, float]


_NEVUS = _Look(
    bulge=(0.0, 0.3),
    ragged=(0.0, 0.07),
    damp=(0.0, 0.6),
    blotches=(1, 2),
    blotch_chance=0.4,
    palette=(_BLUE_GREY, _LIGHT_BROWN, _DARK_BROWN),
    first_chance=0.25,
    opacity=(0.2, 0.6),
)
_MELANOMA = _Look(
    bulge=(0.05, 0.4),
    ragged=(0.01, 0.09),
    damp=(0.0, 0.3),
    blotches=(1, 4),
    blotch_chance=0.9,
    palette=(_BLUE_GREY, _DARK_BROWN, _BLACK),
    first_chance=0.6,
    opacity=(0.3, 0.8),
)


def _local_mean(img: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: the ``weight``-ed local mean colour at scale ``sigma`` (px).

    Computed on a grid subsampled by about ``sigma / 3`` and brought back by repetition and a
    light blur (the result is smooth at that scale anyway). Returns (H, W, 3) float32.
    """
    height, width = weight.shape
    step = max(1, int(sigma / 3))
    num = (img * weight[..., None])[::step, ::step]
    den = weight[::step, ::step]
    small_sigma = sigma / step
    num = gaussian_filter(num, sigma=(small_sigma, small_sigma, 0), truncate=3.0)
    den = gaussian_filter(den, sigma=small_sigma, truncate=3.0)[..., None]
    total = max(float(weight.sum()), 1.0)
    fallback = (img * weight[..., None]).sum((0, 1)) / total
    small = np.where(den > 1e-3, num / np.maximum(den, 1e-3), fallback).astype(np.float32)
    big = np.repeat(np.repeat(small, step, axis=0), step, axis=1)[:height, :width]
    if step > 1:
        big = gaussian_filter(big, sigma=(step / 2, step / 2, 0), truncate=2.0)
    return big


def _remodel(
    image: np.ndarray,
    mask: np.ndarray,
    hair: np.ndarray,
    melanoma: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Turn one dermoscopy lesion phantom into a nevus-like or melanoma-like image.

    The outline is moved by an edit of the mask's signed distance: a bulge on one side
    (asymmetry) plus smooth fine-scale noise (a ragged border). A band around the old and the
    new border is repainted, skin with the local skin colour and lesion with the local lesion
    colour (normalised convolutions), and blurred into a fuzzy edge. Then the lesion's
    large-scale colour variation is damped and blotches are painted in, and the hairs are put
    back on top. The class's :class:`_Look` gives the ranges. Returns (H, W, 3) uint8.
    """
    height, width = mask.shape
    side = float(min(height, width))
    scale = max(side / 128.0, 1.0)
    original = image.astype(np.float32) / 255.0
    inside = mask.astype(bool)
    radius = math.sqrt(max(int(inside.sum()), 1) / math.pi)
    signed = distance_transform_edt(~inside) - distance_transform_edt(inside)  # < 0 inside
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)

    # the new outline: a bulge centred on a random boundary pixel, and a ragged border
    look = _MELANOMA if melanoma else _NEVUS
    bulge, ragged = rng.uniform(*look.bulge), rng.uniform(*look.ragged)
    boundary = np.argwhere(np.abs(signed) <= 1.0)
    py, px = boundary[rng.integers(len(boundary))] if len(boundary) else (height / 2, width / 2)
    spread = rng.uniform(0.3, 0.6) * radius
    push = bulge * radius * np.exp(-((yy - py) ** 2 + (xx - px) ** 2) / (2 * spread**2))
    noise = _smooth_noise((height, width), max(0.015 * side, 1.0), rng)
    field = signed - push - ragged * radius * noise
    new = field < 0

    # repaint the band around both borders, then blur the change into a fuzzy edge
    band = 3.0 * scale
    clean = hair < 0.1
    skin = _local_mean(original, ((signed > band) & clean).astype(np.float32), 0.06 * side)
    lesion = _local_mean(original, ((signed < -band) & clean).astype(np.float32), 0.06 * side)
    mottle = 1 + 0.06 * _smooth_noise((height, width), 0.02 * side, rng)[..., None]
    near = (np.abs(signed) < band) | (np.abs(field) < band) | (new != inside)
    img = np.where((near & new)[..., None], lesion * mottle, original)
    img = np.where((near & ~new)[..., None], skin, img)
    sigma = rng.uniform(0.8, 2.0) * scale
    img = original + gaussian_filter(img - original, sigma=(sigma, sigma, 0), truncate=3.0)

    # colour: a uniform nevus, or variegated blotches inside the new outline
    weight = gaussian_filter(new.astype(np.float32), sigma, truncate=3.0)
    damp = rng.uniform(*look.damp)
    if damp > 0:
        smooth = _local_mean(img, new.astype(np.float32), 0.05 * side)
        mean = (img * new[..., None]).sum((0, 1)) / max(float(new.sum()), 1.0)
        img = img - damp * weight[..., None] * (smooth - mean)
    n_blotches = int(rng.integers(look.blotches[0], look.blotches[1] + 1))
    if rng.random() >= look.blotch_chance:
        n_blotches = 0
    palette = look.palette
    first = 0 if rng.random() < look.first_chance else int(rng.integers(1, len(palette)))
    interior = np.argwhere(field < -0.2 * radius)
    if len(interior) == 0:
        interior = np.argwhere(new)
    wobble = _smooth_noise((height, width), max(0.02 * side, 1.0), rng)
    for k in range(n_blotches if len(interior) else 0):
        pick = first if k == 0 else int(rng.integers(len(palette)))
        colour = np.asarray(palette[pick], np.float32)
        colour = colour * np.exp(rng.normal(0, 0.08, 3)).astype(np.float32)
        cy, cx = interior[rng.integers(len(interior))]
        r_blot = rng.uniform(0.2, 0.45) * radius
        shape = np.hypot(yy - cy, xx - cx) / r_blot - 0.4 * wobble
        strength = rng.uniform(*look.opacity)
        alpha = (expit((1 - shape) * 6) * weight * strength)[..., None]
        img = img * (1 - alpha) + colour * alpha

    # the hairs lie over everything: keep the original pixels where they are
    img = img * (1 - hair[..., None]) + original * hair[..., None]
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def make_melanoma_phantoms(
    n: int,
    seed: int = 0,
    size: int = 256,
    melanoma_fraction: float = 0.19,
    *,
    name: str = "isic2017",
) -> LesionImageSet:
    """Seeded two-class dermoscopy phantoms: the offline stand-in for ISIC 2017 part 3.

    Every image starts as a dermoscopy lesion phantom, drawn by the renderer behind
    :func:`medgraph.data.make_lesion_phantoms` (style ``"dermoscopy"``: skin texture, a
    brownish star-shaped lesion darker at its centre with dark globules, hairs, uneven light,
    the dark corners of the field of view), which is then edited with its exact mask:

    - label 0, "other" (nevus-like): a small bulge on one side (0-0.3 of the lesion's
      equivalent radius) and a faintly ragged border (0-0.07 radius of smooth noise added to the
      signed distance); the lesion's large-scale colour variation is damped by 0-60 % towards
      its mean colour; 40 % get 1-2 faint blotches (opacity 0.2-0.6), blue-grey in a quarter of
      them, otherwise light or dark brown;
    - label 1, "melanoma": a larger bulge (0.05-0.4 radius: asymmetry), a more ragged border
      (0.01-0.09 radius: irregular border), colour variation damped by 0-30 % only; 90 % get
      1-4 stronger blotches (opacity 0.3-0.8: colour variegation), the first blue-grey in 60 %
      of them, the others blue-grey, dark brown or black.

    The ranges overlap, and size, position, skin tone, hairs and light vary alike in both
    classes: the classes are separable by colour, shape and texture features, but not
    perfectly (on 240 phantoms of 128 px, 30 % melanoma, a logistic regression on
    :func:`medgraph.melanoma.conventional.conventional_features` reaches a 5-fold CV ROC AUC
    of about 0.85; the best single feature about 0.78). The edit repaints a band around the
    old and new borders (local skin or lesion colour), blurs it into a fuzzy edge and puts the
    hairs back on top, so it leaves no seams. The ranges are in ``_NEVUS`` and ``_MELANOMA``.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int
        Seed; the same arguments give identical bytes. Every image has its own seed stream,
        independent of the other images and of ``n``.
    size : int
        Side of the square images in pixels; at least 32 (256 like the team's ISIC copy).
    melanoma_fraction : float
        Fraction of melanomas, in [0, 1]: ``round(n * melanoma_fraction)`` images get label 1,
        in a seeded random order (0.19 ≈ 491 / 2600, the paper's set).
    name : str
        Data-set name recorded in the result.

    Returns
    -------
    LesionImageSet
        ``source="phantom"``, ``root=None``, ``class_names=("other", "melanoma")``; images
        (size, size, 3) uint8; paths ``""``; groups ``"phantom<i>"``; folds ``-1``; parts
        ``"phantom"``. About 55 ms per 256×256 image.
    """
    from medgraph.data.lesion_phantoms import _render_dermoscopy  # numpy/scipy rendering

    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    size = int(size)
    if size < 32:
        raise ValueError(f"size must be at least 32 px, not {size}")
    if not 0.0 <= float(melanoma_fraction) <= 1.0:
        raise ValueError(f"melanoma_fraction must lie in [0, 1], not {melanoma_fraction}")
    n_melanoma = int(round(n * float(melanoma_fraction)))
    streams = np.random.SeedSequence([int(seed), _MELANOMA_SEED_OFFSET]).spawn(n + 1)
    order = np.random.default_rng(streams[0]).permutation(n)
    labels = (order < n_melanoma).astype(np.int64)
    images = []
    for label, stream in zip(labels, streams[1:], strict=True):
        draw, edit = (np.random.default_rng(s) for s in stream.spawn(2))
        image, mask, hair = _render_dermoscopy(size, size, draw)
        images.append(_remodel(image, mask, hair, bool(label), edit))
    return LesionImageSet(
        images=images,
        labels=labels,
        class_names=ISIC2017_CLASSES,
        paths=("",) * n,
        groups=np.array([f"phantom{i}" for i in range(n)], dtype=object),
        folds=np.full(n, -1, dtype=np.int64),
        name=name,
        source="phantom",
        root=None,
        parts=("phantom",) * n,
    )
