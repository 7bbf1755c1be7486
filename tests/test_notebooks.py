"""Notebook hygiene (no outputs, one parameters cell, jupytext pair in sync) and smoke runs."""

import json
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
import yaml

from medgraph.pieces import main as pieces_main
from medgraph.runs import main as run_main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run nbstripout"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exactly_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    for name in ("profile", "run_name", "output_dir"):
        assert f"{name} =" in tagged[0].source, f"{path.name}: parameters cell lacks {name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    """`papermill --help-notebook` lists every assignment of the parameters cell with its help."""
    from papermill.translators import PythonTranslator

    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assigned = {
        line.split("=")[0].split(":")[0].strip()
        for line in cell.source.splitlines()
        if line and not line[0].isspace() and not line.startswith("#") and "=" in line
    }
    parsed = {p.name for p in PythonTranslator.inspect(cell)}
    assert parsed == assigned, f"{path.name}: papermill cannot parse {sorted(assigned - parsed)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_jupytext_pair_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin"
    nb = nbformat.read(path, as_version=4)
    py = jupytext.read(twin)
    pairs = list(zip(nb.cells, py.cells, strict=False))
    assert len(nb.cells) == len(py.cells), f"{path.name} and {twin.name} differ in cell count"
    for i, (a, b) in enumerate(pairs):
        assert (a.cell_type, a.source.strip()) == (b.cell_type, b.source.strip()), (
            f"{path.name} cell {i} differs from {twin.name}; run `jupytext --sync {twin}`"
        )


def test_every_run_names_an_existing_notebook():
    config = yaml.safe_load((ROOT / "papermill_runs.yaml").read_text())
    used = {run["notebook"] for run in config["runs"]}
    for nb in used:
        assert (ROOT / nb).exists(), f"papermill_runs.yaml names missing {nb}"
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in used, f"{nb.name} is not declared in papermill_runs.yaml"
    assert {"quick", "paper"} <= set(config["profiles"])


def test_notebook_01_runs_through_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    config = textwrap.dedent(
        f"""
        profiles:
          quick:
            parameters: {{data_source: phantom, n_phantoms: 3, max_images: 3}}
        runs:
          - name: 01_tiny
            notebook: {ROOT / "notebooks" / "01_superpixel_scale.ipynb"}
            parameters: {{dataset: wbc1, scales: [16, 64], figure_scales: [64, 16]}}
        """
    )
    cfg = tmp_path / "papermill_runs.yaml"
    cfg.write_text(config)
    assert run_main(["--config", str(cfg), "--profile", "quick"]) == 0
    out = tmp_path / "reports" / "quick" / "01_tiny"
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "complete"
    assert results["datasets"][0]["source"] == "phantom"
    assert results["datasets"][0]["n_images"] == 3
    for method in ("snic", "slic"):
        iou = results["results"][f"{method}_S16"]["iou_r_mean"]
        assert 0.5 < iou <= 1.0
    for name in (
        "scale_study.csv",
        "scale_study.md",
        "fig6_reconstruction.png",
        "iou_vs_superpixels.png",
    ):
        assert (out / name).exists(), name
    index = (tmp_path / "reports" / "quick" / "README.md").read_text()
    assert "01_tiny" in index and "paper's" in index


def _run_tiny(tmp_path, monkeypatch, name, notebook, params):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cfg = tmp_path / "papermill_runs.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "profiles": {"quick": {"parameters": {"data_source": "phantom"}}},
                "runs": [
                    {
                        "name": name,
                        "notebook": str(ROOT / "notebooks" / notebook),
                        "parameters": params,
                    }
                ],
            }
        )
    )
    assert run_main(["--config", str(cfg), "--profile", "quick"]) == 0
    out = tmp_path / "reports" / "quick" / name
    return out, json.loads((out / "results.json").read_text())


def test_notebook_02_runs_through_the_runner(tmp_path, monkeypatch, capsys):
    params = {
        "dataset": "wbc1",
        "n_phantoms": 10,
        "seeds": [0],
        "models": ["smgnn", "unet"],
        "epochs": 1,
        "ablation_epochs": 1,
        "ablation_lambdas": [0.0, 0.1],
        "ablation_gnns": ["smgnn_gcn"],
        "ablation_scales": [64],
        "run_classification": True,
        "classification_epochs": 1,
        "config": {"batch_size": 4, "progress": False, "baseline_options": {"base": 4, "depth": 2}},
        "result_cache": str(tmp_path / "runs"),
    }
    out, results = _run_tiny(
        tmp_path, monkeypatch, "02_tiny", "02_smgnn_vs_baselines.ipynb", params
    )
    # every run is listed with where it was trained; the λ = 0.1 ablation has the inputs of the
    # main SMGNN run (same budget here), so it is loaded from the cache instead of trained again
    prov = pd.read_csv(out / "run_provenance.csv", keep_default_na=False).set_index("model")
    assert len(prov) == 2 + 2 + 1 + 4 and (prov["device"] == "cpu").all()
    assert prov.loc["ablation (λ): λ = 0.1", "from_cache"].startswith("smgnn-seed0-")
    assert (prov.drop(index="ablation (λ): λ = 0.1")["from_cache"] == "").all()
    assert len(list((tmp_path / "runs").glob("*.pt"))) == 8
    # the piece trainer asks for exactly the runs the notebook trained: every one is cached
    argv = ["--config", str(tmp_path / "papermill_runs.yaml"), "--profile", "quick"]
    capsys.readouterr()  # drop the runner's output
    assert pieces_main([*argv, "--run", "02_tiny", "--dry-run"]) == 0
    listed = capsys.readouterr().out.splitlines()
    # λ = 0.1 is the main SMGNN run here: one run, listed once
    assert listed[0].startswith("02_tiny (quick): 9 pieces, 8 distinct runs; wbc1 (phantom)")
    assert len(listed) == 9 and all(line.split()[-2] == "cached" for line in listed[1:])
    assert results["status"] == "complete" and results["datasets"][0]["source"] == "phantom"
    assert 0.0 <= results["results"]["smgnn_dice"]["three_class"] <= 1.0
    assert results["results"]["smgnn_dice"]["params"] <= 10_000
    for name in (
        "segmentation_comparison.md",
        "ablation_lambda.md",
        "ablation_gnn.md",
        "ablation_scale.md",
        "cell_type_classification.md",
        "superpixel_graph.png",
        "segmentations.png",
        "ablations.png",
        "confusion_matrices.png",
    ):
        assert (out / name).exists(), name
    rows = [r["quantity"] for r in results["paper_comparison"]]
    assert any("smgnn Dice" in q for q in rows)


def test_notebook_03_runs_through_the_runner(tmp_path, monkeypatch):
    params = {
        "dataset": "wbc1",
        "n_phantoms": 10,
        "epochs": 1,
        "n_per_class": 40,
        "n_pairs": 500,
        "config": {"batch_size": 4, "progress": False},
        "result_cache": str(tmp_path / "runs"),
    }
    out, results = _run_tiny(
        tmp_path, monkeypatch, "03_tiny", "03_metric_learning_umap.ipynb", params
    )
    sep = results["results"]["separation_lambda_0.1"]
    assert -1.0 <= sep["silhouette"] <= 1.0 and -2.0 <= sep["gap"] <= 2.0
    fit = results["results"]["metric_target_fit_lambda_0.1"]
    assert 0.0 <= fit["r2"] <= 1.0 and fit["r2"] == pytest.approx(fit["r"] ** 2, abs=1e-9)
    for name in (
        "fig12_umap.png",
        "cosine_distributions.png",
        "class_pair_cosines.png",
        "separation.md",
        "test_dice.md",
        "class_pair_cosines.md",
        "metric_target_fit.md",
    ):
        assert (out / name).exists(), name
    # six class pairs per model, each with Eq 2.7's target for pure superpixels
    pairs = pd.read_csv(out / "class_pair_cosines.csv")
    assert len(pairs) == 2 * 6
    target = pairs.set_index(["λ", "pair"])["Eq 2.7 target (pure superpixels)"]
    assert target[(0.1, "background–nucleus")] == 0.5 and target[(0.0, "cytoplasm–nucleus")] == 0.75
    # both models went through the result cache and say where they were trained
    prov = pd.read_csv(out / "run_provenance.csv", keep_default_na=False)
    assert prov["model"].tolist() == ["λ = 0.1", "λ = 0.0"] and (prov["device"] == "cpu").all()
    assert len(list((tmp_path / "runs").glob("smgnn-seed0-*.pt"))) == 2
