"""Per-image graph-cut optimisation as a stored run (:class:`medgraph.store.Recipe`).

One run is one combination (a loss and a GNN layer) optimised on every image of a data set:
patch features (:func:`medgraph.features.extract_patch_features`), then
:func:`~medgraph.graphcut.optimise_graph_cuts`. Its payload keeps, for every image and every
evaluated epoch, the hard cluster of every patch (zlib-compressed uint8), the per-image loss
history and the times, so that a report scores it again in seconds. Its key holds the study,
:data:`RECIPE_VERSION`, the combination, the seed, every setting that changes the result (the
feature extractor and its options included), the data checksum and the image list.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from medgraph.data import SegmentationDataset, data_fingerprint
from medgraph.features import extract_patch_features
from medgraph.graphcut.optimise import optimise_graph_cuts
from medgraph.options import RunOptions
from medgraph.store import RunKey, obtain, pack_uint8, unpack_uint8
from medgraph.training import select_device, training_provenance

__all__ = [
    "RECIPE_VERSION",
    "GraphCutSettings",
    "GraphCutRequest",
    "GraphCutRun",
    "GraphCutRecipe",
    "GRAPH_CUT",
    "run_graph_cuts",
]

#: version of the graph-cut recipe; part of every graph-cut run's key
RECIPE_VERSION = 1


@dataclass(frozen=True)
class GraphCutSettings:
    """Everything that changes a graph-cut run's result, besides the combination and the data.

    Attributes
    ----------
    epochs, eval_every : int
        Optimisation steps per image (the seed's 100) and the evaluation interval (its 10).
    k, hidden : int
        Clusters (2: object and background) and the GNN layer's width.
    lr : float
        Adam's learning rate.
    alpha, tau : float
        CC's α (5) and DMoN's cosine threshold τ (0.7), the seed's values.
    extractor : str
        Patch features (:data:`medgraph.features.FEATURE_EXTRACTORS`).
    extractor_options : dict
        Options of the extractor. DINO's ``weights`` (where this machine keeps the checkpoint)
        is left out of the key: the checkpoint is the official one wherever it lies.
    size, patch : int
        Images are resized to size × size and cut into patch × patch cells (a 28 × 28 grid).
    batch_size : int
        Images optimised together (results equal the one-image loop to float tolerance).
    """

    epochs: int = 100
    eval_every: int = 10
    k: int = 2
    hidden: int = 64
    lr: float = 1e-3
    alpha: float = 5.0
    tau: float = 0.7
    extractor: str = "colour_texture"
    extractor_options: dict[str, Any] = field(default_factory=dict)
    size: int = 224
    patch: int = 8
    batch_size: int = 64

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "epochs": self.epochs,
            "eval_every": self.eval_every,
            "k": self.k,
            "hidden": self.hidden,
            "lr": self.lr,
            "alpha": self.alpha,
            "tau": self.tau,
            "extractor": self.extractor,
            "extractor_options": {
                str(k): str(v) for k, v in self.extractor_options.items() if k != "weights"
            },
            "size": self.size,
            "patch": self.patch,
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class GraphCutRequest:
    """One combination (loss, layer) on every image of a data set."""

    loss: str
    layer: str
    data: SegmentationDataset
    settings: GraphCutSettings
    seed: int = 0
    fingerprint: str | None = None

    @property
    def name(self) -> str:
        """``"<loss>_<layer>"``."""
        return f"{self.loss}_{self.layer}"


@dataclass
class GraphCutRun:
    """What a graph-cut run produced.

    Attributes
    ----------
    assignments : (B, E, N) uint8 array
        Hard cluster of every patch of every image at every evaluated epoch.
    eval_epochs : (E,) int array
    losses : (B, epochs) float32 array
        Every image's loss at every epoch.
    grid : (rows, cols)
    seconds_optimise, seconds_features : float
        Wall time of the optimisation of all images and of the feature extraction.
    features : str
        One line describing the features.
    provenance : dict
        Device, host, versions and time of the run; ``from_cache`` when loaded from a store.
    """

    assignments: np.ndarray
    eval_epochs: np.ndarray
    losses: np.ndarray
    grid: tuple[int, int]
    seconds_optimise: float
    seconds_features: float
    features: str
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds_per_image(self) -> float:
        """Optimisation time per image (all epochs), seconds."""
        return self.seconds_optimise / max(1, self.assignments.shape[0])


class GraphCutRecipe:
    """:class:`medgraph.store.Recipe` of graph-cut runs (module notes)."""

    name = "graph_cut"

    def key(self, study: str, request: GraphCutRequest) -> RunKey:
        """The run's key (module notes)."""
        return RunKey(
            study=study,
            recipe=self.name,
            versions={self.name: RECIPE_VERSION},
            name=request.name,
            seed=int(request.seed),
            hyperparameters={
                "loss": request.loss,
                "layer": request.layer,
                **request.settings.to_dict(),
            },
            data=request.fingerprint or data_fingerprint(request.data),
            split=[list(range(len(request.data)))],
        )

    def train(self, request: GraphCutRequest, options: RunOptions) -> GraphCutRun:
        """Extract the patch features of every image and optimise the combination on each."""
        device = select_device(options.device)
        s = request.settings
        start = time.perf_counter()
        feats = extract_patch_features(
            request.data.images,
            s.extractor,
            size=s.size,
            patch=s.patch,
            device=device,
            **s.extractor_options,
        )
        seconds_features = time.perf_counter() - start
        result = optimise_graph_cuts(
            feats.features,
            request.loss,  # type: ignore[arg-type]
            request.layer,  # type: ignore[arg-type]
            epochs=s.epochs,
            eval_every=s.eval_every,
            k=s.k,
            hidden=s.hidden,
            lr=s.lr,
            alpha=s.alpha,
            tau=s.tau,
            seed=request.seed,
            device=device,
            batch_size=s.batch_size,
            progress=options.progress,
        )
        return GraphCutRun(
            assignments=result.assignments,
            eval_epochs=np.asarray(result.eval_epochs, dtype=np.int64),
            losses=result.losses.astype(np.float32),
            grid=tuple(int(v) for v in feats.grid),  # type: ignore[arg-type]
            seconds_optimise=float(result.seconds),
            seconds_features=float(seconds_features),
            features=feats.description,
            provenance=training_provenance(device),
        )

    def to_payload(self, run: GraphCutRun) -> dict[str, Any]:
        """The run as tensors, numbers and strings (assignments zlib-compressed)."""
        return {
            "assignments": pack_uint8(run.assignments, level=6),
            "eval_epochs": torch.as_tensor(run.eval_epochs, dtype=torch.int64),
            "losses": torch.as_tensor(run.losses, dtype=torch.float32),
            "grid": [int(v) for v in run.grid],
            "seconds_optimise": float(run.seconds_optimise),
            "seconds_features": float(run.seconds_features),
            "features": run.features,
            "provenance": {
                str(k): v if isinstance(v, bool | int | float | None) else str(v)
                for k, v in run.provenance.items()
            },
        }

    def from_payload(
        self, payload: Mapping[str, Any], request: GraphCutRequest, options: RunOptions
    ) -> GraphCutRun:
        """The run back from :meth:`to_payload`."""
        return GraphCutRun(
            assignments=unpack_uint8(payload["assignments"]),
            eval_epochs=payload["eval_epochs"].numpy(),
            losses=payload["losses"].numpy(),
            grid=(int(payload["grid"][0]), int(payload["grid"][1])),
            seconds_optimise=float(payload["seconds_optimise"]),
            seconds_features=float(payload["seconds_features"]),
            features=str(payload["features"]),
            provenance=dict(payload["provenance"]),
        )

    def summary(self, run: GraphCutRun, request: GraphCutRequest) -> str:
        """One line: images, epochs and time per image."""
        return (
            f"{run.assignments.shape[0]} images, {int(run.eval_epochs[-1])} epochs, "
            f"{run.seconds_per_image:.3f} s per image"
        )


#: the graph-cut recipe
GRAPH_CUT = GraphCutRecipe()


def run_graph_cuts(
    study: str,
    loss: str,
    layer: str,
    data: SegmentationDataset,
    settings: GraphCutSettings | None = None,
    seed: int = 0,
    options: RunOptions | None = None,
    fingerprint: str | None = None,
) -> GraphCutRun:
    """One combination on every image of ``data``, through the store (loaded when stored)."""
    request = GraphCutRequest(
        loss, layer, data, settings or GraphCutSettings(), int(seed), fingerprint
    )
    return obtain(GRAPH_CUT, study, request, options)
