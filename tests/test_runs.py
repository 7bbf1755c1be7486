"""The papermill runner: merging parameters, promotion of complete runs, failures kept apart."""

import json
import textwrap

import nbformat
import pytest

from medgraph.runs import RunConfigError, load_runs, main

GOOD = """
from medgraph.reporting import Report
import pandas as pd
rep = Report(output_dir, run_name=run_name, profile=profile, seeds=[seed], title="good run")
rep.add_dataset({"name": "toy", "source": "phantom", "n_images": 1})
rep.table("numbers", pd.DataFrame({"x": [value]}), "numbers")
rep.compare("x", value, 0.5, "Table 1")
rep.finish()
"""
BAD = """
from medgraph.reporting import Report
import pandas as pd
rep = Report(output_dir, run_name=run_name, profile=profile, seeds=[seed])
rep.table("numbers", pd.DataFrame({"x": [value]}), "numbers")
if fail:
    raise RuntimeError("training diverged: loss is NaN")
rep.finish()
"""


def make_notebook(path, body, params):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.fixture
def workbook(tmp_path):
    params = (
        "value = 0.0\nfail = False\nseed = 0\nprofile = 'x'\nrun_name = 'x'\noutput_dir = None\n"
    )
    make_notebook(tmp_path / "good.ipynb", GOOD, params)
    make_notebook(tmp_path / "bad.ipynb", BAD, params)
    config = textwrap.dedent(
        """
        profiles:
          quick:
            description: test profile
            parameters: {value: 1.0}
          paper:
            parameters: {value: 2.0}
        runs:
          - name: good
            notebook: good.ipynb
            description: the good run at seed 7
            parameters: {seed: 7}
            profiles: {quick: {value: 3.0}, paper: {}}
          - name: bad
            notebook: bad.ipynb
            parameters: {fail: true}
            profiles: {quick: {}}
        """
    )
    (tmp_path / "papermill_runs.yaml").write_text(config)
    return tmp_path


def test_parameters_merge_in_order(workbook):
    quick = {s.name: s for s in load_runs(workbook / "papermill_runs.yaml", "quick")}
    assert quick["good"].parameters == {"value": 3.0, "seed": 7}
    assert quick["bad"].parameters == {"value": 1.0, "fail": True}
    paper = load_runs(workbook / "papermill_runs.yaml", "paper")
    assert [s.name for s in paper] == ["good"]  # 'bad' is not declared for the paper profile
    assert paper[0].parameters == {"value": 2.0, "seed": 7}
    assert [s.name for s in load_runs(workbook / "papermill_runs.yaml", "quick", ["goo"])] == [
        "good"
    ]
    with pytest.raises(RunConfigError, match="unknown profile"):
        load_runs(workbook / "papermill_runs.yaml", "nope")


def test_mapping_parameters_merge_key_by_key(tmp_path):
    (tmp_path / "papermill_runs.yaml").write_text(
        textwrap.dedent(
            """
            profiles:
              cpu:
                parameters: {config: {progress: false, lr: 0.1}, seeds: [0, 1]}
            runs:
              - name: a
                notebook: a.ipynb
                parameters: {config: {lr: 0.2}}
                profiles: {cpu: {config: {dilation: [1, 2]}, seeds: [3]}}
              - name: b
                notebook: b.ipynb
                profiles: {cpu: {config: 7}}
            """
        )
    )
    a, b = load_runs(tmp_path / "papermill_runs.yaml", "cpu")
    # one level deep: the run adds to the profile's config; a list still replaces a list
    assert a.parameters == {
        "config": {"progress": False, "lr": 0.2, "dilation": [1, 2]},
        "seeds": [3],
    }
    assert b.parameters == {"config": 7, "seeds": [0, 1]}  # a non-mapping replaces the mapping


def test_runner_keeps_going_and_reports_failure(workbook, capsys):
    cfg = str(workbook / "papermill_runs.yaml")
    code = main(["--config", cfg, "--profile", "quick"])
    assert code == 1
    err = capsys.readouterr().err
    assert "1 of 2 runs failed: bad" in err
    good = workbook / "reports" / "quick" / "good"
    results = json.loads((good / "results.json").read_text())
    assert results["status"] == "complete" and results["results"] == {}
    assert results["parameters"] == {} and results["seeds"] == [7]
    assert (good / "numbers.csv").read_text().splitlines() == ["x", "3.0"]
    assert (good / "good.ipynb").exists()  # the executed notebook
    # the failed run leaves no report that looks complete, but keeps its partial outputs aside
    assert not (workbook / "reports" / "quick" / "bad").exists()
    failed = workbook / "reports" / "quick" / "_failed" / "bad"
    assert "loss is NaN" in (failed / "FAILED.txt").read_text()
    assert not (failed / "results.json").exists()
    index = (workbook / "reports" / "quick" / "README.md").read_text()
    assert "[good](good/)" in index and "**failed**, no report" in index
    assert "| x | 3 | 0.5 | Table 1 |" in index
    # the run's declared description tells runs of one notebook apart: in the table, then first
    # in its section, above the notebook's own title
    assert "| [good](good/) | the good run at seed 7 | toy (phantom, 1 image) |" in index
    assert "## good\n\nRun: the good run at seed 7.\n\ngood run\n" in index


def test_failed_rerun_keeps_previous_complete_report(workbook):
    cfg = workbook / "papermill_runs.yaml"
    assert main(["--config", str(cfg), "--profile", "quick", "--only", "good"]) == 0
    # now make the good notebook fail and run it again
    make_notebook(workbook / "good.ipynb", "raise ValueError('corrupt image 042.bmp')", "value = 0")
    assert main(["--config", str(cfg), "--profile", "quick", "--only", "good"]) == 1
    good = workbook / "reports" / "quick" / "good"
    assert json.loads((good / "results.json").read_text())["status"] == "complete"
    index = (workbook / "reports" / "quick" / "README.md").read_text()
    assert "latest attempt failed" in index and "corrupt image 042.bmp" in index


def test_bad_config_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "papermill_runs.yaml").write_text("profiles: [\n")
    assert main(["--config", str(tmp_path / "papermill_runs.yaml")]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_set_overrides_need_their_own_reports_dir(workbook, capsys):
    cfg = str(workbook / "papermill_runs.yaml")
    # without --reports-dir a partial run could replace the profile's report: refused
    assert main(["--config", cfg, "--profile", "quick", "--only", "good", "--set", "value=9"]) == 2
    assert "give --reports-dir" in capsys.readouterr().err
    assert not (workbook / "reports").exists()
    assert main(["--config", cfg, "--set", "value", "--reports-dir", str(workbook / "p")]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    pieces = workbook / "pieces"
    argv = ["--config", cfg, "--profile", "quick", "--only", "good", "--reports-dir", str(pieces)]
    assert main([*argv, "--set", "value=9.5", "--set", "seed=3"]) == 0
    report = json.loads((pieces / "quick" / "good" / "results.json").read_text())
    assert report["seeds"] == [3]  # YAML values, over the run's own parameters
    assert (pieces / "quick" / "good" / "numbers.csv").read_text().splitlines() == ["x", "9.5"]


def test_parse_overrides_merges_mappings():
    from medgraph.runs import merge_parameters, parse_overrides

    overrides = parse_overrides(["models=[smgnn]", "config={epochs: 3}", "run_ablations=false"])
    assert overrides == {"models": ["smgnn"], "config": {"epochs": 3}, "run_ablations": False}
    merged = merge_parameters({"config": {"progress": False}, "models": ["unet"]}, overrides)
    assert merged["config"] == {"progress": False, "epochs": 3} and merged["models"] == ["smgnn"]
    with pytest.raises(RunConfigError, match="not valid YAML"):
        parse_overrides(["config={epochs: [}"])
