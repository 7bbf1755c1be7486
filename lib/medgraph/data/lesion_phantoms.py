"""Seeded binary phantoms: skin lesions (dermoscopy) and microorganisms (microscopy).

The offline default of the binary segmentation data sets (ISIC 2016, PH2, EMDS-5/6): an irregular
object with texture on a textured background, with hair strands, uneven illumination and, for
dermoscopy, the dark corners of the round field of view. Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.special import expit

from medgraph.data.dataset import BinarySegmentationDataset
from medgraph.data.phantoms import _capsule, _jitter, _smooth_noise

__all__ = ["make_lesion_phantoms", "LESION_STYLES"]


# -- binary phantoms: skin lesions (dermoscopy) and microorganisms (microscopy) ------------------

#: Styles of :func:`make_lesion_phantoms`.
LESION_STYLES: tuple[str, ...] = ("dermoscopy", "microscopy")
_LESION_SEED_OFFSET = 1000  # keeps the seed streams apart from those of the WBC styles


@dataclass(frozen=True)
class _Outline:
    """A star-shaped outline: relative radius ``1 + sum_k a_k cos(k theta + phi_k)``, k = 2..6."""

    amplitudes: np.ndarray  # (5,)
    phases: np.ndarray  # (5,)

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude: float) -> _Outline:
        """Random harmonics; ``a_k`` uniform in [0, amplitude / sqrt(k - 1)]."""
        orders = np.arange(2, 7)
        return cls(
            rng.uniform(0, amplitude, orders.size) / np.sqrt(orders - 1),
            rng.uniform(0, 2 * np.pi, orders.size),
        )

    @property
    def reach(self) -> float:
        """``1 + sum a_k``: no point of the outline lies farther out (× the mean radius)."""
        return 1.0 + float(self.amplitudes.sum())

    def factor(self, theta: np.ndarray) -> np.ndarray:
        """Relative radius at the angles ``theta`` (any shape), at least ``2 - reach``."""
        out = np.ones_like(theta)
        for k, (a_k, phi) in enumerate(zip(self.amplitudes, self.phases, strict=True), start=2):
            out += (a_k * np.cos(k * theta + phi)).astype(out.dtype)
        return out


def _polyline_distance(
    xx: np.ndarray, yy: np.ndarray, points: np.ndarray, reach: float
) -> np.ndarray:
    """Distance (px) from pixel centres to a polyline, computed only within ``reach`` of it.

    Parameters
    ----------
    xx, yy : ndarray
        (H, W) pixel-centre coordinates.
    points : ndarray
        (M, 2) vertices (x, y).
    reach : float
        Pixels farther than this from every segment's bounding box keep the distance ``inf``.

    Returns
    -------
    ndarray
        (H, W) float32.
    """
    height, width = xx.shape
    dist = np.full((height, width), np.inf, dtype=np.float32)
    for p, q in zip(points[:-1], points[1:], strict=True):
        y0 = max(int(min(p[1], q[1]) - reach), 0)
        y1 = min(int(max(p[1], q[1]) + reach) + 2, height)
        x0 = max(int(min(p[0], q[0]) - reach), 0)
        x1 = min(int(max(p[0], q[0]) + reach) + 2, width)
        if y0 >= y1 or x0 >= x1:
            continue
        win = dist[y0:y1, x0:x1]  # a view
        np.minimum(win, _capsule(xx[y0:y1, x0:x1], yy[y0:y1, x0:x1], p, q, 0.0), out=win)
    return dist


def _hairs(
    xx: np.ndarray,
    yy: np.ndarray,
    centre: tuple[float, float],
    spread: float,
    scale: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Opacity (H, W) float32 in [0, 1] of 2-5 thin dark curved strands crossing the field."""
    side = float(min(xx.shape))
    alpha = np.zeros(xx.shape, dtype=np.float32)
    t = np.linspace(0.0, 1.0, 17)[:, None]
    for _ in range(int(rng.integers(2, 6))):
        angle, bend = rng.uniform(0, np.pi), rng.uniform(-0.25, 0.25)
        length = rng.uniform(0.5, 1.1) * side
        r, phi = spread * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        mid = np.array([centre[0] + r * np.cos(phi), centre[1] + r * np.sin(phi)])
        direction = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        p0, p2 = mid - 0.5 * length * direction, mid + 0.5 * length * direction
        p1 = mid + bend * length * normal  # quadratic Bezier control point: a gentle curve
        points = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
        half_width = rng.uniform(0.6, 1.1) * scale
        dist = _polyline_distance(xx, yy, points, half_width + 2.0)
        strand = np.clip(half_width + 0.5 - dist, 0.0, 1.0) * rng.uniform(0.8, 0.95)
        np.maximum(alpha, strand, out=alpha)
    return alpha


def _illumination(
    xx: np.ndarray,
    yy: np.ndarray,
    centre: tuple[float, float],
    radius: float,
    rng: np.random.Generator,
    ramp: tuple[float, float],
    vignette: tuple[float, float],
) -> np.ndarray:
    """Gain (H, W): a linear ramp across the image times a radial fall-off from ``centre``."""
    height, width = xx.shape
    ang = rng.uniform(0, 2 * np.pi)
    xn, yn = xx / width - 0.5, yy / height - 0.5
    gain = 1 + rng.uniform(*ramp) * 2 * (xn * np.cos(ang) + yn * np.sin(ang))
    rn2 = ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / radius**2
    return gain * (1 - rng.uniform(*vignette) * np.clip(rn2, 0, 1.5))


def _finish(img: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur, additive Gaussian noise, then 8-bit quantisation: (H, W, 3) uint8."""
    sigma = rng.uniform(0.4, 0.8) * scale
    img = gaussian_filter(img, sigma=(sigma, sigma, 0), truncate=3.0)
    img += rng.uniform(0.004, 0.012) * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def _render_dermoscopy(
    height: int, width: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One dermoscopy phantom: image (H, W, 3) uint8, mask (H, W) uint8, hair opacity (H, W)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    side = float(min(height, width))
    scale = max(side / 128.0, 1.0)

    # skin with a fine and a coarse texture
    skin = _jitter((0.86, 0.65, 0.55), rng, 0.05)
    texture = (
        1
        + 0.035 * _smooth_noise((height, width), 0.06 * side, rng)
        + 0.02 * _smooth_noise((height, width), 0.012 * side, rng)
    )
    img = skin * texture[..., None]

    # the round field of view of the dermatoscope: its dark outside fills the image corners
    fov_centre = (
        width / 2 + rng.uniform(-0.03, 0.03) * side,
        height / 2 + rng.uniform(-0.03, 0.03) * side,
    )
    fov_radius = rng.uniform(0.54, 0.62) * side

    # the lesion: a star-shaped outline around a random point, inside the image and the field
    mean_radius = rng.uniform(0.13, 0.30) * side
    outline = _Outline.draw(rng, 0.14)  # reach <= 1.45: the outline stays star-shaped, r > 0
    outer = mean_radius * outline.reach
    room = max(min(fov_radius - outer - 3.0, side / 2 - outer - 2.0), 0.0)
    r_off, a_off = room * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
    cx = float(np.clip(fov_centre[0] + r_off * np.cos(a_off), outer + 1, width - outer - 1))
    cy = float(np.clip(fov_centre[1] + r_off * np.sin(a_off), outer + 1, height - outer - 1))
    dx, dy = xx - cx, yy - cy
    dist = np.hypot(dx, dy)
    radius = mean_radius * outline.factor(np.arctan2(dy, dx))
    f_lesion = dist - radius
    mask = (f_lesion < 0).astype(np.uint8)

    # pigment: darker towards the centre, mottled, with a few dark globules
    pigment = _jitter((0.45, 0.28, 0.18), rng, 0.10)
    rel = np.clip(dist / np.maximum(radius, 1e-3), 0, 1)
    core = rng.uniform(0.55, 0.8)  # relative brightness at the centre
    shade = core + (1 - core) * rel
    mottle = 1 + 0.12 * _smooth_noise((height, width), 0.03 * side, rng)
    globules = _smooth_noise((height, width), 0.012 * side, rng)
    shade = shade * mottle * np.where(globules > 1.3, 0.7, 1.0)
    edge = rng.uniform(0.8, 2.0) * scale  # a soft, fuzzy border
    a_lesion = (expit(-f_lesion / edge) * rng.uniform(0.85, 1.0))[..., None]
    img = img * (1 - a_lesion) + np.clip(pigment * shade[..., None], 0, 1) * a_lesion

    # hair over skin and lesion alike (not part of the mask)
    hair = _hairs(xx, yy, fov_centre, 0.7 * fov_radius, scale, rng)
    hair_colour = _jitter((0.10, 0.07, 0.06), rng, 0.15)
    img = img * (1 - hair[..., None]) + hair_colour * hair[..., None]

    # uneven light, then the dark outside of the field of view
    img *= _illumination(xx, yy, fov_centre, fov_radius, rng, (0.03, 0.12), (0.1, 0.3))[..., None]
    d_fov = np.hypot(xx - fov_centre[0], yy - fov_centre[1])
    a_fov = expit((fov_radius - d_fov) / (rng.uniform(0.8, 2.0) * scale))[..., None]
    img = img * a_fov + _jitter((0.03, 0.03, 0.03), rng, 0.2) * (1 - a_fov)
    return _finish(img, scale, rng), mask, hair


def _render_microscopy(
    height: int, width: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One microscopy phantom: image (H, W, 3) uint8, mask (H, W) uint8, debris opacity (H, W)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    side = float(min(height, width))
    scale = max(side / 128.0, 1.0)

    background = _jitter((0.88, 0.89, 0.84), rng, 0.03)
    img = background * (1 + 0.015 * _smooth_noise((height, width), 0.05 * side, rng))[..., None]

    # the organism: a rotated ellipse whose outline carries random Fourier terms
    a = rng.uniform(0.14, 0.30) * side
    b = a * rng.uniform(0.45, 0.95)
    beta = rng.uniform(0, np.pi)
    outline = _Outline.draw(rng, 0.06)
    outer = a * outline.reach
    cx = rng.uniform(outer + 2, width - outer - 2) if width > 2 * outer + 4 else width / 2
    cy = rng.uniform(outer + 2, height - outer - 2) if height > 2 * outer + 4 else height / 2
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(beta) + dy * np.sin(beta)
    v = -dx * np.sin(beta) + dy * np.cos(beta)
    rho = np.hypot(u / a, v / b)
    factor = outline.factor(np.arctan2(v / b, u / a))
    f_body = (rho - factor) * b  # about px near the outline, negative inside
    mask = (f_body < 0).astype(np.uint8)

    # translucent body with granules, and a darker membrane along the outline
    edge = 0.7 * scale
    body = expit(-f_body / edge)
    tint = _jitter((0.62, 0.72, 0.55), rng, 0.10)
    granules = np.clip(_smooth_noise((height, width), 0.02 * side, rng) - 0.5, 0, None)
    a_body = (body * (rng.uniform(0.25, 0.45) + 0.15 * granules))[..., None]
    img = img * (1 - a_body) + tint * a_body
    rim = np.exp(-((f_body / (rng.uniform(0.8, 1.6) * scale)) ** 2))
    img *= (1 - rng.uniform(0.3, 0.55) * rim)[..., None]

    # debris: a few small dark specks anywhere (not part of the mask)
    debris = np.zeros((height, width), dtype=np.float32)
    for _ in range(int(rng.integers(2, 7))):
        px, py = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.8, 2.5) * scale
        debris = np.maximum(debris, expit((r - np.hypot(xx - px, yy - py)) / 0.6))
    img = img * (1 - 0.7 * debris[..., None]) + 0.7 * debris[..., None] * 0.25

    centre = (width / 2, height / 2)
    img *= _illumination(xx, yy, centre, 0.75 * side, rng, (0.02, 0.10), (0.0, 0.2))[..., None]
    return _finish(img, scale, rng), mask, debris


_LESION_RENDERERS = {"dermoscopy": _render_dermoscopy, "microscopy": _render_microscopy}


def make_lesion_phantoms(
    n: int,
    seed: int = 0,
    size: int | tuple[int, int] = 128,
    style: str = "dermoscopy",
    name: str | None = None,
) -> BinarySegmentationDataset:
    """Synthetic images of one object with an exact binary mask: the offline lesion/EMDS default.

    Used whenever ISIC 2016, PH2, EMDS-5 or EMDS-6 are not on disk
    (``load_dataset(..., source="auto")``) and by the tests.

    ``"dermoscopy"`` (ISIC 2016, PH2): skin-coloured background with a fine and a coarse texture;
    one pigmented lesion, brownish and darker towards its centre, mottled, with dark globules and
    a fuzzy border, whose outline is a star-shaped radius function (a circle with random Fourier
    harmonics of orders 2-6) around a random point (not always the centre; always inside the
    image and the field of view); 2-5 thin dark curved hairs drawn over skin and lesion alike
    (never part of the mask); an illumination ramp and fall-off; and the round field of view of
    the dermatoscope, whose dark outside fills the four corners (touching the image border).

    ``"microscopy"`` (EMDS-5/6): light background; one translucent organism (a rotated ellipse
    with a wavy outline) with granules and a darker membrane, placed anywhere inside the image; a
    few dark debris specks (not part of the mask); uneven illumination.

    Every image is rendered from its own seed stream (the first ``k`` of ``n`` phantoms do not
    depend on ``n``), with vectorised numpy on a pixel grid, then blurred and made noisy.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int
        Seed; the same (n, seed, size, style) gives identical bytes.
    size : int or (int, int)
        Image size in pixels: square side, or (height, width); at least 16.
    style : {"dermoscopy", "microscopy"}
    name : str, optional
        Data-set name recorded in the result (default: ``style``); the registry passes
        ``"isic2016"``, ``"ph2"``, ``"emds5"`` or ``"emds6"``.

    Returns
    -------
    BinarySegmentationDataset
        ``source="phantom"``; images (H, W, 3) uint8; masks (H, W) uint8 with 0 background and
        1 lesion/organism; ids ``"P0001"`` …; class labels 0.
    """
    if style not in _LESION_RENDERERS:
        raise ValueError(f"style must be one of {', '.join(LESION_STYLES)}, not {style!r}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    dims = (size, size) if isinstance(size, int | np.integer) else tuple(size)
    if len(dims) != 2 or min(int(d) for d in dims) < 16:
        raise ValueError(f"size must be an int or (height, width) of at least 16 px, not {size!r}")
    height, width = int(dims[0]), int(dims[1])
    render = _LESION_RENDERERS[style]
    streams = np.random.SeedSequence(
        [int(seed), _LESION_SEED_OFFSET + LESION_STYLES.index(style)]
    ).spawn(n)
    images, masks = [], []
    for stream in streams:
        image, mask, _ = render(height, width, np.random.default_rng(stream))
        images.append(image)
        masks.append(mask)
    return BinarySegmentationDataset(
        name=style if name is None else name,
        source="phantom",
        images=images,
        masks=masks,
        ids=[f"P{i + 1:04d}" for i in range(n)],
        class_labels=np.zeros(n, dtype=np.int64),
        root=None,
    )
