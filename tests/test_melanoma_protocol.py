"""The melanoma classification protocol: metrics, in-fold scaling and selection, classifiers."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from medgraph.melanoma import protocol
from medgraph.melanoma.protocol import (
    CLASSIFIERS,
    METRICS,
    binary_metrics,
    cross_validate_features,
    make_classifiers,
    select_top_l1,
    selection_shares,
)


def test_binary_metrics_by_hand():
    # TN = 2 (rows 0, 2), FP = 1 (row 1), TP = 1 (row 3), FN = 1 (row 4)
    y_true = np.array([0, 0, 0, 1, 1])
    y_pred = np.array([0, 1, 0, 1, 0])
    score = np.array([0.1, 0.6, 0.2, 0.9, 0.3])
    got = binary_metrics(y_true, y_pred, score)
    assert got["accuracy"] == pytest.approx(3 / 5)
    assert got["specificity"] == pytest.approx(2 / 3)
    assert got["sensitivity"] == pytest.approx(1 / 2)
    # positive-negative pairs ranked right: 0.9 beats all three, 0.3 beats 0.1 and 0.2
    assert got["auc"] == pytest.approx(5 / 6)
    assert np.isnan(binary_metrics(np.zeros(3), np.zeros(3), np.zeros(3))["sensitivity"])


def test_make_classifiers_are_the_seven_and_seeded():
    models = make_classifiers(seed=3)
    assert tuple(models) == CLASSIFIERS
    assert models["RF"].random_state == 3 and models["MLP"].random_state == 3
    assert models["QDA"].reg_param > 0
    assert models["SVM"].class_weight == "balanced" and models["RF"].class_weight == "balanced"


def signal_in_first_columns(n=400, p=200, informative=5, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    X = rng.normal(size=(n, p))
    X[:, :informative] += 1.5 * y[:, None]
    return X, y


def test_selection_picks_the_informative_columns():
    X, y = signal_in_first_columns()
    np.testing.assert_array_equal(select_top_l1(X, y, k=5, seed=0), np.arange(5))


def test_selection_keeps_all_when_few_columns_and_returns_k_sorted_unique():
    X, y = signal_in_first_columns(n=100, p=8)
    np.testing.assert_array_equal(select_top_l1(X, y, k=8, seed=0), np.arange(8))
    # 30 samples cannot give 60 non-zero L1 coefficients: zeros fill up by column index
    X, y = signal_in_first_columns(n=30, p=100)
    kept = select_top_l1(X, y, k=60, seed=0)
    assert kept.shape == (60,) and np.all(np.diff(kept) > 0)


def test_selection_shares_by_hand():
    groups = ["n=20", "n=20", "n=40", "conventional"]
    shares = selection_shares(np.array([[0, 1], [1, 2]]), groups)
    assert shares == {"n=20": 0.75, "n=40": 0.25, "conventional": 0.0}
    assert list(shares) == ["n=20", "n=40", "conventional"]
    with pytest.raises(ValueError):
        selection_shares(np.array([[0, 4]]), groups)


@pytest.fixture
def recorded(monkeypatch):
    """Record the rows (by an id in column 0) that every scaler and selector is fitted on."""
    scaler_rows, scalers, selector_inputs = [], [], []

    class RecordingScaler(protocol.MinMaxScaler):
        def fit(self, X, y=None):
            scaler_rows.append(set(np.asarray(X)[:, 0].round().astype(int).tolist()))
            scalers.append(self)
            return super().fit(X, y)

    real_select = protocol.select_top_l1

    def recording_select(X, y, k=150, *, seed=0):
        selector_inputs.append((len(scalers) - 1, np.array(X, copy=True)))
        return real_select(X, y, k, seed=seed)

    monkeypatch.setattr(protocol, "MinMaxScaler", RecordingScaler)
    monkeypatch.setattr(protocol, "select_top_l1", recording_select)

    def selector_rows():
        # undo the paired scaler to read the ids back
        return [
            set(scalers[i].inverse_transform(X)[:, 0].round().astype(int).tolist())
            for i, X in selector_inputs
        ]

    return scaler_rows, selector_rows


def id_data(n=120, p=30, seed=0):
    X, y = make_classification(n, p, n_informative=4, random_state=seed)
    X[:, 0] = np.arange(n)  # the id column (also a feature)
    return X, y


def test_honest_protocol_fits_scaler_and_selector_on_training_rows_only(recorded):
    scaler_rows, selector_rows = recorded
    X, y = id_data()
    result = cross_validate_features(X, y, classifiers=["KNN"], n_splits=4, n_select=5, seed=1)
    everyone = set(range(len(y)))
    assert sorted(np.unique(result.fold_of).tolist()) == [0, 1, 2, 3]
    assert len(scaler_rows) == 4 and len(selector_rows()) == 4
    for fold, (scaled, selected) in enumerate(zip(scaler_rows, selector_rows(), strict=True)):
        test = set(np.flatnonzero(result.fold_of == fold).tolist())
        assert test and not (scaled & test) and not (selected & test)
        assert scaled == everyone - test and selected == everyone - test
    assert not result.leaky


def test_leaky_protocol_fits_them_once_on_every_row(recorded):
    scaler_rows, selector_rows = recorded
    X, y = id_data()
    result = cross_validate_features(
        X, y, classifiers=["KNN"], n_splits=4, n_select=5, seed=1, leaky=True
    )
    assert scaler_rows == [set(range(len(y)))] and selector_rows() == [set(range(len(y)))]
    assert result.leaky and (result.selected == result.selected[0]).all()


def test_the_leak_inflates_accuracy_on_pure_noise():
    # selecting 10 of 2000 noise columns with every label makes the noise look informative
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2000))
    y = np.repeat([0, 1], 40)
    kwargs = {"classifiers": ["SVM", "KNN"], "n_splits": 5, "n_select": 10, "seed": 0}
    honest = cross_validate_features(X, y, **kwargs).summary.set_index("classifier")
    leaky = cross_validate_features(X, y, leaky=True, **kwargs).summary.set_index("classifier")
    assert (honest["accuracy"] < 0.7).all()
    assert (leaky["accuracy"] > honest["accuracy"] + 0.2).all()


def test_every_classifier_learns_a_separable_problem():
    X, y = make_classification(
        240, 20, n_informative=5, class_sep=2.0, weights=[0.7], random_state=0
    )
    result = cross_validate_features(X, y, n_splits=5, n_select=10, seed=0)
    summary = result.summary.set_index("classifier")
    assert list(summary.index) == list(CLASSIFIERS)
    assert (summary["accuracy"] > 0.8).all(), summary["accuracy"]
    # the shapes and the bookkeeping of the result
    assert len(result.folds) == 7 * 5 and list(result.folds.columns[2:]) == list(METRICS)
    assert (summary["folds"] == 5).all()
    assert result.selected.shape == (5, 10) and result.selected.dtype == np.int64
    means = result.folds.groupby("classifier")["auc"].mean()
    pd.testing.assert_series_equal(summary["auc"], means[summary.index], check_names=False)
    for metric in METRICS:
        assert result.folds[metric].between(0, 1).all() and f"{metric}_std" in summary


def test_same_seed_same_result_and_parallel_folds_agree():
    X, y = id_data(n=100, p=15)
    kwargs = {"classifiers": ["RF", "AB"], "n_splits": 3, "n_select": 5, "seed": 2}
    a = cross_validate_features(X, y, **kwargs)
    b = cross_validate_features(X, y, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(a.folds, b.folds)
    np.testing.assert_array_equal(a.selected, b.selected)


def test_bad_inputs_raise_clear_errors():
    X, y = id_data(n=40, p=6)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        cross_validate_features(X_nan, y, n_splits=3)
    X_inf = X.copy()
    X_inf[0, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        cross_validate_features(X_inf, y, n_splits=3)
    with pytest.raises(ValueError, match="single class"):
        cross_validate_features(X, np.ones_like(y), n_splits=3)
    few = np.zeros_like(y)
    few[:3] = 1
    with pytest.raises(ValueError, match="fewer than n_splits"):
        cross_validate_features(X, few, n_splits=5)
    with pytest.raises(ValueError, match="0 .benign. and 1"):
        cross_validate_features(X, y + 1, n_splits=3)
    with pytest.raises(ValueError, match="unknown classifiers"):
        cross_validate_features(X, y, classifiers=["XGB"], n_splits=3)


def test_qda_shrinks_when_a_class_has_no_more_samples_than_features():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(24), np.ones(12)].astype(np.int64)
    X = rng.normal(size=(36, 40)) + 2.0 * y[:, None]  # 8 melanomas per training fold, 40 columns
    X[:, :5] = 1e80 * rng.random((36, 5))  # columns with a vast range (like 1/w path lengths)
    result = cross_validate_features(X, y, classifiers=["QDA"], n_splits=3, n_select=40)
    assert np.isfinite(result.folds[["accuracy", "auc"]].to_numpy()).all()
    assert result.summary["accuracy"].item() > 0.7
