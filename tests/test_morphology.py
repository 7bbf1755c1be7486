"""Morphology and colour features of a segmented cell, and their nested cross-validation."""

import numpy as np
import pytest
from skimage.color import rgb2lab
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from medgraph.classification import (
    FEATURE_NAMES,
    cell_feature_table,
    cell_features,
    classes_with_at_least,
    cross_validate_cells,
)

NUCLEUS_RGB = (80, 40, 160)
CYTO_RGB = (220, 180, 200)


def _cell(two_lobes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A 7 x 7 square cell (rows/cols 1-7) around a 4 x 4 nucleus (rows/cols 2-5), in 10 x 10,
    or two 3 x 3 nucleus lobes at (1-3, 1-3) and (5-7, 5-7)."""
    labels = np.zeros((10, 10), dtype=np.int64)
    labels[1:8, 1:8] = 1
    if two_lobes:
        labels[1:4, 1:4] = 2
        labels[5:8, 5:8] = 2
    else:
        labels[2:6, 2:6] = 2
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    image[labels == 2] = NUCLEUS_RGB
    image[labels == 1] = CYTO_RGB
    return image, labels


def _feature(values: np.ndarray, name: str) -> float:
    return float(values[FEATURE_NAMES.index(name)])


def test_cell_features_match_a_hand_computed_cell():
    image, labels = _cell()
    f = cell_features(image, labels)
    assert f.shape == (len(FEATURE_NAMES),) == (21,)
    assert _feature(f, "nucleus_area") == 16
    assert _feature(f, "cytoplasm_area") == 49 - 16
    assert _feature(f, "cell_area") == 49
    assert _feature(f, "nucleus_to_cell") == pytest.approx(16 / 49)
    # a filled square is its own convex hull, and its second moments are isotropic
    assert _feature(f, "nucleus_solidity") == pytest.approx(1.0)
    assert _feature(f, "nucleus_eccentricity") == pytest.approx(0.0, abs=1e-9)
    assert _feature(f, "cell_solidity") == pytest.approx(1.0)
    assert _feature(f, "nucleus_lobes") == 1
    lab_n = rgb2lab(np.array(NUCLEUS_RGB, dtype=np.float64)[None, None] / 255)[0, 0]
    lab_c = rgb2lab(np.array(CYTO_RGB, dtype=np.float64)[None, None] / 255)[0, 0]
    for i, ch in enumerate("Lab"):
        assert _feature(f, f"nucleus_mean_{ch}") == pytest.approx(lab_n[i])
        assert _feature(f, f"cytoplasm_mean_{ch}") == pytest.approx(lab_c[i])
        assert _feature(f, f"nucleus_std_{ch}") == pytest.approx(0.0, abs=1e-9)


def test_two_separate_lobes_are_counted_and_float_images_agree():
    image, labels = _cell(two_lobes=True)
    f = cell_features(image, labels)
    assert _feature(f, "nucleus_lobes") == 2
    assert _feature(f, "nucleus_area") == 18
    np.testing.assert_allclose(cell_features(image / 255.0, labels), f)


def test_an_absent_nucleus_gives_zeros_and_bad_labels_raise():
    image, labels = _cell()
    labels[labels == 2] = 1
    f = cell_features(image, labels)
    for name in FEATURE_NAMES:
        if name.startswith("nucleus"):
            assert _feature(f, name) == 0.0, name
    assert _feature(f, "cell_area") == 49
    labels[0, 0] = 3
    with pytest.raises(ValueError, match=r"\[3\]"):
        cell_features(image, labels)
    with pytest.raises(ValueError, match="expected"):
        cell_features(image[:5], labels)


def test_cell_feature_table_rows_follow_the_images():
    a, la = _cell()
    b, lb = _cell(two_lobes=True)
    table = cell_feature_table([a, b], [la, lb], ["a", "b"])
    assert list(table.index) == ["a", "b"]
    assert table.loc["b", "nucleus_lobes"] == 2
    with pytest.raises(ValueError, match="2 images but 1"):
        cell_feature_table([a, b], [la])


def test_classes_with_at_least():
    keep = classes_with_at_least([1, 1, 2, 3, 3, 3], 2)
    np.testing.assert_array_equal(keep, [True, True, False, True, True, True])


def test_nested_cross_validation_chooses_inside_training_folds():
    rng = np.random.default_rng(0)
    y = np.repeat([1, 2, 3], 20)
    x = rng.normal(size=(60, 3)) + 4.0 * np.eye(3)[y - 1]  # well separated classes
    candidates = {
        "majority": DummyClassifier(strategy="most_frequent"),
        "logistic": LogisticRegression(max_iter=1000),
    }
    cv = cross_validate_cells(x, y, candidates, n_splits=5, n_repeats=2, seed=0)
    assert cv.fold_accuracy.shape == (10,)
    assert cv.predictions.shape == (2, 60)
    assert cv.chosen == ["logistic"] * 10
    assert cv.mean > 0.95
    np.testing.assert_allclose(cv.repeat_accuracy, (cv.predictions == y).mean(axis=1))
    mask = np.zeros(60, dtype=bool)
    mask[:5] = True
    assert cv.accuracy_on(mask, y) == pytest.approx((cv.predictions[:, :5] == 1).mean())
    # a classifier that ignores the features scores the majority share, about 1/3
    dummy = cross_validate_cells(x, y, {"majority": candidates["majority"]}, n_repeats=1)
    assert dummy.mean == pytest.approx(1 / 3, abs=0.1)


def test_cross_validation_refuses_a_class_too_small_for_the_folds():
    x = np.zeros((12, 2))
    y = np.array([1] * 8 + [2] * 4)
    with pytest.raises(ValueError, match="at least 5"):
        cross_validate_cells(x, y)
