"""Outputs of a run: figures, tables and ``results.json``, written atomically with run metadata.

A notebook opens one :class:`Report`, adds figures, tables, numbers and paper-vs-ours rows, and
calls :meth:`Report.finish`, which writes ``results.json`` last with ``"status": "complete"``.
Every file is written to a temporary name in the same folder and renamed into place, so a reader
never sees half a file; the runner (:mod:`medgraph.runs`) additionally executes each run in a
staging folder and only moves it into ``reports/<profile>/<run>/`` when the notebook finished, so
a failed run never leaves a table that looks complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "repo_root",
    "git_revision",
    "run_metadata",
    "Report",
    "PaperValue",
    "format_mean_std",
    "count_noun",
    "describe_datasets",
]

_PACKAGES = (
    "medgraph",
    "numpy",
    "scipy",
    "scikit-image",
    "scikit-learn",
    "numba",
    "torch",
    "torch_geometric",
    "pandas",
    "matplotlib",
    "papermill",
)


def _is_integer_column(column: Any) -> bool:
    """Whether a pandas column holds integers (not booleans)."""
    import pandas as pd

    return pd.api.types.is_integer_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write a file through a temporary sibling and rename it into place.

    Parameters
    ----------
    path : destination
    write : callable receiving the temporary path to write to

    Returns
    -------
    The destination path. On any error the temporary file is removed and the destination is left
    as it was. The file gets the permissions of an ordinary new file (``0o666`` less the umask),
    not the owner-only ``0o600`` that :func:`tempfile.mkstemp` gives its temporary file, so
    reports and cache entries stay readable to whoever may read the folder.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The workbook's root: the nearest folder upward holding ``papermill_runs.yaml``.

    Falls back to the source checkout that holds this package, then to the current directory.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "papermill_runs.yaml").exists():
            return folder
    source = Path(__file__).resolve().parents[2]
    if (source / "papermill_runs.yaml").exists():
        return source
    return here


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def _git_revision(root: Path) -> str:
    """Short HEAD revision, with ``+dirty`` when the library or notebooks have local changes."""
    try:
        rev = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(
            root, "status", "--porcelain", "--untracked-files=no", "--", "lib", "notebooks"
        )
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def git_revision(root: str | os.PathLike | None = None) -> str:
    """Short HEAD revision of the workbook (``+dirty`` with local changes), or ``"unknown"``."""
    return _git_revision(repo_root(root))


def _device_description() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["device"] = "cuda"
            info["gpu"] = torch.cuda.get_device_name(0)
        else:
            info["device"] = "cpu"
    except ImportError:  # pragma: no cover - torch is a dependency
        info["device"] = "cpu"
    return info


def run_metadata(
    root: str | os.PathLike | None = None, git_revision: str | None = None
) -> dict[str, Any]:
    """Versions, git revision, device and time of the current process, for ``results.json``.

    ``git_revision`` is the revision to record (a :class:`Report` passes the one it saw when the
    run started); ``None`` reads the current one.
    """
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "packages": versions,
        "git_revision": git_revision or _git_revision(repo_root(root)),
        "device": _device_description(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into JSON-safe values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def format_value(value: Any) -> str:
    """A number or label of a comparison row as text: ``"–"`` for none, 4 significant digits
    for a float."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def count_noun(n: Any, noun: str) -> str:
    """``"1 image"``, ``"3 images"`` (a plain ``s`` plural; anything but 1 is plural)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def describe_datasets(datasets: Iterable[Mapping[str, Any]], sep: str = ", ") -> str:
    """``"wbc1 (real, 300 images)"`` for each data-set record of a report, joined by ``sep``."""
    return sep.join(
        f"{d.get('name')} ({d.get('source')}, {count_noun(d.get('n_images'), 'image')})"
        for d in datasets
    )


def format_mean_std(mean: float, std: float, digits: int = 4) -> str:
    """``"0.9123 ± 0.0100"``; ``"–"`` for a missing mean."""
    if mean is None or not math.isfinite(mean):
        return "–"
    if std is None or not math.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def mean_std_view(
    frame: Any, measures: Sequence[str], keep: Sequence[str] = (), digits: int = 4
) -> Any:
    """A readable view of a wide table of ``<measure>_mean`` / ``<measure>_std`` columns.

    Parameters
    ----------
    frame : pandas DataFrame with columns ``<m>_mean`` and (optionally) ``<m>_std`` per measure
    measures : the measures to show, in order (e.g. ``["dice_3cls", "hd95_3cls"]``)
    keep : other columns to show first, unchanged (e.g. ``["model", "n_seeds"]``)
    digits : decimals of mean and std

    Returns
    -------
    DataFrame : ``keep`` and one text column per measure, ``"0.9529 ± 0.0006"`` (the mean alone
        where the std is missing, e.g. one seed); measures absent from ``frame`` are skipped.
    """
    import pandas as pd

    view = pd.DataFrame({col: frame[col] for col in keep if col in frame.columns})
    for m in measures:
        if f"{m}_mean" not in frame.columns:
            continue
        std = frame[f"{m}_std"] if f"{m}_std" in frame.columns else [None] * len(frame)
        view[m] = [
            format_mean_std(float(a), None if b is None else float(b), digits)
            for a, b in zip(frame[f"{m}_mean"], std, strict=True)
        ]
    return view


@dataclass(frozen=True)
class PaperValue:
    """One number of ours beside the published one.

    ``paper`` is ``None`` when the paper gives the quantity only as a figure or not at all; the
    ``source`` then says so (for example ``"Fig 6 (curve only)"``). ``verdict`` is
    ``"reproduced"``, ``"not reproduced (...)"``, ``"not comparable (...)"`` or ``"no published
    number"``, and ``rule`` the rule that gave it (:mod:`medgraph.verdicts`).
    """

    quantity: str
    ours: Any
    paper: Any
    source: str
    note: str = ""
    verdict: str = ""
    rule: str = ""


def portable_root(root: str | Path) -> str:
    """A data folder as a report may record it: relative to ``$MEDGRAPH_DATA`` when it lies
    under it, else its last two path components (no machine's absolute path)."""
    path = Path(root)
    base = os.environ.get("MEDGRAPH_DATA")
    if base:
        try:
            return "$MEDGRAPH_DATA/" + path.resolve().relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            pass
    return ".../" + "/".join(path.parts[-2:]) if len(path.parts) > 2 else path.as_posix()


@dataclass
class Report:
    """Collects the outputs of one run and writes them atomically into ``output_dir``.

    Parameters
    ----------
    output_dir : folder of this run (created); ``None`` gives
        ``<root>/reports/<profile>/<run_name>`` for interactive use
    run_name : name of the run in ``papermill_runs.yaml``
    profile : ``"quick"``, ``"paper"`` or ``"interactive"``
    seeds : seeds used by the run
    parameters : the notebook's parameters, recorded verbatim
    title : one line saying what the run reproduces
    started : ``time.perf_counter()`` at which the run began (its wall time counts from it);
        default: when the report is created
    """

    output_dir: str | os.PathLike | None
    run_name: str
    profile: str
    seeds: Iterable[int]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    started: float = field(default_factory=time.perf_counter, repr=False)
    _results: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _datasets: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)
    _tables: list[dict[str, str]] = field(default_factory=list, init=False, repr=False)
    _figures: list[dict[str, str]] = field(default_factory=list, init=False, repr=False)
    _paper: list[PaperValue] = field(default_factory=list, init=False, repr=False)
    _finished: bool = field(default=False, init=False, repr=False)
    _revision: str = field(default="unknown", init=False, repr=False)

    def __post_init__(self) -> None:
        if self.output_dir is None:
            self.output_dir = repo_root() / "reports" / self.profile / self.run_name
        self.output_dir = Path(self.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.seeds = [int(s) for s in self.seeds]
        # the code that runs is the code of the start: a commit made while a long run trains must
        # not be recorded as the revision that produced it
        self._revision = _git_revision(repo_root())
        stale = self.output_dir / "results.json"
        if stale.exists():  # an earlier run in the same folder: it no longer describes the outputs
            stale.unlink()

    # -- contents ---------------------------------------------------------------------------
    def add_dataset(self, description: Mapping[str, Any]) -> None:
        """Record a data set used by the run (``SegmentationDataset.describe()``).

        A ``root`` folder is written portably, never as this machine's absolute path:
        ``$MEDGRAPH_DATA/<relative path>`` when it lies under ``MEDGRAPH_DATA``, else its last
        two path components.
        """
        entry = dict(description)
        if entry.get("root"):
            entry["root"] = portable_root(entry["root"])
        self._datasets.append(entry)

    def record(self, key: str, value: Any) -> None:
        """Record a number (or a small structure of numbers) under ``results[key]``."""
        self._results[key] = value

    def compare(
        self,
        quantity: str,
        ours: Any,
        paper: Any,
        source: str,
        note: str = "",
        verdict: str | tuple[str, str] | None = None,
    ) -> PaperValue:
        """Put one of our numbers beside the paper's (``paper=None`` when it has none).

        ``verdict`` is a verdict string or a ``(verdict, rule)`` pair from
        :mod:`medgraph.verdicts`. A run on any data set that is not real (the seeded phantoms)
        gets :data:`medgraph.verdicts.PHANTOM` whatever is passed: its numbers are never set
        beside the paper's as if comparable. Without a verdict, a row with no published number
        says so.
        """
        from medgraph.verdicts import NO_NUMBER, PHANTOM

        text, rule = (verdict, "") if not isinstance(verdict, tuple) else verdict
        if any(d.get("source") != "real" for d in self._datasets):
            text, rule = PHANTOM, "the data are not the paper's"
        elif not text and paper is None:
            text = NO_NUMBER
        row = PaperValue(quantity, ours, paper, source, note, text or "", rule)
        self._paper.append(row)
        return row

    def claims(self) -> Any:
        """The rows of :meth:`compare` so far as a table (a pandas DataFrame, one row per claim:
        quantity, ours, the paper's, its source, verdict, rule, note), for display in a notebook."""
        import pandas as pd

        columns = ["quantity", "ours", "paper", "source", "verdict", "rule", "note"]
        # object columns: a None beside numbers stays None (shown as "–"), not NaN
        frame = pd.DataFrame([vars(row) for row in self._paper], columns=columns, dtype=object)
        for col in ("ours", "paper"):
            frame[col] = frame[col].map(format_value)
        return frame.rename(columns={"paper": "paper's (published)"})

    def figure(self, name: str, fig: Any, caption: str = "", dpi: int = 130) -> Path:
        """Save a matplotlib figure as ``<name>.png`` atomically."""
        path = self.output_dir / f"{name}.png"
        atomic_write(path, lambda p: fig.savefig(p, dpi=dpi, bbox_inches="tight", format="png"))
        self._figures.append({"name": name, "file": path.name, "caption": caption})
        return path

    def table(
        self,
        name: str,
        frame: Any,
        caption: str = "",
        float_digits: int = 4,
        markdown: bool = True,
        numparse: bool = True,
        view: Any = None,
    ) -> Path:
        """Save a pandas DataFrame as ``<name>.csv`` and (unless ``markdown=False``, for long raw
        tables) ``<name>.md`` atomically; ``numparse=False`` prints text cells as they are.
        ``view`` (a DataFrame, e.g. :func:`mean_std_view` of a wide table) is what the Markdown
        shows, with a line pointing to the CSV for every column.

        The Markdown file starts with the caption and a line naming the run, profile, data sets
        and seeds, so that a table read on its own still says what it is.
        """
        csv_path = self.output_dir / f"{name}.csv"
        md_path = self.output_dir / f"{name}.md"
        atomic_write(csv_path, lambda p: frame.to_csv(p, index=False))
        if not markdown:
            self._tables.append(
                {"name": name, "csv": csv_path.name, "md": csv_path.name, "caption": caption}
            )
            return csv_path
        data = describe_datasets(self._datasets, ", ")
        header = [f"**{caption}**" if caption else f"**{name}**", ""]
        header.append(
            f"Run `{self.run_name}`, profile `{self.profile}`, data: {data or 'n/a'}, "
            f"seeds {self.seeds}."
        )
        if view is not None:
            header.append(
                f"The main columns (mean ± sample std where there are several seeds); every "
                f"column is in [{csv_path.name}]({csv_path.name})."
            )
            frame = view
        # one format per column: when every column is numeric, tabulate reads the frame as one
        # float array, so an integer column (a count) would otherwise print as ``26313.0000``
        floatfmt = [
            ".0f" if _is_integer_column(frame[col]) else f".{float_digits}f"
            for col in frame.columns
        ]
        body = frame.to_markdown(index=False, floatfmt=floatfmt, disable_numparse=not numparse)
        atomic_write_text(md_path, "\n".join(header) + "\n\n" + body + "\n")
        self._tables.append(
            {"name": name, "csv": csv_path.name, "md": md_path.name, "caption": caption}
        )
        return csv_path

    # -- the end ----------------------------------------------------------------------------
    def finish(self) -> Path:
        """Write ``results.json`` (numbers + metadata) last; returns its path.

        The rows of :meth:`compare` are also written as the table ``claims`` (ours, the paper's,
        the verdict and its rule), so that each report states its verdicts on its own.
        """
        if self._paper and not any(t["name"] == "claims" for t in self._tables):
            self.table(
                "claims",
                self.claims(),
                "Our numbers beside the paper's, with a verdict per row",
                numparse=False,  # the cells are text as the claims print them
            )
        payload = {
            "status": "complete",
            "run": self.run_name,
            "title": self.title,
            "profile": self.profile,
            "seeds": self.seeds,
            "parameters": dict(self.parameters),
            "datasets": self._datasets,
            "results": self._results,
            "paper_comparison": [vars(row) for row in self._paper],
            "tables": self._tables,
            "figures": self._figures,
            "wall_time_s": round(time.perf_counter() - self.started, 2),
            "metadata": run_metadata(git_revision=self._revision),
        }
        at_finish = _git_revision(repo_root())
        if at_finish != self._revision:
            payload["metadata"]["git_revision_at_finish"] = at_finish
        path = self.output_dir / "results.json"
        atomic_write_text(path, json.dumps(_jsonable(payload), indent=2, allow_nan=False) + "\n")
        self._finished = True
        return path
