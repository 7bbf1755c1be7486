"""``medgraph data …``: list, describe and fetch data sets.

``main`` receives the arguments after the word ``data``::

    medgraph data list
    medgraph data info NAME
    medgraph data fetch NAME [--from DIR] [--dest DIR] [--quiet]

It returns the exit status: 0 on success, 2 on any error, which is printed as one line on stderr
(no traceback), 141 (like a program killed by SIGPIPE) when its reader stops reading early, as
``medgraph data list | head -1`` does, which ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from medgraph.data.errors import DataError, DataUnavailableError
from medgraph.data.fetch import fetch
from medgraph.data.paths import ENV_DATA, cache_dir, data_root, locate
from medgraph.data.registry import REGISTRY, get_info

__all__ = ["main"]

_PROG = "medgraph data"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, description="Data sets of the medgraph studies.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="every data set: found where, or missing; automatic or manual")
    info = sub.add_parser("info", help="source, licence, citation, layout and how to get it")
    info.add_argument("name")
    get = sub.add_parser("fetch", help="download a data set, or register a local copy")
    get.add_argument("name")
    get.add_argument(
        "--from",
        dest="from_dir",
        metavar="DIR",
        help="use the local copy in DIR (verified, then symlinked into the cache)",
    )
    get.add_argument(
        "--dest", metavar="DIR", help=f"data root to fetch into (default {cache_dir()})"
    )
    get.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    return parser


def _where(name: str) -> str:
    try:
        return str(locate(name))
    except DataUnavailableError:
        return "missing"


def _list() -> int:
    rows = [("name", "kind", "status", "title")]
    for info in REGISTRY.values():
        rows.append(
            (info.name, "auto" if info.auto_download else "manual", _where(info.name), info.title)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    env = data_root()
    print(f"\nsearched: {ENV_DATA}={env if env is not None else '(not set)'}, cache={cache_dir()}")
    return 0


def _info(name: str) -> int:
    info = get_info(name)
    wrap = textwrap.TextWrapper(width=100, initial_indent="  ", subsequent_indent="  ")
    fields = [
        ("title", info.title),
        ("status", _where(name)),
        (
            "download",
            "automatic (`medgraph data fetch " + name + "`)" if info.auto_download else "manual",
        ),
        ("source", info.source_url),
        ("licence", info.licence),
        ("citation", info.citation),
        ("folder names", ", ".join(info.folders)),
        ("layout", info.layout),
        ("expected counts", "; ".join(f"{k}: {v}" for k, v in info.expected_counts.items()) or "-"),
        ("how to get it", info.how_to_get),
        ("loader", str(info.loader) if info.loader is not None else "not written yet"),
    ]
    if info.downloads:
        fields.append(
            (
                "files",
                "; ".join(
                    d.url + (f" (sha256 {d.sha256})" if d.sha256 else "") for d in info.downloads
                ),
            )
        )
    if info.notes:
        fields.append(("notes", info.notes))
    print(name)
    for key, value in fields:
        print(f"{key}:")
        print(wrap.fill(value))
    return 0


def _print_manual(name: str, dest: Path) -> None:
    info = get_info(name)
    print(f"{info.name} ({info.title}) must be downloaded by hand.")
    print(textwrap.fill(info.how_to_get, width=100))
    print(f"Source:  {info.source_url}")
    print(f"Licence: {info.licence}")
    print(f"Then:    medgraph data fetch {info.name} --from DIR   (links DIR into {dest})")
    print(f"or:      export {ENV_DATA}=PARENT   (PARENT holding {info.folder}/)")


def _fetch(args: argparse.Namespace) -> int:
    info = get_info(args.name)
    try:
        path = fetch(args.name, dest=args.dest, from_dir=args.from_dir, progress=not args.quiet)
    except DataUnavailableError:
        if args.from_dir is None and not info.auto_download:
            _print_manual(args.name, Path(args.dest) if args.dest else cache_dir())
        raise
    print(path)
    return 0


def stdout_closed() -> int:
    """The reader of stdout went away: send what is left to devnull, end quietly (SIGPIPE's 141).

    Python flushes stdout again at exit; pointing its file descriptor at devnull keeps that last
    flush from printing a second BrokenPipeError.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``medgraph data`` with the arguments that follow ``data``; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
        if args.command == "list":
            code = _list()
        elif args.command == "info":
            code = _info(args.name)
        else:
            code = _fetch(args)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return code
    except BrokenPipeError:
        return stdout_closed()
    except _UsageError as exc:
        print(f"{_PROG}: {exc} (see `{_PROG} --help`)", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
