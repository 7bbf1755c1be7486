"""Patch features for patch-graph segmentation (notebook 04: DeepCut / UnSeGArmaNet style).

An image is resized to ``size × size`` (224) pixels, cut into ``patch × patch`` (8) pixel
patches — a 28 × 28 grid, 784 nodes, row-major — and every patch gets a feature vector, from
which the patch graph is built. One entry point, several extractors chosen by name::

    from medgraph.features import extract_patch_features
    feats = extract_patch_features(images, "colour_texture")      # offline, 13-d
    feats = extract_patch_features(images, "dino_vits8", weights="…/dino_deitsmall8_pretrain.pth")
    feats.features   # (B, 784, D) float32; feats.description: one line for reports

Extractors (:data:`FEATURE_EXTRACTORS`):

- ``"colour_texture"`` (:mod:`~medgraph.features.colour_texture`): 13 numbers per patch —
  CIELAB mean and std (6), Sobel gradient texture of L* (5), position (2); colour and texture
  standardised per image, groups weighted so that colour dominates. Needs no weights.
- ``"dino_vits8"`` (:mod:`~medgraph.features.dino`): the seed's features, the 384-d keys of
  the last attention block of DINO ViT-S/8 (written here in plain torch, checkpoint-compatible).
  Needs ``dino_deitsmall8_pretrain.pth`` on disk (``weights=`` or the torch hub cache); never
  downloads — without it :class:`FeaturesUnavailableError` says where to get it.

Modules: :mod:`~medgraph.features.patches` (the :class:`PatchFeatures` result, resizing, the
patch grid and the map from patch labels back to pixels), :mod:`~medgraph.features.registry`
(:data:`FEATURE_EXTRACTORS`, :func:`extract_patch_features`), the two extractor modules.
"""

from __future__ import annotations

from medgraph.features.colour_texture import (
    COLOUR_TEXTURE_COLUMNS,
    COLOUR_TEXTURE_DIM,
    COLOUR_TEXTURE_GROUPS,
    ColourTextureExtractor,
    colour_texture_features,
    srgb_to_lab,
)
from medgraph.features.dino import (
    DINO_VITS8_FILENAME,
    DINO_VITS8_URL,
    IMAGENET_MEAN,
    IMAGENET_STD,
    DinoKeysExtractor,
    DinoVisionTransformer,
    dino_state_dict,
    dino_vits8,
    dino_vits8_cache_path,
    load_dino_vits8,
)
from medgraph.features.patches import (
    FeaturesUnavailableError,
    PatchFeatures,
    patch_grid,
    patch_labels_to_image,
    patch_positions,
    pixel_to_patch,
    resize_images,
)
from medgraph.features.registry import (
    FEATURE_EXTRACTORS,
    ExtractorSpec,
    PatchExtractor,
    extract_patch_features,
)

__all__ = [
    "FEATURE_EXTRACTORS",
    "ExtractorSpec",
    "PatchExtractor",
    "extract_patch_features",
    "PatchFeatures",
    "FeaturesUnavailableError",
    "patch_grid",
    "patch_positions",
    "patch_labels_to_image",
    "pixel_to_patch",
    "resize_images",
    "COLOUR_TEXTURE_COLUMNS",
    "COLOUR_TEXTURE_DIM",
    "COLOUR_TEXTURE_GROUPS",
    "ColourTextureExtractor",
    "colour_texture_features",
    "srgb_to_lab",
    "DINO_VITS8_FILENAME",
    "DINO_VITS8_URL",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DinoKeysExtractor",
    "DinoVisionTransformer",
    "dino_state_dict",
    "dino_vits8",
    "dino_vits8_cache_path",
    "load_dino_vits8",
]
