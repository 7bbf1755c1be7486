"""Superpixel graphs: hand-computed features, brute-force edges, batching and the label cache."""

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import medgraph.graphs as graphs
import medgraph.graphs.cache as superpixel_cache
from medgraph.graphs import (
    build_superpixel_graphs,
    cached_superpixels,
    edge_threshold,
    node_metric_score,
    radius_edges,
    superpixel_centroids,
    superpixel_node_features,
)
from medgraph.superpixels import slic
from medgraph.superpixels.bridge import class_fractions, metric_score, offset_labels

# four 2×2 superpixels on a 4×4 image
LABELS_4 = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
RED_4 = np.array(
    [[0.0, 0.4, 1.0, 1.0], [0.2, 0.2, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.1]]
)


def voronoi_labels(height: int, width: int, k: int, seed: int) -> np.ndarray:
    """Irregular hand-made label map: nearest of k random seeds, relabelled 0 … K − 1."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, [height, width], size=(k, 2))
    rows, cols = np.mgrid[0:height, 0:width]
    d = (rows[..., None] - seeds[:, 0]) ** 2 + (cols[..., None] - seeds[:, 1]) ** 2
    _, inverse = np.unique(d.argmin(-1), return_inverse=True)
    return inverse.reshape(height, width)


def brute_force_edges(labels: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Edges by an explicit double loop over node pairs on independently computed centroids."""
    k = labels.max() + 1
    cents = [np.argwhere(labels == j).mean(0) for j in range(k)]
    edges = set()
    for i in range(k):
        for j in range(k):
            if i != j:
                dist = abs(cents[i][0] - cents[j][0]) + abs(cents[i][1] - cents[j][1])
                if dist < threshold:
                    edges.add((i, j))
    return edges


def as_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.T.tolist()))


def test_node_features_by_hand():
    image = np.stack([RED_4, np.full((4, 4), 0.5), 1.0 - RED_4], -1)
    x = superpixel_node_features(image[None], LABELS_4[None])
    # mean red of the blocks: (0+.4+.2+.2)/4, 1, 0, (.5+.5+.5+.1)/4; blue is 1 − red
    # positions: block centres (0.5, 0.5), (0.5, 2.5), (2.5, 0.5), (2.5, 2.5) px
    #   → ((r + 0.5)/4, (c + 0.5)/4) = 0.25 or 0.75
    expected = torch.tensor(
        [
            [0.2, 0.5, 0.8, 0.25, 0.25],
            [1.0, 0.5, 0.0, 0.25, 0.75],
            [0.0, 0.5, 1.0, 0.75, 0.25],
            [0.4, 0.5, 0.6, 0.75, 0.75],
        ]
    )
    assert x.shape == (4, 5)
    assert torch.allclose(x, expected, atol=1e-6)
    raw = superpixel_node_features([image], [LABELS_4], normalize=False)
    assert torch.allclose(
        raw[:, 3:], torch.tensor([[0.5, 0.5], [0.5, 2.5], [2.5, 0.5], [2.5, 2.5]])
    )
    assert torch.allclose(superpixel_centroids(LABELS_4), raw[:, 3:])


def test_node_features_uint8_and_range_check():
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    image[:2, :2, 0] = 255  # block 0 pure red
    x = superpixel_node_features([image], [LABELS_4])
    assert torch.allclose(x[:, 0], torch.tensor([1.0, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        superpixel_node_features([image.astype(np.float32)], [LABELS_4])


@pytest.mark.parametrize("alpha", [2.0, 2.5, 3.7])
@pytest.mark.parametrize("kind", ["slic", "voronoi"])
def test_radius_edges_match_brute_force(alpha, kind):
    r, c = np.mgrid[0:30, 0:30] / 30  # a smooth colour pattern (SLIC merges pure noise)
    image = np.stack([0.5 + 0.4 * np.sin(6 * r + 2 * c), 0.5 + 0.4 * np.cos(5 * c), r * c], -1)
    labels = slic(image, n_segments=36) if kind == "slic" else voronoi_labels(30, 30, 25, seed=1)
    k = labels.max() + 1
    sb = build_superpixel_graphs(image[None], labels[None], alpha=alpha)
    threshold = alpha * math.sqrt(30 * 30 / k)
    expected = brute_force_edges(labels, threshold)
    assert k > 20 and len(expected) > 2 * k
    assert as_set(sb.graph.edge_index) == expected
    assert sb.graph.edge_index.shape[1] == len(expected)  # no duplicates
    assert float(sb.thresholds[0]) == pytest.approx(threshold)


def test_radius_is_strict_on_a_regular_grid():
    # 4×4 grid of 8×8 blocks: neighbours at L1 distance 8, diagonals at exactly 16 = 2·√64
    labels = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 8, 0), 8, 1)
    pos = superpixel_centroids(labels)
    edges = radius_edges(pos, None, edge_threshold(64.0, 2.0))
    assert edges.shape[1] == 2 * 24  # 24 undirected 4-neighbour pairs, both directions
    assert as_set(edges) == brute_force_edges(labels, 16.0)


def dense_radius_edges(pos, batch, radii):
    d = (pos[:, None] - pos[None]).abs().sum(-1)
    same = batch[:, None] == batch[None]
    radius = torch.as_tensor(radii, dtype=torch.float64)[batch][:, None]
    dense = (d < radius) & same & ~torch.eye(len(pos), dtype=torch.bool)
    return dense.nonzero().T


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_radius_edges_grid_search_equals_all_pairs(seed):
    # random centroids, three images with different radii, some of them on an integer lattice
    # so that many pairs lie at exactly the radius (strict inequality must exclude them)
    rng = np.random.default_rng(seed)
    sizes = [25, 40, 35]
    pos = rng.uniform(-5, 60, size=(sum(sizes), 2))
    pos[:30] = np.round(pos[:30])
    pos = torch.tensor(pos)
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    radii = [9.0, 12.0, 4.0]
    edges = radius_edges(pos, batch, radii)
    assert torch.equal(edges, dense_radius_edges(pos, batch, radii))
    assert edges.shape[1] > 100


def test_radius_edges_edge_cases():
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    assert radius_edges(pos, None, 0.0).shape == (2, 0)  # no pair is closer than 0
    assert radius_edges(pos, None, 1.0).shape == (2, 0)  # strict: distance 1 is not < 1
    assert radius_edges(pos, None, 1.5).tolist() == [[0, 1], [1, 0]]
    assert radius_edges(torch.zeros(1, 2), None, 3.0).shape == (2, 0)
    with pytest.raises(ValueError, match="thresholds"):
        radius_edges(pos, torch.tensor([0, 0, 1]), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        radius_edges(torch.tensor([[float("nan"), 0.0]]), None, 1.0)


def test_batching_two_images_offsets_nodes_and_has_no_cross_edges():
    rng = np.random.default_rng(1)
    images = [rng.random((30, 30, 3)), rng.random((30, 30, 3))]
    maps = [voronoi_labels(30, 30, 20, seed=5), voronoi_labels(30, 30, 30, seed=6)]
    sb = build_superpixel_graphs(images, maps, scale=30.0, alpha=3.0)
    k0, k1 = maps[0].max() + 1, maps[1].max() + 1
    assert sb.counts.tolist() == [k0, k1]
    assert sb.num_nodes == k0 + k1 and sb.num_graphs == 2
    assert sb.label_maps.shape == (2, 30, 30)
    assert torch.equal(sb.label_maps[1], torch.as_tensor(maps[1]).long() + k0)
    src, dst = sb.graph.edge_index
    assert torch.equal(sb.graph.batch[src], sb.graph.batch[dst])
    # each image's part equals the image built alone, shifted by the nodes before it
    for b, (img, lab) in enumerate(zip(images, maps, strict=True)):
        alone = build_superpixel_graphs([img], [lab], scale=30.0, alpha=3.0)
        part = sb.graph.get_example(b)
        assert torch.allclose(part.x, alone.graph.x)
        assert torch.equal(part.edge_index, alone.graph.edge_index)
    offset = as_set(build_superpixel_graphs([images[1]], [maps[1]], 30.0, 3.0).graph.edge_index)
    second = {(i - k0, j - k0) for i, j in as_set(sb.graph.edge_index) if i >= k0}
    assert second == offset


def test_masks_give_fractions_majority_and_scaled_score():
    rng = np.random.default_rng(2)
    labels = voronoi_labels(20, 20, 12, seed=2)
    mask = rng.integers(0, 3, size=(20, 20))
    sb = build_superpixel_graphs(rng.random((1, 20, 20, 3)), labels[None], masks=mask[None])
    fractions = class_fractions(mask, labels, 3)
    assert torch.allclose(sb.graph.fractions, fractions)
    assert torch.equal(sb.graph.y, fractions.argmax(1))
    # Eq 2.1 on the label image scaled to [0, 1]
    assert torch.allclose(sb.graph.score, metric_score(mask / 2.0, labels), atol=1e-6)
    assert torch.allclose(node_metric_score(torch.tensor([[0.25, 0.75]])), torch.tensor([0.75]))


def test_alpha_below_two_and_bad_inputs_raise():
    image = np.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match="alpha"):
        build_superpixel_graphs(image, LABELS_4[None], alpha=1.9)
    with pytest.raises(ValueError, match="alpha"):
        edge_threshold(16.0, 1.5)
    with pytest.raises(ValueError, match="one size"):
        build_superpixel_graphs(
            [np.zeros((4, 4, 3)), np.zeros((6, 4, 3))], [LABELS_4, np.zeros((6, 4), int)]
        )
    with pytest.raises(ValueError, match="non-decreasing"):
        radius_edges(torch.zeros(3, 2), torch.tensor([1, 0, 1]), 1.0)


def test_offset_labels_and_features_of_unequal_sizes():
    maps = [LABELS_4, np.zeros((2, 3), dtype=int)]
    global_maps, counts = offset_labels(maps)
    images = [np.full((4, 4, 3), 0.25), np.full((2, 3, 3), 0.75)]
    x = superpixel_node_features(images, global_maps)
    assert x.shape == (5, 5) and counts.tolist() == [4, 1]
    # the single superpixel of the 2×3 image: rows (0.5+0.5)/2, cols (1+0.5)/3
    assert torch.allclose(x[4], torch.tensor([0.75, 0.75, 0.75, 0.5, 0.5]))


def test_cache_hit_skips_the_algorithm(tmp_path: Path, monkeypatch):
    calls = []
    real = superpixel_cache.compute_superpixels

    def counting(image, method, *args, **kwargs):
        calls.append(method)
        return real(image, method, *args, **kwargs)

    monkeypatch.setattr(superpixel_cache, "compute_superpixels", counting)
    image = (np.random.default_rng(4).random((24, 24, 3)) * 255).astype(np.uint8)
    first = cached_superpixels(image, "slic", 16.0, tmp_path, compactness=10.0)
    second = cached_superpixels(image, "slic", 16.0, tmp_path, compactness=10.0)
    assert calls == ["slic"]
    assert np.array_equal(first, second) and second.dtype == first.dtype
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].endswith(".npy")  # no temporary files left
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / files[0]).stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    # another parameter or another image is another key
    cached_superpixels(image, "slic", 16.0, tmp_path, compactness=20.0)
    cached_superpixels(image[::-1].copy(), "slic", 16.0, tmp_path, compactness=10.0)
    assert len(calls) == 3
    # a corrupted entry is recomputed and replaced
    (tmp_path / files[0]).write_bytes(b"not an npy file")
    again = cached_superpixels(image, "slic", 16.0, tmp_path, compactness=10.0)
    assert len(calls) == 4 and np.array_equal(again, first)
    assert np.array_equal(
        cached_superpixels(image, "slic", 16.0, tmp_path, compactness=10.0), first
    )
    assert len(calls) == 4


def test_compute_label_maps_threads_give_the_same_maps():
    rng = np.random.default_rng(0)
    images = [(rng.random((24 + 4 * i, 30, 3)) * 255).astype(np.uint8) for i in range(4)]
    serial = graphs.compute_label_maps(images, "snic", 16.0, workers=1)
    threaded = graphs.compute_label_maps(images, "snic", 16.0, workers=3)
    assert all(np.array_equal(a, b) for a, b in zip(serial, threaded, strict=True))
    assert [m.shape for m in threaded] == [im.shape[:2] for im in images]
    with pytest.raises(ValueError, match="workers"):
        graphs.compute_label_maps(images, "snic", 16.0, workers=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_radius_edges_kdtree_search_equals_grid_search(seed):
    # the CPU's k-d tree and the grid of other devices must give the same edges, ties included:
    # images of 1, 0 (radius 0) and many nodes, half of them on an integer lattice
    from medgraph.graphs.radius import _grid_edges, _kdtree_edges

    rng = np.random.default_rng(seed)
    sizes = [1, 30, 400, 250]
    pos = rng.uniform(0, 80, size=(sum(sizes), 2))
    pos[::2] = np.round(pos[::2])
    pos = torch.tensor(pos)
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor(sizes))
    radii = torch.tensor([5.0, 0.0, 6.0, 8.0], dtype=torch.float64)
    tree = _kdtree_edges(pos, batch, radii)
    grid = _grid_edges(pos, batch, radii)
    assert torch.equal(tree, grid)
    assert torch.equal(tree, dense_radius_edges(pos, batch, radii.tolist()))
    assert tree.shape[1] > 1000
    assert not bool((batch[tree[0]] == 1).any())  # radius 0: no edges
