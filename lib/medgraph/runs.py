"""The papermill runner: every declared run of ``papermill_runs.yaml``, one command.

``python -m medgraph.runs --profile quick [--only 01] [--list]``

``--set KEY=VALUE`` overrides a parameter of the selected runs, for instance to train one model
and seed of notebook 02 into the result cache (:mod:`medgraph.result_cache`) on a machine of its
own; it needs ``--reports-dir``, so that such partial reports never replace the profile's.

For each run of the profile the runner merges the parameters (the profile's defaults, then the
run's own, then the run's profile-specific overrides; a dict-valued parameter such as ``config``
is merged key by key). Before anything is executed, every selected run's parameters are checked
against its notebook's ``parameters`` cell (:func:`medgraph.parameters.check_parameters`: known
names, the defaults' types, the ranges of :data:`medgraph.parameters.RULES`); one that fails stops
the runner with one line ``error: <run>: <message>`` and exit status 2.

The runner then takes ``reports/<profile>/.runner.lock`` (one runner per profile folder at a
time; a second one stops with exit status 2), adds ``profile``, ``run_name`` and ``output_dir`` to
each run's parameters and executes its notebook with papermill in a staging folder of its own,
``reports/<profile>/.staging/<run>.<pid>/``. A run that finishes with a complete ``results.json``,
whose every listed table and figure file exists, replaces ``reports/<profile>/<run>/`` in one
rename. A run that fails leaves the previous report untouched, keeps its partial outputs, its
executed notebook and ``FAILED.txt`` (the full traceback) under ``reports/<profile>/_failed/<run>/``
for inspection, and the runner goes on with the next run. At the end the index
``reports/<profile>/README.md`` is rewritten and the exit status is 1 if any run failed. Ctrl-C
stops the runner at once: the interrupted run's staging folder is deleted, no report and not the
index is changed, and the exit status is 130. No ``.staging`` entry is left behind in any case.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from medgraph.report_index import write_index
from medgraph.reporting import atomic_write_text, repo_root
from medgraph.run_config import (
    CONFIG_NAME,
    RunConfigError,
    RunSpec,
    check_runs,
    load_config,
    load_runs,
    merge_parameters,
    parse_overrides,
)

__all__ = [
    "RunSpec",
    "RunOutcome",
    "portable_notebook",
    "load_runs",
    "merge_parameters",
    "parse_overrides",
    "check_runs",
    "runner_lock",
    "execute_run",
    "write_index",
    "RunnerBusyError",
    "RunInterrupted",
    "main",
]

LOCK_NAME = ".runner.lock"
STAGING_NAME = ".staging"


class RunnerBusyError(RuntimeError):
    """Another runner holds the lock of the profile folder."""

    def __init__(self, pid: str, folder: Path) -> None:
        self.pid = pid
        self.folder = folder
        super().__init__(f"another runner (pid {pid}) is writing {folder}; wait for it to finish")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; its staging folder has been deleted and no report changed."""

    def __init__(self, run: str, seconds: float) -> None:
        self.run = run
        self.seconds = seconds
        super().__init__(run, seconds)


@dataclass
class RunOutcome:
    """What happened to one run."""

    spec: RunSpec
    ok: bool
    seconds: float
    error: str = ""
    report_dir: Path | None = None
    log: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def runner_lock(profile_dir: Path) -> Iterator[Path]:
    """Hold ``profile_dir/.runner.lock`` (an exclusive ``flock``) for the ``with`` block.

    The lock file holds the holder's pid and is removed when the block ends, however it ends.

    Parameters
    ----------
    profile_dir : the folder the runner writes (created if missing)

    Yields
    ------
    the lock file's path

    Raises
    ------
    RunnerBusyError
        When another process holds the lock (it is not waited for).
    """
    import fcntl

    profile_dir.mkdir(parents=True, exist_ok=True)
    path = profile_dir / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise RunnerBusyError(holder, profile_dir) from None
        # the previous holder removes the file on release: if it did so after we opened it, the
        # lock we hold is on a file nobody else will open; lock the one that is there instead
        try:
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield path
    finally:
        with suppress(FileNotFoundError):
            path.unlink()  # still holding the lock: see the check above
        os.close(fd)  # releases the lock


def _replace_dir(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest``, replacing it with one rename (old copy removed afterwards)."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
    try:
        src.rename(dest)
    except BaseException:
        if old is not None:
            old.rename(dest)  # put the previous copy back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_empty(folder: Path) -> None:
    with suppress(OSError):  # missing, or not empty
        folder.rmdir()


def _check_results(staging: Path) -> str:
    """Why the run in ``staging`` may not be published ("" when it may)."""
    results = staging / "results.json"
    if not results.exists():
        return "the notebook finished without writing results.json (no Report.finish())"
    try:
        payload = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"results.json cannot be read: {exc}"
    if not isinstance(payload, dict) or payload.get("status") != "complete":
        return "results.json is not marked complete"
    listed = []
    for table in payload.get("tables") or []:
        listed += [table.get("csv"), table.get("md")]
    listed += [figure.get("file") for figure in payload.get("figures") or []]
    root = staging.resolve()
    for name in listed:
        if not isinstance(name, str) or not name:
            return f"results.json lists a table or figure without a file name ({name!r})"
        target = (staging / name).resolve()
        if not target.is_relative_to(root):
            return f"results.json lists {name}, which is outside the run's folder"
        if not target.is_file():
            return f"results.json lists {name}, which the run did not write"
    return ""


def execute_run(
    spec: RunSpec, reports_dir: Path, root: Path, log_output: bool = False
) -> RunOutcome:
    """Execute one run with papermill into staging, then promote it or file it under _failed.

    Parameters
    ----------
    spec : the run
    reports_dir : the reports root (the run goes to ``reports_dir/<profile>/<run>/``)
    root : the working directory of the notebook
    log_output : stream the notebook's output

    Returns
    -------
    RunOutcome
        ``ok`` when the run was promoted; otherwise ``report_dir`` is ``_failed/<run>/`` and
        ``log`` its ``FAILED.txt``.

    Raises
    ------
    RunInterrupted
        On Ctrl-C during the notebook; the staging folder is deleted, no report changed.
    """
    import papermill as pm

    profile_dir = reports_dir / spec.profile
    staging_root = profile_dir / STAGING_NAME
    staging = staging_root / f"{spec.name}.{os.getpid()}"
    final = profile_dir / spec.name
    failed = profile_dir / "_failed" / spec.name
    start = time.perf_counter()
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        params = {
            **spec.parameters,
            "profile": spec.profile,
            "run_name": spec.name,
            "output_dir": str(staging.resolve()),
        }
        error = details = ""
        try:
            pm.execute_notebook(
                str(spec.notebook),
                str(staging / spec.notebook.name),
                parameters=params,
                cwd=str(root),
                kernel_name="python3",
                progress_bar=False,
                log_output=log_output,
            )
            error = _check_results(staging)
        except KeyboardInterrupt:
            raise RunInterrupted(spec.name, time.perf_counter() - start) from None
        except Exception as exc:  # papermill raises PapermillExecutionError with the traceback
            error, details = _short_error(exc), _details(exc)
        seconds = time.perf_counter() - start
        if error:
            # keep the partial outputs for inspection, away from the published reports
            (staging / "results.json").unlink(missing_ok=True)
            failed.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(
                staging / "FAILED.txt",
                f"{spec.name} failed after {seconds:.1f} s\n{error}\n"
                + (f"\n{details.strip()}\n" if details else ""),
            )
            _replace_dir(staging, failed)
            return RunOutcome(
                spec,
                ok=False,
                seconds=seconds,
                error=error,
                report_dir=failed,
                log=failed / "FAILED.txt",
            )
        if failed.exists():
            shutil.rmtree(failed)
        portable_notebook(staging / spec.notebook.name, root, {staging: final})
        _replace_dir(staging, final)
        return RunOutcome(spec, ok=True, seconds=seconds, report_dir=final)
    finally:
        # promoted, filed under _failed, or abandoned: no staging entry outlives its run
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(staging_root)


def portable_notebook(path: Path, root: Path, folders: Mapping[Path, Path]) -> None:
    """Rewrite an executed notebook so that it names no folder of this machine.

    The report publishes the executed notebook; papermill records its input and output paths and
    the ``output_dir`` parameter, and warnings print the files they come from. Each folder of
    ``folders`` (where it is now -> where it is published) is written relative to ``root`` (the
    repository), the rest of ``root`` as ``.``, the data folder as ``$MEDGRAPH_DATA`` and the home
    folder as ``~``. The file is replaced atomically; a missing file is left missing.
    """
    if not path.is_file():
        return
    swaps: list[tuple[str, str]] = []
    for folder, published in folders.items():
        try:
            rel = Path(published).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = Path(published).name
        swaps.append((str(Path(folder).resolve()), rel or "."))
    data = os.environ.get("MEDGRAPH_DATA")
    if data:
        swaps.append((str(Path(data).resolve()), "$MEDGRAPH_DATA"))
        swaps.append((data.rstrip("/"), "$MEDGRAPH_DATA"))
    swaps.append((str(root.resolve()), "."))
    swaps.append((str(Path.home()), "~"))
    text = path.read_text(encoding="utf-8")
    # longest first: a staging folder lies inside the repository, the repository inside home
    for old, new in sorted(swaps, key=lambda pair: -len(pair[0])):
        if len(old) > 1:
            text = text.replace(old, new)
    atomic_write_text(path, text)


def _short_error(exc: BaseException) -> str:
    """``ErrorName: message`` on one line (the notebook's exception for papermill's error)."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if ename and evalue:
        first = str(evalue).strip().splitlines()[0] if str(evalue).strip() else ""
        return f"{ename}: {first}".strip()
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _details(exc: BaseException) -> str:
    """The full traceback: the notebook cell's for papermill's error, else the runner's."""
    if hasattr(exc, "ename") and hasattr(exc, "traceback"):
        text = str(exc)  # papermill: the cell and the kernel's traceback
    else:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return _ANSI.sub("", text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m medgraph.runs", description="Execute the workbook's declared runs."
    )
    parser.add_argument("--profile", default="quick", help="profile of papermill_runs.yaml")
    parser.add_argument(
        "--only", nargs="*", help="run only the runs whose name contains one of these"
    )
    parser.add_argument("--config", default=None, help="path to papermill_runs.yaml")
    parser.add_argument("--reports-dir", default=None, help="default: <root>/reports")
    parser.add_argument("--list", action="store_true", help="list the runs and exit")
    parser.add_argument("--log-output", action="store_true", help="stream notebook output")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter of the selected runs (VALUE is YAML, e.g. models=[smgnn]; a "
        "mapping is merged into the run's mapping); only with --reports-dir, since the report "
        "then differs from the declared run (for training pieces into the result cache)",
    )
    args = parser.parse_args(argv)

    root = repo_root() if args.config is None else Path(args.config).resolve().parent
    config_path = Path(args.config) if args.config else root / CONFIG_NAME
    try:
        specs = load_runs(config_path, args.profile, args.only)
        config = load_config(config_path)
        overrides = parse_overrides(args.overrides)
    except RunConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if overrides:
        if args.reports_dir is None:
            print(
                "error: --set changes the declared runs; give --reports-dir so that their "
                "reports do not replace the profile's",
                file=sys.stderr,
            )
            return 2
        specs = [
            replace(spec, parameters=merge_parameters(spec.parameters, overrides)) for spec in specs
        ]
    if not specs:
        print(f"error: no run of profile {args.profile!r} matches {args.only}", file=sys.stderr)
        return 2
    try:
        check_runs(specs)  # before anything is executed, --list included
    except RunConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for spec in specs:
            print(f"{spec.name:40s} {spec.notebook.name:35s} {spec.parameters}")
        return 0

    reports_dir = Path(args.reports_dir) if args.reports_dir else root / "reports"
    profile_dir = reports_dir / args.profile
    try:
        with runner_lock(profile_dir):
            return _run_all(args, specs, config, config_path, root, profile_dir)
    except RunnerBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_all(
    args: argparse.Namespace,
    specs: Sequence[RunSpec],
    config: Mapping[str, Any],
    config_path: Path,
    root: Path,
    profile_dir: Path,
) -> int:
    """Execute ``specs`` and rewrite the index, with the profile folder's lock held."""
    from tqdm.auto import tqdm

    # the lock is held, so an entry of .staging is a leftover of a runner that was killed
    staging_root = profile_dir / STAGING_NAME
    if staging_root.exists():
        shutil.rmtree(staging_root, ignore_errors=True)
    outcomes: list[RunOutcome] = []
    bar = tqdm(specs, desc=f"profile {args.profile}", unit="run")
    current, started = specs[0].name, time.perf_counter()
    try:
        for spec in bar:
            current, started = spec.name, time.perf_counter()
            bar.set_postfix_str(spec.name)
            outcome = execute_run(spec, profile_dir.parent, root, log_output=args.log_output)
            outcomes.append(outcome)
            if outcome.ok:
                tqdm.write(f"[ok  ] {spec.name} {outcome.seconds:.1f} s")
            else:
                tqdm.write(
                    f"[FAIL] {spec.name} {outcome.seconds:.1f} s  {outcome.error} "
                    f"(log: {outcome.log})"
                )
    except KeyboardInterrupt as exc:
        bar.close()
        seconds = exc.seconds if isinstance(exc, RunInterrupted) else time.perf_counter() - started
        run = exc.run if isinstance(exc, RunInterrupted) else current
        print(
            f"interrupted: {run} stopped after {seconds:.0f} s; no report was changed",
            file=sys.stderr,
        )
        return 130
    finally:
        _remove_empty(staging_root)
    description = (config["profiles"][args.profile] or {}).get("description", "")
    # every run of the profile, not only the selected ones: the index lists all their reports
    run_descriptions = {s.name: s.description for s in load_runs(config_path, args.profile)}
    index = write_index(profile_dir, args.profile, description, outcomes, run_descriptions)
    failed = [o.spec.name for o in outcomes if not o.ok]
    print(f"index: {index}")
    if failed:
        print(f"{len(failed)} of {len(outcomes)} runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(outcomes)} runs of profile {args.profile!r} complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
