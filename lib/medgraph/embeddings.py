"""How well node embeddings separate the classes: the SMGNN paper's §4.5 and Fig 12.

The paper shows, with UMAP, that superpixel embeddings trained with the metric loss (Eqs
2.5–2.7) form one group per class (background, cytoplasm, nucleus; labels by Eq 4.2), and
states that same-class embeddings have a higher cosine similarity than different-class ones.
This module turns both statements into numbers and draws the picture:

- :func:`sample_nodes`: a seeded, class-balanced sample of node indices (for plotting);
- :func:`embedding_separation`: the cosine silhouette score and the distributions of cosine
  similarity within and between classes, with their gap;
- :func:`pair_cosines`: cosine similarity of given pairs of rows;
- :func:`umap_2d`: a seeded two-dimensional UMAP (umap-learn) of the embeddings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["sample_nodes", "pair_cosines", "embedding_separation", "umap_2d"]

ArrayLike = np.ndarray | torch.Tensor


def _numpy(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _check(embeddings: ArrayLike, labels: ArrayLike | None = None) -> tuple[np.ndarray, ...]:
    emb = _numpy(embeddings).astype(np.float64, copy=False)
    if emb.ndim != 2:
        raise ValueError(f"embeddings must be (K, d), got shape {emb.shape}")
    if not np.isfinite(emb).all():
        raise ValueError("embeddings contain NaN or inf")
    if labels is None:
        return (emb,)
    lab = _numpy(labels).reshape(-1)
    if lab.shape[0] != emb.shape[0]:
        raise ValueError(f"got {emb.shape[0]} embeddings but {lab.shape[0]} labels")
    return emb, lab


def sample_nodes(labels: ArrayLike, n_per_class: int, seed: int = 0) -> np.ndarray:
    """A class-balanced, seeded sample of node indices.

    Parameters
    ----------
    labels : (K,) integer array/tensor
        Class of every node (e.g. the majority class of Eq 4.2).
    n_per_class : int
        Nodes drawn from every class present, without replacement; a class with fewer nodes
        gives all of them.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    (M,) int64 array of node indices, ``M = Σ_c min(n_per_class, K_c)``: the classes in
    increasing order, the indices of each class sorted.
    """
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be ≥ 1, got {n_per_class}")
    lab = _numpy(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    parts = []
    for c in np.unique(lab):
        members = np.flatnonzero(lab == c)
        take = min(n_per_class, members.size)
        parts.append(np.sort(rng.choice(members, size=take, replace=False)))
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


def pair_cosines(embeddings: ArrayLike, pairs: ArrayLike) -> np.ndarray:
    """Cosine similarity of pairs of rows.

    Parameters
    ----------
    embeddings : (K, d) array/tensor
    pairs : (P, 2) integer array of row indices

    Returns
    -------
    (P,) float64 array in [−1, 1]: ``⟨e_i, e_j⟩ / (‖e_i‖ ‖e_j‖)``; an all-zero row has
    cosine 0 with everything (norms are clipped at 1e-12).
    """
    (emb,) = _check(embeddings)
    idx = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return np.einsum("pd,pd->p", unit[idx[:, 0]], unit[idx[:, 1]])


def _sample_pairs(
    lab: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform samples (with replacement) of ordered pairs i ≠ j of the same class and of
    different classes: each pair of a kind is equally likely.

    Returns two (n_pairs, 2) int64 arrays: within-class pairs and between-class pairs.
    """
    k = lab.shape[0]
    order = np.argsort(lab, kind="stable")
    classes, starts, counts = np.unique(lab[order], return_index=True, return_counts=True)
    del classes
    # within: class c with probability ∝ K_c (K_c − 1), then two distinct members
    weights = counts * (counts - 1.0)
    if weights.sum() == 0:
        raise ValueError("no class has two nodes: no within-class pairs")
    cls = rng.choice(counts.size, size=n_pairs, p=weights / weights.sum())
    a = rng.integers(0, counts[cls])
    b = rng.integers(0, counts[cls] - 1)
    b = b + (b >= a)
    within = np.stack([order[starts[cls] + a], order[starts[cls] + b]], 1)
    # between: i with probability ∝ K − K_c(i), then j uniform among the other classes
    class_of_sorted = np.repeat(np.arange(counts.size), counts)
    others = (k - counts)[class_of_sorted].astype(np.float64)
    if others.sum() == 0:
        raise ValueError("all nodes share one class: no between-class pairs")
    pos_i = rng.choice(k, size=n_pairs, p=others / others.sum())
    ci = class_of_sorted[pos_i]
    r = rng.integers(0, k - counts[ci])
    pos_j = np.where(r < starts[ci], r, r + counts[ci])
    between = np.stack([order[pos_i], order[pos_j]], 1)
    return within.astype(np.int64), between.astype(np.int64)


def embedding_separation(
    embeddings: ArrayLike,
    labels: ArrayLike,
    n_pairs: int = 5000,
    seed: int = 0,
    silhouette_sample: int = 5000,
) -> dict[str, Any]:
    """Cosine silhouette and within- vs between-class cosine similarity of node embeddings.

    Parameters
    ----------
    embeddings : (K, d) array/tensor
        Node embeddings H (e.g. the GNN output of SMGNN).
    labels : (K,) integer array/tensor
        Class of every node (Eq 4.2); at least two classes, one of them with two nodes.
    n_pairs : int, default 5000
        Pairs drawn (with replacement, seeded) of each kind: ordered pairs ``i ≠ j`` of the same
        class, and pairs of different classes, each pair of a kind equally likely.
    seed : int, default 0
        Seeds the pair draws and the silhouette subsample.
    silhouette_sample : int, default 5000
        When K is larger, the silhouette is computed on this many nodes drawn uniformly
        without replacement (``sklearn.metrics.silhouette_score(sample_size=…,
        random_state=seed)``); it costs O(n²·d).

    Returns
    -------
    dict with
        ``silhouette`` (float in [−1, 1], cosine distance ``1 − cos``; near 1 for tight,
        separated classes, near 0 for overlapping ones), ``silhouette_n`` (nodes it used),
        ``within`` and ``between`` ((n_pairs,) float64 arrays of cosine similarities),
        ``within_pairs`` and ``between_pairs`` ((n_pairs, 2) int64 node indices),
        ``mean_within``, ``mean_between`` and ``gap = mean_within − mean_between`` (floats),
        ``classes`` ((C,) array of the classes present) and ``n_nodes`` (K).

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, fewer than two classes, or no class with two nodes.
    """
    from sklearn.metrics import silhouette_score

    emb, lab = _check(embeddings, labels)
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be ≥ 1, got {n_pairs}")
    classes = np.unique(lab)
    if classes.size < 2:
        raise ValueError(f"need at least two classes, got {classes.tolist()}")
    k = emb.shape[0]
    rng = np.random.default_rng(seed)
    within_pairs, between_pairs = _sample_pairs(lab, n_pairs, rng)
    within = pair_cosines(emb, within_pairs)
    between = pair_cosines(emb, between_pairs)
    n_sil = min(k, silhouette_sample)
    silhouette = silhouette_score(
        emb,
        lab,
        metric="cosine",
        sample_size=n_sil if n_sil < k else None,
        random_state=seed,
    )
    return {
        "silhouette": float(silhouette),
        "silhouette_n": int(n_sil),
        "within": within,
        "between": between,
        "within_pairs": within_pairs,
        "between_pairs": between_pairs,
        "mean_within": float(within.mean()),
        "mean_between": float(between.mean()),
        "gap": float(within.mean() - between.mean()),
        "classes": classes,
        "n_nodes": int(k),
    }


def umap_2d(
    embeddings: ArrayLike,
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
) -> np.ndarray:
    """Two-dimensional UMAP of embeddings (McInnes et al. 2018; the paper's Fig 12).

    Parameters
    ----------
    embeddings : (K, d) array/tensor, K > n_neighbors
    seed : int, default 0
        ``random_state`` of :class:`umap.UMAP`: the result is reproducible (umap-learn then
        runs single-threaded; numba's thread count is restored afterwards).
    n_neighbors : int, default 15
        Size of the local neighbourhood, ≥ 2.
    min_dist : float, default 0.1
        How tightly points may be packed in the layout.
    metric : str, default "cosine"
        Distance in embedding space; cosine matches the similarity the metric loss trains.

    Returns
    -------
    (K, 2) float32 array of layout coordinates (arbitrary units).

    Raises
    ------
    ImportError
        When umap-learn is not installed (no fallback to another projection).
    ValueError
        Bad shapes, NaN/inf, or ``K ≤ n_neighbors``.

    Notes
    -----
    The first call in a process compiles umap-learn's numba code (seconds to tens of seconds).
    """
    try:
        import umap
    except ImportError as exc:
        raise ImportError(
            "umap_2d needs the package umap-learn (pip install umap-learn, or the 'notebooks' extra)"
        ) from exc
    (emb,) = _check(embeddings)
    k = emb.shape[0]
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be ≥ 2, got {n_neighbors}")
    if k <= n_neighbors:
        raise ValueError(f"need more than n_neighbors = {n_neighbors} points, got {k}")
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_jobs=1,  # what a seed implies anyway; saying so avoids umap-learn's warning
    )
    import numba

    threads = numba.get_num_threads()
    try:
        layout = reducer.fit_transform(emb)
    finally:
        numba.set_num_threads(threads)  # umap-learn sets numba's thread count globally
    return np.asarray(layout, dtype=np.float32)
