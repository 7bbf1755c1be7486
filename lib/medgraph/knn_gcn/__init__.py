"""Notebook 05: leukemia (and white-cell) classification with a kNN graph of samples and a GCN.

Reproduces the seed study "Leukemia Classifier Using Graph Neural Networks" (C-NMC 2019): a
ResNet-18 embeds every cell image (:mod:`~medgraph.knn_gcn.backbone`, stored per split by
:mod:`~medgraph.knn_gcn.recipe`), a cosine kNN graph links similar cells
(:func:`medgraph.graphs.knn.cosine_knn_graph`), and a two-layer GCN classifies the nodes, against
an SVM on the same embeddings and the CNN alone (:mod:`~medgraph.knn_gcn.classifiers`), under
the splits and the leakage guard of :mod:`~medgraph.knn_gcn.protocol`.
"""

from medgraph.knn_gcn.protocol import (
    LeakageError,
    Split,
    check_no_leakage,
    fold_splits,
    group_holdout_split,
    holdout_split,
    stratified_partition,
)

__all__ = [
    "LeakageError",
    "Split",
    "check_no_leakage",
    "fold_splits",
    "group_holdout_split",
    "holdout_split",
    "stratified_partition",
]
