"""A lightweight residual network for whole-image classification of white-blood-cell types.

The SMGNN paper (Jiang et al., MBE 2024, §4.6, Fig 13) classifies the cell type of a segmented
white-blood-cell image with "a lightweight ResNet", citing K. He, X. Zhang, S. Ren, J. Sun, "Deep
residual learning for image recognition", CVPR 2016, and S. Banerjee, P. Ghose, "A light-weight
ResNet for white blood cell classification" (2022). Neither the paper nor its description of the
workflow gives the widths or depth, so :class:`LightResNet` is our own small instance of the
ResNet design with the basic (two 3×3 convolutions) residual block:

- stem: 3×3 convolution (stride ``stem_stride``, 2 by default) → BatchNorm → ReLU;
- four stages of ``blocks[i]`` basic blocks with ``widths[i]`` channels; the first block of every
  stage after the first halves the resolution with a strided convolution, and its shortcut is a
  strided 1×1 convolution + BatchNorm whenever the shape changes (He et al.'s option B);
- global average pooling → (optional dropout) → linear layer to ``num_classes`` logits.

With the defaults (widths 16-32-64-128, one block a stage) the network has 308,613 parameters at
6 input channels (RGB + one-hot segmentation) and 308,181 at 3 (RGB only), and an input of
``S×S`` pixels reaches the pooling at ``S/16 × S/16``. It works for any input size of at least
one pixel per stage and never hard-codes a device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["BasicBlock", "LightResNet"]


class BasicBlock(nn.Module):
    """The basic residual block of He et al. (2016): ``relu(F(x) + shortcut(x))``.

    ``F`` is conv3×3 (stride ``stride``) → BN → ReLU → conv3×3 → BN; the shortcut is the
    identity when the shape is kept and a strided 1×1 convolution + BN otherwise.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int, default 1
        Stride of the first convolution (2 halves the resolution).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(B, C_in, H, W)`` to ``(B, C_out, ceil(H / stride), ceil(W / stride))``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class LightResNet(nn.Module):
    """A small ResNet classifier: stem, four residual stages, global average pooling, linear head.

    Parameters
    ----------
    in_channels : int
        3 for an RGB image, 6 for RGB plus the one-hot (background, cytoplasm, nucleus)
        segmentation.
    num_classes : int, default 5
        Number of logits (the five white-blood-cell types).
    widths : sequence of int, default (16, 32, 64, 128)
        Channels of each stage.
    blocks : sequence of int, default (1, 1, 1, 1)
        Basic blocks in each stage (same length as ``widths``, each ≥ 1).
    stem_stride : int, default 2
        Stride of the stem convolution; 2 makes a 128×128 input cost about a quarter of
        stride 1 (the stem of He et al. downsamples 4× with a strided 7×7 conv and a max-pool).
    dropout : float, default 0.0
        Dropout probability before the linear head.

    Notes
    -----
    ``forward`` maps ``(B, in_channels, H, W)`` to logits ``(B, num_classes)``. Weights are
    initialised as in He et al. (Kaiming-normal convolutions, BN γ=1, β=0) with the last BN of
    every residual branch set to γ=0, so that each block starts as the identity.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int = 5,
        widths: Sequence[int] = (16, 32, 64, 128),
        blocks: Sequence[int] = (1, 1, 1, 1),
        stem_stride: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        blocks = tuple(int(b) for b in blocks)
        if in_channels < 1 or num_classes < 1:
            raise ValueError(
                f"in_channels and num_classes must be >= 1, got {in_channels}, {num_classes}"
            )
        if not widths or len(widths) != len(blocks):
            raise ValueError(f"widths {widths} and blocks {blocks} must be non-empty, same length")
        if min(widths) < 1 or min(blocks) < 1:
            raise ValueError(f"widths {widths} and blocks {blocks} must all be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), not {dropout}")
        self.in_channels = int(in_channels)
        self.num_classes = int(num_classes)
        self.widths = widths
        self.blocks = blocks
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages: list[nn.Module] = []
        c_in = widths[0]
        for i, (width, depth) in enumerate(zip(widths, blocks, strict=True)):
            layers = [BasicBlock(c_in, width, stride=1 if i == 0 else 2)]
            layers += [BasicBlock(width, width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*layers))
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(widths[-1], num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-normal convolutions, unit BN (zero γ at the end of each residual branch)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():
            if isinstance(module, BasicBlock):
                nn.init.zeros_(module.bn2.weight)
        self.head.reset_parameters()

    def features(self, x: Tensor) -> Tensor:
        """Pooled embedding ``(B, widths[-1])`` of a batch ``(B, in_channels, H, W)``."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return torch.flatten(self.pool(self.stages(self.stem(x))), 1)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(B, num_classes)`` of a batch ``(B, in_channels, H, W)``."""
        return self.head(self.dropout(self.features(x)))
