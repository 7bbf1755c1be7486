"""Splits of a graph of samples, and the guard that keeps test labels and images out of training.

The seed study (Leukemia Classifier Using Graph Neural Networks) is *transductive*: every cell
image is a node of one kNN graph, test nodes included, and the GCN propagates features over all
of them. Two things must still never happen, and :func:`check_no_leakage` fails loudly when
either does:

1. a test label is read before scoring: the fitters get :meth:`Split.visible_labels`, where every
   node outside ``train ∪ val`` carries −1;
2. a test image's embedding comes from a backbone trained on that image: the backbone of a split
   is trained on ``split.train`` only (``val`` chooses its epoch), and its run records the
   indices it was trained on.

Protocols (:func:`holdout_split`, :func:`fold_splits`, :func:`group_holdout_split`):

- the seed's stratified 80/20 split of the nodes;
- the seed's 3-fold cross-validation over C-NMC's official folds (train on two, test on the
  third), or stratified folds for a set without official folds;
- a patient-level split: C-NMC names each cell after its patient, and cells of one patient in
  both training and test make the test easier than a new patient would be.

Every split also holds out a validation part of its training nodes (stratified, ``val_fraction``),
on which epochs and settings are chosen; test scores choose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "LeakageError",
    "Split",
    "stratified_partition",
    "stratified_subset",
    "holdout_split",
    "fold_splits",
    "group_holdout_split",
    "check_no_leakage",
]


class LeakageError(RuntimeError):
    """A test label or a test image reached a fitter."""


@dataclass(frozen=True)
class Split:
    """Node indices of one train / validation / test split of a graph of samples.

    Attributes
    ----------
    name : str
        E.g. ``"holdout"``, ``"fold0"``, ``"patients"``.
    train, val, test : (n_*,) int64 arrays, sorted, pairwise disjoint
        ``train``: labels fit the backbone, the SVM and the GCN's loss; ``val``: labels choose
        epochs and settings; ``test``: scored only.
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        for part in ("train", "val", "test"):
            arr = np.sort(np.asarray(getattr(self, part), dtype=np.int64))
            if arr.size == 0:
                raise ValueError(f"split {self.name!r}: the {part} part is empty")
            if np.unique(arr).size != arr.size:
                raise ValueError(f"split {self.name!r}: the {part} part repeats a node")
            object.__setattr__(self, part, arr)
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            common = np.intersect1d(getattr(self, a), getattr(self, b))
            if common.size:
                raise LeakageError(
                    f"split {self.name!r}: nodes {common[:5].tolist()} are in both {a} and {b}"
                )

    @property
    def fitted(self) -> np.ndarray:
        """``train ∪ val``: the nodes whose labels any fitter may read, sorted."""
        return np.union1d(self.train, self.val)

    def visible_labels(self, labels: np.ndarray) -> np.ndarray:
        """A copy of ``labels`` (N,) with −1 at every node outside ``train ∪ val``."""
        labels = np.asarray(labels, dtype=np.int64)
        if self.test.max(initial=-1) >= labels.size or self.fitted.max() >= labels.size:
            raise ValueError(f"split {self.name!r} indexes beyond {labels.size} labels")
        out = np.full_like(labels, -1)
        out[self.fitted] = labels[self.fitted]
        return out

    def to_dict(self) -> dict[str, list[int]]:
        """JSON-ready indices."""
        return {p: getattr(self, p).tolist() for p in ("train", "val", "test")}


def stratified_partition(
    indices: np.ndarray, labels: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (rest, part) with ``part`` about ``fraction`` of each class.

    Per class c with n_c members, ``round(fraction · n_c)`` go to ``part``, but a class with
    at least two members keeps at least one on each side (so a rare class, such as BCCD's three
    basophils, is both trained on and evaluated); a class with one member stays in ``rest``.

    Parameters
    ----------
    indices : (n,) int array
    labels : (N,) int array
        Labels of all nodes (indexed by ``indices``).
    fraction : float in (0, 1)
    rng : numpy Generator

    Returns
    -------
    rest, part : sorted int64 arrays
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    indices = np.asarray(indices, dtype=np.int64)
    labels = np.asarray(labels)
    part = []
    for c in np.unique(labels[indices]):
        members = indices[labels[indices] == c]
        members = members[rng.permutation(members.size)]
        take = int(round(fraction * members.size))
        if members.size >= 2:
            take = min(max(take, 1), members.size - 1)
        else:
            take = 0
        part.append(members[:take])
    chosen = np.sort(np.concatenate(part)) if part else np.empty(0, np.int64)
    return np.setdiff1d(indices, chosen), chosen


def stratified_subset(data: Any, max_images: int | None, seed: int) -> Any:
    """A seeded subset of a labelled data set with about ``max_images`` images, stratified by
    class (:func:`stratified_partition`); the set itself when ``max_images`` is None or not
    smaller than it. ``data`` needs ``labels`` and ``subset(indices)``."""
    if max_images is None or max_images >= len(data):
        return data
    rng = np.random.default_rng(int(seed))
    frac = float(max_images) / len(data)
    _, keep = stratified_partition(np.arange(len(data)), data.labels, frac, rng)
    return data.subset(keep)


def holdout_split(
    labels: np.ndarray,
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
    name: str = "holdout",
) -> Split:
    """The seed's stratified 80/20 split of the nodes, with a stratified validation part.

    Parameters
    ----------
    labels : (N,) int array
    test_fraction : float, default 0.2
        Of all nodes, per class.
    val_fraction : float, default 0.2
        Of the remaining training nodes, per class.
    seed : int

    Returns
    -------
    Split
    """
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    rest, test = stratified_partition(np.arange(labels.size), labels, test_fraction, rng)
    train, val = stratified_partition(rest, labels, val_fraction, rng)
    return Split(name, train, val, test)


def fold_splits(
    labels: np.ndarray,
    folds: np.ndarray | None = None,
    *,
    n_folds: int = 3,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> list[Split]:
    """Cross-validation: each fold is the test part once, the others train (and validate).

    Parameters
    ----------
    labels : (N,) int array
    folds : (N,) int array, optional
        Official folds (C-NMC's ``fold_0..2``; −1 means none). None or all −1: ``n_folds``
        stratified folds drawn with ``seed``.
    n_folds : int, default 3
    val_fraction : float, default 0.2
        Of each split's training nodes, per class.
    seed : int

    Returns
    -------
    list of Split, named ``"fold<f>"``
    """
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if folds is None or np.all(np.asarray(folds) < 0):
        folds = np.empty(labels.size, dtype=np.int64)
        for c in np.unique(labels):  # deal each class's shuffled members round the folds
            members = np.flatnonzero(labels == c)
            members = members[rng.permutation(members.size)]
            folds[members] = (np.arange(members.size) + int(rng.integers(n_folds))) % n_folds
    folds = np.asarray(folds, dtype=np.int64)
    if np.any(folds < 0):
        raise ValueError("every node needs a fold (some have −1 and others not)")
    out = []
    for f in np.unique(folds):
        test = np.flatnonzero(folds == f)
        train, val = stratified_partition(np.flatnonzero(folds != f), labels, val_fraction, rng)
        out.append(Split(f"fold{int(f)}", train, val, test))
    return out


def group_holdout_split(
    labels: np.ndarray,
    groups: Sequence[str] | np.ndarray,
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
    name: str = "patients",
) -> Split:
    """A split in which no group (patient) has nodes on two sides.

    Groups are assigned whole, stratified by each group's majority label (C-NMC's patients are
    either ALL or healthy): per majority class, about ``test_fraction`` of its groups go to test,
    then ``val_fraction`` of the remaining ones to validation.

    Parameters
    ----------
    labels : (N,) int array
    groups : (N,) sequence of str
        The group (patient) of every node.
    test_fraction, val_fraction : float
    seed : int

    Returns
    -------
    Split
    """
    labels = np.asarray(labels, dtype=np.int64)
    groups = np.asarray(groups).astype(str)
    if groups.shape != labels.shape:
        raise ValueError(f"groups {groups.shape} and labels {labels.shape} differ in length")
    names, inverse = np.unique(groups, return_inverse=True)
    majority = np.array([np.bincount(labels[inverse == g]).argmax() for g in range(names.size)])
    rng = np.random.default_rng(seed)
    rest, test_g = stratified_partition(np.arange(names.size), majority, test_fraction, rng)
    train_g, val_g = stratified_partition(rest, majority, val_fraction, rng)
    parts = [np.flatnonzero(np.isin(inverse, g)) for g in (train_g, val_g, test_g)]
    return Split(name, *parts)


def check_no_leakage(
    split: Split,
    *,
    labels_given: np.ndarray | None = None,
    backbone_trained_on: np.ndarray | None = None,
) -> None:
    """Fail loudly when a test label or a test image reached a fitter (module notes).

    Parameters
    ----------
    split : Split
    labels_given : (N,) int array, optional
        The labels handed to a fitter: every test node must carry −1 (:meth:`Split.visible_labels`).
    backbone_trained_on : (n,) int array, optional
        The nodes whose images trained the backbone that embedded the nodes: none may be a test
        node.

    Raises
    ------
    LeakageError
        Naming the split and the first offending nodes.
    """
    if labels_given is not None:
        given = np.asarray(labels_given)
        seen = split.test[given[split.test] >= 0]
        if seen.size:
            raise LeakageError(
                f"split {split.name!r}: the labels given to a fitter include {seen.size} test "
                f"node(s) (first {seen[:5].tolist()}); pass split.visible_labels(labels)"
            )
    if backbone_trained_on is not None:
        overlap = np.intersect1d(np.asarray(backbone_trained_on, dtype=np.int64), split.test)
        if overlap.size:
            raise LeakageError(
                f"split {split.name!r}: the backbone was trained on {overlap.size} test image(s) "
                f"(first {overlap[:5].tolist()}); train one backbone per split on split.train"
            )
