"""Train notebook 02's and 03's runs piece by piece into the result cache, without papermill.

``python -m medgraph.pieces --profile paper --run 02_smgnn_vs_baselines_wbc1 --models unet --seeds 0``

A declared run of notebook 02 (``papermill_runs.yaml``) trains many models: five models with three
seeds and about thirty ablation variants in the ``paper`` profile; a run of notebook 03 trains
two SMGNNs (with and without the metric loss, group ``metric``). This command trains any subset
of them into the result cache (:mod:`medgraph.result_cache`) with exactly the inputs the notebook
will ask for, so that the notebook, run afterwards, loads them instead of training. It needs
neither papermill nor Jupyter, so it also runs on a bare machine with PyTorch (a GPU lent for a
few minutes), whose cache entries are then copied into this machine's cache folder.

The parameters are resolved as the runner resolves them: the notebook's own defaults (its
``parameters`` cell), then the profile's, the run's and the run's profile-specific parameters of
``papermill_runs.yaml``, then ``--set`` overrides; :func:`medgraph.experiments.notebook_study`
turns them into the runs the notebook trains. ``--dry-run`` lists the selected pieces and whether
each is already in the cache or in a committed store (``trained/``), or was cut off part-way.

A piece killed part-way (a machine session ending) is not lost: the same command, run again with
the same cache, continues it from its last finished epoch (the resume state in ``<cache>/partial/``,
:mod:`medgraph.result_cache`), and it ends as it would have in one go.

``--export DIR`` trains nothing: it writes the store form (:func:`medgraph.result_cache.slim_entry`)
of every selected piece that the cache holds into ``DIR``, the committed store, so that runs
trained on a machine whose cache does not survive are kept with the workbook. The runs whose
segmentations feed the cell-type classifier (the comparison's first seed, when the run classifies)
keep their predictions on every image.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medgraph.reporting import count_noun, repo_root
from medgraph.runs import (
    CONFIG_NAME,
    RunConfigError,
    RunSpec,
    load_runs,
    merge_parameters,
    parse_overrides,
)

__all__ = ["notebook_defaults", "piece_parameters", "select_pieces", "shard", "main"]


def notebook_defaults(notebook: str | Path) -> dict[str, Any]:
    """The values assigned in a notebook's ``parameters`` cell (the cell is executed alone).

    Parameters
    ----------
    notebook : path of an ``.ipynb`` with exactly one cell tagged ``parameters``

    Returns
    -------
    dict of the names the cell assigns (modules and private names left out)
    """
    path = Path(notebook)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunConfigError(f"cannot read notebook {path}: {exc}") from None
    cells = [
        c
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise RunConfigError(f"{path} has {len(cells)} cells tagged 'parameters', expected one")
    source = cells[0]["source"]
    namespace: dict[str, Any] = {}
    exec("".join(source) if isinstance(source, list) else source, namespace)  # noqa: S102
    return {
        k: v
        for k, v in namespace.items()
        if not k.startswith("_") and not hasattr(v, "__spec__") and not callable(v)
    }


def piece_parameters(
    config_path: str | Path,
    profile: str,
    run: str,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A declared run's parameters as its notebook will see them, plus ``overrides``.

    Raises
    ------
    RunConfigError
        When the run is not declared for the profile.
    """
    return _spec_parameters(_run_spec(config_path, profile, run), overrides)


def _spec_parameters(spec: RunSpec, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``spec``'s parameters merged over its notebook's defaults, plus ``overrides``."""
    return merge_parameters(notebook_defaults(spec.notebook), spec.parameters, overrides or {})


def _run_spec(config_path: str | Path, profile: str, run: str) -> RunSpec:
    """The declared run ``run`` of ``profile`` (:class:`medgraph.runs.RunSpec`)."""
    specs = load_runs(config_path, profile)
    chosen = [s for s in specs if s.name == run]
    if not chosen:
        names = [s.name for s in specs]
        raise RunConfigError(f"no run {run!r} in profile {profile!r}; its runs: {names}")
    return chosen[0]


def select_pieces(
    study: Mapping[str, Any],
    groups: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
) -> list[tuple[str, str, int]]:
    """``(group, label, seed)`` of the study's runs that match every given filter.

    ``models`` matches a variant's label or its model name; ``None`` selects everything.
    """
    unknown = sorted(set(groups or ()) - set(study))
    if unknown:
        raise RunConfigError(f"unknown groups {unknown}; this run has {list(study)}")
    chosen = []
    for name, group in study.items():
        if groups and name not in groups:
            continue
        for label, (model, _) in group.variants.items():
            if models and label not in models and model not in models:
                continue
            chosen += [(name, label, s) for s in group.seeds if not seeds or s in seeds]
    return chosen


def shard(pieces: Sequence[Any], spec: str) -> list[Any]:
    """The ``I``-th of ``N`` interleaved shares of ``pieces`` (``spec`` is ``"I/N"``, 1-based)."""
    try:
        i, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise RunConfigError(f"--shard expects I/N with integers, got {spec!r}") from None
    if not 1 <= i <= n:
        raise RunConfigError(f"--shard {spec}: need 1 ≤ I ≤ N")
    return list(pieces[i - 1 :: n])


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m medgraph.pieces",
        description="Train runs of notebooks 02 and 03 into the result cache, piece by piece.",
    )
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--run", required=True, help="a declared run of notebook 02 or 03")
    parser.add_argument("--config", default=None, help=f"default: <root>/{CONFIG_NAME}")
    parser.add_argument(
        "--groups",
        nargs="*",
        help="comparison, lambda, gnn, scale (notebook 02) or metric (notebook 03); default: all",
    )
    parser.add_argument("--models", nargs="*", help="model names or variant labels")
    parser.add_argument("--seeds", nargs="*", type=int)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    parser.add_argument("--cache", default=None, help="cache folder (default: the run's)")
    parser.add_argument("--device", default=None, help="default: the run's (auto)")
    parser.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="train only every N-th selected piece, starting with the I-th (1 ≤ I ≤ N), so that "
        "N processes can share the pieces (e.g. on one GPU that a small model leaves idle)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list the pieces, train nothing")
    parser.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="train nothing; write the store form of every selected cached piece into DIR "
        "(the committed store: trained/)",
    )
    parser.add_argument("--progress", action="store_true", help="tqdm bars while training")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="start no further piece once this many seconds have passed plus the longest piece "
        "so far would be exceeded (for machines lent for a few minutes)",
    )
    args = parser.parse_args(argv)

    root = repo_root() if args.config is None else Path(args.config).resolve().parent
    config_path = Path(args.config) if args.config else root / CONFIG_NAME
    try:
        spec = _run_spec(config_path, args.profile, args.run)  # the YAML is read once
        params = _spec_parameters(spec, parse_overrides(args.overrides))
        from medgraph.experiments import notebook_study

        study, split_seed = notebook_study(spec.notebook, params)
        chosen = select_pieces(study, args.groups, args.models, args.seeds)
        if args.shard is not None:
            shard([], args.shard)  # a malformed --shard fails before the data are read
    except (RunConfigError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
    if not chosen:
        print("error: no piece matches the filters", file=sys.stderr)
        return 2

    from medgraph.data import DataUnavailableError
    from medgraph.experiments import compare_segmentation_models, load_study_data
    from medgraph.result_cache import (
        PARTIAL,
        entry_path,
        resolve_result_cache,
        result_stores,
        run_keys,
    )
    from medgraph.segmentation import SegmentationConfig, summarize_segmentation

    cache = resolve_result_cache(args.cache or params.get("result_cache") or "auto")
    assert cache is not None
    try:
        data, splits = load_study_data(
            params["dataset"],
            params["data_source"],
            params["data_root"],
            params["n_phantoms"],
            split_seed,
        )
    except DataUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    device = args.device or params.get("device") or "auto"
    # one entry per distinct run: e.g. λ = 0.1, the GIN row and "SMGNN + metric, S = 16" of the
    # ablations are the same run, trained once (and never by two shards at the same time)
    # (the path under the current code's key; the names under every equivalent key)
    plan: dict[Path, tuple[str, str, int, str, dict[str, Any], Any, list[str]]] = {}
    for name, label, seed in chosen:
        group = study[name]
        model, overrides = group.variants[label]
        cfg = SegmentationConfig.from_any(group.config, progress=args.progress, **overrides)
        names = [
            entry_path(cache, model, seed, key).name
            for key in run_keys(model, data, splits, cfg, seed)
        ]
        plan.setdefault(cache / names[0], (name, label, seed, model, overrides, cfg, names))
    todo = list(plan.items())
    if args.shard is not None:
        todo = shard(todo, args.shard)
    print(
        f"{args.run} ({args.profile}): {count_noun(len(chosen), 'piece')}, "
        f"{count_noun(len(plan), 'distinct run')}"
        + (f", shard {args.shard}: {len(todo)}" if args.shard else "")
        + f"; {data.name} ({data.source}); cache {cache}"
    )
    if args.export is not None:
        return _export(todo, Path(args.export), data, params)
    stores = result_stores()
    began, longest, done = time.perf_counter(), 0.0, 0
    for path, (name, label, seed, model, overrides, cfg, names) in todo:
        elapsed = time.perf_counter() - began
        if args.budget_s is not None and done and elapsed + longest > args.budget_s:
            print(
                f"stopped after {done} of {len(todo)} runs: the budget of "
                f"{args.budget_s:g} s would be exceeded ({elapsed:.0f} s used, the longest "
                f"took {longest:.0f} s)"
            )
            break
        where = f"{name:10s} {label:28s} seed {seed}"
        if args.dry_run:
            found = [
                (state, folder / n)
                for state, folder in [("cached", cache)] + [("stored", st) for st in stores]
                for n in names
                if (folder / n).exists()
            ]
            if not found and (cache / PARTIAL / path.name).exists():
                found = [("resumes", cache / PARTIAL / path.name)]
            state, shown = found[0] if found else ("to train", path)
            print(f"{where}  {state:8s}  {shown.name}")
            continue
        start = time.perf_counter()
        runs, scores = compare_segmentation_models(
            data, {label: (model, overrides)}, [seed], splits, cfg, device, result_cache=cache
        )
        run = runs[(label, seed)]
        longest, done = max(longest, time.perf_counter() - start), done + 1
        summary = summarize_segmentation(
            scores[["image", "class_index", "class_name", "dice"]], metrics=["dice"]
        )
        how = "cached " if run.provenance.get("from_cache") else "trained"
        print(
            f"{where}  {how} {time.perf_counter() - start:7.1f} s  "
            f"test Dice 3cls {summary.loc['dice', 'all_classes']:.4f} "
            f"cell {summary.loc['dice', 'cell_classes']:.4f}  {path.name}",
            flush=True,
        )
    return 0


def _export(todo: Sequence[Any], store: Path, data: Any, params: Mapping[str, Any]) -> int:
    """Write the store form of the cached pieces of ``todo`` into ``store``; see the module notes."""
    from medgraph.experiments import classifies_cell_types
    from medgraph.result_cache import slim_entry

    classify = classifies_cell_types(params.get("run_classification"), str(params.get("dataset")))
    first_seed = int(list(params.get("seeds") or [0])[0])
    store.mkdir(parents=True, exist_ok=True)
    written = 0
    for path, (name, label, seed, *_rest, names) in todo:
        where = f"{name:10s} {label:28s} seed {seed}"
        if any((store / n).exists() for n in names):
            print(f"{where}  already in {store}")
            continue
        cached = [path.parent / n for n in names if (path.parent / n).exists()]
        if not cached:
            print(f"{where}  not cached, skipped")
            continue
        path = cached[0]
        target = store / path.name
        keep_all = bool(classify) and name == "comparison" and int(seed) == first_seed
        slim_entry(path, target, data if keep_all else None)
        written += 1
        size = target.stat().st_size / 1e6
        extra = ", with predictions of every image" if keep_all else ""
        print(f"{where}  exported {size:.2f} MB{extra}  {target}", flush=True)
    print(f"{written} entries written to {store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
