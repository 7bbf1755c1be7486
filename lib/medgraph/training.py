"""Generic training machinery: device choice, seeding, data splits, early stopping and a fit loop.

Nothing here knows about images or graphs. :func:`fit` drives any model through three callables
supplied by the experiment layer (:mod:`medgraph.segmentation`):

- ``batches(epoch)`` yields the training mini-batches of one epoch,
- ``train_step(batch)`` returns the scalar loss of one mini-batch (the loop does ``backward`` and
  the optimiser step),
- ``validate()`` returns a dict of validation scores, one of which is monitored.

Model selection uses the validation scores only: the weights of the epoch with the best monitored
validation score are kept and restored at the end; the test split never enters the loop.
"""

from __future__ import annotations

import copy
import math
import os
import random
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from medgraph.losses import NonFiniteLossError, check_finite
from medgraph.reporting import atomic_write

__all__ = [
    "select_device",
    "seed_everything",
    "split_indices",
    "EarlyStopping",
    "History",
    "warmup_cosine",
    "fit",
    "NonFiniteLossError",
]

Schedule = Literal["cosine", "plateau", "constant"]


# --------------------------------------------------------------------------------------------
# device and seeds
# --------------------------------------------------------------------------------------------


def select_device(preference: str | torch.device = "auto") -> torch.device:
    """The torch device to train on.

    Parameters
    ----------
    preference : str or torch.device, default "auto"
        ``"auto"`` picks CUDA when available, then Apple MPS, then the CPU. Any other value
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) is taken as asked and checked for
        availability.

    Returns
    -------
    torch.device

    Raises
    ------
    RuntimeError
        When an explicitly requested accelerator is not available.
    """
    if isinstance(preference, torch.device):
        preference = str(preference)
    pref = str(preference).strip().lower()
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_ok:
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(pref)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {pref!r} requested but CUDA is not available")
    if device.type == "mps" and not mps_ok:
        raise RuntimeError(f"device {pref!r} requested but MPS is not available")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, numpy's and torch's global generators (CPU and every CUDA device).

    Also sets cuDNN to deterministic kernels without autotuning (cheap). Scatter-adds on CUDA
    remain non-deterministic in the last bits; full determinism
    (``torch.use_deterministic_algorithms``) is not switched on because it slows the GNN.

    Parameters
    ----------
    seed : int

    Returns
    -------
    torch.Generator
        A CPU generator seeded with ``seed``, for code that prefers an explicit stream.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the legacy global stream is what we seed
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def split_indices(
    n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / validation / test split of ``n`` items (the SMGNN paper's 80/10/10).

    The validation and test sizes are ``round(n·f)`` (at least one item each when their fraction
    is positive and ``n ≥ 3``); training takes the rest. The permutation comes from
    ``numpy.random.default_rng(seed)``, so a seed always gives the same split.

    Parameters
    ----------
    n : int
        Number of items (images).
    fractions : (3,) floats, default (0.8, 0.1, 0.1)
        Train, validation and test fractions; non-negative, summing to 1.
    seed : int, default 0

    Returns
    -------
    train, val, test : int64 arrays
        Sorted indices; disjoint, and together exactly ``0 … n − 1``.
    """
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    sizes = []
    for f in fr[1:]:
        k = int(round(n * f))
        if f > 0 and n >= 3:
            k = max(k, 1)
        sizes.append(k)
    n_val, n_test = sizes
    if n_val + n_test > n:
        raise ValueError(f"cannot split {n} items with fractions {tuple(fr)}")
    perm = np.random.default_rng(seed).permutation(n)
    val = np.sort(perm[:n_val])
    test = np.sort(perm[n_val : n_val + n_test])
    train = np.sort(perm[n_val + n_test :])
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


# --------------------------------------------------------------------------------------------
# early stopping and history
# --------------------------------------------------------------------------------------------


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
    """What happened in every epoch of :func:`fit`.

    Attributes
    ----------
    epoch : list of int
        0-based epoch numbers.
    train_loss : list of float
        Mean training loss over the epoch's mini-batches.
    val : list of dict
        Validation scores of each epoch (the dict returned by ``validate``).
    lr : list of float
        Learning rate of the first parameter group at the end of each epoch.
    seconds : list of float
        Wall time of each epoch (training and validation), in seconds.
    best_epoch : int
        Epoch whose weights were restored (-1 if none).
    best_score : float
        Its monitored validation score.
    monitor : str
        Key of ``val`` that selected the best epoch.
    stopped_early : bool
    resumed_at : list of int
        Each time :func:`fit` continued from a resume state, the epoch it continued at (the
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


# --------------------------------------------------------------------------------------------
# learning-rate schedule
# --------------------------------------------------------------------------------------------


def warmup_cosine(
    step: int, total_steps: int, warmup_steps: int = 0, min_factor: float = 0.01
) -> float:
    """Multiplier of the base learning rate: linear warm-up, then cosine decay.

    ``f = (step + 1)/warmup`` during warm-up, then
    ``min_factor + (1 − min_factor)·(1 + cos(π·t))/2`` with ``t`` going from 0 to 1 over the
    remaining steps (held at ``min_factor`` afterwards).

    Parameters
    ----------
    step : int
        0-based optimisation step.
    total_steps : int
    warmup_steps : int, default 0
    min_factor : float, default 0.01
        Final multiplier.

    Returns
    -------
    float in (0, 1].
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    t = min(1.0, (step - warmup_steps) / span)
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * t))


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------


def _state_copy(modules: Sequence[nn.Module]) -> list[dict[str, torch.Tensor]]:
    return [copy.deepcopy(m.state_dict()) for m in modules]


#: a random stream whose state a resumable :func:`fit` saves and restores
RandomStream = np.random.Generator | torch.Generator


def _rng_states(generators: Sequence[RandomStream]) -> dict[str, Any]:
    """The states of ``generators`` and of Python's, numpy's and torch's global streams."""
    legacy = np.random.get_state()  # noqa: NPY002 - the legacy global stream seed_everything seeds
    return {
        "python": random.getstate(),
        "numpy": [legacy[0], legacy[1].tolist(), *legacy[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generators": [
            g.get_state() if isinstance(g, torch.Generator) else g.bit_generator.state
            for g in generators
        ],
    }


def _set_rng_states(generators: Sequence[RandomStream], states: Mapping[str, Any]) -> None:
    version, state, *internal = states["python"]
    random.setstate((version, tuple(state), *internal))
    kind, keys, *rest = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))  # noqa: NPY002
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    for g, state in zip(generators, states["generators"], strict=True):
        if isinstance(g, torch.Generator):
            g.set_state(state)
        else:
            g.bit_generator.state = state


def _load_resume_state(path: Path, signature: Mapping[str, Any]) -> dict[str, Any] | None:
    """The resume state at ``path``; None (with a warning) when it cannot be read.

    Raises ValueError when it was written by a different training run (``signature``).
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = state["signature"]
    except Exception as exc:  # a truncated or foreign file: start afresh, say so
        warnings.warn(
            f"resume state {path} could not be read ({type(exc).__name__}: {exc}); "
            "training from the first epoch",
            stacklevel=3,
        )
        return None
    if saved != dict(signature):
        diff = sorted(k for k in set(saved) | set(signature) if saved.get(k) != signature.get(k))
        raise ValueError(
            f"resume state {path} belongs to another training run (it differs in {diff}); "
            "delete it or give this run its own resume path"
        )
    return state


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_step: Callable[[Any], torch.Tensor],
    validate: Callable[[], Mapping[str, float]],
    batches: Callable[[int], Iterable[Any]],
    epochs: int,
    *,
    steps_per_epoch: int | None = None,
    schedule: Schedule = "cosine",
    warmup_epochs: float = 0.0,
    min_lr_factor: float = 0.01,
    plateau_factor: float = 0.5,
    plateau_patience: int = 10,
    monitor: str = "dice",
    patience: int | None = None,
    min_delta: float = 0.0,
    grad_clip: float | None = None,
    extra_modules: Sequence[nn.Module] = (),
    checkpoint: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    generators: Sequence[RandomStream] = (),
    progress: bool = True,
    description: str = "training",
) -> History:
    """Train a model, select the epoch by a validation score, restore its weights.

    Every epoch: for each mini-batch, ``loss = train_step(batch)``; a NaN or infinite loss raises
    :class:`~medgraph.losses.NonFiniteLossError` at once (before any update, and before a
    checkpoint or report could be written); otherwise ``backward``, optional gradient-norm
    clipping and ``optimizer.step()``. Then ``validate()`` is called (in ``torch.no_grad`` and
    eval mode) and its ``monitor`` score is tracked by :class:`EarlyStopping` (mode max). At the
    end the best epoch's weights are loaded back into ``model`` (and ``extra_modules``).

    Parameters
    ----------
    model : nn.Module
        Put in train mode for the steps and in eval mode for validation.
    optimizer : torch.optim.Optimizer
    train_step : callable(batch) -> scalar tensor
        Forward pass and loss of one mini-batch (with the autograd graph).
    validate : callable() -> dict of float
        Validation scores; must contain ``monitor``. Larger is better.
    batches : callable(epoch) -> iterable
        The mini-batches of an epoch (the callable reshuffles / augments with the epoch number).
    epochs : int
        Maximum number of epochs.
    steps_per_epoch : int, optional
        Number of mini-batches per epoch, for the cosine schedule (default: counted from
        ``len(batches(0))`` when it has a length, else the schedule is per epoch).
    schedule : {"cosine", "plateau", "constant"}, default "cosine"
        ``"cosine"``: linear warm-up over ``warmup_epochs`` then cosine decay to
        ``min_lr_factor``·lr, stepped per mini-batch (:func:`warmup_cosine`). ``"plateau"``:
        :class:`torch.optim.lr_scheduler.ReduceLROnPlateau` on the monitored validation score
        (mode max). ``"constant"``: no schedule.
    warmup_epochs : float, default 0
    min_lr_factor : float, default 0.01
    plateau_factor, plateau_patience : float, int
        Options of ReduceLROnPlateau.
    monitor : str, default "dice"
    patience : int, optional
        Early-stopping patience in epochs (None: run all epochs).
    min_delta : float, default 0
    grad_clip : float, optional
        Maximum global gradient norm.
    extra_modules : sequence of nn.Module
        Modules trained alongside the model (e.g. a loss with learnable parameters); their
        best-epoch states are restored too and put in train/eval mode with the model.
    checkpoint : path, optional
        Where to save ``{"model", "extra", "history", "best_epoch"}`` with :func:`torch.save` at
        the end of a successful fit (written to a temporary file, then renamed). Nothing is
        written when training fails.
    resume : path, optional
        A resume state, so that a fit killed part-way (a machine session ending) can be continued
        by calling ``fit`` again with the same arguments. After every epoch the whole state of the
        loop is written there atomically: the weights of ``model`` and ``extra_modules``, the
        optimizer's state, the best epoch's weights, the early-stopping, schedule and plateau
        state, the history, and the states of ``generators`` and of Python's, numpy's and
        torch's global random streams. When the file exists at the start, training continues
        after the last epoch it holds (none is trained again); the epoch is recorded in
        ``History.resumed_at``. Resumed on the same device with the same number of threads, the
        run ends with the same weights and history, bit for bit, as one trained in one go. The
        file is left in place at the end (a later call returns at once with the best weights):
        delete it once the result is saved. An unreadable file is reported and ignored; one
        written by a different run (other epochs, steps, schedule, monitor or parameter shapes)
        raises ValueError. Without ``resume`` nothing of this is done or written.
    generators : sequence of numpy.random.Generator or torch.Generator
        Random streams that ``batches`` and ``train_step`` draw from (shuffling, augmentation,
        sampling), saved and restored with the resume state. Unused without ``resume``.
    progress : bool, default True
        A tqdm bar over epochs showing loss, validation score and learning rate.
    description : str
        Label of the progress bar.

    Returns
    -------
    History

    Raises
    ------
    NonFiniteLossError
        The loss became NaN or infinite.
    KeyError
        ``validate()`` did not return ``monitor``.
    ValueError
        ``resume`` holds the state of a different training run.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be ≥ 1, got {epochs}")
    if schedule not in ("cosine", "plateau", "constant"):
        raise ValueError(f"schedule must be 'cosine', 'plateau' or 'constant', got {schedule!r}")
    modules = [model, *extra_modules]
    if steps_per_epoch is None:
        first = batches(0)
        steps_per_epoch = len(first) if hasattr(first, "__len__") else 1  # type: ignore[arg-type]
    steps_per_epoch = max(1, int(steps_per_epoch))
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    total_steps = epochs * steps_per_epoch
    warmup_steps = int(round(warmup_epochs * steps_per_epoch))
    plateau = None
    if schedule == "plateau":
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=plateau_factor, patience=plateau_patience
        )

    stopper = EarlyStopping(patience, mode="max", min_delta=min_delta)
    history = History(monitor=monitor)
    best_state = _state_copy(modules)
    global_step = 0
    first_epoch = 0
    resume_path = None if resume is None else Path(resume)
    signature = {
        "epochs": int(epochs),
        "steps_per_epoch": steps_per_epoch,
        "schedule": schedule,
        "monitor": monitor,
        "parameters": [[k, list(v.shape)] for m in modules for k, v in m.state_dict().items()],
        "generators": len(generators),
    }
    state = (
        _load_resume_state(resume_path, signature)
        if resume_path is not None and resume_path.exists()
        else None
    )
    if state is not None:
        for m, saved in zip(modules, state["modules"], strict=True):
            m.load_state_dict(saved)
        optimizer.load_state_dict(state["optimizer"])
        best_state = state["best"]
        vars(stopper).update(state["stopper"])
        history = History(**state["history"])
        global_step = int(state["global_step"])
        if plateau is not None:
            plateau.load_state_dict(state["plateau"])
        _set_rng_states(generators, state["rng"])
        first_epoch = epochs if stopper.should_stop else int(state["epoch"]) + 1
        history.resumed_at.append(first_epoch)
    bar = tqdm(
        range(first_epoch, epochs),
        desc=description,
        disable=not progress,
        leave=False,
        initial=first_epoch,
        total=epochs,
    )
    for epoch in bar:
        start = time.perf_counter()
        for m in modules:
            m.train()
        losses = []
        for batch in batches(epoch):
            if schedule == "cosine":
                factor = warmup_cosine(global_step, total_steps, warmup_steps, min_lr_factor)
                for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                    group["lr"] = lr * factor
            loss = train_step(batch)
            check_finite(loss, global_step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                params = [p for m in modules for p in m.parameters() if p.grad is not None]
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            losses.append(float(loss.detach()))
            global_step += 1
        for m in modules:
            m.eval()
        with torch.no_grad():
            scores = dict(validate())
        if monitor not in scores:
            raise KeyError(f"validate() returned {sorted(scores)}, which lacks {monitor!r}")
        value = float(scores[monitor])
        if stopper.step(value, epoch):
            best_state = _state_copy(modules)
        if plateau is not None:
            plateau.step(value if math.isfinite(value) else -math.inf)
        lr_now = optimizer.param_groups[0]["lr"]
        mean_loss = float(np.mean(losses)) if losses else float("nan")
        history.append(epoch, mean_loss, scores, lr_now, time.perf_counter() - start)
        bar.set_postfix(loss=f"{mean_loss:.4f}", **{monitor: f"{value:.4f}"}, lr=f"{lr_now:.2e}")
        if stopper.should_stop:
            history.stopped_early = True
        if resume_path is not None:
            payload = {
                "signature": signature,
                "epoch": epoch,
                "modules": [m.state_dict() for m in modules],
                "optimizer": optimizer.state_dict(),
                "best": best_state,
                "stopper": dict(vars(stopper)),
                "history": history.to_dict(),
                "global_step": global_step,
                "plateau": plateau.state_dict() if plateau is not None else None,
                "rng": _rng_states(generators),
            }
            atomic_write(resume_path, lambda tmp, payload=payload: torch.save(payload, tmp))
        if stopper.should_stop:
            break
    bar.close()

    for m, state in zip(modules, best_state, strict=True):
        m.load_state_dict(state)
        m.eval()
    history.best_epoch = stopper.best_epoch
    history.best_score = stopper.best if stopper.best_epoch >= 0 else float("nan")
    if checkpoint is not None:
        payload = {
            "model": model.state_dict(),
            "extra": [m.state_dict() for m in extra_modules],
            "history": history.to_dict(),
            "best_epoch": history.best_epoch,
        }
        atomic_write(Path(checkpoint), lambda tmp: torch.save(payload, tmp))
    return history
