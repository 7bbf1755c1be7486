"""What a run of :func:`medgraph.training.fit` records: early stopping and the epoch history."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["EarlyStopping", "History"]


class EarlyStopping:
    """Stop when a validation score has not improved for ``patience`` epochs.

    Parameters
    ----------
    patience : int or None
        Epochs without improvement tolerated; None never stops (the best epoch is still tracked).
    mode : {"max", "min"}, default "max"
        Whether larger (Dice) or smaller values are better.
    min_delta : float, default 0
        An improvement must beat the best value by more than this.

    Attributes
    ----------
    best : float
        Best value so far (``-inf`` / ``inf`` before the first).
    best_epoch : int
        Epoch of the best value (-1 before the first).
    should_stop : bool
    """

    def __init__(
        self, patience: int | None = 20, mode: Literal["max", "min"] = "max", min_delta: float = 0.0
    ) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if patience is not None and patience < 0:
            raise ValueError(f"patience must be ≥ 0 or None, got {patience}")
        self.patience = patience
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = -math.inf if mode == "max" else math.inf
        self.best_epoch = -1
        self.bad_epochs = 0
        self.should_stop = False

    def step(self, value: float, epoch: int) -> bool:
        """Record the score of one epoch.

        Parameters
        ----------
        value : float
            The validation score; NaN never counts as an improvement.
        epoch : int

        Returns
        -------
        bool
            True when this epoch is the new best.
        """
        value = float(value)
        if self.mode == "max":
            improved = value > self.best + self.min_delta
        else:
            improved = value < self.best - self.min_delta
        if improved and math.isfinite(value):
            self.best, self.best_epoch, self.bad_epochs = value, int(epoch), 0
            return True
        self.bad_epochs += 1
        if self.patience is not None and self.bad_epochs > self.patience:
            self.should_stop = True
        return False


@dataclass
class History:
    """What happened in every epoch of :func:`~medgraph.training.fit`.

    Attributes
    ----------
    epoch : list of int
        0-based epoch numbers.
    train_loss : list of float
        Mean training loss over the epoch's mini-batches.
    val : list of dict
        Validation scores of each epoch (the dict returned by ``validate``); an empty dict per
        epoch when :func:`~medgraph.training.fit` ran without validation (``validate=None``).
    lr : list of float
        Learning rate of the first parameter group at the end of each epoch.
    seconds : list of float
        Wall time of each epoch (training and validation), in seconds.
    best_epoch : int
        Epoch whose weights were restored (-1 if none); without validation, the last epoch.
    best_score : float
        Its monitored validation score (NaN without validation).
    monitor : str
        Key of ``val`` that selected the best epoch (empty without validation).
    stopped_early : bool
    resumed_at : list of int
        Each time :func:`~medgraph.training.fit` continued from a resume state, the epoch it continued at (the
        number of epochs the earlier calls had finished; ``epochs`` when they had finished
        training). Empty for a run trained in one go.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val: list[dict[str, float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = float("nan")
    monitor: str = "dice"
    stopped_early: bool = False
    resumed_at: list[int] = field(default_factory=list)

    def append(
        self, epoch: int, train_loss: float, val: Mapping[str, float], lr: float, seconds: float
    ) -> None:
        """Add one epoch."""
        self.epoch.append(int(epoch))
        self.train_loss.append(float(train_loss))
        self.val.append({k: float(v) for k, v in val.items()})
        self.lr.append(float(lr))
        self.seconds.append(float(seconds))

    def __len__(self) -> int:
        return len(self.epoch)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of an epoch in seconds (NaN before the first)."""
        return float(np.mean(self.seconds)) if self.seconds else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch: ``epoch``, ``train_loss``, ``lr``, ``seconds``, ``val_<key>``…"""
        frame = pd.DataFrame(
            {
                "epoch": self.epoch,
                "train_loss": self.train_loss,
                "lr": self.lr,
                "seconds": self.seconds,
            }
        )
        val = pd.DataFrame(self.val).add_prefix("val_")
        return pd.concat([frame, val], axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "epoch": list(self.epoch),
            "train_loss": list(self.train_loss),
            "val": [dict(v) for v in self.val],
            "lr": list(self.lr),
            "seconds": list(self.seconds),
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "monitor": self.monitor,
            "stopped_early": self.stopped_early,
            "resumed_at": list(self.resumed_at),
        }
