"""Notebook 06's graph features of many images: levels → node signals → edge weights → features.

One image gives, per level (SEG: 20, 40, 60, 80, 100 superpixels; SHG: 80, 40, 20, 10), a data
matrix X (n × m) for each signal kind (colour, geometric, texture) and a scalar graph signal
(:mod:`medgraph.melanoma.levels`). The graph of a level is fully connected without self-loops;
its weights are Gaussian (Eq 2) or learned by majorization-minimization (Eq 3, Algorithm 1),
optionally pruned (Eqs 8–9) (:mod:`medgraph.melanoma.weights`); its features are the
vertex-domain features (6n + 5) and the graph-Fourier features (n + 4) of
:mod:`medgraph.melanoma.graph_features`.

**Standardisation (ours; the paper is silent).** The columns of X have different units (CIELAB
values, area fractions, pixel counts), so each column is z-scored *within the graph* (mean 0,
standard deviation 1 over the graph's n nodes; a constant column becomes 0) before the
distances of Eq 1. This uses one image's own values only, so it cannot leak labels across
images. With it, the paper's literal Eq 2 (μ and σ² of the entries of X) has μ = 0 and σ² = 1
for every graph without a constant column, and the kernel exp(−d²/2) decreases with the
distance, as the paper's text says a similarity kernel should.

Levels are computed once per image and reused by every (signal, weighting, τ) configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from medgraph.melanoma.graph_features import (
    gft_feature_names,
    gft_features,
    vertex_feature_names,
    vertex_features,
)
from medgraph.melanoma.levels import LevelMap, image_levels
from medgraph.melanoma.weights import gaussian_weights, learn_weights_mm, prune_weights

__all__ = [
    "GraphConfig",
    "standardise_columns",
    "image_level_maps",
    "level_weights",
    "level_features",
    "level_feature_names",
    "SIGNALS",
    "WEIGHTINGS",
]

SIGNALS: tuple[str, ...] = ("colour", "geometric", "texture")
WEIGHTINGS: tuple[str, ...] = ("gaussian", "learned")


@dataclass(frozen=True)
class GraphConfig:
    """One graph configuration of the study.

    Attributes
    ----------
    signal : "colour", "geometric" or "texture" (the node signal that defines X and s)
    weighting : "gaussian" (Eq 2) or "learned" (MM, Eq 3)
    tau : pruned share of the weakest edges (0, 0.25, 0.5, 0.75)
    delta, gamma : the MM regularisers of Eq 3 (the paper gives no values; 1 and 1)
    """

    signal: str = "colour"
    weighting: str = "gaussian"
    tau: float = 0.0
    delta: float = 1.0
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ValueError(f"signal must be one of {SIGNALS}, got {self.signal!r}")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if not 0.0 <= self.tau < 1.0:
            raise ValueError(f"tau must lie in [0, 1), got {self.tau}")


def standardise_columns(x: torch.Tensor) -> torch.Tensor:
    """Z-score every column of every graph's X over its nodes (module notes).

    Parameters
    ----------
    x : (B, n, m) float tensor

    Returns
    -------
    (B, n, m) tensor of the same dtype: mean 0 and (population) std 1 per graph and column; a
    constant column becomes 0.
    """
    mean = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, unbiased=False, keepdim=True)
    return torch.where(std > 1e-12, (x - mean) / std.clamp_min(1e-12), torch.zeros_like(x))


def image_level_maps(
    images: Sequence[np.ndarray],
    kind: str = "seg",
    counts: Sequence[int] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[list[LevelMap]]:
    """The level maps (labels, node signals, scalar signals) of every image.

    Parameters
    ----------
    images : sequence of (H, W, 3) uint8
    kind : "seg" (ensemble) or "shg" (hierarchy)
    counts : superpixels per level (default: the paper's for ``kind``)
    progress : called with 1 after each image (e.g. a tqdm bar's ``update``)

    Returns
    -------
    list (one per image) of lists of :class:`~medgraph.melanoma.levels.LevelMap`
    """
    out = []
    for image in images:
        out.append(image_levels(image, kind=kind, counts=counts))
        if progress is not None:
            progress(1)
    return out


def level_weights(x: torch.Tensor, config: GraphConfig) -> torch.Tensor:
    """Edge weights (B, n, n) of one level's graphs from their data matrices x (B, n, m)."""
    z = standardise_columns(x.to(torch.float64))
    if config.weighting == "gaussian":
        w = gaussian_weights(z, centre="data")
    else:
        w = learn_weights_mm(z, delta=config.delta, gamma=config.gamma).weights
    return prune_weights(w, config.tau) if config.tau > 0 else w


def level_features(
    maps: Sequence[Sequence[LevelMap]], level: int, config: GraphConfig, *, chunk_size: int = 16
) -> np.ndarray:
    """Vertex-domain and graph-Fourier features of one level of every image.

    Parameters
    ----------
    maps : per image, its level maps (:func:`image_level_maps`)
    level : index of the level (every image has the same n there)
    config : GraphConfig

    Returns
    -------
    (N, 7n + 9) float64: [6n + 5 vertex-domain features, n + 4 graph-Fourier features]
    (names: :func:`level_feature_names`)
    """
    chosen = [m[level] for m in maps]
    sizes = {c.n for c in chosen}
    if len(sizes) != 1:
        raise ValueError(f"level {level} has different node counts across images: {sorted(sizes)}")
    x = torch.as_tensor(np.stack([c.signals[config.signal] for c in chosen]), dtype=torch.float64)
    s = torch.as_tensor(
        np.stack([c.graph_signals[config.signal] for c in chosen]), dtype=torch.float64
    )
    w = level_weights(x, config)
    vertex = vertex_features(w, chunk_size=chunk_size)
    fourier = gft_features(w, s)
    return torch.cat([vertex, fourier], dim=1).cpu().numpy()


def level_feature_names(n: int, prefix: str = "") -> list[str]:
    """Names of :func:`level_features`' columns for a level of n nodes, each with ``prefix``."""
    return [prefix + name for name in (*vertex_feature_names(n), *gft_feature_names(n))]
