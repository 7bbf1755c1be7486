"""Pixel-space segmentation baselines by name: U-Net, Attention U-Net, UNet++ and Swin-Unet.

The SMGNN paper (Tables 1–3) compares its ~7k-parameter superpixel GNN with these encoder-decoder
networks on 3-class white-blood-cell segmentation (background, cytoplasm, nucleus) of 120×120
(dataset-1) and 300×300 (dataset-2) RGB images. Our own implementations, written from the
architectures' papers, live in one module per architecture:

- :mod:`medgraph.models.unet` — :class:`UNet` (Ronneberger et al., MICCAI 2015) and
  :class:`AttentionUNet` (Oktay et al., MIDL 2018), one U-shaped CNN with or without attention
  gates;
- :mod:`medgraph.models.unetpp` — :class:`UNetPlusPlus` (Zhou et al., DLMIA 2018);
- :mod:`medgraph.models.swin_unet` — :class:`SwinUNet` (Cao et al., ECCV-W 2022, on the Swin
  Transformer of Liu et al., ICCV 2021);
- :mod:`medgraph.models.blocks` — the padding and convolution blocks they share.

Every model maps ``x: (B, C_in, H, W)`` to logits ``(B, num_classes, H, W)`` for any ``H, W``:
the input is padded (reflect, falling back to replicate when the image is too small to reflect)
up to the multiple the architecture needs, split evenly between the two sides, and the logits
are cropped back. No model hard-codes a device.

:func:`build_baseline` builds each network at two sizes: ``"small"`` (CPU-friendly widths,
:data:`SMALL_CONFIGS`) and ``"paper"`` (:data:`PAPER_CONFIGS`: widths whose parameter counts come
closest to the counts the SMGNN paper reports, :data:`medgraph.published.PAPER_PARAMS_M`). Exact
counts (3 input channels, 3 classes):

================  =========  ==========  ====================================================
name              small      paper       paper config (the SMGNN paper's count)
================  =========  ==========  ====================================================
unet              1,942,611  5,527,632   base=27, depth=4, transposed-conv up (5.43M)
attention_unet    2,182,455  34,869,447  base=64, depth=4, bilinear + 3×3 conv up (34.88M)
unet++            2,263,747  9,045,891   base=32, depth=4, transposed-conv up (not reported)
swin_unet         3,035,212  73,499,184  C=128, depths 2-2-6-2, heads 4-8-16-32, w=7 (73.46M)
================  =========  ==========  ====================================================

As checks of the implementations: ``UNet(base=64)`` has 31,037,763 parameters, the 31.04M
commonly quoted for the original U-Net widths with BatchNorm, and ``SwinUNet()`` (C=96, depths
2-2-2-2, heads 3-6-12-24, Swin-Unet's own configuration) has 27,168,324, the 27.17M commonly
quoted for Swin-Unet.
"""

from __future__ import annotations

from typing import Any, Literal

from torch import nn

from medgraph.models.blocks import _PaddedSegmenter
from medgraph.models.swin_unet import SwinUNet
from medgraph.models.unet import AttentionUNet, UNet
from medgraph.models.unetpp import UNetPlusPlus

__all__ = ["SMALL_CONFIGS", "PAPER_CONFIGS", "BASELINES", "build_baseline"]


BASELINES: dict[str, type[_PaddedSegmenter]] = {
    "unet": UNet,
    "attention_unet": AttentionUNet,
    "unet++": UNetPlusPlus,
    "swin_unet": SwinUNet,
}

#: CPU-friendly widths (about 2–3M parameters each).
SMALL_CONFIGS: dict[str, dict[str, Any]] = {
    "unet": {"base": 16, "depth": 4},
    "attention_unet": {"base": 16, "depth": 4},
    "unet++": {"base": 16, "depth": 4},
    "swin_unet": {
        "embed_dim": 32,
        "depths": (2, 2, 2, 2),
        "num_heads": (1, 2, 4, 8),
        "window_size": 5,
        "drop_path_rate": 0.1,
    },
}

#: Widths whose parameter counts come closest to the SMGNN paper's Table 1 (module docstring).
PAPER_CONFIGS: dict[str, dict[str, Any]] = {
    "unet": {"base": 27, "depth": 4},
    "attention_unet": {"base": 64, "depth": 4},
    "unet++": {"base": 32, "depth": 4},
    "swin_unet": {
        "embed_dim": 128,
        "depths": (2, 2, 6, 2),
        "num_heads": (4, 8, 16, 32),
        "window_size": 7,
        "drop_path_rate": 0.2,
    },
}


def build_baseline(
    name: str,
    num_classes: int = 3,
    size: Literal["small", "paper"] = "small",
    **kw: Any,
) -> nn.Module:
    """Build one of the pixel-space baselines.

    Parameters
    ----------
    name : {"unet", "attention_unet", "unet++", "swin_unet"}
        Case-insensitive; "-" is read as "_" (so "Swin-UNet" works).
    num_classes : int
        Output classes.
    size : {"small", "paper"}
        :data:`SMALL_CONFIGS` (CPU-friendly) or :data:`PAPER_CONFIGS` (close to the parameter
        counts in :data:`medgraph.published.PAPER_PARAMS_M`).
    **kw
        Constructor arguments overriding the chosen configuration (``in_channels``, ``base``,
        ``window_size``, …).

    Returns
    -------
    nn.Module mapping (B, in_channels, H, W) → (B, num_classes, H, W) logits.

    Raises
    ------
    ValueError
        For an unknown name or size.
    """
    key = name.strip().lower().replace("-", "_")
    if key not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}")
    configs = {"small": SMALL_CONFIGS, "paper": PAPER_CONFIGS}.get(size)
    if configs is None:
        raise ValueError(f"unknown size {size!r}; choose 'small' or 'paper'")
    return BASELINES[key](num_classes=num_classes, **{**configs[key], **kw})
