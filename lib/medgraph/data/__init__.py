"""Data layer: the registry of data sets, loaders of their published layouts, phantoms, fetching.

- :data:`REGISTRY` / :func:`get_info`: source, licence, citation, layout, counts, how to get it,
  and the :class:`Loader` (reader and phantom generator) where one exists;
- :func:`locate`: find a data set on disk (explicit root, ``MEDGRAPH_DATA``, then the cache); a
  root or ``MEDGRAPH_DATA`` naming a missing folder raises :class:`DataConfigError`;
- :func:`fetch`: download an automatic data set, or register a local copy (``--from``);
- :func:`load_dataset`: real data when present, seeded phantoms otherwise; :func:`load_wbc`,
  :func:`make_wbc_phantoms`; the binary data sets :func:`load_isic2016`, :func:`load_ph2`,
  :func:`load_emds` (EMDS-5 and EMDS-6) and :func:`make_lesion_phantoms`;
- :class:`SegmentationDataset`: images, masks (0 background, 1 cytoplasm, 2 nucleus), class
  labels, a checksum and a description for reports; :class:`BinarySegmentationDataset` the same
  with masks 0 background / 1 foreground and per-data-set class names;
- :class:`CellImageSet`: single-cell images with one class label each, the patient or source
  image as a group and the official fold (classification with a graph of samples), from
  :func:`read_cnmc` (C-NMC 2019), :func:`read_bccd` (BCCD crops), :func:`read_class_folders`
  (any folder-per-class layout) and :func:`make_cell_phantoms`; its subclass
  :class:`LesionImageSet` (whole dermoscopic images with their official part) from
  :func:`read_isic2017` (ISIC 2017 part 3, melanoma or not) and :func:`make_melanoma_phantoms`;
- :func:`data_fingerprint`: the data checksum of either kind of data set.

Importing this package never touches the network; only :func:`fetch` does, and only when asked.
The command line is ``python -m medgraph data list | info NAME | fetch NAME [--from DIR]``.
"""

from medgraph.data.cells import (
    CNMC_CLASSES,
    CellImageSet,
    data_fingerprint,
    make_cell_phantoms,
    read_bccd,
    read_class_folders,
    read_cnmc,
)
from medgraph.data.dataset import (
    BINARY_LABEL_NAMES,
    CLASS_NAMES,
    LABEL_NAMES,
    BinarySegmentationDataset,
    SegmentationDataset,
)
from medgraph.data.emds import EMDS_CLASSES, load_emds
from medgraph.data.errors import (
    DataConfigError,
    DataError,
    DataFormatError,
    DataUnavailableError,
    UnknownDatasetError,
)
from medgraph.data.fetch import fetch
from medgraph.data.isic import load_isic2016
from medgraph.data.isic2017 import (
    ISIC2017_CLASSES,
    LesionImageSet,
    make_melanoma_phantoms,
    read_isic2017,
)
from medgraph.data.lesion_phantoms import make_lesion_phantoms
from medgraph.data.loaders import load_dataset
from medgraph.data.paths import cache_dir, data_root, locate
from medgraph.data.ph2 import PH2_CLASSES, load_ph2, read_ph2_diagnoses
from medgraph.data.phantoms import make_wbc_phantoms
from medgraph.data.registry import REGISTRY, DatasetInfo, Download, Loader, get_info, names
from medgraph.data.wbc import load_wbc

__all__ = [
    "BINARY_LABEL_NAMES",
    "CLASS_NAMES",
    "CNMC_CLASSES",
    "EMDS_CLASSES",
    "ISIC2017_CLASSES",
    "LABEL_NAMES",
    "PH2_CLASSES",
    "REGISTRY",
    "DataConfigError",
    "DataError",
    "DataFormatError",
    "BinarySegmentationDataset",
    "CellImageSet",
    "DataUnavailableError",
    "DatasetInfo",
    "LesionImageSet",
    "Download",
    "Loader",
    "SegmentationDataset",
    "data_fingerprint",
    "UnknownDatasetError",
    "cache_dir",
    "data_root",
    "fetch",
    "get_info",
    "load_dataset",
    "load_emds",
    "load_isic2016",
    "load_ph2",
    "load_wbc",
    "locate",
    "make_cell_phantoms",
    "make_lesion_phantoms",
    "make_melanoma_phantoms",
    "make_wbc_phantoms",
    "names",
    "read_bccd",
    "read_class_folders",
    "read_cnmc",
    "read_isic2017",
    "read_ph2_diagnoses",
]
