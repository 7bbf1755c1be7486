"""Pixel-space segmentation baselines: U-Net, Attention U-Net, UNet++ and Swin-Unet.

The SMGNN paper (Tables 1–3) compares its ~7k-parameter superpixel GNN with these encoder-decoder
networks on 3-class white-blood-cell segmentation (background, cytoplasm, nucleus) of 120×120
(dataset-1) and 300×300 (dataset-2) RGB images. This module holds our own implementations,
written from the architectures' papers:

- :class:`UNet` — O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional networks for
  biomedical image segmentation", MICCAI 2015.
- :class:`AttentionUNet` — O. Oktay et al., "Attention U-Net: Learning where to look for the
  pancreas", MIDL 2018 (arXiv:1804.03999).
- :class:`UNetPlusPlus` — Z. Zhou, M. M. Rahman Siddiquee, N. Tajbakhsh, J. Liang, "UNet++: A
  nested U-Net architecture for medical image segmentation", DLMIA 2018.
- :class:`SwinUNet` — H. Cao et al., "Swin-Unet: Unet-like pure transformer for medical image
  segmentation", ECCV Workshops 2022, built on Z. Liu et al., "Swin Transformer: Hierarchical
  vision transformer using shifted windows", ICCV 2021.

Every model maps ``x: (B, C_in, H, W)`` to logits ``(B, num_classes, H, W)`` for any ``H, W``:
the input is padded (reflect, falling back to replicate when the image is too small to reflect)
up to the multiple the architecture needs, split evenly between the two sides, and the logits
are cropped back. No model hard-codes a device.

:func:`build_baseline` builds each network at two sizes: ``"small"`` (CPU-friendly widths) and
``"paper"`` (widths whose parameter counts come closest to the counts the SMGNN paper reports,
:data:`PAPER_PARAMS_M`). Exact counts (3 input channels, 3 classes):

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

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "PAPER_PARAMS_M",
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
    "build_baseline",
    "pad_to_multiple",
    "crop_padding",
    "window_partition",
    "window_reverse",
    "shifted_window_mask",
]

PadMode = Literal["reflect", "replicate", "constant"]
UpMode = Literal["transpose", "bilinear", "bilinear_conv3"]

#: Parameter counts in millions as printed in the SMGNN paper's Table 1 (and repeated in Tables 2
#: and 6) — the paper's numbers, not ours. UNet++ is cited by the paper but not in its tables.
PAPER_PARAMS_M: dict[str, float | None] = {
    "unet": 5.43,
    "attention_unet": 34.88,
    "unet++": None,
    "swin_unet": 73.46,
}

# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# U-Net and Attention U-Net
# --------------------------------------------------------------------------------------------


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
        return cls(**{**PAPER_CONFIGS["attention_unet"], **kw})


# --------------------------------------------------------------------------------------------
# UNet++
# --------------------------------------------------------------------------------------------


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
        return cls(**{**PAPER_CONFIGS["unet++"], **kw})


# --------------------------------------------------------------------------------------------
# Swin-Unet
# --------------------------------------------------------------------------------------------


def window_partition(x: Tensor, window: int) -> Tensor:
    """Cut a channel-last feature map into non-overlapping square windows.

    Parameters
    ----------
    x : (B, H, W, C) tensor with H and W multiples of ``window``
    window : int

    Returns
    -------
    (B · nW, window², C) tensor, windows in row-major order within each image, tokens in
    row-major order within each window (``nW = H/window · W/window``).
    """
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def window_reverse(windows: Tensor, window: int, h: int, w: int) -> Tensor:
    """Inverse of :func:`window_partition`: (B · nW, window², C) → (B, H, W, C)."""
    c = windows.shape[-1]
    b = windows.shape[0] // ((h // window) * (w // window))
    x = windows.view(b, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)


def shifted_window_mask(
    h: int, w: int, window: int, shift: int, device: torch.device | str | None = None
) -> Tensor:
    """Additive attention mask of the shifted-window scheme (Liu et al. 2021, Sec. 3.2).

    After the feature map is rolled by ``(−shift, −shift)``, a window at the bottom or right
    edge holds tokens from up to 3 × 3 regions that were not adjacent before the roll. Tokens
    of different regions must not attend to each other: their entry is −100 (softmax weight
    ≈ e⁻¹⁰⁰), all others 0. Region of row r: 0 if ``r < h − window``, 1 if
    ``h − window ≤ r < h − shift``, 2 otherwise (same for columns).

    Parameters
    ----------
    h, w : int
        Size of the (rolled) token grid, multiples of ``window``.
    window, shift : int
        Window side and shift, ``0 < shift < window``.
    device : torch device, optional

    Returns
    -------
    (nW, window², window²) float32 tensor, ``nW = h/window · w/window``; entry ``[n, p, q]``
    is the bias added to the attention of token p on token q in window n.
    """
    rows = torch.arange(h, device=device)
    cols = torch.arange(w, device=device)
    region_r = (rows >= h - window).long() + (rows >= h - shift).long()
    region_c = (cols >= w - window).long() + (cols >= w - shift).long()
    labels = (3 * region_r[:, None] + region_c[None, :]).view(1, h, w, 1)
    lab = window_partition(labels, window).squeeze(-1)  # (nW, window²)
    differ = lab[:, :, None] != lab[:, None, :]
    return torch.zeros(differ.shape, device=device).masked_fill(differ, -100.0)


def _linspace(lo: float, hi: float, n: int) -> list[float]:
    """n evenly spaced floats from lo to hi (plain Python, so it also works on the meta device)."""
    if n == 1:
        return [lo]
    return [lo + (hi - lo) * k / (n - 1) for k in range(n)]


class DropPath(nn.Module):
    """Stochastic depth: drop a whole residual branch per sample with probability ``p``."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """(B, ...) → (B, ...); identity in eval mode or when ``p == 0``."""
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows with relative position bias (Liu et al. 2021).

    ``Attention(Q, K, V) = SoftMax(QKᵀ/√d + B + M) V`` per window and head, with ``B`` read
    from a learned table of ``(2·window − 1)²`` entries per head indexed by the relative
    offset of the two tokens, and ``M`` the optional shifted-window mask.

    Parameters
    ----------
    dim : int
        Token width C (divisible by ``num_heads``).
    window : int
        Window side.
    num_heads : int
    qkv_bias : bool
    attn_drop, proj_drop : float
        Dropout on the attention weights and on the output projection.
    """

    def __init__(
        self,
        dim: int,
        window: int,
        num_heads: int,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.dim, self.window, self.num_heads = dim, window, num_heads
        self.attn_drop = attn_drop
        self.rel_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        nn.init.trunc_normal_(self.rel_bias_table, std=0.02)
        ii, jj = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        coords = torch.stack([ii.flatten(), jj.flatten()])  # (2, N)
        rel = coords[:, :, None] - coords[:, None, :] + (window - 1)  # (2, N, N), ≥ 0
        self.register_buffer("rel_index", rel[0] * (2 * window - 1) + rel[1], persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def relative_position_bias(self) -> Tensor:
        """(num_heads, window², window²) bias B."""
        n = self.window * self.window
        return self.rel_bias_table[self.rel_index.view(-1)].view(n, n, -1).permute(2, 0, 1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Attend within windows.

        Parameters
        ----------
        x : (B · nW, N, C) tokens of the windows (``N = window²``), image-major order
        mask : (nW, N, N) additive mask or None

        Returns
        -------
        (B · nW, N, C)
        """
        bn, n, c = x.shape
        hd = c // self.num_heads
        qkv = self.qkv(x).view(bn, n, 3, self.num_heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B·nW, heads, N, hd)
        bias = self.relative_position_bias().unsqueeze(0)  # (1, heads, N, N)
        if mask is not None:
            nw = mask.shape[0]
            q, k, v = (t.reshape(bn // nw, nw, self.num_heads, n, hd) for t in (q, k, v))
            bias = bias + mask.unsqueeze(1)  # (nW, heads, N, N), broadcast over images
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias.to(q.dtype), dropout_p=self.attn_drop if self.training else 0.0
        )
        out = out.reshape(bn, self.num_heads, n, hd).transpose(1, 2).reshape(bn, n, c)
        return self.proj_drop(self.proj(out))


class SwinBlock(nn.Module):
    """Swin Transformer block: (shifted-)window attention and an MLP, each pre-norm residual.

    ``x ← x + DropPath(W-MSA(LN(x)))``, ``x ← x + DropPath(MLP(LN(x)))``. With ``shift > 0``
    the map is cyclically rolled by ``−shift`` before partitioning (SW-MSA) and rolled back
    after, using :func:`shifted_window_mask`. When the map is a single window the shift is
    skipped (nothing to connect), as in the Swin reference design.

    Parameters
    ----------
    dim, num_heads, window : int
    shift : int
        0 (W-MSA) or typically ``window // 2`` (SW-MSA).
    mlp_ratio : float
        Hidden width of the MLP relative to ``dim``.
    qkv_bias : bool
    drop, attn_drop, drop_path : float
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window: int,
        shift: int = 0,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0 <= shift < window:
            raise ValueError(f"shift must be in [0, window), got {shift} with window {window}")
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dim)
        )
        self.mlp_drop = nn.Dropout(drop)

    def effective_shift(self, h: int, w: int) -> int:
        """Shift used on an h × w token grid (0 when it is a single window)."""
        return self.shift if min(h, w) > self.window else 0

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """(B, H, W, C) → (B, H, W, C); H, W multiples of ``window``.

        ``mask`` is the (nW, N, N) shifted-window mask for this grid; built here when needed and
        not given.
        """
        b, h, w, c = x.shape
        s = self.effective_shift(h, w)
        y = self.norm1(x)
        if s:
            y = torch.roll(y, shifts=(-s, -s), dims=(1, 2))
            if mask is None:
                mask = shifted_window_mask(h, w, self.window, s, device=x.device)
        else:
            mask = None
        y = self.attn(window_partition(y, self.window), mask)
        y = window_reverse(y, self.window, h, w)
        if s:
            y = torch.roll(y, shifts=(s, s), dims=(1, 2))
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp_drop(self.mlp(self.norm2(x))))


class SwinStage(nn.Module):
    """``depth`` Swin blocks alternating W-MSA and SW-MSA (shift ``window // 2``).

    Shapes: (B, H, W, C) → (B, H, W, C). The shifted-window mask is built once per call.
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        num_heads: int,
        window: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop: float,
        attn_drop: float,
        drop_path: Sequence[float],
    ) -> None:
        super().__init__()
        self.window = window
        self.blocks = nn.ModuleList(
            SwinBlock(
                dim,
                num_heads,
                window,
                shift=0 if k % 2 == 0 else window // 2,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop=drop,
                attn_drop=attn_drop,
                drop_path=float(drop_path[k]),
            )
            for k in range(depth)
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, H, W, C) → (B, H, W, C)."""
        _, h, w, _ = x.shape
        mask = None
        shifts = {blk.effective_shift(h, w) for blk in self.blocks} - {0}
        if len(shifts) == 1:
            mask = shifted_window_mask(h, w, self.window, shifts.pop(), device=x.device)
        for blk in self.blocks:
            x = blk(x, mask if blk.effective_shift(h, w) else None)
        return x


class PatchMerging(nn.Module):
    """Swin patch merging: 2×2 neighbours concatenated (4C), LayerNorm, linear to 2C.

    Shapes: (B, H, W, C) → (B, H/2, W/2, 2C).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, H, W, C) → (B, H/2, W/2, 2C)."""
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class PatchExpand(nn.Module):
    """Swin-Unet patch expanding: linear C → s²·C_out, rearranged to an s× larger grid, LayerNorm.

    ``scale=2, out_dim=C/2`` is the decoder's up-sampling (H, W, C) → (2H, 2W, C/2);
    ``scale=4, out_dim=C`` is the final 4× expansion back to pixel resolution.

    Parameters
    ----------
    dim : int
        Input width C.
    scale : int
        Up-sampling factor s.
    out_dim : int
        Output width.
    """

    def __init__(self, dim: int, scale: int, out_dim: int) -> None:
        super().__init__()
        self.scale, self.out_dim = scale, out_dim
        self.expand = nn.Linear(dim, scale * scale * out_dim, bias=False)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """(B, H, W, C) → (B, s·H, s·W, out_dim)."""
        b, h, w, _ = x.shape
        s = self.scale
        x = self.expand(x).view(b, h, w, s, s, self.out_dim)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, h * s, w * s, self.out_dim)
        return self.norm(x)


class SwinUNet(_PaddedSegmenter):
    """Swin-Unet of Cao et al. (ECCV-W 2022): a U-shaped pure Swin Transformer.

    Encoder: patch embedding (``patch_size``×``patch_size`` strided conv → LayerNorm, width C),
    then stages of Swin blocks (:class:`SwinStage`) at widths C, 2C, 4C, … separated by
    :class:`PatchMerging`; the last stage is the bottleneck. Decoder: at each scale from the
    bottom up, :class:`PatchExpand` (×2, half the width), concatenation with the encoder
    stage output of that scale and a linear layer back to its width, then Swin blocks. A final
    ×``patch_size`` patch expanding and a 1×1 convolution give the pixel logits.

    Skips take the encoder stage outputs (after the Swin blocks, before merging), as drawn in
    Cao et al.'s Fig. 1. The input is padded (reflect) to a multiple of
    ``patch_size · window_size · 2^(stages−1)`` so every stage's token grid is a whole number
    of windows, and the logits are cropped back. With the Swin-Unet window of 7 and 4 stages
    that multiple is 224 (120 → 224, 300 → 448); ``window_size=5`` needs 160 (120 → 160,
    300 → 320) and is the small configuration's choice for CPU time.

    Parameters
    ----------
    in_channels, num_classes : int
    embed_dim : int
        Width C of the first stage (96 in Swin-Unet / Swin-T, 128 in Swin-B).
    depths : sequence of int
        Swin blocks per encoder stage; the last is the bottleneck.
    num_heads : sequence of int
        Heads per stage (width ``C·2^i`` must be divisible by ``num_heads[i]``).
    decoder_depths : sequence of int, optional
        Swin blocks of the decoder stage at each scale 0 … stages−2 (finest first); default
        ``depths[:-1]`` (mirror of the encoder).
    window_size : int
    patch_size : int
    mlp_ratio : float
    qkv_bias : bool
    drop_rate, attn_drop_rate : float
    drop_path_rate : float
        Stochastic depth, rising linearly over the encoder blocks; each decoder stage reuses the
        range of the encoder stage at its scale.
    pad_mode : {"reflect", "replicate", "constant"}

    Shapes
    ------
    ``forward``: (B, in_channels, H, W) → (B, num_classes, H, W) logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 3,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 2, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        decoder_depths: Sequence[int] | None = None,
        window_size: int = 7,
        patch_size: int = 4,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        pad_mode: PadMode = "reflect",
    ) -> None:
        super().__init__()
        n = len(depths)
        if n < 1 or len(num_heads) != n:
            raise ValueError("depths and num_heads must be non-empty and of equal length")
        dec_depths = tuple(depths[:-1]) if decoder_depths is None else tuple(decoder_depths)
        if len(dec_depths) != n - 1:
            raise ValueError(f"decoder_depths needs {n - 1} entries, got {len(dec_depths)}")
        if window_size < 2:
            raise ValueError(f"window_size must be at least 2, got {window_size}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.window_size, self.patch_size = window_size, patch_size
        self.input_multiple = patch_size * window_size * 2 ** (n - 1)
        self.pad_mode = pad_mode
        dims = [embed_dim * 2**i for i in range(n)]
        dpr = _linspace(0.0, drop_path_rate, sum(depths))
        starts = [sum(depths[:i]) for i in range(n)]
        common = dict(
            window=window_size,
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            drop=drop_rate,
            attn_drop=attn_drop_rate,
        )

        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        self.embed_norm = nn.LayerNorm(embed_dim)
        self.encoder = nn.ModuleList(
            SwinStage(
                dims[i],
                depths[i],
                num_heads[i],
                drop_path=dpr[starts[i] : starts[i] + depths[i]],
                **common,
            )
            for i in range(n)
        )
        self.merges = nn.ModuleList(PatchMerging(dims[i]) for i in range(n - 1))
        self.bottleneck_norm = nn.LayerNorm(dims[-1])

        def dec_rates(i: int) -> list[float]:
            lo = dpr[starts[i]] if depths[i] else 0.0
            hi = dpr[starts[i] + depths[i] - 1] if depths[i] else 0.0
            return _linspace(lo, hi, dec_depths[i])

        levels = list(reversed(range(n - 1)))  # decoder order: coarse to fine
        self.expands = nn.ModuleList(PatchExpand(dims[i + 1], 2, dims[i]) for i in levels)
        self.concat_back = nn.ModuleList(nn.Linear(2 * dims[i], dims[i]) for i in levels)
        self.decoder = nn.ModuleList(
            SwinStage(dims[i], dec_depths[i], num_heads[i], drop_path=dec_rates(i), **common)
            for i in levels
        )
        self.decoder_norm = nn.LayerNorm(embed_dim)
        self.final_expand = PatchExpand(embed_dim, patch_size, embed_dim)
        self.head = nn.Conv2d(embed_dim, num_classes, 1, bias=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def _forward_padded(self, x: Tensor) -> Tensor:
        h = self.embed_norm(self.patch_embed(x).permute(0, 2, 3, 1))  # (B, H/p, W/p, C)
        skips = []
        for i, stage in enumerate(self.encoder):
            h = stage(h)
            if i < len(self.merges):
                skips.append(h)
                h = self.merges[i](h)
        h = self.bottleneck_norm(h)
        for expand, cat, stage in zip(self.expands, self.concat_back, self.decoder, strict=True):
            h = stage(cat(torch.cat([expand(h), skips.pop()], dim=-1)))
        h = self.final_expand(self.decoder_norm(h))  # (B, H, W, C)
        return self.head(h.permute(0, 3, 1, 2))

    @classmethod
    def paper_size(cls, **kw: Any) -> SwinUNet:
        """Swin-Unet near the paper's 73.46M (C=128, depths 2-2-6-2: 73,499,184 at 3 → 3)."""
        return cls(**{**PAPER_CONFIGS["swin_unet"], **kw})


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------

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

#: Widths whose parameter counts come closest to the SMGNN paper's Table 1 (see module docstring).
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
        counts in :data:`PAPER_PARAMS_M`).
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
