"""The piece trainer: notebook defaults, the runner's parameter merge, filters, cached pieces."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from medgraph.experiments import (
    load_study_data,
    metric_learning_study,
    notebook_study,
    segmentation_study,
)
from medgraph.pieces import main, notebook_defaults, piece_parameters, select_pieces, shard
from medgraph.runs import RunConfigError

ROOT = Path(__file__).resolve().parents[1]
NB02 = ROOT / "notebooks" / "02_smgnn_vs_baselines.ipynb"
NB03 = ROOT / "notebooks" / "03_metric_learning_umap.ipynb"
NB01 = ROOT / "notebooks" / "01_superpixel_scale.ipynb"

TINY = {
    "dataset": "wbc1",
    "n_phantoms": 8,
    "seeds": [0, 1],
    "models": ["smgnn", "unet"],
    "epochs": 1,
    "ablation_epochs": 1,
    "ablation_lambdas": [0.0],
    "ablation_gnns": ["smgnn_gat"],
    "ablation_scales": [64],
    "config": {"batch_size": 4, "baseline_options": {"base": 4, "depth": 2}},
}

TINY03 = {
    "dataset": "wbc1",
    "n_phantoms": 8,
    "seed": 3,
    "epochs": 1,
    "config": {"batch_size": 4},
}


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    config = {
        "profiles": {"quick": {"parameters": {"data_source": "phantom", "seeds": [5]}}},
        "runs": [
            {"name": "02_tiny", "notebook": str(NB02), "parameters": TINY},
            {"name": "03_tiny", "notebook": str(NB03), "parameters": TINY03},
            {"name": "01_tiny", "notebook": str(NB01), "parameters": {"dataset": "wbc1"}},
        ],
    }
    (tmp_path / "papermill_runs.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def test_notebook_defaults_runs_the_parameters_cell_alone(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import math\na = 2\nb = [a, 3]  # comment\n_c = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("raise SystemExit('not executed')")]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert notebook_defaults(tmp_path / "x.ipynb") == {"a": 2, "b": [2, 3]}
    nb.cells = nb.cells[1:]
    nbformat.write(nb, tmp_path / "y.ipynb")
    with pytest.raises(RunConfigError, match="0 cells tagged"):
        notebook_defaults(tmp_path / "y.ipynb")
    defaults = notebook_defaults(NB02)
    assert defaults["epochs"] == 150 and defaults["split_seed"] == 0 and defaults["config"] == {}


def test_parameters_merge_like_the_runner(workbook):
    cfg = workbook / "papermill_runs.yaml"
    params = piece_parameters(cfg, "quick", "02_tiny", {"config": {"lr": 0.5}})
    assert params["seeds"] == [0, 1]  # the run's value over the profile's [5]
    assert params["data_source"] == "phantom" and params["baseline_size"] == "small"  # default
    assert params["config"] == {**TINY["config"], "lr": 0.5}  # a mapping merges key by key
    with pytest.raises(RunConfigError, match="no run 'nope'"):
        piece_parameters(cfg, "quick", "nope")


def test_select_pieces_filters(workbook):
    params = piece_parameters(workbook / "papermill_runs.yaml", "quick", "02_tiny")
    study = segmentation_study(params)
    assert list(study) == ["comparison", "lambda", "gnn", "scale"]
    assert len(select_pieces(study)) == 4 + 1 + 1 + 4
    assert select_pieces(study, models=["unet"], seeds=[1]) == [("comparison", "unet", 1)]
    # a model name matches every variant of that model; a label only itself
    assert select_pieces(study, groups=["scale"], models=["pure_gnn"]) == [
        ("scale", "pure GNN + metric, S = 64", 0),
        ("scale", "pure GNN, S = 64", 0),
    ]
    assert select_pieces(study, models=["λ = 0"]) == [("lambda", "λ = 0", 0)]
    with pytest.raises(RunConfigError, match="unknown groups"):
        select_pieces(study, groups=["tables"])


def test_trains_once_then_finds_the_piece_cached(workbook, capsys):
    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    argv += ["--run", "02_tiny", "--cache", str(workbook / "runs"), "--device", "cpu"]
    assert main([*argv, "--models", "unet", "--seeds", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("02_tiny (quick): 1 piece, 1 distinct run; wbc1 (phantom)")
    assert "trained" in out[1]
    assert re.search(r"test Dice 3cls [01]\.\d{4} cell [01]\.\d{4}  unet-seed1-", out[1])
    assert [p.name[:11] for p in (workbook / "runs").glob("*.pt")] == ["unet-seed1-"]
    assert main([*argv, "--groups", "comparison", "--dry-run"]) == 0
    status = [line.split()[-2] for line in capsys.readouterr().out.splitlines()[1:]]
    assert status == ["train", "train", "train", "cached"]  # smgnn 0, 1, unet 0, 1
    assert main([*argv, "--models", "unet", "--seeds", "1"]) == 0
    assert "cached" in capsys.readouterr().out.splitlines()[1]
    # with no time left after the first piece, the second is not started
    assert main([*argv, "--models", "unet", "--budget-s", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "unet" in out[1] and out[2].startswith("stopped after 1 of 2 runs")
    assert main([*argv, "--models", "vgg"]) == 2
    assert "no piece matches" in capsys.readouterr().err


def test_shards_split_the_pieces_without_overlap():
    pieces = list(range(7))
    shares = [shard(pieces, f"{i}/3") for i in (1, 2, 3)]
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert shard(pieces, "1/1") == pieces
    for bad in ("0/3", "4/3", "a/b", "2"):
        with pytest.raises(RunConfigError):
            shard(pieces, bad)


def test_cli_shards_are_disjoint_and_cover_every_run(workbook, capsys):
    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    argv += ["--run", "02_tiny", "--cache", str(workbook / "runs"), "--dry-run"]
    listed = []
    for spec in ("1/3", "2/3", "3/3"):
        assert main([*argv, "--shard", spec]) == 0
        out = capsys.readouterr().out.splitlines()
        assert f"shard {spec}" in out[0]
        listed.append({line.split()[-1] for line in out[1:]})
    assert main(argv) == 0
    everything = {line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert len(everything) == 10
    assert set.union(*listed) == everything and sum(map(len, listed)) == 10
    assert main([*argv, "--shard", "4/3"]) == 2


def test_export_writes_the_committed_store_the_notebook_reads(workbook, capsys, monkeypatch):
    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    argv += ["--run", "02_tiny", "--device", "cpu", "--groups", "comparison"]
    cache, store = str(workbook / "runs"), workbook / "trained"
    assert main([*argv, "--cache", cache, "--models", "unet"]) == 0
    capsys.readouterr()
    # the first seed feeds the cell-type classifier when the run classifies
    export = [*argv, "--cache", cache, "--set", "run_classification=true", "--export", str(store)]
    assert main(export) == 0
    out = capsys.readouterr().out.splitlines()[1:]
    assert "smgnn" in out[0] and "not cached, skipped" in out[0]
    assert "unet" in out[2] and "seed 0" in out[2] and "with predictions of every image" in out[2]
    assert "seed 1" in out[3] and "exported" in out[3] and "every image" not in out[3]
    assert out[-1] == f"2 entries written to {store}"
    assert sorted(p.name[:11] for p in store.glob("*.pt")) == ["unet-seed0-", "unet-seed1-"]
    assert main(export) == 0
    assert "0 entries written" in capsys.readouterr().out
    # a machine with an empty cache finds them in the store and trains nothing
    monkeypatch.setenv("MEDGRAPH_RESULT_STORE", str(store))
    fresh = [*argv, "--cache", str(workbook / "empty")]
    assert main([*fresh, "--dry-run"]) == 0
    status = [line.split()[-2] for line in capsys.readouterr().out.splitlines()[1:]]
    assert status == ["train", "train", "stored", "stored"]
    assert main([*fresh, "--models", "unet", "--seeds", "0"]) == 0
    assert "cached" in capsys.readouterr().out.splitlines()[1]
    assert not (workbook / "empty").exists()


def test_metric_learning_study_plans_notebook_03s_two_runs():
    params = {"lambdas": [0.1, 0.0], "seed": 2, "epochs": 5, "config": {"batch_size": 4}}
    study = metric_learning_study(params)
    assert list(study) == ["metric"]
    group = study["metric"]
    assert group.variants == {"λ = 0.1": ("smgnn", {"lam": 0.1}), "λ = 0": ("smgnn", {"lam": 0.0})}
    assert group.seeds == (2,) and group.config.epochs == 5 and group.config.batch_size == 4
    # the study of a notebook and the seed of its data and split
    assert notebook_study(NB03, params) == (study, 2)
    assert notebook_study("notebooks/03_metric_learning_umap.py", params)[1] == 2
    with pytest.raises(ValueError, match="distinct"):
        metric_learning_study({**params, "lambdas": [0.1, 0.1]})
    with pytest.raises(KeyError, match="epochs"):
        metric_learning_study({"lambdas": [0.1], "seed": 0, "config": {}})
    with pytest.raises(KeyError, match="plans no training runs"):
        notebook_study(NB01, params)


def test_notebook_03_pieces_are_the_runs_the_notebook_asks_for(workbook, capsys):
    from medgraph.result_cache import cached_train_segmentation
    from medgraph.segmentation import SegmentationConfig

    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    argv += ["--run", "03_tiny", "--cache", str(workbook / "runs"), "--device", "cpu"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("03_tiny (quick): 2 pieces, 2 distinct runs; wbc1 (phantom)")
    assert [line.split()[:4] for line in out[1:]] == [
        ["metric", "λ", "=", "0.1"],
        ["metric", "λ", "=", "0"],
    ]
    assert all(" seed 3 " in line and "to train" in line for line in out[1:])
    assert main([*argv, "--models", "λ = 0"]) == 0
    assert "trained" in capsys.readouterr().out.splitlines()[1]
    # notebook 03's own way of asking (its seed seeds the phantoms and the split) finds it cached
    data, splits = load_study_data("wbc1", "phantom", None, 8, split_seed=3)
    cfg = SegmentationConfig.from_any({"batch_size": 4}, epochs=1, lam=0.0)
    run = cached_train_segmentation(
        "smgnn", data, splits, cfg, device="cpu", seed=3, cache_dir=workbook / "runs"
    )
    assert run.provenance.get("from_cache")
    assert main([*argv, "--dry-run"]) == 0
    status = [line.split()[-2] for line in capsys.readouterr().out.splitlines()[1:]]
    assert status == ["train", "cached"]


def test_a_notebook_without_training_runs_is_a_clear_error(workbook, capsys):
    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    assert main([*argv, "--run", "01_tiny", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: '01_superpixel_scale' plans no training runs")
