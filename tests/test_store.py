"""The store: runs keyed by what they mean, verified when read, trained once, carried over intact."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import medgraph.segmentation.recipe as recipe_module
import medgraph.segmentation.training as seg_training
import medgraph.store as store
from medgraph.data import make_wbc_phantoms
from medgraph.losses import NonFiniteLossError
from medgraph.models.registry import MODELS
from medgraph.options import RunOptions
from medgraph.segmentation import (
    SEGMENTATION,
    SegmentationConfig,
    SegmentationRequest,
    WeightsNotKept,
    compare_segmentation_models,
    predict,
    predict_dataset,
    run_provenance,
    slim_payload,
    train_or_load,
)
from medgraph.segmentation.recipe import RECIPE_VERSION, _pack_labels, _unpack_labels
from medgraph.training import split_indices

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"epochs": 2, "batch_size": 4, "baseline_options": {"base": 4, "depth": 2}}
STUDY = "test_study"


@pytest.fixture(scope="module")
def data():
    ds = make_wbc_phantoms(8, seed=5, style="wbc1", size=40)
    return ds, split_indices(len(ds), (0.5, 0.25, 0.25), seed=0)


def _opts(cache: Path | None, **kw) -> RunOptions:
    return RunOptions(device="cpu", progress=False, result_cache=cache, stores=(), **kw)


def _key(ds, splits, model="smgnn", config=CONFIG, seed=0, study=STUDY) -> store.RunKey:
    return SEGMENTATION.key(study, SegmentationRequest.make(model, ds, splits, config, seed))


def _forbid_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("trained although the store holds the run")

    monkeypatch.setattr(recipe_module, "train_segmentation", fail)


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------


def test_key_follows_what_changes_the_result(data):
    ds, splits = data
    key = _key(ds, splits).digest
    assert (
        len(key) == 64
        and key == _key(ds, splits, config=SegmentationConfig.from_any(CONFIG)).digest
    )
    changed = [
        _key(ds, splits, seed=1),
        _key(ds, splits, model="unet"),
        _key(ds, splits, config={**CONFIG, "lam": 0.5}),
        _key(ds, splits, config={**CONFIG, "cnn_dilation": [1, 2, 4]}),
        _key(ds, (splits[1], splits[0], splits[2])),
        _key(ds, splits, study="another_study"),
    ]
    one_pixel = dataclasses.replace(ds, masks=[m.copy() for m in ds.masks])
    one_pixel.masks[-1][0, 0] = (one_pixel.masks[-1][0, 0] + 1) % 3
    changed.append(_key(one_pixel, splits))
    assert len({key, *(k.digest for k in changed)}) == len(changed) + 1


def test_options_are_not_hyperparameters(data):
    """How a run is carried out is kept out of the config, so it cannot reach the key."""
    for name in ("progress", "cache_dir", "checkpoint", "resume", "superpixel_cache", "device"):
        with pytest.raises(ValueError, match="unknown segmentation config keys"):
            SegmentationConfig.from_any({name: None})
    fields = {f.name for f in dataclasses.fields(RunOptions)}
    assert not fields & {f.name for f in dataclasses.fields(SegmentationConfig)}


def test_a_version_bump_changes_the_key(data, monkeypatch):
    ds, splits = data
    before = _key(ds, splits).digest
    bumped = dataclasses.replace(MODELS["smgnn"], version=MODELS["smgnn"].version + 1)
    monkeypatch.setattr(recipe_module, "get_model", lambda name: bumped)
    assert _key(ds, splits).digest != before
    monkeypatch.undo()
    monkeypatch.setattr(recipe_module, "RECIPE_VERSION", RECIPE_VERSION + 1)
    assert _key(ds, splits).digest != before


def test_key_of_a_reference_run_is_pinned():
    """A field added to SegmentationConfig without ``metadata={"added": True}`` would change
    every stored run's key (and make days of training ``to train``): this pins one key."""
    fields = store.RunKey(
        study="smgnn_vs_baselines",
        recipe="segmentation",
        versions={"segmentation": 1, "smgnn": 1},
        name="smgnn",
        seed=0,
        hyperparameters=SegmentationConfig().key_hyperparameters(),
        data="0" * 64,
        split=[[0, 1], [2], [3]],
    )
    assert fields.digest == REFERENCE_DIGEST, (
        "the key of the reference run changed: a new SegmentationConfig field needs "
        'metadata={"added": True} (module notes of medgraph.segmentation.config)'
    )


REFERENCE_DIGEST = "e38374e3becbc0b2d34f98db0235adb9dc71c648c09545f1afaa88a68c758921"


def test_an_unrelated_module_edited_leaves_the_key_unchanged(data, tmp_path):
    """The key hashes no source: a copy of the package with a new loss and a new graph builder
    gives the same key in a fresh interpreter."""
    copy = tmp_path / "lib"
    shutil.copytree(ROOT / "lib" / "medgraph", copy / "medgraph")
    with open(copy / "medgraph" / "losses" / "graph_cut.py", "a") as handle:
        handle.write("\n\ndef new_loss(x):\n    '''A loss added later.'''\n    return x.sum()\n")
    (copy / "medgraph" / "graphs" / "new_builder.py").write_text(
        "'''A graph builder added later.'''\n\n\ndef build(x):\n    return x\n"
    )
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import medgraph, json\n"
        "assert medgraph.__file__.startswith(sys.argv[1]), medgraph.__file__\n"
        "from medgraph.data import make_wbc_phantoms\n"
        "from medgraph.training import split_indices\n"
        "from medgraph.segmentation import SEGMENTATION, SegmentationRequest\n"
        "ds = make_wbc_phantoms(8, seed=5, style='wbc1', size=40)\n"
        "sp = split_indices(len(ds), (0.5, 0.25, 0.25), seed=0)\n"
        "cfg = json.loads(sys.argv[2])\n"
        "print(SEGMENTATION.key('test_study', SegmentationRequest.make('smgnn', ds, sp, cfg)).digest)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(copy), json.dumps(CONFIG)],
        capture_output=True,
        text=True,
        check=True,
    )
    ds, splits = data
    assert out.stdout.strip() == _key(ds, splits).digest


# --------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------


def test_round_trip_restores_weights_predictions_and_history(data, tmp_path, monkeypatch):
    ds, splits = data
    first = train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 1, _opts(tmp_path))
    entries = list(tmp_path.glob("*.pt"))
    assert [p.name[:12] for p in entries] == ["smgnn-seed1-"]
    assert "from_cache" not in first.provenance and first.provenance["device"] == "cpu"
    entry = store.read_entry(entries[0])
    assert entry.fields["study"] == STUDY and entry.fields["versions"]["smgnn"] == 1

    _forbid_training(monkeypatch)
    again = train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 1, _opts(tmp_path))
    assert again.provenance["from_cache"] == entries[0].name
    assert again.provenance["trained_utc"] == first.provenance["trained_utc"]
    assert dataclasses.asdict(again.history) == dataclasses.asdict(first.history)
    for a, b in zip(again.test_predictions, first.test_predictions, strict=True):
        np.testing.assert_array_equal(a, b)
    for (name, a), (_, b) in zip(
        again.model.state_dict().items(), first.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert torch.equal(again.metric_loss.a, first.metric_loss.a)
    new_images = make_wbc_phantoms(2, seed=9, style="wbc1", size=40).images
    for a, b in zip(predict(again, new_images), predict(first, new_images), strict=True):
        np.testing.assert_array_equal(a, b)


def test_comparison_from_the_cache_scores_the_same(data, tmp_path, monkeypatch):
    ds, splits = data
    variants = {"smgnn": ("smgnn", {}), "unet++": ("unet++", {})}
    runs, scores = compare_segmentation_models(
        STUDY, ds, variants, [0], splits, CONFIG, _opts(tmp_path)
    )
    # "+" is not in file names (it may not survive copies between machines)
    assert sorted(p.name.split("-seed")[0] for p in tmp_path.glob("*.pt")) == ["smgnn", "unetpp"]
    _forbid_training(monkeypatch)
    runs2, scores2 = compare_segmentation_models(
        STUDY, ds, variants, [0], splits, CONFIG, _opts(tmp_path)
    )
    cols = [c for c in scores.columns if c != "seconds_per_epoch"]
    pd.testing.assert_frame_equal(scores[cols], scores2[cols])
    prov = run_provenance(runs2)
    assert list(prov["model"]) == ["smgnn", "unet++"]
    assert prov["from_cache"].str.endswith(".pt").all()
    assert (run_provenance(runs)["from_cache"] == "").all()


def test_failed_training_writes_nothing(data, tmp_path, monkeypatch):
    ds, splits = data

    def diverge(*args, **kwargs):
        raise NonFiniteLossError("loss is nan at epoch 0")

    monkeypatch.setattr(recipe_module, "train_segmentation", diverge)
    with pytest.raises(NonFiniteLossError):
        train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 0, _opts(tmp_path))
    assert not list(tmp_path.glob("*.pt"))


def test_entry_records_the_revision_at_the_start_of_training(data, tmp_path, monkeypatch):
    ds, splits = data
    revisions = iter(["aaaa1111", "bbbb2222"])  # HEAD moves while the run trains
    monkeypatch.setattr(store, "git_revision", lambda: next(revisions))
    run = train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 3, _opts(tmp_path))
    assert run.provenance["git_revision"] == "aaaa1111"
    (entry,) = tmp_path.glob("*.pt")
    assert store.read_entry(entry).payload["provenance"]["git_revision"] == "aaaa1111"


def test_resolve_result_cache(tmp_path, monkeypatch):
    assert store.resolve_result_cache(None) is None
    monkeypatch.setenv(store.ENV_RESULT_CACHE, str(tmp_path / "runs"))
    assert store.resolve_result_cache("auto") == tmp_path / "runs"
    assert store.resolve_result_cache(str(tmp_path / "x")) == tmp_path / "x"
    monkeypatch.delenv(store.ENV_RESULT_CACHE)
    assert store.resolve_result_cache("auto").parts[-2:] == (".cache", "runs")
    monkeypatch.setenv(store.ENV_RESULT_STORE, "")
    assert store.result_stores() == []
    monkeypatch.delenv(store.ENV_RESULT_STORE)
    assert store.result_stores()[0].name == "trained"


def test_pack_labels_round_trip_and_range():
    label = np.array([[0, 1, 2], [2, 2, 0]])
    packed = _pack_labels(label)
    assert packed["shape"] == [2, 3] and packed["zlib"].dtype == torch.uint8
    back = _unpack_labels(packed)
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, label)
    np.testing.assert_array_equal(
        _unpack_labels(torch.tensor([[1, 0]], dtype=torch.uint8)), [[1, 0]]
    )
    with pytest.raises(ValueError, match="0 … 255"):
        _pack_labels(np.array([[0, 256]]))


def test_slim_store_entries_serve_the_notebook_without_training(data, tmp_path, monkeypatch):
    ds, splits = data
    cache, committed = tmp_path / "cache", tmp_path / "trained"
    first = {
        m: train_or_load(STUDY, m, ds, splits, CONFIG, 0, _opts(cache)) for m in ("smgnn", "unet")
    }
    full = {p.name.split("-seed")[0]: p for p in cache.glob("*.pt")}
    store.export_entry(full["smgnn"], committed / full["smgnn"].name, slim_payload)
    store.export_entry(full["unet"], committed / full["unet"].name, lambda p: slim_payload(p, ds))
    with pytest.raises(ValueError, match="already in the slim form"):
        store.export_entry(committed / full["unet"].name, tmp_path / "again.pt", slim_payload)
    assert (committed / full["unet"].name).stat().st_size < full["unet"].stat().st_size / 2

    _forbid_training(monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    opts = RunOptions(device="cpu", progress=False, result_cache=elsewhere, stores=(committed,))
    again = {m: train_or_load(STUDY, m, ds, splits, CONFIG, 0, opts) for m in ("smgnn", "unet")}
    assert not elsewhere.exists()  # loading from the store writes nothing to the cache
    for m in ("smgnn", "unet"):
        assert again[m].provenance["from_cache"] == f"trained/{full[m].name}"
        assert dataclasses.asdict(again[m].history) == dataclasses.asdict(first[m].history)
        for a, b in zip(again[m].test_predictions, first[m].test_predictions, strict=True):
            assert a.dtype == np.int64
            np.testing.assert_array_equal(a, b)
    for a, b in zip(
        predict(again["smgnn"], ds.images), predict(first["smgnn"], ds.images), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert isinstance(again["unet"].model, WeightsNotKept)
    for a, b in zip(
        predict_dataset(again["unet"], ds), predict(first["unet"], ds.images), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="were not kept"):
        predict(again["unet"], ds.images[:1])
    other = make_wbc_phantoms(2, seed=9, style="wbc1", size=40)
    with pytest.raises(ValueError, match="of another data set"):
        predict_dataset(again["unet"], other)


def test_a_run_killed_part_way_resumes_from_the_cache(data, tmp_path, monkeypatch):
    ds, splits = data
    cfg = {**CONFIG, "epochs": 4}
    whole = train_or_load(STUDY, "unet", ds, splits, cfg, 0, _opts(tmp_path / "a"))
    real, calls = seg_training.mean_dice, [0]

    def killed_in_epoch_2(*args, **kwargs):
        calls[0] += 1
        if calls[0] > 4:  # validate() scores twice an epoch: epochs 0 and 1 finish
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(seg_training, "mean_dice", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_or_load(STUDY, "unet", ds, splits, cfg, 0, _opts(tmp_path / "b"))
    assert not list((tmp_path / "b").glob("*.pt"))
    (partial,) = (tmp_path / "b" / store.PARTIAL).glob("*.pt")
    monkeypatch.setattr(seg_training, "mean_dice", real)
    run = train_or_load(STUDY, "unet", ds, splits, cfg, 0, _opts(tmp_path / "b"))
    assert run.history.resumed_at == [2] and len(run.history) == 4
    assert run_provenance({("unet", 0): run})["resumed_at"].tolist() == ["2"]
    assert not partial.exists()
    (entry,) = (tmp_path / "b").glob("*.pt")
    assert entry.name == next((tmp_path / "a").glob("*.pt")).name
    assert run.history.train_loss == whole.history.train_loss
    for (name, a), (_, b) in zip(
        run.model.state_dict().items(), whole.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


# --------------------------------------------------------------------------------------------
# integrity
# --------------------------------------------------------------------------------------------


def _rewrite_payload(path: Path, change) -> None:
    """Change a stored payload without updating its checksum (what a damaged copy looks like)."""
    record = torch.load(path, weights_only=True)
    payload = torch.load(__import__("io").BytesIO(record["payload"]), weights_only=True)
    change(payload)
    record["payload"] = store.payload_bytes(payload)
    torch.save(record, path)


def test_a_rewritten_prediction_is_a_clear_error_not_a_report(data, tmp_path, monkeypatch):
    ds, splits = data
    train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 0, _opts(tmp_path))
    (entry,) = tmp_path.glob("*.pt")

    def flip(payload):
        pred = payload["test_predictions"][0]
        payload["test_predictions"][0] = (pred + 1) % 3

    _rewrite_payload(entry, flip)
    _forbid_training(monkeypatch)
    with pytest.raises(store.StoreIntegrityError, match=f"(?s){entry.name}.*SHA-256") as info:
        train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 0, _opts(tmp_path))
    assert info.value.path == entry
    state, path, detail = store.entry_status(_key(ds, splits), _opts(tmp_path))
    assert state == "damaged" and path == entry and "SHA-256" in detail


def test_a_damaged_store_entry_is_an_error_and_retraining_takes_a_flag(data, tmp_path):
    ds, splits = data
    cache, committed = tmp_path / "cache", tmp_path / "trained"
    train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 2, _opts(cache))
    (entry,) = cache.glob("*.pt")
    committed.mkdir()
    damaged = committed / entry.name
    damaged.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # truncated copy
    opts = RunOptions(
        device="cpu", progress=False, result_cache=tmp_path / "c2", stores=(committed,)
    )
    with pytest.raises(store.StoreIntegrityError, match="cannot be read"):
        train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 2, opts)
    with pytest.warns(UserWarning, match="damaged; training the run again"):
        run = train_or_load(
            STUDY, "smgnn", ds, splits, CONFIG, 2, opts.replace(retrain_damaged=True)
        )
    assert "from_cache" not in run.provenance
    assert (tmp_path / "c2" / entry.name).exists()  # trained into the cache
    assert damaged.stat().st_size == entry.stat().st_size // 2  # the store is never written


def test_an_entry_of_another_key_or_format_is_refused(data, tmp_path):
    ds, splits = data
    train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 0, _opts(tmp_path))
    (entry,) = tmp_path.glob("*.pt")
    with pytest.raises(store.StoreIntegrityError, match="holds key"):
        store.read_entry(entry, "f" * 64)
    record = torch.load(entry, weights_only=True)
    record["fields"]["seed"] = 7  # fields that no longer hash to the key
    torch.save(record, tmp_path / "tampered.pt")
    with pytest.raises(store.StoreIntegrityError, match="do not hash to its key"):
        store.read_entry(tmp_path / "tampered.pt")
    torch.save({"format": 1, "key": "x"}, tmp_path / "old.pt")
    with pytest.raises(store.StoreIntegrityError, match="format 2"):
        store.read_entry(tmp_path / "old.pt")


# --------------------------------------------------------------------------------------------
# locks
# --------------------------------------------------------------------------------------------


def test_a_second_trainer_skips_or_waits(data, tmp_path, monkeypatch):
    ds, splits = data
    key = _key(ds, splits, seed=4)
    with store.run_lock(tmp_path, key):
        with pytest.raises(store.RunLockedError, match=f"{key.file_name} is being trained by pid"):
            train_or_load(
                STUDY, "smgnn", ds, splits, CONFIG, 4, _opts(tmp_path, wait_for_lock=False)
            )
        assert store.entry_status(key, _opts(tmp_path))[0] == "training"

    # another process holds the lock, finishes the run and releases it: the waiter loads it
    finished = train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 4, _opts(tmp_path / "elsewhere"))
    (made,) = (tmp_path / "elsewhere").glob("*.pt")
    held = threading.Event()

    def other_process():
        with store.run_lock(tmp_path, key):
            held.set()
            time.sleep(0.5)
            shutil.copy(made, tmp_path / made.name)

    thread = threading.Thread(target=other_process)
    thread.start()
    held.wait()
    _forbid_training(monkeypatch)
    with pytest.warns(UserWarning, match="waiting for pid"):
        run = train_or_load(STUDY, "smgnn", ds, splits, CONFIG, 4, _opts(tmp_path))
    thread.join()
    assert run.provenance["from_cache"] == made.name
    assert dataclasses.asdict(run.history) == dataclasses.asdict(finished.history)


# --------------------------------------------------------------------------------------------
# the committed store
# --------------------------------------------------------------------------------------------


def _paper_plan():
    """Every (study, model, seed, hyperparameters, n_images) the paper runs of the YAML plan, and
    the cpu-profile runs kept as validation evidence for a paper-profile setting."""
    from medgraph.pieces import piece_parameters, run_study, select_pieces
    from medgraph.studies import get_study

    config = ROOT / "papermill_runs.yaml"
    sizes = {"wbc1": 300, "wbc2": 100}
    planned = set()
    for profile, run, models, seeds in (
        ("paper", "02_smgnn_vs_baselines_wbc1", None, None),
        ("paper", "02_smgnn_vs_baselines_wbc2", None, None),
        ("paper", "03_metric_learning_umap_wbc1", None, None),
        ("paper", "03_metric_learning_umap_wbc2", None, None),
        # validation evidence for the paper profile's SMGNN head (issue 35 §1): the plain head
        ("cpu", "02_smgnn_vs_baselines_wbc1", ["smgnn"], [0]),
    ):
        params = piece_parameters(config, profile, run)
        study = get_study(run_study(config, run))
        plan = study.plan(params)
        for group, label, seed in select_pieces(plan, models=models, seeds=seeds):
            model, overrides = plan[group].variants[label]
            cfg = SegmentationConfig.from_any(plan[group].config, **overrides)
            hyper = json.dumps(cfg.key_hyperparameters(), sort_keys=True)
            planned.add((study.name, model, seed, hyper, sizes[params["dataset"]]))
    return planned


def test_every_committed_entry_is_verified_current_and_planned():
    """Without the data: every entry of trained/ passes its checksum, carries the current
    versions and complete hyperparameters, and is exactly one run that the paper profile plans
    (so it shows `stored`, not `to train`) or one kept as validation evidence; and every planned
    run has an entry."""
    entries = sorted((ROOT / "trained").glob("*.pt"))
    planned = _paper_plan()
    found = set()
    graph_cuts, backbones, melanoma = [], [], []
    for path in entries:
        entry = store.read_entry(path)
        f = entry.fields
        if f["recipe"] == "graph_cut":
            graph_cuts.append(f)
            continue
        if f["recipe"] == "cell_backbone":
            backbones.append(f)
            continue
        if f["recipe"] == "melanoma_cv":
            melanoma.append(f)
            continue
        assert path.name == store.RunKey(**f).file_name
        spec = MODELS[f["name"]]
        assert f["versions"] == {"segmentation": RECIPE_VERSION, spec.name: spec.version}, path.name
        hyper = SegmentationConfig.from_any(f["hyperparameters"]).key_hyperparameters()
        assert hyper == f["hyperparameters"], path.name
        n_images = sum(len(part) for part in f["split"])
        found.add((f["study"], f["name"], f["seed"], json.dumps(hyper, sort_keys=True), n_images))
    assert found == planned and len(found) == 64
    _check_graph_cut_entries(graph_cuts)
    _check_backbone_entries(backbones)
    _check_melanoma_entries(melanoma)


def _check_melanoma_entries(fields: list[dict]) -> None:
    """Notebook 06's paper run: one cross-validation per feature set of its plan (Tables 1-11,
    the conventional features alone and the leaky protocol), at the current recipe and feature
    versions and with the blocks and settings its parameters give (data checksum aside)."""
    from medgraph.melanoma.extraction import FEATURE_VERSION
    from medgraph.melanoma.recipe import RECIPE_VERSION as CV_VERSION
    from medgraph.melanoma.recipe import CVSettings
    from medgraph.pieces import piece_parameters
    from medgraph.studies.melanoma_graphs import feature_plan, feature_sets

    params = piece_parameters(ROOT / "papermill_runs.yaml", "paper", "06_melanoma_graphs_isic2017")
    plan = feature_plan(params)
    graph = {"delta": plan.delta, "gamma": plan.gamma, "compactness": plan.compactness}
    planned = set()
    for fs in feature_sets(params):
        settings = CVSettings(
            int(params["n_splits"]), int(params["n_select"]), fs.leaky, tuple(params["classifiers"])
        )
        hyper = {"blocks": list(fs.blocks), **settings.to_dict(), **graph}
        planned.add((fs.name, json.dumps(hyper, sort_keys=True)))
    found = set()
    for f in fields:
        assert f["versions"] == {"melanoma_cv": CV_VERSION, "melanoma_features": FEATURE_VERSION}
        assert f["study"] == "melanoma_graphs" and f["seed"] == params["cv_seed"]
        found.add((f["name"], json.dumps(f["hyperparameters"], sort_keys=True)))
    assert found == planned and len(fields) == len(planned) == 59


def _check_backbone_entries(fields: list[dict]) -> None:
    """Notebook 05's paper runs: one backbone per split of each run (C-NMC sample: 3 holdout
    seeds, 3 folds, 1 patient split; BCCD: 3 holdout seeds, 3 folds), at the current recipe
    version and with the settings the runs' parameters give (data checksum aside)."""
    from medgraph.knn_gcn.recipe import RECIPE_VERSION as BACKBONE_VERSION
    from medgraph.pieces import piece_parameters
    from medgraph.studies.leukemia_knn_gcn import backbone_settings

    planned = set()
    for run, splits in (
        (
            "05_leukemia_knn_gcn_cnmc_sample",
            ["holdout0", "holdout1", "holdout2", "fold0", "fold1", "fold2", "patients"],
        ),
        (
            "05_leukemia_knn_gcn_bccd",
            ["holdout0", "holdout1", "holdout2", "fold0", "fold1", "fold2"],
        ),
    ):
        params = piece_parameters(ROOT / "papermill_runs.yaml", "paper", run)
        settings = backbone_settings(params).to_dict()
        planned |= {
            (run.split("_")[-1], json.dumps({"split": s, **settings}, sort_keys=True))
            for s in splits
        }
    datasets = {"sample": 52, "bccd": 351}
    found = set()
    for f in fields:
        assert f["versions"] == {"cell_backbone": BACKBONE_VERSION}
        assert f["study"] == "leukemia_knn_gcn"
        n_fitted = sum(len(part) for part in f["split"])  # train + validation
        data = next(name for name, n in datasets.items() if n_fitted < n and n_fitted > n // 2)
        found.add((data, json.dumps(f["hyperparameters"], sort_keys=True)))
    assert found == planned and len(fields) == 13


def _check_graph_cut_entries(fields: list[dict]) -> None:
    """Notebook 04's paper run: one entry per combination, at the current recipe version and
    with the hyperparameters its parameters give (data checksum and image list aside)."""
    from medgraph.graphcut.recipe import RECIPE_VERSION as GRAPH_CUT_VERSION
    from medgraph.pieces import piece_parameters
    from medgraph.studies.unsupervised_graph_cuts import parse_combinations, settings_from

    params = piece_parameters(
        ROOT / "papermill_runs.yaml", "paper", "04_unsupervised_graph_cuts_emds5"
    )
    settings = settings_from(params).to_dict()
    planned = {
        json.dumps({"loss": loss, "layer": layer, **settings}, sort_keys=True)
        for loss, layer in parse_combinations(params["combinations"])
    }
    assert {json.dumps(f["hyperparameters"], sort_keys=True) for f in fields} == planned
    for f in fields:
        assert f["versions"] == {"graph_cut": GRAPH_CUT_VERSION}
        assert f["study"] == "unsupervised_graph_cuts" and len(f["split"][0]) == 420


# --------------------------------------------------------------------------------------------
# any kind of run
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _FoldRun:
    """A cross-validated nearest-centroid classifier: what a non-segmentation run can be."""

    accuracy: list[float]
    centroids: np.ndarray
    provenance: dict = dataclasses.field(default_factory=dict)


class _CrossValidatedRecipe:
    name = "nearest_centroid_cv"
    version = 1

    def __init__(self) -> None:
        self.trained = 0

    def key(self, study, request):
        x, y, folds = request
        return store.RunKey(
            study=study,
            recipe=self.name,
            versions={self.name: self.version},
            name="nearest_centroid",
            seed=0,
            hyperparameters={"folds": folds},
            data=__import__("hashlib").sha256(x.tobytes() + y.tobytes()).hexdigest(),
            split=[list(range(len(y)))],
        )

    def train(self, request, options):
        self.trained += 1
        x, y, folds = request
        accuracy = []
        for k in range(folds):
            test = np.arange(len(y)) % folds == k
            centroids = np.stack([x[~test & (y == c)].mean(0) for c in (0, 1)])
            pred = np.linalg.norm(x[test, None] - centroids[None], axis=2).argmin(1)
            accuracy.append(float((pred == y[test]).mean()))
        return _FoldRun(accuracy, centroids)

    def to_payload(self, run):
        return {"accuracy": run.accuracy, "centroids": torch.from_numpy(run.centroids)}

    def from_payload(self, payload, request, options):
        return _FoldRun(list(payload["accuracy"]), payload["centroids"].numpy())


def test_any_kind_of_run_uses_the_same_store(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    x = rng.normal(size=(40, 3)) + 2.0 * y[:, None]
    recipe = _CrossValidatedRecipe()
    first = store.obtain(recipe, STUDY, (x, y, 5), _opts(tmp_path))
    again = store.obtain(recipe, STUDY, (x, y, 5), _opts(tmp_path))
    assert recipe.trained == 1 and again.accuracy == first.accuracy
    assert again.provenance["from_cache"].startswith("nearest_centroid-seed0-")
    assert min(first.accuracy) > 0.7
    (entry,) = tmp_path.glob("nearest_centroid-seed0-*.pt")
    assert store.read_entry(entry).fields["recipe"] == "nearest_centroid_cv"
    store.obtain(recipe, STUDY, (x, y, 4), _opts(tmp_path))  # other hyperparameters: a new run
    assert recipe.trained == 2
