"""Orchestration: seeds aggregated by hand, a tiny end-to-end comparison, node embeddings."""

import numpy as np
import pandas as pd
import pytest

from medgraph.data import make_wbc_phantoms
from medgraph.experiments import (
    aggregate_over_seeds,
    classifies_cell_types,
    compare_segmentation_models,
    node_embeddings,
)
from medgraph.training import split_indices


def scores_frame():
    rows = []
    # model A, seed 0: image x has dice 0.9/0.8/0.6 for classes 0/1/2, image y 1.0/0.7/0.5
    # model A, seed 1: every value 0.1 higher
    for seed, shift in [(0, 0.0), (1, 0.1)]:
        for image, values in [("x", [0.9, 0.8, 0.6]), ("y", [1.0, 0.7, 0.5])]:
            for c, v in enumerate(values):
                rows.append(
                    {
                        "model": "A",
                        "seed": seed,
                        "image": image,
                        "class_index": c,
                        "class_name": "bcn"[c],
                        "dice": v + shift,
                        "parameters": 10,
                        "seconds_per_epoch": 1.0 + seed,
                    }
                )
    return pd.DataFrame(rows)


def test_aggregate_over_seeds_by_hand():
    table, per_seed = aggregate_over_seeds(scores_frame(), metrics=["dice"])
    s0 = per_seed[per_seed.seed == 0].iloc[0]
    # three-class: image x (0.9+0.8+0.6)/3 = 0.7667, image y 0.7333 → 0.75; cells: (0.7+0.6)/2=0.65
    assert s0["dice_3cls"] == pytest.approx(0.75)
    assert s0["dice_cell"] == pytest.approx(0.65)
    row = table.iloc[0]
    assert row["dice_3cls_mean"] == pytest.approx(0.80)  # seeds 0.75 and 0.85
    # sample std (ddof=1) of 0.75 and 0.85: sqrt(2 · 0.05² / 1) = 0.0707
    assert row["dice_3cls_std"] == pytest.approx(0.05 * 2**0.5)
    assert row["dice_cell_mean"] == pytest.approx(0.70)
    assert row["n_seeds"] == 2 and row["parameters"] == 10
    assert row["seconds_per_epoch"] == pytest.approx(1.5)


def test_tiny_comparison_and_embeddings():
    ds = make_wbc_phantoms(10, seed=3, style="wbc1", size=48)
    splits = split_indices(len(ds), (0.6, 0.2, 0.2), seed=0)
    config = {
        "epochs": 2,
        "batch_size": 4,
        "progress": False,
        "baseline_options": {"base": 4, "depth": 2},
    }
    variants = {"smgnn": ("smgnn", {}), "no metric": ("smgnn", {"lam": 0.0}), "unet": ("unet", {})}
    runs, scores = compare_segmentation_models(ds, variants, [0], splits, config, device="cpu")
    assert set(runs) == {("smgnn", 0), ("no metric", 0), ("unet", 0)}
    assert set(scores["model"]) == {"smgnn", "no metric", "unet"}
    assert len(scores) == 3 * len(splits[2]) * 3  # variants × test images × classes
    table, _ = aggregate_over_seeds(scores, runs)
    assert list(table["model"]) == ["smgnn", "no metric", "unet"]
    assert table["dice_3cls_mean"].between(0, 1).all()
    emb, labels = node_embeddings(runs[("smgnn", 0)], ds, splits[2])
    assert emb.ndim == 2 and emb.shape[0] == labels.shape[0] > 0
    assert np.isfinite(emb).all() and set(np.unique(labels)) <= {0, 1, 2}
    emb2, labels2, node_scores = node_embeddings(
        runs[("smgnn", 0)], ds, splits[2], return_scores=True
    )
    np.testing.assert_array_equal(emb2, emb)
    np.testing.assert_array_equal(labels2, labels)
    assert node_scores.shape == labels.shape
    assert node_scores.min() >= 0 and node_scores.max() <= 1
    # 𝒴 = f₁/2 + f₂ for class fractions f: a background-majority node (f₀ ≥ f₂) scores at
    # most 1/2 (f₀ = f₂ = 1/2), a nucleus-majority node (f₂ ≥ f₀) at least 1/2
    assert node_scores[labels == 0].max() <= 0.5 + 1e-6
    assert (labels == 2).any() and node_scores[labels == 2].min() >= 0.5 - 1e-6
    with pytest.raises(ValueError, match="not a graph model"):
        node_embeddings(runs[("unet", 0)], ds, splits[2])


def test_segmentation_study_plan():
    from medgraph.experiments import segmentation_study

    params = {
        "models": ["smgnn", "unet"],
        "seeds": [0, 2],
        "epochs": 300,
        "config": {"cnn_dilation": [1, 2, 4]},
        "baseline_size": "small",
        "run_ablations": False,
    }
    study = segmentation_study(params)
    assert list(study) == ["comparison"]
    comp = study["comparison"]
    assert comp.variants == {"smgnn": ("smgnn", {}), "unet": ("unet", {})}
    assert comp.seeds == (0, 2) and comp.config.epochs == 300
    assert comp.config.cnn_dilation == [1, 2, 4]
    with pytest.raises(KeyError, match="ablation_seed"):
        segmentation_study({**params, "run_ablations": True})
    study = segmentation_study(
        {
            **params,
            "run_ablations": True,
            "ablation_seed": 7,
            "ablation_epochs": 150,
            "ablation_lambdas": [0.0, 10.0],
            "ablation_gnns": ["smgnn_gcn"],
            "ablation_scales": [4, 256],
        }
    )
    assert list(study) == ["comparison", "lambda", "gnn", "scale"]
    lam = study["lambda"]
    assert lam.variants == {"λ = 0": ("smgnn", {"lam": 0.0}), "λ = 10": ("smgnn", {"lam": 10.0})}
    # the ablations keep the shared settings but their own budget and seed
    assert lam.seeds == (7,) and lam.config.epochs == 150
    assert lam.config.cnn_dilation == [1, 2, 4]
    scale = study["scale"].variants
    assert len(scale) == 8
    assert scale["pure GNN + metric, S = 256"] == ("pure_gnn", {"scale": 256.0, "lam": 0.1})
    assert scale["SMGNN, S = 4"] == ("smgnn", {"scale": 4.0, "lam": 0.0})


def test_classifies_cell_types_default_follows_the_labels():
    # None: only dataset-2 has cell-type labels; an explicit choice wins either way
    assert classifies_cell_types(None, "wbc2") is True
    assert classifies_cell_types(None, "wbc1") is False
    assert classifies_cell_types(False, "wbc2") is False
    assert classifies_cell_types(True, "wbc1") is True
