"""Graphs built from superpixels: node features, edges, batching, and the superpixel cache.

The SMGNN paper (Jiang et al., MBE 2024, §3) turns every superpixel into a node with a
five-dimensional feature (mean RGB and mean position) and joins two superpixels of the same
image when their positions are close in the L1 sense,

    ``E_ij = 1  ⇔  |x_i − x_j| + |y_i − y_j| < α·√S``,  ``S = H·W / K``,  ``α ≥ 2``.

A batch of such graphs is one PyG :class:`~torch_geometric.data.Batch` plus the globally offset
label maps that tie nodes to pixels (the association matrix Q of §2.2, kept as a label map; see
:mod:`medgraph.superpixels.bridge`). :class:`SuperpixelBatch` holds the two together.

Over-segmentation is the expensive step, so :func:`cached_superpixels` keeps label maps on disk
keyed by a hash of the image and the parameters; features and edges are recomputed (they cost a
scatter-mean and a few distance blocks).

The package has one module per way of building a graph, and this namespace re-exports them all:

- :mod:`~medgraph.graphs.superpixel` — SMGNN node features and targets, :class:`SuperpixelBatch`
  and :func:`build_superpixel_graphs`;
- :mod:`~medgraph.graphs.radius` — the L1-radius edges (:func:`edge_threshold`,
  :func:`radius_edges`);
- :mod:`~medgraph.graphs.cache` — the on-disk superpixel cache (:func:`cached_superpixels`,
  :func:`compute_label_maps`);
- :mod:`~medgraph.graphs.affinity` — dense patch-feature affinities of per-image graph cuts
  (:func:`ncut_affinity`, :func:`cc_affinity`, :func:`dmon_adjacency`);
- :mod:`~medgraph.graphs.knn` — the blocked cosine k-nearest-neighbour graph of samples
  (embeddings as nodes) of the kNN-GCN leukemia classifier (:func:`cosine_knn_graph`,
  :class:`KnnGraph`);
- ``_inputs`` (private) — checks and conversion of the images and label maps builders receive.

Further graph builders (for example normalised-cut affinities between superpixels) are added as
further modules of this package, re-exported here.
"""

from __future__ import annotations

from medgraph.graphs.affinity import cc_affinity, dmon_adjacency, ncut_affinity, patch_gram
from medgraph.graphs.cache import cached_superpixels, compute_label_maps, superpixel_cache_key
from medgraph.graphs.knn import KnnGraph, cosine_knn_graph
from medgraph.graphs.radius import edge_threshold, radius_edges
from medgraph.graphs.superpixel import (
    SuperpixelBatch,
    build_superpixel_graphs,
    node_metric_score,
    superpixel_centroids,
    superpixel_node_features,
)

__all__ = [
    "SuperpixelBatch",
    "superpixel_node_features",
    "superpixel_centroids",
    "edge_threshold",
    "radius_edges",
    "node_metric_score",
    "build_superpixel_graphs",
    "superpixel_cache_key",
    "cached_superpixels",
    "compute_label_maps",
    "patch_gram",
    "ncut_affinity",
    "cc_affinity",
    "dmon_adjacency",
    "KnnGraph",
    "cosine_knn_graph",
]
