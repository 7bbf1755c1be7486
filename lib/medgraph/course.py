"""The workbook as a course: exercise variants of the notebooks, without their solutions.

Every notebook keeps one source (its py:percent twin, ``notebooks/NN_name.py``) in which the
solution of an exercise is a code cell tagged ``solution``. :func:`exercise_variant` returns the
notebook with every such cell replaced by an empty code cell that says where the answer goes;
:func:`write_exercises` writes the variants of all notebooks (``make exercises``: into
``exercises/``, git-ignored). The variant keeps every other cell unchanged, so it runs as the full
notebook does.

:func:`interactive_settings` gives a notebook opened in a kernel settings that finish in minutes:
the ``paper`` profile's, whose runs are stored in ``trained/`` and load in a minute or two, when
the real data set is found, and the ``quick`` profile's small settings on the phantoms.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "SOLUTION_TAG",
    "PLACEHOLDER",
    "exercise_variant",
    "interactive_settings",
    "write_exercises",
]

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


def interactive_settings(
    notebook: str,
    dataset: str,
    data_source: str = "auto",
    data_root: str | os.PathLike[str] | None = None,
    config_path: str | os.PathLike[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The declared settings a notebook opened in a kernel starts from.

    A notebook's ``settings = "auto"`` parameter calls this in an interactive session only (the
    runner's profiles set every value themselves). With the real data set the ``paper`` profile's
    settings of the run declared for ``dataset`` are returned: its trained runs are committed in
    ``trained/`` and load in a minute or two. Without it (``data_source="phantom"``, or
    ``"auto"`` and no copy found) the ``quick`` profile's settings: seeded phantoms and a few
    epochs, minutes on a laptop CPU, a smoke run whose numbers are not comparable with the
    paper's.

    Parameters
    ----------
    notebook : the notebook's stem, e.g. ``"02_smgnn_vs_baselines"``
    dataset, data_source, data_root : the notebook's parameters of the same names
    config_path : ``papermill_runs.yaml`` (default: the repository's)

    Returns
    -------
    (profile, parameters) : ``"paper"`` or ``"quick"``, and the run's merged parameters for it
        without the runner's own (``profile``, ``run_name``, ``output_dir``) and without
        ``data_source`` (the caller's stays).

    Raises
    ------
    ValueError : no run of ``papermill_runs.yaml`` executes ``notebook`` in that profile
    """
    from medgraph.data import DataUnavailableError
    from medgraph.data.paths import locate
    from medgraph.reporting import repo_root
    from medgraph.run_config import CONFIG_NAME, RUNNER_PARAMETERS, load_runs

    if data_source == "phantom":
        real = False
    elif data_source == "real":
        real = True
    else:
        try:
            locate(dataset, data_root)
            real = True
        except DataUnavailableError:
            real = False
    profile = "paper" if real else "quick"
    path = Path(config_path) if config_path else repo_root() / CONFIG_NAME
    specs = [s for s in load_runs(path, profile) if s.notebook.stem == notebook]
    if not specs:
        raise ValueError(f"{path.name} declares no {profile!r} run of {notebook}")
    # the run declared for this data set; the quick profile's phantom run of another one else
    spec = next((s for s in specs if s.parameters.get("dataset") == dataset), specs[0])
    params = {
        key: value
        for key, value in spec.parameters.items()
        if key not in RUNNER_PARAMETERS and key != "data_source"
    }
    if params.get("dataset") != dataset:
        params["dataset"] = dataset
    return profile, params
