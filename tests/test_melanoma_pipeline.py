"""Notebook 06's feature pipeline: standardisation, weights per configuration, feature shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgraph.data import make_melanoma_phantoms
from medgraph.melanoma.graph_features import gft_features, vertex_features
from medgraph.melanoma.pipeline import (
    GraphConfig,
    image_level_maps,
    level_feature_names,
    level_features,
    level_weights,
    standardise_columns,
)


def test_standardise_columns_by_hand():
    # one graph, 3 nodes: column 0 = 1, 2, 3 (mean 2, population std √(2/3)); column 1 constant
    x = torch.tensor([[[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]], dtype=torch.float64)
    z = standardise_columns(x)
    s = np.sqrt(2 / 3)
    np.testing.assert_allclose(z[0, :, 0].numpy(), [-1 / s, 0.0, 1 / s])
    assert (z[0, :, 1] == 0).all()


def test_gaussian_weights_of_standardised_x_decrease_with_distance():
    x = torch.randn(2, 9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    w = level_weights(x, GraphConfig(weighting="gaussian"))
    z = standardise_columns(x)
    d = torch.cdist(z, z)
    # literal Eq 2 with μ, σ² of the standardised X (0 and 1): exp(−d²/2)
    expected = torch.exp(-(d**2) / 2) * (1 - torch.eye(9, dtype=torch.float64))
    torch.testing.assert_close(w, expected)


def test_pruned_learned_weights_keep_the_share_asked():
    x = torch.randn(3, 10, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    w = level_weights(x, GraphConfig(weighting="learned", tau=0.5))
    edges = (torch.triu(w, diagonal=1) > 0).sum(dim=(1, 2))
    assert (edges <= 23).all()  # round(0.5 · 45) = 23 kept at most (some learned weights are 0)
    assert torch.allclose(w, w.transpose(1, 2))


def test_level_features_of_phantoms():
    data = make_melanoma_phantoms(2, seed=0, size=96)
    maps = image_level_maps(data.images, "seg", counts=(10, 20))
    config = GraphConfig(signal="texture", weighting="gaussian")
    f = level_features(maps, 1, config)
    assert f.shape == (2, 7 * 20 + 9) and np.isfinite(f).all()
    assert len(level_feature_names(20, "n=20/")) == f.shape[1]
    # the same as calling the pieces by hand for the first image
    x = torch.as_tensor(maps[0][1].signals["texture"][None], dtype=torch.float64)
    s = torch.as_tensor(maps[0][1].graph_signals["texture"][None], dtype=torch.float64)
    w = level_weights(x, config)
    by_hand = torch.cat([vertex_features(w), gft_features(w, s)], dim=1).numpy()
    np.testing.assert_allclose(f[:1], by_hand)


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match="signal"):
        GraphConfig(signal="shape")
    with pytest.raises(ValueError, match="tau"):
        GraphConfig(tau=1.0)
