"""Tests of the conventional colour, geometric and texture features of dermoscopic images."""

from __future__ import annotations

import numpy as np
import pytest

from medgraph.data import make_melanoma_phantoms
from medgraph.melanoma.conventional import (
    FEATURE_GROUPS,
    conventional_feature_names,
    conventional_features,
    image_features,
    lesion_mask,
)

NAMES = conventional_feature_names()
INDEX = {name: i for i, name in enumerate(NAMES)}
LESION, SKIN = (90, 50, 40), (220, 200, 190)


def feature(row: np.ndarray, name: str) -> float:
    return float(row[INDEX[name]])


def painted(mask: np.ndarray) -> np.ndarray:
    """A lesion-coloured ``mask`` on skin: (H, W, 3) uint8."""
    image = np.empty((*mask.shape, 3), np.uint8)
    image[:] = SKIN
    image[mask] = LESION
    return image


def grid(size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    return yy - size / 2, xx - size / 2


def test_names_match_columns() -> None:
    assert len(NAMES) == len(set(NAMES)) == sum(FEATURE_GROUPS.values()) == 151
    features = conventional_features([painted(np.eye(40, dtype=bool)), np.zeros((30, 50, 3), "u1")])
    assert features.shape == (2, len(NAMES)) and features.dtype == np.float64
    assert conventional_features([]).shape == (0, len(NAMES))


def test_finite_on_constant_tiny_and_phantom_images() -> None:
    constant = np.full((64, 64, 3), 128, np.uint8)
    one_pixel = np.full((32, 32, 3), 200, np.uint8)
    one_pixel[16, 16] = 10
    phantoms = make_melanoma_phantoms(4, seed=1, size=128, melanoma_fraction=0.5).images
    features = conventional_features([constant, one_pixel, *phantoms])
    assert np.isfinite(features).all()
    assert (
        feature(features[0], "colour_R_mean") == 128 and feature(features[0], "colour_R_std") == 0
    )
    assert feature(features[0], "contrast_L") == 0  # the lesion is the whole disc: no skin
    assert feature(features[1], "shape_area_fraction") * 32 * 32 == 1
    assert 0.02 < feature(features[2], "shape_area_fraction") < 0.6  # a lesion, not the field


def test_two_halves_hand_case() -> None:
    image = np.empty((64, 64, 3), np.uint8)
    image[:, :32] = (200, 40, 30)  # the darker half is the lesion
    image[:, 32:] = (230, 230, 230)
    mask = lesion_mask(image)
    yy, xx = grid(64)
    disc = yy**2 + xx**2 <= (0.48 * 64) ** 2
    expected = disc & (xx < 0)  # the opening may trim a pixel at the tips of the half disc
    assert not (mask & ~expected).any() and mask.sum() >= expected.sum() - 4
    row = image_features(image)
    assert [feature(row, f"colour_{c}_mean") for c in "RGB"] == [200, 40, 30]
    assert feature(row, "colour_G_std") == 0 and feature(row, "colour_B_kurt") == 0
    assert feature(row, "contrast_L") < -30  # lesion darker than skin
    assert feature(row, "contrast_a") > 30  # and redder
    assert feature(row, f"rgbhist_{200 // 64}{40 // 64}{30 // 64}") == 1.0
    assert feature(row, "dermcolour_red") == 1.0 and feature(row, "dermcolour_count") == 1
    # a given mask replaces the automatic one
    right = image_features(image, mask=disc & (xx > 0))
    assert [feature(right, f"colour_{c}_mean") for c in "RGB"] == [230, 230, 230]
    with pytest.raises(ValueError, match="mask of shape"):
        image_features(image, mask=np.ones((8, 8), bool))
    with pytest.raises(ValueError, match="uint8"):
        image_features(image.astype(float))


def test_disc_geometry() -> None:
    yy, xx = grid()
    disc = yy**2 + xx**2 <= 30**2
    row = image_features(painted(disc))
    assert feature(row, "shape_area_fraction") == disc.mean()
    assert abs(feature(row, "shape_compactness") - 1) < 0.1
    assert feature(row, "shape_eccentricity") < 0.1 and feature(row, "shape_asymmetry_mean") < 0.01
    assert abs(feature(row, "shape_major_axis") * 128 - 60) < 2  # diameter, px
    assert feature(row, "shape_radial_cv") < 0.05


def test_asymmetry_ellipse_and_l_shape() -> None:
    yy, xx = grid()
    angle = 0.5
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    ellipse = (u / 40) ** 2 + (v / 18) ** 2 <= 1
    row = image_features(painted(ellipse))
    assert feature(row, "shape_asymmetry_major") < 0.03
    assert feature(row, "shape_asymmetry_minor") < 0.03
    assert abs(feature(row, "shape_axis_ratio") - 18 / 40) < 0.03
    ell = np.zeros((128, 128), bool)
    ell[30:100, 35:55] = True
    ell[80:100, 35:95] = True
    row_l = image_features(painted(ell))
    assert feature(row_l, "shape_asymmetry_major") > 0.1
    assert feature(row_l, "shape_asymmetry_minor") > 0.1
    assert feature(row_l, "shape_compactness") < 0.7 * feature(row, "shape_compactness")


def test_texture_responds_to_texture() -> None:
    yy, xx = grid()
    disc = yy**2 + xx**2 <= 35**2
    smooth = painted(disc)
    rough = smooth.copy()
    noise = np.random.default_rng(0).integers(-25, 26, disc.sum())
    rough[disc] = np.clip(rough[disc].astype(int) + noise[:, None], 0, 255).astype(np.uint8)
    a, b = image_features(smooth), image_features(rough)
    assert feature(a, "glcm_contrast_d1") == 0 and feature(b, "glcm_contrast_d1") > 1
    assert feature(a, "glcm_energy_d1") > feature(b, "glcm_energy_d1")
    assert feature(b, "gradient_lesion_mean") > feature(a, "gradient_lesion_mean")
    lbp = [feature(b, f"lbp_{k}") for k in range(10)]
    assert abs(sum(lbp) - 1) < 1e-9


def test_features_separate_the_phantom_classes() -> None:
    """Melanoma phantoms are more variegated: higher colour spread inside the found lesion."""
    data = make_melanoma_phantoms(40, seed=0, size=64, melanoma_fraction=0.5)
    features = conventional_features(data.images)
    melanoma, other = features[data.labels == 1], features[data.labels == 0]
    for name in ("colour_S_std", "colour_B_std"):
        j = INDEX[name]
        assert melanoma[:, j].mean() > 1.2 * other[:, j].mean(), name
