"""Notebook 05's protocol, leakage guard, scores, backbone and study helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from medgraph.knn_gcn import LeakageError, check_no_leakage
from medgraph.knn_gcn.backbone import (
    BackboneSettings,
    _weighted_loss,
    balanced_epoch,
    train_backbone,
)
from medgraph.knn_gcn.classifiers import (
    GCNSettings,
    classification_scores,
    evaluate_split,
    fit_gcn,
    fit_svm,
)
from medgraph.knn_gcn.protocol import (
    Split,
    fold_splits,
    group_holdout_split,
    holdout_split,
)
from medgraph.studies.leukemia_knn_gcn import (
    choose_neighbours,
    make_splits,
    results_table,
    seed_comparison,
)

# -- protocols ----------------------------------------------------------------------------------


def _labels(counts: list[int]) -> np.ndarray:
    return np.concatenate([np.full(n, c) for c, n in enumerate(counts)]).astype(np.int64)


def test_holdout_split_is_stratified_disjoint_and_complete():
    labels = _labels([50, 30, 3])
    split = holdout_split(labels, test_fraction=0.2, val_fraction=0.25, seed=1)
    parts = [split.train, split.val, split.test]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(labels.size))
    # per class: round(0.2 · n) to test, then round(0.25 · rest) to validation
    assert np.bincount(labels[split.test]).tolist() == [10, 6, 1]
    assert np.bincount(labels[split.val]).tolist() == [10, 6, 1]
    # the rare class (3 members) is on every side
    assert np.bincount(labels[split.train], minlength=3).tolist() == [30, 18, 1]
    again = holdout_split(labels, test_fraction=0.2, val_fraction=0.25, seed=1)
    assert np.array_equal(again.test, split.test)
    other = holdout_split(labels, test_fraction=0.2, val_fraction=0.25, seed=2)
    assert not np.array_equal(other.test, split.test)


def test_official_folds_are_the_test_parts():
    labels = _labels([6, 6])
    folds = np.array([0, 1, 2] * 4)
    splits = fold_splits(labels, folds, val_fraction=0.25, seed=0)
    assert [s.name for s in splits] == ["fold0", "fold1", "fold2"]
    for f, s in enumerate(splits):
        assert np.array_equal(s.test, np.flatnonzero(folds == f))
        assert not np.isin(s.fitted, s.test).any()
        assert np.array_equal(np.sort(np.concatenate([s.fitted, s.test])), np.arange(12))


def test_patient_split_keeps_every_patient_on_one_side():
    rng = np.random.default_rng(0)
    groups = np.repeat([f"P{i}" for i in range(20)], 5)
    labels = np.repeat(np.arange(20) % 2, 5)  # a patient is ALL or healthy
    order = rng.permutation(labels.size)
    split = group_holdout_split(labels[order], groups[order], seed=3)
    sides = [set(groups[order][part]) for part in (split.train, split.val, split.test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert sum(map(len, sides)) == 20


def test_a_split_refuses_a_node_on_two_sides():
    with pytest.raises(LeakageError, match="in both train and test"):
        Split("bad", np.array([0, 1]), np.array([2]), np.array([1, 3]))
    with pytest.raises(ValueError, match="the val part is empty"):
        Split("bad", np.array([0, 1]), np.array([], dtype=np.int64), np.array([3]))


# -- the leakage guard (§4 of the issue) --------------------------------------------------------


def _toy_split() -> tuple[np.ndarray, Split]:
    labels = _labels([10, 10])
    return labels, holdout_split(labels, seed=0)


def test_the_guard_fires_on_a_visible_test_label():
    labels, split = _toy_split()
    given = split.visible_labels(labels)
    assert (given[split.test] == -1).all() and (given[split.fitted] == labels[split.fitted]).all()
    check_no_leakage(split, labels_given=given)  # the right labels pass
    with pytest.raises(LeakageError, match="include 1 test node"):
        leaked = given.copy()
        leaked[split.test[0]] = labels[split.test[0]]
        check_no_leakage(split, labels_given=leaked)
    emb = np.random.default_rng(0).normal(size=(labels.size, 8))
    with pytest.raises(LeakageError):
        fit_svm(emb, labels, split)  # every label, test ones included
    with pytest.raises(LeakageError):
        fit_gcn(emb, labels, split, GCNSettings(k=3, epochs=2), n_classes=2)


def test_the_guard_fires_on_a_backbone_trained_on_a_test_image():
    labels, split = _toy_split()
    check_no_leakage(split, backbone_trained_on=split.train)
    with pytest.raises(LeakageError, match="trained on 1 test image"):
        check_no_leakage(split, backbone_trained_on=np.append(split.train, split.test[0]))


# -- scores -------------------------------------------------------------------------------------


def test_binary_scores_by_hand():
    # y = [0, 0, 1, 1, 1]; scores of class 1: 0.1, 0.6, 0.4, 0.8, 0.9 → predictions 0 1 0 1 1
    y = np.array([0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.6, 0.4, 0.8, 0.9])
    s = classification_scores(y, np.stack([1 - p1, p1], axis=1), 2)
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert s["precision"] == pytest.approx(2 / 3)  # of ALL (class 1): TP 2, FP 1
    assert s["recall"] == pytest.approx(2 / 3)  # TP 2, FN 1
    assert s["f1"] == pytest.approx(2 / 3)
    # AUC: of the 2 × 3 (negative, positive) pairs, the positive ranks higher in 5
    assert s["roc_auc"] == pytest.approx(5 / 6)


def test_multiclass_scores_are_macro_averages():
    y = np.array([0, 0, 1, 2])
    proba = np.eye(3)[[0, 1, 1, 2]]  # one class-0 cell called class 1
    s = classification_scores(y, proba, 3)
    assert s["accuracy"] == pytest.approx(3 / 4)
    # precision per class 1, 1/2, 1; recall 1/2, 1, 1
    assert s["precision"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert s["recall"] == pytest.approx((0.5 + 1 + 1) / 3)


def test_validation_loss_is_the_mean_of_per_class_means():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.0]])
    y = torch.tensor([0, 1, 1, 1])
    per = F.cross_entropy(logits, y, reduction="none")
    expected = (per[0] + per[1:].mean()) / 2
    assert float(_weighted_loss(logits, y, 2)) == pytest.approx(float(expected))
    # a class absent from y is left out (3 classes declared, 2 present)
    assert float(_weighted_loss(torch.cat([logits, torch.zeros(4, 1)], 1), y, 3)) == (
        pytest.approx(
            float(
                F.cross_entropy(
                    torch.cat([logits, torch.zeros(4, 1)], 1),
                    y,
                    weight=torch.tensor([2.0, 2 / 3, 0.0]),
                )
            )
        )
    )


def test_balanced_epoch_draws_every_class_equally_likely():
    labels = _labels([1000, 100, 60])
    train = np.arange(1100)  # the last 60 (class 2) are not training nodes
    order = balanced_epoch(labels, train, np.random.default_rng(0))
    assert order.size == 1100 and np.isin(order, train).all()
    counts = np.bincount(labels[order], minlength=3)
    # 1100 draws, each class with probability ½: binomial std 16.6, so ±83 is 5 std
    assert abs(counts[0] - 550) < 83 and abs(counts[1] - 550) < 83 and counts[2] == 0
    # the rare class is drawn with replacement, so its members repeat
    assert np.unique(order[labels[order] == 1]).size <= 100


# -- the backbone on a tiny set -----------------------------------------------------------------


def test_a_tiny_backbone_trains_on_its_split_only_and_embeds_every_cell():
    from medgraph.data.registry import cell_phantoms
    from medgraph.models.cell_augment import prepare_cells

    data = cell_phantoms(16, seed=0)
    split = holdout_split(data.labels, seed=0, test_fraction=0.25, val_fraction=0.25)
    settings = BackboneSettings(epochs=2, batch_size=4, size=16, pretrained=None)
    run = train_backbone(
        prepare_cells(data.images, 16), data.labels, split, settings, n_classes=2, seed=0
    )
    assert np.array_equal(run.trained_on, split.train)
    assert np.array_equal(run.validated_on, split.val)
    assert run.embeddings.shape == (16, 512) and np.isfinite(run.embeddings).all()
    np.testing.assert_allclose(run.cnn_probabilities.sum(1), 1.0, atol=1e-5)
    assert 1 <= run.best_epoch <= 2 and run.weights_used == "random-init"
    assert run.best_epoch == int(np.argmin(run.val_loss)) + 1  # chosen on validation
    result = evaluate_split(run, data.labels, split, GCNSettings(k=3, epochs=5), n_classes=2)
    assert set(result.scores) == {"SVM", "CNN", "CNN + GCN"}
    import dataclasses

    leaky = dataclasses.replace(run, trained_on=np.union1d(run.trained_on, split.test[:1]))
    with pytest.raises(LeakageError):
        evaluate_split(leaky, data.labels, split, GCNSettings(k=3, epochs=5), n_classes=2)


# -- study helpers ------------------------------------------------------------------------------


def test_make_splits_skips_patients_when_every_cell_is_its_own_group():
    class Data:
        labels = _labels([9, 9])
        folds = np.full(18, -1)
        groups = np.array([f"cell{i}" for i in range(18)])

        def __len__(self) -> int:
            return 18

    params = {
        "seeds": [0, 1],
        "protocols": ["holdout", "folds", "patients"],
        "test_fraction": 0.2,
        "val_fraction": 0.2,
    }
    names = [(p, s.name, seed) for p, s, seed in make_splits(params, Data())]
    assert names == [
        ("holdout", "holdout0", 0),
        ("holdout", "holdout1", 1),
        ("folds", "fold0", 0),
        ("folds", "fold1", 0),
        ("folds", "fold2", 0),
    ]
    Data.groups = np.repeat([f"P{i}" for i in range(6)], 3)
    assert [p for p, _, _ in make_splits(params, Data())][-1] == "patients"


def test_choose_neighbours_reads_validation_only_and_breaks_ties_low():
    sweep = pd.DataFrame(
        {
            "n_neighbours": [5, 5, 10, 10, 20, 20],
            "val_f1": [0.7, 0.8, 0.75, 0.75, 0.6, 0.6],
            "test_f1": [0.1, 0.1, 0.1, 0.1, 0.99, 0.99],  # never read
        }
    )
    assert choose_neighbours(sweep) == 5  # 0.75 = 0.75: the smaller k


def test_seed_comparison_rule():
    class R:
        def __init__(self, model: str, acc: float, auc: float, n_test: int) -> None:
            self.scores = {
                model: {"accuracy": acc, "precision": 0, "recall": 0, "f1": 0, "roc_auc": auc}
            }
            self.split = Split("s", np.arange(2), np.arange(2, 4), np.arange(4, 4 + n_test))

    # one split each, so the binomial error of the accuracy: SVM 2·√(0.79·0.21/2000) = 0.018,
    # CNN 2·√(0.7·0.3/2000) = 0.020; the seed's SVM 0.774 / 0.78, CNN 0.829 / 0.80
    table = results_table([R("SVM", 0.79, 0.77, 2000), R("CNN", 0.70, 0.80, 2000)], "holdout")
    assert table["test cells"].tolist() == [2000, 2000]
    real = seed_comparison(table, "cnmc2019", "real").set_index("model")["verdict"]
    assert real["SVM"] == "reproduced"  # |0.79 − 0.774| ≤ 0.02 and |0.77 − 0.78| ≤ 0.02
    assert real["CNN"] == "not reproduced (ours lower)"
    # ten test cells: 2·√(0.79·0.21/10) = 0.26 > 0.05, whatever the means
    small = results_table([R("SVM", 0.774, 0.78, 10)], "holdout")
    assert seed_comparison(small, "cnmc2019", "real")["verdict"][0].startswith("inconclusive")
    other = seed_comparison(table, "bccd", "real")["verdict"]
    assert other.str.startswith("not comparable").all()
