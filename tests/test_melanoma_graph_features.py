"""Vertex-domain and graph-Fourier features of weighted graphs: networkx references, hand cases."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import torch

from medgraph.melanoma import graph_features as gf

TOL = 1e-9


# --------------------------------------------------------------------------------------------
# graphs and networkx references
# --------------------------------------------------------------------------------------------


def random_weights(n: int, seed: int, drop: float = 0.0) -> np.ndarray:
    """(n, n) symmetric weights in (0, 1], a fraction ``drop`` of edges removed, connected."""
    rng = np.random.default_rng(seed)
    while True:
        w = np.triu(1.0 - rng.random((n, n)), 1)
        if drop:
            w *= np.triu(rng.random((n, n)) >= drop, 1)
        w = w + w.T
        if nx.is_connected(nx.from_numpy_array(w)):
            return w


def disconnected_weights() -> np.ndarray:
    """9 nodes: a complete 5-node block, a 3-node path, an isolated node (8)."""
    rng = np.random.default_rng(7)
    w = np.zeros((9, 9))
    block = np.triu(1.0 - rng.random((5, 5)), 1)
    w[:5, :5] = block + block.T
    w[5, 6] = w[6, 5] = 0.7
    w[6, 7] = w[7, 6] = 0.2
    return w


def tie_weights(n: int = 9, seed: int = 3) -> np.ndarray:
    """Weights in {0.5, 1, 2} (lengths 2, 1, 0.5: exact sums), ~30% of edges removed: many ties."""
    rng = np.random.default_rng(seed)
    while True:
        w = np.triu(rng.choice([0.5, 1.0, 2.0], size=(n, n)) * (rng.random((n, n)) > 0.3), 1)
        w = w + w.T
        if nx.is_connected(nx.from_numpy_array(w)):
            return w


GRAPHS = {
    "complete6": random_weights(6, 0),
    "complete9": random_weights(9, 1),
    "complete12": random_weights(12, 2),
    "pruned7": random_weights(7, 3, drop=0.4),
    "pruned10": random_weights(10, 4, drop=0.4),
    "pruned12": random_weights(12, 5, drop=0.4),
    "ties9": tie_weights(),
    "disconnected9": disconnected_weights(),
}
CONNECTED = [k for k in GRAPHS if not k.startswith("disconnected")]


def nx_graph(w: np.ndarray) -> nx.Graph:
    g = nx.from_numpy_array(w)
    for _, _, data in g.edges(data=True):
        data["length"] = 1.0 / data["weight"]
    return g


def nx_local_efficiency(g: nx.Graph) -> np.ndarray:
    """Per node: Σ 1/d over ordered pairs of the neighbours' induced subgraph / (k (k − 1))."""
    out = []
    for i in sorted(g):
        nbrs = list(g[i])
        k = len(nbrs)
        if k < 2:
            out.append(0.0)
            continue
        sub = g.subgraph(nbrs)
        dist = nx.all_pairs_dijkstra_path_length(sub, weight="length")
        total = sum(1.0 / d for a, row in dist for b, d in row.items() if a != b)
        out.append(total / (k * (k - 1)))
    return np.array(out)


def reachable_distances(g: nx.Graph) -> dict[int, dict[int, float]]:
    return {a: dict(row) for a, row in nx.all_pairs_dijkstra_path_length(g, weight="length")}


def nx_reference(w: np.ndarray) -> dict[str, np.ndarray | float]:
    """Every feature from networkx; Ecc and CPL from Dijkstra where networkx raises."""
    g = nx_graph(w)
    n = len(w)
    nodes = range(n)
    sp = reachable_distances(g)
    connected = nx.is_connected(g)
    if connected:
        ecc = nx.eccentricity(g, sp=dict(nx.shortest_path_length(g, weight="length")))
        cpl = nx.average_shortest_path_length(g, weight="length")
    else:  # ours: over reachable nodes / pairs
        ecc = {a: max(sp[a].values()) for a in nodes}
        pairs = [d for a in nodes for b, d in sp[a].items() if a != b]
        cpl = sum(pairs) / len(pairs)
    lcc = nx.clustering(g, weight="weight")
    bc = nx.betweenness_centrality(g, weight="length", normalized=True)
    cc = nx.closeness_centrality(g, distance="length")
    strength = dict(g.degree(weight="weight"))
    return {
        "LE": nx_local_efficiency(g),
        "LCC": np.array([lcc[i] for i in nodes]),
        "NS": np.array([strength[i] for i in nodes]),
        "NBC": np.array([bc[i] for i in nodes]),
        "CC": np.array([cc[i] for i in nodes]),
        "Ecc": np.array([ecc[i] for i in nodes], dtype=float),
        "CPL": cpl,
        "GE": sum(1.0 / d for a in nodes for b, d in sp[a].items() if a != b) / (n * (n - 1)),
        "GCC": nx.average_clustering(g, weight="weight"),
        "D": nx.density(g),
        "GA": nx.degree_assortativity_coefficient(g, weight="weight"),
    }


@pytest.fixture(scope="module")
def references() -> dict[str, dict[str, np.ndarray | float]]:
    return {name: nx_reference(w) for name, w in GRAPHS.items()}


@pytest.fixture(scope="module")
def features() -> dict[str, np.ndarray]:
    return {name: gf.vertex_features(torch.from_numpy(w)).numpy() for name, w in GRAPHS.items()}


# --------------------------------------------------------------------------------------------
# vertex-domain features against networkx
# --------------------------------------------------------------------------------------------

PIECES = {
    "LE": gf.local_efficiency,
    "LCC": gf.clustering,
    "NS": gf.node_strength,
    "NBC": gf.betweenness,
    "CC": gf.closeness,
    "Ecc": gf.eccentricity,
    "CPL": gf.characteristic_path_length,
    "GE": gf.global_efficiency,
    "GCC": gf.average_clustering,
    "D": gf.density,
    "GA": gf.assortativity,
}


@pytest.mark.parametrize("graph", list(GRAPHS))
@pytest.mark.parametrize("feature", list(PIECES))
def test_piece_matches_networkx(graph: str, feature: str, references: dict) -> None:
    ours = PIECES[feature](torch.from_numpy(GRAPHS[graph])).numpy()
    np.testing.assert_allclose(ours, references[graph][feature], rtol=0, atol=TOL)


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_vertex_features_layout_matches_networkx(
    graph: str, references: dict, features: dict
) -> None:
    n = len(GRAPHS[graph])
    ref = references[graph]
    expected = np.concatenate(
        [ref[b] for b in gf.VERTEX_BLOCKS] + [np.array([ref[g] for g in gf.GLOBAL_FEATURES])]
    )
    got = features[graph]
    assert got.shape == (6 * n + 5,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    names = gf.vertex_feature_names(n)
    assert len(names) == 6 * n + 5
    assert names[0] == "LE_0" and names[n] == "LCC_0" and names[6 * n - 1] == f"Ecc_{n - 1}"
    assert names[-5:] == ["CPL", "GE", "GCC", "D", "GA"]


def test_larger_complete_graph_divide_and_conquer() -> None:
    """A 33-node complete graph: six recursion levels of the G − i divide and conquer."""
    w = random_weights(33, 11)
    ours = gf.local_efficiency(torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(ours, nx_local_efficiency(nx_graph(w)), rtol=0, atol=TOL)


def test_complete_and_masked_local_efficiency_agree() -> None:
    """The two exact paths (G − i by divide and conquer; per-neighbourhood FW) agree."""
    w = torch.from_numpy(np.stack([random_weights(13, s) for s in range(3)]))
    ell = gf.edge_lengths(w)
    fast = gf._local_efficiency_complete(ell)
    masked = gf._local_efficiency_masked(ell, w > 0)
    torch.testing.assert_close(fast, masked, rtol=0, atol=1e-12)


def test_shortest_path_counts_match_networkx() -> None:
    w = GRAPHS["ties9"]
    d, sigma = gf.shortest_path_counts(torch.from_numpy(w))
    g = nx_graph(w)
    assert float(sigma.max()) > 1  # the case really has ties
    for s in range(len(w)):
        for t in range(len(w)):
            if s == t:
                assert sigma[s, t] == 0 and d[s, t] == 0
                continue
            ref = len(list(nx.all_shortest_paths(g, s, t, weight="length")))
            assert sigma[s, t] == ref
            assert math.isclose(float(d[s, t]), nx.dijkstra_path_length(g, s, t, "length"))


def test_hand_case_strength_density_betweenness() -> None:
    """4-cycle 0–1–2–3–0 with unit weights plus a weak chord 0–2 (weight 1/4, length 4).

    Strengths: NS = (1 + 1 + 1/4, 1 + 1, 1 + 1 + 1/4, 1 + 1) = (2.25, 2, 2.25, 2).
    Density: 5 edges of 4·3/2 = 6 possible → 5/6.
    Betweenness of node 1: only the pair {0, 2} can pass through it (distance 2, via 1 or via
    3; the chord has length 4), so 1 of 2 shortest paths: 1/2 per unordered pair. Over ordered
    pairs 2 · 1/2 = 1, normalised by (n − 1)(n − 2) = 6 → 1/6. The same for node 3 (pair
    {0, 2}); nodes 0 and 2 lie on half the paths of {1, 3} → 1/6 each.
    """
    w = np.zeros((4, 4))
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        w[a, b] = w[b, a] = 1.0
    w[0, 2] = w[2, 0] = 0.25
    t = torch.from_numpy(w)
    torch.testing.assert_close(gf.node_strength(t), torch.tensor([2.25, 2.0, 2.25, 2.0]).double())
    assert float(gf.density(t)) == pytest.approx(5 / 6, abs=1e-15)
    assert float(gf.betweenness(t)[1]) == pytest.approx(1 / 6, abs=1e-15)
    torch.testing.assert_close(gf.betweenness(t), torch.full((4,), 1 / 6, dtype=torch.float64))


def test_regular_graph_assortativity_is_zero() -> None:
    """Equal strengths at every edge end: Pearson 0/0, defined as 0 (networkx gives NaN)."""
    w = np.ones((5, 5)) - np.eye(5)
    assert float(gf.assortativity(torch.from_numpy(w))) == 0.0


def test_batch_equals_one_at_a_time_and_chunks() -> None:
    names = ["complete12", "pruned12"]
    w = torch.from_numpy(np.stack([GRAPHS[k] for k in names] * 2))
    batch = gf.vertex_features(w, chunk_size=3)
    assert batch.dtype == torch.float64 and batch.shape == (4, 6 * 12 + 5)
    for i in range(4):
        torch.testing.assert_close(batch[i], gf.vertex_features(w[i]), rtol=0, atol=1e-12)
    torch.testing.assert_close(batch, gf.vertex_features(w, chunk_size=1), rtol=0, atol=1e-12)
    s = torch.from_numpy(np.random.default_rng(0).standard_normal((4, 12)))
    fb = gf.gft_features(w, s, chunk_size=3)
    assert fb.dtype == torch.float64 and fb.shape == (4, 12 + 4)
    for i in range(4):
        torch.testing.assert_close(fb[i], gf.gft_features(w[i], s[i]), rtol=0, atol=1e-12)


def test_float32_input_gives_float64() -> None:
    w = torch.from_numpy(GRAPHS["pruned7"]).float()
    assert gf.vertex_features(w).dtype == torch.float64
    assert gf.shortest_paths(w).dtype == torch.float64


def test_invalid_weights_raise() -> None:
    w = GRAPHS["complete6"].copy()
    w[0, 1] += 0.1
    with pytest.raises(ValueError, match="symmetric"):
        gf.vertex_features(w)
    with pytest.raises(ValueError, match="non-negative"):
        gf.vertex_features(-GRAPHS["complete6"])
    with pytest.raises(ValueError, match="shape"):
        gf.vertex_features(np.zeros((2, 3)))


# --------------------------------------------------------------------------------------------
# graph Fourier features
# --------------------------------------------------------------------------------------------


def test_gft_parseval_and_names() -> None:
    w = torch.from_numpy(np.stack([GRAPHS["complete9"], random_weights(9, 8, drop=0.4)]))
    s = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 9)))
    f = gf.gft_features(w, s)
    torch.testing.assert_close(f[:, 9], (s**2).sum(-1), rtol=1e-12, atol=0)  # energy
    torch.testing.assert_close(f[:, 10], (s**2).sum(-1) / 9, rtol=1e-12, atol=0)  # power
    torch.testing.assert_close(f[:, 12], f[:, :9].amax(-1))  # amplitude
    torch.testing.assert_close(f[:, :9], gf.gft(w, s).abs())
    p = f[:, :9] ** 2 / f[:, 9:10]
    torch.testing.assert_close(f[:, 11], -(p * p.log()).sum(-1))  # entropy
    names = gf.gft_feature_names(9)
    assert (
        len(names) == 13
        and names[0] == "GFT_0"
        and names[-4:]
        == [
            "GFT_energy",
            "GFT_power",
            "GFT_entropy",
            "GFT_amplitude",
        ]
    )


def test_gft_two_node_hand_case() -> None:
    """L = [[w, −w], [−w, w]]: eigenvalues 0 and 2w, eigenvectors (1, 1)/√2 and (1, −1)/√2."""
    wt, s1, s2 = 0.3, 2.0, -1.0
    w = torch.tensor([[0.0, wt], [wt, 0.0]], dtype=torch.float64)
    lam, _ = gf.graph_fourier_basis(w)
    torch.testing.assert_close(lam, torch.tensor([0.0, 2 * wt], dtype=torch.float64))
    f = gf.gft_features(w, torch.tensor([s1, s2], dtype=torch.float64))
    c0, c1 = abs(s1 + s2) / math.sqrt(2), abs(s1 - s2) / math.sqrt(2)
    e = s1**2 + s2**2
    p0, p1 = c0**2 / e, c1**2 / e
    expected = [c0, c1, e, e / 2, -(p0 * math.log(p0) + p1 * math.log(p1)), max(c0, c1)]
    torch.testing.assert_close(f, torch.tensor(expected, dtype=torch.float64))


def test_gft_constant_signal_entropy_zero_and_zero_signal() -> None:
    w = torch.from_numpy(GRAPHS["pruned10"])
    f = gf.gft_features(w, torch.full((10,), 3.0, dtype=torch.float64))
    assert abs(float(f[12])) < 1e-12  # all energy at frequency 0
    assert float(f[13]) == pytest.approx(3.0 * math.sqrt(10), rel=1e-12)  # |ŝ_0| = 3 √n
    zero = gf.gft_features(w, torch.zeros(10, dtype=torch.float64))
    assert torch.equal(zero, torch.zeros(14, dtype=torch.float64))


def test_gft_channels_share_the_basis() -> None:
    w = torch.from_numpy(GRAPHS["complete6"])
    s = torch.from_numpy(np.random.default_rng(2).standard_normal((6, 3)))
    f = gf.gft_features(w, s)
    assert f.shape == (3, 10)
    for c in range(3):
        torch.testing.assert_close(f[c], gf.gft_features(w, s[:, c]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    w = torch.from_numpy(np.stack([GRAPHS["complete12"], GRAPHS["pruned12"]]))
    s = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 12)))
    cpu = torch.cat([gf.vertex_features(w), gf.gft_features(w, s)], 1)
    gpu = torch.cat([gf.vertex_features(w.cuda()), gf.gft_features(w.cuda(), s.cuda())], 1)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-10)


def test_betweenness_stays_a_share_when_path_counts_overflow():
    """Edge lengths 1/w spanning hundreds of orders of magnitude make sums of lengths tie at
    float64 resolution, and the number of tied paths overflows float64; betweenness is then
    computed from log-counts, each pair's share capped at 1."""
    from medgraph.melanoma.graph_features import _count_paths, _lengths, betweenness

    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 3)) * 3.0
    w = np.exp(-30.0 * ((x[:, None] - x[None]) ** 2).sum(-1))
    np.fill_diagonal(w, 0.0)
    t = torch.as_tensor(w)[None]
    _, sigma = _count_paths(_lengths(t))
    assert not torch.isfinite(sigma).all()  # the case the fallback exists for
    b = betweenness(t)
    assert torch.isfinite(b).all() and b.min() >= 0 and b.max() <= 1
    assert torch.isfinite(gf.vertex_features(t)).all()
