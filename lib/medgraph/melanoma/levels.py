"""Multi-level superpixel maps and node signals for melanoma detection (Elwer, Rushdi, Annaby).

A dermoscopic image is turned into several superpixel maps ("levels"); each level becomes one
graph whose nodes are its superpixels (paper, Sec. 4.1 and 4.4). The graph features of a level have
a fixed length (``6n + 5`` vertex-domain features for ``n`` nodes, node ``i`` in position ``i``),
so every level here has **exactly** the requested number of superpixels, numbered in a
deterministic order.

Levels
------
Superpixel ensemble (SEG, Fig. 3a)
    :func:`ensemble_levels`: one :func:`exact_superpixels` map per count (20, 40, 60, 80, 100),
    each made independently of the others.
Superpixel hierarchy (SHG, Fig. 3b)
    :func:`hierarchy_levels`: the finest map (80) comes from :func:`exact_superpixels`; each
    coarser one halves the count by pairing adjacent superpixels of similar colour
    (:func:`coarsen`, CIEDE2000 colour difference, Sharma, Wu & Dalal 2005, the paper's ref. 43),
    so the levels nest (:func:`parents`).

Node order
----------
Every map is relabelled in raster order: superpixel ``i`` is the one whose first pixel (row-major
scan) comes ``i``-th. Two maps with the same partition therefore have the same labels.

Node signals
------------
The paper names the signal types "colour, geometric and texture" but not their columns; ours are
listed in :func:`node_signals`. :func:`graph_signal` picks the scalar graph signal of each type
(our choice: mean L*, area fraction, mean gradient magnitude).

Everything is deterministic (no random numbers) and touches no global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Literal

import numpy as np
from scipy import ndimage

__all__ = [
    "SIGNAL_KINDS",
    "SIGNAL_COLUMNS",
    "LevelMap",
    "exact_superpixels",
    "ensemble_levels",
    "coarsen",
    "hierarchy_levels",
    "parents",
    "node_signals",
    "graph_signal",
    "image_levels",
]

SIGNAL_KINDS: tuple[str, ...] = ("colour", "geometric", "texture")

#: Column names of each node-signal block, in column order (see :func:`node_signals`).
SIGNAL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "colour": ("mean_L", "mean_a", "mean_b", "std_L", "std_a", "std_b"),
    "geometric": (
        "area_fraction",
        "centroid_row",
        "centroid_col",
        "perimeter_ratio",
        "eccentricity",
        "elongation",
        "extent",
    ),
    "texture": (
        "grad_mean",
        "grad_std",
        "local_var_mean",
        *(f"lbp_u{b}" for b in range(10)),
    ),
}

SEG_COUNTS: tuple[int, ...] = (20, 40, 60, 80, 100)
SHG_COUNTS: tuple[int, ...] = (80, 40, 20, 10)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Validate an image and return it as ``(H, W, 3)`` RGB (greyscale replicated)."""
    from medgraph.superpixels.algorithms import _check_image

    return _check_image(image)


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB → ``(H, W, 3)`` float64 CIELAB (D65, 2° observer)."""
    from skimage.color import rgb2lab

    return np.asarray(rgb2lab(rgb), dtype=np.float64)


def _check_count(n: object, n_pixels: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, Integral) or int(n) < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    if int(n) > n_pixels:
        raise ValueError(f"{name}={n} exceeds the number of pixels ({n_pixels})")
    return int(n)


def _raster_relabel(labels: np.ndarray) -> np.ndarray:
    """Renumber a label map ``0 … K − 1`` in raster order of each label's first pixel (int64)."""
    _, first, inverse = np.unique(labels.ravel(), return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size, dtype=np.int64)
    return rank[inverse.ravel()].reshape(labels.shape)


def _check_labels(labels: np.ndarray, shape: tuple[int, int], n: int) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != shape:
        raise ValueError(f"labels must have the image's shape {shape}, got {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {lab.dtype}")
    if lab.size and (lab.min() < 0 or lab.max() >= n):
        raise ValueError(f"labels must lie in 0 … {n - 1}, got {lab.min()} … {lab.max()}")
    lab = lab.astype(np.int64, copy=False)
    if np.bincount(lab.ravel(), minlength=n).min() == 0:
        raise ValueError(f"every label 0 … {n - 1} must be used (an empty superpixel was found)")
    return lab


def _adjacent_pairs(labels: np.ndarray, k: int) -> np.ndarray:
    """Unique 4-adjacent label pairs ``(i, j)``, ``i < j``, sorted lexicographically: (P, 2)."""
    horizontal = (labels[:, :-1].ravel(), labels[:, 1:].ravel())
    vertical = (labels[:-1, :].ravel(), labels[1:, :].ravel())
    a = np.concatenate([horizontal[0], vertical[0]]).astype(np.int64)
    b = np.concatenate([horizontal[1], vertical[1]]).astype(np.int64)
    differ = a != b
    lo = np.minimum(a[differ], b[differ])
    hi = np.maximum(a[differ], b[differ])
    keys = np.unique(lo * k + hi)
    return np.stack([keys // k, keys % k], axis=1)


def _region_sums(labels: np.ndarray, lab: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel count ``(k,)`` and per-channel CIELAB sums ``(k, 3)`` of each label."""
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=k).astype(np.float64)
    sums = np.stack(
        [np.bincount(flat, weights=lab[..., c].ravel(), minlength=k) for c in range(3)], axis=1
    )
    return counts, sums


def _resolve(mapping: np.ndarray) -> np.ndarray:
    """Follow ``label → merged-into`` links to their roots."""
    while True:
        nxt = mapping[mapping]
        if np.array_equal(nxt, mapping):
            return mapping
        mapping = nxt


# --------------------------------------------------------------------------------------------
# exact superpixel counts
# --------------------------------------------------------------------------------------------


def _merge_smallest(labels: np.ndarray, lab: np.ndarray, k: int, n: int) -> np.ndarray:
    """Merge the smallest region into its closest (mean CIELAB, Euclidean) neighbour until n."""
    counts, sums = _region_sums(labels, lab, k)
    adjacency = np.zeros((k, k), dtype=bool)
    pairs = _adjacent_pairs(labels, k)
    adjacency[pairs[:, 0], pairs[:, 1]] = True
    adjacency[pairs[:, 1], pairs[:, 0]] = True
    alive = np.ones(k, dtype=bool)
    mapping = np.arange(k, dtype=np.int64)
    for _ in range(k - n):
        size = np.where(alive, counts, np.inf)
        s = int(np.argmin(size))  # ties: lowest label
        neighbours = np.flatnonzero(adjacency[s] & alive)
        if neighbours.size == 0:  # cannot happen on a connected pixel grid with ≥ 2 regions
            raise RuntimeError(f"superpixel {s} has no neighbour to merge into")
        means = sums / counts[:, None]
        dist = np.linalg.norm(means[neighbours] - means[s], axis=1)
        t = int(neighbours[np.argmin(dist)])  # ties: lowest label
        counts[t] += counts[s]
        sums[t] += sums[s]
        adjacency[t] |= adjacency[s]
        adjacency[:, t] |= adjacency[:, s]
        adjacency[t, t] = False
        adjacency[s, :] = False
        adjacency[:, s] = False
        alive[s] = False
        mapping[s] = t
    return _resolve(mapping)[labels]


def _split_largest(labels: np.ndarray, k: int, n: int) -> np.ndarray:
    """Split the largest region in two along its principal axis until there are n regions."""
    labels = labels.astype(np.int64, copy=True)
    flat = labels.ravel()
    width = labels.shape[1]
    counts = np.bincount(flat, minlength=n).astype(np.int64)
    for new in range(k, n):
        r = int(np.argmax(counts[:new]))  # ties: lowest label
        idx = np.flatnonzero(flat == r)
        coords = np.stack([idx // width, idx % width], axis=1).astype(np.float64)
        centred = coords - coords.mean(axis=0)
        _, vectors = np.linalg.eigh(centred.T @ centred)
        axis = vectors[:, -1]  # major axis, oriented canonically (first nonzero entry > 0)
        if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
            axis = -axis
        t = centred @ axis  # projection on the major axis
        side = t > 0.0
        if side.all() or not side.any():  # degenerate rounding: split at the median rank
            side = np.zeros(idx.size, dtype=bool)
            side[np.argsort(t, kind="stable")[idx.size // 2 :]] = True
        flat[idx[side]] = new
        counts[new] = int(side.sum())
        counts[r] -= counts[new]
    return labels


def _exact_from_lab(rgb: np.ndarray, lab: np.ndarray, n: int, compactness: float) -> np.ndarray:
    from medgraph.superpixels.algorithms import slic

    height, width = rgb.shape[:2]
    n = _check_count(n, height * width)
    labels = slic(rgb, n, compactness=compactness).astype(np.int64)
    k = int(labels.max()) + 1
    if k > n:
        labels = _merge_smallest(labels, lab, k, n)
    elif k < n:
        labels = _split_largest(labels, k, n)
    return _raster_relabel(labels)


def exact_superpixels(image: np.ndarray, n: int, *, compactness: float = 10.0) -> np.ndarray:
    """SLIC superpixels with exactly ``n`` labels, numbered in raster order.

    :func:`medgraph.superpixels.algorithms.slic` is asked for ``n`` superpixels; scikit-image's
    count ``K`` usually differs (on 256×256 ISIC images it gives about 12 for 20 and 95 for 100).

    * ``K > n``: the smallest superpixel (pixel count; ties → lowest label) is merged into its
      4-adjacent neighbour of closest mean CIELAB colour (Euclidean ΔE*ab; ties → lowest label),
      the merged mean is updated, and this repeats until ``n`` remain. Merging keeps every
      superpixel 4-connected.
    * ``K < n``: the largest superpixel (ties → lowest label) is cut in two by the line through
      its centroid perpendicular to its principal (major) axis, i.e. pixels with a positive
      projection on the major axis form the new superpixel; repeated until ``n``. Both halves are
      non-empty (if rounding left one side empty, the cut falls at the median projection
      instead); the half on the positive side of the canonically oriented axis (first nonzero
      component > 0) takes the new label. A half of a non-convex superpixel may **not be 4-connected**.

    Finally the labels are renumbered in raster order of each superpixel's first pixel.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
        uint8 (0–255) or float in [0, 1].
    n : int
        Number of superpixels, ``1 ≤ n ≤ H·W``.
    compactness : float, default 10
        SLIC compactness (see :func:`~medgraph.superpixels.algorithms.slic`).

    Returns
    -------
    (H, W) int64 array
        Labels exactly ``0 … n − 1``, every label used.
    """
    rgb = _as_rgb(image)
    return _exact_from_lab(rgb, _to_lab(rgb), n, compactness)


def ensemble_levels(
    image: np.ndarray, counts: Sequence[int] = SEG_COUNTS, *, compactness: float = 10.0
) -> list[np.ndarray]:
    """Superpixel ensemble (SEG): one independent :func:`exact_superpixels` map per count.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
    counts : sequence of int, default (20, 40, 60, 80, 100)
        Number of superpixels of each level, in the order returned.
    compactness : float, default 10
        SLIC compactness.

    Returns
    -------
    list of (H, W) int64 arrays
        ``levels[i]`` has labels exactly ``0 … counts[i] − 1`` in raster order.
    """
    rgb = _as_rgb(image)
    lab = _to_lab(rgb)
    return [_exact_from_lab(rgb, lab, n, compactness) for n in counts]


# --------------------------------------------------------------------------------------------
# superpixel hierarchy
# --------------------------------------------------------------------------------------------


def _coarsen_lab(labels: np.ndarray, lab: np.ndarray, n: int) -> np.ndarray:
    from skimage.color import deltaE_ciede2000

    target = (n + 1) // 2
    required = n - target
    counts, sums = _region_sums(labels, lab, n)
    pairs = _adjacent_pairs(labels, n)
    means = sums / counts[:, None]
    delta = deltaE_ciede2000(means[pairs[:, 0]], means[pairs[:, 1]])
    order = np.lexsort((pairs[:, 1], pairs[:, 0], delta))  # ΔE00, then (i, j)

    group = np.arange(n, dtype=np.int64)
    matched = np.zeros(n, dtype=bool)
    merges = 0
    for p in order:
        if merges == required:
            break
        i, j = int(pairs[p, 0]), int(pairs[p, 1])
        if not (matched[i] or matched[j]):
            matched[i] = matched[j] = True
            group[j] = i
            merges += 1

    # Fallback: an unmatched superpixel whose neighbours are all matched joins the adjacent
    # region of closest ΔE00 (to the region's current mean), closest such pair first, until the
    # count is exactly `target`. One such merge always exists while merges are missing.
    size = np.bincount(group, minlength=n)
    g_counts = np.bincount(group, weights=counts, minlength=n)
    g_sums = np.stack([np.bincount(group, weights=sums[:, c], minlength=n) for c in range(3)], 1)
    while merges < required:
        gi, gj = group[pairs[:, 0]], group[pairs[:, 1]]
        keep = (gi != gj) & ((size[gi] == 1) | (size[gj] == 1))
        if not keep.any():  # impossible on a connected grid; guards the loop
            raise RuntimeError("no unmatched superpixel has a neighbour to merge with")
        lo = np.minimum(gi[keep], gj[keep])
        hi = np.maximum(gi[keep], gj[keep])
        key = np.unique(lo * n + hi)
        lo, hi = key // n, key % n
        g_means = g_sums / np.maximum(g_counts, 1.0)[:, None]
        d = deltaE_ciede2000(g_means[lo], g_means[hi])
        best = int(np.argmin(d))  # ties: lowest (lo, hi)
        a, b = int(lo[best]), int(hi[best])
        keep_id, drop_id = (a, b) if size[a] > 1 or size[b] == 1 else (b, a)
        group[group == drop_id] = keep_id
        size[keep_id] += size[drop_id]
        size[drop_id] = 0
        g_counts[keep_id] += g_counts[drop_id]
        g_sums[keep_id] += g_sums[drop_id]
        g_counts[drop_id] = 0.0
        g_sums[drop_id] = 0.0
        merges += 1
    return _raster_relabel(group[labels])


def coarsen(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One SHG step: merge closest pairs of adjacent superpixels, ``n`` → ``⌈n/2⌉`` labels.

    1. Mean CIELAB of each superpixel (``skimage.color.rgb2lab``, then the mean of L*, a*, b*
       over its pixels).
    2. CIEDE2000 difference ΔE00 (``skimage.color.deltaE_ciede2000``, Sharma et al. 2005) of
       every pair of 4-adjacent superpixels.
    3. Greedy matching: pairs sorted by ΔE00 ascending (ties → lower ``(i, j)``); a pair is
       merged when neither superpixel is matched yet, until ``n − ⌈n/2⌉`` merges are made.
    4. Fallback when the pass falls short (unmatched superpixels with no unmatched neighbour):
       repeatedly merge the closest (ΔE00) adjacent pair of current regions **of which at least
       one is a still-unmatched superpixel**, recomputing the merged region's mean colour (pixel
       weighted), until exactly ``⌈n/2⌉`` regions remain. Such a region holds 3 or more fine
       superpixels. Restricting to unmatched superpixels keeps matched pairs from merging into
       each other while singletons remain, and always reaches the count on a connected grid.

    The result nests in ``labels`` by construction and is renumbered in raster order.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
    labels : (H, W) int array
        Labels ``0 … n − 1``, all used, ``n ≥ 1``.

    Returns
    -------
    (H, W) int64 array
        Labels exactly ``0 … ⌈n/2⌉ − 1``.
    """
    rgb = _as_rgb(image)
    n = int(np.max(labels)) + 1
    labels = _check_labels(labels, rgb.shape[:2], n)
    return _coarsen_lab(labels, _to_lab(rgb), n)


def hierarchy_levels(
    image: np.ndarray, finest: int = 80, n_levels: int = 4, *, compactness: float = 10.0
) -> list[np.ndarray]:
    """Superpixel hierarchy (SHG): nested maps with ``finest, ⌈finest/2⌉, …`` superpixels.

    The finest map is :func:`exact_superpixels` with ``finest`` labels; each next map is
    :func:`coarsen` of the previous one (greedy CIEDE2000 pairing), so for the default
    ``80, 40, 20, 10``. Odd counts round up (``25 → 13``). Every fine superpixel lies in exactly
    one coarse superpixel of the next level (:func:`parents`).

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
    finest : int, default 80
        Superpixels at the finest level.
    n_levels : int, default 4
        Number of levels, ≥ 1.
    compactness : float, default 10
        SLIC compactness of the finest map.

    Returns
    -------
    list of (H, W) int64 arrays
        Finest first; each in raster order.
    """
    if isinstance(n_levels, bool) or not isinstance(n_levels, Integral) or n_levels < 1:
        raise ValueError(f"n_levels must be a positive integer, got {n_levels!r}")
    rgb = _as_rgb(image)
    lab = _to_lab(rgb)
    levels = [_exact_from_lab(rgb, lab, finest, compactness)]
    n = int(finest)
    for _ in range(int(n_levels) - 1):
        levels.append(_coarsen_lab(levels[-1], lab, n))
        n = (n + 1) // 2
    return levels


def parents(fine: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Coarse superpixel of each fine superpixel of two nested maps.

    Parameters
    ----------
    fine, coarse : (H, W) int arrays
        Label maps ``0 … n_fine − 1`` and ``0 … n_coarse − 1``.

    Returns
    -------
    (n_fine,) int64 array
        ``parents[i]`` is the coarse label holding all pixels of fine superpixel ``i``
        (−1 for a fine label with no pixel).

    Raises
    ------
    ValueError
        When the maps do not nest (some fine superpixel straddles two coarse ones).
    """
    fine = np.asarray(fine)
    coarse = np.asarray(coarse)
    if fine.shape != coarse.shape:
        raise ValueError(f"maps differ in shape: {fine.shape} vs {coarse.shape}")
    f = fine.ravel().astype(np.int64)
    c = coarse.ravel().astype(np.int64)
    out = np.full(int(f.max()) + 1 if f.size else 0, -1, dtype=np.int64)
    out[f] = c
    bad = out[f] != c
    if bad.any():
        raise ValueError(f"the maps do not nest: fine superpixel {int(f[bad][0])} straddles")
    return out


# --------------------------------------------------------------------------------------------
# node signals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PixelMaps:
    """Per-pixel maps shared by all levels of one image."""

    lab: np.ndarray  # (H, W, 3) CIELAB
    grad: np.ndarray  # (H, W) Sobel gradient magnitude of L*, L* units per pixel
    local_var: np.ndarray  # (H, W) 3×3 variance of L*, (L* units)²
    lbp: np.ndarray  # (H, W) uniform LBP codes 0 … 9


def _pixel_maps(rgb: np.ndarray, lab: np.ndarray | None = None) -> _PixelMaps:
    from skimage.feature import local_binary_pattern

    if lab is None:
        lab = _to_lab(rgb)
    lum = lab[..., 0]
    # ndimage.sobel weights [1, 2, 1] ⊗ [−1, 0, 1]: divide by 8 for a derivative per pixel
    gy = ndimage.sobel(lum, axis=0, mode="reflect") / 8.0
    gx = ndimage.sobel(lum, axis=1, mode="reflect") / 8.0
    grad = np.hypot(gx, gy)
    mean = ndimage.uniform_filter(lum, size=3, mode="reflect")
    mean_sq = ndimage.uniform_filter(lum * lum, size=3, mode="reflect")
    local_var = np.maximum(mean_sq - mean * mean, 0.0)
    grey = np.pad(np.clip(np.rint(lum * 2.55), 0, 255).astype(np.uint8), 1, mode="reflect")
    lbp = local_binary_pattern(grey, P=8, R=1, method="uniform")[1:-1, 1:-1].astype(np.int64)
    return _PixelMaps(lab=lab, grad=grad, local_var=local_var, lbp=lbp)


def _signals(maps: _PixelMaps, labels: np.ndarray, n: int) -> dict[str, np.ndarray]:
    height, width = labels.shape
    flat = labels.ravel()
    count = np.bincount(flat, minlength=n).astype(np.float64)

    def mean_of(values: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=values.ravel(), minlength=n) / count

    def mean_std(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = mean_of(values)
        dev = values.ravel() - mu[flat]
        return mu, np.sqrt(np.bincount(flat, weights=dev * dev, minlength=n) / count)

    # colour
    lab_stats = [mean_std(maps.lab[..., c]) for c in range(3)]
    colour = np.stack([s[0] for s in lab_stats] + [s[1] for s in lab_stats], axis=1)

    # geometric
    rows, cols = np.indices((height, width), dtype=np.float64)
    r_mean, c_mean = mean_of(rows), mean_of(cols)
    dr = rows.ravel() - r_mean[flat]
    dc = cols.ravel() - c_mean[flat]
    # second central moments of the region as a union of unit squares (+1/12 per axis)
    mrr = np.bincount(flat, weights=dr * dr, minlength=n) / count + 1.0 / 12.0
    mcc = np.bincount(flat, weights=dc * dc, minlength=n) / count + 1.0 / 12.0
    mrc = np.bincount(flat, weights=dr * dc, minlength=n) / count
    half_trace = 0.5 * (mrr + mcc)
    root = np.sqrt(0.25 * (mrr - mcc) ** 2 + mrc**2)
    lam1, lam2 = half_trace + root, np.maximum(half_trace - root, 1.0 / 12.0)
    eccentricity = np.sqrt(np.clip(1.0 - lam2 / lam1, 0.0, 1.0))
    elongation = np.sqrt(lam1 / lam2)
    padded = np.pad(labels, 1, constant_values=-1)
    interior = (
        (padded[:-2, 1:-1] == labels)
        & (padded[2:, 1:-1] == labels)
        & (padded[1:-1, :-2] == labels)
        & (padded[1:-1, 2:] == labels)
    )
    boundary = np.bincount(flat, weights=(~interior).ravel().astype(np.float64), minlength=n)
    index = np.arange(n)
    r_lo = ndimage.minimum(rows, labels, index)
    r_hi = ndimage.maximum(rows, labels, index)
    c_lo = ndimage.minimum(cols, labels, index)
    c_hi = ndimage.maximum(cols, labels, index)
    bbox = (np.asarray(r_hi) - r_lo + 1.0) * (np.asarray(c_hi) - c_lo + 1.0)
    geometric = np.stack(
        [
            count / (height * width),
            (r_mean + 0.5) / height,
            (c_mean + 0.5) / width,
            boundary / np.sqrt(count),
            eccentricity,
            elongation,
            count / bbox,
        ],
        axis=1,
    )

    # texture
    g_mean, g_std = mean_std(maps.grad)
    lbp_hist = np.bincount(flat * 10 + maps.lbp.ravel(), minlength=n * 10).reshape(n, 10)
    texture = np.column_stack([g_mean, g_std, mean_of(maps.local_var), lbp_hist / count[:, None]])
    return {"colour": colour, "geometric": geometric, "texture": texture.astype(np.float64)}


def node_signals(image: np.ndarray, labels: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Node signals (rows of the data matrix ``X_k``) of one superpixel map.

    Row ``i`` belongs to superpixel ``i``. All statistics are over the superpixel's pixels
    (population standard deviations); CIELAB is ``skimage.color.rgb2lab`` (D65, 2°). Column
    names are in :data:`SIGNAL_COLUMNS`.

    ``"colour"`` (n, 6)
        Mean L*, a*, b*, then standard deviation of L*, a*, b* (CIELAB units).
    ``"geometric"`` (n, 7)
        0 area fraction (pixels / (H·W));
        1 centroid row, ``(mean row + 0.5) / H`` (pixel centres, in (0, 1));
        2 centroid column, ``(mean col + 0.5) / W``;
        3 perimeter ratio, boundary pixels / √area (a pixel is a boundary pixel when one of its
        4-neighbours has another label or lies outside the image);
        4 eccentricity ``√(1 − λ₂/λ₁)`` and 5 elongation ``√(λ₁/λ₂)`` (major/minor axis ratio),
        λ₁ ≥ λ₂ the eigenvalues of the second central moments of the region taken as a union of
        unit squares (pixel-centre covariance + 1/12 per axis, so a single pixel is round and an
        a×b rectangle has elongation a/b);
        6 extent, area / bounding-box area.
    ``"texture"`` (n, 13)
        0–1 mean and standard deviation of the gradient magnitude of L* (Sobel, divided by 8 so
        that it estimates L* units per pixel, reflected borders);
        2 mean of the local variance of L* (3×3 window, reflected borders, (L* units)²);
        3–12 fractions of the superpixel's pixels in each of the 10 uniform local-binary-pattern
        codes (``skimage.feature.local_binary_pattern``, P=8, R=1, "uniform", on L* scaled to
        0–255 and rounded to uint8, the image reflected by one pixel at its borders; code 8 is
        a flat or bright-surround neighbourhood, 9 the non-uniform patterns); they sum to 1.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
    labels : (H, W) int array
        Labels ``0 … n − 1``, all used.
    n : int
        Number of superpixels.

    Returns
    -------
    dict of str to float64 arrays
        Keys ``"colour"``, ``"geometric"``, ``"texture"``.
    """
    rgb = _as_rgb(image)
    n = _check_count(n, rgb.shape[0] * rgb.shape[1])
    labels = _check_labels(labels, rgb.shape[:2], n)
    return _signals(_pixel_maps(rgb), labels, n)


def graph_signal(signals: Mapping[str, np.ndarray], kind: str) -> np.ndarray:
    """The scalar graph signal of one kind (our choice; the paper does not define it).

    ``"colour"`` → mean L*; ``"geometric"`` → area fraction; ``"texture"`` → mean gradient
    magnitude of L*. Each is column 0 of that block of :func:`node_signals`.

    Parameters
    ----------
    signals : mapping
        Output of :func:`node_signals`.
    kind : {"colour", "geometric", "texture"}

    Returns
    -------
    (n,) float64 array
    """
    if kind not in SIGNAL_KINDS:
        raise ValueError(f"kind must be one of {SIGNAL_KINDS}, got {kind!r}")
    return np.asarray(signals[kind][:, 0], dtype=np.float64).copy()


# --------------------------------------------------------------------------------------------
# convenience
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelMap:
    """One level of an image: its superpixel map and node signals.

    Attributes
    ----------
    n : int
        Number of superpixels (nodes).
    labels : (H, W) int64 array
        Labels ``0 … n − 1`` in raster order.
    signals : dict of str to (n, m_kind) float64 arrays
        :func:`node_signals`.
    graph_signals : dict of str to (n,) float64 arrays
        :func:`graph_signal` of each kind.
    """

    n: int
    labels: np.ndarray
    signals: dict[str, np.ndarray]
    graph_signals: dict[str, np.ndarray]


def image_levels(
    image: np.ndarray,
    kind: Literal["seg", "shg"] = "seg",
    counts: Sequence[int] | None = None,
    *,
    compactness: float = 10.0,
) -> list[LevelMap]:
    """All levels of one image with their node signals (per-pixel maps computed once).

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
    kind : {"seg", "shg"}
        Superpixel ensemble (:func:`ensemble_levels`) or hierarchy (:func:`hierarchy_levels`).
    counts : sequence of int, optional
        Superpixels per level. Default (20, 40, 60, 80, 100) for SEG and (80, 40, 20, 10) for
        SHG; for SHG they must start at the finest and each be ``⌈previous / 2⌉``.
    compactness : float, default 10
        SLIC compactness.

    Returns
    -------
    list of LevelMap
        In the order of ``counts``.
    """
    rgb = _as_rgb(image)
    lab = _to_lab(rgb)
    if kind == "seg":
        counts = tuple(SEG_COUNTS if counts is None else counts)
        maps = [_exact_from_lab(rgb, lab, n, compactness) for n in counts]
    elif kind == "shg":
        counts = tuple(SHG_COUNTS if counts is None else counts)
        if not counts:
            raise ValueError("counts must not be empty")
        for a, b in zip(counts[:-1], counts[1:], strict=True):
            if b != (a + 1) // 2:
                raise ValueError(f"SHG counts must halve (rounding up), got {counts}")
        maps = [_exact_from_lab(rgb, lab, counts[0], compactness)]
        for n in counts[:-1]:
            maps.append(_coarsen_lab(maps[-1], lab, n))
    else:
        raise ValueError(f"kind must be 'seg' or 'shg', got {kind!r}")
    pixel_maps = _pixel_maps(rgb, lab)
    out = []
    for n, labels in zip(counts, maps, strict=True):
        signals = _signals(pixel_maps, labels, int(n))
        scalars = {k: graph_signal(signals, k) for k in SIGNAL_KINDS}
        out.append(LevelMap(n=int(n), labels=labels, signals=signals, graph_signals=scalars))
    return out
