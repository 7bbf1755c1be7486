"""Classical two-way segmentations, scored with the same foreground rule as the graph cuts.

Two rows of reference for the per-image graph cuts, both without learning and without the ground
truth:

- :func:`otsu_lab_mask` — Otsu's threshold on the CIELAB lightness L* of the image;
- :func:`kmeans_lab_mask` — 2-means on the CIELAB colour (L*, a*, b*) of the pixels.

Each splits the pixels into two sides; the foreground is chosen by the centre rule of
:func:`medgraph.graphcut.foreground_cluster` applied at PIXEL level — every pixel is a "patch" of
an H × W grid, so the side whose pixels lie nearer the image centre on average (ties: fewer border
pixels) is the object. Both return a binary mask at image resolution.
"""

from __future__ import annotations

import numpy as np
from skimage.color import gray2rgb, rgb2lab
from skimage.filters import threshold_otsu
from sklearn.cluster import KMeans

from medgraph.graphcut.foreground import foreground_mask

__all__ = ["lab_image", "otsu_lab_mask", "kmeans_lab_mask", "pixel_foreground"]


def lab_image(image: np.ndarray) -> np.ndarray:
    """CIELAB of an RGB (or grey) image.

    Parameters
    ----------
    image : (H, W, 3) or (H, W) array
        uint8, or float in [0, 1].

    Returns
    -------
    (H, W, 3) float64 array (L* in [0, 100]).
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = gray2rgb(img)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey, got shape {img.shape}")
    img = img[..., :3]
    if np.issubdtype(img.dtype, np.floating) and img.size and (img.min() < 0 or img.max() > 1):
        raise ValueError("float images must lie in [0, 1]")
    return rgb2lab(img)


def pixel_foreground(labels: np.ndarray) -> np.ndarray:
    """Foreground of a two-way pixel labelling by the centre rule at pixel level.

    Parameters
    ----------
    labels : (H, W) integer array with values 0 and 1

    Returns
    -------
    (H, W) bool array.
    """
    lab = np.asarray(labels)
    return foreground_mask(lab.reshape(1, -1).astype(np.int64), lab.shape, k=2)[0]


def otsu_lab_mask(image: np.ndarray) -> np.ndarray:
    """Otsu's threshold on L* (``skimage.filters.threshold_otsu``), foreground by the centre rule.

    The two sides are ``L* > t`` and ``L* ≤ t``. A constant image has one side only, which is
    then the foreground (the whole image).

    Parameters
    ----------
    image : (H, W, 3) or (H, W) array
        uint8, or float in [0, 1].

    Returns
    -------
    (H, W) bool mask.
    """
    light = lab_image(image)[..., 0]
    t = threshold_otsu(light) if np.ptp(light) > 0 else light.flat[0]
    return pixel_foreground((light > t).astype(np.int64))


def kmeans_lab_mask(image: np.ndarray, *, seed: int = 0, max_pixels: int = 20_000) -> np.ndarray:
    """2-means on CIELAB colour, foreground by the centre rule.

    ``sklearn.cluster.KMeans(n_clusters=2, n_init=10, random_state=seed)`` is fitted on at most
    ``max_pixels`` pixels drawn without replacement (``numpy.random.default_rng(seed)``); every
    pixel then takes the label of its nearest centre (``KMeans.predict``).

    Parameters
    ----------
    image : (H, W, 3) or (H, W) array
        uint8, or float in [0, 1].
    seed : int, default 0
    max_pixels : int, default 20000

    Returns
    -------
    (H, W) bool mask.
    """
    lab = lab_image(image)
    h, w = lab.shape[:2]
    pixels = lab.reshape(-1, 3)
    if np.ptp(pixels, axis=0).max() == 0:  # one colour: one side, the whole image
        return np.ones((h, w), dtype=bool)
    rng = np.random.default_rng(seed)
    fit_on = pixels
    if len(pixels) > max_pixels:
        fit_on = pixels[rng.choice(len(pixels), size=max_pixels, replace=False)]
    km = KMeans(n_clusters=2, n_init=10, random_state=seed).fit(fit_on)
    return pixel_foreground(km.predict(pixels).reshape(h, w))
