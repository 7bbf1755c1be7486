"""The offline patch features: CIELAB colour, gradient texture and position (no weights needed).

Per ``patch × patch`` patch of the resized image the extractor ``"colour_texture"`` computes
13 numbers in three groups (columns in this order, :data:`COLOUR_TEXTURE_COLUMNS`):

========== ==== ===========================================================================
group      dims  what
========== ==== ===========================================================================
colour       6  mean and standard deviation over the patch's pixels of L*, a*, b* (CIELAB,
                D65, 2° observer; :func:`srgb_to_lab`): ``L_mean a_mean b_mean L_std a_std
                b_std``
texture      5  from the Sobel gradient ``(g_x, g_y)`` of L* (L* units per pixel, replicate
                padding): the mean gradient magnitude ``|g|`` and the RMS oriented energies
                ``sqrt(mean((g_x cos θ + g_y sin θ)²))`` for θ = 0°, 45°, 90°, 135°
position     2  the patch's (row, col) normalised to [0, 1]
========== ==== ===========================================================================

Scaling (documented because the graph is built from distances between these vectors):

- the colour and texture groups are **standardised per image**: every column has zero mean and
  unit standard deviation over the image's P patches (population std; a std below the floor
  ``colour_min_std`` = 1 ΔE unit, resp. ``texture_min_std`` = 0.5 L*/px, is replaced by the
  floor, so that near-constant columns are not blown up into noise);
- the standardised colour and texture groups, with ``d_g`` = 6 and 5 columns, are multiplied
  by ``w_g / √d_g``, so that each contributes a total variance of ``w_g²`` to squared
  Euclidean distances, whatever its dimension;
- the position group is not standardised (it is the same for every image of a grid): the
  coordinates in [0, 1] are multiplied by ``w_position``; two opposite corners are
  ``√2 · w_position`` apart.

Defaults: ``colour_weight = 1.0``, ``texture_weight = 0.5``, ``position_weight = 0.5``, i.e.
total variances 1 : 0.25 : 0.04 (each position coordinate has variance ≈ 1/12): colour
dominates. For scale: in an image of two flat colour regions of equal area, the standardised
colour means of the patches are ±1, so patches of different regions are ≈ √(3 · 4 / 6) ≈ 1.4
apart in the colour group alone, twice the corner-to-corner distance of the position group
(0.71).

Everything is vectorised (``conv2d``, ``avg_pool2d``), deterministic, and runs on the device
of its input.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from medgraph.features.patches import patch_grid, patch_positions

__all__ = [
    "COLOUR_TEXTURE_COLUMNS",
    "COLOUR_TEXTURE_GROUPS",
    "COLOUR_TEXTURE_DIM",
    "ColourTextureExtractor",
    "srgb_to_lab",
    "colour_texture_features",
]

#: Names of the 13 feature columns, in order.
COLOUR_TEXTURE_COLUMNS: tuple[str, ...] = (
    "L_mean",
    "a_mean",
    "b_mean",
    "L_std",
    "a_std",
    "b_std",
    "grad_mag",
    "grad_0",
    "grad_45",
    "grad_90",
    "grad_135",
    "row",
    "col",
)
#: Column slice of every group.
COLOUR_TEXTURE_GROUPS: dict[str, slice] = {
    "colour": slice(0, 6),
    "texture": slice(6, 11),
    "position": slice(11, 13),
}
COLOUR_TEXTURE_DIM = len(COLOUR_TEXTURE_COLUMNS)

# sRGB (linear) → XYZ and the D65 / 2° reference white, as in skimage.color.rgb2lab.
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_ORIENTATIONS_DEG = (0.0, 45.0, 90.0, 135.0)


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """CIELAB of sRGB colours (D65 white, 2° observer; the formulas of skimage's ``rgb2lab``).

    sRGB → linear RGB (``((v + 0.055) / 1.055)^2.4`` above 0.04045, else ``v / 12.92``) →
    XYZ (the sRGB/D65 matrix) → divided by the white ``(0.95047, 1, 1.08883)`` →
    ``f(t) = t^(1/3)`` above 0.008856, else ``7.787 t + 16/116`` →
    ``L* = 116 f(Y) − 16``, ``a* = 500 (f(X) − f(Y))``, ``b* = 200 (f(Y) − f(Z))``.

    Parameters
    ----------
    rgb : (..., 3, H, W) float tensor
        sRGB in [0, 1], channels on dimension −3.

    Returns
    -------
    (..., 3, H, W) tensor of the input's dtype: L* in [0, 100], a* and b* roughly in
    [−128, 127].
    """
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"expected (..., 3, H, W) RGB, got shape {tuple(rgb.shape)}")
    v = rgb.clamp(0.0, 1.0)
    linear = torch.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)
    matrix = torch.tensor(_XYZ_FROM_RGB, dtype=rgb.dtype, device=rgb.device)
    white = torch.tensor(_WHITE_D65, dtype=rgb.dtype, device=rgb.device)
    xyz = torch.einsum("ij,...jhw->...ihw", matrix, linear) / white[:, None, None]
    f = torch.where(xyz > 0.008856, xyz.clamp_min(0.0) ** (1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f.unbind(dim=-3)
    return torch.stack((116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)), dim=-3)


def _patch_mean_std(x: torch.Tensor, patch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, S, S) → per-patch mean and population std, each (B, C, rows, cols)."""
    mean = F.avg_pool2d(x, patch)
    centred = x - mean.repeat_interleave(patch, dim=-2).repeat_interleave(patch, dim=-1)
    return mean, F.avg_pool2d(centred.square(), patch).sqrt()


def _sobel(lum: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, S, S) → Sobel derivatives along x (columns) and y (rows), /8: units per pixel."""
    kx = torch.tensor(
        [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=lum.dtype, device=lum.device
    )
    kernels = torch.stack((kx, kx.T))[:, None] / 8.0
    g = F.conv2d(F.pad(lum, (1, 1, 1, 1), mode="replicate"), kernels)
    return g[:, 0:1], g[:, 1:2]


def _standardise(x: torch.Tensor, min_std: float) -> torch.Tensor:
    """(B, P, d): zero mean, unit population std per image and column (std floored)."""
    mean = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, keepdim=True, correction=0).clamp_min(min_std)
    return (x - mean) / std


def colour_texture_features(
    rgb: torch.Tensor,
    patch: int = 8,
    *,
    colour_weight: float = 1.0,
    texture_weight: float = 0.5,
    position_weight: float = 0.5,
    colour_min_std: float = 1.0,
    texture_min_std: float = 0.5,
) -> torch.Tensor:
    """The 13 colour/texture/position features of every patch (see the module docstring).

    Parameters
    ----------
    rgb : (B, 3, S, S) float tensor
        sRGB in [0, 1], ``S`` a multiple of ``patch``.
    patch : int, default 8
        Side of a patch, in pixels.
    colour_weight, texture_weight, position_weight : float ≥ 0
        Group weights ``w_g`` (defaults 1.0, 0.5, 0.5): the colour and texture groups are
        multiplied by ``w_g / √d_g`` after standardisation, the position coordinates in
        [0, 1] by ``w_position``.
    colour_min_std : float, default 1.0
        Floor of the per-image std of the colour columns, in CIELAB units (ΔE).
    texture_min_std : float, default 0.5
        Floor of the per-image std of the texture columns, in L* units per pixel.

    Returns
    -------
    (B, P, 13) float32 tensor on ``rgb``'s device, ``P = (S / patch)²``, row-major.
    """
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.shape[2] != rgb.shape[3]:
        raise ValueError(f"expected a (B, 3, S, S) batch, got shape {tuple(rgb.shape)}")
    for name, w in (
        ("colour_weight", colour_weight),
        ("texture_weight", texture_weight),
        ("position_weight", position_weight),
    ):
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"{name} must be finite and ≥ 0, got {w}")
    if not (colour_min_std > 0 and texture_min_std > 0):
        raise ValueError("colour_min_std and texture_min_std must be > 0")
    grid = patch_grid(int(rgb.shape[-1]), patch)
    b = rgb.shape[0]
    x = rgb.float()

    lab = srgb_to_lab(x)
    mean, std = _patch_mean_std(lab, patch)
    colour = torch.cat((mean, std), dim=1).flatten(2).transpose(1, 2)  # (B, P, 6)

    gx, gy = _sobel(lab[:, 0:1])
    maps = [torch.sqrt(gx.square() + gy.square())]
    for deg in _ORIENTATIONS_DEG:
        t = math.radians(deg)
        maps.append((gx * math.cos(t) + gy * math.sin(t)).square())
    pooled = F.avg_pool2d(torch.cat(maps, dim=1), patch)
    pooled = torch.cat((pooled[:, :1], pooled[:, 1:].sqrt()), dim=1)
    texture = pooled.flatten(2).transpose(1, 2)  # (B, P, 5)

    position = patch_positions(grid, device=x.device).expand(b, -1, -1)  # (B, P, 2)

    return torch.cat(
        (
            _standardise(colour, colour_min_std) * (colour_weight / math.sqrt(6)),
            _standardise(texture, texture_min_std) * (texture_weight / math.sqrt(5)),
            position * position_weight,
        ),
        dim=2,
    ).contiguous()


class ColourTextureExtractor:
    """The ``"colour_texture"`` extractor: :func:`colour_texture_features` with fixed options.

    Parameters
    ----------
    patch : int
        Side of a patch, in pixels.
    device : torch device (unused: the features are computed where the batch lies)
    **options
        Keyword arguments of :func:`colour_texture_features` (weights, std floors).
    """

    name = "colour_texture"
    dim = COLOUR_TEXTURE_DIM

    def __init__(self, *, patch: int, device: torch.device | str | None = None, **options):
        self.patch = int(patch)
        self.options = dict(
            colour_weight=float(options.pop("colour_weight", 1.0)),
            texture_weight=float(options.pop("texture_weight", 0.5)),
            position_weight=float(options.pop("position_weight", 0.5)),
            colour_min_std=float(options.pop("colour_min_std", 1.0)),
            texture_min_std=float(options.pop("texture_min_std", 0.5)),
        )
        if options:
            raise TypeError(
                f"unknown option(s) for extractor 'colour_texture': {', '.join(sorted(options))}"
            )

    @property
    def description(self) -> str:
        """One line for reports."""
        o = self.options
        return (
            f"colour_texture, {self.dim}-d per {self.patch}×{self.patch} px patch: "
            f"CIELAB mean+std (6, w={o['colour_weight']:g}), Sobel L* magnitude + 4 oriented "
            f"energies (5, w={o['texture_weight']:g}), (row, col) in [0, 1] "
            f"(2, w={o['position_weight']:g}); colour and texture standardised per image"
        )

    def __call__(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float in [0, 1] → (B, P, 13) float32."""
        return colour_texture_features(rgb, self.patch, **self.options)
