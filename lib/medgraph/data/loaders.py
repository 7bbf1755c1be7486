"""One entry point for the notebooks: :func:`load_dataset` (real data, or phantoms offline)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from medgraph.data.errors import DataError, DataUnavailableError
from medgraph.data.registry import get_info

if TYPE_CHECKING:
    from medgraph.data.cells import CellImageSet
    from medgraph.data.dataset import SegmentationDataset

__all__ = ["load_dataset", "SOURCES"]

logger = logging.getLogger(__name__)

SOURCES = ("auto", "real", "phantom")


def load_dataset(
    name: str,
    source: str = "auto",
    root: str | Path | None = None,
    n_phantoms: int | None = None,
    seed: int = 0,
) -> SegmentationDataset | CellImageSet:
    """Load a data set: the real one, or seeded phantoms in its style.

    Never downloads (use ``medgraph data fetch NAME`` for that).

    Parameters
    ----------
    name : {"wbc1", "wbc2", "isic2016", "isic2017", "ph2", "emds5", "emds6", "cnmc2019", "bccd"}
        Registry name. The entry's :class:`~medgraph.data.Loader` says how to read it and which
        phantoms stand in for it; other registered names (no loader yet) raise
        :class:`DataError`.
    source : {"auto", "real", "phantom"}
        ``"real"`` reads the published files (:class:`DataUnavailableError` when absent);
        ``"phantom"`` generates the entry's phantoms (:func:`make_wbc_phantoms` for the WBC sets,
        :func:`make_lesion_phantoms` for the binary ones, :func:`make_cell_phantoms` for the
        cell-classification sets, :func:`make_melanoma_phantoms` for isic2017); ``"auto"`` reads
        the real files when they are found and otherwise generates phantoms, logging a warning
        that says so. A real copy that is found but broken raises rather than falling back, and
        so does a ``root`` or ``MEDGRAPH_DATA`` naming a folder that does not exist
        (:class:`~medgraph.data.DataConfigError`).
    root : str or Path, optional
        Where to look first for the real data (see :func:`locate`).
    n_phantoms : int, optional
        Number of phantoms; default the size of the real set (wbc1 300, wbc2 100, isic2016 900
        training images, isic2017 2600 training + test images, ph2 200, emds5 420, emds6 840,
        cnmc2019 10661 training cells, bccd 351).
    seed : int
        Seed of the phantoms.

    Returns
    -------
    SegmentationDataset or CellImageSet
        With ``source`` saying which it is; a :class:`BinarySegmentationDataset` (masks 0/1) for
        isic2016, ph2, emds5 and emds6; a :class:`~medgraph.data.CellImageSet` (one class label
        per single-cell image, no masks) for cnmc2019 and bccd; its subclass
        :class:`~medgraph.data.LesionImageSet` (melanoma or not, per image) for isic2017.

    Raises
    ------
    DataConfigError
        When ``root`` or ``MEDGRAPH_DATA`` names a missing folder (also with ``"auto"``).
    DataUnavailableError
        With ``"real"``, when no copy is found.
    DataFormatError
        When a copy is found but its files are broken.

    Notes
    -----
    With ``"auto"`` the reader is called and only its :class:`DataUnavailableError` (nothing
    found where :func:`locate` looks) switches to the phantoms.
    """
    info = get_info(name)  # unknown names: UnknownDatasetError listing the known ones
    if info.loader is None:
        raise DataError(
            f"no loader for {name!r} yet; its registry entry exists (`medgraph data info {name}`)"
        )
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    loader = info.loader
    if source == "real":
        return loader.read(root)
    if source == "auto":
        # the reader finds the folder (locate, or its own rules, e.g. PH2's IMDnnn folder);
        # only "not found" falls back: DataConfigError (a misconfigured path) and
        # DataFormatError (a broken copy) are not caught
        try:
            return loader.read(root)
        except DataUnavailableError as exc:
            count = loader.real_size if n_phantoms is None else int(n_phantoms)
            logger.warning("%s; using %d synthetic phantoms instead (seed %d)", exc, count, seed)
    return loader.phantoms(n_phantoms, seed=seed)
