"""UNet++ — Z. Zhou, M. M. Rahman Siddiquee, N. Tajbakhsh, J. Liang, "UNet++: A nested U-Net
architecture for medical image segmentation", DLMIA 2018."""

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
    crop_padding,
    pad_to_multiple,
)

__all__ = ["UNetPlusPlus"]


class UNetPlusPlus(_PaddedSegmenter):
    """UNet++ of Zhou et al. (DLMIA 2018): nested, densely connected skip pathways.

    Node ``X^{i,j}`` (level i = 0…depth, column j = 0…depth−i) is a double 3×3 conv block of
    width ``base · 2^i``::

        X^{i,0} = H(pool(X^{i−1,0}))                                   (backbone, X^{0,0} = H(x))
        X^{i,j} = H([X^{i,0}, …, X^{i,j−1}, U(X^{i+1,j−1})])           (j ≥ 1)

    with ``U`` a ×2 up-sampling (2×2 transposed convolution to ``base · 2^i`` channels by
    default, as in the authors' code; ``up_mode="bilinear"`` / ``"bilinear_conv3"`` also work).
    The prediction comes from a 1×1 convolution on ``X^{0,depth}``. With ``deep_supervision``
    every top node ``X^{0,1} … X^{0,depth}`` gets its own 1×1 head: :meth:`forward_heads`
    returns all of them (train with the mean of their losses) and :meth:`forward` returns
    their average (the UNet++ paper's "accurate mode" of inference).

    Parameters
    ----------
    in_channels, num_classes, base, depth, pad_mode
        As in :class:`UNet` (``base=32`` is the UNet++ paper's width, 9.05M parameters).
    deep_supervision : bool
        Heads on every top node (default False: one head on ``X^{0,depth}``).
    up_mode : {"transpose", "bilinear", "bilinear_conv3"}

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
        deep_supervision: bool = False,
        up_mode: UpMode = "transpose",
        pad_mode: PadMode = "reflect",
    ) -> None:
        super().__init__()
        w = _widths(base, depth)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.base, self.depth = base, depth
        self.deep_supervision = deep_supervision
        self.input_multiple = 2**depth
        self.pad_mode = pad_mode
        self.nodes = nn.ModuleDict()
        self.ups = nn.ModuleDict()
        for i in range(depth + 1):
            self.nodes[f"{i}_0"] = DoubleConv(in_channels if i == 0 else w[i - 1], w[i])
        for j in range(1, depth + 1):
            for i in range(depth + 1 - j):
                self.ups[f"{i}_{j}"] = _make_up(w[i + 1], w[i], up_mode)
                self.nodes[f"{i}_{j}"] = DoubleConv((j + 1) * w[i], w[i])
        n_heads = depth if deep_supervision else 1
        self.heads = nn.ModuleList(nn.Conv2d(w[0], num_classes, 1) for _ in range(n_heads))

    def _heads_padded(self, x: Tensor) -> list[Tensor]:
        cols: list[list[Tensor]] = []  # cols[i] = [X^{i,0}, X^{i,1}, ...]
        h = x
        for i in range(self.depth + 1):
            h = self.nodes[f"{i}_0"](h if i == 0 else F.max_pool2d(h, 2))
            cols.append([h])
        for j in range(1, self.depth + 1):
            for i in range(self.depth + 1 - j):
                up = self.ups[f"{i}_{j}"](cols[i + 1][j - 1])
                cols[i].append(self.nodes[f"{i}_{j}"](torch.cat([*cols[i], up], dim=1)))
        if self.deep_supervision:
            return [head(t) for head, t in zip(self.heads, cols[0][1:], strict=True)]
        return [self.heads[0](cols[0][self.depth])]

    def forward_heads(self, x: Tensor) -> list[Tensor]:
        """Logits of every head: a list of ``depth`` (deep supervision) or 1 tensors.

        Parameters
        ----------
        x : (B, in_channels, H, W)

        Returns
        -------
        list of (B, num_classes, H, W) logits, from ``X^{0,1}`` to ``X^{0,depth}``.
        """
        self._check_input(x)
        xp, pads = pad_to_multiple(x, self.input_multiple, self.pad_mode)
        return [crop_padding(y, pads) for y in self._heads_padded(xp)]

    def _forward_padded(self, x: Tensor) -> Tensor:
        outs = self._heads_padded(x)
        return outs[0] if len(outs) == 1 else torch.stack(outs).mean(0)

    @classmethod
    def paper_size(cls, **kw: Any) -> UNetPlusPlus:
        """UNet++ at the width of Zhou et al. (``base=32``: 9,045,891 parameters at 3 → 3)."""
        from medgraph.models.baselines import PAPER_CONFIGS  # baselines imports this module

        return cls(**{**PAPER_CONFIGS["unet++"], **kw})
