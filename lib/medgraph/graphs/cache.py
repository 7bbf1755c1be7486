"""Superpixel label maps, computed once per image and parameters and kept on disk.

Over-segmentation is the expensive step of building a superpixel graph, so
:func:`cached_superpixels` keeps label maps on disk keyed by a hash of the image and the
parameters (:func:`superpixel_cache_key`); :func:`compute_label_maps` does a list of images in
threads. Features and edges are recomputed (they cost a scatter-mean and a few distance blocks).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgraph.graphs._inputs import ImagesLike
from medgraph.reporting import atomic_write
from medgraph.superpixels.algorithms import compute_superpixels

__all__ = ["superpixel_cache_key", "cached_superpixels", "compute_label_maps"]


def superpixel_cache_key(image: np.ndarray, method: str, scale: float | None, **params: Any) -> str:
    """Hex sha256 of the image bytes, shape, dtype, method, scale and parameters.

    Parameters
    ----------
    image : array
        The image exactly as it will be over-segmented.
    method : str
        Algorithm name (``"snic"``, ``"slic"``).
    scale : float or None
        Mean superpixel area in pixels.
    **params
        Further keyword arguments of the algorithm (JSON-serialised with sorted keys).

    Returns
    -------
    str, 64 hex digits.
    """
    arr = np.ascontiguousarray(image)
    digest = hashlib.sha256()
    digest.update(arr.tobytes())
    meta = {
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "method": method,
        "scale": scale,
        "params": params,
        "format": 1,
    }
    digest.update(json.dumps(meta, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


def _atomic_save(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a handle: np.save would append ".npy" to a path
            np.save(handle, array)

    atomic_write(path, write)  # readable like any new file, not mkstemp's owner-only 0600


def cached_superpixels(
    image: np.ndarray,
    method: str = "snic",
    scale: float | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **params: Any,
) -> np.ndarray:
    """Over-segment an image, reusing a result stored on disk by an earlier call.

    Parameters
    ----------
    image : (H, W, 3) array
        As for :func:`~medgraph.superpixels.compute_superpixels`.
    method : {"snic", "slic"}, default "snic"
    scale : float, optional
        Mean superpixel area in pixels (or pass ``n_segments`` in ``params``).
    cache_dir : path, optional
        Directory of ``<sha256>.npy`` files (:func:`superpixel_cache_key`). None disables the
        cache. Files are written to a temporary name and moved into place with
        :func:`os.replace`, so a crash never leaves a partial file under the final name and
        concurrent writers of the same key are harmless.
    **params
        Passed to the algorithm (``compactness``, ``n_segments`` …) and part of the key.

    Returns
    -------
    (H, W) int32 array of labels ``0 … K − 1``.
    """
    image = np.asarray(image)
    if cache_dir is None:
        return compute_superpixels(image, method, scale=scale, **params)
    path = Path(cache_dir) / f"{superpixel_cache_key(image, method, scale, **params)}.npy"
    if path.exists():
        try:
            labels = np.load(path, allow_pickle=False)
            if labels.shape == image.shape[:2]:
                return labels
        except (OSError, ValueError):
            pass  # unreadable entry: recompute and overwrite
    labels = compute_superpixels(image, method, scale=scale, **params)
    _atomic_save(path, labels)
    return labels


def compute_label_maps(
    images: ImagesLike,
    method: str = "snic",
    scale: float | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    **params: Any,
) -> list[np.ndarray]:
    """Superpixel label maps of several images, through :func:`cached_superpixels`.

    Parameters
    ----------
    images : (B, H, W, 3) array/tensor or a list of (H, W, 3) arrays
    method, scale, cache_dir, **params
        As for :func:`cached_superpixels`.
    workers : int, optional
        Threads that over-segment images concurrently (SNIC's numba kernel releases the GIL).
        None: ``min(B, os.cpu_count())``; 1: one after the other. The result does not depend
        on it.

    Returns
    -------
    list of B (H_b, W_b) int32 arrays, labels local to each image.
    """
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    arrays = [np.asarray(im) for im in images]
    if workers is None:
        workers = min(len(arrays), os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be ≥ 1, got {workers}")

    def one(image: np.ndarray) -> np.ndarray:
        return cached_superpixels(image, method, scale, cache_dir, **params)

    if workers == 1 or len(arrays) < 2:
        return [one(im) for im in arrays]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, arrays))
