"""One entry point for the notebooks: :func:`load_dataset` (real data, or phantoms offline)."""

from __future__ import annotations

import logging
from pathlib import Path

from medgraph.data.dataset import SegmentationDataset
from medgraph.data.errors import DataError, DataUnavailableError
from medgraph.data.paths import locate
from medgraph.data.registry import get_info

__all__ = ["load_dataset", "SOURCES"]

logger = logging.getLogger(__name__)

SOURCES = ("auto", "real", "phantom")


def load_dataset(
    name: str,
    source: str = "auto",
    root: str | Path | None = None,
    n_phantoms: int | None = None,
    seed: int = 0,
) -> SegmentationDataset:
    """Load a segmentation data set: the real one, or seeded phantoms in its style.

    Never downloads (use ``medgraph data fetch NAME`` for that).

    Parameters
    ----------
    name : {"wbc1", "wbc2"}
        Registry name. The entry's :class:`~medgraph.data.Loader` says how to read it and which
        phantoms stand in for it; other registered names (no loader yet) raise
        :class:`DataError`.
    source : {"auto", "real", "phantom"}
        ``"real"`` reads the published files (:class:`DataUnavailableError` when absent);
        ``"phantom"`` generates :func:`make_wbc_phantoms`; ``"auto"`` reads the real files when
        :func:`locate` finds them and otherwise generates phantoms, logging a warning that says so.
        A real copy that is found but broken raises rather than falling back, and so does a
        ``root`` or ``MEDGRAPH_DATA`` naming a folder that does not exist
        (:class:`~medgraph.data.DataConfigError`).
    root : str or Path, optional
        Where to look first for the real data (see :func:`locate`).
    n_phantoms : int, optional
        Number of phantoms; default the size of the real set (300 for wbc1, 100 for wbc2).
    seed : int
        Seed of the phantoms.

    Returns
    -------
    SegmentationDataset
        With ``source`` saying which it is.

    Raises
    ------
    DataConfigError
        When ``root`` or ``MEDGRAPH_DATA`` names a missing folder (also with ``"auto"``).
    DataUnavailableError
        With ``"real"``, when no copy is found.
    DataFormatError
        When a copy is found but its files are broken.
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
        try:
            locate(name, root)  # DataConfigError (a misconfigured path) is not caught
        except DataUnavailableError as exc:
            count = loader.real_size if n_phantoms is None else int(n_phantoms)
            logger.warning("%s; using %d synthetic phantoms instead (seed %d)", exc, count, seed)
        else:
            return loader.read(root)
    return loader.phantoms(n_phantoms, seed=seed)
