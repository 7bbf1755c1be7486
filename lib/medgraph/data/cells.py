"""Single-cell image classification sets: C-NMC 2019 (B-ALL vs normal), BCCD crops, phantoms.

The data of the sample-graph studies (a kNN graph whose nodes are whole cell images), one label
per image and no masks:

::

    C-NMC 2019 (training part)                  its public sample
    cnmc2019/training_data/fold_0/all/*.bmp      cnmc_sample/fold_0/all/*.bmp
                           fold_0/hem/*.bmp                  fold_0/hem/*.bmp
                           fold_1/…, fold_2/…                fold_1/…, fold_2/…

    BCCD crops (ImageFolder layout)             any ImageFolder layout
    bccd/BCCD_cropped/Basophil/*.jpg            ROOT/<class>/<image>
                      Eosinophil/ …  (5 classes)

C-NMC file names are ``UID_<patient>_<image>_<cell>_<all|hem>.bmp``; patients of the healthy
(``hem``) class are written ``H<k>`` (one copy writes ``h3`` for ``H3``; patient tokens are
upper-cased). BCCD crops are ``BloodImage_<NNNNN>_<K>.jpg``: crop ``K`` of source image ``NNNNN``.

Every reader returns a :class:`CellImageSet` with the patient (C-NMC) or the source image (BCCD)
as the *group* of each cell, so that a split can keep one patient's cells together, and the
official fold where the layout has one. :func:`make_cell_phantoms` is the seeded offline stand-in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.special import expit

from medgraph.data.binary import read_rgb
from medgraph.data.dataset import SegmentationDataset, subset_indices
from medgraph.data.dataset import data_fingerprint as _segmentation_fingerprint
from medgraph.data.errors import DataConfigError, DataFormatError
from medgraph.data.lesion_phantoms import _Outline
from medgraph.data.paths import locate
from medgraph.data.phantoms import _smooth_noise

__all__ = [
    "CellImageSet",
    "CNMC_CLASSES",
    "IMAGE_EXTENSIONS",
    "read_class_folders",
    "read_cnmc",
    "read_bccd",
    "make_cell_phantoms",
    "cnmc_patient",
    "bccd_source_image",
    "data_fingerprint",
]

#: Class names of C-NMC 2019: label 0 ``hem`` (normal B cell), label 1 ``all`` (B-ALL blast).
CNMC_CLASSES: tuple[str, ...] = ("hem", "all")
#: File endings (any case) that :func:`read_class_folders` reads by default.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")

_FOLD = re.compile(r"fold_(\d+)")
_CNMC_PATIENT = re.compile(r"^UID_([^_]+)_", re.IGNORECASE)
_BCCD_SOURCE = re.compile(r"^(BloodImage_\d+)_\d+$", re.IGNORECASE)
_CELL_SEED_OFFSET = 2000  # keeps the seed streams apart from the WBC and lesion phantoms'


# -- the container -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CellImageSet:
    """Single-cell images with one class label each: the input of a sample-graph classifier.

    Frozen: the fields cannot be reassigned (the arrays themselves are not copied, so do not
    write into them). :meth:`subset` makes a new set.

    Attributes
    ----------
    images : list of ndarray
        Each (H, W, 3) uint8 RGB; sizes may differ between images.
    labels : ndarray
        (N,) int64 indices into :attr:`class_names`.
    class_names : tuple of str
        Name of every class, ``class_names[label]``; unique.
    paths : tuple of str
        Each image's file relative to :attr:`root` (POSIX separators); ``""`` for phantoms.
        Default: all ``""``.
    groups : ndarray
        (N,) object array of str: what must stay on one side of a split. The patient id where the
        layout tells it (C-NMC), the source image (BCCD), else the file stem. Default: the file
        stem, or the image index for images without a path.
    folds : ndarray
        (N,) int64: the official fold (C-NMC ``fold_0/1/2`` give 0/1/2), ``-1`` where the layout
        has none. Default: all ``-1``.
    name : str
        Data-set name, e.g. ``"cnmc2019"`` (also for phantoms standing in for it; see ``source``).
    source : str
        ``"real"`` (read from disk) or ``"phantom"`` (synthetic).
    root : str or None
        Folder the :attr:`paths` are relative to (``None`` for phantoms).
    """

    images: list[np.ndarray]
    labels: np.ndarray
    class_names: tuple[str, ...]
    paths: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    folds: np.ndarray | None = None
    name: str = "cells"
    source: str = "real"
    root: str | None = None

    def __post_init__(self) -> None:
        def put(field: str, value: Any) -> None:
            object.__setattr__(self, field, value)

        if self.source not in ("real", "phantom"):
            raise ValueError(f"source must be 'real' or 'phantom', not {self.source!r}")
        images = list(self.images)
        n = len(images)
        put("images", images)
        put("labels", np.asarray(self.labels, dtype=np.int64).reshape(-1))
        names = tuple(str(c) for c in self.class_names)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{self.name}: class_names must be non-empty and unique: {names!r}")
        put("class_names", names)
        paths = tuple(str(p) for p in self.paths) if self.paths else ("",) * n
        put("paths", paths)
        if self.groups is None:
            groups = [Path(p).stem if p else str(i) for i, p in enumerate(paths)]
        else:
            groups = [str(g) for g in np.asarray(self.groups, dtype=object).reshape(-1)]
        put("groups", np.array(groups, dtype=object).reshape(-1))
        folds = np.full(n, -1, np.int64) if self.folds is None else self.folds
        put("folds", np.asarray(folds, dtype=np.int64).reshape(-1))
        lengths = {
            "labels": len(self.labels),
            "paths": len(self.paths),
            "groups": len(self.groups),
            "folds": len(self.folds),
        }
        if any(length != n for length in lengths.values()):
            found = ", ".join(f"{length} {key}" for key, length in lengths.items())
            raise ValueError(f"{self.name}: {n} images but {found}")
        for image, path in zip(images, paths, strict=True):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(
                    f"{self.name}/{path or '<phantom>'}: image must be (H, W, 3) uint8, "
                    f"got {image.shape} {image.dtype}"
                )
        if n and (self.labels.min() < 0 or self.labels.max() >= len(names)):
            raise ValueError(f"{self.name}: labels must lie in 0..{len(names) - 1}")
        if n and self.folds.min() < -1:
            raise ValueError(f"{self.name}: folds must be >= 0, or -1 for none")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: Sequence[int] | np.ndarray) -> CellImageSet:
        """A set of the chosen images, in the given order.

        Parameters
        ----------
        indices : sequence of int, or boolean array of length N

        Returns
        -------
        CellImageSet
            Sharing the image arrays with this one (no copies); same class names, name, source
            and root.
        """
        return dataclasses.replace(self, **self._subset_fields(subset_indices(indices, len(self))))

    def _subset_fields(self, idx: np.ndarray) -> dict[str, Any]:
        """The per-image fields restricted to positions ``idx`` (a subclass adds its own)."""
        return {
            "images": [self.images[i] for i in idx],
            "labels": self.labels[idx],
            "paths": tuple(self.paths[i] for i in idx),
            "groups": self.groups[idx],
            "folds": self.folds[idx],
        }

    def counts(self) -> dict[str, int]:
        """Number of images of every class, in class order (zeros included)."""
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts, strict=True)}

    def fingerprint(self) -> str:
        """SHA-256 (hex) over the class names, and every image's label, shape, dtype and bytes.

        Two sets with the same fingerprint hold the same pixels with the same labels in the same
        order. The name, paths, groups, folds and root are not part of it (the same cells read
        from another folder give the same fingerprint; a split is recorded separately). Like
        :func:`medgraph.data.dataset.data_fingerprint`, it must never change for unchanged data.
        """
        digest = hashlib.sha256()
        header = "\0".join(["CellImageSet", str(len(self)), *self.class_names])
        digest.update(f"{header}\0".encode())
        for image, label in zip(self.images, self.labels, strict=True):
            array = np.ascontiguousarray(image)
            digest.update(f"{int(label)}\0{array.shape}\0{array.dtype.str}\0".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for reports (:meth:`medgraph.reporting.Report.add_dataset`).

        Returns
        -------
        dict
            ``name``, ``source``, ``n_images``, ``height_range`` and ``width_range`` ([min, max]
            in pixels, or ``None``), ``class_names``, ``class_counts``, ``n_groups``, ``folds``
            (the distinct folds, sorted), ``fingerprint`` and ``root``.
        """
        heights = [int(im.shape[0]) for im in self.images]
        widths = [int(im.shape[1]) for im in self.images]
        return {
            "name": self.name,
            "source": self.source,
            "n_images": len(self),
            "height_range": [min(heights), max(heights)] if heights else None,
            "width_range": [min(widths), max(widths)] if widths else None,
            "class_names": list(self.class_names),
            "class_counts": self.counts(),
            "n_groups": int(len(set(self.groups.tolist()))),
            "folds": sorted({int(f) for f in self.folds}),
            "fingerprint": self.fingerprint(),
            "root": self.root,
        }


def data_fingerprint(data: SegmentationDataset | CellImageSet) -> str:
    """The data checksum of any data set :func:`medgraph.data.load_dataset` returns.

    A :class:`CellImageSet` gives :meth:`CellImageSet.fingerprint`; a segmentation data set
    gives :func:`medgraph.data.dataset.data_fingerprint` unchanged (the key of every stored run
    depends on it).

    Returns
    -------
    str
        64 hex digits.
    """
    if isinstance(data, CellImageSet):
        return data.fingerprint()
    return _segmentation_fingerprint(data)


# -- reading folders of images -------------------------------------------------------------------


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _class_files(
    root: Path,
    mapping: Mapping[str, str] | None,
    extensions: Sequence[str],
    skip_empty: bool,
) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """The image files of a folder-per-class layout, their labels and the class names."""
    exts = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    if mapping is None:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and _visible(p))
        pairs = [(folder, folder.name) for folder in folders]
    else:
        pairs = []
        for folder_name, label_name in mapping.items():
            folder = root / folder_name
            if not folder.is_dir():
                raise DataFormatError(
                    f"class folder {folder} (class {label_name!r}) does not exist", path=folder
                )
            pairs.append((folder, str(label_name)))
    if not pairs:
        raise DataFormatError(f"no class folders in {root}", path=root)
    class_names = tuple(dict.fromkeys(label for _, label in pairs))  # first appearance
    files: list[Path] = []
    labels: list[int] = []
    for folder, label_name in pairs:
        found = []
        for path in sorted(p for p in folder.iterdir() if _visible(p)):
            if path.is_dir():
                raise DataFormatError(
                    f"class folder {folder} holds a sub-folder {path.name}; expected images only",
                    path=path,
                )
            if path.suffix.lower() not in exts:
                raise DataFormatError(
                    f"{path} is not an image (expected {', '.join(exts)}) in class folder {folder}",
                    path=path,
                )
            if skip_empty and path.stat().st_size == 0:
                warnings.warn(f"skipping empty file {path} (0 bytes)", UserWarning, stacklevel=3)
                continue
            found.append(path)
        if not found:
            raise DataFormatError(f"class folder {folder} holds no images", path=folder)
        files.extend(found)
        labels.extend([class_names.index(label_name)] * len(found))
    return files, labels, class_names


def read_class_folders(
    root: str | Path,
    mapping: Mapping[str, str] | None = None,
    *,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    name: str = "class_folders",
    skip_empty: bool = False,
) -> CellImageSet:
    """Read a folder that holds one sub-folder of images per class (torchvision's ImageFolder).

    Parameters
    ----------
    root : str or Path
        The folder holding the class folders. Other files directly in it are ignored, and so are
        hidden folders and files (names starting with ``.``).
    mapping : mapping of str to str, optional
        Class-folder name → class name. Several folders may map to one class; folders not in it
        are left out. ``None``: every sub-folder is its own class, named as the folder.
    extensions : sequence of str
        File endings read as images (compared in lower case).
    name : str
        Data-set name recorded in the result.
    skip_empty : bool
        Skip zero-byte files with a warning naming each (otherwise they are unreadable images).

    Returns
    -------
    CellImageSet
        ``source="real"``, ``root=str(root)``; images (H, W, 3) uint8 RGB (grey, palette and
        RGBA files converted with PIL), ordered by class folder (sorted, or in ``mapping``
        order), then by file name; class names sorted (``mapping=None``) or in order of first
        appearance among ``mapping``'s values; paths ``"<folder>/<file>"``; groups the file stems;
        folds ``-1``.

    Raises
    ------
    DataConfigError
        When ``root`` does not exist or is not a folder.
    DataFormatError
        Naming the file or folder: no class folders (or an empty ``mapping``), a folder named in
        ``mapping`` that does not exist, a class folder without images, a sub-folder or a file
        with another ending inside a class folder, an unreadable or corrupt image.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DataConfigError(
            f"root={root} {what}; pass the folder that holds one sub-folder of images per class",
            setting="root",
            path=root,
        )
    files, labels, class_names = _class_files(root, mapping, extensions, skip_empty)
    paths = tuple(p.relative_to(root).as_posix() for p in files)
    return CellImageSet(
        images=[read_rgb(p) for p in files],
        labels=np.asarray(labels, dtype=np.int64),
        class_names=class_names,
        paths=paths,
        groups=np.array([p.stem for p in files], dtype=object),
        folds=np.full(len(files), -1, dtype=np.int64),
        name=name,
        source="real",
        root=str(root),
    )


def cnmc_patient(filename: str) -> str:
    """The patient of a C-NMC cell: the token after ``UID_``, upper-cased.

    ``"UID_11_1_2_all.bmp"`` gives ``"11"``, ``"UID_H7_1_2_hem.bmp"`` and ``"UID_h7_1_1_hem"``
    give ``"H7"``. A name without the ``UID_<patient>_`` prefix gives its stem.
    """
    stem = Path(filename).stem
    match = _CNMC_PATIENT.match(stem)
    return match.group(1).upper() if match else stem


def bccd_source_image(filename: str) -> str:
    """The source image of a BCCD crop: ``"BloodImage_00008_1.jpg"`` gives ``"BloodImage_00008"``.

    A name of another form gives its stem.
    """
    stem = Path(filename).stem
    match = _BCCD_SOURCE.match(stem)
    return match.group(1) if match else stem


def read_cnmc(root: str | Path | None = None) -> CellImageSet:
    """C-NMC 2019 (normal vs malignant B-ALL cells) from its official training layout.

    Reads ``training_data/fold_N/{all,hem}/*.bmp``, or the public sample's ``fold_N/{all,hem}/``
    at the top level of the data-set folder (see the module docstring). Zero-byte files inside
    the class folders are skipped with a warning; other files beside the fold folders (the
    sample's empty file named after the naming template, a README) are ignored.

    Parameters
    ----------
    root : str or Path, optional
        The data-set folder or a directory holding it; otherwise ``MEDGRAPH_DATA`` and the cache
        are searched (:func:`medgraph.data.locate`, registry name ``"cnmc2019"``). Nothing is
        downloaded.

    Returns
    -------
    CellImageSet
        ``name="cnmc2019"``, ``source="real"``, ``class_names=("hem", "all")`` (0 normal,
        1 leukemic blast); images 450×450×3 uint8, ordered by fold, class (``hem`` first) and
        file name; paths relative to the data-set folder (``root``); groups the patient ids
        (:func:`cnmc_patient`: ``"11"``, ``"H7"``); folds from ``fold_N``.

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        Naming the folder or file: no ``fold_N`` folder, two folders of one fold (``fold_1`` and
        ``fold_01``), a fold without ``all/`` or ``hem/``, a class folder without images, a
        sub-folder or a file that is not a ``.bmp`` in one, an unreadable image.
    """
    folder = locate("cnmc2019", root)
    base = folder / "training_data" if (folder / "training_data").is_dir() else folder
    fold_dirs: dict[int, Path] = {}
    for path in base.iterdir():
        match = _FOLD.fullmatch(path.name)
        if match and path.is_dir():
            fold = int(match.group(1))
            if fold in fold_dirs:
                raise DataFormatError(
                    f"folders {fold_dirs[fold]} and {path} are both fold {fold}", path=path
                )
            fold_dirs[fold] = path
    if not fold_dirs:
        raise DataFormatError(f"no fold_N folders in {base}", path=base)
    files: list[Path] = []
    labels: list[int] = []
    folds: list[int] = []
    for fold in sorted(fold_dirs):
        found, found_labels, _ = _class_files(
            fold_dirs[fold], {c: c for c in CNMC_CLASSES}, (".bmp",), skip_empty=True
        )
        files.extend(found)
        labels.extend(found_labels)
        folds.extend([fold] * len(found))
    return CellImageSet(
        images=[read_rgb(p) for p in files],
        labels=np.asarray(labels, dtype=np.int64),
        class_names=CNMC_CLASSES,
        paths=tuple(p.relative_to(folder).as_posix() for p in files),
        groups=np.array([cnmc_patient(p.name) for p in files], dtype=object),
        folds=np.asarray(folds, dtype=np.int64),
        name="cnmc2019",
        source="real",
        root=str(folder),
    )


def read_bccd(root: str | Path | None = None) -> CellImageSet:
    """The BCCD white-blood-cell crops: ``BCCD_cropped/<Class>/BloodImage_NNNNN_K.jpg``.

    Parameters
    ----------
    root : str or Path, optional
        The data-set folder (holding ``BCCD_cropped/``) or a directory holding it; otherwise
        ``MEDGRAPH_DATA`` and the cache are searched (:func:`medgraph.data.locate`, registry name
        ``"bccd"``). Nothing is downloaded.

    Returns
    -------
    CellImageSet
        ``name="bccd"``, ``source="real"``; every class folder is a class, named in lower case
        and sorted (``basophil, eosinophil, lymphocyte, monocyte, neutrophil`` in the published
        set: 3/88/33/20/207 of 351 crops); images (H, W, 3) uint8, 131–367 px a side; paths
        relative to the data-set folder (``root``); groups the source image
        (:func:`bccd_source_image`), so crops of one blood film image stay together; folds
        ``-1`` (the set has no official split). ``labels.csv`` is not read.

    Raises
    ------
    DataUnavailableError
        When no copy is found.
    DataFormatError
        As :func:`read_class_folders`, naming the folder or file; also when ``BCCD_cropped/``
        is missing.
    """
    folder = locate("bccd", root)
    crops = folder / "BCCD_cropped"
    if not crops.is_dir():
        raise DataFormatError(f"no BCCD_cropped folder in {folder}", path=folder)
    class_dirs = sorted(p.name for p in crops.iterdir() if p.is_dir() and _visible(p))
    data = read_class_folders(crops, {d: d.lower() for d in class_dirs}, name="bccd")
    return dataclasses.replace(
        data,
        paths=tuple(f"{crops.name}/{p}" for p in data.paths),
        groups=np.array([bccd_source_image(p) for p in data.paths], dtype=object),
        root=str(folder),
    )


# -- phantoms ------------------------------------------------------------------------------------


def _render_cell(size: int, level: float, rng: np.random.Generator) -> np.ndarray:
    """One single-cell phantom on black, (size, size, 3) uint8; ``level`` 0 healthy … 1 blast."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    side = float(size)
    scale = side / 96.0

    # the cell: a rotated, slightly elongated disc with a gently wavy outline, near the centre
    r_cell = rng.uniform(0.25, 0.37) * side
    elongation = rng.uniform(0.82, 1.0)
    angle = rng.uniform(0, 2 * np.pi)
    wave = _Outline.draw(rng, 0.05)
    cx, cy = side / 2 + rng.uniform(-0.04, 0.04, 2) * side
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / elongation
    f_cell = np.hypot(u, v) - r_cell * wave.factor(np.arctan2(v, u))
    a_cell = expit(-f_cell / (0.6 * scale))  # (H, W) opacity

    # the nucleus: round and moderate (healthy) … irregular and filling the cell (blast); it
    # keeps a rim of cytoplasm of at least ~1.5 px inside the cell outline
    ratio = rng.uniform(0.56, 0.72) + 0.14 * level  # mean nucleus radius / cell radius
    outline = _Outline.draw(rng, 0.04 + 0.18 * level)
    r_nuc = ratio * r_cell * elongation
    room = max(r_cell * elongation - r_nuc, 0.0)
    off_r, off_a = rng.uniform(0, 0.7) * room, rng.uniform(0, 2 * np.pi)
    nx, ny = cx + off_r * np.cos(off_a), cy + off_r * np.sin(off_a)
    ex, ey = xx - nx, yy - ny
    f_nuc = np.hypot(ex, ey) - r_nuc * outline.factor(np.arctan2(ey, ex))
    edge = 0.7 * scale
    a_nuc = expit(-f_nuc / edge) * expit(-(f_cell + 1.5 * scale) / edge)

    # stain: one colour jitter per image, shared by both classes
    stain = np.exp(rng.normal(0, 0.10, 3)) * rng.uniform(0.75, 1.25)
    cytoplasm = np.array([0.50, 0.30, 0.58]) * stain
    dense, open_ = np.array([0.28, 0.10, 0.33]), np.array([0.36, 0.14, 0.42])
    nucleus = ((1 - level) * dense + level * open_) * stain

    # chromatin: dense and smooth (healthy) … open, coarse and patchy with pale nucleoli (blast)
    grain = (2.6 - 1.4 * level) * scale
    contrast = rng.uniform(0.04, 0.10) + 0.14 * level
    chromatin = 1 + contrast * _smooth_noise((size, size), grain, rng)
    n_nucleoli = int(rng.binomial(3, 0.7 * level))
    for _ in range(n_nucleoli):
        rr, aa = r_nuc * 0.55 * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        px, py = nx + rr * np.cos(aa), ny + rr * np.sin(aa)
        r_spot = rng.uniform(0.08, 0.14) * r_nuc
        chromatin = chromatin + 0.25 * expit((r_spot - np.hypot(xx - px, yy - py)) / scale)
    cyto_texture = 1 + 0.04 * _smooth_noise((size, size), 3.0 * scale, rng)

    colour = (
        cytoplasm * cyto_texture[..., None] * (1 - a_nuc[..., None])
        + nucleus * np.clip(chromatin, 0.2, None)[..., None] * a_nuc[..., None]
    )
    img = colour * a_cell[..., None]  # black outside the cell, as in the C-NMC crops
    sigma = rng.uniform(0.4, 0.8) * scale
    img = gaussian_filter(img.astype(np.float32), sigma=(sigma, sigma, 0), truncate=3.0)
    noise = rng.uniform(0.005, 0.015) * rng.standard_normal(img.shape, dtype=np.float32)
    img = img + noise * a_cell[..., None]
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def make_cell_phantoms(
    n: int = 200,
    seed: int = 0,
    *,
    size: int = 96,
    n_classes: int = 2,
    class_names: Sequence[str] | None = None,
    name: str = "cell_phantoms",
) -> CellImageSet:
    """Synthetic single-cell images in the style of C-NMC crops: the offline classification set.

    Every image shows one stained cell on a black background (like the segmented C-NMC crops):
    a rotated, slightly elongated disc with a gently wavy outline and a purple cytoplasm, holding
    one nucleus. The classes differ only in the nucleus:

    - class 0, "healthy"-like (a mature lymphocyte): a round nucleus (a circle with weak random
      harmonics) with dense, smooth, dark chromatin; nucleus-to-cell radius ratio 0.56-0.72;
    - class 1, "blast"-like (a leukemic lymphoblast): an irregular, star-shaped outline (a
      circle whose radius carries random Fourier harmonics of orders 2-6, as in
      :func:`make_lesion_phantoms`), open, coarser and higher-contrast chromatin, lighter on
      average, with up to three pale nucleoli; a larger ratio, 0.70-0.86.

    With ``n_classes > 2`` class ``c`` sits at the step ``c / (n_classes - 1)`` of a ladder
    between the two: every property above is interpolated, so neighbouring classes overlap more
    than the two ends. Every image varies in cell size (radius 0.25-0.37 of the side),
    elongation, rotation, position, nucleus offset and stain colour and brightness (one jitter
    per image, the same for every class), then is blurred and made noisy inside the cell. The
    classes are meant to be separable from shape and texture but not from colour alone: the
    larger, lighter blast nucleus and the smaller, darker healthy one give similar mean colours.

    Rendering is vectorised numpy on a pixel grid; every image has its own seed stream.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int
        Seed; the same arguments give identical bytes.
    size : int
        Side of the square images in pixels; at least 32.
    n_classes : int
        Number of classes, at least 2 (see above).
    class_names : sequence of str, optional
        Names of the classes; default ``("healthy", "blast")`` for two classes and
        ``("level0", …)`` otherwise. The registry passes ``("hem", "all")`` for C-NMC.
    name : str
        Data-set name recorded in the result (the registry passes ``"cnmc2019"`` or ``"bccd"``).

    Returns
    -------
    CellImageSet
        ``source="phantom"``, ``root=None``; images (size, size, 3) uint8; labels balanced (the
        class counts differ by at most one, in a seeded random order); paths ``""``; groups
        ``"phantom<i>"`` (every cell its own patient); folds ``i % 3``.
    """
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    size = int(size)
    if size < 32:
        raise ValueError(f"size must be at least 32 px, not {size}")
    n_classes = int(n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, not {n_classes}")
    if class_names is None:
        names = (
            ("healthy", "blast") if n_classes == 2 else tuple(f"level{c}" for c in range(n_classes))
        )
    else:
        names = tuple(str(c) for c in class_names)
        if len(names) != n_classes:
            raise ValueError(f"{len(names)} class names for {n_classes} classes: {names!r}")
    streams = np.random.SeedSequence([int(seed), _CELL_SEED_OFFSET, n_classes]).spawn(n + 1)
    labels = np.random.default_rng(streams[0]).permutation(np.arange(n) % n_classes)
    levels = labels / (n_classes - 1)
    images = [
        _render_cell(size, float(level), np.random.default_rng(stream))
        for level, stream in zip(levels, streams[1:], strict=True)
    ]
    return CellImageSet(
        images=images,
        labels=labels.astype(np.int64),
        class_names=names,
        paths=("",) * n,
        groups=np.array([f"phantom{i}" for i in range(n)], dtype=object),
        folds=np.arange(n, dtype=np.int64) % 3,
        name=name,
        source="phantom",
        root=None,
    )
