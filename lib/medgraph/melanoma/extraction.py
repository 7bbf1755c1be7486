"""Every graph and conventional feature of notebook 06, for many images, cached on disk.

The study needs, for every image, the features of many graph configurations: SEG levels (20, 40,
60, 80, 100 superpixels) with colour, geometric and texture signals and Gaussian or learned
weights, the learned colour graphs pruned at τ = 25, 50 and 75 %, SHG levels (80, 40, 20, 10, 5)
with learned weights, and the conventional features of the whole image. :func:`extract_features`
computes them in chunks of images (each chunk: superpixel levels once, every graph's weights once
per (level, signal, weighting), then every τ), optionally in parallel processes, and keeps each
chunk in a cache folder, so a second call with the same images and settings only reads files.

A *block* is the features of one graph level (or the conventional features), named
``"<kind>/<signal>/<weighting>/tau<percent>/n=<nodes>"`` (for example
``"seg/colour/learned/tau0/n=20"``) or ``"conventional"``; its columns are
:func:`medgraph.melanoma.pipeline.level_feature_names` (7n + 9) or
:func:`medgraph.melanoma.conventional.conventional_feature_names` (151).

The cache key of a chunk is the SHA-256 of :data:`FEATURE_VERSION`, the :class:`FeaturePlan`
and the bytes of the chunk's images; the chunks are stored as float64 ``.npz`` files (float32 would overflow: a
superpixel far from all others has Gaussian or learned weights near 1e-80, so path lengths 1/w
reach 1e80), written
atomically. Bump :data:`FEATURE_VERSION` whenever a change alters any feature's value.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from medgraph.melanoma.conventional import conventional_feature_names, conventional_features
from medgraph.melanoma.graph_features import gft_features, vertex_features
from medgraph.melanoma.pipeline import (
    SIGNALS,
    WEIGHTINGS,
    GraphConfig,
    image_level_maps,
    level_feature_names,
    level_weights,
)
from medgraph.melanoma.weights import prune_weights

__all__ = [
    "FEATURE_VERSION",
    "CONVENTIONAL",
    "FeaturePlan",
    "GraphSet",
    "block_name",
    "parse_block",
    "block_feature_names",
    "chunk_features",
    "extract_features",
    "default_feature_cache",
]

#: version of every feature's definition; part of every cache key and stored CV run's key
FEATURE_VERSION = 1
#: the block of conventional whole-image features
CONVENTIONAL = "conventional"


@dataclass(frozen=True)
class GraphSet:
    """Graphs of one kind with one signal and weighting, at some pruning levels.

    Attributes
    ----------
    kind : "seg" or "shg"
    signal : "colour", "geometric" or "texture"
    weighting : "gaussian" or "learned"
    taus : pruned shares (0 = unpruned), each in [0, 1)
    """

    kind: str
    signal: str
    weighting: str
    taus: tuple[float, ...] = (0.0,)

    def __post_init__(self) -> None:
        if self.kind not in ("seg", "shg"):
            raise ValueError(f"kind must be 'seg' or 'shg', got {self.kind!r}")
        for tau in self.taus:
            GraphConfig(self.signal, self.weighting, float(tau))  # checks signal, weighting, τ
        if not self.taus:
            raise ValueError("taus must not be empty")


def _percent(tau: float) -> int:
    return int(round(100 * float(tau)))


def block_name(kind: str, signal: str, weighting: str, tau: float, n: int) -> str:
    """The name of one level's block, e.g. ``"seg/colour/learned/tau25/n=100"``."""
    return f"{kind}/{signal}/{weighting}/tau{_percent(tau)}/n={int(n)}"


def parse_block(name: str) -> dict[str, object]:
    """The fields of a block name: kind, signal, weighting, tau (fraction), n; or
    ``{"kind": "conventional"}``."""
    if name == CONVENTIONAL:
        return {"kind": CONVENTIONAL}
    try:
        kind, signal, weighting, tau, n = name.split("/")
        return {
            "kind": kind,
            "signal": signal,
            "weighting": weighting,
            "tau": int(tau.removeprefix("tau")) / 100,
            "n": int(n.removeprefix("n=")),
        }
    except ValueError:
        raise ValueError(f"not a block name: {name!r}") from None


def block_feature_names(name: str) -> list[str]:
    """Column names of a block, each prefixed with the block's name and a colon."""
    if name == CONVENTIONAL:
        return [f"{CONVENTIONAL}:{c}" for c in conventional_feature_names()]
    return level_feature_names(int(parse_block(name)["n"]), prefix=f"{name}:")


@dataclass(frozen=True)
class FeaturePlan:
    """What to compute per image (the study's default is :meth:`paper`).

    Attributes
    ----------
    seg_counts : superpixels per SEG level
    shg_counts : superpixels per SHG level, finest first, each ⌈previous / 2⌉
    graph_sets : the GraphSets to compute
    conventional : whether to compute the conventional features
    delta, gamma : Eq 3's regularisers of the learned weights
    compactness : SLIC compactness of every level
    """

    seg_counts: tuple[int, ...] = (20, 40, 60, 80, 100)
    shg_counts: tuple[int, ...] = (80, 40, 20, 10, 5)
    graph_sets: tuple[GraphSet, ...] = field(default_factory=tuple)
    conventional: bool = True
    delta: float = 1.0
    gamma: float = 1.0
    compactness: float = 10.0

    @classmethod
    def paper(
        cls,
        seg_counts: Sequence[int] = (20, 40, 60, 80, 100),
        shg_counts: Sequence[int] = (80, 40, 20, 10, 5),
        taus: Sequence[float] = (0.25, 0.5, 0.75),
    ) -> FeaturePlan:
        """Every graph the paper's Tables 1–11 need: SEG with both weightings and the three
        signals, the learned colour SEG also pruned at ``taus``, SHG learned with the three
        signals."""
        sets = []
        for weighting in WEIGHTINGS:
            for signal in SIGNALS:
                extra = tuple(taus) if (signal, weighting) == ("colour", "learned") else ()
                sets.append(GraphSet("seg", signal, weighting, (0.0, *extra)))
        sets += [GraphSet("shg", signal, "learned") for signal in SIGNALS]
        return cls(
            tuple(int(n) for n in seg_counts), tuple(int(n) for n in shg_counts), tuple(sets)
        )

    def counts(self, kind: str) -> tuple[int, ...]:
        """The level sizes of ``kind``."""
        return self.seg_counts if kind == "seg" else self.shg_counts

    def blocks(self) -> list[str]:
        """Every block name the plan computes, in a fixed order."""
        out = [
            block_name(g.kind, g.signal, g.weighting, tau, n)
            for g in self.graph_sets
            for tau in g.taus
            for n in self.counts(g.kind)
        ]
        return out + ([CONVENTIONAL] if self.conventional else [])

    def digest(self) -> str:
        """SHA-256 of the plan and :data:`FEATURE_VERSION`."""
        text = json.dumps({"version": FEATURE_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def chunk_features(images: Sequence[np.ndarray], plan: FeaturePlan) -> dict[str, np.ndarray]:
    """Every block of ``plan`` for a few images (no cache).

    Parameters
    ----------
    images : sequence of (H, W, 3) uint8 RGB images
    plan : FeaturePlan

    Returns
    -------
    dict block name → (N, columns) float64 array
    """
    images = list(images)
    out: dict[str, np.ndarray] = {}
    for kind in ("seg", "shg"):
        sets = [g for g in plan.graph_sets if g.kind == kind]
        if not sets or not images:
            continue
        counts = plan.counts(kind)
        maps = image_level_maps(images, kind, counts)
        for level, n in enumerate(counts):
            for g in sets:
                x = torch.as_tensor(
                    np.stack([m[level].signals[g.signal] for m in maps]), dtype=torch.float64
                )
                s = torch.as_tensor(
                    np.stack([m[level].graph_signals[g.signal] for m in maps]),
                    dtype=torch.float64,
                )
                config = GraphConfig(g.signal, g.weighting, 0.0, plan.delta, plan.gamma)
                w0 = level_weights(x, config)  # once; every τ prunes these weights
                for tau in g.taus:
                    w = prune_weights(w0, tau) if tau > 0 else w0
                    feats = torch.cat([vertex_features(w), gft_features(w, s)], dim=1)
                    name = block_name(kind, g.signal, g.weighting, tau, n)
                    out[name] = feats.cpu().numpy()
    if plan.conventional:
        out[CONVENTIONAL] = conventional_features(images)
    return out


def default_feature_cache() -> Path:
    """``MEDGRAPH_FEATURE_CACHE``, else ``<workbook root>/.cache/melanoma_features``."""
    from medgraph.reporting import repo_root

    env = os.environ.get("MEDGRAPH_FEATURE_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    return repo_root() / ".cache" / "melanoma_features"


def _chunk_key(images: Sequence[np.ndarray], plan_digest: str) -> str:
    digest = hashlib.sha256(plan_digest.encode())
    for image in images:
        array = np.ascontiguousarray(image)
        digest.update(f"{array.shape}\0{array.dtype.str}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _read_chunk(path: Path, blocks: Sequence[str]) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as archive:
            if not set(blocks) <= set(archive.files):
                return None
            out = {b: archive[b] for b in blocks}
    except (OSError, ValueError, EOFError):
        return None  # a damaged chunk is computed again
    if not all(np.isfinite(v).all() for v in out.values()):
        return None  # written before betweenness handled path counts beyond float64
    return out


def _write_chunk(path: Path, blocks: dict[str, np.ndarray]) -> None:
    from medgraph.reporting import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a file object: savez would append ".npz" to a name
            np.savez(handle, **blocks)

    atomic_write(path, write)


def _work(args: tuple[list[np.ndarray], FeaturePlan, str | None]) -> dict[str, np.ndarray]:
    images, plan, path = args
    blocks = chunk_features(images, plan)
    if path is not None:
        _write_chunk(Path(path), blocks)
    return blocks


def _one_thread() -> None:
    torch.set_num_threads(1)  # in a worker process: one process per core


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def extract_features(
    images: Sequence[np.ndarray],
    plan: FeaturePlan,
    *,
    cache: str | os.PathLike[str] | None = "auto",
    chunk_size: int = 50,
    n_jobs: int = 1,
    progress: bool | Callable[[int], None] = False,
) -> dict[str, np.ndarray]:
    """Every block of ``plan`` for every image, from the cache where it holds them.

    Parameters
    ----------
    images : sequence of N (H, W, 3) uint8 RGB images
    plan : FeaturePlan
    cache : folder, ``"auto"`` (:func:`default_feature_cache`) or None (no cache)
    chunk_size : images per chunk (the unit of caching and of parallel work)
    n_jobs : worker processes (1: in this process)
    progress : True for a tqdm bar over images, or a callable given the images done per chunk

    Returns
    -------
    dict block name → (N, columns) float64 array, in :meth:`FeaturePlan.blocks` order
    """
    images = list(images)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    folder = None
    if cache is not None:
        folder = default_feature_cache() if cache == "auto" else Path(cache).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
    names = plan.blocks()
    digest = plan.digest()
    slices = list(_chunks(len(images), chunk_size))
    results: list[dict[str, np.ndarray] | None] = [None] * len(slices)
    todo = []
    for i, sl in enumerate(slices):
        path = None
        if folder is not None:
            path = folder / f"{_chunk_key(images[sl], digest)[:32]}.npz"
            results[i] = _read_chunk(path, names)
        if results[i] is None:
            todo.append((i, (images[sl], plan, None if path is None else str(path))))
    bar = None
    tick: Callable[[int], None] | None = progress if callable(progress) else None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(images), desc="graph features", unit="image")
        bar.update(len(images) - sum(len(a[1][0]) for a in todo))
        tick = bar.update
    try:
        if n_jobs > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=n_jobs, initializer=_one_thread) as pool:
                futures = {i: pool.submit(_work, args) for i, args in todo}
                for i, future in futures.items():
                    results[i] = future.result()
                    if tick is not None:
                        tick(slices[i].stop - slices[i].start)
        else:
            for i, args in todo:
                results[i] = _work(args)
                if tick is not None:
                    tick(slices[i].stop - slices[i].start)
    finally:
        if bar is not None:
            bar.close()
    if not images:
        return {name: np.zeros((0, len(block_feature_names(name)))) for name in names}
    return {name: np.concatenate([r[name] for r in results]) for name in names}  # type: ignore[index]
