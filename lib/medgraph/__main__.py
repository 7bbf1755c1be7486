"""``medgraph`` command line: ``medgraph data …`` and ``medgraph run …``.

- ``medgraph data list | info NAME | fetch NAME [--from DIR] [--dest DIR]``: the data layer
  (:mod:`medgraph.data.cli`);
- ``medgraph run --profile quick [--only 01]``: the papermill runner (:mod:`medgraph.runs`).
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
    args = list(sys.argv[1:] if argv is None else argv)
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
