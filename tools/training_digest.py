"""Digests of what training produces, to check that a code change leaves results unchanged.

``python tools/training_digest.py [--resume-at K] MODEL ...``

Trains each model for a few epochs on synthetic WBC phantoms (one thread, CPU, fixed seeds, the
graph models through an on-disk superpixel cache) and prints a SHA-256 digest of its best weights (and the metric loss's), its test predictions and its
history (all but the wall times and ``resumed_at``). Run it with two versions of the library on
``PYTHONPATH`` (for example a ``git worktree`` of the older commit): equal digests mean the two
versions train the same runs bit for bit: a change to the library that leaves them equal needs no
recipe version bump (:mod:`medgraph.store`), and ``tests/test_golden_digests.py`` checks the same
for two epochs of every registered model. ``--resume-at K`` interrupts every run in the validation of epoch K and resumes it from its
resume state (:func:`medgraph.training.fit`), which must give the same digests as a run trained in
one go.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

HISTORY_FIELDS = ("epoch", "train_loss", "val", "lr", "best_epoch", "best_score", "stopped_early")


class _Interrupted(Exception):
    """Raised in place of a killed process."""


def _interrupting(score: Callable[..., float], calls: int) -> Callable[..., float]:
    """``score``, raising :class:`_Interrupted` from its ``calls + 1``-th call on."""
    count = [0]

    def wrapped(*args: Any, **kwargs: Any) -> float:
        count[0] += 1
        if count[0] > calls:
            raise _Interrupted
        return score(*args, **kwargs)

    return wrapped


def digest(run: Any) -> str:
    """SHA-256 (16 hex digits) of a run's weights, test predictions and history."""
    h = hashlib.sha256()
    modules = [run.model] + ([run.metric_loss] if run.metric_loss is not None else [])
    for module in modules:
        for name, value in module.state_dict().items():
            h.update(name.encode())
            h.update(value.detach().cpu().contiguous().numpy().tobytes())
    for pred in run.test_predictions:
        h.update(np.ascontiguousarray(pred).tobytes())
    history = run.history.to_dict()
    h.update(json.dumps({k: history[k] for k in HISTORY_FIELDS}, sort_keys=True).encode())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--resume-at", type=int, default=None)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    import medgraph.segmentation as seg
    import medgraph.segmentation.training as seg_training
    from medgraph.data import make_wbc_phantoms
    from medgraph.options import RunOptions
    from medgraph.training import split_indices

    print(f"library: {Path(seg.__file__).parent}")
    data = make_wbc_phantoms(12, seed=5, style="wbc1", size=48)
    splits = split_indices(len(data), (0.5, 0.25, 0.25), seed=0)
    # the graph models share an on-disk superpixel cache: the first computes and writes it, the
    # others read it back, so both paths are part of what is digested
    superpixels = tempfile.TemporaryDirectory()
    for name in args.models:
        cfg: dict = {"epochs": args.epochs, "batch_size": 4}
        options = RunOptions(device="cpu", progress=False, superpixel_cache=superpixels.name)
        if name in ("unet", "attention_unet", "unet++"):
            cfg["baseline_options"] = {"base": 4, "depth": 2}
        if args.resume_at is None:
            run = seg.train_segmentation(name, data, splits, cfg, seed=3, options=options)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                options = options.replace(resume=os.path.join(tmp, "state.pt"))
                real = seg_training.mean_dice
                # validate() scores twice an epoch: epochs 0 … K − 1 finish
                seg_training.mean_dice = _interrupting(real, 2 * args.resume_at)
                try:
                    seg.train_segmentation(name, data, splits, cfg, seed=3, options=options)
                except _Interrupted:
                    pass
                finally:
                    seg_training.mean_dice = real
                run = seg.train_segmentation(name, data, splits, cfg, seed=3, options=options)
                assert run.history.resumed_at == [args.resume_at], run.history.resumed_at
        print(f"{name:16s} {digest(run)}  best epoch {run.history.best_epoch}", flush=True)
    superpixels.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
