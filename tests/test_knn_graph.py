"""Cosine kNN graph of samples: brute-force reference, hand-computed cases, edges and errors."""

import math

import numpy as np
import pytest
import torch

from medgraph.graphs import KnnGraph, cosine_knn_graph

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
R = 1 / math.sqrt(2)


def brute_force_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, k) neighbours and similarities from the full float64 cosine matrix and an argsort.

    Decreasing similarity, ties by increasing index (a stable argsort of −similarity).
    """
    x = np.asarray(x, dtype=np.float64)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = xn @ xn.T
    np.fill_diagonal(sim, -np.inf)
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sim, order, axis=1)


def random_data(n: int = 101, d: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def edge_set(graph: KnnGraph) -> set[tuple[int, int]]:
    return set(map(tuple, graph.edge_index.T.cpu().tolist()))


def knn_edges(neighbours: np.ndarray) -> set[tuple[int, int]]:
    """The directed kNN edges neighbour → node."""
    n, k = neighbours.shape
    return set(zip(neighbours.flatten().tolist(), np.repeat(np.arange(n), k).tolist(), strict=True))


@pytest.mark.parametrize("block_size", [1, 7, 32, 101, 4096])
@pytest.mark.parametrize("device", DEVICES)
def test_matches_brute_force(block_size: int, device: str) -> None:
    x = random_data()  # N = 101: 7 and 32 do not divide it
    expected, expected_sim = brute_force_knn(x, 5)
    g = cosine_knn_graph(x, 5, block_size=block_size, device=device)  # float64 input
    assert g.neighbours.dtype == torch.int64 and g.similarity.dtype == torch.float32
    assert g.neighbours.shape == (101, 5) and g.n_nodes == 101 and g.k == 5
    np.testing.assert_array_equal(g.neighbours.cpu().numpy(), expected)
    np.testing.assert_allclose(g.similarity.cpu().numpy(), expected_sim, atol=1e-6)
    # float32 input: the same neighbour sets (random data has no near-ties at this size)
    g32 = cosine_knn_graph(x.astype(np.float32), 5, block_size=block_size, device=device)
    np.testing.assert_array_equal(
        np.sort(g32.neighbours.cpu().numpy(), axis=1), np.sort(expected, axis=1)
    )
    np.testing.assert_allclose(g32.similarity.cpu().numpy(), expected_sim, atol=1e-5)


def test_independent_of_block_size() -> None:
    x = random_data(n=64, d=8, seed=3).astype(np.float32)
    ref = cosine_knn_graph(x, 4, block_size=64)
    for b in (1, 5, 63):
        g = cosine_knn_graph(x, 4, block_size=b)
        assert torch.equal(g.neighbours, ref.neighbours)
        assert torch.equal(g.edge_index, ref.edge_index)


def test_hand_computed_four_points() -> None:
    # angles 0°, 45°, 90°, 180°; cosines: c01 = c12 = 1/√2, c02 = c23 = 0, c13 = −1/√2, c03 = −1
    x = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    g1 = cosine_knn_graph(x, 1, symmetric=False)
    # node 1 is equally close to 0 and 2: the lower index wins
    assert g1.neighbours.tolist() == [[1], [0], [1], [2]]
    np.testing.assert_allclose(g1.similarity.numpy().ravel(), [R, R, R, 0.0], atol=1e-7)
    assert g1.edge_index.tolist() == [[1, 0, 1, 2], [0, 1, 2, 3]]

    g2 = cosine_knn_graph(x, 2, symmetric=False)
    # node 2: 0 and 3 tie at cosine 0 → 0 first
    assert g2.neighbours.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    np.testing.assert_allclose(g2.similarity.numpy(), [[R, 0], [R, R], [R, 0], [0, -R]], atol=1e-7)

    s1 = cosine_knn_graph(x, 1)  # symmetric: the union of 1→0, 0→1, 1→2, 2→3 and reverses
    assert s1.edge_index.tolist() == [[1, 0, 2, 1, 3, 2], [0, 1, 1, 2, 2, 3]]
    np.testing.assert_allclose(s1.edge_weight.numpy(), [R, R, R, R, 0, 0], atol=1e-7)

    # k = 2, weights: the negative cosine of 1 → 3 clipped at 0 unless asked otherwise
    w_clip = cosine_knn_graph(x, 2, symmetric=False).edge_weight.numpy()
    w_raw = cosine_knn_graph(x, 2, symmetric=False, clip_negative=False).edge_weight.numpy()
    # edges sorted by (target, source): (1→0, 2→0, 0→1, 2→1, 0→2, 1→2, 1→3, 2→3)
    np.testing.assert_allclose(w_raw, [R, 0, R, R, 0, R, -R, 0], atol=1e-7)
    np.testing.assert_allclose(w_clip, [R, 0, R, R, 0, R, 0, 0], atol=1e-7)


@pytest.mark.parametrize("block_size", [1, 2, 5])
def test_exact_ties_lower_index_first(block_size: int) -> None:
    # four copies of one direction and one orthogonal point: all products are exact
    x = np.array([[2.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 0.0], [0.0, 5.0]])
    g = cosine_knn_graph(x, 2, block_size=block_size, symmetric=False)
    assert g.neighbours.tolist() == [[1, 2], [0, 2], [0, 1], [0, 1], [0, 1]]
    g3 = cosine_knn_graph(x, 4, block_size=block_size, symmetric=False)
    assert g3.neighbours.tolist() == [
        [1, 2, 3, 4],
        [0, 2, 3, 4],
        [0, 1, 3, 4],
        [0, 1, 2, 4],
        [0, 1, 2, 3],
    ]


def test_symmetric_graph() -> None:
    x = random_data(n=80, d=6, seed=1)
    k = 4
    g = cosine_knn_graph(x, k, block_size=16)
    a = g.to_scipy()
    assert a.shape == (80, 80) and a.nnz == g.n_edges
    assert (a != a.T).nnz == 0  # weights exactly symmetric too
    directed = knn_edges(g.neighbours.numpy())
    expected = directed | {(t, s) for s, t in directed}
    assert edge_set(g) == expected  # every kNN edge, its reverse, nothing else
    assert g.n_edges == len(expected) and k * 80 <= g.n_edges <= 2 * k * 80
    assert (torch.bincount(g.edge_index[1], minlength=80) >= k).all()
    # sorted by (target, source), each directed edge once
    key = g.edge_index[1] * 80 + g.edge_index[0]
    assert (key[1:] > key[:-1]).all()
    # the weight of every edge is the (clipped) cosine of its ends
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s, t = g.edge_index.numpy()
    np.testing.assert_allclose(
        g.edge_weight.numpy(), np.maximum((xn[s] * xn[t]).sum(1), 0), atol=1e-6
    )


def test_directed_graph_has_k_incoming_edges() -> None:
    x = random_data(n=60, d=5, seed=2)
    g = cosine_knn_graph(x, 3, symmetric=False, block_size=8)
    assert not g.symmetric and g.n_edges == 60 * 3
    assert (torch.bincount(g.edge_index[1], minlength=60) == 3).all()
    assert edge_set(g) == knn_edges(g.neighbours.numpy())
    key = g.edge_index[1] * 60 + g.edge_index[0]
    assert (key[1:] > key[:-1]).all()
    # the weights follow the edges through the sort
    sim = {
        (int(j), i): float(v)
        for i in range(60)
        for j, v in zip(g.neighbours[i], g.similarity[i], strict=True)
    }
    for (s, t), w in zip(g.edge_index.T.tolist(), g.edge_weight.tolist(), strict=True):
        assert w == pytest.approx(max(sim[(s, t)], 0.0))


@pytest.mark.parametrize("symmetric", [True, False])
def test_self_loops(symmetric: bool) -> None:
    x = random_data(n=30, d=4, seed=4)
    plain = cosine_knn_graph(x, 3, symmetric=symmetric)
    assert (plain.edge_index[0] != plain.edge_index[1]).all()  # none by default
    assert plain.to_scipy().diagonal().sum() == 0
    looped = cosine_knn_graph(x, 3, symmetric=symmetric, self_loops=True)
    is_loop = looped.edge_index[0] == looped.edge_index[1]
    assert int(is_loop.sum()) == 30 and looped.n_edges == plain.n_edges + 30
    assert torch.equal(looped.edge_index[0, is_loop], torch.arange(30))
    assert (looped.edge_weight[is_loop] == 1).all()
    assert edge_set(looped) == edge_set(plain) | {(i, i) for i in range(30)}
    key = looped.edge_index[1] * 30 + looped.edge_index[0]
    assert (key[1:] > key[:-1]).all()


def test_return_weights_false() -> None:
    g = cosine_knn_graph(random_data(n=20, d=3), 2, return_weights=False)
    assert g.edge_weight is None
    a = g.to_scipy()
    assert a.nnz == g.n_edges and (a.data == 1).all()


def test_torch_input_float32_and_int() -> None:
    x = random_data(n=40, d=7, seed=5)
    expected, _ = brute_force_knn(x, 3)
    t = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    g = cosine_knn_graph(t, 3, block_size=9)
    assert g.neighbours.device == t.device
    np.testing.assert_array_equal(np.sort(g.neighbours.numpy(), 1), np.sort(expected, 1))
    xi = np.array([[3, 0], [2, 1], [0, 4], [-1, 0]])  # integers become float32
    assert cosine_knn_graph(xi, 1, symmetric=False).neighbours.flatten().tolist() == [1, 0, 1, 2]


def test_scale_invariant_and_extreme_magnitudes() -> None:
    x = random_data(n=25, d=4, seed=6)
    ref = cosine_knn_graph(x, 3)
    scales = np.geomspace(1e-30, 1e30, 25)[:, None]  # float32 squares would over/underflow
    g = cosine_knn_graph((x * scales).astype(np.float32), 3)
    np.testing.assert_array_equal(
        np.sort(g.neighbours.numpy(), 1), np.sort(ref.neighbours.numpy(), 1)
    )


@pytest.mark.parametrize("k", [0, -1, 5, 6])
def test_k_out_of_range(k: int) -> None:
    with pytest.raises(ValueError, match="k must satisfy"):
        cosine_knn_graph(random_data(n=5, d=3), k)


def test_k_equals_n_minus_one() -> None:
    g = cosine_knn_graph(random_data(n=5, d=3), 4, block_size=2, symmetric=False)
    for i, row in enumerate(g.neighbours.tolist()):
        assert sorted(row) == [j for j in range(5) if j != i]


def test_zero_row() -> None:
    x = random_data(n=10, d=3)
    x[7] = 0
    with pytest.raises(ValueError, match=r"zero row.*\[7\]"):
        cosine_knn_graph(x, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_row(bad: float) -> None:
    x = random_data(n=10, d=3)
    x[4, 1] = bad
    with pytest.raises(ValueError, match=r"NaN or inf.*\[4\]"):
        cosine_knn_graph(x, 2)


def test_bad_shapes_and_block_size() -> None:
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        cosine_knn_graph(np.ones(5), 1)
    with pytest.raises(ValueError, match="block_size"):
        cosine_knn_graph(random_data(n=5, d=3), 1, block_size=0)
