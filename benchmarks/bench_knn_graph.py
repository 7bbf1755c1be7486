"""Benchmark: blocked cosine kNN graph of embeddings against scikit-learn's brute-force search.

The kNN-GCN leukemia classifier of the seed study joins every image (a 512-d ResNet-18
embedding) to its k most cosine-similar images, with scikit-learn's ``NearestNeighbors``.
:func:`medgraph.graphs.cosine_knn_graph` does the same in row blocks of torch matrix products
and ``topk``. This script measures, in one run on one machine, on N random embeddings (standard
normal, float32, seeded; random data has no exact ties),

1. ours: ``cosine_knn_graph(x, k, block_size=B)`` (the whole graph, symmetric edges included),
2. scikit-learn: ``NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute")
   .fit(x).kneighbors(x)``, with each sample's own entry dropped,

and prints the seconds of each, the ratio sklearn / ours (> 1: ours is faster), the fraction of
rows whose neighbour *sets* are identical (the rows that differ are checked in float64: a
difference is a float32 near-tie when the swapped neighbours' cosines are within 1e-6 of each
other), and the peak memory of each. Every method runs in its own subprocess (this script
with ``--method``), which records ``ru_maxrss`` after creating x and its imports (the baseline)
and again after the search; the difference is the method's peak. Beside it stands the
theoretical block buffer ``B·N·4`` bytes and the dense similarity matrix ``N²·4`` bytes that a
non-blocked method would hold (40 GB at N = 100 000).

Targets (printed as PASS/FAIL lines):

- speed: ours at least as fast as scikit-learn (ratio ≥ 1);
- correctness: identical neighbour sets in every row;
- memory: ours' peak ≤ 2·(B·N·4 + N·D·4) + 256 MiB, i.e. bounded by the block buffer plus the
  normalised copy of x, and ≪ N²·4.

Seen (N = 100 000, D = 512, k = 10, float32, a 2-core CPU shared with other jobs, torch 2.13,
scikit-learn 1.9.1): ours 71 s vs scikit-learn 265 s (3.7×; an earlier run under load from
other jobs, 210 s vs 323 s, 1.5×); peak − baseline 1108 MiB for ours (block buffer 781 MiB)
vs 1555 MiB for scikit-learn; dense N²·4 would be 37 GiB. Identical sets in 0.99997 of rows:
3 rows differ, each by one swapped pair whose float64 cosines differ by ≤ 6.1e-8 (float32
near-ties; float64 arbitration: ours exact in 2, scikit-learn in 1), so the strict identity
check prints FAIL. Block sweep: 512 → 122 s / 521 MiB, 2048 → 80 s / 1092 MiB, 8192 →
84 s / 3456 MiB.

Usage::

    python benchmarks/bench_knn_graph.py [--n 100000] [--dim 512] [--k 10]
        [--block-size 2048] [--threads N] [--device cpu] [--sweep-blocks 512,2048,8192]
        [--seed 0] [--json PATH]

Quick check: ``--n 20000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "lib") not in sys.path:
    sys.path.insert(0, str(REPO / "lib"))

import numpy as np  # noqa: E402

MiB = 2**20
NEAR_TIE = 1e-6


def make_embeddings(n: int, dim: int, seed: int) -> np.ndarray:
    """(n, dim) float32 standard-normal embeddings, drawn directly in float32 (no copy)."""
    return np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)


def _max_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def run_method(args: argparse.Namespace) -> dict[str, Any]:
    """Child mode: build the kNN of one method, save the neighbours, return time and peak.

    Returns
    -------
    dict
        ``seconds``, ``baseline_bytes`` (max RSS after imports and x), ``peak_bytes`` (max RSS
        after the search), ``peak_delta_bytes`` (their difference) and, on CUDA,
        ``cuda_peak_bytes``.
    """
    threads = args.threads or os.cpu_count() or 1
    x = make_embeddings(args.n, args.dim, args.seed)
    out: dict[str, Any] = {"method": args.method, "block_size": args.block_size}
    if args.method == "ours":
        import torch

        from medgraph.graphs import cosine_knn_graph

        torch.set_num_threads(threads)
        xt = torch.from_numpy(x)  # shares memory with x
        # warm-up (thread pool, lazy kernels) on a tiny slice, not timed
        cosine_knn_graph(xt[:256], args.k, block_size=64, device=args.device)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        baseline = _max_rss_bytes()
        t0 = time.perf_counter()
        graph = cosine_knn_graph(xt, args.k, block_size=args.block_size, device=args.device)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
            out["cuda_peak_bytes"] = int(torch.cuda.max_memory_allocated())
        seconds = time.perf_counter() - t0
        neighbours = graph.neighbours.cpu().numpy()
        out["edges"] = graph.n_edges
    elif args.method == "sklearn":
        from sklearn.neighbors import NearestNeighbors
        from threadpoolctl import threadpool_limits

        with threadpool_limits(threads):
            baseline = _max_rss_bytes()
            t0 = time.perf_counter()
            nn = NearestNeighbors(n_neighbors=args.k + 1, metric="cosine", algorithm="brute")
            _, ind = nn.fit(x).kneighbors(x)
            seconds = time.perf_counter() - t0
        # drop each sample's own entry (the last column where, by rounding, it is absent)
        keep = ind != np.arange(args.n)[:, None]
        keep[keep.all(axis=1), -1] = False
        neighbours = ind[keep].reshape(args.n, args.k)
    else:
        raise ValueError(f"unknown method {args.method!r}")
    peak = _max_rss_bytes()
    np.save(args.out, neighbours.astype(np.int64))
    out.update(
        seconds=seconds,
        threads=threads,
        baseline_bytes=baseline,
        peak_bytes=peak,
        peak_delta_bytes=peak - baseline,
    )
    return out


def _spawn(args: argparse.Namespace, method: str, block: int, out: Path) -> dict[str, Any]:
    """Run one method in a fresh interpreter (its own ``ru_maxrss``) and parse its JSON line."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--method",
        method,
        "--out",
        str(out),
        "--n",
        str(args.n),
        "--dim",
        str(args.dim),
        "--k",
        str(args.k),
        "--block-size",
        str(block),
        "--device",
        args.device,
        "--seed",
        str(args.seed),
    ]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} (block {block}) failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_sets(ours: np.ndarray, ref: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """Fraction of rows with identical neighbour sets; the others arbitrated in float64.

    For a row whose sets differ, the exact answer is computed in float64 (that row's cosines
    against all N samples, the k largest, ties by lower index) and each method is scored
    against it; the row is a near-tie when the float64 cosines of the neighbours only one
    method chose differ by at most ``NEAR_TIE``.
    """
    k = ours.shape[1]
    same = (np.sort(ours, axis=1) == np.sort(ref, axis=1)).all(axis=1)
    differ = np.flatnonzero(~same)
    max_gap = 0.0
    rows = []
    if differ.size:
        x64 = x.astype(np.float64)
        x64 /= np.linalg.norm(x64, axis=1, keepdims=True)
    for i in differ[:1000]:  # differing rows only (few)
        cos = x64 @ x64[i]
        cos[i] = -np.inf
        exact = np.argsort(-cos, kind="stable")[:k]
        swapped = np.setxor1d(ours[i], ref[i])
        gap = float(cos[swapped].max() - cos[swapped].min())
        max_gap = max(max_gap, gap)
        rows.append(
            {
                "row": int(i),
                "swapped": swapped.tolist(),
                "cos64_swapped": cos[swapped].tolist(),
                "ours_exact": bool(set(ours[i]) == set(exact)),
                "sklearn_exact": bool(set(ref[i]) == set(exact)),
            }
        )
    return {
        "identical_fraction": float(same.mean()),
        "rows_differing": int(differ.size),
        "max_cos_gap_of_differences": max_gap,
        "differences_are_near_ties": bool(max_gap <= NEAR_TIE),
        "differing_rows_ours_exact": sum(r["ours_exact"] for r in rows),
        "differing_rows_sklearn_exact": sum(r["sklearn_exact"] for r in rows),
        "differing_rows": rows,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison and print a table; returns what it printed as a dict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="samples N")
    parser.add_argument("--dim", type=int, default=512, help="embedding dimension D")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=2048, help="query rows per block")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of both (default: all cores)"
    )
    parser.add_argument("--device", default="cpu", help="device of ours (sklearn: CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sweep-blocks", default="", help="further block sizes to time, e.g. 512,2048,8192"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--method", choices=["ours", "sklearn"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.method:  # child: one method, one JSON line on stdout
        result = run_method(args)
        print(json.dumps(result))
        return result

    n, d, k, b = args.n, args.dim, args.k, args.block_size
    sweep = tuple(int(s) for s in args.sweep_blocks.split(",") if s.strip())
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ours = _spawn(args, "ours", b, tmpdir / "ours.npy")
        skl = _spawn(args, "sklearn", b, tmpdir / "sklearn.npy")
        nb_ours = np.load(tmpdir / "ours.npy")
        nb_skl = np.load(tmpdir / "sklearn.npy")
        swept = []
        for sb in sweep:
            r = _spawn(args, "ours", sb, tmpdir / f"ours_{sb}.npy")
            nb = np.load(tmpdir / f"ours_{sb}.npy")
            r["identical_fraction"] = float(
                (np.sort(nb, axis=1) == np.sort(nb_skl, axis=1)).all(axis=1).mean()
            )
            swept.append(r)
    x = make_embeddings(n, d, args.seed)
    sets = compare_sets(nb_ours, nb_skl, x)

    buffer_bytes = b * n * 4
    bound = 2 * (buffer_bytes + n * d * 4) + 256 * MiB
    dense = n * n * 4
    ratio = skl["seconds"] / ours["seconds"]
    checks = {
        "speed": ratio >= 1.0,
        "identical_sets": sets["identical_fraction"] == 1.0,
        "memory": ours["peak_delta_bytes"] <= bound,
    }
    import sklearn
    import torch

    out = {
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "device": args.device,
        "n": n,
        "dim": d,
        "k": k,
        "block_size": b,
        "ours": ours,
        "sklearn_run": skl,
        "ratio_sklearn_over_ours": ratio,
        **sets,
        "block_buffer_bytes": buffer_bytes,
        "memory_bound_bytes": bound,
        "dense_matrix_bytes": dense,
        "sweep": swept,
        "checks": checks,
    }

    print(
        f"N={n} × D={d}, k={k}, float32, ours on {args.device} (block {b}), "
        f"torch {torch.__version__}, sklearn {sklearn.__version__}, {ours['threads']} threads"
    )
    print(f"{'method':<22} {'seconds':>9} {'peak − baseline':>16} {'baseline RSS':>13}")
    for name, r in ((f"ours (block {b})", ours), ("sklearn brute cosine", skl)):
        print(
            f"{name:<22} {r['seconds']:>9.2f} {r['peak_delta_bytes'] / MiB:>12.0f} MiB "
            f"{r['baseline_bytes'] / MiB:>9.0f} MiB"
        )
    if "cuda_peak_bytes" in ours:
        print(f"ours CUDA peak allocated: {ours['cuda_peak_bytes'] / MiB:.0f} MiB")
    print(f"ratio sklearn / ours: {ratio:.2f}× (> 1: ours faster)")
    print(
        f"identical neighbour sets: {sets['identical_fraction']:.6f} of rows "
        f"({sets['rows_differing']} differ; largest float64 cosine gap among swapped "
        f"neighbours {sets['max_cos_gap_of_differences']:.2e})"
    )
    if sets["rows_differing"]:
        print(
            f"  of the differing rows, float64 arbitration: ours exact in "
            f"{sets['differing_rows_ours_exact']}, sklearn exact in "
            f"{sets['differing_rows_sklearn_exact']}"
        )
    print(
        f"block buffer B·N·4 = {buffer_bytes / MiB:.0f} MiB; x and its normalised copy "
        f"N·D·4 = {n * d * 4 / MiB:.0f} MiB each; dense N²·4 = {dense / 2**30:.1f} GiB"
    )
    for r in swept:
        print(
            f"  block {r['block_size']:>6}: {r['seconds']:8.2f} s, peak − baseline "
            f"{r['peak_delta_bytes'] / MiB:7.0f} MiB (buffer {r['block_size'] * n * 4 / MiB:.0f} "
            f"MiB), identical sets {r['identical_fraction']:.6f}"
        )
    print(f"{'PASS' if checks['speed'] else 'FAIL'} speed: ours ≥ sklearn ({ratio:.2f}×)")
    tie_note = (
        ""
        if checks["identical_sets"]
        else (" (differences are float32 near-ties)" if sets["differences_are_near_ties"] else "")
    )
    print(
        f"{'PASS' if checks['identical_sets'] else 'FAIL'} identical neighbour sets "
        f"({sets['identical_fraction']:.6f}){tie_note}"
    )
    print(
        f"{'PASS' if checks['memory'] else 'FAIL'} memory: ours' peak "
        f"{ours['peak_delta_bytes'] / MiB:.0f} MiB ≤ 2·(B·N·4 + N·D·4) + 256 MiB = "
        f"{bound / MiB:.0f} MiB (dense: {dense / MiB:.0f} MiB)"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
