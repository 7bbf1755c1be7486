"""The generic loop: splits, seeding, schedule, early stopping, best-weight restore, NaN guard."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from medgraph.training import (
    EarlyStopping,
    History,
    NonFiniteLossError,
    fit,
    seed_everything,
    select_device,
    split_indices,
    warmup_cosine,
)


@pytest.mark.parametrize(
    ("n", "sizes"), [(300, (240, 30, 30)), (100, (80, 10, 10)), (8, (6, 1, 1))]
)
def test_split_is_disjoint_complete_and_sized(n, sizes):
    train, val, test = split_indices(n, (0.8, 0.1, 0.1), seed=0)
    assert (len(train), len(val), len(test)) == sizes
    joined = np.concatenate([train, val, test])
    assert np.array_equal(np.sort(joined), np.arange(n))  # complete, and no index twice
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)


def test_split_is_seeded():
    a = split_indices(100, seed=3)
    b = split_indices(100, seed=3)
    c = split_indices(100, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert not np.array_equal(a[0], np.arange(80))  # shuffled, not the first 80


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="fractions"):
        split_indices(10, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="fractions"):
        split_indices(10, (0.9, 0.2, -0.1))


def test_seed_everything_repeats_streams():
    seed_everything(7)
    first = (torch.rand(3), np.random.rand(3))  # noqa: NPY002 - the global stream is tested
    seed_everything(7)
    second = (torch.rand(3), np.random.rand(3))  # noqa: NPY002
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_select_device(monkeypatch):
    assert select_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto").type in ("cpu", "mps")
    with pytest.raises(RuntimeError, match="CUDA"):
        select_device("cuda")


def test_warmup_cosine_by_hand():
    assert warmup_cosine(0, 110, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 110, 10) == pytest.approx(1.0)
    assert warmup_cosine(10, 110, 10) == pytest.approx(1.0)
    assert warmup_cosine(60, 110, 10, min_factor=0.0) == pytest.approx(0.5)  # half-way: cos(π/2)
    assert warmup_cosine(110, 110, 10, min_factor=0.01) == pytest.approx(0.01)


def test_early_stopping_counts_patience():
    stop = EarlyStopping(patience=2, mode="max")
    flags = [stop.step(v, e) for e, v in enumerate([0.5, 0.7, 0.6, float("nan"), 0.65])]
    assert flags == [True, True, False, False, False]
    assert stop.best == 0.7 and stop.best_epoch == 1 and stop.should_stop


class Scalar(nn.Module):
    """One weight w, starting at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


def _climbing_fit(model, epochs, patience=None, checkpoint=None, loss_fn=None):
    """SGD with lr 1 on loss −w: w grows by exactly 1 per epoch (one step per epoch).

    Validation score −(w − 2)²: best after the second epoch (w = 2), worse afterwards.
    """
    optimiser = torch.optim.SGD(model.parameters(), lr=1.0)
    loss_fn = loss_fn or (lambda _: -model.w)
    return fit(
        model,
        optimiser,
        loss_fn,
        lambda: {"dice": -((model.w.item() - 2.0) ** 2), "w": model.w.item()},
        lambda epoch: [None],
        epochs,
        schedule="constant",
        patience=patience,
        checkpoint=checkpoint,
        progress=False,
    )


def test_fit_restores_the_best_validation_weights(tmp_path):
    model = Scalar()
    path = tmp_path / "best.pt"
    history = _climbing_fit(model, epochs=5, checkpoint=path)
    assert isinstance(history, History) and len(history) == 5
    assert [v["w"] for v in history.val] == [1.0, 2.0, 3.0, 4.0, 5.0]  # validation got worse
    assert history.best_epoch == 1 and history.best_score == 0.0
    assert model.w.item() == 2.0  # not the last weights (5.0)
    saved = torch.load(path)
    assert float(saved["model"]["w"]) == 2.0 and saved["best_epoch"] == 1
    frame = history.to_frame()
    assert list(frame["val_w"]) == [1.0, 2.0, 3.0, 4.0, 5.0] and (frame["seconds"] >= 0).all()


def test_fit_stops_early_on_validation():
    model = Scalar()
    history = _climbing_fit(model, epochs=50, patience=2)
    assert history.stopped_early and len(history) == 5  # epochs 2, 3, 4 without improvement
    assert model.w.item() == 2.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_loss_raises_and_writes_nothing(tmp_path, bad):
    model = Scalar()
    path = tmp_path / "ckpt.pt"

    def loss_fn(_):
        return -model.w * bad

    with pytest.raises(NonFiniteLossError, match="no report written"):
        _climbing_fit(model, epochs=3, checkpoint=path, loss_fn=loss_fn)
    assert list(tmp_path.iterdir()) == []
    assert model.w.item() == 0.0  # no update was made with the bad loss


def test_fit_requires_the_monitored_score():
    model = Scalar()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="dice"):
        fit(
            model,
            optimiser,
            lambda _: model.w**2,
            lambda: {"iou": 1.0},
            lambda e: [0],
            2,
            progress=False,
        )


class _Killed(Exception):
    """Stands in for a process killed part-way (a machine session ending)."""


def _noisy_fit(resume, epochs=6, kill_at=None, generators=True, patience=None):
    """A small regression whose batches and loss draw from a numpy and a torch stream.

    Shuffling, the added noise, dropout and the cosine schedule all depend on state that a resume
    must carry over; ``kill_at`` raises in the validation of that epoch.
    """
    seed_everything(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.linspace(-1, 1, 60).reshape(20, 3)
    y = x.sum(1, keepdim=True)
    rng = np.random.default_rng(1)
    gen = torch.Generator().manual_seed(2)
    steps = []

    def batches(epoch):
        order = rng.permutation(20)
        return [order[i : i + 5] for i in range(0, 20, 5)]

    def train_step(idx):
        steps.append(1)
        noise = 0.1 * torch.randn(len(idx), 1, generator=gen)
        return ((model(x[idx]) - y[idx] - noise) ** 2).mean()

    def validate():
        if kill_at is not None and len(steps) // 4 > kill_at:
            raise _Killed
        return {"dice": -float(((model(x) - y) ** 2).mean())}

    history = fit(
        model, optimiser, train_step, validate, batches, epochs,
        steps_per_epoch=4, warmup_epochs=1, patience=patience, resume=resume,
        generators=(rng, gen) if generators else (), progress=False,
    )  # fmt: skip
    return model, history, len(steps)


def test_a_killed_fit_resumes_to_the_same_result_bit_for_bit(tmp_path):
    whole, history, _ = _noisy_fit(None)
    assert history.resumed_at == []
    state = tmp_path / "state.pt"
    with pytest.raises(_Killed):
        _noisy_fit(state, kill_at=3)  # epochs 0, 1, 2 finished
    assert state.exists()
    resumed, again, steps = _noisy_fit(state)
    assert steps == 3 * 4  # only epochs 3, 4, 5 were trained in the second call
    assert again.resumed_at == [3] and again.epoch == list(range(6))
    for (name, a), (_, b) in zip(
        resumed.state_dict().items(), whole.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert again.train_loss == history.train_loss and again.val == history.val
    assert again.lr == history.lr and again.best_epoch == history.best_epoch
    # the state is kept: a third call trains nothing and returns the same best weights
    third, last, steps = _noisy_fit(state)
    assert steps == 0 and last.resumed_at == [3, 6]
    assert all(
        torch.equal(a, b) for a, b in zip(third.parameters(), whole.parameters(), strict=True)
    )


def test_resume_restores_the_random_streams(tmp_path):
    """Without the shuffling and noise streams restored the resumed run would differ: check it."""
    whole, history, _ = _noisy_fit(None)
    state = tmp_path / "state.pt"
    with pytest.raises(_Killed):
        _noisy_fit(state, kill_at=2)
    saved = torch.load(state, weights_only=True)
    saved["rng"]["generators"][0]["state"]["state"] += 1  # another shuffling stream
    torch.save(saved, state)
    _, other, _ = _noisy_fit(state)
    assert other.train_loss[:2] == history.train_loss[:2]
    assert other.train_loss[2:] != history.train_loss[2:]


def test_resume_of_an_early_stopped_fit_trains_nothing(tmp_path):
    state = tmp_path / "state.pt"
    _, history, _ = _noisy_fit(state, epochs=200, patience=1)
    assert history.stopped_early and len(history) < 200
    _, again, steps = _noisy_fit(state, epochs=200, patience=1)
    assert steps == 0 and again.stopped_early and again.epoch == history.epoch


def test_resume_state_of_another_run_is_refused_and_a_corrupt_one_ignored(tmp_path):
    state = tmp_path / "state.pt"
    with pytest.raises(_Killed):
        _noisy_fit(state, kill_at=1)
    with pytest.raises(ValueError, match=r"another training run.*epochs"):
        _noisy_fit(state, epochs=7)
    state.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="could not be read"):
        _, history, steps = _noisy_fit(state)
    assert steps == 6 * 4 and history.resumed_at == []


# ------------------------------------------------------------------ fixed budgets, schedulers


def test_fit_without_validation_keeps_the_last_epoch(tmp_path):
    model = Scalar()
    optimiser = torch.optim.SGD(model.parameters(), lr=1.0)
    path = tmp_path / "last.pt"
    history = fit(
        model, optimiser, lambda _: -model.w, None, lambda epoch: [None], 5,
        schedule="constant", checkpoint=path, progress=False,
    )  # fmt: skip
    assert model.w.item() == 5.0 and not model.training  # the last weights, not a restored copy
    assert len(history) == 5 and history.val == [{}] * 5
    assert history.best_epoch == 4 and math.isnan(history.best_score) and history.monitor == ""
    assert list(history.to_frame().columns) == ["epoch", "train_loss", "lr", "seconds"]
    saved = torch.load(path)
    assert float(saved["model"]["w"]) == 5.0 and saved["best_epoch"] == 4


@pytest.mark.parametrize("options", [{"patience": 2}, {"schedule": "plateau"}])
def test_fit_without_validation_refuses_what_needs_it(options):
    model = Scalar()
    optimiser = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(ValueError, match="need validate"):
        fit(model, optimiser, lambda _: -model.w, None, lambda e: [None], 3, **options)


def _cosine(total):
    return lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=1e-3)


def test_fit_steps_the_scheduler_after_every_optimiser_step():
    model = Scalar()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def train_step(_):
        seen.append(optimiser.param_groups[0]["lr"])
        return (model.w - 1) ** 2

    history = fit(
        model, optimiser, train_step, None, lambda e: [None] * 4, 3, steps_per_epoch=4,
        schedule="constant", scheduler=_cosine(12), progress=False,
    )  # fmt: skip
    cosine = [1e-3 + (0.1 - 1e-3) * (1 + math.cos(math.pi * t / 12)) / 2 for t in range(13)]
    assert seen == pytest.approx(cosine[:12], rel=1e-9)  # one scheduler step per batch
    assert history.lr == pytest.approx([cosine[4], cosine[8], cosine[12]], rel=1e-9)
    with pytest.raises(ValueError, match="schedule='constant'"):
        fit(model, optimiser, train_step, None, lambda e: [None], 3, scheduler=_cosine(3))


def _budget_fit(resume, epochs=5, kill_at=None):
    """A regression trained for a fixed budget under a cosine scheduler, with dropout and shuffling.

    ``kill_at`` raises in the first step of that epoch.
    """
    seed_everything(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.linspace(-1, 1, 60).reshape(20, 3)
    y = x.sum(1, keepdim=True)
    rng = np.random.default_rng(1)
    steps = []

    def batches(epoch):
        order = rng.permutation(20)
        return [order[i : i + 5] for i in range(0, 20, 5)]

    def train_step(idx):
        if kill_at is not None and len(steps) == 4 * kill_at:
            raise _Killed
        steps.append(1)
        return ((model(x[idx]) - y[idx]) ** 2).mean()

    history = fit(
        model, optimiser, train_step, None, batches, epochs, steps_per_epoch=4,
        schedule="constant", scheduler=_cosine(4 * epochs), resume=resume, generators=(rng,),
        progress=False,
    )  # fmt: skip
    return model, history, len(steps)


def test_a_killed_fit_without_validation_resumes_with_its_scheduler(tmp_path):
    whole, history, _ = _budget_fit(None)
    state = tmp_path / "state.pt"
    with pytest.raises(_Killed):
        _budget_fit(state, kill_at=2)  # epochs 0 and 1 finished
    resumed, again, steps = _budget_fit(state)
    assert steps == 3 * 4 and again.resumed_at == [2] and again.best_epoch == 4
    assert again.lr == history.lr and again.train_loss == history.train_loss
    for (name, a), (_, b) in zip(
        resumed.state_dict().items(), whole.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
