"""How well node embeddings separate the classes: the SMGNN paper's §4.5 and Fig 12.

The paper shows, with UMAP, that superpixel embeddings trained with the metric loss (Eqs
2.5–2.7) form one group per class (background, cytoplasm, nucleus; labels by Eq 4.2), and
states that same-class embeddings have a higher cosine similarity than different-class ones.
This module turns both statements into numbers and draws the picture:

- :func:`sample_nodes`: a seeded, class-balanced sample of node indices (for plotting);
- :func:`embedding_separation`: the cosine silhouette score and the distributions of cosine
  similarity within and between classes, with their gap;
- :func:`pair_cosines`: cosine similarity of given pairs of rows;
- :func:`class_pair_cosines`: the mean cosine similarity of every pair of classes (a C×C table);
- :func:`metric_target_fit`: how well an affine function of the cosine similarity reproduces the
  metric loss's own target: the mean metric score of the pair (Eq 2.7), or the dot product of
  the pair's class fractions (the class-aware reading);
- :func:`umap_2d`: a seeded two-dimensional UMAP (umap-learn) of the embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "sample_nodes",
    "pair_cosines",
    "embedding_separation",
    "class_pair_cosines",
    "metric_target_fit",
    "umap_2d",
    "node_embeddings",
]

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


def _distinct_pairs(
    first: np.ndarray, second: np.ndarray | None, n_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_pairs, 2) uniform draws (with replacement) of pairs (i, j), i from the sorted index
    array ``first`` and j from ``second``; ``second=None`` draws ordered pairs of two distinct
    members of ``first`` (it needs at least two)."""
    pos_i = rng.integers(0, first.size, n_pairs)
    i = first[pos_i]
    if second is None:
        # the second member among the other size − 1 members: uniform over ordered pairs i ≠ j
        pos = rng.integers(0, first.size - 1, n_pairs)
        j = first[pos + (pos >= pos_i)]
    else:
        j = second[rng.integers(0, second.size, n_pairs)]
    return np.stack([i, j], 1).astype(np.int64)


def class_pair_cosines(
    embeddings: ArrayLike, labels: ArrayLike, n_pairs: int = 5000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Mean and spread of the cosine similarity for every pair of classes.

    :func:`embedding_separation` pools all same-class pairs, so its "within" mean is dominated
    by the most frequent class (in the WBC images, background). This table keeps the classes
    apart: entry (c, c′) is the mean cosine similarity of a node of class c and a node of
    class c′ (two distinct nodes when c = c′).

    Parameters
    ----------
    embeddings : (K, d) array/tensor
    labels : (K,) integer array/tensor, the class of every node
    n_pairs : int, default 5000
        Pairs drawn (seeded, with replacement, uniformly) for every unordered class pair.
    seed : int, default 0

    Returns
    -------
    dict with ``classes`` ((C,) the classes present, ascending), ``mean`` and ``std`` ((C, C)
    symmetric float64 arrays of the cosine similarity; NaN on the diagonal for a class with a
    single node) and ``n_pairs``.
    """
    emb, lab = _check(embeddings, labels)
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be ≥ 1, got {n_pairs}")
    if emb.shape[0] == 0:
        raise ValueError("no nodes: the class-pair table needs at least one")
    rng = np.random.default_rng(seed)
    classes = np.unique(lab)
    members = [np.flatnonzero(lab == c) for c in classes]
    c = classes.size
    mean = np.full((c, c), np.nan)
    std = np.full((c, c), np.nan)
    for a in range(c):
        for b in range(a, c):
            if a == b and members[a].size < 2:
                continue
            pairs = _distinct_pairs(members[a], None if a == b else members[b], n_pairs, rng)
            cos = pair_cosines(emb, pairs)
            mean[a, b] = mean[b, a] = cos.mean()
            std[a, b] = std[b, a] = cos.std()
    return {"classes": classes, "mean": mean, "std": std, "n_pairs": n_pairs}


def metric_target_fit(
    embeddings: ArrayLike, scores: ArrayLike, n_pairs: int = 20000, seed: int = 0
) -> dict[str, float]:
    """How well ``a·cos(H_i, H_j) + b`` reproduces the metric loss's target for a pair.

    The superpixel metric loss (Eqs 2.5–2.7) is the mean squared error between
    ``SIM_ij = a·cos(H_i, H_j) + b`` and a target ``Metric_ij``: ``(𝒴_i + 𝒴_j)/2`` for the
    scalar metric scores of Eq 2.7 as printed, or ``Y_i·Y_j`` for the class-aware reading, where
    ``Y_i`` is the vector of class fractions of node i
    (:func:`medgraph.losses.superpixel_metric_loss`). This measures, on uniformly drawn ordered
    pairs of distinct nodes, how far the embeddings satisfy it: the least-squares ``a`` and
    ``b``, the loss they leave, and the share of the target's variance they explain.

    Parameters
    ----------
    embeddings : (K, d) array/tensor, K ≥ 2
    scores : (K,) float array/tensor, the metric score 𝒴 of every node (Eq 2.1): target
        ``(𝒴_i + 𝒴_j)/2``; or (K, C), the class fractions of every node (rows summing to 1):
        target ``Y_i·Y_j``
    n_pairs : int, default 20000
    seed : int, default 0

    Returns
    -------
    dict of floats: ``r`` (Pearson correlation of cosine and target; NaN when either is
    constant), ``a`` and ``b`` (least-squares fit), ``mse`` (mean squared error of the fit: the
    metric loss with the best a and b), ``target_var`` (the loss of the best constant, a = 0),
    ``r2 = 1 − mse/target_var`` (= r²) and ``n_pairs``.
    """
    (emb,) = _check(embeddings)
    sc = _numpy(scores).astype(np.float64)
    if sc.ndim not in (1, 2) or sc.shape[0] != emb.shape[0]:
        raise ValueError(
            f"scores must be (K,) or (K, C) with K = {emb.shape[0]} embeddings, got {sc.shape}"
        )
    if not np.isfinite(sc).all():
        raise ValueError("scores contain NaN or inf")
    k = emb.shape[0]
    if k < 2:
        raise ValueError(f"need at least two nodes, got {k}")
    if n_pairs < 2:
        raise ValueError(f"n_pairs must be ≥ 2, got {n_pairs}")
    rng = np.random.default_rng(seed)
    pairs = _distinct_pairs(np.arange(k), None, n_pairs, rng)
    cos = pair_cosines(emb, pairs)
    if sc.ndim == 1:  # Eq 2.7 as printed
        target = (sc[pairs[:, 0]] + sc[pairs[:, 1]]) / 2
    else:  # the class-aware reading
        target = np.einsum("pc,pc->p", sc[pairs[:, 0]], sc[pairs[:, 1]])
    cos_c = cos - cos.mean()
    t_c = target - target.mean()
    var_cos = float((cos_c * cos_c).mean())
    target_var = float((t_c * t_c).mean())
    cov = float((cos_c * t_c).mean())
    a = cov / var_cos if var_cos > 0 else 0.0
    b = float(target.mean() - a * cos.mean())
    mse = float(((a * cos + b - target) ** 2).mean())
    r = cov / np.sqrt(var_cos * target_var) if var_cos > 0 and target_var > 0 else float("nan")
    r2 = 1.0 - mse / target_var if target_var > 0 else float("nan")
    return {
        "r": float(r),
        "a": float(a),
        "b": b,
        "mse": mse,
        "target_var": target_var,
        "r2": float(r2),
        "n_pairs": int(n_pairs),
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


def node_embeddings(
    run: Any,
    data: Any,
    indices: Sequence[int],
    batch_size: int = 16,
    return_scores: bool = False,
    return_fractions: bool = False,
) -> tuple[np.ndarray, ...]:
    """GNN embeddings H of the superpixels of some images, with their majority labels.

    Parameters
    ----------
    run : SegmentationRun
        A trained graph model (``smgnn``, ``smgnn_gcn``, ``smgnn_gat``, ``pure_gnn``).
    data : SegmentationDataset
        The data set the indices refer to.
    indices : which images (typically the test split)
    batch_size : images per forward pass
    return_scores : also return each superpixel's metric score 𝒴 (Eq 2.1, scaled to [0, 1]:
        :func:`medgraph.graphs.node_metric_score`), the target the metric loss was trained on
    return_fractions : also return each superpixel's class fractions over its real pixels, the
        target of the class-aware reading of the metric loss

    Returns
    -------
    embeddings : (K, d) float32 array, the output of the last graph layer for every superpixel
        that covers at least one real (non-padding) pixel
    labels : (K,) int64 array, each superpixel's majority class over its real pixels (Eq 4.2)
    scores : (K,) float32 array, only with ``return_scores``
    fractions : (K, C) float32 array, only with ``return_fractions`` (after ``scores`` when both)
    """
    from medgraph.models.registry import get_model
    from medgraph.segmentation import make_batch, prepare_images
    from medgraph.transforms import IDENTITY

    if not get_model(run.model_name).needs_graph:
        raise ValueError(f"{run.model_name!r} has no node embeddings (not a graph model)")
    idx = [int(i) for i in indices]
    if not idx:
        raise ValueError("node_embeddings needs at least one image")
    prepared = prepare_images(
        [data.images[i] for i in idx], [data.masks[i] for i in idx], run.preprocessing
    )
    model = run.model.eval()
    device = next(model.parameters()).device
    embs, labels, scores, fractions = [], [], [], []
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            chunk = np.arange(start, min(start + batch_size, len(idx)))
            batch = make_batch(prepared, chunk, run.preprocessing, [IDENTITY] * len(chunk), device)
            graph = batch.graph.graph
            h = model.embed(graph.x, graph.edge_index)
            keep = graph.valid if hasattr(graph, "valid") else graph.y >= 0
            embs.append(h[keep].cpu().numpy().astype(np.float32))
            labels.append(graph.y[keep].cpu().numpy().astype(np.int64))
            scores.append(graph.score[keep].cpu().numpy().astype(np.float32))
            fractions.append(graph.fractions[keep].cpu().numpy().astype(np.float32))
    out = [np.concatenate(embs), np.concatenate(labels)]
    if return_scores:
        out.append(np.concatenate(scores))
    if return_fractions:
        out.append(np.concatenate(fractions))
    return tuple(out)
