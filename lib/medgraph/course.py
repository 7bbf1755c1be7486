"""The workbook as a course: exercise variants of the notebooks, without their solutions.

Every notebook keeps one source (its py:percent twin, ``notebooks/NN_name.py``) in which the
solution of an exercise is a code cell tagged ``solution``. :func:`exercise_variant` returns the
notebook with every such cell replaced by an empty code cell that says where the answer goes;
:func:`write_exercises` writes the variants of all notebooks (``make exercises``: into
``exercises/``, git-ignored). The variant keeps every other cell unchanged, so it runs as the full
notebook does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SOLUTION_TAG", "PLACEHOLDER", "exercise_variant", "write_exercises"]

#: the tag of a solution cell
SOLUTION_TAG = "solution"
#: the source of the cell that replaces a solution
PLACEHOLDER = "# Your answer here (the solution is in the full notebook, notebooks/{name})\n"


def exercise_variant(notebook: str | os.PathLike[str]) -> object:
    """The notebook without its solutions.

    Parameters
    ----------
    notebook : path of a notebook (``.ipynb``) or of its py:percent twin (``.py``)

    Returns
    -------
    nbformat.NotebookNode
        The same cells, except that each code cell tagged :data:`SOLUTION_TAG` is replaced by an
        empty code cell holding :data:`PLACEHOLDER` (tagged ``exercise``); outputs are cleared.

    Raises
    ------
    ValueError
        When the notebook has no solution cell (nothing to hide: probably a wrong file).
    """
    import jupytext
    import nbformat

    path = Path(notebook)
    nb = jupytext.read(path)
    name = path.with_suffix(".ipynb").name
    cells, hidden = [], 0
    for cell in nb.cells:
        if cell.cell_type == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            hidden += 1
            cells.append(
                nbformat.v4.new_code_cell(
                    PLACEHOLDER.format(name=name), metadata={"tags": ["exercise"]}
                )
            )
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    if hidden == 0:
        raise ValueError(f"{path.name} has no cell tagged {SOLUTION_TAG!r}")
    nb.cells = cells
    return nb


def write_exercises(
    notebooks: Iterable[str | os.PathLike[str]], destination: str | os.PathLike[str]
) -> list[Path]:
    """Write :func:`exercise_variant` of every notebook that has solutions into ``destination``.

    Returns
    -------
    list of the written ``.ipynb`` paths (notebooks without a solution cell are skipped)
    """
    import nbformat

    from medgraph.reporting import atomic_write_text

    out = []
    for notebook in notebooks:
        try:
            variant = exercise_variant(notebook)
        except ValueError:
            continue
        path = Path(destination) / Path(notebook).with_suffix(".ipynb").name
        atomic_write_text(path, nbformat.writes(variant))
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m medgraph.course [DEST]``: the exercise variants of ``notebooks/*.py``."""
    import sys

    from medgraph.reporting import repo_root

    args = sys.argv[1:] if argv is None else argv
    root = repo_root()
    dest = Path(args[0]) if args else root / "exercises"
    written = write_exercises(sorted((root / "notebooks").glob("[0-9][0-9]_*.py")), dest)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
