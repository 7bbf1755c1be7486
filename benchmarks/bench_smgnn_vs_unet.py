"""Benchmark: SMGNN against U-Net — parameters, activation memory and end-to-end inference time.

One run, one machine, one batch of B = 8 RGB 300 × 300 images (WBC dataset 2 when found, seeded
phantoms in its style otherwise), the issue's §8:

1. trainable parameters of SMGNN (default, ~7k) and U-Net at the ``paper`` size (~5.5M, the
   paper's Table 1 U-Net has 5.43M) and at the ``small`` size;
2. bytes of the activations autograd saves for backward in one training step (forward + loss),
   measured exactly with :func:`medgraph.profiling.saved_activation_bytes` (parameters and
   BatchNorm buffers excluded). SMGNN's loss is Dice + 0.1 · superpixel metric loss (Eq 3.3)
   with the training defaults (1024 anchors × 1024 references), U-Net's is Dice. SMGNN is
   measured as it trains, with its memory-lean head (:mod:`medgraph.models.lean`), and also
   with the plain head modules for comparison;
3. inference time per batch END TO END, from the uint8 images in memory to predicted labels
   (eval mode, ``torch.no_grad``): for SMGNN SNIC on the B images (S = 16 px), graph
   construction (:func:`medgraph.graphs.build_superpixel_graphs`) and the forward pass; for
   U-Net the forward pass. Both models get the same input tensor, the uint8 (B, H, W, 3) batch
   permuted to (B, 3, H, W) and scaled to [0, 1] (so channels-last in memory, which PyTorch's
   CPU convolutions run fastest). Median over ``--repeats`` calls after one warm-up; the methods
   take turns within every repetition so that a change of machine load hits all alike.

4. our SNIC against scikit-image's SLIC on the same images, one image at a time on one thread
   each (neither is parallel within an image), S = 16 px, from the uint8 image to the label
   map: median seconds per image, the two taking turns image by image.

Targets (CPU, issue 35 §5): U-Net (paper) time / SMGNN time ≥ 5, SLIC time / SNIC time ≥ 4,
and U-Net (paper) activation bytes / SMGNN activation bytes ≥ 10, all from one run. A breakdown of SMGNN's time (SNIC, graph construction and its
``radius_edges`` step, forward) follows the table. The paper's Table 3 (SMGNN 0.8173 s, U-Net
0.1094 s per 8 images, on an NVIDIA A100 GPU) is printed beside ours, labelled as the paper's.

Usage::

    python benchmarks/bench_smgnn_vs_unet.py [--device cpu] [--repeats 5] [--threads N] [--quick]
        [--json PATH] [--report DIR]

``--report reports/paper/bench_smgnn_vs_unet`` also writes the result as a report of its own
(table, claims with verdicts, results.json), which the paper profile's index lists: the memory
claim of the paper's title and its Table 3, judged.
"""

from __future__ import annotations

import argparse
import json
import logging
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

import torch  # noqa: E402

from medgraph.data import load_dataset  # noqa: E402
from medgraph.graphs import build_superpixel_graphs, compute_label_maps, radius_edges  # noqa: E402
from medgraph.losses import SuperpixelMetricLoss, dice_loss, joint_loss  # noqa: E402
from medgraph.models import SMGNN, build_baseline, count_parameters  # noqa: E402
from medgraph.profiling import saved_activation_bytes, time_call  # noqa: E402
from medgraph.segmentation import SegmentationConfig  # noqa: E402
from medgraph.superpixels import slic, snic  # noqa: E402

N_CLASSES = 3
TIME_RATIO_TARGET = 5.0
SLIC_RATIO_TARGET = 4.0
MEMORY_RATIO_TARGET = 10.0
#: The SMGNN paper's Table 3 (seconds for 8 WBC dataset-2 images, NVIDIA Tesla A100) and
#: Table 1 (parameters) — the paper's numbers, not ours.
PAPER = {
    "device": "NVIDIA Tesla A100 GPU (paper §4)",
    "time_s": {"SMGNN": 0.8173, "U-Net (paper)": 0.1094},
    "params": {"SMGNN": 7e3, "U-Net (paper)": 5.43e6},
}


# --------------------------------------------------------------------------------------------
# data and pipelines
# --------------------------------------------------------------------------------------------


def load_batch(batch: int, source: str) -> tuple[np.ndarray, np.ndarray, str]:
    """The first ``batch`` wbc2 images and masks as (B, H, W, 3) uint8 and (B, H, W) int64."""
    ds = load_dataset("wbc2", source=source, n_phantoms=batch)
    if len(ds) < batch:
        raise SystemExit(f"wbc2 ({ds.source}) has {len(ds)} images, fewer than the batch {batch}")
    images = np.stack(ds.images[:batch]).astype(np.uint8)  # a writable copy
    masks = np.stack(ds.masks[:batch]).astype(np.int64)
    where = f" ({ds.root})" if ds.root else ""
    return images, masks, f"wbc2 {ds.source}{where}, ids {', '.join(map(str, ds.ids[:batch]))}"


def to_input(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """(B, H, W, 3) uint8 → (B, 3, H, W) float32 in [0, 1] on ``device``."""
    return torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def superpixels(images: np.ndarray, scale: float) -> list[np.ndarray]:
    """SNIC label maps of every image (CPU, numba; one thread per core, no disk cache)."""
    return compute_label_maps(images, "snic", scale)


def smgnn_pipeline(
    model: SMGNN, images: np.ndarray, scale: float, device: torch.device
) -> Callable[[], torch.Tensor]:
    """uint8 images → SNIC → superpixel graphs → SMGNN → (B, H, W) labels."""

    def run() -> torch.Tensor:
        with torch.no_grad():
            maps = superpixels(images, scale)
            sb = build_superpixel_graphs(images, maps, device=device)
            logits, _ = model(to_input(images, device), sb)
            return logits.argmax(1)

    return run


def unet_pipeline(
    model: torch.nn.Module, images: np.ndarray, device: torch.device
) -> Callable[[], torch.Tensor]:
    """uint8 images → U-Net → (B, H, W) labels."""

    def run() -> torch.Tensor:
        with torch.no_grad():
            return model(to_input(images, device)).argmax(1)

    return run


# --------------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------------


def activation_bytes(
    models: dict[str, torch.nn.Module],
    images: np.ndarray,
    masks: np.ndarray,
    scale: float,
    device: torch.device,
) -> dict[str, int]:
    """Bytes saved for backward by one training step (forward + loss) of every model."""
    x = to_input(images, device)
    target = torch.from_numpy(masks).to(device)
    sb = build_superpixel_graphs(images, superpixels(images, scale), masks=masks, device=device)
    cfg = SegmentationConfig()  # the training defaults: 1024 anchors and 1024 references
    metric = SuperpixelMetricLoss(n_anchors=cfg.n_anchors, n_refs=cfg.n_refs).to(device)
    out: dict[str, int] = {}
    for name, model in models.items():
        model.train()
        if isinstance(model, SMGNN):

            def step(model: torch.nn.Module = model) -> torch.Tensor:
                logits, emb = model(x, sb)
                dice = dice_loss(logits.softmax(1), target, N_CLASSES)
                return joint_loss(dice, metric(emb, sb.graph.score), lam=0.1)

        else:

            def step(model: torch.nn.Module = model) -> torch.Tensor:
                return dice_loss(model(x).softmax(1), target, N_CLASSES)

        out[name] = saved_activation_bytes(step, exclude=list(model.buffers()))
        if isinstance(model, SMGNN):
            # the same step with the plain head modules (QH and BatchNorm inputs saved)
            lean_flag = model.memory_efficient
            model.memory_efficient = False
            out[f"{name}: plain head"] = saved_activation_bytes(step, exclude=list(model.buffers()))
            model.memory_efficient = lean_flag
            # the graph side alone: GIN embeddings + superpixel metric loss (the paper's §2.4)
            out[f"{name}: GIN + metric loss only"] = saved_activation_bytes(
                lambda model=model: metric(
                    model.embed(sb.graph.x, sb.graph.edge_index), sb.graph.score
                ),
                exclude=list(model.buffers()),
            )
        model.eval()
    return out


def interleaved_times(
    fns: dict[str, Callable[[], Any]], repeats: int, warmup: int, device: torch.device
) -> dict[str, list[float]]:
    """Per-call seconds of every function, the functions taking turns in every repetition."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name] += time_call(fn, repeats=1, warmup=0, device=device)
    return times


def superpixel_times(images: np.ndarray, scale: float, repeats: int) -> dict[str, list[float]]:
    """Seconds per image of our SNIC and scikit-image's SLIC (mean area ``scale`` px), each image
    segmented by both in turn, ``repeats`` passes over the images after one warm-up image."""
    methods: dict[str, Callable[[np.ndarray], Any]] = {
        "SNIC (ours)": lambda im: snic(im, scale=scale),
        "SLIC (scikit-image)": lambda im: slic(im, scale=scale),
    }
    for fn in methods.values():
        fn(images[0])
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for image in images:
            for name, fn in methods.items():
                start = time.perf_counter()
                fn(image)
                times[name].append(time.perf_counter() - start)
    return times


def smgnn_breakdown(
    model: SMGNN, images: np.ndarray, scale: float, repeats: int, device: torch.device
) -> dict[str, list[float]]:
    """Seconds of SMGNN's stages: SNIC, graph construction (and its radius_edges), forward."""
    maps = superpixels(images, scale)
    sb = build_superpixel_graphs(images, maps, device=device)
    pos, batch = sb.graph.pos, sb.graph.batch
    thresholds = sb.thresholds

    def forward() -> torch.Tensor:
        with torch.no_grad():
            return model(to_input(images, device), sb)[0].argmax(1)

    stages: dict[str, Callable[[], Any]] = {
        "SNIC (8 images)": lambda: superpixels(images, scale),
        "graph construction": lambda: build_superpixel_graphs(images, maps, device=device),
        "  of which radius_edges": lambda: radius_edges(pos, batch, thresholds),
        "forward (GNN + CNN head + argmax)": forward,
    }
    return interleaved_times(stages, repeats, warmup=1, device=device)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but CUDA is not available")
    return device


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per pipeline")
    parser.add_argument("--batch", type=int, default=8, help="images per batch")
    parser.add_argument("--scale", type=float, default=16.0, help="SNIC mean superpixel area S")
    parser.add_argument(
        "--data-source",
        choices=("auto", "real", "phantom"),
        default="auto",
        help="wbc2 images: real when found (auto), or force one",
    )
    parser.add_argument(
        "--threads", type=int, help="torch intra-op threads (default: torch's own choice)"
    )
    parser.add_argument("--no-small", action="store_true", help="skip the small U-Net")
    parser.add_argument("--quick", action="store_true", help="2 repeats, no stage breakdown")
    parser.add_argument("--json", help="write the numbers to this JSON file")
    parser.add_argument("--report", help="write the result as a report into this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 2)
    if args.repeats < 1 or args.batch < 1:
        parser.error("--repeats and --batch must be positive")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be positive")
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    started = time.perf_counter()
    load_before = os.getloadavg()

    images, masks, source = load_batch(args.batch, args.data_source)
    b, h, w = masks.shape
    print(f"images: {b} × {h}×{w} RGB uint8 from {source}")
    print(
        f"device: {device}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; SNIC S = {args.scale:g} px; "
        f"repeats = {args.repeats} after 1 warm-up"
    )

    torch.manual_seed(0)
    smgnn = SMGNN().to(device).eval()
    models: dict[str, torch.nn.Module] = {
        "SMGNN": smgnn,
        "U-Net (paper)": build_baseline("unet", size="paper").to(device).eval(),
    }
    if not args.no_small:
        models["U-Net (small)"] = build_baseline("unet", size="small").to(device).eval()
    params = {name: count_parameters(m) for name, m in models.items()}

    mem = activation_bytes(models, images, masks, args.scale, device)

    pipelines: dict[str, Callable[[], Any]] = {}
    for name, model in models.items():
        if isinstance(model, SMGNN):
            pipelines[name] = smgnn_pipeline(model, images, args.scale, device)
        else:
            pipelines[name] = unet_pipeline(model, images, device)
    times = interleaved_times(pipelines, args.repeats, warmup=1, device=device)
    median = {name: statistics.median(t) for name, t in times.items()}

    print()
    header = (
        f"{'model':15s} {'params':>11s} {'saved for backward':>19s} {'s / batch':>10s} "
        f"{'(min–max)':>15s} {'paper s/8 img':>14s} {'paper params':>13s}"
    )
    print(header)
    print("-" * len(header))
    for name in models:
        t = times[name]
        paper_t = PAPER["time_s"].get(name)
        paper_p = PAPER["params"].get(name)
        print(
            f"{name:15s} {params[name]:11,d} {mem[name] / 2**20:15.1f} MiB "
            f"{median[name]:10.3f} {f'({min(t):.3f}–{max(t):.3f})':>15s} "
            f"{'' if paper_t is None else f'{paper_t:.4f}':>14s} "
            f"{'' if paper_p is None else f'{paper_p:,.0f}':>13s}"
        )
    print(
        f"(paper columns: the SMGNN paper's Table 3 inference time for 8 images on an "
        f"{PAPER['device'].split(' (')[0]}, and its Table 1 parameter counts — the paper's "
        f"numbers, not ours; ours are on {device} for a batch of {b})"
    )
    graph_only = mem["SMGNN: GIN + metric loss only"]
    print(
        f"SMGNN's graph side alone (GIN + metric loss, no pixel-space CNN head) saves "
        f"{graph_only / 2**20:.1f} MiB; the rest of SMGNN's "
        f"{mem['SMGNN'] / 2**20:.1f} MiB is the full-resolution CNN head and the Dice loss; "
        f"with the plain head modules (memory_efficient=False) SMGNN saves "
        f"{mem['SMGNN: plain head'] / 2**20:.1f} MiB"
    )

    checks = []
    time_ratio = median["U-Net (paper)"] / median["SMGNN"]
    mem_ratio = mem["U-Net (paper)"] / mem["SMGNN"]
    sp_times = superpixel_times(images, args.scale, args.repeats)
    sp_median = {name: statistics.median(t) for name, t in sp_times.items()}
    slic_ratio = sp_median["SLIC (scikit-image)"] / sp_median["SNIC (ours)"]
    print()
    for name, value in sp_median.items():
        print(f"{name:20s} {1e3 * value:8.2f} ms per image (median of {len(sp_times[name])})")
    checks.append(("U-Net (paper) time / SMGNN time", time_ratio, TIME_RATIO_TARGET))
    checks.append(("SLIC time / SNIC time, per image", slic_ratio, SLIC_RATIO_TARGET))
    checks.append(("U-Net (paper) act. bytes / SMGNN act. bytes", mem_ratio, MEMORY_RATIO_TARGET))
    print()
    for label, value, target in checks:
        verdict = "PASS" if value >= target else "FAIL"
        note = "" if device.type == "cpu" or "time" not in label else " (target set for CPU)"
        print(f"{label:44s} {value:8.2f}  target >= {target:g}  {verdict}{note}")
    info = {}
    if "U-Net (small)" in models:
        info["U-Net (small) time / SMGNN time"] = median["U-Net (small)"] / median["SMGNN"]
        info["U-Net (small) act. bytes / SMGNN act. bytes"] = mem["U-Net (small)"] / mem["SMGNN"]
    info["U-Net (paper) act. bytes / SMGNN plain head"] = (
        mem["U-Net (paper)"] / mem["SMGNN: plain head"]
    )
    info["paper: U-Net time / SMGNN time (A100)"] = (
        PAPER["time_s"]["U-Net (paper)"] / PAPER["time_s"]["SMGNN"]
    )
    for label, value in info.items():
        print(f"{label:44s} {value:8.2f}  (informational)")

    breakdown: dict[str, float] = {}
    if not args.quick:
        stage_times = smgnn_breakdown(smgnn, images, args.scale, args.repeats, device)
        breakdown = {name: statistics.median(t) for name, t in stage_times.items()}
        total = sum(v for k, v in breakdown.items() if not k.startswith(" "))
        print()
        print(f"SMGNN end to end, stage by stage (medians; stages sum to {total:.3f} s):")
        for name, value in breakdown.items():
            print(f"  {name:36s} {value:8.3f} s  {100 * value / total:5.1f} %")

    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()
    print(
        f"\nwhole run: {elapsed:.0f} s; 1-min load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after, on {os.cpu_count()} CPUs"
    )
    cpus = os.cpu_count() or 1
    spread = max((max(t) - min(t)) / statistics.median(t) for t in times.values())
    # this run alone brings the load to about the number of torch threads
    busy = load_before[0] > 0.5 * cpus or load_after[0] > torch.get_num_threads() + 0.5 * cpus
    if busy or spread > 0.5:
        print(
            f"warning: other work was running on this machine or the timings spread widely "
            f"(largest (max − min) / median {spread:.2f}); CPU timings and their ratios may be "
            f"unreliable: run again when it is idle"
        )
    if args.json:
        payload = {
            "source": source,
            "batch": b,
            "image_size": [h, w],
            "scale": args.scale,
            "device": str(device),
            "repeats": args.repeats,
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor(),
                "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "load_average_1min_before_after": [load_before[0], load_after[0]],
                "python": platform.python_version(),
                "torch": torch.__version__,
            },
            "models": {
                name: {
                    "parameters": params[name],
                    "saved_activation_bytes": mem[name],
                    **(
                        {
                            "saved_activation_bytes_gin_and_metric_loss_only": graph_only,
                            "saved_activation_bytes_plain_head": mem["SMGNN: plain head"],
                        }
                        if name == "SMGNN"
                        else {}
                    ),
                    "time_per_batch_s": median[name],
                    "time_per_batch_each_s": times[name],
                }
                for name in models
            },
            "superpixel_time_per_image_s": sp_median,
            "smgnn_stage_time_s": breakdown,
            "ratios": {label: value for label, value, _ in checks} | info,
            "targets": {
                label: {"value": value, "target": f">= {target:g}", "pass": value >= target}
                for label, value, target in checks
            },
            "paper_table3_and_table1": PAPER,
            "elapsed_s": elapsed,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.report:
        write_report(
            Path(args.report),
            args,
            source,
            (b, h, w),
            device,
            params,
            mem,
            times,
            sp_times,
            checks,
            started,
        )
    return 0 if all(value >= target for _, value, target in checks) else 1


def write_report(
    folder: Path,
    args: argparse.Namespace,
    source: str,
    shape: tuple[int, int, int],
    device: torch.device,
    params: dict[str, int],
    mem: dict[str, int],
    times: dict[str, list[float]],
    sp_times: dict[str, list[float]],
    checks: list[tuple[str, float, float]],
    started: float,
) -> None:
    """The benchmark as a report (its wall time counted from ``started``, a perf_counter): one table and the paper's claims with verdicts."""
    import pandas as pd

    from medgraph.reporting import Report
    from medgraph.verdicts import claim

    b, h, w = shape
    report = Report(
        folder,
        run_name=folder.name,
        profile=folder.parent.name,
        seeds=[0],
        started=started,
        parameters={
            "batch": b,
            "scale": args.scale,
            "repeats": args.repeats,
            "device": str(device),
        },
        title="SMGNN against U-Net: parameters, activation memory of a training step and "
        "end-to-end inference time (SMGNN paper's title claim, Tables 1 and 3), our SNIC "
        "against scikit-image's SLIC, and the workbook's speed targets; "
        "benchmarks/bench_smgnn_vs_unet.py",
    )
    # load_batch's description starts "wbc2 <source>"
    report.add_dataset({"name": "wbc2", "source": source.split()[1], "n_images": b})
    rows = []
    for name, t in times.items():
        rows.append(
            {
                "model": name,
                "parameters": params[name],
                "saved activations (MiB)": mem[name] / 2**20,
                "s per batch (median)": statistics.median(t),
                "s per batch (min)": min(t),
                "s per batch (max)": max(t),
                "paper: s per 8 images (A100)": PAPER["time_s"].get(name),
                "paper: parameters": PAPER["params"].get(name),
            }
        )
    rows.append(
        {
            "model": "SMGNN, plain head modules",
            "parameters": params["SMGNN"],
            "saved activations (MiB)": mem["SMGNN: plain head"] / 2**20,
        }
    )
    rows.append(
        {
            "model": "SMGNN, GIN + metric loss only",
            "saved activations (MiB)": mem["SMGNN: GIN + metric loss only"] / 2**20,
        }
    )
    report.table(
        "smgnn_vs_unet",
        pd.DataFrame(rows),
        f"{b} images of {h} × {w} on {device} ({torch.get_num_threads()} threads): trainable "
        "parameters, bytes autograd saves for backward in one training step, and inference "
        f"time end to end (SNIC and graph included for SMGNN), median of {args.repeats} "
        "interleaved calls; `paper:` columns are the paper's (Tables 1 and 3, on an A100 GPU)",
    )
    mem_ratio = mem["U-Net (paper)"] / mem["SMGNN"]
    report.compare(
        "U-Net (paper size) / SMGNN activation bytes of a training step",
        round(mem_ratio, 2),
        None,
        "title and §1: SMGNN is memory-efficient (no number given)",
        verdict=claim(
            mem_ratio > 1, "SMGNN saves fewer activation bytes than the paper-size U-Net"
        ),
    )
    report.compare(
        "SMGNN parameters",
        params["SMGNN"],
        PAPER["params"]["SMGNN"],
        "Table 1 (printed as 0.007M)",
        verdict=claim(
            abs(params["SMGNN"] - PAPER["params"]["SMGNN"]) <= 500,
            "equal to the published count at its rounding (0.007M: ± 500)",
        ),
    )
    time_ratio = statistics.median(times["U-Net (paper)"]) / statistics.median(times["SMGNN"])
    paper_ratio = PAPER["time_s"]["U-Net (paper)"] / PAPER["time_s"]["SMGNN"]
    report.compare(
        "U-Net (paper size) time / SMGNN time, end to end",
        round(time_ratio, 2),
        round(paper_ratio, 3),
        "Table 3 (seconds for 8 images on an A100 GPU; SNIC included for SMGNN)",
        verdict=f"not comparable (ours on {device}, the paper's on an A100 GPU)"
        if device.type == "cpu"
        else claim(
            (time_ratio > 1) == (paper_ratio > 1),
            "the same model is faster as in Table 3",
        ),
    )
    sp_rows = [
        {
            "method": name,
            "ms per image (median)": 1e3 * statistics.median(t),
            "ms per image (min)": 1e3 * min(t),
            "ms per image (max)": 1e3 * max(t),
            "timed calls": len(t),
        }
        for name, t in sp_times.items()
    ]
    report.table(
        "snic_vs_slic",
        pd.DataFrame(sp_rows),
        f"Our SNIC against scikit-image's SLIC on the same {b} images of {h} × {w}, mean "
        f"superpixel area S = {args.scale:g} px, one image at a time on one thread each, from the "
        "uint8 image to the label map (colour conversion included); the two take turns image by "
        "image",
    )
    report.table(
        "speed_targets",
        pd.DataFrame(
            [
                {"quantity": label, "measured": round(value, 2), "target": f">= {target:g}"}
                | {"met": "yes" if value >= target else "no"}
                for label, value, target in checks
            ]
        ),
        "The workbook's own targets (issue 35 §5 and the memory target), not the paper's, "
        f"measured in this one run on {device} ({torch.get_num_threads()} torch threads)",
    )
    slic_ratio = statistics.median(sp_times["SLIC (scikit-image)"]) / statistics.median(
        sp_times["SNIC (ours)"]
    )
    report.record("ratios", {"memory": mem_ratio, "time": time_ratio, "slic_over_snic": slic_ratio})
    report.finish()
    print(f"wrote the report {folder}")


if __name__ == "__main__":
    raise SystemExit(main())
