"""Conventional whole-image colour, geometric and texture features of dermoscopic images.

The melanoma paper combines its graph features with 394 "conventional" features taken from its
references [12]/[46] without listing them. This module is the project's documented stand-in: 151
features per image, computed from the RGB image and a lesion mask found without ground truth.

The lesion mask (:func:`lesion_mask`)
    Otsu's threshold of CIELAB L* over the *central disc* (radius 0.48 of the shorter side,
    centred: the dark corners of the dermatoscope's field of view are left out); the lesion is
    the darker class, opened with a disc of radius ``max(1, round(side / 80))`` px (3 px at
    256: removes hairs; skipped when it would empty the mask), reduced to its largest
    8-connected component, holes filled. A constant disc, or an empty result, gives the central
    disc itself. *Skin* is the central disc minus the lesion. A ground-truth mask can be passed
    instead (:func:`conventional_features` ``masks=``).

Feature groups, in column order (151 in all; :data:`FEATURE_GROUPS`; names
:func:`conventional_feature_names`):

colour moments (36)
    Mean, std, skewness and excess kurtosis inside the lesion of 9 channels: R, G, B (0-255),
    H, S, V (0-1; the hue is turned by half a turn, ``(h + 0.5) mod 1``, so that the red-brown
    hues of skin and lesions lie mid-range, away from the wrap-around), L* (0-100), a*, b*
    (CIELAB, D65). ``colour_<channel>_<mean|std|skew|kurt>``.
colour contrast (3)
    Lesion mean minus skin mean of L*, a*, b*. ``contrast_<L|a|b>``.
RGB histogram (64)
    Joint 4×4×4 histogram of R, G, B (bins of 64 levels) over the lesion, as fractions of its
    pixels. ``rgbhist_<r><g><b>``.
dermoscopic colours (7)
    Fraction of the lesion's pixels nearest (CIELAB distance) to each of six reference colours
    (white, red, light brown, dark brown, blue-grey, black: :data:`DERMOSCOPIC_COLOURS`), and
    how many of them cover at least 5 % (``dermcolour_count``).
geometry (14)
    Of the lesion mask: area fraction (of the image); perimeter (Crofton estimate), major and
    minor axes (of the ellipse with the same second moments), all in units of sqrt(H·W);
    compactness 4πA/P² (1 for a disc); eccentricity; solidity; extent; minor/major axis ratio;
    asymmetry about the major and about the minor principal axis (fraction of the lesion's
    pixels whose mirror image through the axis, rounded to the nearest pixel, falls outside the
    lesion; 0 for a mirror-symmetric shape) and their mean; distance of the centroid from the
    image centre in units of sqrt(H·W); coefficient of variation of the distance from the
    centroid to the boundary pixels (border irregularity). ``shape_<name>``.
GLCM (12)
    Contrast, dissimilarity, homogeneity, energy, correlation and ASM of the grey-level
    co-occurrence matrix of the lesion (luminance quantised to 32 levels, symmetric, only pairs
    with both pixels in the lesion) at distances 1 and 3 px, averaged over the angles 0, 45, 90
    and 135 degrees. ``glcm_<prop>_d<1|3>``.
LBP (10)
    Histogram of uniform local binary patterns (P = 8, R = 1: 10 codes) of the luminance (0-255)
    over the lesion, as fractions. ``lbp_<code>``.
gradient (5)
    Sobel gradient magnitude of the luminance (0-1 per px): mean, std and 90th percentile inside
    the lesion, mean on its boundary pixels, mean over the skin. ``gradient_<name>``.

Undefined values are replaced by 0: the moments beyond the mean of a constant channel, the
contrast and the skin gradient when the lesion fills the central disc (no skin), GLCM statistics
of a lesion without pixel pairs, the correlation of a flat lesion. Every feature is finite for
any image (e.g. a constant image, or a lesion of one pixel).

About 25 ms per 256×256 image on one core (CIELAB conversion, LBP and moments dominate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.color import rgb2gray, rgb2lab
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern
from skimage.filters import threshold_otsu
from skimage.measure import regionprops

__all__ = [
    "DERMOSCOPIC_COLOURS",
    "FEATURE_GROUPS",
    "conventional_feature_names",
    "conventional_features",
    "image_features",
    "lesion_mask",
]

#: Radius of the central disc, as a fraction of the shorter image side.
DISC_FRACTION = 0.48
#: Reference colours of dermoscopy (RGB 0-255) for the "dermoscopic colours" group.
DERMOSCOPIC_COLOURS: dict[str, tuple[int, int, int]] = {
    "white": (235, 235, 235),
    "red": (200, 50, 50),
    "light_brown": (165, 110, 70),
    "dark_brown": (90, 50, 30),
    "blue_grey": (100, 115, 140),
    "black": (30, 25, 25),
}
_CHANNELS = ("R", "G", "B", "H", "S", "V", "L", "a", "b")
_MOMENTS = ("mean", "std", "skew", "kurt")
_GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
_GLCM_DISTANCES = (1, 3)
_GLCM_LEVELS = 32
_GEOMETRY = (
    "area_fraction",
    "perimeter",
    "compactness",
    "eccentricity",
    "solidity",
    "extent",
    "major_axis",
    "minor_axis",
    "axis_ratio",
    "asymmetry_major",
    "asymmetry_minor",
    "asymmetry_mean",
    "centroid_offset",
    "radial_cv",
)
_GRADIENT = ("lesion_mean", "lesion_std", "lesion_p90", "border_mean", "skin_mean")
_COLOUR_PRESENT = 0.05  # a dermoscopic colour counts when it covers at least this fraction
_OPENING_DIVISOR = 80  # opening radius: shorter side / 80 px (3 px at 256)


def _names() -> dict[str, list[str]]:
    return {
        "colour moments": [f"colour_{c}_{m}" for c in _CHANNELS for m in _MOMENTS],
        "colour contrast": [f"contrast_{c}" for c in ("L", "a", "b")],
        "RGB histogram": [
            f"rgbhist_{r}{g}{b}" for r in range(4) for g in range(4) for b in range(4)
        ],
        "dermoscopic colours": [f"dermcolour_{c}" for c in DERMOSCOPIC_COLOURS]
        + ["dermcolour_count"],
        "geometry": [f"shape_{g}" for g in _GEOMETRY],
        "GLCM": [f"glcm_{p}_d{d}" for d in _GLCM_DISTANCES for p in _GLCM_PROPS],
        "LBP": [f"lbp_{k}" for k in range(10)],
        "gradient": [f"gradient_{g}" for g in _GRADIENT],
    }


#: Feature group → number of columns, in column order.
FEATURE_GROUPS: dict[str, int] = {group: len(names) for group, names in _names().items()}
_REFERENCE_LAB = rgb2lab(
    np.asarray(list(DERMOSCOPIC_COLOURS.values()), dtype=np.uint8)[None]
).reshape(-1, 3)


def conventional_feature_names() -> list[str]:
    """Names of the columns of :func:`conventional_features`, in order (151 names)."""
    return [name for names in _names().values() for name in names]


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    if min(image.shape[:2]) < 4:
        raise ValueError(f"image must be at least 4 px a side, got {image.shape[:2]}")
    return image


def _central_disc(height: int, width: int) -> np.ndarray:
    yy, xx = np.ogrid[0:height, 0:width]
    radius = DISC_FRACTION * min(height, width)
    return (yy + 0.5 - height / 2) ** 2 + (xx + 0.5 - width / 2) ** 2 <= radius**2


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def _mask_from_lightness(lightness: np.ndarray) -> np.ndarray:
    height, width = lightness.shape
    disc = _central_disc(height, width)
    values = lightness[disc]
    if values.size == 0 or float(values.max() - values.min()) < 1e-6:
        return disc
    threshold = threshold_otsu(values)
    candidate = disc & (lightness <= threshold)
    radius = max(1, round(min(height, width) / _OPENING_DIVISOR))
    yy, xx = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    opened = ndimage.binary_opening(candidate, structure=yy**2 + xx**2 <= radius**2)
    if opened.any():
        candidate = opened
    mask = ndimage.binary_fill_holes(_largest_component(candidate))
    return mask if mask.any() else disc


def lesion_mask(image: np.ndarray) -> np.ndarray:
    """The lesion of a dermoscopic image, found without ground truth (see the module docstring).

    Parameters
    ----------
    image : ndarray
        (H, W, 3) uint8 RGB, at least 4 px a side.

    Returns
    -------
    ndarray
        (H, W) bool, never empty: Otsu on CIELAB L* in the central disc, the darker class,
        opened, largest component, holes filled; the central disc when that finds nothing.
    """
    image = _check_image(image)
    return _mask_from_lightness(rgb2lab(image)[..., 0])


def _moments(values: np.ndarray) -> np.ndarray:
    """Mean, std, skewness and excess kurtosis of every row of (c, n): (c, 4)."""
    mean = values.mean(axis=1)
    dev = values - mean[:, None]
    dev2 = dev * dev
    m2 = dev2.mean(axis=1)
    m3 = (dev2 * dev).mean(axis=1)
    m4 = (dev2 * dev2).mean(axis=1)
    flat = m2 <= 1e-12 * np.maximum(1.0, mean**2)
    safe = np.where(flat, 1.0, m2)
    skew = np.where(flat, 0.0, m3 / safe**1.5)
    kurt = np.where(flat, 0.0, m4 / safe**2 - 3.0)
    return np.stack([mean, np.sqrt(m2), skew, kurt], axis=1)


def _hsv(rgb: np.ndarray) -> np.ndarray:
    """HSV (each 0-1) of (n, 3) uint8 RGB pixels, as :func:`skimage.color.rgb2hsv`: (3, n)."""
    r, g, b = rgb.T.astype(np.float64) / 255.0
    high = np.maximum(np.maximum(r, g), b)
    delta = high - np.minimum(np.minimum(r, g), b)
    sat = np.where(high > 0, delta / np.where(high > 0, high, 1.0), 0.0)
    safe = np.where(delta > 0, delta, 1.0)
    hue = np.where(
        high == r, (g - b) / safe, np.where(high == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe)
    )
    hue = np.where(delta > 0, (hue / 6.0) % 1.0, 0.0)
    return np.stack([hue, sat, high])


def _mirror_overlap(
    coords: np.ndarray, mask: np.ndarray, centre: np.ndarray, axis: np.ndarray
) -> float:
    """Fraction of the mask's pixels whose mirror image through the line (centre, axis) is out."""
    offset = coords - centre
    mirrored = centre + 2 * (offset @ axis)[:, None] * axis[None, :] - offset
    idx = np.rint(mirrored).astype(np.int64)
    height, width = mask.shape
    inside = (idx[:, 0] >= 0) & (idx[:, 0] < height) & (idx[:, 1] >= 0) & (idx[:, 1] < width)
    hit = np.zeros(len(coords), dtype=bool)
    hit[inside] = mask[idx[inside, 0], idx[inside, 1]]
    return 1.0 - float(hit.mean())


def _geometry(mask: np.ndarray) -> list[float]:
    height, width = mask.shape
    unit = math.sqrt(height * width)
    props = regionprops(mask.astype(np.uint8))[0]
    area = float(props.area)
    perimeter = float(props.perimeter_crofton)
    major, minor = float(props.axis_major_length), float(props.axis_minor_length)
    coords = np.argwhere(mask).astype(np.float64)
    centre = coords.mean(axis=0)
    cov = np.cov(coords.T) if len(coords) > 1 else np.zeros((2, 2))
    _, vectors = np.linalg.eigh(cov)  # ascending: columns minor, major
    asym_major = _mirror_overlap(coords, mask, centre, vectors[:, 1])
    asym_minor = _mirror_overlap(coords, mask, centre, vectors[:, 0])
    border = mask & ~ndimage.binary_erosion(mask)
    radii = np.hypot(*(np.argwhere(border) - centre).T)
    radial_cv = float(radii.std() / radii.mean()) if radii.size and radii.mean() > 0 else 0.0
    offset = math.hypot(centre[0] + 0.5 - height / 2, centre[1] + 0.5 - width / 2)
    return [
        area / (height * width),
        perimeter / unit,
        4 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0,
        float(props.eccentricity),
        float(props.solidity),
        float(props.extent),
        major / unit,
        minor / unit,
        minor / major if major > 0 else 0.0,
        asym_major,
        asym_minor,
        0.5 * (asym_major + asym_minor),
        offset / unit,
        radial_cv,
    ]


def _glcm(grey8: np.ndarray, mask: np.ndarray) -> list[float]:
    rows, cols = np.nonzero(mask)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    levels = grey8[box] // (256 // _GLCM_LEVELS) + 1  # 1..32 in the lesion, 0 outside
    levels = np.where(mask[box], levels, 0).astype(np.uint8)
    angles = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
    matrix = graycomatrix(
        levels, _GLCM_DISTANCES, angles, levels=_GLCM_LEVELS + 1, symmetric=True, normed=False
    )[1:, 1:]  # drop every pair that touches a pixel outside the lesion
    with np.errstate(divide="ignore", invalid="ignore"):
        values = [graycoprops(matrix, prop).mean(axis=1) for prop in _GLCM_PROPS]  # (2,) each
    return [float(v[d]) for d in range(len(_GLCM_DISTANCES)) for v in values]


def image_features(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The conventional features of one image.

    Parameters
    ----------
    image : ndarray
        (H, W, 3) uint8 RGB, at least 4 px a side.
    mask : ndarray, optional
        (H, W) lesion mask (non-zero = lesion), e.g. a ground truth; an empty one is replaced by
        the central disc. Default: :func:`lesion_mask`.

    Returns
    -------
    ndarray
        (F,) float64, F = 151, in the order of :func:`conventional_feature_names`; finite.
    """
    image = _check_image(image)
    height, width = image.shape[:2]
    lab = rgb2lab(image)
    if mask is None:
        mask = _mask_from_lightness(lab[..., 0])
    else:
        mask = np.asarray(mask).astype(bool)
        if mask.shape != (height, width):
            raise ValueError(f"mask of shape {mask.shape} for an image of {(height, width)}")
        if not mask.any():
            mask = _central_disc(height, width)
    skin = _central_disc(height, width) & ~mask

    rgb_px = image[mask]  # (n, 3) uint8
    lab_px = lab[mask]  # (n, 3)
    hsv_px = _hsv(rgb_px)
    hsv_px[0] = (hsv_px[0] + 0.5) % 1.0
    channels = np.concatenate([rgb_px.T.astype(np.float64), hsv_px, lab_px.T])  # (9, n)
    colour = _moments(channels).ravel()
    if skin.any():
        contrast = lab_px.mean(axis=0) - lab[skin].mean(axis=0)
    else:
        contrast = np.zeros(3)

    quant = (rgb_px // 64).astype(np.int64)
    codes = quant[:, 0] * 16 + quant[:, 1] * 4 + quant[:, 2]
    histogram = np.bincount(codes, minlength=64) / len(codes)

    # nearest reference colour: argmin of |x - c|^2 = argmin of |c|^2 - 2 x.c
    score = (_REFERENCE_LAB**2).sum(axis=1)[None, :] - 2.0 * lab_px @ _REFERENCE_LAB.T
    nearest = np.bincount(score.argmin(axis=1), minlength=len(DERMOSCOPIC_COLOURS)) / len(lab_px)
    dermoscopic = [*nearest, float((nearest >= _COLOUR_PRESENT).sum())]

    geometry = _geometry(mask)
    grey = rgb2gray(image)  # (H, W) float64 in [0, 1]
    grey8 = np.clip(np.rint(grey * 255), 0, 255).astype(np.uint8)
    glcm = _glcm(grey8, mask)
    rows, cols = np.nonzero(mask)
    box = (  # the lesion's bounding box and 1 px around it: LBP with radius 1 sees no further
        slice(max(rows.min() - 1, 0), rows.max() + 2),
        slice(max(cols.min() - 1, 0), cols.max() + 2),
    )
    lbp = local_binary_pattern(grey8[box], 8, 1, method="uniform")
    lbp_hist = np.bincount(lbp[mask[box]].astype(np.int64), minlength=10)[:10] / len(rows)
    magnitude = np.hypot(ndimage.sobel(grey, axis=0), ndimage.sobel(grey, axis=1)) / 8.0
    inner = magnitude[mask]
    border = mask & ~ndimage.binary_erosion(mask)
    gradient = [
        inner.mean(),
        inner.std(),
        np.percentile(inner, 90),
        magnitude[border].mean() if border.any() else 0.0,
        magnitude[skin].mean() if skin.any() else 0.0,
    ]
    out = np.concatenate(
        [colour, contrast, histogram, dermoscopic, geometry, glcm, lbp_hist, gradient]
    ).astype(np.float64)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def conventional_features(
    images: Sequence[np.ndarray], masks: Sequence[np.ndarray | None] | None = None
) -> np.ndarray:
    """Conventional colour, geometric and texture features of every image.

    Parameters
    ----------
    images : sequence of ndarray
        N images, each (H, W, 3) uint8 RGB (sizes may differ), at least 4 px a side.
    masks : sequence of ndarray or None, optional
        N lesion masks (H, W), non-zero = lesion, or ``None`` entries; default: every mask found
        by :func:`lesion_mask`.

    Returns
    -------
    ndarray
        (N, 151) float64, columns named by :func:`conventional_feature_names` (groups and units
        in the module docstring); finite (undefined values are 0).
    """
    images = list(images)
    mask_list = [None] * len(images) if masks is None else list(masks)
    if len(mask_list) != len(images):
        raise ValueError(f"{len(images)} images but {len(mask_list)} masks")
    width = len(conventional_feature_names())
    if not images:
        return np.zeros((0, width), dtype=np.float64)
    return np.stack([image_features(im, m) for im, m in zip(images, mask_list, strict=True)])
