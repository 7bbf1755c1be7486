"""The melanoma paper's classification protocol, with scaling and selection inside the folds.

Elwer, Rushdi and Annaby (2026, §5-6) scale every feature to [0, 1], keep the 150 features that an
L1-regularised logistic regression ranks highest, and score seven classifiers (SVM, KNN, QDA, RF,
GB, AdaBoost, MLP) by stratified 10-fold cross-validation: accuracy, specificity, sensitivity and
AUC. The paper does not say where the scaler and the selector are fitted; fitting them on all
samples lets every test fold shape its own features (a leak). Here both are fitted on the training
part of each fold (:func:`cross_validate_features`); ``leaky=True`` fits them once on all samples
instead, labelled as such, to measure what the leak is worth.

Class balance: the paper balanced ISIC 2017 (491 melanomas in 2600 images) with 300 extra archive
melanomas, which are not available here. Instead, the estimators that take class weights are
weighted by inverse class frequency: ``class_weight="balanced"`` for the SVM, the random forest and
the L1 selector, balanced sample weights for gradient boosting, AdaBoost and the MLP (whose ``fit``
takes ``sample_weight`` since scikit-learn 1.7). KNN and QDA have no weighting (QDA keeps the
training class frequencies as priors).

Labels are 0 (benign) and 1 (melanoma, the positive class): sensitivity is the recall of 1,
specificity the recall of 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.covariance import LedoitWolf
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import (
    AdaBoostClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC, l1_min_c
from sklearn.utils.class_weight import compute_sample_weight

__all__ = [
    "CLASSIFIERS",
    "METRICS",
    "SAMPLE_WEIGHTED",
    "CVResult",
    "binary_metrics",
    "make_classifiers",
    "select_top_l1",
    "cross_validate_features",
    "summarise_folds",
    "selection_shares",
]

#: the paper's seven classifiers, in its column order
CLASSIFIERS: tuple[str, ...] = ("SVM", "KNN", "QDA", "RF", "GB", "AB", "MLP")
#: the per-fold metrics, in the paper's row order
METRICS: tuple[str, ...] = ("accuracy", "specificity", "sensitivity", "auc")
#: classifiers fitted with balanced sample weights (the others take ``class_weight`` or nothing)
SAMPLE_WEIGHTED: frozenset[str] = frozenset({"GB", "AB", "MLP"})

#: QDA's covariance regularisation: with 150 selected features and a few hundred melanomas per
#: training fold, the per-class covariances are near singular without it. When a class of a
#: training fold has no more samples than features (small data sets, phantoms), the covariance
#: is singular whatever the regularisation, and QDA uses Ledoit-Wolf shrinkage towards a multiple
#: of the identity instead (``solver="eigen"``, ``covariance_estimator=LedoitWolf()``, rank
#: tolerance 0: min-max scaled features can have variances far below scikit-learn's default
#: tolerance of 1e-4)
QDA_REG_PARAM = 0.1
#: the MLP's one hidden layer (the paper gives no architecture; scikit-learn's default is 100)
MLP_HIDDEN = (64,)
#: the MLP's epochs (Adam, no early stopping); it may stop short of convergence, silently
MLP_MAX_ITER = 300
# doublings of C tried by the L1 selector, from the smallest C with a non-zero coefficient
_L1_DOUBLINGS = 16


def make_classifiers(seed: int = 0) -> dict[str, Any]:
    """The paper's seven classifiers, unfitted (scikit-learn defaults unless stated).

    SVM: RBF ``SVC`` with ``class_weight="balanced"`` (scores from ``decision_function``). KNN: 5
    neighbours. QDA: ``reg_param`` :data:`QDA_REG_PARAM`. RF: 100 trees, balanced class weights.
    GB: 100 depth-3 trees. AB: 50 SAMME stumps. MLP: hidden layer :data:`MLP_HIDDEN`, Adam for
    :data:`MLP_MAX_ITER` epochs. GB, AB and MLP get balanced sample weights in
    :func:`cross_validate_features`.

    Exact gradient boosting dominates the run time (about 7.5 s per fit on 2340 x 150 features,
    one core; histogram gradient boosting is no faster here, as its binning with sample weights
    is slow), so :func:`cross_validate_features` can run the folds in parallel (``n_jobs``).

    Parameters
    ----------
    seed
        ``random_state`` of every randomised estimator.

    Returns
    -------
    dict from the names of :data:`CLASSIFIERS` to estimators.
    """
    return {
        "SVM": SVC(class_weight="balanced", random_state=seed),
        "KNN": KNeighborsClassifier(),
        "QDA": QuadraticDiscriminantAnalysis(reg_param=QDA_REG_PARAM),
        "RF": RandomForestClassifier(class_weight="balanced", random_state=seed),
        "GB": GradientBoostingClassifier(random_state=seed),
        "AB": AdaBoostClassifier(random_state=seed),
        "MLP": MLPClassifier(
            hidden_layer_sizes=MLP_HIDDEN, max_iter=MLP_MAX_ITER, random_state=seed
        ),
    }


def select_top_l1(X: np.ndarray, y: np.ndarray, k: int = 150, *, seed: int = 0) -> np.ndarray:
    """The ``k`` columns with the largest |coefficient| of an L1 logistic regression.

    The regression (liblinear, ``class_weight="balanced"``) is fitted for C = 2, 4, 8, ... times
    :func:`sklearn.svm.l1_min_c` (the smallest C with a non-zero coefficient) until at least ``k``
    coefficients are non-zero; the search also stops after 16 doublings or when three doublings
    in a row add no non-zero coefficient, and then the top ``k`` by |coefficient| include zeros.
    Ties go to the lower column index. Features should be on comparable scales (the protocol
    scales them to [0, 1] first).

    Parameters
    ----------
    X
        (n_samples, n_features) features.
    y
        (n_samples,) labels, 0 or 1.
    k
        How many columns to keep; all of them when ``n_features <= k``.
    seed
        ``random_state`` of the regression.

    Returns
    -------
    (min(k, n_features),) int64 column indices, ascending.
    """
    X = np.asarray(X, dtype=np.float64)
    n_features = X.shape[1]
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if n_features <= k:
        return np.arange(n_features, dtype=np.int64)
    c0 = l1_min_c(X, y, loss="log")
    coef = np.zeros(n_features)
    best_count, stalled = -1, 0
    for doubling in range(1, _L1_DOUBLINGS + 1):
        model = LogisticRegression(
            C=c0 * 2.0**doubling,
            l1_ratio=1.0,
            solver="liblinear",
            class_weight="balanced",
            random_state=seed,
            max_iter=1000,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        coef = np.abs(model.coef_.ravel())
        count = int(np.count_nonzero(coef))
        if count >= k:
            break
        stalled = stalled + 1 if count <= best_count else 0
        best_count = max(best_count, count)
        if stalled >= 3:
            break
    order = np.argsort(-coef, kind="stable")
    return np.sort(order[:k]).astype(np.int64)


def binary_metrics(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Accuracy, specificity, sensitivity and AUC of binary predictions (1 = melanoma).

    Parameters
    ----------
    y_true, y_pred
        (n,) labels, 0 or 1.
    score
        (n,) scores that grow with the belief in class 1 (probability or decision value).

    Returns
    -------
    dict with ``accuracy``, ``specificity`` (true-negative rate), ``sensitivity`` (true-positive
    rate) and ``auc``, as fractions; a rate without any sample of its class, and the AUC of a
    single class, are NaN.
    """
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    positives, negatives = int(y_true.sum()), int((~y_true).sum())
    tp = int(np.sum(y_true & y_pred))
    tn = int(np.sum(~y_true & ~y_pred))
    nan = float("nan")
    return {
        "accuracy": (tp + tn) / y_true.size if y_true.size else nan,
        "specificity": tn / negatives if negatives else nan,
        "sensitivity": tp / positives if positives else nan,
        "auc": float(roc_auc_score(y_true, score)) if positives and negatives else nan,
    }


@dataclass(frozen=True)
class CVResult:
    """Cross-validated scores of several classifiers on one feature set.

    Attributes
    ----------
    folds
        Long DataFrame, one row per (classifier, fold): ``classifier``, ``fold`` (0-based),
        ``accuracy``, ``specificity``, ``sensitivity``, ``auc`` (fractions).
    summary
        One row per classifier: ``classifier``, then each metric's fold mean and ``<metric>_std``
        (sample standard deviation over folds, ddof=1), and ``folds`` (how many).
    selected
        (n_splits, n_select) int64 column indices kept in each fold (ascending; all columns when
        there are no more than ``n_select``). With ``leaky=True`` every row is the same.
    fold_of
        (n_samples,) int64: the fold in which each sample was a test sample.
    leaky
        True when the scaler and selector were fitted once on all samples (the leaky protocol).
    """

    folds: pd.DataFrame
    summary: pd.DataFrame
    selected: np.ndarray
    fold_of: np.ndarray
    leaky: bool


def _check(X: np.ndarray, y: np.ndarray, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"need X (n, p) and y (n,), got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)):
        bad = np.unique(np.nonzero(~np.isfinite(X))[1])
        raise ValueError(f"X has NaN or inf values in {bad.size} columns (first: {bad[:5]})")
    labels, counts = np.unique(y, return_counts=True)
    if labels.size < 2:
        raise ValueError(f"y has a single class ({labels.tolist()}); need 0 and 1")
    if not set(labels.tolist()) <= {0, 1}:
        raise ValueError(f"y must hold 0 (benign) and 1 (melanoma), got {labels.tolist()}")
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, not {n_splits}")
    if counts.min() < n_splits:
        raise ValueError(
            f"class {labels[counts.argmin()]} has {counts.min()} samples, fewer than "
            f"n_splits={n_splits}"
        )
    return X, y.astype(np.int64)


def _score(estimator: Any, X: np.ndarray) -> np.ndarray:
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)[:, 1]
    return estimator.decision_function(X)


def _fit_fold(
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    estimators: Mapping[str, Any],
    n_select: int,
    seed: int,
    prepared: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Scale, select and score every classifier in one fold; ``prepared`` = leaky (Xs, kept)."""
    if prepared is None:
        scaler = MinMaxScaler().fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        kept = select_top_l1(X_train, y[train], n_select, seed=seed)
    else:
        Xs, kept = prepared
        X_train, X_test = Xs[train], Xs[test]
    X_train, X_test = X_train[:, kept], X_test[:, kept]
    weights = compute_sample_weight("balanced", y[train])
    rows = []
    for name, template in estimators.items():
        estimator = clone(template)
        if isinstance(estimator, QuadraticDiscriminantAnalysis) and (
            np.bincount(y[train]).min() <= X_train.shape[1]
        ):  # a class with no more samples than features: its covariance is singular
            estimator.set_params(
                solver="eigen", covariance_estimator=LedoitWolf(), reg_param=0.0, tol=0.0
            )
        fit_kw = {"sample_weight": weights} if name in SAMPLE_WEIGHTED else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X_train, y[train], **fit_kw)
        predicted = estimator.predict(X_test)
        rows.append(
            {"classifier": name, **binary_metrics(y[test], predicted, _score(estimator, X_test))}
        )
    return kept, rows


def cross_validate_features(
    X: np.ndarray,
    y: np.ndarray,
    *,
    classifiers: Sequence[str] | Mapping[str, Any] | None = None,
    n_splits: int = 10,
    n_select: int = 150,
    seed: int = 0,
    leaky: bool = False,
    progress: bool = False,
    n_jobs: int | None = None,
) -> CVResult:
    """Stratified k-fold scores of the paper's classifiers on one feature set.

    In each fold a :class:`~sklearn.preprocessing.MinMaxScaler` and :func:`select_top_l1` are
    fitted on the training samples only, then each classifier is fitted on the selected, scaled
    training features and scored on the test fold (test features may fall outside [0, 1]). With
    ``leaky=True`` the scaler and the selector are instead fitted once on all samples before the
    folds -- the leaky protocol, kept to measure what the leak is worth.

    Parameters
    ----------
    X
        (n_samples, n_features) finite features.
    y
        (n_samples,) labels, 0 (benign) or 1 (melanoma); each class needs ``n_splits`` samples.
    classifiers
        Names from :data:`CLASSIFIERS` (default: all seven, from :func:`make_classifiers`), or a
        mapping from names to unfitted estimators (cloned per fold; names in
        :data:`SAMPLE_WEIGHTED` get balanced sample weights).
    n_splits
        Folds of :class:`~sklearn.model_selection.StratifiedKFold` (shuffled with ``seed``).
    n_select
        Columns kept by the L1 selector (all of them when there are no more).
    seed
        Seed of the folds, the selector and the classifiers.
    leaky
        Fit the scaler and the selector on all samples (see above).
    progress
        Show a progress bar over folds (tqdm, sequential runs only).
    n_jobs
        Folds run in parallel by joblib when > 1 (or -1: all cores); None or 1: sequentially.

    Returns
    -------
    :class:`CVResult`.

    Raises
    ------
    ValueError
        For NaN or inf in ``X``, a single class, labels other than 0 and 1, or a class with
        fewer than ``n_splits`` samples.
    """
    X, y = _check(X, y, n_splits)
    if classifiers is None:
        estimators: Mapping[str, Any] = make_classifiers(seed)
    elif isinstance(classifiers, Mapping):
        estimators = dict(classifiers)
    else:
        every = make_classifiers(seed)
        unknown = [name for name in classifiers if name not in every]
        if unknown:
            raise ValueError(f"unknown classifiers {unknown}; choose from {list(every)}")
        estimators = {name: every[name] for name in classifiers}
    splits = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y))
    fold_of = np.empty(len(y), dtype=np.int64)
    for fold, (_, test) in enumerate(splits):
        fold_of[test] = fold
    prepared = None
    if leaky:
        Xs = MinMaxScaler().fit_transform(X)
        prepared = (Xs, select_top_l1(Xs, y, n_select, seed=seed))
    args = [(X, y, train, test, estimators, n_select, seed, prepared) for train, test in splits]
    if n_jobs is not None and n_jobs != 1:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs)(delayed(_fit_fold)(*a) for a in args)
    else:
        if progress:
            from tqdm.auto import tqdm

            args = tqdm(args, desc="folds")
        outputs = [_fit_fold(*a) for a in args]
    folds = pd.DataFrame(
        [{**row, "fold": fold} for fold, (_, rows) in enumerate(outputs) for row in rows],
        columns=["classifier", "fold", *METRICS],
    )
    summary = summarise_folds(folds)
    selected = np.stack([kept for kept, _ in outputs]).astype(np.int64)
    return CVResult(folds, summary, selected, fold_of, leaky)


def summarise_folds(folds: pd.DataFrame) -> pd.DataFrame:
    """Per classifier (in order of appearance): each metric's fold mean, ``<metric>_std`` (sample
    standard deviation, ddof 1) and ``folds`` (how many): :attr:`CVResult.summary`.

    Parameters
    ----------
    folds
        :attr:`CVResult.folds`: ``classifier``, ``fold`` and the metrics of :data:`METRICS`.
    """
    grouped = folds.groupby("classifier", sort=False)[list(METRICS)]
    means, stds = grouped.mean(), grouped.std(ddof=1).add_suffix("_std")
    summary = pd.concat([means, stds], axis=1)
    summary = summary[[c for m in METRICS for c in (m, f"{m}_std")]]
    summary["folds"] = grouped.size()
    return summary.reset_index()


def selection_shares(selected: np.ndarray, groups: Sequence[str]) -> dict[str, float]:
    """Share of the selected features that falls in each feature group, over folds (Fig 6).

    Parameters
    ----------
    selected
        (n_folds, n_select) int column indices (:attr:`CVResult.selected`), or (n_select,).
    groups
        (n_features,) group name of every column, e.g. "n=20", ..., "conventional".

    Returns
    -------
    dict from every group name (in order of first appearance in ``groups``) to its share of all
    selections, in [0, 1]; the shares sum to 1.
    """
    groups = np.asarray(groups, dtype=object)
    selected = np.asarray(selected, dtype=np.int64).ravel()
    if selected.size == 0:
        raise ValueError("no selected features")
    if selected.min() < 0 or selected.max() >= groups.size:
        raise ValueError(f"selected indices must lie in [0, {groups.size})")
    names, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    counts = np.bincount(inverse[selected], minlength=names.size)
    order = np.argsort(first)
    return {str(names[i]): float(counts[i] / selected.size) for i in order}
