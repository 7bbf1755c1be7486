"""The papermill runner: merging parameters, promotion of complete runs, failures kept apart."""

import fcntl
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import papermill
import pytest

from medgraph.runs import RunConfigError, check_runs, load_config, load_runs, main, runner_lock

REPO = Path(__file__).resolve().parents[1]
PARAMS = (
    "value = 0.0\nfail = False\nseed = 0\nseeds = [0]\nmax_images = None\n"
    "profile = 'x'\nrun_name = 'x'\noutput_dir = None\n"
)

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
    make_notebook(tmp_path / "good.ipynb", GOOD, PARAMS)
    make_notebook(tmp_path / "bad.ipynb", BAD, PARAMS)
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
    make_notebook(workbook / "good.ipynb", "raise ValueError('corrupt image 042.bmp')", PARAMS)
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


# -- parameters are checked before anything runs ----------------------------------------------


@pytest.fixture
def no_execution(monkeypatch):
    """Fail the test if papermill executes anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("a notebook was executed")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


def test_unknown_set_key_is_refused_with_the_valid_keys(workbook, capsys, no_execution):
    cfg = str(workbook / "papermill_runs.yaml")
    pieces = workbook / "pieces"
    argv = ["--config", cfg, "--profile", "quick", "--reports-dir", str(pieces)]
    assert main([*argv, "--set", "valeu=2"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: good: unknown parameter 'valeu' for good.ipynb (did you mean 'value'?); its "
        "parameters: fail, max_images, output_dir, profile, run_name, seed, seeds, value"
    ]
    assert not pieces.exists()  # nothing executed, no folder made


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("seeds=abc", "parameter 'seeds' must be a list of int, got 'abc' (str)"),
        ("max_images=0", "parameter 'max_images' must be None or an integer ≥ 1, got 0"),
        ("seed=-1", "parameter 'seed' must be an integer ≥ 0, got -1"),
        ("output_dir=elsewhere", "parameter 'output_dir' is set by the runner"),
    ],
)
def test_bad_set_values_name_the_parameter(workbook, capsys, no_execution, setting, message):
    cfg = str(workbook / "papermill_runs.yaml")
    pieces = workbook / "pieces"
    argv = ["--config", cfg, "--profile", "quick", "--reports-dir", str(pieces)]
    assert main([*argv, "--only", "good", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: good: {message}") and len(err.splitlines()) == 1
    assert not pieces.exists()


def test_typo_in_the_yaml_is_refused_by_list(workbook, capsys):
    cfg = workbook / "papermill_runs.yaml"
    cfg.write_text(cfg.read_text().replace("parameters: {seed: 7}", "parameters: {sead: 7}"))
    assert main(["--config", str(cfg), "--profile", "quick", "--list"]) == 2
    assert "error: good: unknown parameter 'sead' for good.ipynb (did you mean 'seed'?)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("profile", sorted(load_config(REPO / "papermill_runs.yaml")["profiles"]))
def test_every_declared_run_has_valid_parameters(profile):
    specs = load_runs(REPO / "papermill_runs.yaml", profile)
    assert specs, f"profile {profile} declares no run"
    check_runs(specs)  # raises RunConfigError naming the run and the parameter


# -- one runner per profile folder ------------------------------------------------------------


def test_second_runner_on_one_folder_is_refused(workbook, capsys, monkeypatch):
    cfg = str(workbook / "papermill_runs.yaml")
    profile_dir = workbook / "reports" / "quick"
    profile_dir.mkdir(parents=True)
    argv = ["--config", cfg, "--profile", "quick", "--only", "good"]
    with open(profile_dir / ".runner.lock", "w") as held:  # another runner, in this process
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write(f"{os.getpid()}\n")
        held.flush()
        with monkeypatch.context() as m:
            m.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("executed"))
            assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == (
            f"error: another runner (pid {os.getpid()}) is writing {profile_dir}; "
            "wait for it to finish\n"
        )
        assert not (profile_dir / "good").exists() and not (profile_dir / "README.md").exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    # the released lock's file is still there, as a killed runner leaves it; a normal run takes
    # the lock and releases it: no lock file left, and it can be taken again
    assert main(argv) == 0
    assert not (profile_dir / ".runner.lock").exists()
    with runner_lock(profile_dir) as lock:
        assert lock.read_text() == f"{os.getpid()}\n"
    assert main(argv) == 0


# -- what is published ------------------------------------------------------------------------

GHOST_FIGURE = GOOD.replace(
    "rep.finish()",
    "rep._figures.append({'name': 'fig', 'file': 'fig.png', 'caption': 'never drawn'})\n"
    "rep.finish()",
)


def test_results_listing_a_missing_figure_is_not_promoted(workbook, capsys):
    cfg = str(workbook / "papermill_runs.yaml")
    argv = ["--config", cfg, "--profile", "quick", "--only", "good"]
    assert main(argv) == 0
    good = workbook / "reports" / "quick" / "good"
    published = (good / "results.json").read_text()
    make_notebook(workbook / "good.ipynb", GHOST_FIGURE, PARAMS)
    capsys.readouterr()
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "results.json lists fig.png, which the run did not write" in out
    assert (good / "results.json").read_text() == published  # the previous report stands
    failed = workbook / "reports" / "quick" / "_failed" / "good"
    assert "results.json lists fig.png, which the run did not write" in (
        (failed / "FAILED.txt").read_text()
    )
    assert (failed / "numbers.csv").exists() and not (failed / "results.json").exists()


NON_FINITE = """
class NonFiniteLossError(RuntimeError):
    pass

def train(step):
    raise NonFiniteLossError(f"loss is nan at step {step}")

train(12)
"""


def test_failed_run_prints_one_line_and_keeps_the_traceback(workbook, capsys):
    make_notebook(workbook / "bad.ipynb", NON_FINITE, PARAMS)
    cfg = str(workbook / "papermill_runs.yaml")
    assert main(["--config", cfg, "--profile", "quick", "--only", "bad"]) == 1
    log = workbook / "reports" / "quick" / "_failed" / "bad" / "FAILED.txt"
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[FAIL]")]
    assert len(lines) == 1
    assert re.fullmatch(
        r"\[FAIL\] bad \d+\.\d s  NonFiniteLossError: loss is nan at step 12 \(log: (.+)\)",
        lines[0],
    )
    assert lines[0].endswith(f"(log: {log})")
    text = log.read_text()
    # the kernel's traceback, through the function that raised, without terminal colours
    assert "train(12)" in text and 'raise NonFiniteLossError(f"loss is nan' in text
    assert "\x1b[" not in text


def _staging_entries(profile_dir):
    staging = profile_dir / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else None


def test_no_staging_left_after_success_failure_and_interrupt(workbook, capsys, monkeypatch):
    cfg = str(workbook / "papermill_runs.yaml")
    profile_dir = workbook / "reports" / "quick"
    assert main(["--config", cfg, "--profile", "quick"]) == 1  # good succeeds, bad fails
    assert (profile_dir / "good" / "results.json").exists()
    assert (profile_dir / "_failed" / "bad" / "FAILED.txt").exists()
    assert _staging_entries(profile_dir) is None
    index = (profile_dir / "README.md").read_text()
    published = (profile_dir / "good" / "numbers.csv").read_text()
    capsys.readouterr()

    started = []

    def interrupted(notebook, output, parameters, **kwargs):
        out = Path(parameters["output_dir"])
        (out / "numbers.csv").write_text("x\npartial\n")  # a half-written output
        started.append(out)
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    assert main(["--config", cfg, "--profile", "quick"]) == 130
    err = capsys.readouterr().err.splitlines()  # tqdm's bar, then the runner's one line
    assert err[-1] == "interrupted: good stopped after 0 s; no report was changed"
    assert sum("interrupted" in line for line in err) == 1 and "Traceback" not in "".join(err)
    assert len(started) == 1 and started[0].parent == profile_dir / ".staging"
    assert not started[0].exists() and _staging_entries(profile_dir) is None
    assert (profile_dir / "good" / "numbers.csv").read_text() == published
    assert (profile_dir / "README.md").read_text() == index  # the index is not rewritten
    assert not (profile_dir / ".runner.lock").exists()


def test_leftover_staging_of_a_killed_runner_is_cleared(workbook):
    profile_dir = workbook / "reports" / "quick"
    leftover = profile_dir / ".staging" / "good.999999999"
    leftover.mkdir(parents=True)
    argv = [
        "--config",
        str(workbook / "papermill_runs.yaml"),
        "--profile",
        "quick",
        "--only",
        "good",
    ]
    assert main(argv) == 0
    assert _staging_entries(profile_dir) is None


# -- the command line in a pipe ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "medgraph", "data", "list"],
        [str(Path(sys.executable).with_name("medgraph")), "data", "list"],
    ],
    ids=["python -m medgraph", "medgraph"],
)
def test_data_list_into_a_closed_pipe_ends_quietly(command):
    if not Path(command[0]).exists():
        pytest.skip("the medgraph console script is not installed next to this Python")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader stops before the first line, as `| head -0` would
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    proc.stderr.close()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141


def test_published_notebook_names_no_folder_of_this_machine(tmp_path, monkeypatch):
    from medgraph.runs import portable_notebook

    root = tmp_path / "repo"
    staging = root / "reports" / "paper" / ".staging" / "run.123"
    final = root / "reports" / "paper" / "run"
    data = tmp_path / "datasets"
    staging.mkdir(parents=True)
    data.mkdir()
    monkeypatch.setenv("MEDGRAPH_DATA", str(data))
    notebook = staging / "nb.ipynb"
    notebook.write_text(
        json.dumps(
            {
                "output_dir": f"{staging}",
                "results": f"{staging}/results.json",
                "input": f"{root}/notebooks/nb.ipynb",
                "data": f"{data}/wbc/Dataset 1",
                "warning": f"{root}/.venv/lib/python3.11/site-packages/umap/umap_.py:1952",
            }
        )
    )
    portable_notebook(notebook, root, {staging: final})
    text = notebook.read_text()
    assert str(tmp_path) not in text
    payload = json.loads(text)
    assert payload["output_dir"] == "reports/paper/run"
    assert payload["results"] == "reports/paper/run/results.json"
    assert payload["input"] == "./notebooks/nb.ipynb"
    assert payload["data"] == "$MEDGRAPH_DATA/wbc/Dataset 1"
    assert payload["warning"].startswith("./.venv/lib/")
    portable_notebook(staging / "missing.ipynb", root, {staging: final})  # nothing to do
