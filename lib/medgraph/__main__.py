"""``medgraph`` command line: ``medgraph data …`` and ``medgraph run …``.

- ``medgraph data list | info NAME | fetch NAME [--from DIR] [--dest DIR]``: the data layer
  (:mod:`medgraph.data.cli`);
- ``medgraph run --profile quick [--only 01]``: the papermill runner (:mod:`medgraph.runs`).

A reader that stops early (``medgraph data list | head -1``) ends the command quietly, with exit
status 141 (as for a program killed by SIGPIPE) and no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: medgraph <command> [...]

commands:
  data list | info NAME | fetch NAME [--from DIR] [--dest DIR]   data sets
  run [--profile quick|paper] [--only TOKEN ...] [--list]          execute the notebooks
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the sub-command; returns the exit status."""
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return code
    except BrokenPipeError:
        from medgraph.data.cli import stdout_closed

        return stdout_closed()


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "data":
        from medgraph.data.cli import main as data_main

        return data_main(rest)
    if command == "run":
        from medgraph.runs import main as runs_main

        return runs_main(rest)
    print(f"medgraph: unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
