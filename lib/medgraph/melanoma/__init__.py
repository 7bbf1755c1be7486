"""Notebook 06: melanoma detection with multi-level superpixel graphs (Elwer, Rushdi, Annaby, 2026).

Modules: :mod:`~medgraph.melanoma.levels` (superpixel ensemble and hierarchy maps, node signals),
:mod:`~medgraph.melanoma.weights` (Gaussian and majorization-minimization learned edge weights,
pruning), :mod:`~medgraph.melanoma.graph_features` (vertex-domain and graph-Fourier features,
batched), :mod:`~medgraph.melanoma.conventional` (whole-image colour, shape and texture features),
:mod:`~medgraph.melanoma.protocol` (scaling, L1 selection and seven classifiers inside
stratified cross-validation folds).
"""
