"""The seed's two-layer GCN over a graph of samples: class weights, training, honesty."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from medgraph.losses import NonFiniteLossError
from medgraph.models.sample_gcn import (
    SampleGCN,
    SampleGCNFit,
    class_weights,
    gcn_probabilities,
    train_sample_gcn,
)


def _toy(n0: int = 40, n1: int = 20, dim: int = 8, k: int = 4, seed: int = 0):
    """Two Gaussian clusters, a symmetric kNN graph with Gaussian weights, a 50/25/25 split."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    x = (rng.normal(size=(n0 + n1, dim)) + 1.5 * labels[:, None]).astype(np.float32)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    nbrs = np.argsort(d, axis=1)[:, :k]
    src = np.repeat(np.arange(len(x)), k)
    dst = nbrs.reshape(-1)
    pairs = np.unique(np.sort(np.c_[src, dst], axis=1), axis=0)
    edge_index = np.c_[pairs.T, pairs[:, ::-1].T]
    edge_weight = np.exp(-(d[edge_index[0], edge_index[1]] ** 2) / 10).astype(np.float32)
    order = rng.permutation(len(x))
    # stratified: every part holds both classes
    by_class = [order[labels[order] == c] for c in (0, 1)]
    parts = [np.split(idx, [len(idx) // 2, 3 * len(idx) // 4]) for idx in by_class]
    train, val, test = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return x, edge_index, edge_weight, labels, train, val, test


# --------------------------------------------------------------------------- class weights


def test_class_weights_hand_case():
    w = class_weights([0, 0, 0, 1], 2)
    torch.testing.assert_close(w, torch.tensor([4 / (2 * 3), 4 / (2 * 1)]))
    torch.testing.assert_close(w, torch.tensor([0.6667, 2.0]), atol=1e-4, rtol=0)
    # Σ_c w_c n_c = N; a balanced set weighs 1
    assert float((w * torch.tensor([3.0, 1.0])).sum()) == pytest.approx(4.0)
    torch.testing.assert_close(class_weights(np.array([2, 0, 1, 1, 0, 2]), 3), torch.ones(3))


def test_class_weights_errors():
    with pytest.raises(ValueError, match="class 1 has no sample"):
        class_weights([0, 0, 2], 3)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        class_weights([0, 1, 2], 2)
    with pytest.raises(ValueError, match="integers"):
        class_weights(np.array([0.0, 1.0]), 2)


# --------------------------------------------------------------------------- the network


def test_sample_gcn_shapes_seed_and_global_rng():
    x, ei, ew, *_ = _toy()
    state = torch.get_rng_state()
    a, b = SampleGCN(8, 16, 2, seed=1), SampleGCN(8, 16, 2, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    out = a.eval()(torch.from_numpy(x), torch.from_numpy(ei), torch.from_numpy(ew))
    assert out.shape == (len(x), 2)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(len(x)))
    assert sorted(k for k, _ in a.named_parameters()) == [
        "conv1.bias",
        "conv1.lin.weight",
        "conv2.bias",
        "conv2.lin.weight",
    ]


def test_one_training_step_lowers_the_training_loss():
    x, ei, ew, labels, train, val, _ = _toy()
    fit = train_sample_gcn(
        x, ei, ew, labels, train, val, epochs=2, lr=1e-2, dropout=0.0, hidden=16, seed=0
    )
    assert fit.train_loss[1] < fit.train_loss[0]
    # the same from outside: the step taken by a plain Adam on the weighted loss
    model = SampleGCN(8, 16, 2, dropout=0.0, seed=0)
    xt, eit, ewt = torch.from_numpy(x), torch.from_numpy(ei), torch.from_numpy(ew)
    y = torch.from_numpy(labels[train])
    w = class_weights(labels[train], 2)
    before = F.nll_loss(model(xt, eit, ewt)[train], y, weight=w)
    assert float(before.detach()) == pytest.approx(fit.train_loss[0], rel=1e-6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=5e-4)
    before.backward()
    opt.step()
    after = F.nll_loss(model(xt, eit, ewt)[train], y, weight=w)
    assert float(after.detach()) < float(before.detach())


def test_training_fits_the_toy_graph_and_selects_by_validation():
    x, ei, ew, labels, train, val, test = _toy()
    fit = train_sample_gcn(x, ei, ew, labels, train, val, epochs=60, lr=1e-2, hidden=16, seed=0)
    assert isinstance(fit, SampleGCNFit)
    for arr in (fit.train_loss, fit.val_loss, fit.val_accuracy, fit.val_balanced_accuracy):
        assert arr.shape == (60,) and np.isfinite(arr).all()
    assert fit.best_epoch == int(np.argmin(fit.val_loss))  # argmin: first of ties
    assert fit.best_val_loss == fit.val_loss.min()
    np.testing.assert_allclose(fit.train_class_weights, [60 / 2 / 40 * 1.0, 30 / 2 / 10])
    proba = gcn_probabilities(fit, x, ei, ew)
    assert proba.shape == (len(x), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fit.predict_proba(x, ei, ew), proba)
    # the kept weights are the selected epoch's: their validation loss is the recorded one
    logp = torch.from_numpy(np.log(proba[val])).float()
    w = class_weights(labels[val], 2).double()
    value = F.nll_loss(logp.double(), torch.from_numpy(labels[val]), weight=w)
    assert float(value) == pytest.approx(fit.best_val_loss, rel=1e-4)
    assert (proba[test].argmax(1) == labels[test]).mean() >= 0.8


def test_deterministic_and_never_reads_test_labels():
    x, ei, ew, labels, train, val, test = _toy()
    hidden_labels = labels.copy()
    hidden_labels[test] = -1
    flipped = labels.copy()
    flipped[test] = 1 - flipped[test]
    kw = {"epochs": 15, "lr": 1e-2, "hidden": 16, "seed": 3}
    fits = [
        train_sample_gcn(x, ei, ew, lab, train, val, **kw)
        for lab in (labels, hidden_labels, flipped, labels)
    ]
    for other in fits[1:]:
        assert other.best_epoch == fits[0].best_epoch
        np.testing.assert_array_equal(other.train_loss, fits[0].train_loss)
        np.testing.assert_array_equal(other.val_loss, fits[0].val_loss)
        for k, v in fits[0].state_dict.items():
            assert torch.equal(other.state_dict[k], v), k
    different = train_sample_gcn(x, ei, ew, labels, train, val, **{**kw, "seed": 4})
    assert not np.array_equal(different.train_loss, fits[0].train_loss)


def test_input_errors():
    x, ei, ew, labels, train, val, _ = _toy()
    with pytest.raises(ValueError, match="share 1 node"):
        train_sample_gcn(x, ei, ew, labels, train, np.r_[val, train[:1]], epochs=1)
    with pytest.raises(ValueError, match="class 1 has no sample"):
        train_sample_gcn(x, ei, ew, labels, train[labels[train] == 0], val, epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        bad = labels.copy()
        bad[train[0]] = -1
        train_sample_gcn(x, ei, ew, bad, train, val, epochs=1)
    with pytest.raises(ValueError, match="outside"):
        train_sample_gcn(x, ei, ew, labels, train, np.r_[val, len(x)], epochs=1)


def test_nan_features_and_nan_loss_are_clear_errors():
    x, ei, ew, labels, train, val, _ = _toy()
    broken = x.copy()
    broken[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values in 1 node.*node 5"):
        train_sample_gcn(broken, ei, ew, labels, train, val, epochs=1)
    with pytest.raises(NonFiniteLossError, match=r"at epoch \d+"):
        train_sample_gcn(x, ei, ew, labels, train, val, epochs=20, lr=1e30, weight_decay=0.0)


def test_class_weights_of_a_set_missing_a_class():
    # labels [0, 0, 0, 1] of 3 classes: class 2 absent; present classes share N / (2 · n_c)
    w = class_weights(np.array([0, 0, 0, 1]), 3, allow_absent=True)
    np.testing.assert_allclose(w.numpy(), [4 / 6, 4 / 2, 0.0])
    with pytest.raises(ValueError, match="class 2 has no sample"):
        class_weights(np.array([0, 0, 0, 1]), 3)
