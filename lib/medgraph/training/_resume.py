"""The resume state of :func:`medgraph.training.fit`: weight copies and random-stream states.

Private helpers of the loop; nothing here is part of the public API.
"""

from __future__ import annotations

import copy
import random
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


def _state_copy(modules: Sequence[nn.Module]) -> list[dict[str, torch.Tensor]]:
    return [copy.deepcopy(m.state_dict()) for m in modules]


#: a random stream whose state a resumable :func:`~medgraph.training.fit` saves and restores
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
