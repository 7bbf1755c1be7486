"""The registry: what the project knows about every data set its studies use.

Each :class:`DatasetInfo` records the official source, the licence, the citation, the published
folder layout, the expected file counts, whether :func:`medgraph.data.fetch` can download it, and
how to get it otherwise; where a loader exists, its :class:`Loader` holds the function that reads
the published layout and the phantom generator that stands in for it offline. A loader returns a
:class:`~medgraph.data.SegmentationDataset` (the segmentation sets) or a
:class:`~medgraph.data.CellImageSet` (the cell-classification sets ``cnmc2019`` and ``bccd``, and
``isic2017`` as its subclass :class:`~medgraph.data.LesionImageSet`).
The registry never touches the network or the disk, and imports no loader until one is called
(the readers import :mod:`medgraph.data.wbc`, :mod:`medgraph.data.cells` and
:mod:`medgraph.data.phantoms` lazily, which also avoids an import cycle: the readers use
:func:`medgraph.data.locate`, which uses this registry).

Downloads and checksums
-----------------------
Automatic data sets list their :class:`Download` files. Where the registry pins a ``sha256``, a
download whose digest differs is rejected. Where it does not (``sha256=None``: the archive is not
versioned upstream, e.g. a GitHub branch archive, or its digest is not known to us), the fetch
instead verifies the layout and the file counts after extraction and records the sha256 of what it
downloaded in ``.medgraph-fetch.json`` inside the data-set folder, so a run can still say exactly
which bytes it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from medgraph.data.errors import UnknownDatasetError

if TYPE_CHECKING:
    from medgraph.data.cells import CellImageSet
    from medgraph.data.dataset import SegmentationDataset
    from medgraph.data.isic2017 import LesionImageSet

__all__ = [
    "Download",
    "Loader",
    "DatasetInfo",
    "REGISTRY",
    "get_info",
    "names",
    "read_wbc1",
    "read_wbc2",
    "wbc_phantoms",
    "read_emds5",
    "read_emds6",
    "read_isic2016",
    "read_isic2017",
    "read_ph2",
    "emds5_phantoms",
    "emds6_phantoms",
    "isic2016_phantoms",
    "isic2017_phantoms",
    "ph2_phantoms",
    "read_cnmc2019",
    "read_bccd",
    "cell_phantoms",
]


@dataclass(frozen=True)
class Download:
    """One file of an automatic data set.

    Attributes
    ----------
    url : str
        Where to download it from (``https://``; ``file://`` also works, e.g. for tests).
    filename : str
        Name to save it under.
    sha256 : str or None
        Pinned hex digest; ``None`` when unknown (see the module docstring).
    extract : bool
        Unpack it as a zip archive into the data-set folder (the archive is deleted afterwards).
    strip_top : bool
        When extracting, drop the archive's single top-level folder (GitHub archives wrap the
        repository in ``<repo>-<branch>/``).
    """

    url: str
    filename: str
    sha256: str | None = None
    extract: bool = False
    strip_top: bool = False


def _qualified_name(function: Callable[..., object]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{name}" if module else name


@dataclass(frozen=True)
class Loader:
    """How :func:`medgraph.data.load_dataset` reads a data set, and imitates it offline.

    Attributes
    ----------
    read : callable
        ``read(root)`` returns the real data set, read from its published layout: a
        :class:`~medgraph.data.SegmentationDataset` for the segmentation sets, a
        :class:`~medgraph.data.CellImageSet` for the cell-classification sets; ``root`` is as
        for :func:`medgraph.data.locate` (``None``: search ``MEDGRAPH_DATA`` and the cache).
    make_phantoms : callable
        ``make_phantoms(n, seed=seed, style=phantom_style)`` returns ``n`` seeded synthetic
        images in the style of the data set, of the same type as ``read`` returns (with masks
        for the segmentation sets, with class labels for the cell sets).
    phantom_style : str
        The style passed to ``make_phantoms``.
    real_size : int
        Number of images of the complete real set: the default number of phantoms.
    """

    read: Callable[[str | Path | None], SegmentationDataset | CellImageSet]
    make_phantoms: Callable[..., SegmentationDataset | CellImageSet]
    phantom_style: str
    real_size: int

    def __post_init__(self) -> None:
        if not (callable(self.read) and callable(self.make_phantoms)):
            raise TypeError("Loader.read and Loader.make_phantoms must be callables")
        if self.real_size < 1:
            raise ValueError(f"real_size must be >= 1, not {self.real_size}")

    def phantoms(self, n: int | None = None, seed: int = 0) -> SegmentationDataset | CellImageSet:
        """``n`` phantoms (default :attr:`real_size`) in this data set's style."""
        count = self.real_size if n is None else int(n)
        return self.make_phantoms(count, seed=seed, style=self.phantom_style)

    def __str__(self) -> str:
        return (
            f"{_qualified_name(self.read)}(root); offline: "
            f"{_qualified_name(self.make_phantoms)}(n, seed, style={self.phantom_style!r}), "
            f"n = {self.real_size} by default"
        )


def read_wbc1(root: str | Path | None = None) -> SegmentationDataset:
    """WBC data set 1 from its published layout: :func:`medgraph.data.load_wbc` ``(1, root)``."""
    from medgraph.data.wbc import load_wbc  # lazy: wbc -> paths -> registry

    return load_wbc(1, root)


def read_wbc2(root: str | Path | None = None) -> SegmentationDataset:
    """WBC data set 2 from its published layout: :func:`medgraph.data.load_wbc` ``(2, root)``."""
    from medgraph.data.wbc import load_wbc  # lazy: wbc -> paths -> registry

    return load_wbc(2, root)


def wbc_phantoms(n: int, seed: int = 0, style: str = "wbc1") -> SegmentationDataset:
    """Synthetic WBC images: :func:`medgraph.data.make_wbc_phantoms` (imported when called)."""
    from medgraph.data.phantoms import make_wbc_phantoms  # lazy: numpy/scipy rendering

    return make_wbc_phantoms(n, seed=seed, style=style)


def read_emds5(root: str | Path | None = None) -> SegmentationDataset:
    """EMDS-5 with its single-object masks: :func:`medgraph.data.load_emds` ``(5, root)``."""
    from medgraph.data.emds import load_emds  # lazy: emds -> paths -> registry

    return load_emds(5, root, masks="single")


def read_emds6(root: str | Path | None = None) -> SegmentationDataset:
    """EMDS-6 with its (multi-object) masks: :func:`medgraph.data.load_emds` ``(6, root)``."""
    from medgraph.data.emds import load_emds  # lazy: emds -> paths -> registry

    return load_emds(6, root, masks="multi")


def read_isic2016(root: str | Path | None = None) -> SegmentationDataset:
    """ISIC 2016 part 1, the 900 training images: :func:`medgraph.data.load_isic2016`."""
    from medgraph.data.isic import load_isic2016  # lazy: isic -> paths -> registry

    return load_isic2016(root, split="train")


def read_isic2017(root: str | Path | None = None) -> LesionImageSet:
    """ISIC 2017 part 3, training + test (2600 images): :func:`medgraph.data.read_isic2017`."""
    from medgraph.data.isic2017 import read_isic2017 as read  # lazy: isic2017 -> paths -> registry

    return read(root)


def isic2017_phantoms(n: int, seed: int = 0, style: str = "dermoscopy") -> LesionImageSet:
    """Two-class melanoma stand-ins: :func:`medgraph.data.make_melanoma_phantoms` (256 px)."""
    if style != "dermoscopy":
        raise ValueError(f"style must be 'dermoscopy', not {style!r}")
    from medgraph.data.isic2017 import make_melanoma_phantoms  # lazy: numpy/scipy rendering

    return make_melanoma_phantoms(n, seed=seed, name="isic2017")


def read_ph2(root: str | Path | None = None) -> SegmentationDataset:
    """PH2, all 200 images: :func:`medgraph.data.load_ph2` ``(root)``."""
    from medgraph.data.ph2 import load_ph2  # lazy: ph2 -> paths -> registry

    return load_ph2(root)


def _lesion_phantoms(name: str, n: int, seed: int, style: str) -> SegmentationDataset:
    from medgraph.data.lesion_phantoms import make_lesion_phantoms  # lazy: numpy/scipy rendering

    return make_lesion_phantoms(n, seed=seed, style=style, name=name)


def emds5_phantoms(n: int, seed: int = 0, style: str = "microscopy") -> SegmentationDataset:
    """Synthetic EMDS-5 stand-ins: :func:`medgraph.data.make_lesion_phantoms`, name "emds5"."""
    return _lesion_phantoms("emds5", n, seed, style)


def emds6_phantoms(n: int, seed: int = 0, style: str = "microscopy") -> SegmentationDataset:
    """Synthetic EMDS-6 stand-ins: :func:`medgraph.data.make_lesion_phantoms`, name "emds6"."""
    return _lesion_phantoms("emds6", n, seed, style)


def isic2016_phantoms(n: int, seed: int = 0, style: str = "dermoscopy") -> SegmentationDataset:
    """Synthetic ISIC 2016 stand-ins: :func:`medgraph.data.make_lesion_phantoms`, "isic2016"."""
    return _lesion_phantoms("isic2016", n, seed, style)


def ph2_phantoms(n: int, seed: int = 0, style: str = "dermoscopy") -> SegmentationDataset:
    """Synthetic PH2 stand-ins: :func:`medgraph.data.make_lesion_phantoms`, name "ph2"."""
    return _lesion_phantoms("ph2", n, seed, style)


def read_cnmc2019(root: str | Path | None = None) -> CellImageSet:
    """C-NMC 2019, the training folds (or the public sample): :func:`medgraph.data.read_cnmc`."""
    from medgraph.data.cells import read_cnmc  # lazy: cells -> paths -> registry

    return read_cnmc(root)


def read_bccd(root: str | Path | None = None) -> CellImageSet:
    """The 351 BCCD white-cell crops, five classes: :func:`medgraph.data.read_bccd`."""
    from medgraph.data.cells import read_bccd as read  # lazy: cells -> paths -> registry

    return read(root)


#: Phantom styles of the cell sets: number of classes and class names (None: the generator's).
_CELL_STYLES: dict[str, tuple[int, tuple[str, ...] | None]] = {
    "cnmc2019": (2, ("hem", "all")),
    "bccd": (5, None),
}


def cell_phantoms(n: int, seed: int = 0, style: str = "cnmc2019") -> CellImageSet:
    """Synthetic single cells: :func:`medgraph.data.make_cell_phantoms`, named after ``style``.

    ``"cnmc2019"``: two classes named ``("hem", "all")`` (healthy-like, blast-like). ``"bccd"``:
    five balanced classes ``level0`` … ``level4`` on the healthy-to-blast ladder of the
    generator; they keep the shape of the BCCD problem (five classes), not its cell types or
    its imbalance.
    """
    if style not in _CELL_STYLES:
        raise ValueError(f"style must be one of {', '.join(_CELL_STYLES)}, not {style!r}")
    from medgraph.data.cells import make_cell_phantoms  # lazy: numpy/scipy rendering

    n_classes, class_names = _CELL_STYLES[style]
    return make_cell_phantoms(
        n, seed=seed, n_classes=n_classes, class_names=class_names, name=style
    )


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the project records about one data set.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"wbc1"``.
    title : str
        Human-readable title.
    folders : tuple of str
        Accepted names of the data-set directory under a data root; the first is the one
        :func:`medgraph.data.fetch` creates. Two entries may share a folder (``wbc1`` and ``wbc2``
        both live in ``wbc/``).
    source_url : str
        The official (or canonical public) source.
    licence : str
        Licence or terms of use, with the acknowledgements the publishers ask for.
    citation : str
        What to cite.
    layout : str
        One paragraph describing the published folder layout and label conventions.
    expected_counts : Mapping[str, int]
        Glob patterns relative to the data-set folder and the number of files each matches in
        the complete published set; checked after a download, reported after ``--from``.
    auto_download : bool
        Whether ``medgraph data fetch NAME`` can download it.
    downloads : tuple of Download
        The files to download (automatic data sets only).
    how_to_get : str
        Instructions for a person.
    markers : tuple of str
        Relative paths that identify the folder; a directory qualifies when at least one of them
        exists in it. Empty: any directory named as in ``folders`` qualifies.
    loader : Loader or None
        Its reader and phantom generator (used by :func:`medgraph.data.load_dataset`), or
        ``None`` while no loader exists yet.
    notes : str
        Anything else worth knowing (quirks of the files, local copies).
    """

    name: str
    title: str
    folders: tuple[str, ...]
    source_url: str
    licence: str
    citation: str
    layout: str
    expected_counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    auto_download: bool = False
    downloads: tuple[Download, ...] = ()
    how_to_get: str = ""
    markers: tuple[str, ...] = ()
    loader: Loader | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.folders:
            raise ValueError(f"data set {self.name!r} needs at least one folder name")
        if self.loader is not None and not isinstance(self.loader, Loader):
            raise TypeError(
                f"data set {self.name!r}: loader must be a Loader or None, not "
                f"{type(self.loader).__name__}"
            )
        if self.auto_download and not self.downloads:
            raise ValueError(f"automatic data set {self.name!r} lists no downloads")
        object.__setattr__(self, "expected_counts", MappingProxyType(dict(self.expected_counts)))

    @property
    def folder(self) -> str:
        """The folder name that :func:`medgraph.data.fetch` creates."""
        return self.folders[0]

    @property
    def download_urls(self) -> tuple[str, ...]:
        """URLs of the downloads, in order."""
        return tuple(d.url for d in self.downloads)


_WBC_REPO = "https://github.com/zxaoyou/segmentation_WBC"
_WBC_ARCHIVE = Download(
    url=f"{_WBC_REPO}/archive/refs/heads/master.zip",
    filename="segmentation_WBC-master.zip",
    sha256=None,  # a branch archive: its bytes change whenever the repository does
    extract=True,
    strip_top=True,
)
_WBC_CITATION = (
    "X. Zheng, Y. Wang, G. Wang, J. Liu, Fast and robust segmentation of white blood cell images "
    "by self-supervised learning, Micron 107:55-71 (2018), doi:10.1016/j.micron.2018.01.010"
)
_WBC_HOW = (
    "`medgraph data fetch {name}` downloads the GitHub archive of zxaoyou/segmentation_WBC (both "
    "WBC data sets) into the cache; offline, clone or copy that repository elsewhere and run "
    "`medgraph data fetch {name} --from DIR`, or set MEDGRAPH_DATA to a folder holding `wbc/`."
)
_ISIC17 = "https://isic-challenge-data.s3.amazonaws.com/2017"
_ISIC16 = "https://isic-challenge-data.s3.amazonaws.com/2016"
_ISIC_LICENCE = (
    "ISIC Archive terms of use: the challenge images are distributed under Creative Commons "
    "licences listed on https://challenge.isic-archive.com/data/; cite the challenge paper"
)


def _entries() -> list[DatasetInfo]:
    return [
        DatasetInfo(
            name="wbc1",
            title="WBC segmentation data set 1 (Jiangxi Tecom): 300 white-blood-cell images",
            folders=("wbc", "segmentation_WBC", "segmentation_WBC-master"),
            source_url=_WBC_REPO,
            licence=(
                "GPL-3.0 (licence of the public repository zxaoyou/segmentation_WBC); acknowledge "
                "Jiangxi Tecom Science Corporation, China, which provided the images"
            ),
            citation=_WBC_CITATION,
            layout=(
                "`Dataset 1/NNN.bmp` (RGB, 24 bit; 224 of them 120x120 px, the others 88-120 px a "
                "side) with a greyscale mask `Dataset 1/NNN.png` of the same size: 0 background "
                "(red cells included), 128 cytoplasm, 255 nucleus. `Class Labels of Dataset 1.csv` "
                "(header `image ID,class label`) gives the cell type: 1 neutrophil, 2 lymphocyte, "
                "3 monocyte, 4 eosinophil, 5 basophil (176/53/48/22/1)."
            ),
            expected_counts={"Dataset 1/*.bmp": 300, "Dataset 1/*.png": 300},
            auto_download=True,
            downloads=(_WBC_ARCHIVE,),
            how_to_get=_WBC_HOW.format(name="wbc1"),
            markers=("Dataset 1",),
            loader=Loader(read_wbc1, wbc_phantoms, phantom_style="wbc1", real_size=300),
            notes=(
                "The authors added some class labels themselves and warn that they were not "
                "checked by experts. The images were taken with a Motic Moticam Pro 252A camera; "
                "most backgrounds are yellowish."
            ),
        ),
        DatasetInfo(
            name="wbc2",
            title="WBC segmentation data set 2 (CellaVision blog): 100 white-blood-cell images",
            folders=("wbc", "segmentation_WBC", "segmentation_WBC-master"),
            source_url=_WBC_REPO,
            licence=(
                "GPL-3.0 (licence of the public repository zxaoyou/segmentation_WBC); acknowledge "
                "the CellaVision blog (http://blog.cellavision.com/), where the images appeared"
            ),
            citation=_WBC_CITATION,
            layout=(
                "`Dataset 2/NNN.bmp` (RGB, 300x300 px) with a greyscale mask `Dataset 2/NNN.png`: "
                "0 background (red cells included), 128 cytoplasm, 255 nucleus. `Class Labels of "
                "Dataset 2.csv` (header `image ID,class`) uses the same five classes as data set 1 "
                "(33/37/15/12/3)."
            ),
            expected_counts={"Dataset 2/*.bmp": 100, "Dataset 2/*.png": 100},
            auto_download=True,
            downloads=(_WBC_ARCHIVE,),
            how_to_get=_WBC_HOW.format(name="wbc2"),
            markers=("Dataset 2",),
            loader=Loader(read_wbc2, wbc_phantoms, phantom_style="wbc2", real_size=100),
            notes=(
                "Five masks (034, 035, 047, 050, 076) hold a few stray grey values between 2 and "
                "50 (anti-aliasing); the loader snaps every pixel to the nearest of 0/128/255."
            ),
        ),
        DatasetInfo(
            name="cnmc2019",
            title="C-NMC 2019: normal vs malignant (B-ALL) cell classification, ISBI 2019",
            folders=("cnmc2019", "C-NMC_Leukemia", "cnmc_sample"),
            source_url="https://doi.org/10.7937/tcia.2019.dc64i46r",
            licence=(
                "The Cancer Imaging Archive data usage policy (Creative Commons attribution "
                "licence stated on the TCIA collection page); cite the data set and the challenge"
            ),
            citation=(
                "A. Gupta, R. Gupta (eds.), ISBI 2019 C-NMC Challenge: Classification in Cancer "
                "Cell Imaging, Lecture Notes in Bioengineering, Springer (2019); data: ALL "
                "Challenge dataset of ISBI 2019, The Cancer Imaging Archive, "
                "doi:10.7937/tcia.2019.dc64i46r"
            ),
            layout=(
                "Segmented single cells, 450x450 px `.bmp` on a black background. The training "
                "part is `training_data/fold_{0,1,2}/{all,hem}/UID_*.bmp` (`all` = leukemic "
                "B-lymphoblast, label 1; `hem` = normal, label 0), about 10,661 cells from 73 "
                "subjects; the preliminary and final test phases add about 1,867 and 2,586 cells "
                "(`validation_data/`, `testing_data/`). The challenge's public sample uses the "
                "same `fold_N/{all,hem}/` folders at its top level (52 cells)."
            ),
            expected_counts={
                "training_data/fold_*/all/*.bmp": 7272,
                "training_data/fold_*/hem/*.bmp": 3389,
            },
            auto_download=False,
            how_to_get=(
                "Manual: download the C-NMC 2019 collection from The Cancer Imaging Archive "
                "(https://doi.org/10.7937/tcia.2019.dc64i46r; the challenge page is "
                "https://competitions.codalab.org/competitions/20395), unpack it, then run "
                "`medgraph data fetch cnmc2019 --from DIR` or set MEDGRAPH_DATA. A folder with "
                "the public sample (`cnmc_sample/fold_N/{all,hem}`) is accepted too."
            ),
            markers=("training_data/fold_0", "fold_0"),
            loader=Loader(read_cnmc2019, cell_phantoms, phantom_style="cnmc2019", real_size=10661),
            notes=(
                "The sample folder `cnmc_sample` holds only 52 cells: enough to test, not to "
                "train (beside the folds it also holds an empty file named after the naming "
                "template `UID_[idPaciente]_[numImage]_[CellsID]_[ALL:Cancer-HEM-Normal]`, which "
                "the loader ignores). The loader (`medgraph.data.read_cnmc`) reads the training "
                "folds, not the test phases; it returns a `CellImageSet` with class names "
                "('hem', 'all'), the fold of every cell and its patient (`UID_<patient>_...`, "
                "healthy patients `H<k>`) as the group, and skips zero-byte files with a warning. "
                "Offline it is replaced by two-class cell phantoms (`make_cell_phantoms`)."
            ),
        ),
        DatasetInfo(
            name="isic2016",
            title="ISIC 2016 challenge, part 1: lesion segmentation (dermoscopy)",
            folders=("isic2016", "ISIC2016"),
            source_url="https://challenge.isic-archive.com/data/#2016",
            licence=_ISIC_LICENCE,
            citation=(
                "D. Gutman, N. C. F. Codella, E. Celebi, B. Helba, M. Marchetti, N. Mishra, "
                "A. Halpern, Skin lesion analysis toward melanoma detection: a challenge at the "
                "International Symposium on Biomedical Imaging (ISBI) 2016, hosted by the "
                "International Skin Imaging Collaboration (ISIC), arXiv:1605.01397 (2016)"
            ),
            layout=(
                "`ISBI2016_ISIC_Part1_Training_Data/ISIC_NNNNNNN.jpg` (900 dermoscopic images of "
                "various sizes) with binary masks `ISBI2016_ISIC_Part1_Training_GroundTruth/"
                "ISIC_NNNNNNN_Segmentation.png` (255 lesion, 0 skin); the test part has 379 of each "
                "in `ISBI2016_ISIC_Part1_Test_Data/` and `ISBI2016_ISIC_Part1_Test_GroundTruth/`."
            ),
            expected_counts={
                "ISBI2016_ISIC_Part1_Training_Data/*.jpg": 900,
                "ISBI2016_ISIC_Part1_Training_GroundTruth/*.png": 900,
                "ISBI2016_ISIC_Part1_Test_Data/*.jpg": 379,
                "ISBI2016_ISIC_Part1_Test_GroundTruth/*.png": 379,
            },
            auto_download=True,
            downloads=tuple(
                Download(
                    f"{_ISIC16}/ISBI2016_ISIC_Part1_{part}.zip",
                    f"ISBI2016_ISIC_Part1_{part}.zip",
                    extract=True,
                )
                for part in (
                    "Training_Data",
                    "Training_GroundTruth",
                    "Test_Data",
                    "Test_GroundTruth",
                )
            ),
            how_to_get=(
                "`medgraph data fetch isic2016` downloads the four official part-1 archives from "
                f"{_ISIC16}/ (about 1 GB); or download them by hand from "
                "https://challenge.isic-archive.com/data/#2016, unzip them into one folder and run "
                "`medgraph data fetch isic2016 --from DIR`."
            ),
            markers=("ISBI2016_ISIC_Part1_Training_Data", "ISBI2016_ISIC_Part1_Test_Data"),
            loader=Loader(
                read_isic2016, isic2016_phantoms, phantom_style="dermoscopy", real_size=900
            ),
            notes=(
                "The loader reads the training part (900 images, the set of the unsupervised "
                "graph-cut study); `load_isic2016(root, split='test'|'all')` reads the rest. Masks "
                "are thresholded at > 127 into 0 skin / 1 lesion. The images are full-size (up to "
                "several megapixels): all 900 take a few GB of memory."
            ),
        ),
        DatasetInfo(
            name="isic2017",
            title="ISIC 2017 challenge: melanoma detection (part 3, lesion classification)",
            folders=("isic2017", "ISIC2017"),
            source_url="https://challenge.isic-archive.com/data/#2017",
            licence=_ISIC_LICENCE,
            citation=(
                "N. C. F. Codella, D. Gutman, M. E. Celebi, B. Helba, M. A. Marchetti, S. W. Dusza, "
                "A. Kalloo, K. Liopyris, N. Mishra, H. Kittler, A. Halpern, Skin lesion analysis "
                "toward melanoma detection: a challenge at the 2017 International Symposium on "
                "Biomedical Imaging (ISBI), hosted by the International Skin Imaging Collaboration "
                "(ISIC), Proc. IEEE ISBI 2018, pp. 168-172, arXiv:1710.05006"
            ),
            layout=(
                "`ISIC-2017_Training_Data/ISIC_NNNNNNN.jpg` (2000 images; the official archive also "
                "holds `*_superpixels.png` and a metadata CSV), `ISIC-2017_Validation_Data/` (150) "
                "and `ISIC-2017_Test_v2_Data/` (600), each with a ground-truth CSV "
                "`ISIC-2017_{Training,Validation,Test_v2}_Part3_GroundTruth.csv` (columns "
                "`image_id,melanoma,seborrheic_keratosis`; 374, 30 and 117 melanomas)."
            ),
            expected_counts={
                "ISIC-2017_Training_Data/*.jpg": 2000,
                "ISIC-2017_Validation_Data/*.jpg": 150,
                "ISIC-2017_Test_v2_Data/*.jpg": 600,
            },
            auto_download=True,
            downloads=tuple(
                Download(f"{_ISIC17}/{fname}", fname, extract=fname.endswith(".zip"))
                for fname in (
                    "ISIC-2017_Training_Data.zip",
                    "ISIC-2017_Training_Part3_GroundTruth.csv",
                    "ISIC-2017_Validation_Data.zip",
                    "ISIC-2017_Validation_Part3_GroundTruth.csv",
                    "ISIC-2017_Test_v2_Data.zip",
                    "ISIC-2017_Test_v2_Part3_GroundTruth.csv",
                )
            ),
            how_to_get=(
                "`medgraph data fetch isic2017` downloads the official archives from "
                f"{_ISIC17}/ (several GB); or point `--from DIR` / MEDGRAPH_DATA at a local "
                "copy with the same folder names."
            ),
            markers=("ISIC-2017_Training_Data",),
            loader=Loader(
                read_isic2017, isic2017_phantoms, phantom_style="dermoscopy", real_size=2600
            ),
            notes=(
                "A public copy (walidbousseta/image_mining) holds the same images resized to "
                "256x256 with relabelled CSVs; it passes the layout check but is not the official "
                "resolution. The loader (`medgraph.data.read_isic2017`) reads training + test, "
                "the melanoma paper's 2600 images (491 melanomas), as a `LesionImageSet`: class "
                "names ('other', 'melanoma'), image ids as groups, the part of every image in "
                "`parts`; the official ground-truth CSVs or the copy's (`*_Classes.csv`, "
                "`*_mapped_by_sorted_id.csv`, labels written `0.0`/`1.0`). Offline it is replaced "
                "by two-class dermoscopy phantoms (`make_melanoma_phantoms`, 19 % melanoma)."
            ),
        ),
        DatasetInfo(
            name="ph2",
            title="PH2 dermoscopic image database (Hospital Pedro Hispano, Matosinhos)",
            folders=("ph2", "PH2Dataset", "PH2"),
            source_url="https://www.fc.up.pt/addi/ph2%20database.html",
            licence=(
                "Free for research and benchmarking under the terms on the ADDI project page; "
                "not redistributed by this project"
            ),
            citation=(
                "T. Mendonca, P. M. Ferreira, J. S. Marques, A. R. S. Marcal, J. Rozeira, PH2 - a "
                "dermoscopic image database for research and benchmarking, Proc. 35th IEEE EMBC, "
                "pp. 5437-5440 (2013), doi:10.1109/EMBC.2013.6610779"
            ),
            layout=(
                "200 dermoscopic images (80 common nevi, 80 atypical nevi, 40 melanomas), 768x560 "
                "px RGB, one folder each: `PH2 Dataset images/IMDnnn/IMDnnn_Dermoscopic_Image/"
                "IMDnnn.bmp` with the lesion mask `IMDnnn_lesion/IMDnnn_lesion.bmp`; diagnoses and "
                "dermoscopic criteria in `PH2_dataset.txt` / `PH2_dataset.xlsx`."
            ),
            expected_counts={"PH2 Dataset images/IMD*": 200},
            auto_download=False,
            how_to_get=(
                "Manual: request/download the PH2 archive from "
                "https://www.fc.up.pt/addi/ph2%20database.html, unpack it, then run "
                "`medgraph data fetch ph2 --from DIR` (DIR holding `PH2 Dataset images/`) or set "
                "MEDGRAPH_DATA."
            ),
            markers=("PH2 Dataset images",),
            loader=Loader(read_ph2, ph2_phantoms, phantom_style="dermoscopy", real_size=200),
            notes=(
                "The loader also accepts the folder holding the `IMDnnn` folders itself. Class "
                "labels come from the 'Clinical Diagnosis' column of `PH2_dataset.txt` (0 common "
                "nevus, 1 atypical nevus, 2 melanoma) shifted by one, so that 0 means unknown: "
                "1 common nevus, 2 atypical nevus, 3 melanoma; 0 when the table is absent (the "
                "`.xlsx` copy of the table is not read). Lesion masks are thresholded at > 127."
            ),
        ),
        DatasetInfo(
            name="emds5",
            title="EMDS-5: Environmental Microorganism Data Set, 5th version",
            folders=("emds5", "EMDS-5", "EMDS5"),
            source_url="https://github.com/NEUZihan/EMDS-5",
            licence=(
                "Released by the authors (Northeastern University, China) for non-commercial "
                "research; no licence file in the public copy, so do not redistribute"
            ),
            citation=(
                "Z. Li, C. Li, Y. Yao, J. Zhang, M. M. Rahaman, H. Xu, F. Kulwa, B. Lu, X. Zhu, "
                "T. Jiang, EMDS-5: Environmental Microorganism image dataset Fifth Version for "
                "multiple image analysis tasks, PLoS ONE 16(5):e0250631 (2021)"
            ),
            layout=(
                "21 classes x 20 images: `EMDS5-Original/EMDS5-gCC-NN.png` with single-object "
                "masks in `EMDS5-GTS/` and multi-object masks in `EMDS5-GTM/` (white foreground on "
                "black, anti-aliased: threshold at > 127)."
            ),
            expected_counts={
                "EMDS5-Original/*.png": 420,
                "EMDS5-GTS/*.png": 420,
                "EMDS5-GTM/*.png": 420,
            },
            auto_download=False,
            how_to_get=(
                "Manual: `git clone https://github.com/NEUZihan/EMDS-5` (or download its archive), "
                "then `medgraph data fetch emds5 --from EMDS-5` or set MEDGRAPH_DATA."
            ),
            markers=("EMDS5-GTS", "EMDS5-GTM"),
            loader=Loader(read_emds5, emds5_phantoms, phantom_style="microscopy", real_size=420),
            notes=(
                "In the public copy one single-object mask is named `EMDS5g10-07-GTS.png` "
                "(missing hyphen); the loader matches masks to images ignoring hyphens. Eight "
                "masks are RGB and one grey+alpha; they are reduced to grey. The loader reads the "
                "single-object masks (GTS) by default; `load_emds(5, root, masks='multi')` the "
                "GTM ones. Class labels 1..21 come from `gCC` in the file names. Each folder also "
                "holds an empty `a.txt`, which is ignored."
            ),
        ),
        DatasetInfo(
            name="emds6",
            title="EMDS-6: Environmental Microorganism Image Dataset, 6th version",
            folders=("emds6", "EMDS-6", "EMDS6"),
            source_url="https://figshare.com/articles/dataset/EMDS6/17125025/1",
            licence=(
                "Terms stated on the figshare record; the authors release it for non-commercial "
                "research"
            ),
            citation=(
                "P. Zhao, C. Li, M. M. Rahaman, H. Xu, P. Ma, H. Yang, H. Sun, T. Jiang, N. Xu, "
                "M. Grzegorzek, EMDS-6: Environmental Microorganism Image Dataset Sixth Version "
                "for image denoising, segmentation, feature extraction, classification, and "
                "detection method evaluation, Frontiers in Microbiology 13:829027 (2022), "
                "doi:10.3389/fmicb.2022.829027"
            ),
            layout=(
                "21 classes x 40 images. The figshare archive keeps the EMDS-5 names and folder "
                "prefix and adds one sub-folder per class: `EMDS5-Original/CC/EMDS5-gCC-NN.png` "
                "(CC = 01..21, NN = 01..40) with one mask set, `EMDS5-Ground Truth/CC/"
                "EMDS5-gCC-NN-GTM.png` (white foreground on black, threshold at > 127). Folders "
                "named `EMDS6-Original` / `EMDS6-GTM` (flat or per class) are accepted too."
            ),
            expected_counts={
                "EMDS5-Original/*/*.png": 840,
                "EMDS5-Ground Truth/*/*.png": 840,
            },
            auto_download=False,
            how_to_get=(
                "Manual: download the archive from "
                "https://figshare.com/articles/dataset/EMDS6/17125025/1, unpack it into a folder "
                "named `emds6`, then `medgraph data fetch emds6 --from DIR` or set MEDGRAPH_DATA."
            ),
            markers=("EMDS5-Ground Truth", "EMDS6-Original", "EMDS6-GTM"),
            loader=Loader(read_emds6, emds6_phantoms, phantom_style="microscopy", real_size=840),
            notes=(
                "Not available on the team's machines; EMDS-5 (`emds5`) is its predecessor. The "
                "layout was not checked against the archive itself but against public code that "
                "reads it (dataset-ninja/emds-6 src/convert.py: `EMDS5-Original/<class>/` and "
                "`EMDS5-Ground Truth/<class>/<stem>-GTM.png`; other users' readers and file names "
                "such as `EMDS5-g01-40.png`); `EMDS6-*` folder names are accepted by analogy. "
                "Class labels 1..21 come from `gCC` in the file names."
            ),
        ),
        DatasetInfo(
            name="bccd",
            title="BCCD white-blood-cell crops (five classes, ImageFolder layout)",
            folders=("bccd", "bccd_crops", "BCCD"),
            source_url="https://github.com/apple2373/BCCD",
            licence=(
                "The underlying BCCD data set (github.com/Shenggan/BCCD_Dataset) is MIT-licensed; "
                "the cropped copy apple2373/BCCD takes its labels from the Kaggle 'blood-cells' set "
                "(paultimothymooney); check both before redistribution"
            ),
            citation=(
                "BCCD Dataset, https://github.com/Shenggan/BCCD_Dataset (MIT); cleaned crops: "
                "https://github.com/apple2373/BCCD"
            ),
            layout=(
                "`BCCD_cropped/<Class>/BloodImage_NNNNN_K.jpg`, one crop per white cell (131-367 px), "
                "351 crops: Neutrophil 207, Eosinophil 88, Lymphocyte 33, Monocyte 20, Basophil 3; "
                "`labels.csv` lists the source labels. Compatible with torchvision's ImageFolder."
            ),
            expected_counts={"BCCD_cropped/*/*.jpg": 351},
            auto_download=False,
            how_to_get=(
                "Manual: `git clone https://github.com/apple2373/BCCD`, then "
                "`medgraph data fetch bccd --from BCCD` or set MEDGRAPH_DATA."
            ),
            markers=("BCCD_cropped",),
            loader=Loader(read_bccd, cell_phantoms, phantom_style="bccd", real_size=351),
            notes=(
                "The loader (`medgraph.data.read_bccd`) returns a `CellImageSet`: class names in "
                "lower case, sorted (basophil, eosinophil, lymphocyte, monocyte, neutrophil), the "
                "source image `BloodImage_NNNNN` of every crop as its group, no folds. Offline it "
                "is replaced by five balanced classes of cell phantoms (`make_cell_phantoms`, "
                "n_classes=5): the shape of the problem, not the BCCD cell types."
            ),
        ),
    ]


REGISTRY: dict[str, DatasetInfo] = {info.name: info for info in _entries()}


def names() -> list[str]:
    """Registry names, in registry order."""
    return list(REGISTRY)


def get_info(name: str) -> DatasetInfo:
    """Look a data set up by name.

    Raises
    ------
    UnknownDatasetError
        (a :class:`DataError` and a :class:`KeyError`) naming the known data sets.
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(REGISTRY)
        raise UnknownDatasetError(f"unknown data set {name!r}; known data sets: {known}") from None
