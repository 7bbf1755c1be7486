"""Benchmark: how to spend a CPU's cores on the pieces of notebook 02 — one process or several.

The `paper` runs of notebook 02 are trained piece by piece (``python -m medgraph.pieces``); on a
machine without a GPU most of the time goes to the pixel baselines. A small convolutional network
does not use several cores well within one training step, so N processes with one thread each
(``OMP_NUM_THREADS=1 python -m medgraph.pieces ... --shard i/N``) may train more per hour than one
process with N threads.

This script measures that, in one run on one machine, for one baseline
(:func:`medgraph.models.build_baseline`, the ``small`` size that the `paper` profile trains): the
training steps per second (forward, soft Dice loss of Eq 3.2, backward, Adam) of a batch of B
random RGB images of H × W pixels,

1. in ONE process with N threads, and
2. in N processes with ONE thread each, started together and timed over the same window,

and prints the throughput ratio (2) / (1). A ratio above 1 means: shard the pieces over N
single-thread processes. Memory bandwidth is shared, so (2) is measured with all N processes
running at once, not extrapolated from one.

Usage::

    python benchmarks/bench_cpu_pieces.py [--model unet] [--processes 2] [--side 128]
        [--batch 8] [--steps 6] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "lib") not in sys.path:
    sys.path.insert(0, str(REPO / "lib"))

import torch  # noqa: E402

from medgraph.losses import dice_loss  # noqa: E402
from medgraph.models import build_baseline, count_parameters  # noqa: E402
from medgraph.profiling import time_call  # noqa: E402

N_CLASSES = 3


def train_steps(model_name: str, threads: int, side: int, batch: int, steps: int) -> float:
    """Seconds per training step: the mean over ``steps`` steps after 2 warm-up steps.

    Parameters
    ----------
    model_name : str
        A baseline of :func:`medgraph.models.build_baseline`.
    threads : int
        ``torch.set_num_threads`` of this process.
    side, batch : int
        Images of side × side pixels, ``batch`` per step.
    steps : int
        Timed steps.

    Returns
    -------
    float
        Seconds per step.
    """
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    model = build_baseline(model_name, N_CLASSES, size="small")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, side, side, generator=gen)
    y = torch.randint(0, N_CLASSES, (batch, side, side), generator=gen)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = dice_loss(model(x).softmax(1), y, N_CLASSES)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{model_name}: non-finite loss {loss.item()}")
        loss.backward()
        opt.step()

    return statistics.fmean(time_call(step, repeats=steps, warmup=2))


def _worker(args: tuple[str, int, int, int, Any, Any]) -> None:
    """One single-thread process of measurement (2): wait for the others, then time."""
    model_name, side, batch, steps, barrier, results = args
    barrier.wait()
    results.put(train_steps(model_name, 1, side, batch, steps))


def parallel_single_thread(
    model_name: str, processes: int, side: int, batch: int, steps: int
) -> list[float]:
    """Seconds per step of each of ``processes`` single-thread processes running together."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=((model_name, side, batch, steps, barrier, results),))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    times = [results.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a benchmark process exited with {p.exitcode}")
    return times


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both measurements and print the table; returns the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="unet", help="unet, attention_unet, unet++, swin_unet")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--side", type=int, default=128, help="image side in pixels")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.processes < 1 or args.steps < 1 or args.batch < 1 or args.side < 16:
        parser.error("--processes, --steps and --batch must be ≥ 1 and --side ≥ 16")

    n = args.processes
    params = count_parameters(build_baseline(args.model, N_CLASSES, size="small"))
    one = train_steps(args.model, n, args.side, args.batch, args.steps)
    many = parallel_single_thread(args.model, n, args.side, args.batch, args.steps)
    rate_one = 1.0 / one
    rate_many = sum(1.0 / t for t in many)
    out = {
        "model": args.model,
        "parameters": params,
        "batch": [args.batch, 3, args.side, args.side],
        "processes": n,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "one_process_s_per_step": one,
        "single_thread_processes_s_per_step": many,
        "steps_per_s_one_process": rate_one,
        "steps_per_s_single_thread_processes": rate_many,
        "ratio": rate_many / rate_one,
    }
    print(
        f"{args.model} (small, {params:,} parameters), batch {args.batch} × 3 × {args.side} × "
        f"{args.side}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.steps} steps"
    )
    print("| setting | s per step | steps per s (all processes) |\n|---|---|---|")
    print(f"| 1 process × {n} threads | {one:.3f} | {rate_one:.2f} |")
    each = ", ".join(f"{t:.3f}" for t in many)
    print(f"| {n} processes × 1 thread | {each} | {rate_many:.2f} |")
    print(f"throughput ratio ({n} × 1 thread) / (1 × {n} threads): {out['ratio']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
