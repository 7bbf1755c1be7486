"""Train a declared run's training runs piece by piece into the result cache, without papermill.

``python -m medgraph.pieces --profile paper --run 02_smgnn_vs_baselines_wbc1 --models unet --seeds 0``

A declared run (``papermill_runs.yaml``) names its study (``study:``); the study
(:mod:`medgraph.studies`) turns the run's parameters into the training runs its notebook asks
the store for: five models with three seeds and about thirty ablation variants for notebook 02's
``paper`` runs, two SMGNNs for notebook 03's. This command trains any subset of them into the
result cache (:mod:`medgraph.store`) with exactly the keys the notebook will ask for, so that the
notebook, run afterwards, loads them instead of training. It needs neither papermill nor
Jupyter, so it also runs on a bare machine with PyTorch.

The parameters are resolved as the runner resolves them: the notebook's own defaults (its
``parameters`` cell), then the profile's, the run's and the run's profile-specific parameters of
``papermill_runs.yaml``, then ``--set`` overrides (checked like the runner's:
:func:`medgraph.parameters.check_parameters`).

``--dry-run`` reads and verifies every selected entry (its SHA-256) and lists each piece as
``cached``, ``stored`` (in ``trained/``), ``damaged`` (with why), ``resumes`` (cut off part-way),
``training`` (another process holds its lock) or ``to train``; it exits with status 1 when an
entry is damaged.

A piece killed part-way (a machine session ending) is not lost: the same command, run again with
the same cache, continues it from its last finished epoch, and it ends as it would have in one go.
A piece that another process is training is skipped. A damaged entry is an error; retraining it
takes ``--retrain-damaged``.

``--export DIR`` trains nothing: it writes the store form of every selected piece that the cache
holds into ``DIR``, the committed store, so that runs trained on a machine whose cache does not
survive are kept with the workbook (the study says which pieces keep their predictions on every
image, for the cell-type classifier).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medgraph.parameters import ParameterError, check_parameters, notebook_defaults
from medgraph.reporting import count_noun, repo_root
from medgraph.runs import (
    CONFIG_NAME,
    RunConfigError,
    RunSpec,
    load_config,
    load_runs,
    merge_parameters,
    parse_overrides,
)

__all__ = ["piece_parameters", "run_study", "select_pieces", "shard", "main"]


def piece_parameters(
    config_path: str | Path,
    profile: str,
    run: str,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A declared run's parameters as its notebook will see them, plus checked ``overrides``.

    Raises
    ------
    RunConfigError
        When the run is not declared for the profile or an override is not a valid parameter.
    """
    return _spec_parameters(_run_spec(config_path, profile, run), overrides)


def _spec_parameters(spec: RunSpec, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``spec``'s parameters merged over its notebook's defaults, plus ``overrides``."""
    try:
        defaults = notebook_defaults(spec.notebook)
        check_parameters(spec.notebook, dict(overrides or {}), defaults=defaults)
    except ParameterError as exc:
        raise RunConfigError(str(exc)) from None
    return merge_parameters(defaults, spec.parameters, overrides or {})


def _run_spec(config_path: str | Path, profile: str, run: str) -> RunSpec:
    """The declared run ``run`` of ``profile`` (:class:`medgraph.runs.RunSpec`)."""
    specs = load_runs(config_path, profile)
    chosen = [s for s in specs if s.name == run]
    if not chosen:
        names = [s.name for s in specs]
        raise RunConfigError(f"no run {run!r} in profile {profile!r}; its runs: {names}")
    return chosen[0]


def run_study(config_path: str | Path, run: str) -> str:
    """The ``study:`` a declared run names in ``papermill_runs.yaml``.

    Raises
    ------
    RunConfigError
        When the run is not declared or names no study.
    """
    for entry in load_config(config_path)["runs"]:
        if entry.get("name") == run:
            if not entry.get("study"):
                raise RunConfigError(f"run {run!r} names no study in {config_path}")
            return str(entry["study"])
    raise RunConfigError(f"no run {run!r} in {config_path}")


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m medgraph.pieces",
        description="Train the training runs of a declared run into the result cache.",
    )
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--run", required=True, help="a run declared in papermill_runs.yaml")
    parser.add_argument("--config", default=None, help=f"default: <root>/{CONFIG_NAME}")
    parser.add_argument("--groups", nargs="*", help="the study's groups to select; default all")
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
        "N processes can share the pieces",
    )
    parser.add_argument("--dry-run", action="store_true", help="verify and list, train nothing")
    parser.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="train nothing; write the store form of every selected cached piece into DIR "
        "(the committed store: trained/)",
    )
    parser.add_argument("--progress", action="store_true", help="tqdm bars while training")
    parser.add_argument(
        "--retrain-damaged",
        action="store_true",
        help="train a piece again when its entry fails its checksum (never by default)",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="start no further piece once this many seconds have passed plus the longest piece "
        "so far would be exceeded (for machines lent for a few minutes)",
    )
    return parser


def _fail(message: Any) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _log_exception(cache: Path, where: str) -> Path:
    """Write the current exception's traceback to a log file under the cache; return its path."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = cache / "logs" / f"pieces-{stamp}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{where}\n{traceback.format_exc()}\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    root = repo_root() if args.config is None else Path(args.config).resolve().parent
    config_path = Path(args.config) if args.config else root / CONFIG_NAME
    try:
        spec = _run_spec(config_path, args.profile, args.run)
        params = _spec_parameters(spec, parse_overrides(args.overrides))
        from medgraph.studies import get_study

        study = get_study(run_study(config_path, args.run))
        if not study.trains:
            print(f"{args.run}: study {study.name} trains nothing")
            return 0
        unknown = sorted(set(args.groups or ()) - set(study.groups))
        if unknown:
            raise RunConfigError(f"unknown groups {unknown}; this study has {list(study.groups)}")
        if args.shard is not None:
            shard([], args.shard)  # a malformed --shard fails before the data are read
    except (RunConfigError, KeyError) as exc:
        return _fail(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)

    from medgraph.data import DataError
    from medgraph.options import RunOptions, split_settings
    from medgraph.store import resolve_result_cache

    cache = resolve_result_cache(args.cache or params.get("result_cache") or "auto")
    assert cache is not None
    try:
        pieces, data = study.pieces(params)
    except DataError as exc:
        return _fail(exc)
    except KeyError as exc:
        return _fail(exc.args[0] if exc.args else exc)
    chosen = [
        p
        for p in pieces
        if (not args.groups or p.group in args.groups)
        and (not args.models or p.label in args.models or p.model in args.models)
        and (not args.seeds or p.seed in args.seeds)
    ]
    if not chosen:
        return _fail("no piece matches the filters" if pieces else "the study plans no run")
    _, config_options = split_settings(params.get("config"))
    options = RunOptions(
        device=args.device or params.get("device") or "auto",
        progress=args.progress,
        result_cache=cache,
        retrain_damaged=args.retrain_damaged,
        wait_for_lock=False,
        superpixel_cache=config_options.get("superpixel_cache"),
    )
    # one piece per distinct run: e.g. λ = 0.1, the GIN row and "SMGNN + metric, S = 16" of the
    # ablations are the same run, trained once (and never by two shards at the same time)
    by_key: dict[str, tuple[Any, Any]] = {}
    for piece in chosen:
        key = piece.recipe.key(study.name, piece.request)
        by_key.setdefault(key.digest, (piece, key))
    todo = list(by_key.values())
    if args.shard is not None:
        todo = shard(todo, args.shard)
    where = f"; {data.name} ({data.source})" if hasattr(data, "source") else ""
    print(
        f"{args.run} ({args.profile}, study {study.name}): {count_noun(len(chosen), 'piece')}, "
        f"{count_noun(len(by_key), 'distinct run')}"
        + (f", shard {args.shard}: {len(todo)}" if args.shard else "")
        + f"{where}; cache {cache}"
    )
    if args.export is not None:
        return _export(todo, Path(args.export), params, study, options)
    if args.dry_run:
        return _dry_run(todo, options)
    return _train(todo, study.name, options, cache, args.budget_s)


def _where(piece: Any) -> str:
    return f"{piece.group:10s} {piece.label:28s} seed {piece.seed}"


def _dry_run(todo: Sequence[Any], options: Any) -> int:
    from medgraph.store import entry_status

    damaged = 0
    for piece, key in todo:
        state, path, detail = entry_status(key, options)
        shown = path.name if path is not None else key.file_name
        print(f"{_where(piece)}  {state:8s}  {shown}")
        if state == "damaged":
            damaged += 1
            print(f"    {detail}")
    if damaged:
        what = "1 damaged entry" if damaged == 1 else f"{damaged} damaged entries"
        print(f"{what}: see above", file=sys.stderr)
        return 1
    return 0


def _train(
    todo: Sequence[Any], study: str, options: Any, cache: Path, budget_s: float | None
) -> int:
    from medgraph.store import RunLockedError, StoreIntegrityError, obtain

    began, longest, done, failed = time.perf_counter(), 0.0, 0, 0
    for piece, key in todo:
        elapsed = time.perf_counter() - began
        if budget_s is not None and done and elapsed + longest > budget_s:
            print(
                f"stopped after {done} of {len(todo)} runs: the budget of {budget_s:g} s would "
                f"be exceeded ({elapsed:.0f} s used, the longest took {longest:.0f} s)"
            )
            break
        where = _where(piece)
        start = time.perf_counter()
        try:
            run = obtain(piece.recipe, study, piece.request, options)
        except RunLockedError as exc:
            print(f"{where}  skipped: {exc}", flush=True)
            continue
        except StoreIntegrityError as exc:
            print(f"{where}  error: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: {piece.label} seed {piece.seed} stopped; started again, it "
                "resumes from its last finished epoch where its recipe keeps a resume state",
                file=sys.stderr,
            )
            return 130
        except Exception as exc:  # a failed piece: one line here, the traceback in a log file
            log = _log_exception(cache, where)
            print(
                f"{where}  failed: {type(exc).__name__}: {exc} (traceback in {log})",
                file=sys.stderr,
                flush=True,
            )
            failed += 1
            continue
        longest, done = max(longest, time.perf_counter() - start), done + 1
        how = "cached " if getattr(run, "provenance", {}).get("from_cache") else "trained"
        summary = getattr(piece.recipe, "summary", None)
        line = summary(run, piece.request) if summary is not None else ""
        print(
            f"{where}  {how} {time.perf_counter() - start:7.1f} s  {line}  {key.file_name}",
            flush=True,
        )
    return 1 if failed else 0


def _store_form(piece: Any, keep_all: bool) -> Any:
    """The recipe's committed form of a payload (None: the payload as it is)."""
    form = getattr(piece.recipe, "store_form", None)
    if form is None:
        return None
    return lambda payload: form(payload, piece.request, keep_all)


def _export(
    todo: Sequence[Any], store: Path, params: Mapping[str, Any], study: Any, options: Any
) -> int:
    """Write the store form of the cached pieces of ``todo`` into ``store``."""
    from medgraph.store import export_entry, read_entry

    keep_all = study.keeps_all_predictions
    store.mkdir(parents=True, exist_ok=True)
    written = 0
    for piece, key in todo:
        where = _where(piece)
        target = store / key.file_name
        if target.exists():
            read_entry(target, key.digest)  # a damaged store entry is an error, not "exported"
            print(f"{where}  already in {store}")
            continue
        source = options.cache_path / key.file_name
        if not source.exists():
            print(f"{where}  not cached, skipped")
            continue
        full = bool(keep_all(params, piece.group, piece.seed)) if keep_all is not None else False
        export_entry(source, target, _store_form(piece, full))
        written += 1
        size = target.stat().st_size / 1e6
        extra = ", with predictions of every image" if full else ""
        print(f"{where}  exported {size:.2f} MB{extra}  {target}", flush=True)
    print(f"{written} entries written to {store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
