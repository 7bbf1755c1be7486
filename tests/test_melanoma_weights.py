"""Melanoma graph edge weights: Eq 1 distances, Eq 2 Gaussian kernel, MM learning, pruning."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from medgraph.melanoma.weights import (
    MMResult,
    gaussian_weights,
    learn_weights_mm,
    mm_objective,
    pairwise_distances,
    prune_mask,
    prune_weights,
)

# three nodes in R^2: (0,0), (3,4), (0,1); d01 = 5, d02 = 1, d12 = sqrt(9 + 9) = sqrt(18)
X3 = torch.tensor([[[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]], dtype=torch.float64)
D3 = {(0, 1): 5.0, (0, 2): 1.0, (1, 2): math.sqrt(18.0)}


def _random_x(b: int, n: int, m: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(b, n, m, generator=g, dtype=torch.float64)


def _assert_graph_matrix(w: torch.Tensor) -> None:
    assert torch.equal(w, w.mT)
    assert torch.all(torch.diagonal(w, dim1=1, dim2=2) == 0)


def _kkt_residual(res: MMResult, d: torch.Tensor, delta: float, gamma: float) -> torch.Tensor:
    """2 d_e - delta (1/deg_a + 1/deg_b) + 2 gamma w_e for every pair (B, n, n)."""
    w = res.weights
    inv = 1.0 / w.sum(dim=2)
    return 2 * d - delta * (inv[:, :, None] + inv[:, None, :]) + 2 * gamma * w


# --------------------------------------------------------------------------------------------
# Eq 1
# --------------------------------------------------------------------------------------------


def test_pairwise_distances_hand_case() -> None:
    d = pairwise_distances(X3)
    assert d.shape == (1, 3, 3)
    _assert_graph_matrix(d)
    for (i, j), v in D3.items():
        assert d[0, i, j].item() == pytest.approx(v, rel=1e-15)
    # not squared: d01 is 5, not 25
    assert d[0, 0, 1].item() != pytest.approx(25.0)


def test_pairwise_distances_batched_and_close_points() -> None:
    x = _random_x(3, 7, 4, seed=1)
    d = pairwise_distances(x)
    brute = (x[:, :, None, :] - x[:, None, :, :]).pow(2).sum(-1).sqrt()
    torch.testing.assert_close(d, brute, rtol=1e-12, atol=1e-12)
    # two points 1e-9 apart far from the origin: the Gram expansion would lose this entirely
    far = torch.tensor([[[1e4, 1e4], [1e4 + 1e-9, 1e4]]], dtype=torch.float64)
    assert pairwise_distances(far)[0, 0, 1].item() == pytest.approx(1e-9, rel=1e-3)


def test_pairwise_distances_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        pairwise_distances(torch.zeros(3, 2))
    with pytest.raises(TypeError):
        pairwise_distances(torch.zeros(1, 3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="NaN"):
        pairwise_distances(torch.full((1, 3, 2), float("nan")))


# --------------------------------------------------------------------------------------------
# Eq 2
# --------------------------------------------------------------------------------------------


def test_gaussian_data_centre_hand_case() -> None:
    # entries of X: 0, 0, 3, 4, 0, 1 -> mu = 8/6 = 4/3
    # E[x^2] = (9 + 16 + 1)/6 = 13/3, sigma^2 = 13/3 - 16/9 = 23/9, 2 sigma^2 = 46/9
    # w01 = exp(-(5 - 4/3)^2 / (46/9)) = exp(-(121/9)/(46/9)) = exp(-121/46)
    # w02 = exp(-(1 - 4/3)^2 / (46/9)) = exp(-(1/9)/(46/9)) = exp(-1/46)
    # w12 = exp(-(3 sqrt2 - 4/3)^2 * 9/46) = exp(-(9 sqrt2 - 4)^2 / 46)
    expected = {
        (0, 1): math.exp(-121 / 46),
        (0, 2): math.exp(-1 / 46),
        (1, 2): math.exp(-((9 * math.sqrt(2) - 4) ** 2) / 46),
    }
    w = gaussian_weights(X3)  # centre="data" is the default
    _assert_graph_matrix(w)
    for (i, j), v in expected.items():
        assert w[0, i, j].item() == pytest.approx(v, rel=1e-13)
    # not monotone in d: d02 = 1 < d12 = 4.24 but the smallest distance is not the largest
    # weight for every centre -- here w02 > w12 > w01, while a point at d = mu would get 1


def test_gaussian_distances_centre_hand_case() -> None:
    # distances 5, 1, 3 sqrt2: mu = (6 + 3 sqrt2)/3 = 2 + sqrt2
    # E[d^2] = (25 + 1 + 18)/3 = 44/3, mu^2 = 6 + 4 sqrt2, sigma^2 = 26/3 - 4 sqrt2 (~3.0098)
    s2 = math.sqrt(2.0)
    mu, var = 2 + s2, 26 / 3 - 4 * s2
    w = gaussian_weights(X3, centre="distances")
    _assert_graph_matrix(w)
    for (i, j), dij in D3.items():
        assert w[0, i, j].item() == pytest.approx(
            math.exp(-((dij - mu) ** 2) / (2 * var)), rel=1e-13
        )
    # d12 = 4.243 is closest to mu = 3.414 -> the largest weight, although d02 = 1 is smallest
    assert w[0, 1, 2] > w[0, 0, 2]


def test_gaussian_zero_centre_hand_case() -> None:
    # mu = 0, sigma^2 = 26/3 - 4 sqrt2 as above: w = exp(-d^2 / (2 sigma^2))
    # w01 = exp(-25 / (2 var)), w02 = exp(-1 / (2 var)), w12 = exp(-18 / (2 var))
    var = 26 / 3 - 4 * math.sqrt(2.0)
    w = gaussian_weights(X3, centre="zero")
    _assert_graph_matrix(w)
    assert w[0, 0, 1].item() == pytest.approx(math.exp(-25 / (2 * var)), rel=1e-13)
    assert w[0, 0, 2].item() == pytest.approx(math.exp(-1 / (2 * var)), rel=1e-13)
    assert w[0, 1, 2].item() == pytest.approx(math.exp(-18 / (2 * var)), rel=1e-13)
    assert w[0, 0, 2] > w[0, 1, 2] > w[0, 0, 1]  # monotone decreasing in d


def test_gaussian_constant_or_degenerate_raises() -> None:
    x = torch.cat([X3, torch.full((1, 3, 2), 0.7, dtype=torch.float64)])
    with pytest.raises(ValueError, match="graph index 1"):
        gaussian_weights(x)
    with pytest.raises(ValueError, match="graph index 1"):
        gaussian_weights(x, centre="zero")
    with pytest.raises(ValueError, match="sigma"):
        gaussian_weights(X3[:, :2], centre="distances")  # one distance: zero variance
    with pytest.raises(ValueError, match="centre"):
        gaussian_weights(X3, centre="median")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Eqs 3-7, Algorithm 1
# --------------------------------------------------------------------------------------------


def test_mm_objective_equals_explicit_t_matrix_form() -> None:
    n, delta, gamma = 5, 0.7, 1.3
    g = torch.Generator().manual_seed(4)
    a = torch.rand(2, n, n, generator=g, dtype=torch.float64) + 0.1
    w = torch.triu(a, 1) + torch.triu(a, 1).mT
    d = pairwise_distances(_random_x(2, n, 3, seed=5))
    iu = torch.triu_indices(n, n, 1)
    r = n * (n - 1) // 2
    t = torch.zeros(n, r, dtype=torch.float64)  # binary T: T w = W 1
    t[iu[0], torch.arange(r)] = 1.0
    t[iu[1], torch.arange(r)] = 1.0
    for b in range(2):
        wv, dv = w[b, iu[0], iu[1]], d[b, iu[0], iu[1]]
        torch.testing.assert_close(t @ wv, w[b].sum(1), rtol=1e-15, atol=0)
        f_vec = 2 * wv @ dv - delta * torch.log(t @ wv).sum() + gamma * wv @ wv
        assert mm_objective(w, d, delta, gamma)[b].item() == pytest.approx(f_vec.item(), rel=1e-13)


def test_mm_one_step_hand_case() -> None:
    # w0 = 1 on all 3 edges, every degree is 2; delta = 2, gamma = 0.5
    # Eq 7: c_e = delta * 1 * (1/2 + 1/2) = 2 for every edge
    # Eq 6: w_e = (-2 d + sqrt(4 d^2 + 8 * 0.5 * 2)) / (4 * 0.5) = (-2 d + sqrt(4 d^2 + 8)) / 2
    #   d = 5:       (-10 + sqrt(108)) / 2 = -5 + 3 sqrt3
    #   d = 1:       (-2 + sqrt(12)) / 2 = sqrt3 - 1
    #   d = 3 sqrt2: (-6 sqrt2 + sqrt(80)) / 2 = 2 sqrt5 - 3 sqrt2
    delta, gamma = 2.0, 0.5
    s3, s2, s5 = math.sqrt(3), math.sqrt(2), math.sqrt(5)
    expected = {(0, 1): -5 + 3 * s3, (0, 2): s3 - 1, (1, 2): 2 * s5 - 3 * s2}
    res = learn_weights_mm(X3, delta=delta, gamma=gamma, eps=0.0, max_iter=1)
    _assert_graph_matrix(res.weights)
    for (i, j), v in expected.items():
        assert res.weights[0, i, j].item() == pytest.approx(v, rel=1e-12)
    assert res.iterations.tolist() == [1] and res.converged.tolist() == [False]
    # f(w0) = 2 (5 + 1 + 3 sqrt2) - delta * 3 log 2 + gamma * 3
    f0 = 2 * (6 + 3 * s2) - 3 * delta * math.log(2) + 3 * gamma
    w1 = list(expected.values())
    d1 = [5.0, 1.0, 3 * s2]
    # degrees after the step: node 0: w01 + w02, node 1: w01 + w12, node 2: w02 + w12
    degs = [w1[0] + w1[1], w1[0] + w1[2], w1[1] + w1[2]]
    f1 = (
        2 * sum(a * b for a, b in zip(w1, d1, strict=True))
        - delta * sum(math.log(v) for v in degs)
        + gamma * sum(v * v for v in w1)
    )
    assert res.objective.shape == (1, 2)
    assert res.objective[0, 0].item() == pytest.approx(f0, rel=1e-13)
    assert res.objective[0, 1].item() == pytest.approx(f1, rel=1e-12)
    assert f1 < f0


def test_mm_objective_never_increases() -> None:
    x = _random_x(4, 12, 3, seed=7)
    res = learn_weights_mm(x, delta=1.5, gamma=0.8, eps=1e-8, max_iter=400)
    hist = res.objective
    assert hist.shape == (4, int(res.iterations.max()) + 1)
    diffs = hist[:, 1:] - hist[:, :-1]
    assert torch.all(diffs <= 1e-12 * hist[:, :-1].abs())
    assert torch.all(diffs[:, 0] < 0)  # the first step does decrease f
    _assert_graph_matrix(res.weights)
    assert torch.all(res.weights >= 0)
    # padding after convergence repeats the final value
    for b in range(4):
        k = int(res.iterations[b])
        assert torch.all(hist[b, k:] == hist[b, k])
    torch.testing.assert_close(
        hist[:, -1], mm_objective(res.weights, pairwise_distances(x), 1.5, 0.8), rtol=0, atol=0
    )


def test_mm_kkt_at_convergence() -> None:
    delta, gamma = 1.0, 1.0
    # interior optimum: small distances, every weight stays positive
    x = _random_x(2, 8, 3, seed=8, scale=0.02)
    res = learn_weights_mm(x, delta=delta, gamma=gamma, eps=1e-15, max_iter=2000)
    assert res.converged.all()
    off = ~torch.eye(8, dtype=torch.bool).expand(2, 8, 8)
    assert torch.all(res.weights[off] > 1e-8)
    kkt = _kkt_residual(res, pairwise_distances(x), delta, gamma)
    assert kkt[off].abs().max().item() < 1e-6
    # three tight pairs far apart: cross-pair weights vanish, within-pair ones satisfy KKT
    x = torch.tensor([[[0.0], [0.1], [5.0], [5.1], [10.0], [10.1]]], dtype=torch.float64)
    res = learn_weights_mm(x, eps=1e-15, max_iter=2000)
    assert res.converged.all()
    w = res.weights
    pos = w > 1e-8
    assert pos.sum().item() == 6  # the three within-pair edges, both directions
    kkt = _kkt_residual(res, pairwise_distances(x), delta, gamma)
    assert kkt[pos].abs().max().item() < 1e-6
    off6 = ~torch.eye(6, dtype=torch.bool)[None]
    assert kkt[~pos & off6].min().item() > 0  # complementary slackness: positive multipliers


def test_mm_batched_equals_single() -> None:
    x = _random_x(3, 9, 2, seed=9)
    res = learn_weights_mm(x, eps=1e-7)
    assert len(set(res.iterations.tolist())) > 1  # graphs stop at different iterations
    for b in range(3):
        one = learn_weights_mm(x[b : b + 1], eps=1e-7)
        assert one.iterations.item() == res.iterations[b].item()
        assert one.converged.item() == res.converged[b].item()
        torch.testing.assert_close(one.weights[0], res.weights[b], rtol=1e-12, atol=1e-15)
        k = int(one.iterations)
        torch.testing.assert_close(one.objective[0], res.objective[b, : k + 1], rtol=1e-12, atol=0)


def test_mm_matches_independent_solver() -> None:
    n, delta, gamma = 4, 1.0, 1.0
    x = _random_x(1, n, 2, seed=3)
    res = learn_weights_mm(x, delta=delta, gamma=gamma, eps=1e-14, max_iter=5000)
    d = pairwise_distances(x)[0]
    iu = torch.triu_indices(n, n, 1)
    r = n * (n - 1) // 2
    dv = d[iu[0], iu[1]].numpy()
    t = np.zeros((n, r))
    t[iu[0].numpy(), np.arange(r)] = 1.0
    t[iu[1].numpy(), np.arange(r)] = 1.0

    def f(w: np.ndarray) -> float:
        return float(2 * w @ dv - delta * np.log(t @ w).sum() + gamma * w @ w)

    def grad(w: np.ndarray) -> np.ndarray:
        return 2 * dv - delta * t.T @ (1.0 / (t @ w)) + 2 * gamma * w

    opt = minimize(
        f,
        np.ones(r),
        jac=grad,
        method="L-BFGS-B",
        bounds=[(1e-12, None)] * r,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000},
    )
    assert opt.success
    np.testing.assert_allclose(res.weights[0, iu[0], iu[1]].numpy(), opt.x, rtol=0, atol=1e-5)
    assert res.objective[0, -1].item() == pytest.approx(opt.fun, rel=1e-8)
    assert (opt.x < 1e-6).any()  # the case includes boundary (absent) edges


def test_mm_precomputed_distances_and_guards() -> None:
    x = _random_x(2, 5, 3, seed=11)
    a = learn_weights_mm(x, max_iter=50)
    b = learn_weights_mm(x, max_iter=50, distances=pairwise_distances(x))
    torch.testing.assert_close(a.weights, b.weights, rtol=0, atol=0)
    with pytest.raises(ValueError, match="delta"):
        learn_weights_mm(x, delta=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        learn_weights_mm(x, max_iter=-1)
    with pytest.raises(ValueError, match="non-negative"):
        learn_weights_mm(x, distances=-pairwise_distances(x))
    # distances at the edge of float32's range: weights underflow, a degree reaches 0
    x32 = torch.zeros(1, 3, 1, dtype=torch.float32)
    huge = torch.full((1, 3, 3), 3e38, dtype=torch.float32)
    with pytest.raises(FloatingPointError, match="graph index 0"):
        learn_weights_mm(x32, distances=huge)


# --------------------------------------------------------------------------------------------
# Eqs 8-10
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tau", "kept"), [(0.0, 15), (0.25, 11), (0.5, 8), (0.75, 4)])
def test_prune_keeps_exact_count_of_strongest(tau: float, kept: int) -> None:
    # n = 6 -> r = 15 edges; keep round_half_up((1 - tau) * 15): 15, 11.25 -> 11, 7.5 -> 8, 3.75 -> 4
    n = 6
    g = torch.Generator().manual_seed(12)
    a = torch.rand(2, n, n, generator=g, dtype=torch.float64)
    w = torch.triu(a, 1) + torch.triu(a, 1).mT
    out = prune_weights(w, tau)
    mask = prune_mask(w, tau)
    _assert_graph_matrix(out)
    assert torch.equal(mask, mask.mT) and not torch.diagonal(mask, dim1=1, dim2=2).any()
    assert torch.equal(out, torch.where(mask, w, 0.0))
    iu = torch.triu_indices(n, n, 1)
    for b in range(2):
        keep = mask[b, iu[0], iu[1]]
        vals = w[b, iu[0], iu[1]]
        assert int(keep.sum()) == kept
        if kept < 15:
            assert vals[keep].min() > vals[~keep].max()


def test_prune_tau_zero_is_copy() -> None:
    w = gaussian_weights(_random_x(2, 5, 2, seed=13), centre="zero")
    out = prune_weights(w, 0.0)
    assert torch.equal(out, w) and out.data_ptr() != w.data_ptr()


def test_prune_ties_lower_edge_index_first() -> None:
    # all 6 edges of n = 4 equal: keep round(0.5 * 6) = 3, the first three in row-major order
    # (0,1), (0,2), (0,3); a threshold W >= T_tau would keep all six
    w = torch.ones(1, 4, 4, dtype=torch.float64) - torch.eye(4, dtype=torch.float64)
    mask = prune_mask(w, 0.5)
    kept = {(i, j) for i in range(4) for j in range(i + 1, 4) if mask[0, i, j]}
    assert kept == {(0, 1), (0, 2), (0, 3)}
    # a tie straddling the cut: values by edge index [3, 1, 2, 2, 2, 0], keep 3 -> edges 0, 2, 3
    vals = torch.tensor([3.0, 1.0, 2.0, 2.0, 2.0, 0.0], dtype=torch.float64)
    iu = torch.triu_indices(4, 4, 1)
    w = torch.zeros(1, 4, 4, dtype=torch.float64)
    w[0, iu[0], iu[1]] = vals
    w = w + w.mT
    keep = prune_mask(w, 0.5)[0, iu[0], iu[1]]
    assert keep.tolist() == [True, False, True, True, False, False]
    # many ties (r = 105, where an unstable sort reorders equal keys): two levels of weight,
    # keep round(0.75 * 105) = 79 = all 60 strong edges + the first 19 weak ones by edge index
    n, r = 15, 105
    vals = torch.zeros(r, dtype=torch.float64)
    strong = torch.arange(r) % 7 < 4  # 60 strong edges, spread over the index range
    vals[strong] = 2.0
    vals[~strong] = 1.0
    iu = torch.triu_indices(n, n, 1)
    w = torch.zeros(1, n, n, dtype=torch.float64)
    w[0, iu[0], iu[1]] = vals
    w = w + w.mT
    keep = prune_mask(w, 0.25)[0, iu[0], iu[1]]
    expected = strong.clone()
    expected[torch.nonzero(~strong).flatten()[:19]] = True
    assert int(strong.sum()) == 60 and torch.equal(keep, expected)


@pytest.mark.parametrize("tau", [1.0, -0.1, float("nan"), 1.5])
def test_prune_invalid_tau_raises(tau: float) -> None:
    w = gaussian_weights(X3, centre="zero")
    with pytest.raises(ValueError, match="tau"):
        prune_weights(w, tau)


def test_prune_rejects_asymmetric() -> None:
    w = torch.rand(1, 4, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="symmetric"):
        prune_mask(w, 0.5)


# --------------------------------------------------------------------------------------------
# dtype and device
# --------------------------------------------------------------------------------------------


def test_float32_in_float32_out() -> None:
    x = _random_x(2, 6, 3, seed=14).float()
    outs = [
        pairwise_distances(x),
        gaussian_weights(x),
        gaussian_weights(x, centre="distances"),
        gaussian_weights(x, centre="zero"),
    ]
    res = learn_weights_mm(x, eps=0.0, max_iter=100)
    outs += [res.weights, res.objective, prune_weights(res.weights, 0.5)]
    for t in outs:
        assert t.dtype == torch.float32 and t.device == x.device
    assert res.iterations.dtype == torch.int64 and res.converged.dtype == torch.bool
    assert prune_mask(res.weights, 0.5).device == x.device
    ref = learn_weights_mm(x.double(), eps=0.0, max_iter=100)
    assert res.iterations.tolist() == ref.iterations.tolist() == [100, 100]
    torch.testing.assert_close(res.weights.double(), ref.weights, rtol=1e-3, atol=1e-5)
