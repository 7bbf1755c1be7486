"""Validation and conversion of the images and label maps that graph builders receive.

Private helpers of :mod:`medgraph.graphs`, shared by its builders.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor
ImagesLike = ArrayLike | Sequence[ArrayLike]

# --------------------------------------------------------------------------------------------
# node features
# --------------------------------------------------------------------------------------------


def _image_tensor(image: ArrayLike, device: torch.device | str | None) -> torch.Tensor:
    """One (H, W, 3) image as a float32 tensor in [0, 1] (integers are scaled by 255)."""
    img = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    img = img.to(device)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {tuple(img.shape)}")
    if img.dtype == torch.uint8:
        return img.float() / 255.0
    if not img.dtype.is_floating_point:
        raise TypeError(f"images must be uint8 or float in [0, 1], got dtype {img.dtype}")
    img = img.float()
    if img.numel():
        if not bool(torch.isfinite(img).all()):
            raise ValueError("images contain NaN or inf")
        lo, hi = float(img.min()), float(img.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"float images must lie in [0, 1], got values in [{lo:.3g}, {hi:.3g}] "
                "(pass uint8 images to have them scaled by 255)"
            )
    return img


def _image_list(images: ImagesLike, device: torch.device | str | None) -> list[torch.Tensor]:
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("need at least one image")
        return [_image_tensor(im, device) for im in images]
    batch = torch.as_tensor(images) if not isinstance(images, torch.Tensor) else images
    if batch.ndim != 4:
        raise ValueError(
            f"expected a (B, H, W, 3) batch of images or a list of (H, W, 3) images, "
            f"got shape {tuple(batch.shape)}"
        )
    return [_image_tensor(im, device) for im in batch]


def _label_list(labels: ArrayLike | Sequence[ArrayLike]) -> list[torch.Tensor]:
    if isinstance(labels, (list, tuple)):
        return [torch.as_tensor(lab) for lab in labels]
    lab = torch.as_tensor(labels)
    if lab.ndim == 2:
        return [lab]
    if lab.ndim != 3:
        raise ValueError(f"expected (B, H, W) label maps, got shape {tuple(lab.shape)}")
    return list(lab)


def _pixel_coordinates(
    height: int, width: int, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.arange(height, device=device, dtype=torch.float32)[:, None].expand(height, width)
    cols = torch.arange(width, device=device, dtype=torch.float32)[None, :].expand(height, width)
    return rows, cols
