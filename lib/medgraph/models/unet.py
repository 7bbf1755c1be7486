"""U-Net and Attention U-Net: one U-shaped CNN, with or without attention gates on the skips.

- :class:`UNet` — O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional networks for
  biomedical image segmentation", MICCAI 2015.
- :class:`AttentionUNet` — O. Oktay et al., "Attention U-Net: Learning where to look for the
  pancreas", MIDL 2018 (arXiv:1804.03999).

Both are built on ``_EncoderDecoder``; the attention variant adds an :class:`AttentionGate` on
every skip connection.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgraph.models.blocks import (
    DoubleConv,
    PadMode,
    UpMode,
    _make_up,
    _PaddedSegmenter,
    _widths,
)

__all__ = ["AttentionGate", "UNet", "AttentionUNet"]


class AttentionGate(nn.Module):
    """Additive attention gate of Oktay et al. (2018).

    ``q = ψᵀ ReLU(W_xᵀ x + W_gᵀ g + b_g) + b_ψ``, ``α = sigmoid(q)``, output ``α · x``: the gating
    signal ``g`` (decoder features) decides, pixel by pixel, how much of the skip features ``x``
    pass to the decoder. All three maps are 1×1 convolutions. ``g`` is given at the resolution of
    ``x`` (the upsampled decoder features), the form the common 2-D implementations use, so no
    resampling of ``α`` is needed.

    Parameters
    ----------
    x_channels, g_channels : int
        Channels of the skip features and of the gating signal.
    inter_channels : int
        Channels of the intermediate additive space ``F_int``.
    """

    def __init__(self, x_channels: int, g_channels: int, inter_channels: int) -> None:
        super().__init__()
        self.w_x = nn.Conv2d(x_channels, inter_channels, 1, bias=False)
        self.w_g = nn.Conv2d(g_channels, inter_channels, 1, bias=True)
        self.psi = nn.Conv2d(inter_channels, 1, 1, bias=True)

    def coefficients(self, x: Tensor, g: Tensor) -> Tensor:
        """Coefficients α, (B, 1, H, W) in (0, 1), from x (B, Cx, H, W) and g (B, Cg, H, W)."""
        return torch.sigmoid(self.psi(F.relu(self.w_x(x) + self.w_g(g))))

    def forward(self, x: Tensor, g: Tensor) -> Tensor:
        """Gated skip features ``α · x``, shape (B, Cx, H, W)."""
        return x * self.coefficients(x, g)


class _EncoderDecoder(_PaddedSegmenter):
    """U-shaped CNN shared by :class:`UNet` and :class:`AttentionUNet`."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        base: int,
        depth: int,
        up_mode: UpMode,
        attention: bool,
        pad_mode: PadMode,
    ) -> None:
        super().__init__()
        w = _widths(base, depth)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.base, self.depth = base, depth
        self.input_multiple = 2**depth
        self.pad_mode = pad_mode
        self.stem = DoubleConv(in_channels, w[0])
        self.down = nn.ModuleList(DoubleConv(w[i], w[i + 1]) for i in range(depth))
        # decoder modules are stored from the deepest level up
        levels = list(reversed(range(depth)))
        self.up = nn.ModuleList(_make_up(w[i + 1], w[i], up_mode) for i in levels)
        self.gates = (
            nn.ModuleList(AttentionGate(w[i], w[i], max(w[i] // 2, 1)) for i in levels)
            if attention
            else None
        )
        self.dec = nn.ModuleList(DoubleConv(2 * w[i], w[i]) for i in levels)
        self.head = nn.Conv2d(w[0], num_classes, 1)

    def _forward_padded(self, x: Tensor) -> Tensor:
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        h = skips.pop()
        for k, (up, dec) in enumerate(zip(self.up, self.dec, strict=True)):
            g = up(h)
            s = skips.pop()
            if self.gates is not None:
                s = self.gates[k](s, g)
            h = dec(torch.cat([s, g], dim=1))
        return self.head(h)


class UNet(_EncoderDecoder):
    """U-Net of Ronneberger, Fischer & Brox (MICCAI 2015), with BatchNorm and "same" padding.

    Encoder: ``depth`` times (2×2 max-pool → double 3×3 conv), widths ``base · 2^i``; decoder:
    ×2 up-sampling (2×2 transposed convolution by default), concatenation with the encoder
    features of the same scale, double 3×3 conv; a 1×1 convolution gives the class logits.
    Each double conv is (3×3 conv → BatchNorm → ReLU) × 2. Unlike the original (valid
    convolutions, output smaller than input) the convolutions are zero-padded, and the input is
    padded to a multiple of ``2^depth`` and the logits cropped back, so any H × W works.

    Parameters
    ----------
    in_channels : int
        Image channels (3 for RGB).
    num_classes : int
        Output classes (3: background, cytoplasm, nucleus).
    base : int
        Width of the first level; level i has ``base · 2^i`` channels. ``base=64`` is the
        original (31.04M parameters); ``base=27`` (:meth:`paper_size`) gives 5.53M, the closest
        integer width to the SMGNN paper's 5.43M.
    depth : int
        Number of down-sampling steps (4 in the original).
    up_mode : {"transpose", "bilinear", "bilinear_conv3"}
        Up-sampling block, see ``_make_up``.
    pad_mode : {"reflect", "replicate", "constant"}
        How the input is padded to a multiple of ``2^depth``.

    Shapes
    ------
    ``forward``: (B, in_channels, H, W) → (B, num_classes, H, W) logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 3,
        base: int = 32,
        depth: int = 4,
        up_mode: UpMode = "transpose",
        pad_mode: PadMode = "reflect",
    ) -> None:
        super().__init__(in_channels, num_classes, base, depth, up_mode, False, pad_mode)

    @classmethod
    def paper_size(cls, **kw: Any) -> UNet:
        """U-Net near the SMGNN paper's 5.43M parameters (``base=27``: 5,527,632 at 3 → 3)."""
        from medgraph.models.baselines import PAPER_CONFIGS  # baselines imports this module

        return cls(**{**PAPER_CONFIGS["unet"], **kw})


class AttentionUNet(_EncoderDecoder):
    """Attention U-Net of Oktay et al. (MIDL 2018): U-Net with additive attention gates.

    Same encoder as :class:`UNet`; in the decoder every skip connection passes through an
    :class:`AttentionGate` driven by the up-sampled decoder features (``F_int`` = half the
    skip's width) before the concatenation. The default up block is bilinear ×2 → 3×3 conv →
    BatchNorm → ReLU; with ``base=64`` this reproduces the scale of the SMGNN paper's
    Att-Unet (34.87M here vs 34.88M reported).

    Parameters
    ----------
    in_channels, num_classes, base, depth, pad_mode
        As in :class:`UNet`.
    up_mode : {"bilinear_conv3", "transpose", "bilinear"}
        Up-sampling block (default ``"bilinear_conv3"``).

    Shapes
    ------
    ``forward``: (B, in_channels, H, W) → (B, num_classes, H, W) logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 3,
        base: int = 32,
        depth: int = 4,
        up_mode: UpMode = "bilinear_conv3",
        pad_mode: PadMode = "reflect",
    ) -> None:
        super().__init__(in_channels, num_classes, base, depth, up_mode, True, pad_mode)

    @classmethod
    def paper_size(cls, **kw: Any) -> AttentionUNet:
        """Attention U-Net at the paper's scale (``base=64``: 34,869,447 parameters at 3 → 3)."""
        from medgraph.models.baselines import PAPER_CONFIGS  # baselines imports this module

        return cls(**{**PAPER_CONFIGS["attention_unet"], **kw})
