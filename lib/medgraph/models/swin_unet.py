"""Swin-Unet and its Swin Transformer machinery (windows, shifted-window mask, blocks, patches).

:class:`SwinUNet` — H. Cao et al., "Swin-Unet: Unet-like pure transformer for medical image
segmentation", ECCV Workshops 2022, built on Z. Liu et al., "Swin Transformer: Hierarchical
vision transformer using shifted windows", ICCV 2021.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medgraph.models.blocks import PadMode, _PaddedSegmenter

__all__ = [
    "SwinUNet",
    "WindowAttention",
    "SwinBlock",
    "SwinStage",
    "PatchMerging",
    "PatchExpand",
    "DropPath",
    "window_partition",
    "window_reverse",
    "shifted_window_mask",
]


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
        from medgraph.models.baselines import PAPER_CONFIGS  # baselines imports this module

        return cls(**{**PAPER_CONFIGS["swin_unet"], **kw})
