"""The pixel-space baselines under their former module name (a re-export only).

The baselines now live in one module per architecture (:mod:`medgraph.models.unet`,
:mod:`medgraph.models.unetpp`, :mod:`medgraph.models.swin_unet`, with the shared
:mod:`medgraph.models.blocks`) and are built by name in :mod:`medgraph.models.baselines`. The
paper's parameter counts are :data:`medgraph.published.PAPER_PARAMS_M`.
"""

from __future__ import annotations

from medgraph.models.baselines import BASELINES, PAPER_CONFIGS, SMALL_CONFIGS, build_baseline
from medgraph.models.blocks import crop_padding, pad_to_multiple
from medgraph.models.swin_unet import (
    PatchExpand,
    PatchMerging,
    SwinBlock,
    SwinUNet,
    WindowAttention,
    shifted_window_mask,
    window_partition,
    window_reverse,
)
from medgraph.models.unet import AttentionGate, AttentionUNet, UNet
from medgraph.models.unetpp import UNetPlusPlus

__all__ = [
    "SMALL_CONFIGS",
    "PAPER_CONFIGS",
    "BASELINES",
    "UNet",
    "AttentionUNet",
    "UNetPlusPlus",
    "SwinUNet",
    "AttentionGate",
    "WindowAttention",
    "SwinBlock",
    "PatchExpand",
    "PatchMerging",
    "build_baseline",
    "pad_to_multiple",
    "crop_padding",
    "window_partition",
    "window_reverse",
    "shifted_window_mask",
]
