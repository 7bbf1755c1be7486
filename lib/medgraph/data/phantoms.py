"""Seeded synthetic images with exact masks: the offline stand-in for the real data sets.

:func:`make_wbc_phantoms` imitates the WBC data sets (three pixel classes);
:func:`make_lesion_phantoms` imitates the binary lesion and microorganism data sets (ISIC 2016 and
PH2 in the ``"dermoscopy"`` style, EMDS-5/6 in the ``"microscopy"`` style). Each phantom is drawn
with numpy on a pixel grid (no per-pixel Python loops): shapes are implicit functions ``f(x, y)``
in pixels, negative inside, so the mask is ``f < 0`` and the rendered colour uses a soft edge
``sigmoid(-f / edge)`` around the same contour; the image is then lit unevenly, blurred and made
noisy. The generators are meant for tests, examples and the offline ``quick`` profile, not as a
substitute for the real data in reported results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.special import expit

from medgraph.data.dataset import SegmentationDataset

__all__ = ["make_wbc_phantoms", "PHANTOM_STYLES"]

_RGB = tuple[float, float, float]


@dataclass(frozen=True)
class _Style:
    default_size: tuple[int, int]
    class_counts: tuple[int, int, int, int, int]  # neutrophil … basophil in the real set
    cell_radius: tuple[float, float]  # × min(H, W)
    centre_jitter: float  # × min(H, W)
    n_rbc: tuple[int, int]
    rbc_radius: tuple[float, float]  # × min(H, W)
    bg_plain: _RGB
    bg_tinted: _RGB
    rbc: _RGB
    rbc_body: float  # opacity of a red cell's body
    rbc_rim: float  # extra opacity at its rim
    rbc_pallor: float  # opacity removed at its centre
    cytoplasm: _RGB
    nucleus: _RGB
    eosinophil_granules: _RGB
    basophil_granules: _RGB
    blur: tuple[float, float]  # Gaussian sigma in px at the default size
    noise: tuple[float, float]  # sigma of additive noise, fraction of full scale


_STYLES: dict[str, _Style] = {
    # Jiangxi Tecom set: yellowish background, pale ring-like red cells, magenta nuclei, soft focus
    "wbc1": _Style(
        default_size=(120, 120),
        class_counts=(176, 53, 48, 22, 1),
        cell_radius=(0.24, 0.40),
        centre_jitter=0.05,
        n_rbc=(0, 4),
        rbc_radius=(0.17, 0.24),
        bg_plain=(0.99, 0.98, 0.95),
        bg_tinted=(0.99, 0.94, 0.56),
        rbc=(0.90, 0.76, 0.60),
        rbc_body=0.22,
        rbc_rim=0.55,
        rbc_pallor=0.18,
        cytoplasm=(0.76, 0.55, 0.52),
        nucleus=(0.44, 0.14, 0.40),
        eosinophil_granules=(0.85, 0.45, 0.30),
        basophil_granules=(0.27, 0.09, 0.30),
        blur=(0.6, 1.4),
        noise=(0.008, 0.02),
    ),
    # CellaVision set: pale pink plasma, pink red cells with pale centres, purple cells, sharp
    "wbc2": _Style(
        default_size=(300, 300),
        class_counts=(33, 37, 15, 12, 3),
        cell_radius=(0.19, 0.31),
        centre_jitter=0.06,
        n_rbc=(5, 14),
        rbc_radius=(0.095, 0.125),
        bg_plain=(0.97, 0.92, 0.90),
        bg_tinted=(0.95, 0.86, 0.83),
        rbc=(0.86, 0.55, 0.56),
        rbc_body=0.85,
        rbc_rim=0.15,
        rbc_pallor=0.45,
        cytoplasm=(0.76, 0.63, 0.72),
        nucleus=(0.38, 0.19, 0.53),
        eosinophil_granules=(0.90, 0.52, 0.42),
        basophil_granules=(0.22, 0.10, 0.34),
        blur=(0.5, 1.1),
        noise=(0.006, 0.016),
    ),
}
PHANTOM_STYLES: tuple[str, ...] = tuple(_STYLES)

# per-class tint of the cytoplasm (neutrophil, lymphocyte, monocyte, eosinophil, basophil)
_CYTO_TINT = np.array(
    [
        [1.00, 1.00, 1.00],
        [0.93, 0.97, 1.06],
        [0.95, 0.97, 1.04],
        [1.03, 0.97, 0.95],
        [0.97, 0.95, 1.0],
    ],
    dtype=np.float32,
)


def _allocate(n: int, counts: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Class labels 1..5 in proportion to ``counts`` (largest remainder), shuffled."""
    share = np.asarray(counts, dtype=np.float64) / sum(counts) * n
    base = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - base), kind="stable")
    base[order[: n - base.sum()]] += 1
    labels = np.repeat(np.arange(1, len(counts) + 1), base)
    return rng.permutation(labels)


def _pick_size(
    size: int | tuple[int, int] | None, style: str, rng: np.random.Generator
) -> tuple[int, int]:
    if size is not None:
        return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if style == "wbc1":  # 3/4 are 120x120, the rest 96-120 px a side in steps of 4, rarely 88
        if rng.random() < 0.75:
            return 120, 120
        if rng.random() < 0.03:
            return 88, 88
        h, w = rng.choice(np.arange(96, 121, 4), size=2)
        return int(h), int(w)
    return _STYLES[style].default_size


def _jitter(colour: _RGB, rng: np.random.Generator, spread: float) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) * np.exp(rng.normal(0, spread, 3)), 0, 1).astype(
        np.float32
    )


def _smooth_noise(shape: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian-filtered white noise, (H, W) float32."""
    field = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma, truncate=3.0)
    return (field - field.mean()) / (field.std() + 1e-6)


def _disc(u: np.ndarray, v: np.ndarray, cu: float, cv: float, r: float) -> np.ndarray:
    return np.hypot(u - cu, v - cv) - r


def _capsule(u: np.ndarray, v: np.ndarray, p: np.ndarray, q: np.ndarray, w: float) -> np.ndarray:
    d = q - p
    t = np.clip(((u - p[0]) * d[0] + (v - p[1]) * d[1]) / max(float(d @ d), 1e-9), 0.0, 1.0)
    return np.hypot(u - (p[0] + t * d[0]), v - (p[1] + t * d[1])) - w


def _ellipse(u: np.ndarray, v: np.ndarray, cu: float, cv: float, a: float, b: float) -> np.ndarray:
    return (np.hypot((u - cu) / a, (v - cv) / b) - 1.0) * min(a, b)


def _nucleus_field(cls: int, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Implicit nucleus shape in cell-radius units (negative inside), by cell type."""
    if cls == 1:  # neutrophil: 2-5 lobes along an arc, joined by thin bridges
        n_lobes = int(rng.integers(2, 6))
        r_lobe = rng.uniform(0.25, 0.32) * (3.0 / (n_lobes + 1)) ** 0.35
        arc = rng.uniform(0.28, 0.40)
        step = 2 * np.arcsin(min(r_lobe * rng.uniform(1.9, 2.3) / (2 * arc), 0.99))
        angles = (
            rng.uniform(0, 2 * np.pi) + step * np.arange(n_lobes) + rng.normal(0, 0.08, n_lobes)
        )
        centres = arc * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        centres -= 0.6 * centres.mean(axis=0)
        f = np.full(u.shape, np.inf, dtype=np.float32)
        for c in centres:
            f = np.minimum(f, _disc(u, v, c[0], c[1], r_lobe * rng.uniform(0.85, 1.15)))
        for p, q in zip(centres[:-1], centres[1:], strict=True):
            f = np.minimum(f, _capsule(u, v, p, q, r_lobe * rng.uniform(0.22, 0.35)))
        return f
    if cls == 2:  # lymphocyte: one large round nucleus filling most of the cell
        return _disc(
            u, v, rng.uniform(-0.07, 0.07), rng.uniform(-0.07, 0.07), rng.uniform(0.76, 0.88)
        )
    if cls == 3:  # monocyte: an ellipse with a bite taken out of one side (kidney shape)
        a, b = rng.uniform(0.62, 0.74), rng.uniform(0.48, 0.58)
        cv = rng.uniform(-0.12, -0.02)
        body = _ellipse(u, v, 0.0, cv, a, b)
        r_bite = rng.uniform(0.22, 0.32)
        bite = _disc(u, v, rng.uniform(-0.1, 0.1), cv + b + r_bite * rng.uniform(0.3, 0.6), r_bite)
        return np.maximum(body, -bite)
    if cls == 4:  # eosinophil: two lobes joined by a bridge
        d, r_lobe = rng.uniform(0.28, 0.38), rng.uniform(0.28, 0.34)
        p = np.array([-d, rng.uniform(-0.05, 0.05)])
        q = np.array([d, rng.uniform(-0.05, 0.05)])
        lobes = np.minimum(
            _disc(u, v, *p, r_lobe), _disc(u, v, *q, r_lobe * rng.uniform(0.85, 1.1))
        )
        return np.minimum(lobes, _capsule(u, v, p, q, rng.uniform(0.05, 0.09)))
    # basophil: an irregular blob of two or three overlapping discs (hidden under granules)
    f = np.full(u.shape, np.inf, dtype=np.float32)
    for _ in range(int(rng.integers(2, 4))):
        cu, cv = rng.uniform(-0.15, 0.15, 2)
        f = np.minimum(f, _disc(u, v, cu, cv, rng.uniform(0.32, 0.42)))
    return f


_WOBBLE = 0.045  # largest amplitude of the order-2 term of the cell outline (× radius)
_MAX_WOBBLE = sum(_WOBBLE / np.sqrt(k / 2) for k in range(2, 6))


def _window(
    cx: float, cy: float, reach: float, height: int, width: int
) -> tuple[slice, slice] | None:
    """Slices of the box of half-size ``reach`` px around (cx, cy), clipped to the image."""
    y0, y1 = max(int(cy - reach), 0), min(int(np.ceil(cy + reach)) + 1, height)
    x0, x1 = max(int(cx - reach), 0), min(int(np.ceil(cx + reach)) + 1, width)
    if y0 >= y1 or x0 >= x1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _render(
    height: int, width: int, cls: int, st: _Style, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One phantom: (H, W, 3) uint8 image and (H, W) uint8 mask in {0, 1, 2}."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    side = float(min(height, width))
    scale = side / min(st.default_size)  # blur and granule sizes follow the image size
    edge = 0.7  # px, half-width of the soft edges

    # plasma background with a random amount of tint
    tint = rng.uniform()
    bg = (1 - tint) * np.asarray(st.bg_plain) + tint * np.asarray(st.bg_tinted)
    img = np.empty((height, width, 3), dtype=np.float32)
    img[:] = _jitter(tuple(bg), rng, 0.015)

    # the white cell: its centre and radius (px); its pixels are computed in a window around it
    radius = rng.uniform(*st.cell_radius) * side
    cx = width / 2 + rng.uniform(-1, 1) * st.centre_jitter * side
    cy = height / 2 + rng.uniform(-1, 1) * st.centre_jitter * side

    # red cells around it (background label), some cut by the image border
    n_rbc = int(rng.integers(st.n_rbc[0], st.n_rbc[1] + 1))
    r_rbc = rng.uniform(*st.rbc_radius) * side
    rbc_colour = _jitter(st.rbc, rng, 0.04)
    placed: list[np.ndarray] = []
    for c in rng.uniform(-0.15, 1.15, size=(12 * n_rbc, 2)) * np.array([width, height]):
        if len(placed) == n_rbc:
            break
        if np.hypot(c[0] - cx, c[1] - cy) < radius + 0.5 * r_rbc:
            continue
        if any(np.hypot(*(c - p)) < 1.3 * r_rbc for p in placed):
            continue
        placed.append(c)
    for c in placed:
        r = r_rbc * rng.uniform(0.88, 1.12)
        ecc, phi = rng.uniform(0, 0.08), rng.uniform(0, np.pi)
        win = _window(c[0], c[1], r * 1.1 + 10 * edge, height, width)
        if win is None:
            continue
        wx, wy = xx[win] - c[0], yy[win] - c[1]
        ru = wx * np.cos(phi) + wy * np.sin(phi)
        rv = -wx * np.sin(phi) + wy * np.cos(phi)
        d = np.hypot(ru / (1 + ecc), rv / (1 - ecc))
        t = d / r
        strength = (
            st.rbc_body
            + st.rbc_rim * np.exp(-(((t - 0.85) / 0.13) ** 2))
            - st.rbc_pallor * np.exp(-((t / 0.5) ** 2))
        )
        alpha = (expit((r - d) / edge) * np.clip(strength, 0, 1))[..., None]
        img[win] = img[win] * (1 - alpha) + rbc_colour * alpha

    # cytoplasm outline: a circle whose radius carries random Fourier terms of orders 2-5
    win = _window(cx, cy, radius * (1 + _MAX_WOBBLE) + 10 * edge, height, width)
    dx, dy = xx[win] - cx, yy[win] - cy
    theta = np.arctan2(dy, dx)
    wobble = np.zeros_like(theta)
    for k in range(2, 6):
        amplitude = rng.uniform(0, _WOBBLE) / np.sqrt(k / 2)
        wobble += amplitude * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    f_cell = np.hypot(dx, dy) - radius * (1 + wobble)

    # nucleus in cell coordinates (units of the cell radius), with a wavy boundary
    beta = rng.uniform(0, 2 * np.pi)
    u = (dx * np.cos(beta) + dy * np.sin(beta)) / radius
    v = (-dx * np.sin(beta) + dy * np.cos(beta)) / radius
    f_nuc = _nucleus_field(cls, u, v, rng)
    for _ in range(4):
        k = rng.uniform(2.5, 6.0)
        ang = rng.uniform(0, 2 * np.pi)
        f_nuc = f_nuc + rng.uniform(0.006, 0.016) * np.cos(
            k * (u * np.cos(ang) + v * np.sin(ang)) + rng.uniform(0, 2 * np.pi)
        )
    f_nuc = np.maximum(f_nuc * radius, f_cell + 1.0)  # keep at least 1 px of cytoplasm around it

    mask = np.zeros((height, width), dtype=np.uint8)
    cell_mask = mask[win]  # a view
    cell_mask[f_cell < 0] = 1
    cell_mask[f_nuc < 0] = 2

    # cytoplasm, then granules, then the nucleus with a chromatin texture
    shape = f_cell.shape
    sub = img[win]
    cyto = _jitter(st.cytoplasm, rng, 0.04) * _CYTO_TINT[cls - 1]
    a_cell = expit(-f_cell / edge)[..., None]
    texture = 1 + 0.035 * _smooth_noise(shape, 1.5 * scale, rng)
    sub = sub * (1 - a_cell) + np.clip(cyto * texture[..., None], 0, 1) * a_cell
    a_nuc = expit(-f_nuc / edge)[..., None]
    granule_sigma = 0.8 * scale
    if cls == 4:  # eosinophil: coarse orange granules filling the cytoplasm
        g = _smooth_noise(shape, granule_sigma, rng)
        a_gr = np.clip((g - 0.2) * 0.9, 0, 0.8)[..., None] * a_cell * (1 - 0.8 * a_nuc)
        sub = sub * (1 - a_gr) + _jitter(st.eosinophil_granules, rng, 0.04) * a_gr
    nucleus = _jitter(st.nucleus, rng, 0.06)
    chromatin = 1 + 0.10 * _smooth_noise(shape, 1.2 * scale, rng)
    sub = sub * (1 - a_nuc) + np.clip(nucleus * chromatin[..., None], 0, 1) * a_nuc
    if cls == 5:  # basophil: dark granules over the whole cell, hiding the nucleus
        g = _smooth_noise(shape, 1.2 * granule_sigma, rng)
        a_gr = np.clip((g + 0.8) * 0.9, 0, 0.93)[..., None] * a_cell
        sub = sub * (1 - a_gr) + _jitter(st.basophil_granules, rng, 0.05) * a_gr
    img[win] = sub

    # uneven illumination: a linear ramp and a mild vignette
    ang = rng.uniform(0, 2 * np.pi)
    xn, yn = xx / width - 0.5, yy / height - 0.5
    gain = 1 + rng.uniform(0.02, 0.10) * 2 * (xn * np.cos(ang) + yn * np.sin(ang))
    gain *= 1 - rng.uniform(0.0, 0.25) * (xn**2 + yn**2)
    img *= gain[..., None]

    # optics and sensor: Gaussian blur, then additive Gaussian noise
    sigma = rng.uniform(*st.blur) * scale
    img = gaussian_filter(img, sigma=(sigma, sigma, 0), truncate=3.0)
    img += rng.uniform(*st.noise) * rng.standard_normal(img.shape, dtype=np.float32)
    image = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    return image, mask


def make_wbc_phantoms(
    n: int,
    seed: int = 0,
    style: str = "wbc1",
    size: int | tuple[int, int] | None = None,
) -> SegmentationDataset:
    """Synthetic white-blood-cell images with exact masks: the offline default.

    Used whenever the real WBC data are not on disk (``load_dataset(..., source="auto")``) and
    by the tests. Every image shows one white cell in the middle of the field:

    - an irregular cytoplasm outline (a circle whose radius is perturbed by random Fourier terms
      of orders 2–5);
    - a nucleus shaped by the cell type: neutrophil 2–5 lobes on an arc joined by thin bridges;
      lymphocyte one large round nucleus filling most of the cell; monocyte an ellipse with an
      indentation (kidney shape); eosinophil two lobes and coarse orange granules in the
      cytoplasm; basophil dark granules over the whole cell that obscure the nucleus;
    - red blood cells around it (discs with a paler centre, some cut by the image border; they
      are background in the mask);
    - per-image stain colour variation, an illumination ramp and vignette, Gaussian blur and
      Gaussian noise.

    Cell types are allotted in the proportions of the real data set (largest remainder, then
    shuffled), so ``n`` equal to the real size reproduces its class counts exactly: wbc1
    176/53/48/22/1 of 300, wbc2 33/37/15/12/3 of 100.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int
        Seed of the numpy Generator; the same (n, seed, style, size) gives identical arrays.
    style : {"wbc1", "wbc2"}
        ``"wbc1"``: yellowish background, pale ring-like red cells, magenta-brown nucleus, soft
        focus; 120×120 px for three images in four, the rest 88–120 px a side (like the real
        set). ``"wbc2"``: pale pink plasma, pink red cells, purple cells, 300×300 px.
    size : int or (int, int), optional
        Fixed image size in pixels (square side, or (height, width)); default as per ``style``.

    Returns
    -------
    SegmentationDataset
        ``name=style``, ``source="phantom"``; images (H, W, 3) uint8; masks (H, W) uint8 with
        0 background (red cells included), 1 cytoplasm, 2 nucleus; ids ``"P0001"`` …; class
        labels 1..5.
    """
    if style not in _STYLES:
        raise ValueError(f"style must be one of {', '.join(_STYLES)}, not {style!r}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    if size is not None:
        dims = (size, size) if isinstance(size, int | np.integer) else tuple(size)
        if len(dims) != 2 or min(int(d) for d in dims) < 16:
            raise ValueError(
                f"size must be an int or (height, width) of at least 16 px, not {size!r}"
            )
        size = (int(dims[0]), int(dims[1]))
    st = _STYLES[style]
    streams = np.random.SeedSequence([int(seed), PHANTOM_STYLES.index(style)]).spawn(n + 1)
    classes = _allocate(n, st.class_counts, np.random.default_rng(streams[0]))
    images, masks = [], []
    for cls, stream in zip(classes, streams[1:], strict=True):
        rng = np.random.default_rng(stream)
        h, w = _pick_size(size, style, rng)
        image, mask = _render(h, w, int(cls), st, rng)
        images.append(image)
        masks.append(mask)
    return SegmentationDataset(
        name=style,
        source="phantom",
        images=images,
        masks=masks,
        ids=[f"P{i + 1:04d}" for i in range(n)],
        class_labels=classes.astype(np.int64),
        root=None,
    )
