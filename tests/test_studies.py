"""The studies and the study core: plans, the registry, data, seeds aggregated by hand, a tiny
comparison through the result cache, node embeddings."""

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medgraph.data import make_wbc_phantoms
from medgraph.embeddings import metric_target_fit, node_embeddings
from medgraph.metrics import SEGMENTATION_METRICS, aggregate_over_seeds
from medgraph.options import RunOptions
from medgraph.parameters import notebook_defaults
from medgraph.runs import load_config, merge_parameters
from medgraph.segmentation import (
    SegmentationConfig,
    compare_segmentation_models,
    load_segmentation_data,
)
from medgraph.studies import STUDIES, Study, StudyGroup, get_study, study_names
from medgraph.studies.metric_learning import (
    claim_with_loss,
    differ_beyond_seeds,
    embedding_measures,
    mean_sd,
    variant_key,
)
from medgraph.studies.metric_learning import plan as metric_learning_plan
from medgraph.studies.smgnn_vs_baselines import (
    classifies_cell_types,
    keeps_all_predictions,
    summarize_evidence,
    validation_evidence,
)
from medgraph.studies.smgnn_vs_baselines import plan as smgnn_vs_baselines_plan
from medgraph.training import split_indices

ROOT = Path(__file__).resolve().parents[1]


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


def test_aggregate_over_seeds_one_seed_has_no_spread():
    one = scores_frame().query("seed == 0")
    table, _ = aggregate_over_seeds(one, metrics=["dice"])
    assert table.loc[0, "dice_3cls_mean"] == pytest.approx(0.75)
    assert np.isnan(table.loc[0, "dice_3cls_std"]) and table.loc[0, "n_seeds"] == 1
    assert "dice" in SEGMENTATION_METRICS and "hd95" in SEGMENTATION_METRICS


def test_tiny_comparison_through_the_cache_and_embeddings(tmp_path):
    ds = make_wbc_phantoms(10, seed=3, style="wbc1", size=48)
    splits = split_indices(len(ds), (0.6, 0.2, 0.2), seed=0)
    config = {"epochs": 2, "batch_size": 4, "baseline_options": {"base": 4, "depth": 2}}
    variants = {"smgnn": ("smgnn", {}), "no metric": ("smgnn", {"lam": 0.0}), "unet": ("unet", {})}
    options = RunOptions(device="cpu", progress=False, result_cache=tmp_path, stores=())
    runs, scores = compare_segmentation_models("test", ds, variants, [0], splits, config, options)
    assert set(runs) == {("smgnn", 0), ("no metric", 0), ("unet", 0)}
    assert set(scores["model"]) == {"smgnn", "no metric", "unet"}
    assert len(scores) == 3 * len(splits[2]) * 3  # variants × test images × classes
    assert not any(run.provenance.get("from_cache") for run in runs.values())
    assert len(list(tmp_path.glob("*.pt"))) == 3
    table, _ = aggregate_over_seeds(scores, runs)
    assert list(table["model"]) == ["smgnn", "no metric", "unet"]
    assert table["dice_3cls_mean"].between(0, 1).all()
    # asked again, every run comes from the cache with the same scores
    again, rescored = compare_segmentation_models(
        "test", ds, variants, [0], splits, config, options
    )
    assert all(run.provenance["from_cache"].endswith(".pt") for run in again.values())
    pd.testing.assert_frame_equal(
        rescored.drop(columns="seconds_per_epoch"), scores.drop(columns="seconds_per_epoch")
    )
    # another study asking for the same model is another run (the study is part of the key)
    other, _ = compare_segmentation_models(
        "other", ds, ["unet"], [0], splits, config, options.replace(result_cache=None)
    )
    assert not other[("unet", 0)].provenance.get("from_cache")
    with pytest.raises(ValueError, match="at least one model and one seed"):
        compare_segmentation_models("test", ds, [], [0], splits, config, options)

    emb, labels = node_embeddings(runs[("smgnn", 0)], ds, splits[2])
    assert emb.ndim == 2 and emb.shape[0] == labels.shape[0] > 0
    assert np.isfinite(emb).all() and set(np.unique(labels)) <= {0, 1, 2}
    emb2, labels2, node_scores = node_embeddings(
        again[("smgnn", 0)], ds, splits[2], return_scores=True
    )
    np.testing.assert_allclose(emb2, emb, atol=1e-6)  # the cached model embeds alike
    np.testing.assert_array_equal(labels2, labels)
    assert node_scores.shape == labels.shape
    assert node_scores.min() >= 0 and node_scores.max() <= 1
    # 𝒴 = f₁/2 + f₂ for class fractions f: a background-majority node (f₀ ≥ f₂) scores at
    # most 1/2 (f₀ = f₂ = 1/2), a nucleus-majority node (f₂ ≥ f₀) at least 1/2
    assert node_scores[labels == 0].max() <= 0.5 + 1e-6
    assert (labels == 2).any() and node_scores[labels == 2].min() >= 0.5 - 1e-6
    # the class-aware target's input: fractions that sum to 1, whose arg-max is the label
    # (ties aside) and from which 𝒴 follows (Eq 2.1 scaled: Σ_c f_c·c/2)
    *_, scores3, fractions = node_embeddings(
        runs[("smgnn", 0)], ds, splits[2], return_scores=True, return_fractions=True
    )
    assert fractions.shape == (labels.shape[0], 3)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(fractions @ np.array([0.0, 0.5, 1.0]), scores3, atol=1e-5)
    top = fractions.max(axis=1)
    assert (fractions[np.arange(len(labels)), labels] >= top - 1e-6).all()
    with pytest.raises(ValueError, match="not a graph model"):
        node_embeddings(runs[("unet", 0)], ds, splits[2])
    # the validation evidence of settings reads kept runs only, and shows an untried one as such
    evidence = validation_evidence(
        ds,
        splits,
        SegmentationConfig.from_any(config),
        {
            "kept": {"study": "test"},
            "no metric": {"study": "test", "lam": 0.0, "seeds": [0, 1]},
            "untried": {"study": "test", "epochs": 3},
            "another study's": {},  # the same training asked for by this study: not kept
        },
        [0],
        options,
    )
    assert evidence["setting"].tolist() == [
        "kept",
        "no metric",
        "no metric",
        "untried",
        "another study's",
    ]
    assert evidence["validation Dice"].iloc[0] == runs[("smgnn", 0)].history.best_score
    assert evidence["validation Dice"].iloc[1] == runs[("no metric", 0)].history.best_score
    assert evidence["best epoch"].iloc[0] == runs[("smgnn", 0)].history.best_epoch + 1
    assert evidence["entry"].iloc[0].startswith("smgnn-seed0-")
    assert evidence["entry"].tolist()[2:] == ["to train"] * 3
    assert evidence["validation Dice"].iloc[2:].isna().all()
    assert len(list(tmp_path.glob("*.pt"))) == 3  # nothing trained
    summary = summarize_evidence(evidence)
    assert summary["setting"].tolist() == ["kept", "no metric", "untried", "another study's"]
    assert summary["seeds kept"].tolist() == ["1 of 1", "1 of 2", "0 of 1", "0 of 1"]
    assert summary["per seed"].iloc[1].endswith("1: not kept")
    best = max(evidence["validation Dice"].iloc[:2])
    assert summary["highest of its model"].tolist() == [
        evidence["validation Dice"].iloc[0] == best,
        evidence["validation Dice"].iloc[1] == best,
        False,
        False,
    ]
    # notebook 03's measures of one model: both target fits on the same embeddings
    measures = embedding_measures(runs[("smgnn", 0)], ds, splits[2], n_pairs=300, seed=0)
    np.testing.assert_array_equal(measures["labels"], labels)
    np.testing.assert_allclose(measures["fractions"], fractions)
    assert measures["fit_literal"] == metric_target_fit(emb, scores3, n_pairs=300, seed=0)
    assert measures["fit_class"] == metric_target_fit(emb, fractions, n_pairs=300, seed=0)
    assert measures["fit_class"]["target_var"] != measures["fit_literal"]["target_var"]
    assert -1 <= measures["separation"]["silhouette"] <= 1


# --------------------------------------------------------------------------------------------
# the studies
# --------------------------------------------------------------------------------------------


def test_the_registry_finds_every_study_by_its_name():
    assert set(study_names()) == {
        "superpixel_scale",
        "smgnn_vs_baselines",
        "metric_learning_umap",
        "unsupervised_graph_cuts",
        "leukemia_knn_gcn",
        "melanoma_graphs",
    }
    for name, study in STUDIES.items():
        assert isinstance(study, Study) and study.name == name and study.title
        module = importlib.import_module(study.plan.__module__)
        assert module.STUDY is study and module.STUDY_NAME == name
    assert get_study("smgnn_vs_baselines").split_seed == "split_seed"
    assert get_study("metric_learning_umap").split_seed == "seed"
    with pytest.raises(KeyError, match="unknown study 'smgnn'.*'smgnn_vs_baselines'"):
        get_study("smgnn")


def test_smgnn_vs_baselines_plan():
    params = {
        "models": ["smgnn", "unet"],
        "seeds": [0, 2],
        "epochs": 300,
        "config": {"cnn_dilation": [1, 2, 4], "progress": False},
        "baseline_size": "small",
        "run_ablations": False,
    }
    plan = smgnn_vs_baselines_plan(params)
    assert get_study("smgnn_vs_baselines").plan is smgnn_vs_baselines_plan
    assert list(plan) == ["comparison"]
    comp = plan["comparison"]
    assert isinstance(comp, StudyGroup) and comp.name == "comparison"
    assert comp.variants == {"smgnn": ("smgnn", {}), "unet": ("unet", {})}
    assert comp.seeds == (0, 2) and comp.config.epochs == 300
    assert comp.config.cnn_dilation == [1, 2, 4]  # the option `progress` is left out
    with pytest.raises(KeyError, match="ablation_seed"):
        smgnn_vs_baselines_plan({**params, "run_ablations": True})
    plan = smgnn_vs_baselines_plan(
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
    assert list(plan) == ["comparison", "lambda", "gnn", "scale"]
    assert tuple(plan) == get_study("smgnn_vs_baselines").groups
    lam = plan["lambda"]
    assert lam.variants == {"λ = 0": ("smgnn", {"lam": 0.0}), "λ = 10": ("smgnn", {"lam": 10.0})}
    # the ablations keep the shared settings but their own budget and seed
    assert lam.seeds == (7,) and lam.config.epochs == 150
    assert lam.config.cnn_dilation == [1, 2, 4]
    assert plan["gnn"].variants == {"smgnn_gcn": ("smgnn_gcn", {})}
    scale = plan["scale"].variants
    assert len(scale) == 8
    assert scale["pure GNN + metric, S = 256"] == ("pure_gnn", {"scale": 256.0, "lam": 0.1})
    assert scale["SMGNN, S = 4"] == ("smgnn", {"scale": 4.0, "lam": 0.0})


def test_metric_learning_plans_notebook_03s_runs():
    params = {"lambdas": [0.1, 0.0], "seed": 2, "epochs": 5, "config": {"batch_size": 4}}
    plan = metric_learning_plan(params)
    assert get_study("metric_learning_umap").plan is metric_learning_plan
    assert list(plan) == ["metric"] == list(get_study("metric_learning_umap").groups)
    group = plan["metric"]
    assert group.variants == {"λ = 0.1": ("smgnn", {"lam": 0.1}), "λ = 0": ("smgnn", {"lam": 0.0})}
    assert group.seeds == (2,) and group.config.epochs == 5 and group.config.batch_size == 4
    # the class-aware reading is one more variant; seeds replace the one seed for every variant
    both = metric_learning_plan({**params, "class_lambdas": [0.1], "seeds": [0, 1, 2]})["metric"]
    assert list(both.variants) == ["λ = 0.1", "λ = 0", "λ = 0.1, class target"]
    assert both.variants["λ = 0.1, class target"] == (
        "smgnn",
        {"lam": 0.1, "metric_target": "class"},
    )
    assert both.seeds == (0, 1, 2)
    # the literal variants keep the configs (and so the keys) they had without the new option
    for label in ("λ = 0.1", "λ = 0"):
        assert both.variants[label] == group.variants[label]
    with pytest.raises(ValueError, match="distinct"):
        metric_learning_plan({**params, "lambdas": [0.1, 0.1]})
    with pytest.raises(ValueError, match="distinct"):
        metric_learning_plan({**params, "seeds": [1, 1]})
    with pytest.raises(ValueError, match="must not hold 0"):
        metric_learning_plan({**params, "class_lambdas": [0.0]})
    with pytest.raises(KeyError, match="epochs"):
        metric_learning_plan({"lambdas": [0.1], "seed": 0, "config": {}})


def test_metric_learning_keys_and_seed_rules():
    assert variant_key({"lam": 0.1}) == "lambda_0.1"  # the key notebook 03 always wrote
    assert variant_key({"lam": 0}) == "lambda_0.0"
    assert variant_key({"lam": 0.1, "metric_target": "class"}) == "lambda_0.1_class"
    assert variant_key({"lam": 0.1, "metric_target": "literal"}) == "lambda_0.1"
    mean, sd = mean_sd([0.90, 0.92, 0.94])
    assert mean == pytest.approx(0.92) and sd == pytest.approx(0.02)  # sample SD (ddof = 1)
    one = mean_sd([0.5])
    assert one[0] == 0.5 and np.isnan(one[1])
    with pytest.raises(ValueError):
        mean_sd([])
    # beyond the seed spread: every seed of one above every seed of the other
    assert differ_beyond_seeds([0.90, 0.91, 0.92], [0.93, 0.95, 0.94]) is True
    assert differ_beyond_seeds([0.93, 0.95], [0.90, 0.92]) is True
    assert differ_beyond_seeds([0.90, 0.93, 0.92], [0.925, 0.95, 0.94]) is False
    assert differ_beyond_seeds([0.90], [0.95, 0.96]) is None
    # the claim "higher with the metric loss": the mean and, with 2+ seeds each, every seed
    beyond = ", beyond the seed spread (every seed above every seed without)"
    assert claim_with_loss([0.7, 0.75], [0.1, 0.3], "higher", "silhouette") == (
        "reproduced",
        "higher" + beyond,
    )
    assert claim_with_loss([0.5, 0.9], [0.4, 0.6], "higher", "silhouette") == (
        "not reproduced (silhouette 0.700 with, 0.500 without, within the seed spread)",
        "higher" + beyond,
    )
    assert claim_with_loss([0.2], [0.5], "higher", "gap") == (
        "not reproduced (gap 0.200 with, 0.500 without)",
        "higher",
    )
    # a floor: a gap must also be positive
    assert claim_with_loss([-0.1], [-0.3], "higher", "gap", floor=0.0)[0].startswith(
        "not reproduced (gap -0.100 with, -0.300 without)"
    )


def test_superpixel_scale_trains_nothing():
    study = get_study("superpixel_scale")
    assert study.plan({"dataset": "wbc1"}) == {} and study.split_seed is None
    with pytest.raises(ValueError, match="trains nothing"):
        study.data_and_splits({"dataset": "wbc1"})


def test_data_and_splits_are_seeded_by_the_studys_parameter(monkeypatch):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    study = get_study("metric_learning_umap")
    params = {"dataset": "wbc1", "data_source": "phantom", "data_root": None, "n_phantoms": 5}
    data, splits = study.data_and_splits({**params, "seed": 4})
    ref, ref_splits = load_segmentation_data("wbc1", "phantom", None, 5, split_seed=4)
    assert data.source == "phantom" and len(data) == 5 and data.ids == ref.ids
    assert all(np.array_equal(a, b) for a, b in zip(data.images, ref.images, strict=True))
    assert [s.tolist() for s in splits] == [s.tolist() for s in ref_splits]
    other, _ = study.data_and_splits({**params, "seed": 5})
    assert not np.array_equal(other.images[0], data.images[0])
    with pytest.raises(KeyError, match=r"needs the parameters \['seed'\]"):
        study.data_and_splits(params)


def test_classifies_cell_types_default_follows_the_labels():
    # None: only dataset-2 has cell-type labels; an explicit choice wins either way
    assert classifies_cell_types(None, "wbc2") is True
    assert classifies_cell_types(None, "wbc1") is False
    assert classifies_cell_types(False, "wbc2") is False
    assert classifies_cell_types(True, "wbc1") is True


def test_keeps_all_predictions_of_the_runs_the_classifier_needs():
    wbc2 = {"dataset": "wbc2", "run_classification": None, "seeds": [3, 4]}
    assert get_study("smgnn_vs_baselines").keeps_all_predictions is keeps_all_predictions
    # the comparison's first seed, when the notebook classifies cell types
    assert keeps_all_predictions(wbc2, "comparison", 3) is True
    assert keeps_all_predictions(wbc2, "comparison", 4) is False
    assert keeps_all_predictions(wbc2, "lambda", 3) is False
    assert keeps_all_predictions({**wbc2, "dataset": "wbc1"}, "comparison", 3) is False
    assert keeps_all_predictions({**wbc2, "run_classification": False}, "comparison", 3) is False


# --------------------------------------------------------------------------------------------
# the declared runs and their studies
# --------------------------------------------------------------------------------------------

CONFIG = load_config(ROOT / "papermill_runs.yaml")


@pytest.mark.parametrize("run", CONFIG["runs"], ids=lambda r: r["name"])
def test_every_declared_run_names_the_study_its_notebook_uses(run):
    study = get_study(run.get("study", "(none)"))  # KeyError: a missing or unknown study
    notebook = ROOT / run["notebook"]
    source = notebook.with_suffix(".py").read_text(encoding="utf-8")
    defaults = notebook_defaults(notebook)
    plans = {}
    for profile in run.get("profiles") or CONFIG["profiles"]:
        params = merge_parameters(
            defaults,
            (CONFIG["profiles"][profile] or {}).get("parameters") or {},
            run.get("parameters") or {},
            (run.get("profiles") or {}).get(profile) or {},
        )
        plans[profile] = study.plan(params)
        assert set(plans[profile]) <= set(study.groups), (run["name"], profile)
    if any(plans.values()):
        # a study that trains is the one the notebook imports and asks the store for
        module = study.plan.__module__
        assert f"from {module} import" in source, f"{notebook.name} does not use {module}"
