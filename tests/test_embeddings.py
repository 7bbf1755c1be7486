"""medgraph.embeddings: class separation of node embeddings (SMGNN §4.5, Fig 12)."""

import sys

import numpy as np
import pytest
import torch

from medgraph.embeddings import (
    class_pair_cosines,
    embedding_separation,
    metric_target_fit,
    pair_cosines,
    sample_nodes,
    umap_2d,
)


def clustered(n_per_class: int, d: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes around orthogonal directions e_0, e_1, e_2 (+ Gaussian noise)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per_class)
    centres = np.eye(3, d)[labels]
    return centres + spread * rng.normal(size=(labels.size, d)), labels


def test_sample_nodes_balanced_seeded_and_short_classes():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 4)
    idx = sample_nodes(labels, 10, seed=3)
    assert np.bincount(labels[idx]).tolist() == [10, 10, 4]  # class 2 has only 4: all of them
    assert np.unique(idx).size == idx.size
    assert np.array_equal(idx, sample_nodes(torch.as_tensor(labels), 10, seed=3))
    assert not np.array_equal(idx, sample_nodes(labels, 10, seed=4))
    with pytest.raises(ValueError):
        sample_nodes(labels, 0)


def test_pair_cosines_hand_computed():
    # a = (1, 0), b = (1, 1), c = (0, -2): cos(a, b) = 1/√2, cos(a, c) = 0, cos(b, c) = −1/√2
    emb = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    got = pair_cosines(emb, [[0, 1], [0, 2], [1, 2], [2, 2]])
    np.testing.assert_allclose(got, [1 / np.sqrt(2), 0.0, -1 / np.sqrt(2), 1.0], atol=1e-12)
    assert pair_cosines(np.zeros((2, 3)), [[0, 1]])[0] == 0.0


def test_three_point_case_by_hand():
    # classes {0: a, b} and {1: c}: the only within pairs are (a, b), (b, a); between pairs
    # are the four ordered pairs with c. Silhouette with d = 1 − cos: a: a_i = d(a, b) =
    # 1 − 1/√2, b_i = d(a, c) = 1, s = 1 − (1 − 1/√2) = 1/√2; b: a_i = 1 − 1/√2,
    # b_i = d(b, c) = 1 + 1/√2, s = 1 − (1 − 1/√2)/(1 + 1/√2); c alone in its class: s = 0.
    emb = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    out = embedding_separation(emb, np.array([0, 0, 1]), n_pairs=400, seed=0)
    r = 1 / np.sqrt(2)
    np.testing.assert_allclose(out["within"], r)
    assert set(map(tuple, out["within_pairs"].tolist())) == {(0, 1), (1, 0)}
    assert set(out["between"].round(12).tolist()) == {0.0, round(-r, 12)}
    expected = (r + (1 - (1 - r) / (1 + r)) + 0.0) / 3
    assert out["silhouette"] == pytest.approx(expected, abs=1e-12)
    assert out["gap"] == pytest.approx(out["mean_within"] - out["mean_between"])


def test_class_pair_cosines_by_hand():
    # class 0: a = (1, 0), b = (1, 1); class 1: c = (0, −2), d = (−1, −1); class 2: e alone.
    # within: cos(a, b) = cos(c, d) = 1/√2 (the only distinct pairs, so exact);
    # between 0 and 1: cos(a, c) = 0, cos(a, d) = −1/√2, cos(b, c) = −1/√2, cos(b, d) = −1,
    # each equally likely: mean (0 − 1/√2 − 1/√2 − 1)/4.
    emb = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0], [-1.0, -1.0], [3.0, 0.0]])
    labels = np.array([0, 0, 1, 1, 2])
    out = class_pair_cosines(emb, labels, n_pairs=40000, seed=0)
    r = 1 / np.sqrt(2)
    assert out["classes"].tolist() == [0, 1, 2]
    assert out["mean"][0, 0] == pytest.approx(r, abs=1e-12)  # never a node with itself
    assert out["mean"][1, 1] == pytest.approx(r, abs=1e-12)
    assert out["std"][0, 0] == pytest.approx(0.0, abs=1e-12)
    assert out["mean"][0, 1] == pytest.approx((0 - 2 * r - 1) / 4, abs=0.01)
    assert out["mean"][0, 1] == out["mean"][1, 0]
    assert out["mean"][0, 2] == pytest.approx((1 + r) / 2, abs=0.01)  # cos(a, e) = 1, cos(b, e) = r
    assert np.isnan(out["mean"][2, 2])  # one node: no within-class pair
    again = class_pair_cosines(torch.as_tensor(emb), torch.as_tensor(labels), 40000, seed=0)
    np.testing.assert_array_equal(again["mean"], out["mean"])
    with pytest.raises(ValueError):
        class_pair_cosines(emb, labels, n_pairs=0)


def test_metric_target_fit_by_hand():
    # a = (1, 0), 𝒴 = 0; b = (0, 1), 𝒴 = 1; c = (1, 1), 𝒴 = 1. The three unordered pairs are
    # equally likely: cosines (0, 1/√2, 1/√2), targets (𝒴_i + 𝒴_j)/2 = (1/2, 1/2, 1).
    # var(cos) = 1/9, var(target) = 1/18, cov = √2/36: r = 1/2, a = cov/var(cos) = 1/(2√2),
    # b = 2/3 − a·(√2/3) = 1/2, mse = var(target)(1 − r²) = 1/24.
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out = metric_target_fit(emb, np.array([0.0, 1.0, 1.0]), n_pairs=60000, seed=0)
    assert out["r"] == pytest.approx(0.5, abs=0.02)
    assert out["a"] == pytest.approx(1 / (2 * np.sqrt(2)), abs=0.02)
    assert out["b"] == pytest.approx(0.5, abs=0.02)
    assert out["target_var"] == pytest.approx(1 / 18, abs=0.003)
    assert out["mse"] == pytest.approx(1 / 24, abs=0.003)
    assert out["r2"] == pytest.approx(out["r"] ** 2, abs=1e-9)  # least squares: R² = r²


def test_metric_target_fit_class_aware_target_by_hand():
    # the same three nodes with class fractions: a = (1, 0), b = (0, 1), c = (0, 1). Unordered
    # pairs (a,b), (a,c), (b,c): cosines (0, 1/√2, 1/√2), targets Y_i·Y_j = (0, 0, 1).
    # var(cos) = 1/9, var(target) = 2/9, cov = E[cos·t] − E[cos]E[t] = 1/(3√2) − (√2/3)(1/3)
    # = √2/18: r = (√2/18)/√(2/81) = 1/2, a = cov/var(cos) = 1/√2, b = 1/3 − a·√2/3 = 0,
    # mse = var(target)(1 − r²) = 1/6.
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    fractions = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    out = metric_target_fit(emb, fractions, n_pairs=60000, seed=0)
    assert out["r"] == pytest.approx(0.5, abs=0.02)
    assert out["a"] == pytest.approx(1 / np.sqrt(2), abs=0.02)
    assert out["b"] == pytest.approx(0.0, abs=0.02)
    assert out["target_var"] == pytest.approx(2 / 9, abs=0.005)
    assert out["mse"] == pytest.approx(1 / 6, abs=0.005)
    # the same fractions read as scalar scores (the second column is 𝒴 for C = 2) ask for the
    # mean, a different target: targets (1/2, 1/2, 1) as in the test above
    literal = metric_target_fit(emb, fractions[:, 1], n_pairs=60000, seed=0)
    assert literal["target_var"] == pytest.approx(1 / 18, abs=0.003)
    with pytest.raises(ValueError, match=r"\(K,\) or \(K, C\)"):
        metric_target_fit(emb, fractions[:2])


def test_metric_target_fit_perfect_and_degenerate():
    # equal scores: the target has no variance, so there is nothing to explain (r undefined)
    emb = np.random.default_rng(0).normal(size=(20, 4))
    flat = metric_target_fit(emb, np.full(20, 0.5), n_pairs=500, seed=1)
    assert np.isnan(flat["r"]) and flat["target_var"] == 0.0 and flat["mse"] == 0.0
    # parallel embeddings: cos = 1 for every pair, so the best fit is the constant (a = 0)
    const = metric_target_fit(np.ones((5, 1)), np.linspace(0, 1, 5), n_pairs=500, seed=1)
    assert const["a"] == 0.0 and const["r2"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        metric_target_fit(emb[:1], np.zeros(1))
    with pytest.raises(ValueError):
        metric_target_fit(emb, np.full(20, np.nan))
    with pytest.raises(ValueError):
        metric_target_fit(emb, np.zeros(19))


def test_separated_classes_score_high():
    emb, labels = clustered(200, 16, spread=0.05, seed=0)
    out = embedding_separation(emb, labels, n_pairs=2000, seed=1)
    assert out["silhouette"] > 0.8
    assert out["mean_within"] > 0.9 and abs(out["mean_between"]) < 0.1
    assert out["gap"] > 0.8
    assert np.all(out["within"] > out["between"].max() - 0.2)
    assert out["within"].shape == out["between"].shape == (2000,)
    assert np.all(labels[out["within_pairs"][:, 0]] == labels[out["within_pairs"][:, 1]])
    assert np.all(labels[out["between_pairs"][:, 0]] != labels[out["between_pairs"][:, 1]])
    assert np.all(out["within_pairs"][:, 0] != out["within_pairs"][:, 1])


def test_random_embeddings_score_near_zero():
    rng = np.random.default_rng(5)
    emb = rng.normal(size=(3000, 16))
    labels = rng.integers(0, 3, size=3000)
    out = embedding_separation(emb, labels, n_pairs=4000, seed=2, silhouette_sample=1500)
    assert out["silhouette_n"] == 1500
    assert abs(out["silhouette"]) < 0.05
    # cosines of independent 16-d Gaussians: mean 0, sd 1/4; over 4000 pairs the means are
    # within ±0.02 (5 sd of a mean) and so is their difference, up to √2
    assert abs(out["gap"]) < 0.03
    assert abs(out["mean_within"]) < 0.02 and abs(out["mean_between"]) < 0.02


def test_separation_is_seeded_and_validates():
    emb, labels = clustered(30, 8, spread=0.3, seed=0)
    a = embedding_separation(emb, labels, n_pairs=100, seed=7)
    b = embedding_separation(torch.as_tensor(emb), torch.as_tensor(labels), n_pairs=100, seed=7)
    assert np.array_equal(a["within_pairs"], b["within_pairs"]) and a["gap"] == b["gap"]
    with pytest.raises(ValueError, match="two classes"):
        embedding_separation(emb, np.zeros(len(emb), dtype=int))
    with pytest.raises(ValueError):
        embedding_separation(emb, labels[:-1])
    with pytest.raises(ValueError):
        embedding_separation(emb[:, :, None], labels)


def test_umap_2d_shape_and_determinism():
    pytest.importorskip("umap")
    emb, _ = clustered(20, 8, spread=0.1, seed=0)  # 60 points
    first = umap_2d(emb, seed=0)
    assert first.shape == (60, 2) and np.isfinite(first).all()
    assert np.array_equal(first, umap_2d(emb, seed=0))
    with pytest.raises(ValueError):
        umap_2d(emb[:10], seed=0)


def test_umap_2d_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # makes `import umap` raise ImportError
    with pytest.raises(ImportError, match="umap-learn"):
        umap_2d(np.zeros((20, 3)), seed=0)
