"""One entry point for the notebooks: :func:`load_dataset` (real data, or phantoms offline)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from medgraph.data.dataset import SegmentationDataset
from medgraph.data.errors import DataError, DataUnavailableError
from medgraph.data.paths import locate
from medgraph.data.phantoms import make_wbc_phantoms
from medgraph.data.registry import get_info
from medgraph.data.wbc import load_wbc

__all__ = ["load_dataset", "SOURCES"]

logger = logging.getLogger(__name__)

SOURCES = ("auto", "real", "phantom")

# name -> (reader of the real data, phantom style, size of the real set)
_SEGMENTATION: dict[str, tuple[Callable[[str | Path | None], SegmentationDataset], str, int]] = {
    "wbc1": (lambda root: load_wbc(1, root), "wbc1", 300),
    "wbc2": (lambda root: load_wbc(2, root), "wbc2", 100),
}


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
        Registry name. Other registered names raise :class:`DataError` until their loader exists.
    source : {"auto", "real", "phantom"}
        ``"real"`` reads the published files (:class:`DataUnavailableError` when absent);
        ``"phantom"`` generates :func:`make_wbc_phantoms`; ``"auto"`` reads the real files when
        :func:`locate` finds them and otherwise generates phantoms, logging a warning that says so.
        A real copy that is found but broken raises rather than falling back.
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
    """
    get_info(name)  # unknown names: UnknownDatasetError listing the known ones
    if name not in _SEGMENTATION:
        raise DataError(
            f"no loader for {name!r} yet; its registry entry exists (`medgraph data info {name}`)"
        )
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    read_real, style, real_size = _SEGMENTATION[name]
    if source == "real":
        return read_real(root)
    if source == "auto":
        try:
            locate(name, root)
        except DataUnavailableError as exc:
            count = real_size if n_phantoms is None else n_phantoms
            logger.warning("%s; using %d synthetic phantoms instead (seed %d)", exc, count, seed)
        else:
            return read_real(root)
    count = real_size if n_phantoms is None else int(n_phantoms)
    return make_wbc_phantoms(count, seed=seed, style=style)
