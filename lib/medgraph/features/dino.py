"""DINO ViT-S/8 in plain torch and its last-block attention keys, the seed's patch features.

The architecture is the one of DINO's ``vision_transformer.vit_small(patch_size=8,
num_classes=0)`` (Caron et al. 2021, facebookresearch/dino): patch 8, embedding 384, 12 blocks
of 6-head self-attention with an MLP of ratio 4 (exact GELU), pre-norm LayerNorms with
eps 1e-6, a class token and a learned positional embedding for 224 px inputs (1 + 28² tokens),
resized bicubically to other grids as DINO's ``interpolate_pos_encoding`` does. Parameter
names equal those of the official checkpoint ``dino_deitsmall8_pretrain.pth`` (``cls_token``,
``pos_embed``, ``patch_embed.proj.*``, ``blocks.{i}.norm1.*``, ``blocks.{i}.attn.qkv.*``,
``blocks.{i}.attn.proj.*``, ``blocks.{i}.norm2.*``, ``blocks.{i}.mlp.fc1.*``,
``blocks.{i}.mlp.fc2.*``, ``norm.*``; no head), so that it loads with ``strict=True``;
21,670,272 parameters.

The features (as in DeepCut and UnSeGArmaNet) are the *keys* of the last block's attention:
the middle third of the last block's ``qkv`` projection of its normalised input, the 6 heads'
64-d keys concatenated head-major into 384 numbers per token, the class token dropped.

Weights are never downloaded: :func:`load_dino_vits8` reads an explicit file, or else the
torch hub cache (``torch.hub.get_dir()/checkpoints/dino_deitsmall8_pretrain.pth``, where
``torch.hub.load('facebookresearch/dino:main', 'dino_vits8')`` puts it), or else raises
:class:`~medgraph.features.patches.FeaturesUnavailableError` naming both places and
:data:`DINO_VITS8_URL`.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medgraph.features.patches import FeaturesUnavailableError, patch_grid
from medgraph.training.preparation import select_device

__all__ = [
    "DINO_VITS8_URL",
    "DINO_VITS8_FILENAME",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DinoVisionTransformer",
    "DinoKeysExtractor",
    "dino_vits8",
    "dino_vits8_cache_path",
    "load_dino_vits8",
    "dino_state_dict",
]

#: Where the official DINO ViT-S/8 backbone weights are published (download by hand).
DINO_VITS8_URL = (
    "https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth"
)
DINO_VITS8_FILENAME = "dino_deitsmall8_pretrain.pth"
#: ImageNet channel statistics of DINO's input normalisation (RGB in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Device = torch.device | str | None


class _PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int, device: Device) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) → (B, (H/p)(W/p), dim), row-major."""
        return self.proj(x).flatten(2).transpose(1, 2)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int, device: Device) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True, device=device)
        self.proj = nn.Linear(dim, dim, device=device)

    def qkv_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C) → (3, B, heads, N, C / heads): queries, keys, values."""
        b, n, c = x.shape
        return self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv_heads(x)
        y = F.scaled_dot_product_attention(q, k, v)  # softmax(q kᵀ / √(C/heads)) v
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, device: Device) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, eps: float, device: Device):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps, device=device)
        self.attn = _Attention(dim, heads, device)
        self.norm2 = nn.LayerNorm(dim, eps=eps, device=device)
        self.mlp = _Mlp(dim, int(dim * mlp_ratio), device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DinoVisionTransformer(nn.Module):
    """DINO's Vision Transformer backbone (defaults: ViT-S/8), parameters left uninitialised.

    Build it through :func:`dino_vits8` (random weights) or :func:`load_dino_vits8`
    (pretrained); the constructor allocates the parameters on ``device`` (``"meta"``
    allocates nothing) and draws no random numbers.

    Parameters
    ----------
    patch : int, default 8
        Side of a patch, in pixels.
    embed_dim : int, default 384
    depth : int, default 12
    heads : int, default 6
    mlp_ratio : float, default 4
    img_size : int, default 224
        Side of the training images, in pixels: the positional embedding has
        ``1 + (img_size / patch)²`` rows.
    eps : float, default 1e-6
        LayerNorm epsilon.
    device : torch device of the parameters
    """

    def __init__(
        self,
        *,
        patch: int = 8,
        embed_dim: int = 384,
        depth: int = 12,
        heads: int = 6,
        mlp_ratio: float = 4.0,
        img_size: int = 224,
        eps: float = 1e-6,
        device: Device = "meta",
    ) -> None:
        super().__init__()
        if embed_dim % heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be a multiple of heads ({heads})")
        self.patch = int(patch)
        self.embed_dim = int(embed_dim)
        self.heads = int(heads)
        n = patch_grid(img_size, patch)[0]
        self.patch_embed = _PatchEmbed(self.patch, embed_dim, device)
        self.cls_token = nn.Parameter(torch.empty(1, 1, embed_dim, device=device))
        self.pos_embed = nn.Parameter(torch.empty(1, 1 + n * n, embed_dim, device=device))
        self.blocks = nn.ModuleList(
            _Block(embed_dim, heads, mlp_ratio, eps, device) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=eps, device=device)

    def init_weights(self, generator: torch.Generator | None = None) -> DinoVisionTransformer:
        """DINO's initialisation: truncated normal (std 0.02) for the positional embedding,
        class token and linear weights, zero biases, unit LayerNorm scales.

        The patch projection is initialised like the linear layers (DINO keeps torch's
        default there; any random init serves shape tests). Uses ``generator`` only.
        """
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                elif p.ndim == 1:  # LayerNorm scale
                    p.fill_(1.0)
                else:
                    nn.init.trunc_normal_(p, std=0.02, a=-2.0, b=2.0, generator=generator)
        return self

    @property
    def train_grid(self) -> int:
        """Side of the patch grid the positional embedding was learned for (28 for 224 px)."""
        return math.isqrt(self.pos_embed.shape[1] - 1)

    def interpolate_pos_encoding(self, rows: int, cols: int) -> torch.Tensor:
        """The positional embedding for a ``rows × cols`` patch grid.

        As DINO's ``interpolate_pos_encoding``: unchanged for the training grid, else the
        patch part is resized bicubically (``align_corners=False``) with the scale factors
        ``((rows + 0.1) / n, (cols + 0.1) / n)`` of the training grid ``n``, the 0.1 guarding
        against rounding down; the class token's embedding is kept.

        Returns
        -------
        (1, 1 + rows · cols, embed_dim) tensor.
        """
        n = self.train_grid
        if rows == n and cols == n:
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        grid = patch_pos.reshape(1, n, n, self.embed_dim).permute(0, 3, 1, 2)
        grid = F.interpolate(
            grid.float(),
            scale_factor=((rows + 0.1) / n, (cols + 0.1) / n),
            mode="bicubic",
            align_corners=False,
        ).to(patch_pos.dtype)
        if grid.shape[-2:] != (rows, cols):
            raise RuntimeError(
                f"positional embedding resized to {tuple(grid.shape[-2:])}, not {(rows, cols)}"
            )
        patch_pos = grid.permute(0, 2, 3, 1).reshape(1, rows * cols, self.embed_dim)
        return torch.cat((cls_pos, patch_pos), dim=1)

    def prepare_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised images → (B, 1 + (H/p)(W/p), C): class + patch tokens."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) images, got shape {tuple(x.shape)}")
        h, w = int(x.shape[-2]), int(x.shape[-1])
        if h % self.patch or w % self.patch:
            raise ValueError(f"image size {h}×{w} is not a multiple of the patch {self.patch}")
        tokens = self.patch_embed(x)
        tokens = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), tokens), dim=1)
        return tokens + self.interpolate_pos_encoding(h // self.patch, w // self.patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised images → (B, C) final normalised class token."""
        t = self.prepare_tokens(x)
        for block in self.blocks:
            t = block(t)
        return self.norm(t)[:, 0]

    def last_keys(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's attention keys of the patch tokens.

        Parameters
        ----------
        x : (B, 3, H, W) float tensor
            Images normalised with :data:`IMAGENET_MEAN` / :data:`IMAGENET_STD`, ``H`` and
            ``W`` multiples of the patch.

        Returns
        -------
        (B, (H/p)(W/p), C) tensor, row-major patches, the heads' keys concatenated
        (``[head 0 (C/heads), head 1, …]``); the class token is dropped.
        """
        t = self.prepare_tokens(x)
        for block in self.blocks[:-1]:
            t = block(t)
        last = self.blocks[-1]
        k = last.attn.qkv_heads(last.norm1(t))[1]  # (B, heads, N, C / heads)
        b, _, n, _ = k.shape
        return k.transpose(1, 2).reshape(b, n, self.embed_dim)[:, 1:]


def dino_vits8(seed: int | None = 0, device: Device = "cpu") -> DinoVisionTransformer:
    """A ViT-S/8 with DINO's architecture and random weights (for tests; no pretraining).

    Parameters
    ----------
    seed : int or None, default 0
        Seed of the private generator of the initialisation (None: a random seed); the global
        torch random state is not touched.
    device : "auto" or torch device of the parameters (initialised on the CPU, then moved:
        the same seed gives the same weights everywhere)
    """
    device = select_device(device) if str(device) == "auto" else torch.device(device)
    model = DinoVisionTransformer(device="meta").to_empty(device="cpu")
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return model.init_weights(gen).to(device).eval()


def dino_vits8_cache_path() -> Path:
    """Where torch hub keeps the checkpoint: ``torch.hub.get_dir()/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / DINO_VITS8_FILENAME


_WRAPPERS = ("teacher", "state_dict", "model", "student")
_PREFIXES = ("module.", "backbone.")


def dino_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The backbone state dict inside a DINO checkpoint.

    Accepts the plain backbone file (``dino_deitsmall8_pretrain.pth``), or a dict wrapping it
    under ``"teacher"``, ``"state_dict"``, ``"model"`` or ``"student"`` (first found, in this
    order; DINO's training checkpoints hold ``"teacher"`` and ``"student"``). Leading
    ``"module."`` / ``"backbone."`` prefixes are stripped and projection-head keys
    (``"head.*"``) dropped.
    """
    sd: Any = checkpoint
    while isinstance(sd, Mapping) and not any(isinstance(v, torch.Tensor) for v in sd.values()):
        inner = next((sd[k] for k in _WRAPPERS if isinstance(sd.get(k), Mapping)), None)
        if inner is None:
            break
        sd = inner
    if not isinstance(sd, Mapping):
        raise ValueError(f"checkpoint is a {type(sd).__name__}, not a state dict")
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        name = str(key)
        while name.startswith(_PREFIXES):
            name = name.split(".", 1)[1]
        if isinstance(value, torch.Tensor) and not name.startswith("head."):
            out[name] = value
    return out


def _missing_weights(where: str) -> FeaturesUnavailableError:
    return FeaturesUnavailableError(
        f"DINO ViT-S/8 weights not found ({where}); nothing is downloaded here: fetch "
        f"{DINO_VITS8_URL} by hand and pass its path as weights=... or put it at "
        f"{dino_vits8_cache_path()}"
    )


def load_dino_vits8(
    weights: str | Path | None = None, device: Device = "auto"
) -> DinoVisionTransformer:
    """The pretrained DINO ViT-S/8 backbone in eval mode, gradients off. Never downloads.

    Parameters
    ----------
    weights : path, optional
        A DINO ViT-S/8 checkpoint (see :func:`dino_state_dict` for the layouts accepted).
        Without it, the torch hub cache file :func:`dino_vits8_cache_path` is used.
    device : "auto" or torch device
        Where the model goes (``"auto"``: :func:`medgraph.training.select_device`).

    Raises
    ------
    FeaturesUnavailableError
        When the file does not exist (the message names ``weights``, the hub cache path and
        :data:`DINO_VITS8_URL`).
    ValueError
        When the file cannot be read as tensors or is not a ViT-S/8 checkpoint.
    """
    dev = select_device("auto" if device is None else device)
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise _missing_weights(f"no file at weights={str(path)!r}")
    else:
        path = dino_vits8_cache_path()
        if not path.is_file():
            raise _missing_weights(f"no weights= given and none in the torch hub cache {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"cannot read {path} as a tensors-only checkpoint ({first}); save the backbone "
            "state dict alone, e.g. torch.save(ckpt['teacher'], path)"
        ) from err
    sd = dino_state_dict(checkpoint)
    pos = sd.get("pos_embed")
    n_tokens = int(pos.shape[1]) if isinstance(pos, torch.Tensor) and pos.ndim == 3 else 785
    n = math.isqrt(max(n_tokens - 1, 1))
    model = DinoVisionTransformer(img_size=n * 8 if n * n == n_tokens - 1 else 224)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    wrong = sorted(k for k in set(sd) & set(expected) if tuple(sd[k].shape) != expected[k])
    if missing or unexpected or wrong:
        parts = [
            f"{label} {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''} ({len(keys)})"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("wrong shape", wrong),
            )
            if keys
        ]
        raise ValueError(f"{path} is not a DINO ViT-S/8 checkpoint: {'; '.join(parts)}")
    model = model.to_empty(device=dev)
    model.load_state_dict(sd, strict=True)
    return model.eval().requires_grad_(False)


class DinoKeysExtractor:
    """The ``"dino_vits8"`` extractor: last-block keys of DINO ViT-S/8 (384-d per patch).

    Parameters
    ----------
    patch : int
        Must be 8, the model's patch.
    device : torch device the model runs on
    weights : path, optional
        Checkpoint for :func:`load_dino_vits8` (default: the torch hub cache).
    model : DinoVisionTransformer, optional
        An already built model (e.g. :func:`dino_vits8` for tests), used instead of
        loading ``weights``; moved to ``device``.
    """

    name = "dino_vits8"

    def __init__(
        self,
        *,
        patch: int,
        device: Device,
        weights: str | Path | None = None,
        model: DinoVisionTransformer | None = None,
    ) -> None:
        if model is not None and weights is not None:
            raise ValueError("pass either weights= or model=, not both")
        self.source = (
            "given model"
            if model is not None
            else (Path(weights).name if weights is not None else DINO_VITS8_FILENAME)
        )
        self.model = load_dino_vits8(weights, device) if model is None else model.to(device).eval()
        if int(patch) != self.model.patch:
            raise ValueError(f"dino_vits8 needs patch={self.model.patch}, got patch={patch}")
        self.patch = self.model.patch
        self.dim = self.model.embed_dim

    @property
    def description(self) -> str:
        """One line for reports."""
        m = self.model
        return (
            f"dino_vits8, {self.dim}-d per {self.patch}×{self.patch} px patch: DINO ViT-S/8 "
            f"last-block attention keys ({m.heads} heads × {self.dim // m.heads}), "
            f"weights: {self.source}"
        )

    def __call__(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float sRGB in [0, 1] → (B, (S/8)², 384) float32 keys."""
        p = next(self.model.parameters())
        x = rgb.to(device=p.device, dtype=p.dtype)
        mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device)[:, None, None]
        std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device)[:, None, None]
        with torch.no_grad():  # not inference_mode: the keys may feed a trained GNN
            return self.model.last_keys((x - mean) / std).float()
