"""The common ground of every patch-feature extractor: images in, a (B, P, D) tensor out.

An image of any size is resized to ``size × size`` pixels (antialiased bilinear) and cut into a
``rows × cols`` grid of ``patch × patch`` pixel patches, ``rows = cols = size // patch``;
patches are numbered row-major, ``p = row · cols + col`` (224 px and 8 px patches: a 28 × 28
grid, 784 patches). This module holds

- :class:`PatchFeatures`: the result of an extraction (features, grid, extractor, description,
  original image shapes) and the map from patch labels back to image pixels;
- :class:`FeaturesUnavailableError`: raised when an extractor cannot run here (missing weights);
- :func:`resize_images`: validation and batched resizing of (H, W, 3) images on a device;
- :func:`patch_grid`, :func:`patch_positions`, :func:`patch_labels_to_image`, :func:`pixel_to_patch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "FeaturesUnavailableError",
    "PatchFeatures",
    "ImagesLike",
    "patch_grid",
    "patch_positions",
    "patch_labels_to_image",
    "pixel_to_patch",
    "image_list",
    "resize_images",
]

ArrayLike = np.ndarray | torch.Tensor
ImagesLike = ArrayLike | Sequence[ArrayLike]


class FeaturesUnavailableError(RuntimeError):
    """An extractor cannot run here, e.g. because its pretrained weights are not on disk."""


def patch_grid(size: int, patch: int) -> tuple[int, int]:
    """The (rows, cols) grid of ``patch``-pixel patches of a ``size × size`` image.

    Raises
    ------
    ValueError
        When ``size`` or ``patch`` is not positive or ``size`` is not a multiple of ``patch``.
    """
    if int(patch) < 1 or int(size) < 1:
        raise ValueError(f"size and patch must be ≥ 1, got size={size}, patch={patch}")
    if int(size) % int(patch):
        raise ValueError(f"size ({size}) must be a multiple of patch ({patch})")
    n = int(size) // int(patch)
    return n, n


def patch_positions(
    grid: tuple[int, int], device: torch.device | str | None = None
) -> torch.Tensor:
    """Row and column of every patch, normalised to [0, 1], in row-major patch order.

    Parameters
    ----------
    grid : (rows, cols)
    device : torch device of the result

    Returns
    -------
    (P, 2) float32 tensor, ``P = rows · cols``: column 0 is ``row / (rows − 1)``, column 1 is
    ``col / (cols − 1)`` (0 for a grid one patch high or wide).
    """
    rows, cols = int(grid[0]), int(grid[1])
    r = torch.arange(rows, dtype=torch.float32, device=device) / max(rows - 1, 1)
    c = torch.arange(cols, dtype=torch.float32, device=device) / max(cols - 1, 1)
    rr, cc = torch.meshgrid(r, c, indexing="ij")
    return torch.stack((rr.reshape(-1), cc.reshape(-1)), dim=1)


def pixel_to_patch(n_pixels: int, n_patches: int) -> np.ndarray:
    """The patch of every pixel along one axis: the patch whose cell holds the pixel's centre.

    ``patch = ⌊(p + ½) · n_patches / n_pixels⌋`` for pixel ``p`` of an axis of ``n_pixels``
    pixels cut into ``n_patches`` cells (the inverse of the resize, up to the patch size).

    Returns
    -------
    (n_pixels,) int64 array with values in ``0 … n_patches − 1``.
    """
    return ((2 * np.arange(int(n_pixels)) + 1) * int(n_patches)) // (2 * int(n_pixels))


def patch_labels_to_image(labels: ArrayLike, grid: tuple[int, int], shape: tuple[int, int]):
    """Map one label per patch back to the pixels of the original image (nearest patch).

    Pixel ``(y, x)`` of an ``H × W`` image takes the label of the patch whose cell of the
    resized image contains the pixel's centre: ``row = ⌊(y + ½) · rows / H⌋``, likewise for
    the column. This inverts the resize of :func:`resize_images` up to the patch size.

    Parameters
    ----------
    labels : (P,) or (rows, cols) array or tensor
        One label (any dtype) per patch, row-major.
    grid : (rows, cols)
    shape : (H, W) of the original image, in pixels

    Returns
    -------
    (H, W) array (numpy in, numpy out; tensor in, tensor out) of the labels' dtype.
    """
    rows, cols = int(grid[0]), int(grid[1])
    height, width = int(shape[0]), int(shape[1])
    if labels.ndim not in (1, 2) or int(np.prod(tuple(labels.shape))) != rows * cols:
        raise ValueError(
            f"expected {rows * cols} patch labels for a {rows}×{cols} grid, "
            f"got shape {tuple(labels.shape)}"
        )
    ys, xs = pixel_to_patch(height, rows), pixel_to_patch(width, cols)
    if isinstance(labels, torch.Tensor):
        lab = labels.reshape(rows, cols)
        yi = torch.as_tensor(ys, device=lab.device)
        xi = torch.as_tensor(xs, device=lab.device)
        return lab[yi[:, None], xi[None, :]]
    lab = np.asarray(labels).reshape(rows, cols)
    return lab[ys[:, None], xs[None, :]]


@dataclass(frozen=True)
class PatchFeatures:
    """Per-patch features of a batch of images.

    Attributes
    ----------
    features : (B, P, D) float32 tensor
        Row ``p`` of image ``b`` describes patch ``p = row · cols + col`` (row-major); on the
        device the extraction ran on.
    grid : (rows, cols)
        The patch grid, ``P = rows · cols``.
    extractor : str
        Registry name of the extractor (see :data:`medgraph.features.FEATURE_EXTRACTORS`).
    description : str
        One line for reports: what the features are and their dimension.
    image_shapes : tuple of (H, W)
        The original size of every image, in pixels, for mapping patch labels back
        (:meth:`labels_to_image`).
    size : int
        Side of the square the images were resized to, in pixels.
    patch : int
        Side of a patch in the resized image, in pixels.
    """

    features: torch.Tensor
    grid: tuple[int, int]
    extractor: str
    description: str
    image_shapes: tuple[tuple[int, int], ...]
    size: int
    patch: int

    def __post_init__(self) -> None:
        b, p = len(self.image_shapes), self.grid[0] * self.grid[1]
        if self.features.ndim != 3 or self.features.shape[:2] != (b, p):
            raise ValueError(
                f"features must be (B={b}, P={p}, D), got shape {tuple(self.features.shape)}"
            )

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        """D, the feature dimension."""
        return int(self.features.shape[2])

    @property
    def n_patches(self) -> int:
        """P, the number of patches (nodes) per image."""
        return int(self.features.shape[1])

    def to(self, device: torch.device | str) -> PatchFeatures:
        """The same features on another device."""
        return PatchFeatures(
            self.features.to(device),
            self.grid,
            self.extractor,
            self.description,
            self.image_shapes,
            self.size,
            self.patch,
        )

    def labels_to_image(self, labels: ArrayLike, index: int):
        """Per-patch labels of image ``index`` as an (H, W) map of its original size.

        See :func:`patch_labels_to_image`; ``labels`` is (P,) or (rows, cols).
        """
        return patch_labels_to_image(labels, self.grid, self.image_shapes[index])


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------


def _image_tensor(image: ArrayLike, position: int) -> torch.Tensor:
    if isinstance(image, torch.Tensor):
        img = image
    else:
        array = np.asarray(image)
        # a read-only array (a memory map, a shared copy) is copied: torch wants writable memory
        img = torch.from_numpy(array if array.flags.writeable else array.copy())
    if img.ndim != 3 or img.shape[-1] != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"image {position}: expected (H, W, 3) RGB, got shape {tuple(img.shape)}")
    if img.dtype != torch.uint8 and not img.dtype.is_floating_point:
        raise TypeError(f"image {position}: expected uint8 or float in [0, 1], got {img.dtype}")
    return img


def image_list(images: ImagesLike) -> list[torch.Tensor]:
    """Validate images and return them as a list of (H, W, 3) tensors (no copy where possible).

    Parameters
    ----------
    images : sequence of (H, W, 3) arrays/tensors, or a (B, H, W, 3) array/tensor
        uint8 (0–255) or float in [0, 1] RGB; sizes may differ within a sequence.
    """
    if isinstance(images, (list, tuple)):
        items = list(images)
    else:
        batch = images if isinstance(images, torch.Tensor) else np.asarray(images)
        if batch.ndim != 4:
            raise ValueError(
                "expected a (B, H, W, 3) batch or a sequence of (H, W, 3) images, "
                f"got shape {tuple(batch.shape)}"
            )
        items = list(batch)
    if not items:
        raise ValueError("need at least one image")
    return [_image_tensor(im, i) for i, im in enumerate(items)]


def _to_unit_float(img: torch.Tensor, position: int) -> torch.Tensor:
    """(N, H, W, 3) uint8/float → (N, 3, H, W) float32 in [0, 1]."""
    if img.dtype == torch.uint8:
        out = img.float() / 255.0
    else:
        out = img.float()
        if not bool(torch.isfinite(out).all()):
            raise ValueError(f"image {position}: contains NaN or inf")
        lo, hi = float(out.min()), float(out.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"image {position}: float images must lie in [0, 1], got [{lo:.3g}, {hi:.3g}] "
                "(pass uint8 to have values scaled by 255)"
            )
    return out.permute(0, 3, 1, 2)


def resize_images(
    images: Sequence[torch.Tensor], size: int, device: torch.device | str
) -> torch.Tensor:
    """Resize RGB images to ``size × size`` on ``device`` (antialiased bilinear).

    Images of equal shape are resized together in one call of
    :func:`torch.nn.functional.interpolate` (``mode="bilinear", antialias=True,
    align_corners=False``); the aspect ratio is not kept.

    Parameters
    ----------
    images : sequence of (H, W, 3) tensors
        uint8 (0–255) or float in [0, 1], as returned by :func:`image_list`.
    size : int
        Side of the output, in pixels.
    device : torch device the work is done on

    Returns
    -------
    (B, 3, size, size) float32 tensor in [0, 1] on ``device``.
    """
    out = torch.empty(len(images), 3, size, size, dtype=torch.float32, device=device)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, img in enumerate(images):
        groups.setdefault((int(img.shape[0]), int(img.shape[1])), []).append(i)
    for (h, w), idx in groups.items():
        stack = torch.stack([images[i] for i in idx]).to(device)
        x = _to_unit_float(stack, idx[0])
        if (h, w) != (size, size):
            x = F.interpolate(
                x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        out[torch.as_tensor(idx, device=device)] = x.clamp_(0.0, 1.0)
    return out
