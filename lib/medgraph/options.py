"""How a run is carried out, as opposed to what it trains.

:class:`RunOptions` holds every setting that cannot change a run's result: where it runs, what it
shows, where its intermediate files and results are kept. It is passed beside a run's
hyperparameters (for segmentation :class:`~medgraph.segmentation.SegmentationConfig`) and never
enters a run's key (:mod:`medgraph.store`), so two runs that differ only in their options are the
same run. There is no list of fields to exclude from the key: a setting belongs either to the
hyperparameters or to the options.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunOptions", "split_settings"]


@dataclass(frozen=True)
class RunOptions:
    """Settings of a run that do not change what it produces.

    Attributes
    ----------
    device : str
        ``"auto"`` (CUDA, then MPS, then the CPU; :func:`medgraph.training.select_device`), or a
        device such as ``"cpu"`` or ``"cuda:0"``.
    progress : bool
        tqdm progress bars while training.
    result_cache : path or None
        The result cache (:mod:`medgraph.store`): runs are looked up there first and trained runs
        are saved there. None: nothing is looked up or saved.
    stores : tuple of paths or None
        The read-only committed stores searched after the cache; None: the default
        (:func:`medgraph.store.result_stores`, normally ``trained/``).
    superpixel_cache : path or None
        Folder of the on-disk superpixel label maps (:func:`medgraph.graphs.compute_label_maps`).
    checkpoint : path or None
        Where the training loop saves the best weights at the end.
    resume : path or None
        An explicit resume state of the training loop (:func:`medgraph.training.fit`); with a
        result cache, a run gets one in ``<cache>/partial/`` without asking.
    retrain_damaged : bool
        Train a run again when its stored entry fails its checksum, instead of raising
        :class:`medgraph.store.StoreIntegrityError` (never the default: retraining may take hours).
    wait_for_lock : bool
        When another process is training the same run: wait for it and load its result (True),
        or raise :class:`medgraph.store.RunLockedError` (False; the pieces command skips the run).
    """

    device: str = "auto"
    progress: bool = True
    result_cache: str | os.PathLike[str] | None = None
    stores: tuple[str | os.PathLike[str], ...] | None = None
    superpixel_cache: str | os.PathLike[str] | None = None
    checkpoint: str | os.PathLike[str] | None = None
    resume: str | os.PathLike[str] | None = None
    retrain_damaged: bool = False
    wait_for_lock: bool = True

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def cache_path(self) -> Path | None:
        """``result_cache`` as a Path (None when off)."""
        return None if self.result_cache is None else Path(self.result_cache).expanduser()


_OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(RunOptions))


def split_settings(settings: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a mapping of settings into hyperparameters and :class:`RunOptions` fields.

    A notebook's ``config`` parameter may mix both (``{"batch_size": 8, "progress": False}``);
    every key that names a field of :class:`RunOptions` is an option, the rest are
    hyperparameters (checked by the config class that receives them).

    Returns
    -------
    hyperparameters, options : two dicts
    """
    hyper: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        (options if key in _OPTION_FIELDS else hyper)[key] = value
    return hyper, options
