"""The exercise variants of the notebooks (medgraph.course)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

from medgraph.course import PLACEHOLDER, SOLUTION_TAG, exercise_variant, write_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_variant_hides_every_solution_and_keeps_everything_else(path):
    full = jupytext.read(path)
    solutions = [c for c in full.cells if SOLUTION_TAG in _tags(c)]
    if not solutions:
        with pytest.raises(ValueError, match="no cell tagged"):
            exercise_variant(path)
        return
    variant = exercise_variant(path)
    assert len(variant.cells) == len(full.cells)
    for mine, theirs in zip(variant.cells, full.cells, strict=True):
        if SOLUTION_TAG in _tags(theirs):
            assert mine.source == PLACEHOLDER.format(name=path.with_suffix(".ipynb").name)
            assert SOLUTION_TAG not in _tags(mine)
        else:
            assert mine.source == theirs.source and mine.cell_type == theirs.cell_type
    assert not any(SOLUTION_TAG in _tags(c) for c in variant.cells)
    nbformat.validate(variant)


def test_write_exercises_skips_notebooks_without_solutions(tmp_path):
    written = write_exercises(NOTEBOOKS, tmp_path)
    with_solutions = [
        p for p in NOTEBOOKS if any(SOLUTION_TAG in _tags(c) for c in jupytext.read(p).cells)
    ]
    assert [p.stem for p in written] == [p.stem for p in with_solutions] and written
    assert all(p.suffix == ".ipynb" and p.is_file() for p in written)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_exercise_variant_executes(path, tmp_path, monkeypatch):
    """Every notebook's variant without solutions runs top to bottom with the smoke parameters of
    its first declared run (the full notebooks run in tests/test_notebooks.py)."""
    import papermill as pm

    from medgraph.runs import load_runs
    from medgraph.store import ENV_RESULT_CACHE, ENV_RESULT_STORE

    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    monkeypatch.setenv(ENV_RESULT_CACHE, str(tmp_path / "runs"))
    monkeypatch.setenv(ENV_RESULT_STORE, "")
    spec = load_runs(ROOT / "papermill_runs.yaml", "smoke", [path.stem])[0]
    (source,) = write_exercises([path], tmp_path)
    params = {**spec.parameters, "profile": "smoke", "output_dir": str(tmp_path / "out")}
    pm.execute_notebook(
        str(source),
        str(tmp_path / "executed.ipynb"),
        parameters=params,
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert any("exercise" in _tags(c) for c in executed.cells)
    assert (tmp_path / "out" / "results.json").is_file()


def test_interactive_settings_follow_the_data(tmp_path, monkeypatch):
    from medgraph.course import interactive_settings
    from medgraph.data import DataUnavailableError

    # on phantoms: the quick profile's settings of the run declared for the data set
    profile, params = interactive_settings("02_smgnn_vs_baselines", "wbc1", "phantom")
    assert profile == "quick"
    assert params["epochs"] == 3 and params["seeds"] == [0] and params["dataset"] == "wbc1"
    assert not {"profile", "run_name", "output_dir", "data_source"} & set(params)
    # with the real data: the paper profile's (its runs are in trained/)
    profile, params = interactive_settings("02_smgnn_vs_baselines", "wbc2", "real")
    assert profile == "paper" and params["epochs"] == 100 and params["result_cache"] == "auto"
    assert params["run_ablations"] is False
    # "auto" looks for the data: nothing found gives the quick settings
    import medgraph.data.paths as paths

    def nothing(name, root=None):
        raise DataUnavailableError(f"{name} not found")

    monkeypatch.setattr(paths, "locate", nothing)
    assert interactive_settings("03_metric_learning_umap", "wbc2", "auto")[0] == "quick"
    # 03's quick profile declares dataset-1's phantom run only: the data set stays the caller's
    assert interactive_settings("03_metric_learning_umap", "wbc2", "auto")[1]["dataset"] == "wbc2"
    monkeypatch.setattr(paths, "locate", lambda name, root=None: tmp_path)
    assert interactive_settings("03_metric_learning_umap", "wbc1", "auto")[0] == "paper"
    with pytest.raises(ValueError, match="declares no"):
        interactive_settings("99_missing", "wbc1", "phantom")
