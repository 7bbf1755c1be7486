"""medgraph.profiling: exact bytes saved for backward on hand-computed cases, and time_call."""

import pytest
import torch
from torch import nn

from medgraph.profiling import saved_activation_bytes, saved_tensor_storages, time_call

F32 = 4  # bytes per float32


def test_matmul_relu_hand_computed():
    # y = relu(x @ W).sum(): mm saves x (W's gradient needs it; W itself would only be saved
    # for x's gradient, and it is a parameter anyway), relu saves its (4, 5) output, sum saves
    # only a shape.
    x = torch.randn(4, 3)
    w = nn.Parameter(torch.randn(3, 5))
    n = saved_activation_bytes(lambda: (x @ w).relu().sum())
    assert n == 4 * 3 * F32 + 4 * 5 * F32 == 128


def test_parameters_excluded_but_countable():
    # x_in requires grad, so mm also saves W for x's gradient: W is excluded by default and
    # counted (3·5·4 = 60 B) when asked. x = 2·x_in is not a leaf, so it is counted.
    x_in = torch.randn(4, 3, requires_grad=True)
    w = nn.Parameter(torch.randn(3, 5))

    def step() -> torch.Tensor:
        return ((2 * x_in) @ w).relu().sum()

    assert saved_activation_bytes(step) == 48 + 80
    assert saved_activation_bytes(step, exclude_parameters=False) == 48 + 80 + 60


def test_view_of_parameter_excluded():
    # F.linear saves the input and weight.t(), a view of the parameter: not an activation.
    x = torch.randn(4, 3, requires_grad=True)
    lin = nn.Linear(3, 5)
    n = saved_activation_bytes(lambda: lin(x * 1.0).relu().sum())
    assert n == 48 + 80


def test_shared_storage_counted_once():
    # relu saves y; y * y saves y twice more; the two halves of y are views of it: one storage.
    x = torch.randn(4, 5, requires_grad=True)

    def step() -> torch.Tensor:
        y = (x * 1.0).relu()
        return (y * y).sum() + (y[:2] * y[2:]).sum()

    _, storages = saved_tensor_storages(step)
    assert sorted(storages.values()) == [4 * 5 * F32]
    assert saved_activation_bytes(step) == 80


def test_buffers_excluded_on_request():
    # training-mode BatchNorm1d saves input (4·3·4), running mean and var (3·4 each, buffers),
    # the batch mean and inverse std (3·4 each); the weight is a parameter.
    bn = nn.BatchNorm1d(3)
    x = torch.randn(4, 3)
    full = saved_activation_bytes(lambda: bn(x).sum())
    assert full == 48 + 4 * 12
    assert saved_activation_bytes(lambda: bn(x).sum(), exclude=bn.buffers()) == 48 + 2 * 12


def test_nothing_saved_without_grad():
    w = nn.Parameter(torch.randn(3, 5))
    with torch.no_grad():
        assert saved_activation_bytes(lambda: (torch.randn(4, 3) @ w).relu().sum()) == 0


def test_time_call_counts_and_validates():
    calls = []
    times = time_call(lambda: calls.append(1), repeats=3, warmup=2, device="cpu")
    assert len(times) == 3 and len(calls) == 5
    assert all(t >= 0 for t in times)
    with pytest.raises(ValueError):
        time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError):
        time_call(lambda: None, warmup=-1)
