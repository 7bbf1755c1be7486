"""The piece trainer: notebook defaults, the runner's parameter merge, filters, the store.

Every test trains on 40-pixel phantoms (:func:`small_phantoms`) for one epoch, so that a piece
takes a second or two.
"""

import re
from pathlib import Path

import nbformat
import pytest
import torch
import yaml

import medgraph.segmentation.recipe as recipe
from medgraph.data import make_wbc_phantoms
from medgraph.options import RunOptions
from medgraph.parameters import ParameterError, notebook_defaults
from medgraph.pieces import main, piece_parameters, run_study, select_pieces, shard
from medgraph.runs import RunConfigError
from medgraph.segmentation import (
    SEGMENTATION,
    SegmentationConfig,
    SegmentationRequest,
    train_or_load,
)
from medgraph.store import ENV_RESULT_STORE, read_entry, run_lock
from medgraph.studies import get_study

ROOT = Path(__file__).resolve().parents[1]
NB02 = ROOT / "notebooks" / "02_smgnn_vs_baselines.ipynb"
NB03 = ROOT / "notebooks" / "03_metric_learning_umap.ipynb"
NB01 = ROOT / "notebooks" / "01_superpixel_scale.ipynb"
SIDE = 40

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
    "seeds": [3],  # over the quick profile's seeds [5] of the workbook
    "epochs": 1,
    "config": {"batch_size": 4},
}


@pytest.fixture
def small_phantoms(monkeypatch):
    """Every data set the studies load is made of 40 × 40 phantoms (the tests' only data)."""

    def load(name, source="auto", root=None, n_phantoms=None, seed=0):
        assert source == "phantom", f"a test asked for {source} data"
        return make_wbc_phantoms(n_phantoms, seed=seed, style=name, size=SIDE)

    monkeypatch.setattr(recipe, "load_dataset", load)


@pytest.fixture
def workbook(tmp_path, monkeypatch, small_phantoms):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    monkeypatch.setenv(ENV_RESULT_STORE, "")  # the committed trained/ is never read here
    config = {
        "profiles": {"quick": {"parameters": {"data_source": "phantom", "seeds": [5]}}},
        "runs": [
            {
                "name": "02_tiny",
                "notebook": str(NB02),
                "study": "smgnn_vs_baselines",
                "parameters": TINY,
            },
            {
                "name": "03_tiny",
                "notebook": str(NB03),
                "study": "metric_learning_umap",
                "parameters": TINY03,
            },
            {
                "name": "01_tiny",
                "notebook": str(NB01),
                "study": "superpixel_scale",
                "parameters": {"dataset": "wbc1"},
            },
            {"name": "02_nameless", "notebook": str(NB02), "parameters": TINY},
            {
                "name": "02_misnamed",
                "notebook": str(NB02),
                "study": "smgnn_vs_baseline",
                "parameters": TINY,
            },
        ],
    }
    (tmp_path / "papermill_runs.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return tmp_path


def _argv(workbook: Path, run: str = "02_tiny", cache: str = "runs") -> list[str]:
    argv = ["--config", str(workbook / "papermill_runs.yaml"), "--profile", "quick"]
    return [*argv, "--run", run, "--cache", str(workbook / cache), "--device", "cpu"]


def _states(out: str) -> list[str]:
    """The state column of ``--dry-run`` lines (the second-last word: "train" of "to train")."""
    return [line.split()[-2] for line in out.splitlines()[1:] if not line.startswith("    ")]


def _key(workbook: Path, model: str, seed: int):
    """The key the pieces command gives 02_tiny's comparison run of ``model`` and ``seed``."""
    params = piece_parameters(workbook / "papermill_runs.yaml", "quick", "02_tiny")
    study = get_study("smgnn_vs_baselines")
    data, splits = study.data_and_splits(params)
    group = study.plan(params)["comparison"]
    cfg = SegmentationConfig.from_any(group.config, **group.variants[model][1])
    return SEGMENTATION.key(study.name, SegmentationRequest.make(model, data, splits, cfg, seed))


# --------------------------------------------------------------------------------------------
# parameters and selection
# --------------------------------------------------------------------------------------------


def test_notebook_defaults_runs_the_parameters_cell_alone(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import math\na = 2\nb = [a, 3]  # comment\n_c = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("raise SystemExit('not executed')")]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert notebook_defaults(tmp_path / "x.ipynb") == {"a": 2, "b": [2, 3]}
    nb.cells = nb.cells[1:]
    nbformat.write(nb, tmp_path / "y.ipynb")
    with pytest.raises(ParameterError, match="0 cells tagged"):
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
    # overrides are checked against the notebook's parameters cell, as the runner's are
    with pytest.raises(RunConfigError, match="unknown parameter 'epoch'.*did you mean 'epochs'"):
        piece_parameters(cfg, "quick", "02_tiny", {"epoch": 3})
    with pytest.raises(RunConfigError, match="'epochs' must be an integer ≥ 1, got 0"):
        piece_parameters(cfg, "quick", "02_tiny", {"epochs": 0})


def test_run_study_reads_the_runs_study(workbook):
    cfg = workbook / "papermill_runs.yaml"
    assert run_study(cfg, "02_tiny") == "smgnn_vs_baselines"
    assert run_study(cfg, "03_tiny") == "metric_learning_umap"
    with pytest.raises(RunConfigError, match="run '02_nameless' names no study"):
        run_study(cfg, "02_nameless")
    with pytest.raises(RunConfigError, match="no run 'nope'"):
        run_study(cfg, "nope")


def test_a_run_without_a_known_study_is_refused(workbook, capsys):
    assert main([*_argv(workbook, "02_nameless"), "--dry-run"]) == 2
    assert capsys.readouterr().err.startswith("error: run '02_nameless' names no study")
    assert main([*_argv(workbook, "02_misnamed"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown study 'smgnn_vs_baseline'")
    assert "smgnn_vs_baselines" in err  # the known studies are listed
    assert not (workbook / "runs").exists()


def test_unknown_set_key_is_refused_naming_the_valid_ones(workbook, capsys):
    assert main([*_argv(workbook), "--set", "epoch=2", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown parameter 'epoch' for 02_smgnn_vs_baselines.ipynb")
    assert "did you mean 'epochs'?" in err
    assert "its parameters: " in err and "ablation_epochs" in err and "split_seed" in err
    assert len(err.splitlines()) == 1
    assert main([*_argv(workbook), "--set", "epochs=none"]) == 2
    assert "parameter 'epochs' must be an int" in capsys.readouterr().err
    assert not (workbook / "runs").exists()


def test_select_pieces_filters(workbook):
    params = piece_parameters(workbook / "papermill_runs.yaml", "quick", "02_tiny")
    plan = get_study("smgnn_vs_baselines").plan(params)
    assert list(plan) == ["comparison", "lambda", "gnn", "scale"]
    assert len(select_pieces(plan)) == 4 + 1 + 1 + 4
    assert select_pieces(plan, models=["unet"], seeds=[1]) == [("comparison", "unet", 1)]
    # a model name matches every variant of that model; a label only itself
    assert select_pieces(plan, groups=["scale"], models=["pure_gnn"]) == [
        ("scale", "pure GNN + metric, S = 64", 0),
        ("scale", "pure GNN, S = 64", 0),
    ]
    assert select_pieces(plan, models=["λ = 0"]) == [("lambda", "λ = 0", 0)]
    with pytest.raises(RunConfigError, match="unknown groups"):
        select_pieces(plan, groups=["tables"])


def test_shards_split_the_pieces_without_overlap():
    pieces = list(range(7))
    shares = [shard(pieces, f"{i}/3") for i in (1, 2, 3)]
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert shard(pieces, "1/1") == pieces
    for bad in ("0/3", "4/3", "a/b", "2"):
        with pytest.raises(RunConfigError):
            shard(pieces, bad)


def test_cli_shards_are_disjoint_and_cover_every_run(workbook, capsys):
    argv = [*_argv(workbook), "--dry-run"]
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


def test_a_study_without_training_runs_trains_nothing(workbook, capsys):
    assert main([*_argv(workbook, "01_tiny"), "--dry-run"]) == 0
    assert capsys.readouterr().out == "01_tiny: study superpixel_scale trains nothing\n"
    assert not (workbook / "runs").exists()


# --------------------------------------------------------------------------------------------
# training into the cache, and what the store says of it
# --------------------------------------------------------------------------------------------


def test_trains_once_then_finds_the_piece_cached(workbook, capsys):
    argv = _argv(workbook)
    assert main([*argv, "--models", "unet", "--seeds", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "02_tiny (quick, study smgnn_vs_baselines): 1 piece, 1 distinct run; wbc1 (phantom)"
    )
    assert "trained" in out[1]
    assert re.search(r"test Dice 3cls [01]\.\d{4} cell [01]\.\d{4}  unet-seed1-", out[1])
    assert [p.name[:11] for p in (workbook / "runs").glob("*.pt")] == ["unet-seed1-"]
    assert main([*argv, "--groups", "comparison", "--dry-run"]) == 0
    assert _states(capsys.readouterr().out) == ["train", "train", "train", "cached"]
    assert main([*argv, "--models", "unet", "--seeds", "1"]) == 0
    assert "cached" in capsys.readouterr().out.splitlines()[1]
    # with no time left after the first piece, the second is not started
    assert main([*argv, "--models", "unet", "--budget-s", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "unet" in out[1] and out[2].startswith("stopped after 1 of 2 runs")
    assert main([*argv, "--models", "vgg"]) == 2
    assert "no piece matches" in capsys.readouterr().err


def test_dry_run_verifies_entries_and_reports_damage(workbook, capsys, monkeypatch):
    argv = [*_argv(workbook), "--groups", "comparison"]
    assert main([*argv, "--models", "unet"]) == 0
    capsys.readouterr()
    # seed 0 goes to a committed store and leaves the cache; seed 1 stays cached
    store = workbook / "trained"
    assert main([*argv, "--models", "unet", "--seeds", "0", "--export", str(store)]) == 0
    (seed0,) = (workbook / "runs").glob("unet-seed0-*.pt")
    seed0.unlink()
    monkeypatch.setenv(ENV_RESULT_STORE, str(store))
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert _states(out) == ["train", "train", "stored", "cached"]  # smgnn 0, 1, unet 0, 1
    assert "damaged" not in out

    # bytes changed in the middle of the cached entry: damaged, named, status 1
    (entry,) = (workbook / "runs").glob("unet-seed1-*.pt")
    raw = bytearray(entry.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
    entry.write_bytes(bytes(raw))
    assert main([*argv, "--dry-run"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert _states(captured.out) == ["train", "train", "stored", "damaged"]
    (where,) = [i for i, line in enumerate(lines) if "damaged" in line.split()]
    assert lines[where].endswith(entry.name)
    assert f"stored run {entry} is damaged" in lines[where + 1]
    assert "--retrain-damaged" in lines[where + 1]
    assert captured.err == "1 damaged entry: see above\n"

    # a store entry whose payload was rewritten fails its SHA-256
    (stored,) = store.glob("unet-seed0-*.pt")
    record = torch.load(stored, weights_only=True)
    record["payload"] = record["payload"][:-1] + bytes([record["payload"][-1] ^ 1])
    torch.save(record, stored)
    assert main([*argv, "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert _states(captured.out) == ["train", "train", "damaged", "damaged"]
    assert "its payload's SHA-256 is" in captured.out
    assert re.fullmatch(r"2 damaged entries: see above\n", captured.err)


def test_a_damaged_entry_is_retrained_only_when_asked(workbook, capsys):
    argv = [*_argv(workbook), "--models", "unet", "--seeds", "1"]
    assert main(argv) == 0
    (entry,) = (workbook / "runs").glob("unet-seed1-*.pt")
    record = torch.load(entry, weights_only=True)
    record["payload"] = b"not the payload" + record["payload"]
    torch.save(record, entry)
    damaged = entry.read_bytes()
    capsys.readouterr()
    # never a silent retrain: an error line naming the file, status 1, the entry left as it is
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "trained" not in captured.out
    (line,) = captured.err.splitlines()
    assert re.match(r"comparison +unet +seed 1  error: stored run .* is damaged", line)
    assert entry.name in line
    assert entry.read_bytes() == damaged
    # --retrain-damaged trains it again and replaces the entry with a sound one
    with pytest.warns(UserWarning, match="is damaged; training the run again"):
        assert main([*argv, "--retrain-damaged"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "trained" in out[1] and entry.name in out[1]
    assert read_entry(entry).fields["name"] == "unet"
    assert main([*argv, "--dry-run"]) == 0
    assert _states(capsys.readouterr().out) == ["cached"]


def test_a_piece_locked_by_another_holder_is_skipped(workbook, capsys):
    argv = [*_argv(workbook), "--models", "unet", "--seeds", "1"]
    cache = workbook / "runs"
    key = _key(workbook, "unet", 1)
    with run_lock(cache, key):  # another trainer of the same run, here in this process
        assert main([*argv, "--dry-run"]) == 0
        assert _states(capsys.readouterr().out) == ["training"]
        assert main(argv) == 0
        out = capsys.readouterr().out.splitlines()
        assert re.match(r"comparison +unet +seed 1  skipped: ", out[1])
        assert f"{key.file_name} is being trained by pid " in out[1]
        assert not list(cache.glob("*.pt"))
    # released: the same command trains it, under the key the lock was taken for
    assert main(argv) == 0
    assert "trained" in capsys.readouterr().out.splitlines()[1]
    assert (cache / key.file_name).exists()


def test_export_writes_the_committed_store_the_notebook_reads(workbook, capsys, monkeypatch):
    argv = [*_argv(workbook), "--groups", "comparison"]
    store = workbook / "trained"
    assert main([*argv, "--models", "unet"]) == 0
    capsys.readouterr()
    # the first seed feeds the cell-type classifier when the run classifies
    export = [*argv, "--set", "run_classification=true", "--export", str(store)]
    assert main(export) == 0
    out = capsys.readouterr().out.splitlines()[1:]
    assert "smgnn" in out[0] and "not cached, skipped" in out[0]
    assert "unet" in out[2] and "seed 0" in out[2] and "with predictions of every image" in out[2]
    assert "seed 1" in out[3] and "exported" in out[3] and "every image" not in out[3]
    assert out[-1] == f"2 entries written to {store}"
    assert sorted(p.name[:11] for p in store.glob("*.pt")) == ["unet-seed0-", "unet-seed1-"]
    # the store form drops the baseline's weights
    assert all(read_entry(p).payload["model_state"] is None for p in store.glob("*.pt"))
    assert main(export) == 0
    assert "0 entries written" in capsys.readouterr().out
    # a machine with an empty cache finds them in the store and trains nothing
    monkeypatch.setenv(ENV_RESULT_STORE, str(store))
    fresh = [*_argv(workbook, cache="empty"), "--groups", "comparison"]
    assert main([*fresh, "--dry-run"]) == 0
    assert _states(capsys.readouterr().out) == ["train", "train", "stored", "stored"]
    assert main([*fresh, "--models", "unet", "--seeds", "0"]) == 0
    assert "cached" in capsys.readouterr().out.splitlines()[1]
    assert not (workbook / "empty").exists()


def test_notebook_03_pieces_are_the_runs_the_notebook_asks_for(workbook, capsys):
    argv = _argv(workbook, "03_tiny")
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "03_tiny (quick, study metric_learning_umap): 3 pieces, 3 distinct runs; wbc1 (phantom)"
    )
    # the notebook's default class_lambdas adds the class-aware reading as a third run
    assert [line.split()[:7] for line in out[1:]] == [
        ["metric", "λ", "=", "0.1", "seed", "3", "to"],
        ["metric", "λ", "=", "0", "seed", "3", "to"],
        ["metric", "λ", "=", "0.1,", "class", "target", "seed"],
    ]
    assert all(" seed 3 " in line and "to train" in line for line in out[1:])
    assert main([*argv, "--models", "λ = 0"]) == 0
    assert "trained" in capsys.readouterr().out.splitlines()[1]
    # notebook 03's own way of asking (its seed seeds the phantoms and the split) finds it cached
    study = get_study("metric_learning_umap")
    params = {
        "dataset": "wbc1",
        "data_source": "phantom",
        "data_root": None,
        "n_phantoms": 8,
        "seed": 3,
    }
    data, splits = study.data_and_splits(params)
    cfg = SegmentationConfig.from_any({"batch_size": 4}, epochs=1, lam=0.0)
    options = RunOptions(device="cpu", progress=False, result_cache=workbook / "runs")
    run = train_or_load(study.name, "smgnn", data, splits, cfg, 3, options)
    assert run.provenance.get("from_cache", "").startswith("smgnn-seed3-")
    assert main([*argv, "--dry-run"]) == 0
    assert _states(capsys.readouterr().out) == ["train", "cached", "train"]
