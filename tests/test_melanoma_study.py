"""Notebook 06's feature extraction (cache, chunks), its stored cross-validations and its study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medgraph.data import make_melanoma_phantoms
from medgraph.melanoma import extraction
from medgraph.melanoma.extraction import (
    CONVENTIONAL,
    FeaturePlan,
    GraphSet,
    block_feature_names,
    block_name,
    chunk_features,
    extract_features,
    parse_block,
)
from medgraph.melanoma.levels import image_levels
from medgraph.melanoma.pipeline import GraphConfig, level_features
from medgraph.melanoma.recipe import MELANOMA_CV, CVRequest, CVSettings
from medgraph.options import RunOptions
from medgraph.studies import melanoma_graphs as study

PLAN = FeaturePlan(
    seg_counts=(4, 8),
    shg_counts=(8, 4),
    graph_sets=(
        GraphSet("seg", "colour", "gaussian"),
        GraphSet("seg", "colour", "learned", (0.0, 0.5)),
        GraphSet("shg", "texture", "learned"),
    ),
)


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    return list(make_melanoma_phantoms(5, seed=3, size=64).images)


def test_block_names_round_trip_and_name_their_columns():
    name = block_name("seg", "colour", "learned", 0.25, 100)
    assert name == "seg/colour/learned/tau25/n=100"
    assert parse_block(name) == {
        "kind": "seg",
        "signal": "colour",
        "weighting": "learned",
        "tau": 0.25,
        "n": 100,
    }
    assert len(block_feature_names(name)) == 7 * 100 + 9
    assert len(block_feature_names(CONVENTIONAL)) == 151
    with pytest.raises(ValueError, match="not a block name"):
        parse_block("seg/colour")


def test_the_paper_plan_holds_every_table_s_blocks():
    blocks = FeaturePlan.paper().blocks()
    assert len(blocks) == len(set(blocks)) == 6 * 5 + 3 * 5 + 3 * 5 + 1
    assert "seg/colour/learned/tau75/n=100" in blocks and "shg/geometric/learned/tau0/n=5" in blocks
    assert "seg/colour/gaussian/tau50/n=20" not in blocks  # only learned colour graphs are pruned


def test_chunk_blocks_equal_the_pipeline_per_level(images):
    blocks = chunk_features(images, PLAN)
    assert set(blocks) == set(PLAN.blocks())
    maps = [image_levels(im, "seg", PLAN.seg_counts) for im in images]
    for tau in (0.0, 0.5):  # the pruned block prunes the same learned weights
        expected = level_features(maps, 1, GraphConfig("colour", "learned", tau))
        got = blocks[block_name("seg", "colour", "learned", tau, 8)]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(
        blocks["seg/colour/learned/tau0/n=8"], blocks["seg/colour/learned/tau50/n=8"]
    )
    for name, values in blocks.items():
        assert values.shape == (len(images), len(block_feature_names(name))), name
        assert values.dtype == np.float64 and np.isfinite(values).all(), name


def test_features_do_not_depend_on_the_chunks_and_the_cache_is_read(images, tmp_path, monkeypatch):
    one = extract_features(images, PLAN, cache=tmp_path, chunk_size=2)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    whole = extract_features(images, PLAN, cache=None, chunk_size=5)
    for name in PLAN.blocks():
        np.testing.assert_allclose(one[name], whole[name], rtol=1e-9, atol=1e-9)

    def refuse(*args, **kwargs):
        raise AssertionError("computed again although cached")

    monkeypatch.setattr(extraction, "chunk_features", refuse)
    again = extract_features(images, PLAN, cache=tmp_path, chunk_size=2)
    assert all(np.array_equal(again[n], one[n]) for n in PLAN.blocks())


def test_a_damaged_cache_chunk_is_computed_again(images, tmp_path):
    first = extract_features(images[:2], PLAN, cache=tmp_path, chunk_size=2)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip file")
    again = extract_features(images[:2], PLAN, cache=tmp_path, chunk_size=2)
    assert all(np.array_equal(again[n], first[n]) for n in PLAN.blocks())


def _request(X: np.ndarray, y: np.ndarray, **settings) -> CVRequest:
    widths = {"a": 3, "b": X.shape[1] - 3}
    blocks = ("a", "b")

    def features(names):
        return X

    return CVRequest(
        "toy",
        blocks,
        y,
        features,
        CVSettings(n_splits=3, n_select=4, **settings),
        0,
        "f" * 64,
        {"delta": 1.0},
        n_jobs=1,
    ), widths


def test_a_cross_validation_survives_its_payload(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30), np.ones(15)].astype(np.int64)
    X = rng.normal(size=(45, 6)) + y[:, None]
    request, widths = _request(X, y, classifiers=("SVM", "KNN"))
    monkeypatch.setattr("medgraph.melanoma.recipe.block_feature_names", lambda b: ["x"] * widths[b])
    run = MELANOMA_CV.train(request, RunOptions(progress=False))
    back = MELANOMA_CV.from_payload(MELANOMA_CV.to_payload(run), request, RunOptions())
    pd.testing.assert_frame_equal(back.result.summary, run.result.summary, check_dtype=False)
    np.testing.assert_array_equal(back.result.selected, run.result.selected)
    np.testing.assert_array_equal(back.result.fold_of, run.result.fold_of)
    assert back.blocks == ("a", "b") and back.widths == (3, 3)
    assert back.column_groups() == ["a"] * 3 + ["b"] * 3
    assert run.result.summary["accuracy"].min() > 0.6  # a separable toy problem


def test_the_key_holds_what_changes_a_run_and_not_how_it_runs():
    X, y = np.zeros((9, 6)), np.r_[np.zeros(6), np.ones(3)].astype(np.int64)
    base, _ = _request(X, y)
    digest = MELANOMA_CV.key("s", base).digest
    import dataclasses

    same = dataclasses.replace(base, n_jobs=4)
    assert MELANOMA_CV.key("s", same).digest == digest
    for changed in (
        dataclasses.replace(base, blocks=("a",)),
        dataclasses.replace(base, settings=CVSettings(n_splits=3, n_select=4, leaky=True)),
        dataclasses.replace(base, graph_settings={"delta": 2.0}),
        dataclasses.replace(base, seed=1),
    ):
        assert MELANOMA_CV.key("s", changed).digest != digest


PARAMS = dict(
    seg_counts=[20, 40, 60, 80, 100], shg_counts=[80, 40, 20, 10, 5], taus=[0.25, 0.5, 0.75]
)


def test_the_study_s_feature_sets_cover_the_paper_s_tables():
    sets = study.feature_sets(PARAMS)
    names = [s.name for s in sets]
    assert len(names) == len(set(names)) == 6 * 6 + 3 + 3 * 6 + 2
    for table in (1, 2, 3, 4, 5, 6, 8, 9, 10):
        assert len([s for s in sets if table in s.tables]) == 6, table
    assert {s.level for s in sets if 11 in s.tables} == {"fused", "τ=25%", "τ=50%", "τ=75%"}
    fused = next(s for s in sets if s.name == "seg_texture_learned_tau0_fused")
    assert fused.blocks[-1] == CONVENTIONAL and len(fused.blocks) == 6
    (leaky,) = [s for s in sets if s.leaky]
    assert leaky.blocks == fused.blocks and leaky.name == fused.name + "_leaky"
    single = next(s for s in sets if s.name == "shg_colour_learned_tau0_n5")
    assert single.blocks == ("shg/colour/learned/tau0/n=5",)


@pytest.mark.parametrize(
    ("ours", "std", "paper", "expected"),
    [
        (0.90, 0.03, 0.91, "reproduced"),  # 2 SE = 0.019
        (0.90, 0.03, 0.925, "not reproduced (ours lower)"),
        (0.90, 0.0, 0.909, "reproduced"),  # the 0.01 floor
        (0.95, 0.0, 0.93, "not reproduced (ours higher)"),
    ],
)
def test_the_verdict_rule_on_hand_cases(ours, std, paper, expected):
    assert study.verdict(ours, std, 10, paper, comparable=True) == expected
    assert study.verdict(ours, std, 10, paper, comparable=False).startswith("not comparable")
    assert study.verdict(ours, std, 10, float("nan"), True) == "no published value"


def _long(rows):
    return pd.DataFrame(rows)


def test_paper_comparison_matches_the_right_configuration():
    rows = []
    for weighting, value in (("gaussian", 0.5), ("learned", 0.7)):
        for level, tau in (("n=20", 0.0), ("fused", 0.0), ("τ=50%", 0.5)):
            rows.append(
                dict(
                    set="x",
                    kind="seg",
                    signal="geometric",
                    weighting=weighting,
                    tau=tau,
                    level=level,
                    leaky=False,
                    classifier="SVM",
                    metric="accuracy",
                    ours=value,
                    ours_std=0.0,
                    folds=10,
                )
            )
    long = _long(rows)
    table4 = study.paper_comparison(long, 4, comparable=True)  # learned, geometric
    got = table4[(table4["classifier"] == "SVM") & (table4["metric"] == "accuracy")]
    assert set(got.loc[got["level"].isin(["n=20", "fused"]), "ours"]) == {0.7}
    assert got.loc[got["level"] == "n=40", "verdict"].item() == "not run"
    table1 = study.paper_comparison(long, 1, comparable=True)  # handcrafted, geometric
    assert set(table1["ours"].dropna()) == {0.5}
    wide = study.table_wide(table1)
    assert list(wide.columns[:2]) == ["level", "metric"] and "(paper 0.959)" in wide.iloc[0]["SVM"]


def test_the_shares_of_selected_features_sum_to_one(monkeypatch):
    from medgraph.melanoma.protocol import CVResult
    from medgraph.melanoma.recipe import CVRun

    sets = study.feature_sets(PARAMS)
    fs = next(s for s in sets if s.name == "seg_colour_gaussian_tau0_fused")
    widths = tuple(len(block_feature_names(b)) for b in fs.blocks)
    selected = np.array([[0, 1, sum(widths) - 1], [149, 150, 151]])  # n=20 has 149 columns
    result = CVResult(pd.DataFrame(), pd.DataFrame(), selected, np.zeros(3, np.int64), False)
    table = study.selection_table({fs.name: CVRun(result, fs.blocks, widths, 0.0)}, sets)
    shares = dict(zip(table["group"], table["share"], strict=True))
    assert shares == pytest.approx(
        {
            "n=20": 2 / 6,
            "n=40": 3 / 6,
            "n=60": 0.0,
            "n=80": 0.0,
            "n=100": 0.0,
            "conventional": 1 / 6,
        }
    )


def test_melanoma_labels_need_a_melanoma_class():
    data = make_melanoma_phantoms(6, seed=0, size=32)
    y = study.melanoma_labels(data)
    assert (
        set(np.unique(y)) <= {0, 1}
        and y.sum() == (np.asarray(data.labels) == list(data.class_names).index("melanoma")).sum()
    )


def test_a_cache_chunk_with_non_finite_values_is_computed_again(images, tmp_path):
    first = extract_features(images[:2], PLAN, cache=tmp_path, chunk_size=2)
    (path,) = tmp_path.glob("*.npz")
    stale = {k: v.copy() for k, v in first.items()}
    stale[CONVENTIONAL][0, 0] = np.nan  # as chunks written before the betweenness fallback
    extraction._write_chunk(path, stale)
    again = extract_features(images[:2], PLAN, cache=tmp_path, chunk_size=2)
    assert all(np.array_equal(again[n], first[n]) for n in PLAN.blocks())
