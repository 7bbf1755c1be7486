"""Setting up a training run: the device, the random seeds and the data split."""

from __future__ import annotations

import datetime as _dt
import platform
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from medgraph.reporting import git_revision

__all__ = ["select_device", "seed_everything", "split_indices", "training_provenance"]


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


def training_provenance(device: torch.device | str) -> dict[str, Any]:
    """Where a run was trained: device (and GPU name), host, versions, git revision.

    ``trained_utc`` is the time of the call (the trainers call it when training has finished), ISO 8601 in UTC.
    """
    dev = str(device)
    info: dict[str, Any] = {
        "device": dev,
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "git_revision": git_revision(),
        "trained_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if dev.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(dev))
    return info
