"""Building blocks shared by the pixel-space baselines (:mod:`medgraph.models.baselines`).

Every baseline maps ``x: (B, C_in, H, W)`` to logits ``(B, num_classes, H, W)`` for any ``H, W``:
:class:`_PaddedSegmenter` pads the input (reflect, falling back to replicate when the image is too
small to reflect) up to the multiple the architecture needs, split evenly between the two sides
(:func:`pad_to_multiple`), and crops the logits back (:func:`crop_padding`). :class:`DoubleConv`
and ``_make_up`` are the convolutional blocks of the U-Net family.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["PadMode", "UpMode", "pad_to_multiple", "crop_padding", "DoubleConv"]

PadMode = Literal["reflect", "replicate", "constant"]
UpMode = Literal["transpose", "bilinear", "bilinear_conv3"]


def pad_to_multiple(
    x: Tensor, multiple: int, mode: PadMode = "reflect"
) -> tuple[Tensor, tuple[int, int, int, int]]:
    """Pad the two spatial axes of ``x`` up to the next multiple of ``multiple``.

    The padding is split evenly (the extra pixel of an odd amount goes to the bottom / right).
    ``"reflect"`` falls back to ``"replicate"`` when a side's padding is not smaller than the
    image (torch cannot reflect further than the image extends).

    Parameters
    ----------
    x : (B, C, H, W) tensor
    multiple : int
        Target divisor of the padded height and width.
    mode : {"reflect", "replicate", "constant"}
        ``"constant"`` pads with zeros.

    Returns
    -------
    padded : (B, C, H', W') tensor with ``H' % multiple == W' % multiple == 0``
    pads : (top, bottom, left, right), to hand to :func:`crop_padding`
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    top, left = ph // 2, pw // 2
    pads = (top, ph - top, left, pw - left)
    if ph == 0 and pw == 0:
        return x, pads
    if mode == "reflect" and (max(pads[:2]) >= h or max(pads[2:]) >= w):
        mode = "replicate"
    # F.pad orders the last axis first: (left, right, top, bottom)
    return F.pad(x, (left, pw - left, top, ph - top), mode=mode), pads


def crop_padding(y: Tensor, pads: tuple[int, int, int, int]) -> Tensor:
    """Undo :func:`pad_to_multiple` on a (B, K, H', W') tensor; returns (B, K, H, W)."""
    top, bottom, left, right = pads
    h, w = y.shape[-2:]
    return y[..., top : h - bottom, left : w - right]


class _PaddedSegmenter(nn.Module):
    """Base class: validate, pad to ``self.input_multiple``, run, crop back.

    Subclasses set ``in_channels``, ``num_classes``, ``input_multiple`` and ``pad_mode`` and
    implement :meth:`_forward_padded` on inputs whose sides are multiples of ``input_multiple``.
    """

    in_channels: int
    num_classes: int
    input_multiple: int
    pad_mode: PadMode

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects (B, {self.in_channels}, H, W) input, "
                f"got shape {tuple(x.shape)}"
            )

    def _forward_padded(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """Segment a batch.

        Parameters
        ----------
        x : (B, in_channels, H, W) float tensor, any H and W

        Returns
        -------
        (B, num_classes, H, W) logits
        """
        self._check_input(x)
        xp, pads = pad_to_multiple(x, self.input_multiple, self.pad_mode)
        return crop_padding(self._forward_padded(xp), pads)


class DoubleConv(nn.Sequential):
    """Two (3×3 conv → BatchNorm → ReLU) layers, the U-Net building block.

    The convolutions have no bias (BatchNorm's shift replaces it). Shapes: (B, c_in, H, W) →
    (B, c_out, H, W).
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


def _make_up(c_in: int, c_out: int, mode: UpMode) -> nn.Module:
    """×2 spatial upsampling from ``c_in`` to ``c_out`` channels.

    ``"transpose"``: 2×2 transposed convolution with stride 2 (Ronneberger's "up-convolution");
    ``"bilinear"``: bilinear interpolation then a 1×1 convolution;
    ``"bilinear_conv3"``: bilinear interpolation then 3×3 conv → BatchNorm → ReLU (the up block
    of the common 2-D Attention U-Net implementations).
    """
    if mode == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
    if mode == "bilinear":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(c_in, c_out, 1),
        )
    if mode == "bilinear_conv3":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )
    raise ValueError(f"unknown up_mode {mode!r}; use 'transpose', 'bilinear' or 'bilinear_conv3'")


def _widths(base: int, depth: int) -> list[int]:
    if base < 1 or depth < 1:
        raise ValueError(f"base and depth must be positive, got base={base}, depth={depth}")
    return [base * 2**i for i in range(depth + 1)]
