"""Benchmark: our numba SNIC against scikit-image's SLIC and the pure-Python PyPI ``pysnic``.

All methods run in one process on the same machine and the same 300 × 300 images at a mean
superpixel area of S = 16 pixels (K = 5625), from the uint8 RGB array to the label map (colour
conversion included). Reported per method: the median time per image, the number of
superpixels and the reconstruction IoU (each superpixel takes the majority ground-truth class of
its pixels; IoU per class against the ground truth, averaged over the classes present).

Targets: SLIC time / our SNIC time ≥ 1, pysnic time / our SNIC time ≥ 20, and our SNIC's IoU
within 0.01 of pysnic's. pysnic is given our seeds and the compactness that makes its distance
rank pixels exactly as ours (``m_pysnic = m² / √(N/K)``, see ``pysnic_compactness``), so that both
solve the same problem; a second, informational pysnic row uses its own grid and ``m = 10`` as
published in its examples.

Images: WBC dataset 2 (``NNN.bmp`` with ground truth ``NNN.png``: 0/128/255 = background /
cytoplasm / nucleus), found by the data registry (``--data``, then ``MEDGRAPH_DATA``, then the
data cache: ``medgraph.data.locate``) and read by its loader; seeded synthetic cell images when
none is found.

Usage::

    python benchmarks/bench_superpixels.py [--images N] [--reps R] [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "lib") not in sys.path:
    sys.path.insert(0, str(REPO / "lib"))

from medgraph.superpixels.algorithms import grid_seeds, slic, snic  # noqa: E402

N_CLASSES = 3
IOU_TOLERANCE = 0.01
SLIC_RATIO_TARGET = 1.0
PYSNIC_RATIO_TARGET = 20.0


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def load_real(root: str | None, n_images: int) -> tuple[list[Any], str] | None:
    """The first ``n_images`` of WBC dataset 2 through the data registry (``--data``, then
    ``MEDGRAPH_DATA``, then the data cache), as (id, RGB image, class map); None when absent."""
    from medgraph.data import DataUnavailableError, load_dataset, locate

    try:
        folder = locate("wbc2", root)
    except DataUnavailableError:
        if root:
            raise
        return None
    data = load_dataset("wbc2", source="real", root=root)
    items = [
        (ident, image, mask.astype(np.int64))
        for ident, image, mask in zip(data.ids, data.images, data.masks, strict=True)
    ][:n_images]
    return items, f"WBC dataset 2 ({folder})"


def synthetic_cells(n_images: int, size: int = 300) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Seeded stand-ins: a pale background, a lilac cytoplasm disc and a purple nucleus, blurred
    and noisy, with the class map they were drawn from."""
    from scipy import ndimage

    items = []
    yy, xx = np.mgrid[0:size, 0:size]
    palette = np.array([[235, 215, 205], [200, 170, 215], [90, 40, 130]], dtype=np.float64)
    for i in range(n_images):
        rng = np.random.default_rng(1000 + i)
        cy, cx = rng.uniform(0.35, 0.65, size=2) * size
        radius = rng.uniform(0.2, 0.3) * size
        angle = np.arctan2(yy - cy, xx - cx)
        wobble = 1 + 0.08 * np.sin(3 * angle + rng.uniform(0, 6)) + 0.05 * np.sin(5 * angle)
        r = np.hypot(yy - cy, xx - cx) / wobble
        classes = np.zeros((size, size), dtype=np.int64)
        classes[r < radius] = 1
        ny, nx = cy + rng.normal(0, 0.1 * radius), cx + rng.normal(0, 0.1 * radius)
        classes[np.hypot((yy - ny) / 0.9, (xx - nx) / 1.2) < 0.6 * radius] = 2
        img = palette[classes]
        img = ndimage.gaussian_filter(img, sigma=(1.5, 1.5, 0)) + rng.normal(0, 8, img.shape)
        items.append((f"synthetic_{i:02d}", np.clip(img, 0, 255).astype(np.uint8), classes))
    return items


# --------------------------------------------------------------------------------------------
# metric
# --------------------------------------------------------------------------------------------


def reconstruction_iou(labels: np.ndarray, classes: np.ndarray) -> float:
    """IoU_r: every superpixel takes its majority class; mean IoU over the classes present."""
    labels = labels.ravel().astype(np.int64)
    classes = classes.ravel()
    k = int(labels.max()) + 1
    votes = np.bincount(labels * N_CLASSES + classes, minlength=k * N_CLASSES)
    majority = votes.reshape(k, N_CLASSES).argmax(axis=1)
    recon = majority[labels]
    inter = np.bincount(classes[recon == classes], minlength=N_CLASSES)
    union = (
        np.bincount(recon, minlength=N_CLASSES) + np.bincount(classes, minlength=N_CLASSES) - inter
    )
    present = union > 0
    return float(np.mean(inter[present] / union[present]))


# --------------------------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------------------------


def pysnic_compactness(compactness: float, n_pixels: int, k: int) -> float:
    """pysnic's compactness that orders the queue as ours does.

    pysnic ranks by ``‖Δx‖²/√s + ‖Δc‖²/m_p`` and we by ``‖Δx‖²/s + ‖Δc‖²/m²`` (``s = N/K``);
    multiplying ours by ``√s`` gives pysnic's form with ``m_p = m²/√s``.
    """
    return compactness**2 / np.sqrt(n_pixels / k)


def make_methods(scale: float, compactness: float, native: bool) -> dict[str, Callable]:
    from skimage.color import rgb2lab
    from skimage.segmentation import slic as skimage_slic

    methods: dict[str, Callable] = {
        "our SNIC": lambda img: snic(img, scale=scale, compactness=compactness),
        "SLIC (our wrapper)": lambda img: slic(img, scale=scale, compactness=compactness),
        "SLIC (skimage raw)": lambda img: skimage_slic(
            img,
            n_segments=round(img.shape[0] * img.shape[1] / scale),
            compactness=compactness,
            start_label=0,
        ),
    }
    try:
        from pysnic.algorithms.snic import snic as pysnic_snic
    except ImportError:
        print("pysnic is not installed: its rows are skipped", file=sys.stderr)
        return methods

    def pysnic_same(img):
        h, w = img.shape[:2]
        seeds = grid_seeds(h, w, round(h * w / scale))
        m_p = pysnic_compactness(compactness, h * w, len(seeds))
        seg, _, _ = pysnic_snic(
            rgb2lab(img).tolist(), [[int(c), int(r)] for r, c in seeds.tolist()], m_p
        )
        return np.asarray(seg)

    def pysnic_native(img):
        h, w = img.shape[:2]
        seg, _, _ = pysnic_snic(rgb2lab(img).tolist(), round(h * w / scale), compactness)
        return np.asarray(seg)

    methods["pysnic (same seeds, equiv. m)"] = pysnic_same
    if native:
        methods["pysnic (own grid, m=10)"] = pysnic_native
    return methods


def time_call(fn: Callable, img: np.ndarray) -> tuple[float, np.ndarray]:
    gc.collect()
    start = time.perf_counter()
    out = fn(img)
    return time.perf_counter() - start, out


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10, help="images for every method")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per image")
    parser.add_argument("--pysnic-reps", type=int, default=1, help="repetitions for pysnic")
    parser.add_argument("--scale", type=float, default=16.0, help="mean superpixel area S")
    parser.add_argument("--compactness", type=float, default=10.0)
    parser.add_argument("--data", help="data root or the wbc/ folder (default: MEDGRAPH_DATA)")
    parser.add_argument("--synthetic", action="store_true", help="ignore the real images")
    parser.add_argument("--no-native", action="store_true", help="skip pysnic with its own grid")
    parser.add_argument("--quick", action="store_true", help="3 images, 2 reps, no native row")
    parser.add_argument("--json", help="write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.reps, args.pysnic_reps, args.no_native = 3, 2, 1, True
    if args.images < 1 or args.reps < 1 or args.pysnic_reps < 1:
        parser.error("--images, --reps and --pysnic-reps must be positive")

    real = None if args.synthetic else load_real(args.data, args.images)
    if real is not None:
        items, source = real
    else:
        items = synthetic_cells(args.images)
        source = "synthetic 300x300 cell images (WBC dataset 2 not found)"
    print(f"images: {len(items)} × {items[0][1].shape[:2]} from {source}")
    print(
        f"S = {args.scale:g} px, compactness = {args.compactness:g}, reps = {args.reps} "
        f"(pysnic {args.pysnic_reps}); machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )

    methods = make_methods(args.scale, args.compactness, native=not args.no_native)
    for fn in methods.values():
        fn(items[0][1])  # warm-up: numba compilation, imports, caches
    # images outer, methods inner: a change in machine load hits every method alike
    raw: dict[str, dict[str, list]] = {name: {"t": [], "iou": [], "k": []} for name in methods}
    for _, rgb, classes in items:
        for name, fn in methods.items():
            reps = args.pysnic_reps if name.startswith("pysnic") else args.reps
            times = []
            for _ in range(reps):
                elapsed, labels = time_call(fn, rgb)
                times.append(elapsed)
            raw[name]["t"].append(statistics.median(times))
            raw[name]["iou"].append(reconstruction_iou(labels, classes))
            raw[name]["k"].append(int(np.unique(labels).size))
    results = {
        name: {
            "time_per_image_s": statistics.median(r["t"]),
            "time_per_image_each_s": r["t"],
            "iou_r_mean": float(np.mean(r["iou"])),
            "iou_r_each": r["iou"],
            "k_mean": float(np.mean(r["k"])),
            "reps": args.pysnic_reps if name.startswith("pysnic") else args.reps,
        }
        for name, r in raw.items()
    }

    ours = results["our SNIC"]
    print()
    print(f"{'method':32s} {'K (mean)':>9s} {'ms/image':>10s} {'× our SNIC':>11s} {'IoU_r':>8s}")
    print("-" * 74)
    for name, r in results.items():
        ratio = r["time_per_image_s"] / ours["time_per_image_s"]
        print(
            f"{name:32s} {r['k_mean']:9.0f} {1e3 * r['time_per_image_s']:10.1f} "
            f"{ratio:11.1f} {r['iou_r_mean']:8.4f}"
        )

    checks = []
    slic_ratio = results["SLIC (our wrapper)"]["time_per_image_s"] / ours["time_per_image_s"]
    checks.append(
        (
            "SLIC time / our SNIC time",
            slic_ratio,
            f">= {SLIC_RATIO_TARGET:g}",
            slic_ratio >= SLIC_RATIO_TARGET,
        )
    )
    same = results.get("pysnic (same seeds, equiv. m)")
    if same is not None:
        py_ratio = same["time_per_image_s"] / ours["time_per_image_s"]
        checks.append(
            (
                "pysnic time / our SNIC time",
                py_ratio,
                f">= {PYSNIC_RATIO_TARGET:g}",
                py_ratio >= PYSNIC_RATIO_TARGET,
            )
        )
        diff = abs(ours["iou_r_mean"] - same["iou_r_mean"])
        checks.append(
            (
                "|IoU_r our SNIC - IoU_r pysnic|",
                diff,
                f"<= {IOU_TOLERANCE:g}",
                diff <= IOU_TOLERANCE,
            )
        )
    print()
    for label, value, target, ok in checks:
        print(f"{label:34s} {value:10.4f}  target {target:8s} {'PASS' if ok else 'FAIL'}")
    native = results.get("pysnic (own grid, m=10)")
    if native is not None:
        print(
            f"(informational) IoU_r of pysnic with its own grid and m = 10: "
            f"{native['iou_r_mean']:.4f}, {native['k_mean']:.0f} superpixels"
        )

    if args.json:
        payload = {
            "source": source,
            "images": [name for name, _, _ in items],
            "scale": args.scale,
            "compactness": args.compactness,
            "reps": args.reps,
            "pysnic_reps": args.pysnic_reps,
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor(),
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
            },
            "methods": results,
            "targets": {
                label: {"value": value, "target": target, "pass": bool(ok)}
                for label, value, target, ok in checks
            },
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
