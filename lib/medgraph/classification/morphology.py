"""Cell types from the morphology and colour of a segmented cell, cross-validated (issue 35 §3).

A handful of measurements of the nucleus and the cytoplasm of a three-class label map
(0 background, 1 cytoplasm, 2 nucleus) — areas, the nucleus-to-cell ratio, the shape of the
nucleus (solidity, eccentricity, number of lobes) and the colour of each part (mean and spread of
CIE Lab) — are what a haematologist reads off a white blood cell. :func:`cell_features` computes
them for one image, :func:`cell_feature_table` for a data set, and :func:`cross_validate_cells`
estimates the accuracy of a small classifier on them by repeated stratified k-fold
cross-validation, choosing between candidate classifiers inside each training fold only
(nested cross-validation), so that no test fold takes part in any choice.

The same features, computed once from the ground-truth masks and once from a segmentation
model's predictions, measure how much of the cell-type information the segmentation carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.measure import regionprops
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = [
    "FEATURE_NAMES",
    "cell_features",
    "cell_feature_table",
    "default_candidates",
    "classes_with_at_least",
    "CellCV",
    "cross_validate_cells",
]

_PARTS = ("nucleus", "cytoplasm")

#: Names of the columns of :func:`cell_features`, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "nucleus_area",
    "cytoplasm_area",
    "cell_area",
    "nucleus_to_cell",
    "nucleus_solidity",
    "nucleus_eccentricity",
    "nucleus_lobes",
    "cell_solidity",
    "cell_eccentricity",
) + tuple(f"{part}_{stat}_{ch}" for part in _PARTS for stat in ("mean", "std") for ch in "Lab")


def _count_lobes(nucleus: np.ndarray) -> int:
    """Connected parts of the nucleus after an erosion by a disc of 15 % of its radius."""
    area = int(nucleus.sum())
    if area == 0:
        return 0
    radius = max(1, int(round(0.15 * np.sqrt(area / np.pi))))
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disc = yy**2 + xx**2 <= radius**2
    eroded = ndimage.binary_erosion(nucleus, structure=disc)
    _, n = ndimage.label(eroded)
    return max(int(n), 1)


def _shape(mask: np.ndarray) -> tuple[float, float]:
    """Solidity and eccentricity of the largest connected part of ``mask`` (0, 0 when empty)."""
    lab, n = ndimage.label(mask)
    if n == 0:
        return 0.0, 0.0
    largest = 1 + int(np.argmax(np.bincount(lab.ravel())[1:]))
    props = regionprops((lab == largest).astype(np.uint8))[0]
    return float(props.solidity), float(props.eccentricity)


def cell_features(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Morphology and colour features of the cell of one image.

    Parameters
    ----------
    image : (H, W, 3) array
        RGB, uint8 (0–255) or float in [0, 1].
    labels : (H, W) int array
        0 background, 1 cytoplasm, 2 nucleus. A part that is absent gives zero for every feature
        of that part (area 0, shape 0, colour 0).

    Returns
    -------
    (F,) float64 array, F = ``len(FEATURE_NAMES)``: areas in pixels, the nucleus-to-cell area
    ratio, solidity and eccentricity (of the largest connected part; dimensionless), the number
    of nucleus lobes (:func:`_count_lobes`), and the mean and standard deviation of L*, a*, b*
    (CIE Lab) over the nucleus and over the cytoplasm.

    Raises
    ------
    ValueError
        When the shapes disagree or ``labels`` holds a value other than 0, 1, 2.
    """
    image = np.asarray(image)
    labels = np.asarray(labels)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != labels.shape:
        raise ValueError(
            f"image of shape {image.shape} and labels of shape {labels.shape}: expected "
            "(H, W, 3) and (H, W)"
        )
    unexpected = np.setdiff1d(np.unique(labels), [0, 1, 2])
    if unexpected.size:
        raise ValueError(f"labels hold {unexpected.tolist()}; expected 0, 1, 2 only")
    rgb = image.astype(np.float64)
    if image.dtype == np.uint8 or rgb.max() > 1.0:
        rgb = rgb / 255.0
    lab = rgb2lab(rgb)
    nucleus, cytoplasm = labels == 2, labels == 1
    cell = nucleus | cytoplasm
    n_area, c_area, cell_area = float(nucleus.sum()), float(cytoplasm.sum()), float(cell.sum())
    colour = []
    for part in (nucleus, cytoplasm):
        values = lab[part]
        if values.shape[0] == 0:
            colour += [0.0] * 6
        else:
            colour += values.mean(axis=0).tolist() + values.std(axis=0).tolist()
    return np.array(
        [
            n_area,
            c_area,
            cell_area,
            n_area / cell_area if cell_area else 0.0,
            *_shape(nucleus),
            float(_count_lobes(nucleus)),
            *_shape(cell),
            *colour,
        ],
        dtype=np.float64,
    )


def cell_feature_table(
    images: Sequence[np.ndarray],
    segmentations: Sequence[np.ndarray],
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`cell_features` of every image, one row per image (columns :data:`FEATURE_NAMES`)."""
    if len(images) != len(segmentations):
        raise ValueError(f"{len(images)} images but {len(segmentations)} segmentations")
    rows = [cell_features(im, seg) for im, seg in zip(images, segmentations, strict=True)]
    index = pd.Index(list(ids) if ids is not None else range(len(rows)), name="image")
    return pd.DataFrame(
        np.stack(rows) if rows else np.zeros((0, len(FEATURE_NAMES))),
        columns=list(FEATURE_NAMES),
        index=index,
    )


def default_candidates(seed: int = 0) -> dict[str, BaseEstimator]:
    """The small classifiers chosen between: a random forest and a standardised logistic
    regression (both with balanced class weights)."""
    return {
        "random forest": RandomForestClassifier(
            n_estimators=300, class_weight="balanced", random_state=seed, n_jobs=1
        ),
        "logistic regression": make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
        ),
    }


def classes_with_at_least(labels: Sequence[int], count: int) -> np.ndarray:
    """Boolean mask of the samples whose class has at least ``count`` samples."""
    labels = np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    return np.isin(labels, values[counts >= count])


@dataclass
class CellCV:
    """Result of :func:`cross_validate_cells`.

    Attributes
    ----------
    fold_accuracy : (R·K,) array — accuracy of each outer test fold
    repeat_accuracy : (R,) array — accuracy of each repeat, pooled over its folds
    chosen : list of str — the candidate chosen inside each outer training fold
    predictions : (R, N) int array — each sample's prediction in each repeat
    """

    fold_accuracy: np.ndarray
    repeat_accuracy: np.ndarray
    chosen: list[str]
    predictions: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.fold_accuracy.mean())

    @property
    def std(self) -> float:
        """Sample standard deviation over the outer folds."""
        return float(self.fold_accuracy.std(ddof=1)) if self.fold_accuracy.size > 1 else 0.0

    def accuracy_on(self, mask: np.ndarray, labels: np.ndarray) -> float:
        """Accuracy over the samples in ``mask``, pooled over every repeat."""
        mask = np.asarray(mask, dtype=bool)
        return float((self.predictions[:, mask] == np.asarray(labels)[mask]).mean())


def cross_validate_cells(
    features: np.ndarray | pd.DataFrame,
    labels: Sequence[int],
    candidates: Mapping[str, BaseEstimator] | None = None,
    n_splits: int = 5,
    n_repeats: int = 5,
    seed: int = 0,
) -> CellCV:
    """Repeated stratified k-fold accuracy, with the classifier chosen inside each training fold.

    For each outer split, every candidate is scored by an inner stratified k-fold
    cross-validation on the outer training part only; the best (highest mean inner accuracy;
    ties to the first) is refitted on the whole training part and scores the outer test part.

    Parameters
    ----------
    features : (N, F) array or DataFrame
    labels : (N,) int
        Every class needs at least ``n_splits`` samples (see :func:`classes_with_at_least`).
    candidates : mapping name → scikit-learn estimator, default :func:`default_candidates`
    n_splits, n_repeats : int
        Outer folds and repeats (inner folds: ``n_splits``, capped by the rarest class of the
        training part).
    seed : int
        Seeds the folds and the candidates.

    Returns
    -------
    CellCV

    Raises
    ------
    ValueError
        When a class has fewer than ``n_splits`` samples or the sizes disagree.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"features of shape {x.shape} for {y.shape[0]} labels")
    values, counts = np.unique(y, return_counts=True)
    if values.size < 2 or counts.min() < n_splits:
        raise ValueError(
            f"class counts {dict(zip(values.tolist(), counts.tolist(), strict=True))}: every "
            f"class needs at least {n_splits} samples (drop rarer classes first)"
        )
    cands = dict(candidates) if candidates is not None else default_candidates(seed)
    outer = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    fold_acc, chosen = [], []
    predictions = np.zeros((n_repeats, y.shape[0]), dtype=y.dtype)
    for i, (tr, te) in enumerate(outer.split(x, y)):
        name = next(iter(cands))
        if len(cands) > 1:
            k_inner = int(min(n_splits, np.unique(y[tr], return_counts=True)[1].min()))
            inner = StratifiedKFold(n_splits=k_inner, shuffle=True, random_state=seed + i)
            scores = {}
            for cname, est in cands.items():
                accs = []
                for itr, iva in inner.split(x[tr], y[tr]):
                    model = clone(est).fit(x[tr][itr], y[tr][itr])
                    accs.append(float((model.predict(x[tr][iva]) == y[tr][iva]).mean()))
                scores[cname] = float(np.mean(accs))
            name = max(scores, key=lambda c: scores[c])
        model = clone(cands[name]).fit(x[tr], y[tr])
        pred = model.predict(x[te])
        predictions[i // n_splits, te] = pred
        fold_acc.append(float((pred == y[te]).mean()))
        chosen.append(name)
    repeat_acc = (predictions == y[None, :]).mean(axis=1)
    return CellCV(np.asarray(fold_acc), repeat_acc, chosen, predictions)
