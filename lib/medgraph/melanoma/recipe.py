"""One cross-validated feature set of notebook 06 as a stored run (:class:`medgraph.store.Recipe`).

The study's cost is in two places: the graph features of 2600 images (half an hour on two
cores, cached on disk by :mod:`medgraph.melanoma.extraction`, not committed: hundreds of MB) and
the stratified 10-fold cross-validation of seven classifiers on each of about sixty feature sets
(a minute or more each). So one stored run is one feature set's cross-validation, and its
payload is small: the per-fold scores, the columns each fold's selector kept, each sample's test
fold, and which blocks made the features. A report then regenerates from the stored runs in
seconds, without the images' features.

The key holds the study, :data:`RECIPE_VERSION` and
:data:`~medgraph.melanoma.extraction.FEATURE_VERSION`, the feature set's name, the seed, the
blocks, the protocol's settings (:class:`CVSettings`), the graph settings that change the features
(Eq 3's δ and γ, the SLIC compactness) and the data checksum. How the folds are run in parallel
(``n_jobs``) is not in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from medgraph.melanoma.extraction import FEATURE_VERSION, block_feature_names
from medgraph.melanoma.protocol import (
    CLASSIFIERS,
    CVResult,
    cross_validate_features,
    summarise_folds,
)
from medgraph.options import RunOptions
from medgraph.store import RunKey

__all__ = ["RECIPE_VERSION", "CVSettings", "CVRequest", "CVRun", "CVRecipe", "MELANOMA_CV"]

#: version of the cross-validation recipe; part of every stored run's key
RECIPE_VERSION = 1


@dataclass(frozen=True)
class CVSettings:
    """The classification protocol of one run (:func:`cross_validate_features`).

    Attributes
    ----------
    n_splits : stratified folds
    n_select : features kept by the L1 selector
    leaky : scaler and selector fitted on all samples (the leaky protocol)
    classifiers : names from :data:`~medgraph.melanoma.protocol.CLASSIFIERS`
    """

    n_splits: int = 10
    n_select: int = 150
    leaky: bool = False
    classifiers: tuple[str, ...] = CLASSIFIERS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (for the key)."""
        out = asdict(self)
        out["classifiers"] = list(self.classifiers)
        return out


@dataclass(frozen=True)
class CVRequest:
    """One feature set to cross-validate.

    Attributes
    ----------
    name : str
        The feature set, e.g. ``"seg_texture_learned_tau0_fused"``.
    blocks : tuple of block names (:func:`medgraph.melanoma.extraction.block_name`)
    labels : (N,) int array, 0 benign, 1 melanoma
    features : callable(blocks) -> (N, p) array
        Called only when the run is trained (a stored run needs no features).
    settings : CVSettings
    seed : int
    fingerprint : str
        The data checksum.
    graph_settings : dict
        What changes the features besides the blocks (δ, γ, compactness).
    n_jobs : int
        Folds run in parallel (not part of the key).
    """

    name: str
    blocks: tuple[str, ...]
    labels: np.ndarray
    features: Callable[[Sequence[str]], np.ndarray]
    settings: CVSettings
    seed: int
    fingerprint: str
    graph_settings: Mapping[str, Any] = field(default_factory=dict)
    n_jobs: int = 1


@dataclass
class CVRun:
    """A finished cross-validation: :class:`CVResult`, which blocks (and how wide), time."""

    result: CVResult
    blocks: tuple[str, ...]
    widths: tuple[int, ...]
    seconds: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def column_groups(self) -> list[str]:
        """The block of every feature column (for Fig 6's shares)."""
        return [b for b, w in zip(self.blocks, self.widths, strict=True) for _ in range(w)]


class CVRecipe:
    """:class:`medgraph.store.Recipe` of notebook 06's cross-validations (module notes)."""

    name = "melanoma_cv"

    def key(self, study: str, request: CVRequest) -> RunKey:
        """The run's key (module notes)."""
        return RunKey(
            study=study,
            recipe=self.name,
            versions={self.name: RECIPE_VERSION, "melanoma_features": FEATURE_VERSION},
            name=request.name,
            seed=int(request.seed),
            hyperparameters={
                "blocks": list(request.blocks),
                **request.settings.to_dict(),
                **dict(request.graph_settings),
            },
            data=request.fingerprint,
            split=[],
        )

    def train(self, request: CVRequest, options: RunOptions) -> CVRun:
        """Compute (or read) the features and cross-validate them."""
        start = time.perf_counter()
        X = request.features(request.blocks)
        widths = tuple(len(block_feature_names(b)) for b in request.blocks)
        if X.shape[1] != sum(widths):
            raise ValueError(f"{request.name}: {X.shape[1]} columns, the blocks have {sum(widths)}")
        s = request.settings
        result = cross_validate_features(
            X,
            request.labels,
            classifiers=s.classifiers,
            n_splits=s.n_splits,
            n_select=s.n_select,
            seed=request.seed,
            leaky=s.leaky,
            n_jobs=request.n_jobs,
        )
        seconds = time.perf_counter() - start
        if options.progress:
            print(f"  {request.name}: {X.shape[1]} features, {seconds:.0f} s", flush=True)
        return CVRun(result, tuple(request.blocks), widths, seconds, {})

    def to_payload(self, run: CVRun) -> dict[str, Any]:
        """The run as tensors, numbers, strings and lists."""
        r = run.result
        return {
            "folds": {c: r.folds[c].tolist() for c in r.folds.columns},
            "selected": torch.as_tensor(r.selected.astype(np.int32)),
            "fold_of": torch.as_tensor(r.fold_of.astype(np.int16)),
            "leaky": bool(r.leaky),
            "blocks": list(run.blocks),
            "widths": [int(w) for w in run.widths],
            "seconds": float(run.seconds),
            "provenance": {str(k): str(v) for k, v in run.provenance.items()},
        }

    def from_payload(
        self, payload: Mapping[str, Any], request: CVRequest, options: RunOptions
    ) -> CVRun:
        """The run back from :meth:`to_payload` (the summary is recomputed from the folds)."""
        folds = pd.DataFrame(payload["folds"])
        result = CVResult(
            folds=folds,
            summary=summarise_folds(folds),
            selected=payload["selected"].numpy().astype(np.int64),
            fold_of=payload["fold_of"].numpy().astype(np.int64),
            leaky=bool(payload["leaky"]),
        )
        return CVRun(
            result,
            tuple(payload["blocks"]),
            tuple(int(w) for w in payload["widths"]),
            float(payload["seconds"]),
            dict(payload["provenance"]),
        )

    def summary(self, run: CVRun, request: CVRequest) -> str:
        """One line: the best classifier's accuracy and AUC, and the time."""
        s = run.result.summary
        best = s.loc[s["accuracy"].idxmax()]
        return (
            f"{request.name}: best {best['classifier']} accuracy {best['accuracy']:.3f} "
            f"AUC {best['auc']:.3f} ({run.seconds:.0f} s)"
        )


#: the recipe instance the study uses
MELANOMA_CV = CVRecipe()
