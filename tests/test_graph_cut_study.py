"""Notebook 04's scoring, store recipe and study: honest choices, hand-checked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from medgraph.data import make_lesion_phantoms
from medgraph.graphcut.evaluation import (
    bootstrap_interval,
    choose_epoch,
    score_assignments,
    score_masks,
)
from medgraph.graphcut.recipe import GRAPH_CUT, GraphCutRequest, GraphCutSettings, run_graph_cuts
from medgraph.options import RunOptions
from medgraph.store import read_entry
from medgraph.studies import get_study
from medgraph.studies.unsupervised_graph_cuts import (
    parse_combinations,
    seed_comparison,
    summary_row,
    validation_split,
)


def test_score_masks_by_hand():
    truth = np.zeros((2, 4), bool)
    truth[0, :2] = True  # 2 foreground pixels of 8
    pred = np.zeros((2, 2, 4), bool)
    pred[0, 0, :3] = True  # 3 predicted, 2 right: IoU 2/3, Dice 4/5
    pred[1] = ~pred[0]  # the complement: 5 predicted, 0 right
    s = score_masks(pred, truth)
    np.testing.assert_allclose(s["iou"], [2 / 3, 0.0])
    np.testing.assert_allclose(s["dice"], [0.8, 0.0])
    # the oracle takes the better of the mask and its complement
    np.testing.assert_allclose(s["iou_oracle"], [2 / 3, 2 / 3])
    np.testing.assert_allclose(s["dice_oracle"], [0.8, 0.8])
    np.testing.assert_allclose(s["foreground_share"], [3 / 8, 5 / 8])
    empty = score_masks(np.zeros((1, 2, 4), bool), np.zeros((2, 4), bool))
    assert empty["iou"][0] == 1.0 and empty["dice"][0] == 1.0


def test_scores_never_use_the_mask_to_choose_the_foreground():
    # a 4 x 4 patch grid: cluster 1 is the central 2 x 2 block
    lab = np.zeros((4, 4), np.uint8)
    lab[1:3, 1:3] = 1
    assignments = lab.reshape(1, 1, 16)
    centre = np.zeros((8, 8), bool)
    centre[2:6, 2:6] = True
    right = score_assignments(assignments, (4, 4), [centre])
    wrong = score_assignments(assignments, (4, 4), [~centre])  # a mask favouring the border
    assert right["iou"][0, 0] == 1.0
    assert wrong["iou"][0, 0] == 0.0  # the honest choice did not follow the mask
    assert wrong["iou_oracle"][0, 0] == 1.0  # the oracle did


def test_choose_epoch_and_bootstrap():
    scores = np.array([[0.1, 0.5, 0.5], [0.3, 0.5, 0.4]])
    assert choose_epoch(scores, [10, 20, 30]) == (20, 1)
    with pytest.raises(ValueError):
        choose_epoch(scores[:0], [10, 20, 30])
    lo, hi = bootstrap_interval(np.array([0.2, 0.4, 0.6, 0.8]), n=4000, seed=1)
    assert lo < 0.5 < hi and lo >= 0.2 and hi <= 0.8
    assert bootstrap_interval(np.full(5, 0.3)) == pytest.approx((0.3, 0.3))


def test_validation_split_is_seeded_and_disjoint():
    val, scored = validation_split(10, 0.2, seed=3)
    assert len(val) == 2 and len(scored) == 8 and not set(val) & set(scored)
    assert np.array_equal(validation_split(10, 0.2, seed=3)[0], val)
    with pytest.raises(ValueError):
        validation_split(1, 0.2, 0)
    with pytest.raises(ValueError, match="unknown combination"):
        parse_combinations(["cc/arma"])


def test_recipe_round_trip_through_the_store(tmp_path):
    data = make_lesion_phantoms(3, seed=2, size=48)
    settings = GraphCutSettings(epochs=4, eval_every=2, size=64, batch_size=2)
    opts = RunOptions(device="cpu", progress=False, result_cache=tmp_path, stores=())
    first = run_graph_cuts("test", "ncut", "gcn", data, settings, 0, opts)
    assert first.assignments.shape == (3, 2, 64) and first.grid == (8, 8)
    assert first.eval_epochs.tolist() == [2, 4]
    (entry,) = tmp_path.glob("ncut_gcn-seed0-*.pt")
    fields = read_entry(entry).fields
    assert fields["recipe"] == "graph_cut" and fields["hyperparameters"]["loss"] == "ncut"
    again = run_graph_cuts("test", "ncut", "gcn", data, settings, 0, opts)
    assert again.provenance["from_cache"] == entry.name
    np.testing.assert_array_equal(again.assignments, first.assignments)
    other = GRAPH_CUT.key("test", GraphCutRequest("dmon", "gcn", data, settings, 0))
    assert other.digest != read_entry(entry).key


def test_summary_row_chooses_on_validation_and_labels_the_optimistic_protocol():
    iou = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]])
    scores = {
        "iou": iou,
        "dice": iou,
        "iou_oracle": np.maximum(iou, 0.5),
        "dice_oracle": np.maximum(iou, 0.5),
        "foreground_share": iou,
    }
    row = summary_row("ncut/gcn", scores, [10, 20], np.array([0, 1]), np.array([2, 3]), 200)
    # chosen on validation (images 0, 1 prefer epoch 10), scored on images 2, 3
    assert row["epoch (chosen on validation)"] == 10
    assert row["IoU"] == pytest.approx(0.1)
    assert row["optimistic epoch"] == 20  # the best epoch on the scored images
    assert row["optimistic IoU (oracle flip, best test epoch)"] == pytest.approx(0.9)
    table = seed_comparison([row], "emds5", "real", "colour_texture")
    assert table.loc[0, "seed's IoU (published)"] == 0.642  # EMDS-6 NCut + GCN
    assert table.loc[0, "verdict"] == "not reproduced (ours higher)"
    assert "emds6" in table.loc[0, "note"] and "DINO" in table.loc[0, "note"]
    phantom = seed_comparison([row], "isic2016", "phantom", "dino_vits8")
    assert phantom.loc[0, "verdict"].startswith("not comparable")


def test_the_study_lists_one_piece_per_combination():
    study = get_study("unsupervised_graph_cuts")
    params = {
        "dataset": "emds5",
        "data_source": "phantom",
        "data_root": None,
        "n_phantoms": 3,
        "seed": 0,
        "max_images": None,
        "combinations": ["ncut/gcn", "cc/gat"],
        "epochs": 2,
        "eval_every": 1,
        "k": 2,
        "hidden": 8,
        "lr": 1e-3,
        "alpha": 5.0,
        "tau": 0.7,
        "features": "colour_texture",
        "feature_options": {},
        "image_size": 64,
        "patch": 8,
        "batch_size": 4,
    }
    pieces, data = study.pieces(params)
    assert [p.label for p in pieces] == ["ncut/gcn", "cc/gat"] and len(data) == 3
    assert study.trains
