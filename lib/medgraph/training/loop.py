"""The training loop :func:`fit` and its learning-rate schedule :func:`warmup_cosine`."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler
from tqdm.auto import tqdm

from medgraph.losses import check_finite
from medgraph.reporting import atomic_write
from medgraph.training._resume import (
    RandomStream,
    _load_resume_state,
    _rng_states,
    _set_rng_states,
    _state_copy,
)
from medgraph.training.history import EarlyStopping, History

__all__ = ["Schedule", "warmup_cosine", "fit"]

Schedule = Literal["cosine", "plateau", "constant"]


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


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_step: Callable[[Any], torch.Tensor],
    validate: Callable[[], Mapping[str, float]] | None,
    batches: Callable[[int], Iterable[Any]],
    epochs: int,
    *,
    steps_per_epoch: int | None = None,
    schedule: Schedule = "cosine",
    warmup_epochs: float = 0.0,
    min_lr_factor: float = 0.01,
    plateau_factor: float = 0.5,
    plateau_patience: int = 10,
    scheduler: Callable[[torch.optim.Optimizer], LRScheduler] | None = None,
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
    clipping, ``optimizer.step()`` and, when given, ``scheduler.step()``. Then ``validate()`` is
    called (in ``torch.no_grad`` and eval mode) and its ``monitor`` score is tracked by
    :class:`EarlyStopping` (mode max). At the end the best epoch's weights are loaded back into
    ``model`` (and ``extra_modules``).

    With ``validate=None`` there is no validation: every epoch is run and the weights of the last
    one are kept (a fixed training budget, as for the cell-type classifier).

    Parameters
    ----------
    model : nn.Module
        Put in train mode for the steps and in eval mode for validation.
    optimizer : torch.optim.Optimizer
    train_step : callable(batch) -> scalar tensor
        Forward pass and loss of one mini-batch (with the autograd graph).
    validate : callable() -> dict of float, or None
        Validation scores; must contain ``monitor``. Larger is better. None: no validation, all
        ``epochs`` are run and the last epoch's weights are kept; ``History.val`` then holds an
        empty dict per epoch, ``History.best_epoch`` is the last epoch, ``History.best_score``
        NaN and ``History.monitor`` empty. Early stopping (``patience``) and the ``"plateau"``
        schedule need validation (ValueError otherwise).
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
    scheduler : callable(optimizer) -> LRScheduler, optional
        Builds a torch learning-rate scheduler on ``optimizer`` (called once, before the first
        step), stepped after every optimiser step, e.g.
        ``lambda opt: CosineAnnealingLR(opt, T_max=total_steps, eta_min=lr / 100)``. It replaces
        the built-in schedule, so it needs ``schedule="constant"`` (ValueError otherwise). Its
        state is part of the resume state.
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
        ``resume`` holds the state of a different training run; ``scheduler`` with a schedule
        other than ``"constant"``; ``validate=None`` with ``patience`` or ``"plateau"``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be ≥ 1, got {epochs}")
    if schedule not in ("cosine", "plateau", "constant"):
        raise ValueError(f"schedule must be 'cosine', 'plateau' or 'constant', got {schedule!r}")
    if scheduler is not None and schedule != "constant":
        raise ValueError(
            f"a scheduler replaces the built-in schedule: pass schedule='constant', not {schedule!r}"
        )
    if validate is None and (patience is not None or schedule == "plateau"):
        raise ValueError("early stopping and the 'plateau' schedule need validate")
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
    lr_scheduler = scheduler(optimizer) if scheduler is not None else None

    stopper = EarlyStopping(patience, mode="max", min_delta=min_delta)
    history = History(monitor=monitor if validate is not None else "")
    # without validation the last epoch's weights are kept: no copy of the best is needed
    best_state = _state_copy(modules) if validate is not None else []
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
    # only runs that use these options record them, so older resume states stay valid
    if validate is None:
        signature["validate"] = False
    if lr_scheduler is not None:
        signature["scheduler"] = type(lr_scheduler).__name__
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
        if lr_scheduler is not None:
            lr_scheduler.load_state_dict(state["scheduler"])
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
            if lr_scheduler is not None:
                lr_scheduler.step()
            losses.append(float(loss.detach()))
            global_step += 1
        for m in modules:
            m.eval()
        scores: dict[str, float] = {}
        if validate is not None:
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
        shown = {monitor: f"{float(scores[monitor]):.4f}"} if validate is not None else {}
        bar.set_postfix(loss=f"{mean_loss:.4f}", **shown, lr=f"{lr_now:.2e}")
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
            if lr_scheduler is not None:
                payload["scheduler"] = lr_scheduler.state_dict()
            atomic_write(resume_path, lambda tmp, payload=payload: torch.save(payload, tmp))
        if stopper.should_stop:
            break
    bar.close()

    if validate is None:
        for m in modules:
            m.eval()
        history.best_epoch = history.epoch[-1] if history.epoch else -1
        history.best_score = float("nan")
    else:
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
