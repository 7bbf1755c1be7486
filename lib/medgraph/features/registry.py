"""Patch-feature extractors by name, and :func:`extract_patch_features`, the one entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import torch

from medgraph.features.colour_texture import ColourTextureExtractor
from medgraph.features.dino import DinoKeysExtractor
from medgraph.features.patches import (
    ImagesLike,
    PatchFeatures,
    image_list,
    patch_grid,
    resize_images,
)
from medgraph.training.preparation import select_device

__all__ = ["PatchExtractor", "ExtractorSpec", "FEATURE_EXTRACTORS", "extract_patch_features"]


class PatchExtractor(Protocol):
    """What a registry entry builds: a callable from resized images to patch features."""

    dim: int
    description: str

    def __call__(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float32 sRGB in [0, 1] → (B, (S / patch)², dim) float32."""
        ...


@dataclass(frozen=True)
class ExtractorSpec:
    """A registry entry.

    Attributes
    ----------
    name : str
    build : callable
        ``build(patch=..., device=..., **options)`` → :class:`PatchExtractor`; raises
        ``TypeError`` on unknown options.
    summary : str
        One line: what the features are.
    needs_weights : bool
        Whether pretrained weights must be on disk (else
        :class:`~medgraph.features.FeaturesUnavailableError`).
    """

    name: str
    build: Callable[..., PatchExtractor]
    summary: str
    needs_weights: bool


#: The extractors, by name (read-only).
FEATURE_EXTRACTORS: Mapping[str, ExtractorSpec] = MappingProxyType(
    {
        "colour_texture": ExtractorSpec(
            "colour_texture",
            ColourTextureExtractor,
            "13-d: CIELAB mean/std, Sobel texture of L*, patch position; no weights",
            needs_weights=False,
        ),
        "dino_vits8": ExtractorSpec(
            "dino_vits8",
            DinoKeysExtractor,
            "384-d: DINO ViT-S/8 last-block attention keys (the seed's features); "
            "options weights=path or model=",
            needs_weights=True,
        ),
    }
)


def extract_patch_features(
    images: ImagesLike,
    extractor: str = "colour_texture",
    *,
    size: int = 224,
    patch: int = 8,
    device: torch.device | str = "auto",
    batch_size: int = 16,
    **options: Any,
) -> PatchFeatures:
    """Features of every patch of every image, by the extractor named.

    Every image is resized to ``size × size`` pixels (antialiased bilinear, on ``device``)
    and cut into a ``(size / patch)²`` grid of patches, numbered row-major; the extractor runs
    on batches of ``batch_size`` images, without gradients.

    Parameters
    ----------
    images : sequence of (H, W, 3) arrays/tensors, or a (B, H, W, 3) array/tensor
        RGB, uint8 (0–255) or float in [0, 1]; sizes may differ.
    extractor : str, default "colour_texture"
        A key of :data:`FEATURE_EXTRACTORS`: ``"colour_texture"`` (offline, 13-d) or
        ``"dino_vits8"`` (384-d, needs the DINO weights; option ``weights=path``).
    size : int, default 224
        Side of the resized images, in pixels; a multiple of ``patch``.
    patch : int, default 8
        Side of a patch, in pixels (``"dino_vits8"`` needs 8).
    device : "auto" or torch device, default "auto"
        Where the work is done and the features stay (``"auto"``: CUDA, MPS, else CPU).
    batch_size : int, default 16
        Images per batch.
    **options
        Options of the extractor (e.g. ``colour_weight=``, ``weights=``).

    Returns
    -------
    PatchFeatures
        ``features`` (B, P, D) float32 on ``device``, ``P = (size / patch)²``.

    Raises
    ------
    ValueError
        For an unknown extractor name (the message lists the known ones) or bad sizes.
    TypeError
        For an option the extractor does not take.
    FeaturesUnavailableError
        When the extractor's weights are not on disk.
    """
    spec = FEATURE_EXTRACTORS.get(extractor) if isinstance(extractor, str) else None
    if spec is None:
        raise ValueError(
            f"unknown feature extractor {extractor!r}; known: {', '.join(FEATURE_EXTRACTORS)}"
        )
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    grid = patch_grid(size, patch)
    dev = select_device(device)
    tensors = image_list(images)
    run = spec.build(patch=int(patch), device=dev, **options)
    chunks = []
    with torch.no_grad():
        for start in range(0, len(tensors), int(batch_size)):
            rgb = resize_images(tensors[start : start + int(batch_size)], int(size), dev)
            out = run(rgb)
            expected = (rgb.shape[0], grid[0] * grid[1], run.dim)
            if tuple(out.shape) != expected:
                raise RuntimeError(
                    f"extractor {spec.name!r} returned shape {tuple(out.shape)}, not {expected}"
                )
            chunks.append(out.float())
    return PatchFeatures(
        features=torch.cat(chunks),
        grid=grid,
        extractor=spec.name,
        description=run.description,
        image_shapes=tuple((int(t.shape[0]), int(t.shape[1])) for t in tensors),
        size=int(size),
        patch=int(patch),
    )
