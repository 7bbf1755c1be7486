"""One module per study of the workbook: what it trains and scores, nothing generic.

A study (:class:`Study`) turns a notebook's parameters into the runs the notebook asks the store
for (:meth:`Study.plan`: groups of labelled variants, each trained with some seeds), names the
parameter that seeds its data and split, and loads its data. The notebook calls its study; the
pieces command (``python -m medgraph.pieces``) calls the same study for a run declared in
``papermill_runs.yaml`` (whose ``study:`` field names it), so both ask for runs with the same
keys. Studies are found by name in :data:`STUDIES` (:func:`get_study`); the library never names a
notebook file.

To add a study: write ``medgraph/studies/<name>.py`` with a :class:`Study` called ``STUDY``,
add it to :data:`STUDIES` below, and name it in the runs of its notebook in
``papermill_runs.yaml`` (see the README's contributor section).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from medgraph.segmentation.config import SegmentationConfig

__all__ = ["StudyGroup", "Piece", "Study", "STUDIES", "get_study", "study_names"]


@dataclass(frozen=True)
class StudyGroup:
    """One table of a study: labelled model variants, trained with some seeds and a config.

    Attributes
    ----------
    name : str
        E.g. ``"comparison"``, ``"lambda"``, ``"gnn"``, ``"scale"`` (notebook 02) or ``"metric"``
        (notebook 03).
    variants : dict ``label → (model name, config overrides)``
    seeds : tuple of int
    config : SegmentationConfig
        Shared by the variants (each adds its overrides).
    """

    name: str
    variants: dict[str, tuple[str, dict[str, Any]]]
    seeds: tuple[int, ...]
    config: SegmentationConfig


@dataclass(frozen=True)
class Piece:
    """One training run a study asks the store for (:func:`medgraph.store.obtain`).

    Attributes
    ----------
    group, label : str
        Where the run appears in the study's tables (e.g. ``"comparison"``, ``"unet"``).
    model : str
        What is trained (for ``--models``).
    seed : int
    recipe : medgraph.store.Recipe
        Keys, trains and stores the run; may also offer ``summary(run, request) -> str`` (one
        line after training) and ``store_form(payload, request, keep_all) -> payload`` (the
        committed form, :func:`medgraph.store.export_entry`).
    request : what the recipe needs
    """

    group: str
    label: str
    model: str
    seed: int
    recipe: Any
    request: Any


@dataclass(frozen=True)
class Study:
    """A study: its name (part of every run key), its plan and how its data are seeded.

    Attributes
    ----------
    name : str
        The study's name in :data:`STUDIES` and in its runs' keys.
    title : str
        One line: what it reproduces.
    plan : callable(parameters) -> dict ``group name → StudyGroup``
        The runs a notebook with these parameters trains (empty for a study that trains none).
    split_seed : str or None
        The parameter that seeds the data (phantoms) and the split.
    groups : tuple of str
        The names of the groups :attr:`plan` may return, for ``--groups``.
    keeps_all_predictions : callable(parameters, group, seed) -> bool, optional
        Whether the committed store form of a run keeps its predictions on every image (for a
        later step that needs them, such as notebook 02's cell-type classifier).
    make_pieces : callable(parameters) -> (list of Piece, data), optional
        The study's runs as store requests with their data (a data set, for the report's
        header line); None: the segmentation runs of :attr:`plan` on :meth:`data_and_splits`.
    """

    name: str
    title: str
    plan: Callable[[Mapping[str, Any]], dict[str, StudyGroup]]
    split_seed: str | None = None
    groups: tuple[str, ...] = field(default=())
    keeps_all_predictions: Callable[[Mapping[str, Any], str, int], bool] | None = None
    make_pieces: Callable[[Mapping[str, Any]], tuple[list[Piece], Any]] | None = None

    @property
    def trains(self) -> bool:
        """Whether the study asks the store for any run."""
        return self.make_pieces is not None or self.split_seed is not None

    def pieces(self, params: Mapping[str, Any]) -> tuple[list[Piece], Any]:
        """Every run the study's notebook asks the store for, and the data they are trained on.

        Raises
        ------
        medgraph.data.DataError
            When the data cannot be loaded.
        """
        if self.make_pieces is not None:
            return self.make_pieces(params)
        from medgraph.data import data_fingerprint
        from medgraph.segmentation.recipe import SEGMENTATION, SegmentationRequest

        plan = self.plan(params)
        if not plan:
            return [], None
        data, splits = self.data_and_splits(params)
        fingerprint = data_fingerprint(data)
        out = []
        for name, group in plan.items():
            for label, (model, overrides) in group.variants.items():
                cfg = SegmentationConfig.from_any(group.config, **overrides)
                for seed in group.seeds:
                    request = SegmentationRequest.make(model, data, splits, cfg, seed, fingerprint)
                    out.append(Piece(name, label, model, int(seed), SEGMENTATION, request))
        return out, data

    def data_and_splits(self, params: Mapping[str, Any]) -> Any:
        """The data set and its split for a notebook's parameters (``dataset``, ``data_source``,
        ``data_root``, ``n_phantoms`` and the split-seed parameter)."""
        from medgraph.segmentation.recipe import load_segmentation_data

        if self.split_seed is None:
            raise ValueError(f"study {self.name!r} trains nothing; it has no split")
        missing = [
            k
            for k in ("dataset", "data_source", "data_root", "n_phantoms", self.split_seed)
            if k not in params
        ]
        if missing:
            raise KeyError(f"study {self.name} needs the parameters {missing}")
        return load_segmentation_data(
            params["dataset"],
            params["data_source"],
            params["data_root"],
            params["n_phantoms"],
            int(params[self.split_seed]),
        )


def _studies() -> dict[str, Study]:
    from medgraph.studies import (
        leukemia_knn_gcn,
        melanoma_graphs,
        metric_learning,
        smgnn_vs_baselines,
        superpixel_scale,
        unsupervised_graph_cuts,
    )

    return {
        module.STUDY.name: module.STUDY
        for module in (
            superpixel_scale,
            smgnn_vs_baselines,
            metric_learning,
            unsupervised_graph_cuts,
            leukemia_knn_gcn,
            melanoma_graphs,
        )
    }


class _Registry(Mapping[str, Study]):
    """The studies by name, imported on first use."""

    def __init__(self) -> None:
        self._items: dict[str, Study] | None = None

    def _load(self) -> dict[str, Study]:
        if self._items is None:
            self._items = _studies()
        return self._items

    def __getitem__(self, name: str) -> Study:
        return self._load()[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


#: every study, by name
STUDIES: Mapping[str, Study] = _Registry()


def get_study(name: str) -> Study:
    """The study called ``name``; an unknown name raises KeyError listing the known ones."""
    try:
        return STUDIES[name]
    except KeyError:
        raise KeyError(f"unknown study {name!r}; the studies: {list(STUDIES)}") from None


def study_names() -> tuple[str, ...]:
    """Every study's name."""
    return tuple(STUDIES)
