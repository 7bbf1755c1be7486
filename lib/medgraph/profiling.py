"""Measuring models: bytes held for backward and wall-clock time of a call.

- :func:`saved_activation_bytes`: the bytes of the tensors autograd saves for the backward pass
  while a closure runs (forward pass + loss), counted exactly through
  :class:`torch.autograd.graph.saved_tensors_hooks`, every storage once;
- :func:`time_call`: wall-clock seconds of repeated calls after warm-up, synchronising CUDA.

Used by ``benchmarks/bench_smgnn_vs_unet.py`` to compare SMGNN with U-Net (the SMGNN paper's
§2.4 memory argument and Table 3 timings).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["saved_activation_bytes", "saved_tensor_storages", "time_call"]


def _storage_key(tensor: torch.Tensor) -> tuple[str, int]:
    """(device, data pointer) of a tensor's storage: equal keys mean one block of memory."""
    storage = tensor.untyped_storage()
    return str(tensor.device), storage.data_ptr()


def _is_parameter_like(tensor: torch.Tensor) -> bool:
    """True for a leaf tensor that requires grad (an ``nn.Parameter``, or an input the caller
    asked gradients for) and for a view of one (``weight.t()`` saved by ``F.linear``)."""
    if tensor.is_leaf and tensor.requires_grad:
        return True
    base = tensor._base
    return base is not None and base.is_leaf and base.requires_grad


def saved_tensor_storages(
    fn: Callable[[], Any],
    exclude: Iterable[torch.Tensor] | None = None,
    exclude_parameters: bool = True,
) -> tuple[Any, dict[tuple[str, int], int]]:
    """Run ``fn()`` and record the distinct storages autograd saves for backward.

    Parameters
    ----------
    fn : callable with no arguments
        A forward pass and a loss, run under grad mode (a training step without ``backward``).
    exclude : iterable of tensors, optional
        Tensors whose storages are never counted, e.g. ``model.buffers()`` (BatchNorm saves its
        running statistics) or inputs that would be held anyway.
    exclude_parameters : bool, default True
        Leave out leaf tensors that require grad (``nn.Parameter`` s, inputs with
        ``requires_grad=True``) and views of them, so that the count measures activations.

    Returns
    -------
    result : Any
        What ``fn`` returned (kept alive until the count is done, then handed back).
    storages : dict
        ``(device, data_ptr) → nbytes`` of every distinct saved storage that was counted.

    Notes
    -----
    The pack hook keeps a reference to every storage it sees until ``fn`` has returned, so a
    data pointer cannot be freed and reused by a later tensor during the measurement; two
    tensors with the same key share memory, and the storage is counted once.
    """
    excluded = {_storage_key(t) for t in exclude} if exclude is not None else set()
    counted: dict[tuple[str, int], int] = {}
    alive: list[torch.UntypedStorage] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if exclude_parameters and _is_parameter_like(tensor):
            return tensor
        key = _storage_key(tensor)
        if key in excluded or key in counted:
            return tensor
        storage = tensor.untyped_storage()
        alive.append(storage)
        counted[key] = storage.nbytes()
        return tensor

    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        result = fn()
    alive.clear()
    return result, counted


def saved_activation_bytes(
    fn: Callable[[], Any],
    exclude: Iterable[torch.Tensor] | None = None,
    exclude_parameters: bool = True,
) -> int:
    """Bytes of the tensors autograd saves for backward while ``fn()`` runs.

    Every tensor that an autograd node saves (the input of a convolution, the output of a ReLU,
    the index of a gather, …) passes through the pack hook of
    :class:`torch.autograd.graph.saved_tensors_hooks`; the sum of
    ``tensor.untyped_storage().nbytes()`` over the distinct storages (keyed by device and data
    pointer) is the memory the backward pass keeps alive beyond the parameters.

    Parameters
    ----------
    fn : callable with no arguments
        A closure doing a forward pass and computing a loss, e.g.
        ``lambda: loss_fn(model(x), y)``; the model should be in training mode and grad mode
        enabled (under ``torch.no_grad()`` nothing is saved and the answer is 0).
    exclude : iterable of tensors, optional
        Tensors whose storages are not counted (e.g. ``model.buffers()``).
    exclude_parameters : bool, default True
        **Parameters are excluded**: leaf tensors that require grad (``nn.Parameter`` s, and any
        input given ``requires_grad=True``) and views of them (``weight.t()``) are not counted,
        so the number measures activations. Leaves that do not require grad (the input batch,
        BatchNorm running statistics unless passed in ``exclude``) are counted when saved.

    Returns
    -------
    int, bytes (exact on CPU and CUDA: the sizes of the storages, not of the allocator's
    blocks, which the CUDA caching allocator rounds up to multiples of 512 B).

    Notes
    -----
    A view counts its whole storage (the memory it keeps alive), once however many views of it
    are saved. Tensors that an operator keeps outside autograd's saved variables are not seen;
    intermediates freed during the forward pass are not counted, so this is the memory held
    between forward and backward, not the forward's peak.

    Examples
    --------
    >>> x = torch.randn(4, 3)
    >>> w = torch.nn.Parameter(torch.randn(3, 5))
    >>> saved_activation_bytes(lambda: (x @ w).relu().sum())  # x (48 B) and relu's output (80 B)
    128
    """
    _, storages = saved_tensor_storages(fn, exclude, exclude_parameters)
    return int(sum(storages.values()))


def time_call(
    fn: Callable[[], Any],
    repeats: int = 5,
    warmup: int = 1,
    device: torch.device | str | None = None,
) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls.

    Parameters
    ----------
    fn : callable with no arguments
    repeats : int, default 5
        Timed calls, ≥ 1.
    warmup : int, default 1
        Untimed calls first (numba compilation, cuDNN autotuning, allocator warm-up), ≥ 0.
    device : str or torch.device, optional
        When it is a CUDA device, ``torch.cuda.synchronize(device)`` runs before the clock
        starts and before it stops, so that queued kernels are timed.

    Returns
    -------
    list of ``repeats`` floats, seconds (``time.perf_counter``); take the median.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be ≥ 1, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be ≥ 0, got {warmup}")
    dev = torch.device(device) if device is not None else None
    cuda = dev is not None and dev.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(dev)

    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        gc.collect()
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times
