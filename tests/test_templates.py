"""The templates of a new study run as they are, so a contributor starts from working code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

from medgraph.parameters import check_parameters, notebook_defaults
from medgraph.studies import Study

ROOT = Path(__file__).resolve().parents[1]


def test_study_module_template_plans_runs():
    spec = importlib.util.spec_from_file_location(
        "template_study", ROOT / "templates" / "study_module.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert isinstance(module.STUDY, Study)
    groups = module.STUDY.plan({"config": {"progress": False}, "epochs": 3, "seed": 1})
    (group,) = groups.values()
    assert group.seeds == (1,) and group.config.epochs == 3


@pytest.mark.slow
def test_notebook_template_executes_and_reports(tmp_path):
    import papermill as pm

    nb = jupytext.read(ROOT / "templates" / "study_notebook.py")
    path = tmp_path / "NN_name.ipynb"
    nbformat.write(nb, path)
    defaults = notebook_defaults(path)
    check_parameters(path, defaults, defaults=defaults)  # its defaults obey the workbook's rules
    out = tmp_path / "report"
    pm.execute_notebook(
        str(path),
        str(tmp_path / "executed.ipynb"),
        parameters={"output_dir": str(out), "profile": "test"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT),
    )
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "complete" and results["tables"][0]["name"] == "results"
