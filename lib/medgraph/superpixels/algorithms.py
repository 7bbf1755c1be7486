"""Superpixel over-segmentation: SNIC (numba) and a thin SLIC wrapper.

SNIC
    Achanta, R. & Süsstrunk, S. (2017). *Superpixels and Polygons using Simple Non-Iterative
    Clustering.* IEEE CVPR, 4651–4660. https://ivrl.epfl.ch/research/snic_superpixels

SLIC
    Achanta, R., Shaji, A., Smith, K., Lucchi, A., Fua, P. & Süsstrunk, S. (2012). *SLIC
    Superpixels Compared to State-of-the-Art Superpixel Methods.* IEEE TPAMI 34(11), 2274–2282.
    https://doi.org/10.1109/TPAMI.2012.120 — the implementation used is scikit-image's
    :func:`skimage.segmentation.slic`.

Both functions return an ``(H, W)`` int32 label map whose labels are exactly ``0 … K − 1``, every
label used, every pixel labelled and every superpixel a single 4-connected region, which is the
form that :mod:`medgraph.superpixels.bridge` expects (the label map *is* the association matrix Q).

SNIC in brief
-------------
The image is converted to CIELAB. ``K`` seeds are put at the centres of a ``rows × cols`` grid
(:func:`grid_shape`). A min-priority queue is started with the seeds at distance 0; the smallest
element is popped repeatedly and, if its pixel has no label yet, the pixel joins that element's
superpixel, whose centroid (mean position and mean Lab colour) is updated on line, and every
unlabelled 4-neighbour is pushed with its distance to the updated centroid

    d² = ‖Δx‖² / s + ‖Δc‖² / m²,    s = N / K (mean superpixel area, pixels),

where ``m`` is the compactness. This is the normalisation of the authors' reference code
(``invwt = m²K/N``), the same as SLIC's (``d² = ‖Δc‖² + (m/S)²‖Δx‖²`` with ``S² = N/K``), so one
compactness value means the same thing for :func:`snic` and :func:`slic`. (The paper writes the
distance as ``√(‖Δx‖²/s + ‖Δc‖²/m)`` with ``s`` and ``m`` as normalising factors; the PyPI package
``pysnic`` reads them as ``s = √(N/K)`` and ``m = compactness``, which ranks pixels as we do when
its compactness is ``m²/√(N/K)``.) The square root is dropped: it does not change the order of
the queue.
"""

from __future__ import annotations

import functools
import math
from numbers import Integral, Real
from typing import Any, Literal

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic

__all__ = ["grid_shape", "grid_seeds", "snic", "slic", "compute_superpixels"]


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------


def _check_image(image: Any) -> np.ndarray:
    """Validate an image and return it as an ``(H, W, 3)`` RGB array (greyscale is replicated).

    Accepted: ``(H, W)`` or ``(H, W, 1)`` greyscale and ``(H, W, 3)`` RGB, either integer
    (uint8 0–255, or any integer type scikit-image understands) or float in [0, 1].
    """
    arr = np.asarray(image)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise ValueError(f"image must be a numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError("image must be real-valued, got a complex array")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(
            f"image must be (H, W) greyscale or (H, W, 3) RGB, got an array of shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"image is empty (shape {arr.shape})")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError("image contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"a float image must lie in [0, 1], got values in [{lo:g}, {hi:g}] "
                "(divide a 0–255 float image by 255, or pass it as uint8)"
            )
    return arr


def _n_pixels_to_k(height: int, width: int, n_segments: Any, scale: Any) -> int:
    """Resolve the target number of superpixels from exactly one of ``n_segments`` or ``scale``."""
    if (n_segments is None) == (scale is None):
        raise ValueError("give exactly one of n_segments (number of superpixels) or scale (area)")
    n_pixels = height * width
    if n_segments is not None:
        if isinstance(n_segments, bool) or not isinstance(n_segments, Integral):
            raise ValueError(f"n_segments must be a positive integer, got {n_segments!r}")
        if n_segments < 1:
            raise ValueError(f"n_segments must be a positive integer, got {n_segments}")
        k = int(n_segments)
    else:
        if isinstance(scale, bool) or not isinstance(scale, Real) or not math.isfinite(scale):
            raise ValueError(f"scale must be a positive number of pixels, got {scale!r}")
        if scale <= 0:
            raise ValueError(f"scale must be a positive number of pixels, got {scale}")
        k = round(n_pixels / float(scale))
    return min(max(k, 1), n_pixels)


def _check_compactness(compactness: Any) -> float:
    if isinstance(compactness, bool) or not isinstance(compactness, Real):
        raise ValueError(f"compactness must be a positive number, got {compactness!r}")
    value = float(compactness)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"compactness must be a positive finite number, got {compactness!r}")
    return value


@functools.cache
def _srgb_linear_lut() -> np.ndarray:
    """sRGB → linear RGB of the 256 uint8 values, with scikit-image's ``rgb2xyz`` arithmetic."""
    from skimage.util import img_as_float64

    v = img_as_float64(np.arange(256, dtype=np.uint8))  # scikit-image's own scaling, bit for bit
    out = v.copy()
    curved = v > 0.04045
    out[curved] = np.power((v[curved] + 0.055) / 1.055, 2.4)
    out[~curved] /= 12.92
    return out


@numba.njit(cache=True, nogil=True)
def _lab_scale(xyz, white, out, cube):
    """First half of ``xyz2lab`` for ``(N, 3)`` XYZ: ``v = xyz / white`` per channel.

    Where ``v > 0.008856`` the value is appended to ``cube`` (row-major, the order of
    ``v[v > 0.008856]``) and ``out`` is marked −1 there (every other ``f`` is positive); elsewhere
    ``out`` receives ``7.787·v + 16/116``. Returns how many values were appended.
    """
    m = 0
    for i in range(xyz.shape[0]):
        for c in range(3):
            v = xyz[i, c] / white[c]
            if v > 0.008856:
                cube[m] = v
                m += 1
                out[i, c] = -1.0
            else:
                out[i, c] = 7.787 * v + 16.0 / 116.0
    return m


@intrinsic
def _fma(typingctx, a, b, c):
    """``a·b + c`` rounded once (LLVM's ``llvm.fma.f64``, exact on any CPU)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        double = llvm_ir.DoubleType()
        fnty = llvm_ir.FunctionType(double, [double, double, double])
        fn = builder.module.declare_intrinsic("llvm.fma", [double], fnty)
        return builder.call(fn, args)

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def _lab_scale_rgb(rgb, lut, mat, white, out, cube):
    """:func:`_lab_scale` straight from ``(N, 3)`` uint8 RGB: the table's linear RGB times
    ``mat`` (3 × 3) as one rounded product followed by two fused multiply-adds, the order in
    which an FMA matrix kernel sums ``lin @ mat`` (see :func:`_fused_xyz_is_numpys`)."""
    m = 0
    for i in range(rgb.shape[0]):
        r = lut[rgb[i, 0]]
        g = lut[rgb[i, 1]]
        b = lut[rgb[i, 2]]
        for c in range(3):
            acc = _fma(b, mat[2, c], _fma(g, mat[1, c], r * mat[0, c]))
            v = acc / white[c]
            if v > 0.008856:
                cube[m] = v
                m += 1
                out[i, c] = -1.0
            else:
                out[i, c] = 7.787 * v + 16.0 / 116.0
    return m


@numba.njit(cache=True, nogil=True)
def _lab_finish(out, roots):
    """Second half of ``xyz2lab``, in place: the cube roots go where :func:`_lab_scale` marked −1
    (in its order), then ``L = 116·f_y − 16``, ``a = 500·(f_x − f_y)``, ``b = 200·(f_y − f_z)``."""
    m = 0
    for i in range(out.shape[0]):
        fx = out[i, 0]
        fy = out[i, 1]
        fz = out[i, 2]
        if fx < 0.0:
            fx = roots[m]
            m += 1
        if fy < 0.0:
            fy = roots[m]
            m += 1
        if fz < 0.0:
            fz = roots[m]
            m += 1
        out[i, 0] = 116.0 * fy - 16.0
        out[i, 1] = 500.0 * (fx - fy)
        out[i, 2] = 200.0 * (fy - fz)


def _lab_constants() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's sRGB → XYZ matrix, transposed for ``lin @ mat``, and the D65 white."""
    from skimage.color.colorconv import xyz_from_rgb, xyz_tristimulus_values

    mat = np.ascontiguousarray(xyz_from_rgb.T, dtype=np.float64)
    white = np.ascontiguousarray(
        xyz_tristimulus_values(illuminant="D65", observer="2", dtype=np.float64)
    )
    return mat, white


@functools.cache
def _fused_xyz_is_numpys() -> bool:
    """Whether :func:`_lab_scale_rgb`'s product equals numpy's ``lin @ mat`` on this machine.

    numpy hands the product to its BLAS, whose kernel (and so the rounding) depends on the
    CPU: an FMA kernel gives ``fma(b, m₂, fma(g, m₁, r·m₀))``, which the fused pass computes;
    another kernel may not. Checked once per process: both passes' outputs (the scaled values
    and the values to take the cube root of) on 4,096 seeded colours plus the corners of the
    cube, shaped as an image as :func:`_to_lab` shapes it; when they differ, the conversion
    keeps numpy's product. (On the machine this was written on they agree on all 2²⁴ colours.)
    """
    rng = np.random.default_rng(20261206)
    probe = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    probe[0, :8] = np.array(np.meshgrid([0, 255], [0, 255], [0, 255])).reshape(3, -1).T
    mat, white = _lab_constants()
    lut = _srgb_linear_lut()
    numpys = (lut[probe] @ mat).reshape(-1, 3)
    flat = probe.reshape(-1, 3)
    n = flat.shape[0]
    out_fused = np.empty((n, 3))
    cube_fused = np.empty(3 * n)
    m_fused = _lab_scale_rgb(np.ascontiguousarray(flat), lut, mat, white, out_fused, cube_fused)
    out_np = np.empty((n, 3))
    cube_np = np.empty(3 * n)
    m_np = _lab_scale(np.ascontiguousarray(numpys), white, out_np, cube_np)
    return (
        m_fused == m_np
        and np.array_equal(out_fused, out_np)
        and np.array_equal(cube_fused[:m_fused], cube_np[:m_np])
    )


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB → ``(H·W, 3)`` C-contiguous float64 CIELAB (D65, 2° observer).

    Equal, bit for bit, to :func:`skimage.color.rgb2lab`: a uint8 image takes the sRGB curve
    from a 256-entry table instead of a power per pixel, the matrix product of ``rgb2xyz``
    (fused into the first pass where it rounds as numpy's does on this machine,
    :func:`_fused_xyz_is_numpys`, else numpy's own), and ``xyz2lab``'s element-wise steps in two
    numba passes around one ``np.cbrt`` of the values above the threshold (numpy's cube root,
    which may differ from the C library's by an ulp, so it stays numpy's). Checked on all 2²⁴
    uint8 colours; about 1 ms for a 300 × 300 image, 6× less than ``rgb2lab``. Any other
    dtype calls ``rgb2lab``.
    """
    from skimage.color import rgb2lab

    if rgb.dtype != np.uint8:
        return np.ascontiguousarray(rgb2lab(rgb).reshape(-1, 3), dtype=np.float64)
    mat, white = _lab_constants()
    n = rgb.shape[0] * rgb.shape[1]
    lab = np.empty((n, 3), dtype=np.float64)
    cube = np.empty(3 * n, dtype=np.float64)
    if _fused_xyz_is_numpys():
        flat = np.ascontiguousarray(rgb.reshape(n, 3))
        m = _lab_scale_rgb(flat, _srgb_linear_lut(), mat, white, lab, cube)
    else:
        xyz = np.ascontiguousarray((_srgb_linear_lut()[rgb] @ mat).reshape(n, 3))
        m = _lab_scale(xyz, white, lab, cube)
    _lab_finish(lab, np.cbrt(cube[:m]))
    return lab


# --------------------------------------------------------------------------------------------
# seed grid
# --------------------------------------------------------------------------------------------


def grid_shape(height: int, width: int, n_segments: int) -> tuple[int, int]:
    """Rows and columns of a seed grid with about ``n_segments`` near-square cells.

    Candidates are ``cols ∈ {c₀ − 1, c₀, c₀ + 1}`` with ``c₀ = max(1, round(√(K·W/H)))`` and
    ``rows ∈ {round(K/cols) − 1, round(K/cols), round(K/cols) + 1}``, plus the same built from
    the rows side (``r₀ = max(1, round(√(K·H/W)))``), restricted to ``1 ≤ rows ≤ H`` and
    ``1 ≤ cols ≤ W``. The winner minimises ``|rows·cols − K|``, ties broken by how square the
    cells are (``|log((H/rows) / (W/cols))|``), then by fewer rows.

    Parameters
    ----------
    height, width : int
        Image size in pixels, ``H, W ≥ 1``.
    n_segments : int
        Target number of superpixels ``K``; clamped to ``[1, H·W]``.

    Returns
    -------
    (rows, cols) : tuple of int
        The grid; ``rows·cols`` is the number of seeds.

    Examples
    --------
    >>> grid_shape(300, 300, 5625)
    (75, 75)
    >>> grid_shape(100, 200, 50)
    (5, 10)
    """
    for name, value in (("height", height), ("width", width), ("n_segments", n_segments)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    h, w = int(height), int(width)
    k = min(int(n_segments), h * w)

    candidates: set[tuple[int, int]] = set()
    c0 = max(1, round(math.sqrt(k * w / h)))
    for c in (c0 - 1, c0, c0 + 1):
        if 1 <= c <= w:
            r_mid = round(k / c)
            for r in (r_mid - 1, r_mid, r_mid + 1):
                candidates.add((min(max(r, 1), h), c))
    r0 = max(1, round(math.sqrt(k * h / w)))
    for r in (r0 - 1, r0, r0 + 1):
        if 1 <= r <= h:
            c_mid = round(k / r)
            for c in (c_mid - 1, c_mid, c_mid + 1):
                candidates.add((r, min(max(c, 1), w)))

    def score(rc: tuple[int, int]) -> tuple[int, float, int]:
        r, c = rc
        # rounded so that mirror-image grids (aspect a and 1/a) tie exactly
        return abs(r * c - k), round(abs(math.log((h / r) / (w / c))), 9), r

    rows, cols = min(candidates, key=score)
    return rows, cols


def grid_seeds(height: int, width: int, n_segments: int) -> np.ndarray:
    """Seed pixels of SNIC: the centres of the :func:`grid_shape` cells.

    Seed ``(i, j)`` sits at row ``⌊(i + ½)·H/rows⌋`` and column ``⌊(j + ½)·W/cols⌋``; since
    ``rows ≤ H`` and ``cols ≤ W`` the seeds are distinct pixels.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    n_segments : int
        Target number of superpixels (see :func:`grid_shape`).

    Returns
    -------
    (K, 2) int64 array
        ``(row, col)`` of each seed in row-major grid order, ``K = rows·cols``; seed ``k`` starts
        superpixel ``k``.
    """
    rows, cols = grid_shape(height, width, n_segments)
    ys = np.floor((np.arange(rows) + 0.5) * (height / rows)).astype(np.int64)
    xs = np.floor((np.arange(cols) + 0.5) * (width / cols)).astype(np.int64)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([yy.ravel(), xx.ravel()], axis=1)


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, inline="always")
def _heap_push(keys, vals, size, key, val):
    """Insert ``(key, val)`` into the binary min-heap ``keys[:size]``; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        pk = keys[parent]
        if pk <= key:
            break
        keys[i] = pk
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _heap_pop(keys, vals, size):
    """Remove the root of the min-heap ``keys[:size]``; return ``(val, new_size)``.

    Bottom-up deletion (Wegener's variant of Floyd's heapsort): the hole left at the root is
    walked down to a leaf along the smaller children, then the former last element is sifted up
    from there. That costs one comparison per level instead of two, since the last element
    almost always belongs near the bottom, and the child choice is written branch-free because
    it is a coin toss for the branch predictor.
    """
    top = vals[0]
    size -= 1
    last_key = keys[size]
    last_val = vals[size]
    i = 0
    child = 1
    while child + 1 < size:
        left = keys[child]
        right = keys[child + 1]
        child += np.int64(right < left)
        keys[i] = min(left, right)
        vals[i] = vals[child]
        i = child
        child = 2 * i + 1
    if child < size:
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    while i > 0:
        parent = (i - 1) >> 1
        pk = keys[parent]
        if pk <= last_key:
            break
        keys[i] = pk
        vals[i] = vals[parent]
        i = parent
    keys[i] = last_key
    vals[i] = last_val
    return top, size


@numba.njit(cache=True, nogil=True)
def _snic_kernel(lab, height, width, seeds, spatial_weight, colour_weight, connectivity):
    """Grow superpixels from ``seeds`` over the ``(N, 3)`` Lab image; return ``(N,)`` int32 labels.

    ``spatial_weight = K/N`` and ``colour_weight = 1/m²``. The heap's keys are the bit patterns
    of the float64 distances ``d²`` read as int64: for finite non-negative doubles (``+0.0``
    included, and ``d²`` is never ``−0.0`` or NaN) integer order is float order, so every
    comparison, and hence every pop, is the one a float key would give, and integer comparisons
    are cheaper (about 7 % of the kernel's time). The payloads are ``label << 32 | pixel``; it never holds more than
    ``connectivity·N + K`` elements because a pixel is pushed only when one of its neighbours is
    labelled. ``best[p]`` is the smallest key pushed for ``p`` so far: a candidate that is not
    strictly better could never be the first to be popped for ``p`` (an equal one was pushed
    earlier), so it is not pushed at all.
    """
    n = height * width
    k = seeds.shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    best = np.full(n, np.inf, dtype=np.float64)
    capacity = connectivity * n + k
    keys = np.empty(capacity, dtype=np.int64)
    vals = np.empty(capacity, dtype=np.int64)
    as_float = np.empty(1, dtype=np.float64)  # a float64 → int64 bit cast through memory
    as_bits = as_float.view(np.int64)
    cen = np.zeros((k, 5), dtype=np.float64)  # mean row, mean col, mean L, mean a, mean b
    count = np.zeros(k, dtype=np.int64)
    dy = np.array([0, -1, 0, 1, -1, -1, 1, 1], dtype=np.int64)
    dx = np.array([-1, 0, 1, 0, -1, 1, 1, -1], dtype=np.int64)

    size = 0
    for j in range(k):
        p = seeds[j]
        best[p] = 0.0
        size = _heap_push(keys, vals, size, np.int64(0), (np.int64(j) << 32) | p)

    while size > 0:
        val, size = _heap_pop(keys, vals, size)
        p = val & 0xFFFFFFFF
        if labels[p] >= 0:
            continue
        j = val >> 32
        labels[p] = j
        y = p // width
        x = p - y * width
        c = count[j] + 1
        count[j] = c
        inv = 1.0 / c
        cy = cen[j, 0] + (y - cen[j, 0]) * inv
        cx = cen[j, 1] + (x - cen[j, 1]) * inv
        cl = cen[j, 2] + (lab[p, 0] - cen[j, 2]) * inv
        ca = cen[j, 3] + (lab[p, 1] - cen[j, 3]) * inv
        cb = cen[j, 4] + (lab[p, 2] - cen[j, 4]) * inv
        cen[j, 0] = cy
        cen[j, 1] = cx
        cen[j, 2] = cl
        cen[j, 3] = ca
        cen[j, 4] = cb
        tag = j << 32
        for t in range(connectivity):
            yy = y + dy[t]
            xx = x + dx[t]
            if yy < 0 or yy >= height or xx < 0 or xx >= width:
                continue
            q = yy * width + xx
            if labels[q] >= 0:
                continue
            ey = yy - cy
            ex = xx - cx
            el = lab[q, 0] - cl
            ea = lab[q, 1] - ca
            eb = lab[q, 2] - cb
            d = spatial_weight * (ey * ey + ex * ex) + colour_weight * (el * el + ea * ea + eb * eb)
            if d < best[q]:
                best[q] = d
                as_float[0] = d
                size = _heap_push(keys, vals, size, as_bits[0], tag | q)
    return labels


@numba.njit(cache=True, nogil=True)
def _enforce_4_connectivity(labels, height, width, seeds):
    """Make every superpixel 4-connected, in place.

    A breadth-first search from each seed over same-label 4-neighbours marks the part of each
    superpixel that is 4-connected to its seed. Unmarked pixels (reached only diagonally, which
    8-connected growing allows) are then handed to an adjacent marked superpixel by a
    multi-source breadth-first search, so every label keeps its seed and stays 4-connected.
    """
    n = height * width
    reached = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    dy = np.array([0, -1, 0, 1], dtype=np.int64)
    dx = np.array([-1, 0, 1, 0], dtype=np.int64)
    tail = 0
    for j in range(seeds.shape[0]):
        p = seeds[j]
        reached[p] = True
        order[tail] = p
        tail += 1
    head = 0
    while head < tail:  # same-label flood fill from the seeds
        p = order[head]
        head += 1
        y = p // width
        x = p - y * width
        for t in range(4):
            yy = y + dy[t]
            xx = x + dx[t]
            if 0 <= yy < height and 0 <= xx < width:
                q = yy * width + xx
                if not reached[q] and labels[q] == labels[p]:
                    reached[q] = True
                    order[tail] = q
                    tail += 1
    if tail == n:
        return labels
    head = 0
    while head < tail:  # absorb the stray pixels into a 4-adjacent superpixel
        p = order[head]
        head += 1
        y = p // width
        x = p - y * width
        for t in range(4):
            yy = y + dy[t]
            xx = x + dx[t]
            if 0 <= yy < height and 0 <= xx < width:
                q = yy * width + xx
                if not reached[q]:
                    reached[q] = True
                    labels[q] = labels[p]
                    order[tail] = q
                    tail += 1
    return labels


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def snic(
    image: np.ndarray,
    n_segments: int | None = None,
    *,
    scale: float | None = None,
    compactness: float = 10.0,
    connectivity: Literal[4, 8] = 4,
) -> np.ndarray:
    """SNIC superpixels (Achanta & Süsstrunk, CVPR 2017).

    Seeds on a regular grid grow, in order of increasing distance, into a single priority queue
    of candidate pixels; each superpixel's centroid (mean position and mean CIELAB colour) is
    updated after every pixel it takes. One pass, no iterations.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
        uint8 in 0–255 (any integer type is scaled by its range) or float in [0, 1]. Greyscale
        is replicated to RGB, so only the lightness L* differs between pixels.
    n_segments : int, optional
        Target number of superpixels ``K``. Exactly one of ``n_segments`` and ``scale``.
    scale : float, optional
        Target mean superpixel area ``S`` in pixels; ``K = round(H·W / S)``.
    compactness : float, default 10
        ``m``: weight of space against colour. The distance of a pixel to a centroid is
        ``d² = ‖Δx‖²/s + ‖Δc‖²/m²`` with ``Δx`` in pixels, ``Δc`` in CIELAB units and
        ``s = H·W/K`` pixels² (the authors' reference normalisation; the same meaning as
        scikit-image's SLIC ``compactness``). Larger is more regular.
    connectivity : {4, 8}, default 4
        Neighbourhood through which superpixels grow. With 8, pixels reached only diagonally
        are afterwards handed to a 4-adjacent superpixel so that the output stays 4-connected.

    Returns
    -------
    (H, W) int32 array
        Labels ``0 … K − 1`` with ``K = rows·cols`` of :func:`grid_shape` (within a few percent
        of the target); every label is used and every superpixel is one 4-connected region.
        Label ``k`` grows from seed ``k`` of :func:`grid_seeds` (row-major grid order).

    Raises
    ------
    ValueError
        Bad shape, empty image, NaN/inf or out-of-range floats, both or neither of
        ``n_segments``/``scale``, non-positive ``n_segments``/``scale``/``compactness``, or
        ``connectivity`` not 4 or 8.

    Notes
    -----
    O(N log N) time with a binary heap of at most ``connectivity·N + K`` elements. The first call
    compiles the numba kernel (cached on disk afterwards).
    """
    rgb = _check_image(image)
    height, width = rgb.shape[:2]
    k_target = _n_pixels_to_k(height, width, n_segments, scale)
    m = _check_compactness(compactness)
    if isinstance(connectivity, bool) or connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")

    seeds_rc = grid_seeds(height, width, k_target)
    seeds = np.ascontiguousarray(seeds_rc[:, 0] * width + seeds_rc[:, 1], dtype=np.int64)
    k = seeds.shape[0]
    n = height * width
    lab = _to_lab(rgb)
    labels = _snic_kernel(lab, height, width, seeds, k / n, 1.0 / (m * m), int(connectivity))
    if connectivity == 8:
        labels = _enforce_4_connectivity(labels, height, width, seeds)
    return labels.reshape(height, width)


def slic(
    image: np.ndarray,
    n_segments: int | None = None,
    *,
    scale: float | None = None,
    compactness: float = 10.0,
    **kwargs: Any,
) -> np.ndarray:
    """SLIC superpixels (Achanta et al., TPAMI 2012) via :func:`skimage.segmentation.slic`.

    Runs scikit-image's SLIC in CIELAB with ``start_label=0`` and connectivity enforcement, then
    renumbers the labels to ``0 … K − 1`` (scikit-image may leave gaps).

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
        As for :func:`snic`. Greyscale is replicated to RGB and converted to CIELAB, so that
        ``compactness`` has the same meaning for colour and greyscale images (scikit-image's
        own greyscale mode would measure intensity in [0, 1] instead of L* in [0, 100]).
    n_segments : int, optional
        Target number of superpixels; exactly one of ``n_segments`` and ``scale``.
    scale : float, optional
        Target mean superpixel area in pixels; ``K = round(H·W / S)``.
    compactness : float, default 10
        scikit-image's compactness ``m`` (``d² = ‖Δc‖² + (m/S)²‖Δx‖²``).
    **kwargs
        Passed to :func:`skimage.segmentation.slic` (for example ``max_num_iter``, ``sigma``).
        ``start_label`` and ``channel_axis`` are set here and may not be given. Passing
        ``enforce_connectivity=False`` voids the 4-connectivity guarantee.

    Returns
    -------
    (H, W) int32 array
        Labels ``0 … K − 1``, all used; K is scikit-image's choice and may differ from the
        target by more than SNIC's.
    """
    from skimage.segmentation import slic as _skimage_slic

    for reserved in ("start_label", "channel_axis", "convert2lab"):
        if reserved in kwargs:
            raise ValueError(f"slic sets {reserved!r} itself; do not pass it")
    rgb = _check_image(image)
    height, width = rgb.shape[:2]
    k_target = _n_pixels_to_k(height, width, n_segments, scale)
    m = _check_compactness(compactness)
    kwargs.setdefault("enforce_connectivity", True)
    raw = _skimage_slic(
        rgb,
        n_segments=k_target,
        compactness=m,
        start_label=0,
        channel_axis=-1,
        convert2lab=True,
        **kwargs,
    )
    _, inverse = np.unique(raw, return_inverse=True)
    return inverse.reshape(height, width).astype(np.int32)


def compute_superpixels(
    image: np.ndarray,
    method: Literal["snic", "slic"] = "snic",
    n_segments: int | None = None,
    *,
    scale: float | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """Over-segment an image with the named method.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) greyscale array
        See :func:`snic`.
    method : {"snic", "slic"}
        Algorithm: :func:`snic` or :func:`slic`.
    n_segments, scale
        Exactly one: the target number of superpixels, or their mean area in pixels.
    **kwargs
        Passed to the method (``compactness``, ``connectivity`` for SNIC, scikit-image options
        for SLIC).

    Returns
    -------
    (H, W) int32 array
        Labels ``0 … K − 1``, all used, each superpixel 4-connected.
    """
    methods = {"snic": snic, "slic": slic}
    if method not in methods:
        raise ValueError(f"unknown superpixel method {method!r}; choose one of {sorted(methods)}")
    return methods[method](image, n_segments, scale=scale, **kwargs)
