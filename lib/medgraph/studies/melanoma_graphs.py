"""Notebook 06: melanoma detection from multi-level superpixel graphs (SEG and SHG).

Reproduces Elwer, Rushdi and Annaby (2026), "Learning Superpixel Ensemble and Hierarchy Graphs
for Melanoma Detection", on ISIC 2017 (training + test: 2600 images, 491 melanomas). Every image
gives graph features at several superpixel levels (:mod:`medgraph.melanoma.extraction`, cached on
disk) and conventional whole-image features; every *feature set* of the paper's tables (one level,
or all levels and the conventional features fused) is cross-validated with seven classifiers
(:mod:`medgraph.melanoma.protocol`), and each cross-validation is a stored run
(:mod:`medgraph.melanoma.recipe`), so the report regenerates without the features.

Feature sets (names ``<kind>_<signal>_<weighting>_tau<percent>_<level>``):

- Tables 1–6: SEG, Gaussian ("handcrafted") and learned weights, each signal; levels n = 20, 40,
  60, 80, 100 alone and ``fused`` (all five levels + conventional features).
- Tables 8–10: SHG, learned weights, each signal; levels n = 80, 40, 20, 10, 5 and ``fused``.
- Table 11: SEG, learned weights, colour signal, fused, pruned at τ = 25, 50, 75 % (τ = 0 is
  Table 6's fused row).
- ``conventional``: the conventional features alone (ours, a baseline the paper does not give).
- ``leaky``: the paper's best configuration (SEG, learned, texture, fused; its Table 7) with the
  scaler and selector fitted on all samples, to measure what the leak is worth. It is chosen
  from the paper's table, before any of our numbers exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medgraph.studies import Piece, Study, StudyGroup

__all__ = [
    "STUDY",
    "STUDY_NAME",
    "SIGNAL_ORDER",
    "LEAKY_CONFIG",
    "FeatureSet",
    "load_data",
    "melanoma_labels",
    "feature_plan",
    "feature_sets",
    "make_pieces",
    "results_long",
    "paper_comparison",
    "table_wide",
    "best_rows",
    "verdict",
    "selection_table",
]

STUDY_NAME = "melanoma_graphs"
#: the paper's order of signals in its tables
SIGNAL_ORDER: tuple[str, ...] = ("geometric", "texture", "colour")
#: the paper's label of each of our weightings
PAPER_WEIGHTS = {"gaussian": "handcrafted", "learned": "learned"}
#: the configuration of the leaky column: the paper's best (Table 7: SEG, learned, texture)
LEAKY_CONFIG = {"kind": "seg", "signal": "texture", "weighting": "learned"}
#: absolute tolerance of the verdict rule (fractions)
VERDICT_TOLERANCE = 0.01


@dataclass(frozen=True)
class FeatureSet:
    """One cross-validated feature set of the study.

    Attributes
    ----------
    name : str
        Unique, e.g. ``"seg_texture_learned_tau0_fused"``.
    tables : tuple of int
        The paper's tables that show it (empty for ours only).
    kind, signal, weighting : str
        ``"seg"``/``"shg"``, the signal, ``"gaussian"``/``"learned"`` (``"conventional"`` for the
        conventional-only set).
    tau : float
    level : str
        The paper's row label: ``"n=20"``, ..., ``"fused"``, or ``"τ=25%"`` in Table 11.
    blocks : tuple of block names
    leaky : bool
    """

    name: str
    tables: tuple[int, ...]
    kind: str
    signal: str
    weighting: str
    tau: float
    level: str
    blocks: tuple[str, ...]
    leaky: bool = False


def load_data(params: Mapping[str, Any]) -> Any:
    """The lesion set of notebook 06's parameters (``dataset`` ``"isic2017"``; phantoms offline
    with ``data_source="auto"``); ``max_images`` takes a stratified, seeded subset."""
    from medgraph.data import load_dataset
    from medgraph.knn_gcn.protocol import stratified_subset

    data = load_dataset(
        params["dataset"],
        source=params["data_source"],
        root=params["data_root"],
        n_phantoms=params["n_phantoms"],
        seed=int(params["seed"]),
    )
    return stratified_subset(data, params.get("max_images"), int(params["seed"]))


def melanoma_labels(data: Any) -> np.ndarray:
    """(N,) int64: 1 for melanoma, 0 for every other class."""
    names = [str(c).lower() for c in data.class_names]
    if "melanoma" not in names:
        raise ValueError(f"{data.name} has no class 'melanoma' (classes: {data.class_names})")
    return (np.asarray(data.labels) == names.index("melanoma")).astype(np.int64)


def feature_plan(params: Mapping[str, Any]) -> Any:
    """The :class:`~medgraph.melanoma.extraction.FeaturePlan` of the parameters."""
    from medgraph.melanoma.extraction import FeaturePlan

    plan = FeaturePlan.paper(params["seg_counts"], params["shg_counts"], params["taus"])
    return dataclasses.replace(
        plan,
        delta=float(params["delta"]),
        gamma=float(params["gamma"]),
        compactness=float(params["slic_compactness"]),
    )


def _set_name(kind: str, signal: str, weighting: str, tau: float, level: str) -> str:
    return f"{kind}_{signal}_{weighting}_tau{int(round(100 * tau))}_{level.replace('=', '')}"


def feature_sets(params: Mapping[str, Any]) -> list[FeatureSet]:
    """Every feature set the study cross-validates, in the paper's table order (module notes)."""
    from medgraph.melanoma.extraction import CONVENTIONAL, block_name

    out: list[FeatureSet] = []

    def add(kind: str, signal: str, weighting: str, tau: float, tables: tuple[int, ...]) -> None:
        counts = params["seg_counts"] if kind == "seg" else params["shg_counts"]
        if tau == 0:  # single levels only for the unpruned graphs (the paper's Tables 1-10)
            for n in counts:
                block = block_name(kind, signal, weighting, 0.0, n)
                level = f"n={n}"
                out.append(
                    FeatureSet(
                        _set_name(kind, signal, weighting, 0.0, level),
                        tables,
                        kind,
                        signal,
                        weighting,
                        0.0,
                        level,
                        (block,),
                    )
                )
        blocks = tuple(block_name(kind, signal, weighting, tau, n) for n in counts)
        level = "fused" if tau == 0 else f"τ={int(round(100 * tau))}%"
        pruning = (11,) if (kind, signal, weighting) == ("seg", "colour", "learned") else ()
        out.append(
            FeatureSet(
                _set_name(kind, signal, weighting, tau, "fused"),
                tables + pruning if tau == 0 else (11,),
                kind,
                signal,
                weighting,
                tau,
                level,
                (*blocks, CONVENTIONAL),
            )
        )

    for table, (weighting, signal) in enumerate(
        ((w, s) for w in ("gaussian", "learned") for s in SIGNAL_ORDER), start=1
    ):
        add("seg", signal, weighting, 0.0, (table, 7))
    for tau in params["taus"]:
        add("seg", "colour", "learned", float(tau), (11,))
    for table, signal in enumerate(SIGNAL_ORDER, start=8):
        add("shg", signal, "learned", 0.0, (table,))
    out.append(
        FeatureSet("conventional", (), "conventional", "", "", 0.0, "conventional", (CONVENTIONAL,))
    )
    base = next(
        s
        for s in out
        if (s.kind, s.signal, s.weighting, s.level)
        == (LEAKY_CONFIG["kind"], LEAKY_CONFIG["signal"], LEAKY_CONFIG["weighting"], "fused")
    )
    out.append(
        FeatureSet(
            base.name + "_leaky",
            (),
            base.kind,
            base.signal,
            base.weighting,
            0.0,
            "fused (leaky)",
            base.blocks,
            leaky=True,
        )
    )
    return out


class _Features:
    """The study's features of one data set, extracted on first use (then from the cache)."""

    def __init__(self, images: Sequence[np.ndarray], plan: Any, params: Mapping[str, Any]):
        self.images, self.plan, self.params = images, plan, params
        self._blocks: dict[str, np.ndarray] | None = None

    def blocks(self) -> dict[str, np.ndarray]:
        from medgraph.melanoma.extraction import extract_features

        if self._blocks is None:
            cache = self.params.get("feature_cache", "auto")
            self._blocks = extract_features(
                self.images,
                self.plan,
                cache=cache,
                chunk_size=int(self.params.get("chunk_size", 50)),
                n_jobs=int(self.params.get("n_jobs", 1)),
                progress=bool(self.params.get("progress", False)),
            )
        return self._blocks

    def __call__(self, names: Sequence[str]) -> np.ndarray:
        blocks = self.blocks()
        return np.concatenate([blocks[n] for n in names], axis=1)


def make_pieces(params: Mapping[str, Any]) -> tuple[list[Piece], Any]:
    """One stored cross-validation per feature set, and the data."""
    from medgraph.data import data_fingerprint
    from medgraph.melanoma.recipe import MELANOMA_CV, CVRequest, CVSettings

    data = load_data(params)
    labels = melanoma_labels(data)
    plan = feature_plan(params)
    features = _Features(data.images, plan, params)
    fingerprint = data_fingerprint(data)
    graph_settings = {"delta": plan.delta, "gamma": plan.gamma, "compactness": plan.compactness}
    pieces = []
    for fs in feature_sets(params):
        settings = CVSettings(
            n_splits=int(params["n_splits"]),
            n_select=int(params["n_select"]),
            leaky=fs.leaky,
            classifiers=tuple(params["classifiers"]),
        )
        request = CVRequest(
            fs.name,
            fs.blocks,
            labels,
            features,
            settings,
            int(params["cv_seed"]),
            fingerprint,
            graph_settings,
            n_jobs=int(params.get("n_jobs", 1)),
        )
        pieces.append(Piece(fs.kind, fs.name, "cv", int(params["cv_seed"]), MELANOMA_CV, request))
    return pieces, data


def _plan(params: Mapping[str, Any]) -> dict[str, StudyGroup]:
    return {}  # cross-validations are not segmentation runs; their pieces come from make_pieces


def results_long(runs: Mapping[str, Any], sets: Sequence[FeatureSet]) -> pd.DataFrame:
    """Our scores in long form: one row per (feature set, classifier, metric).

    Parameters
    ----------
    runs : feature-set name → :class:`~medgraph.melanoma.recipe.CVRun`
    sets : the feature sets (:func:`feature_sets`)

    Returns
    -------
    DataFrame: ``set``, ``kind``, ``signal``, ``weighting``, ``tau``, ``level``, ``leaky``,
    ``classifier``, ``metric``, ``ours`` (fold mean), ``ours_std`` (over folds), ``folds``.
    """
    from medgraph.melanoma.protocol import METRICS

    rows = []
    for fs in sets:
        if fs.name not in runs:
            continue
        summary = runs[fs.name].result.summary
        for _, r in summary.iterrows():
            for m in METRICS:
                rows.append(
                    {
                        "set": fs.name,
                        "kind": fs.kind,
                        "signal": fs.signal,
                        "weighting": fs.weighting,
                        "tau": fs.tau,
                        "level": fs.level,
                        "leaky": fs.leaky,
                        "classifier": r["classifier"],
                        "metric": m,
                        "ours": float(r[m]),
                        "ours_std": float(r[f"{m}_std"]),
                        "folds": int(r["folds"]),
                    }
                )
    return pd.DataFrame(rows)


def verdict(ours: float, std: float, folds: int, paper: float, comparable: bool) -> str:
    """The verdict of one row.

    **Rule**: *reproduced* when the paper's value lies within our fold mean ± max(2 SE, 0.01),
    with SE = (std over folds) / √folds; otherwise *not reproduced (ours lower / higher)*. Rows on
    other data than ISIC 2017 (phantoms) are *not comparable*; a row the paper leaves out is
    *no published value*.
    """
    if not comparable:
        return "not comparable (not ISIC 2017)"
    if not np.isfinite(paper):
        return "no published value"
    half = (
        max(2.0 * std / np.sqrt(max(folds, 1)), VERDICT_TOLERANCE)
        if np.isfinite(std)
        else (VERDICT_TOLERANCE)
    )
    if abs(ours - paper) <= half:
        return "reproduced"
    return f"not reproduced (ours {'lower' if ours < paper else 'higher'})"


def paper_comparison(long: pd.DataFrame, table: int, comparable: bool) -> pd.DataFrame:
    """Our rows of one of the paper's Tables 1–6 or 8–11 beside its values, with verdicts.

    Returns
    -------
    DataFrame: ``level``, ``classifier``, ``metric``, ``ours``, ``ours_std``, ``paper``,
    ``verdict`` in the paper's row order.
    """
    from medgraph.published import melanoma_seed_table

    paper = melanoma_seed_table(table)
    first = paper.iloc[0]
    weighting = {v: k for k, v in PAPER_WEIGHTS.items()}[first["weights"]]
    kind = str(first["graph"]).lower()
    ours = long[
        (long["kind"] == kind)
        & (long["signal"] == first["signal"])
        & (long["weighting"] == weighting)
        & ~long["leaky"]
    ]
    if table == 11:
        ours = ours[ours["level"].isin(["fused"]) | ours["level"].str.startswith("τ")]
        ours = ours.assign(level=ours["level"].replace({"fused": "τ=0%"}))
    else:
        ours = ours[(ours["tau"] == 0)]
    merged = paper.merge(ours, on=["level", "classifier", "metric"], how="left")
    merged["verdict"] = [
        verdict(o, s, f, p, comparable) if np.isfinite(o) else "not run"
        for o, s, f, p in zip(
            merged["ours"],
            merged["ours_std"],
            merged["folds"].fillna(0),
            merged["paper_value"],
            strict=True,
        )
    ]
    return merged.rename(columns={"paper_value": "paper"})[
        ["level", "classifier", "metric", "ours", "ours_std", "paper", "verdict"]
    ]


def table_wide(comparison: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The paper's layout (rows level × metric, one column per classifier), each cell
    ``"ours ± std (paper p)"``."""

    def cell(r: pd.Series) -> str:
        ours = (
            "—"
            if not np.isfinite(r["ours"])
            else f"{r['ours']:.{digits}f} ± {r['ours_std']:.{digits}f}"
        )
        paper = "—" if not np.isfinite(r["paper"]) else f"{r['paper']:.{digits}f}"
        return f"{ours} (paper {paper})"

    frame = comparison.assign(cell=comparison.apply(cell, axis=1))
    wide = frame.pivot_table(
        index=["level", "metric"], columns="classifier", values="cell", aggfunc="first", sort=False
    )
    return wide.reset_index()


def best_rows(long: pd.DataFrame, comparable: bool) -> pd.DataFrame:
    """Our Table 7: for every (signal, weighting) of the fused SEG, the classifier with the best
    cross-validated accuracy (best of seven on the same folds: optimistic, as the paper's), beside
    the paper's Table 7."""
    from medgraph.published import melanoma_seed_table

    paper = melanoma_seed_table(7)
    fused = long[(long["kind"] == "seg") & (long["level"] == "fused") & ~long["leaky"]]
    rows = []
    for weighting in ("gaussian", "learned"):
        for signal in SIGNAL_ORDER:
            part = fused[(fused["signal"] == signal) & (fused["weighting"] == weighting)]
            if part.empty:
                continue
            acc = part[part["metric"] == "accuracy"]
            best = acc.loc[acc["ours"].idxmax(), "classifier"]
            mine = part[part["classifier"] == best].set_index("metric")
            ref = paper[
                (paper["signal"] == signal) & (paper["weights"] == PAPER_WEIGHTS[weighting])
            ].set_index("metric")["paper_value"]
            for m in mine.index:
                rows.append(
                    {
                        "weights": PAPER_WEIGHTS[weighting],
                        "signal": signal,
                        "our best classifier": best,
                        "metric": m,
                        "ours": mine.loc[m, "ours"],
                        "ours_std": mine.loc[m, "ours_std"],
                        "paper": float(ref.get(m, np.nan)),
                        "verdict": verdict(
                            mine.loc[m, "ours"],
                            mine.loc[m, "ours_std"],
                            int(mine.loc[m, "folds"]),
                            float(ref.get(m, np.nan)),
                            comparable,
                        ),
                    }
                )
    return pd.DataFrame(rows)


def selection_table(runs: Mapping[str, Any], sets: Sequence[FeatureSet]) -> pd.DataFrame:
    """Fig 6's numbers: for every fused SEG set, the share of the selected features (over all
    folds) that falls in each level and in the conventional features."""
    from medgraph.melanoma.extraction import parse_block
    from medgraph.melanoma.protocol import selection_shares

    rows = []
    for fs in sets:
        if fs.kind != "seg" or fs.level != "fused" or fs.leaky or fs.name not in runs:
            continue
        run = runs[fs.name]
        groups = [
            b if b == "conventional" else f"n={parse_block(b)['n']}" for b in run.column_groups()
        ]
        for group, share in selection_shares(run.result.selected, groups).items():
            rows.append(
                {"signal": fs.signal, "weighting": fs.weighting, "group": group, "share": share}
            )
    return pd.DataFrame(rows)


STUDY = Study(
    STUDY_NAME,
    "Melanoma detection: multi-level superpixel graphs, Gaussian and learned weights, seven "
    "classifiers",
    _plan,
    split_seed="seed",
    groups=("seg", "shg", "conventional"),
    make_pieces=make_pieces,
)
