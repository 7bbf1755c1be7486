"""A trained backbone of notebook 05 as a stored run (:class:`medgraph.store.Recipe`).

Training the ResNet-18 is the only costly step of the study (minutes per split on a CPU); the kNN
graph, the GCN and the SVM on its embeddings take seconds. So one stored run is one backbone
trained on one split with one seed, and its payload keeps what every later step needs: the
embeddings of every node, the CNN-alone probabilities, the nodes it was trained and validated
on (the leakage guard reads them), the epoch histories and which weights it started from. The
key holds the study, :data:`RECIPE_VERSION`, the seed, :class:`BackboneSettings`, the split's
name and indices and the data checksum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medgraph.knn_gcn.backbone import BackboneRun, BackboneSettings, train_backbone
from medgraph.knn_gcn.protocol import Split
from medgraph.options import RunOptions
from medgraph.store import RunKey

__all__ = ["RECIPE_VERSION", "BackboneRequest", "BackboneRecipe", "CELL_BACKBONE"]

#: version of the backbone recipe; part of every backbone run's key
RECIPE_VERSION = 1


@dataclass(frozen=True)
class BackboneRequest:
    """One backbone: the prepared images of a data set, one split, settings and a seed.

    Attributes
    ----------
    images : (N, 3, S, S) float tensor in [0, 1]
    labels : (N,) int array
    n_classes : int
    split : Split
    settings : BackboneSettings
    seed : int
    fingerprint : str
        The data checksum (:func:`medgraph.data.data_fingerprint`).
    """

    images: torch.Tensor
    labels: np.ndarray
    n_classes: int
    split: Split
    settings: BackboneSettings
    seed: int
    fingerprint: str

    @property
    def name(self) -> str:
        """``"resnet18_<split name>"``."""
        return f"resnet18_{self.split.name}"


def _array(value: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(value)).to(dtype)


class BackboneRecipe:
    """:class:`medgraph.store.Recipe` of notebook 05's backbones (module notes)."""

    name = "cell_backbone"

    def key(self, study: str, request: BackboneRequest) -> RunKey:
        """The run's key (module notes)."""
        return RunKey(
            study=study,
            recipe=self.name,
            versions={self.name: RECIPE_VERSION},
            name=request.name,
            seed=int(request.seed),
            hyperparameters={"split": request.split.name, **request.settings.to_dict()},
            data=request.fingerprint,
            split=[request.split.train.tolist(), request.split.val.tolist()],
        )

    def train(self, request: BackboneRequest, options: RunOptions) -> BackboneRun:
        """Train the backbone on the split (:func:`train_backbone`)."""
        from medgraph.training import select_device

        device = select_device(options.device)
        progress = None
        if options.progress:

            def progress(epoch: int, train_loss: float, val_loss: float) -> None:
                print(
                    f"  {request.name} seed {request.seed}: epoch {epoch}/"
                    f"{request.settings.epochs} train {train_loss:.4f} val {val_loss:.4f}",
                    flush=True,
                )

        return train_backbone(
            request.images,
            request.labels,
            request.split,
            request.settings,
            n_classes=request.n_classes,
            seed=request.seed,
            device=device,
            progress=progress,
        )

    def to_payload(self, run: BackboneRun) -> dict[str, Any]:
        """The run as tensors, numbers and strings."""
        return {
            "embeddings": _array(run.embeddings, torch.float32),
            "cnn_probabilities": _array(run.cnn_probabilities, torch.float32),
            "trained_on": _array(run.trained_on, torch.int64),
            "validated_on": _array(run.validated_on, torch.int64),
            "best_epoch": int(run.best_epoch),
            "train_loss": _array(run.train_loss, torch.float64),
            "val_loss": _array(run.val_loss, torch.float64),
            "val_accuracy": _array(run.val_accuracy, torch.float64),
            "weights_used": str(run.weights_used),
            "seconds": float(run.seconds),
            "provenance": {
                str(k): v if isinstance(v, bool | int | float | None) else str(v)
                for k, v in run.provenance.items()
            },
        }

    def from_payload(
        self, payload: Mapping[str, Any], request: BackboneRequest, options: RunOptions
    ) -> BackboneRun:
        """The run back from :meth:`to_payload`."""
        return BackboneRun(
            embeddings=payload["embeddings"].numpy(),
            cnn_probabilities=payload["cnn_probabilities"].numpy(),
            trained_on=payload["trained_on"].numpy(),
            validated_on=payload["validated_on"].numpy(),
            best_epoch=int(payload["best_epoch"]),
            train_loss=payload["train_loss"].numpy(),
            val_loss=payload["val_loss"].numpy(),
            val_accuracy=payload["val_accuracy"].numpy(),
            weights_used=str(payload["weights_used"]),
            seconds=float(payload["seconds"]),
            provenance=dict(payload["provenance"]),
        )

    def summary(self, run: BackboneRun, request: BackboneRequest) -> str:
        """One line: split, chosen epoch, validation accuracy, time."""
        acc = float(run.val_accuracy[run.best_epoch - 1])
        return (
            f"{request.split.name}: epoch {run.best_epoch}/{len(run.val_loss)} chosen on "
            f"validation (accuracy {acc:.3f}), {run.weights_used}, {run.seconds:.0f} s"
        )


#: the backbone recipe
CELL_BACKBONE = BackboneRecipe()
