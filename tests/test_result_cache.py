"""The result cache: a run is trained once, loaded back exactly, and keyed on what it depends on."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
import torch

import medgraph.result_cache as rc
from medgraph.data import make_wbc_phantoms
from medgraph.experiments import compare_segmentation_models, run_provenance
from medgraph.losses import NonFiniteLossError
from medgraph.segmentation import SegmentationConfig, predict
from medgraph.training import split_indices

CONFIG = {
    "epochs": 2,
    "batch_size": 4,
    "progress": False,
    "baseline_options": {"base": 4, "depth": 2},
}


@pytest.fixture(scope="module")
def data():
    ds = make_wbc_phantoms(8, seed=5, style="wbc1", size=40)
    return ds, split_indices(len(ds), (0.5, 0.25, 0.25), seed=0)


def _forbid_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("trained although the result cache holds the run")

    monkeypatch.setattr(rc, "train_segmentation", fail)


def test_round_trip_restores_weights_predictions_and_history(data, tmp_path, monkeypatch):
    ds, splits = data
    first = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 1, tmp_path)
    entries = list(tmp_path.glob("*.pt"))
    assert [p.name[:12] for p in entries] == ["smgnn-seed1-"]
    assert "from_cache" not in first.provenance and first.provenance["device"] == "cpu"

    _forbid_training(monkeypatch)
    again = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 1, tmp_path)
    assert again.provenance["from_cache"] == entries[0].name
    assert again.provenance["trained_utc"] == first.provenance["trained_utc"]
    assert again.n_parameters == first.n_parameters
    assert dataclasses.asdict(again.history) == dataclasses.asdict(first.history)
    for a, b in zip(again.test_predictions, first.test_predictions, strict=True):
        np.testing.assert_array_equal(a, b)
    for (name, a), (_, b) in zip(
        again.model.state_dict().items(), first.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    # the learned a, b of the metric loss (Eq 2.6) come back too
    assert torch.equal(again.metric_loss.a, first.metric_loss.a)
    np.testing.assert_array_equal(again.preprocessing.image_mean, first.preprocessing.image_mean)
    # the rebuilt model predicts exactly what the trained one did, on images it never saw
    new_images = make_wbc_phantoms(2, seed=9, style="wbc1", size=40).images
    for a, b in zip(predict(again, new_images), predict(first, new_images), strict=True):
        np.testing.assert_array_equal(a, b)


def test_comparison_from_cache_scores_the_same(data, tmp_path, monkeypatch):
    ds, splits = data
    variants = {"smgnn": ("smgnn", {}), "unet++": ("unet++", {})}
    runs, scores = compare_segmentation_models(
        ds, variants, [0], splits, CONFIG, device="cpu", result_cache=tmp_path
    )
    # "+" is not in file names (it may not survive copies between machines)
    assert sorted(p.name.split("-seed")[0] for p in tmp_path.glob("*.pt")) == ["smgnn", "unetpp"]
    _forbid_training(monkeypatch)
    runs2, scores2 = compare_segmentation_models(
        ds, variants, [0], splits, CONFIG, device="cpu", result_cache=tmp_path
    )
    cols = [c for c in scores.columns if c != "seconds_per_epoch"]
    pd.testing.assert_frame_equal(scores[cols], scores2[cols])
    prov = run_provenance(runs2)
    assert list(prov["model"]) == ["smgnn", "unet++"]
    assert prov["from_cache"].str.endswith(".pt").all()
    assert (run_provenance(runs)["from_cache"] == "").all()


def test_key_follows_what_changes_the_result(data):
    ds, splits = data
    cfg = SegmentationConfig.from_any(CONFIG)
    key = rc.run_key("smgnn", ds, splits, cfg, 0)
    assert len(key) == 64 and key == rc.run_key("smgnn", ds, splits, CONFIG, 0)
    # where things are shown or written is not part of the key
    for same in ({"progress": True}, {"checkpoint": "/tmp/x.pt"}, {"cache_dir": "/tmp/sp"}):
        assert rc.run_key("smgnn", ds, splits, {**CONFIG, **same}, 0) == key
    changed = [
        rc.run_key("smgnn", ds, splits, cfg, 1),
        rc.run_key("unet", ds, splits, cfg, 0),
        rc.run_key("smgnn", ds, splits, {**CONFIG, "lam": 0.5}, 0),
        rc.run_key("smgnn", ds, splits, {**CONFIG, "cnn_dilation": [1, 2, 4]}, 0),
        rc.run_key("smgnn", ds, (splits[1], splits[0], splits[2]), cfg, 0),
    ]
    one_pixel = dataclasses.replace(ds, masks=[m.copy() for m in ds.masks])
    one_pixel.masks[-1][0, 0] = (one_pixel.masks[-1][0, 0] + 1) % 3
    changed.append(rc.run_key("smgnn", one_pixel, splits, cfg, 0))
    assert len({key, *changed}) == len(changed) + 1


def test_key_follows_the_code(data, monkeypatch):
    ds, splits = data
    key = rc.run_key("smgnn", ds, splits, CONFIG, 0)
    monkeypatch.setattr(rc, "code_fingerprint", lambda: "0" * 64)
    assert rc.run_key("smgnn", ds, splits, CONFIG, 0) != key


def test_corrupt_entry_warns_and_retrains(data, tmp_path):
    ds, splits = data
    key = rc.run_key("smgnn", ds, splits, CONFIG, 0)
    path = rc.entry_path(tmp_path, "smgnn", 0, key)
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="(?s)could not be used.*else training it again"):
        run = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 0, tmp_path)
    assert "from_cache" not in run.provenance
    # overwritten with a good entry
    assert rc.load_run(path, key, "cpu").n_parameters == run.n_parameters
    # an entry holding another key is refused, not silently used
    with pytest.raises(ValueError, match="holds key"):
        rc.load_run(path, "f" * 64, "cpu")


def test_entry_records_the_revision_at_the_start_of_training(data, tmp_path, monkeypatch):
    ds, splits = data
    revisions = iter(["aaaa1111", "bbbb2222"])  # HEAD moves while the run trains
    monkeypatch.setattr(rc, "git_revision", lambda: next(revisions))
    real = rc.train_segmentation

    def train_then_commit(*args, **kwargs):
        run = real(*args, **kwargs)
        run.provenance["git_revision"] = rc.git_revision()  # what training itself saw at the end
        return run

    monkeypatch.setattr(rc, "train_segmentation", train_then_commit)
    run = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 3, tmp_path)
    assert run.provenance["git_revision"] == "aaaa1111"
    assert run.provenance["code_fingerprint"] == rc.code_fingerprint()[:16]
    (entry,) = tmp_path.glob("*.pt")
    key = rc.run_key("smgnn", ds, splits, CONFIG, 3)
    assert rc.load_run(entry, key, "cpu").provenance["git_revision"] == "aaaa1111"


def test_failed_training_writes_nothing(data, tmp_path, monkeypatch):
    ds, splits = data

    def diverge(*args, **kwargs):
        raise NonFiniteLossError("loss is nan at epoch 0")

    monkeypatch.setattr(rc, "train_segmentation", diverge)
    with pytest.raises(NonFiniteLossError):
        rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 0, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_resolve_result_cache(tmp_path, monkeypatch):
    assert rc.resolve_result_cache(None) is None
    monkeypatch.setenv(rc.ENV_RESULT_CACHE, str(tmp_path / "runs"))
    assert rc.resolve_result_cache("auto") == tmp_path / "runs"
    assert rc.resolve_result_cache(str(tmp_path / "x")) == tmp_path / "x"
    monkeypatch.delenv(rc.ENV_RESULT_CACHE)
    assert rc.resolve_result_cache("auto").parts[-2:] == (".cache", "runs")


def test_pack_labels_round_trip_and_range():
    label = np.array([[0, 1, 2], [2, 2, 0]])
    packed = rc._pack_labels(label)
    assert packed["shape"] == [2, 3] and packed["zlib"].dtype == torch.uint8
    back = rc._unpack_labels(packed)
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, label)
    # a full entry's plain uint8 tensor is read as is
    np.testing.assert_array_equal(
        rc._unpack_labels(torch.tensor([[1, 0]], dtype=torch.uint8)), [[1, 0]]
    )
    with pytest.raises(ValueError, match="0 … 255"):
        rc._pack_labels(np.array([[0, 256]]))


def test_slim_store_entries_serve_the_notebook_without_training(data, tmp_path, monkeypatch):
    ds, splits = data
    cache, store = tmp_path / "cache", tmp_path / "trained"
    first = {
        m: rc.cached_train_segmentation(m, ds, splits, CONFIG, "cpu", 0, cache)
        for m in ("smgnn", "unet")
    }
    full = {p.name.split("-seed")[0]: p for p in cache.glob("*.pt")}
    rc.slim_entry(full["smgnn"], store / full["smgnn"].name)
    rc.slim_entry(full["unet"], store / full["unet"].name, ds)
    with pytest.raises(ValueError, match="already a slim entry"):
        rc.slim_entry(store / full["unet"].name, tmp_path / "again.pt")
    # the baseline's weights are dropped: the store entry is a fraction of the cache entry
    assert (store / full["unet"].name).stat().st_size < full["unet"].stat().st_size / 2

    monkeypatch.setenv(rc.ENV_RESULT_STORE, str(store))
    assert rc.result_stores() == [store]
    _forbid_training(monkeypatch)
    empty_cache = tmp_path / "elsewhere"
    again = {
        m: rc.cached_train_segmentation(m, ds, splits, CONFIG, "cpu", 0, empty_cache)
        for m in ("smgnn", "unet")
    }
    assert not empty_cache.exists()  # loading from the store writes nothing to the cache
    for m in ("smgnn", "unet"):
        assert again[m].provenance["from_cache"] == f"trained/{full[m].name}"
        assert dataclasses.asdict(again[m].history) == dataclasses.asdict(first[m].history)
        assert again[m].n_parameters == first[m].n_parameters
        for a, b in zip(again[m].test_predictions, first[m].test_predictions, strict=True):
            assert a.dtype == np.int64
            np.testing.assert_array_equal(a, b)
    # the graph model keeps its weights and predicts as before
    for a, b in zip(
        predict(again["smgnn"], ds.images), predict(first["smgnn"], ds.images), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    # the baseline serves its stored predictions of every image, and refuses to run
    assert isinstance(again["unet"].model, rc.WeightsNotKept)
    for a, b in zip(
        rc.predict_dataset(again["unet"], ds), predict(first["unet"], ds.images), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="were not kept"):
        predict(again["unet"], ds.images[:1])
    # predictions of another data set are refused, even where the image ids coincide
    other = make_wbc_phantoms(2, seed=9, style="wbc1", size=40)
    assert set(other.ids) <= set(ds.ids)
    with pytest.raises(ValueError, match="of another data set"):
        rc.predict_dataset(again["unet"], other)
    # an entry slimmed without them says so
    rc.slim_entry(full["unet"], tmp_path / "bare" / full["unet"].name)
    key = rc.run_key("unet", ds, splits, CONFIG, 0)
    bare = rc.load_run(tmp_path / "bare" / full["unet"].name, key, "cpu")
    with pytest.raises(ValueError, match="without predictions of 8 images"):
        rc.predict_dataset(bare, ds)


def test_a_bad_store_entry_warns_and_falls_back_to_training(data, tmp_path, monkeypatch):
    ds, splits = data
    store = tmp_path / "trained"
    store.mkdir()
    key = rc.run_key("smgnn", ds, splits, CONFIG, 2)
    rc.entry_path(store, "smgnn", 2, key).write_bytes(b"truncated")
    monkeypatch.setenv(rc.ENV_RESULT_STORE, str(store))
    with pytest.warns(UserWarning, match="result store entry"):
        run = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 2, tmp_path / "c")
    assert "from_cache" not in run.provenance
    # the store is read-only: training wrote to the cache, never over the store's file
    assert rc.entry_path(store, "smgnn", 2, key).read_bytes() == b"truncated"
    monkeypatch.setenv(rc.ENV_RESULT_STORE, "")
    assert rc.result_stores() == []
    monkeypatch.delenv(rc.ENV_RESULT_STORE)
    assert rc.result_stores()[0].name == "trained"


def test_a_run_killed_part_way_resumes_from_the_cache(data, tmp_path, monkeypatch):
    ds, splits = data
    cfg = {**CONFIG, "epochs": 4}
    whole = rc.cached_train_segmentation("unet", ds, splits, cfg, "cpu", 0, tmp_path / "a")

    import medgraph.segmentation as seg

    real, calls = seg.mean_dice, [0]

    def killed_in_epoch_2(*args, **kwargs):
        calls[0] += 1
        if calls[0] > 4:  # validate() scores twice an epoch: epochs 0 and 1 finish
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(seg, "mean_dice", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        rc.cached_train_segmentation("unet", ds, splits, cfg, "cpu", 0, tmp_path / "b")
    assert not list((tmp_path / "b").glob("*.pt"))  # no entry: the run did not finish
    (partial,) = (tmp_path / "b" / rc.PARTIAL).glob("*.pt")
    monkeypatch.setattr(seg, "mean_dice", real)
    run = rc.cached_train_segmentation("unet", ds, splits, cfg, "cpu", 0, tmp_path / "b")
    assert run.history.resumed_at == [2] and len(run.history) == 4
    assert run_provenance({("unet", 0): run})["resumed_at"].tolist() == ["2"]
    assert run_provenance({("unet", 0): whole})["resumed_at"].tolist() == [""]
    assert not partial.exists()  # deleted once the entry is saved
    (entry,) = (tmp_path / "b").glob("*.pt")
    assert entry.name == next((tmp_path / "a").glob("*.pt")).name
    assert rc.load_run(entry, rc.run_key("unet", ds, splits, cfg, 0), "cpu").config.resume is None
    assert run.history.train_loss == whole.history.train_loss
    for (name, a), (_, b) in zip(
        run.model.state_dict().items(), whole.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    for a, b in zip(run.test_predictions, whole.test_predictions, strict=True):
        np.testing.assert_array_equal(a, b)


def test_entries_of_an_equivalent_code_version_are_used(data, tmp_path, monkeypatch):
    ds, splits = data
    monkeypatch.setattr(rc, "code_fingerprint", lambda: "1" * 64)
    first = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 0, tmp_path)
    (entry,) = tmp_path.glob("*.pt")
    monkeypatch.setattr(rc, "code_fingerprint", lambda: "2" * 64)  # the code changed
    monkeypatch.setattr(rc, "EQUIVALENT_CODE", {"1" * 64: "shown to train the same runs"})
    keys = rc.run_keys("smgnn", ds, splits, CONFIG, 0)
    assert len(keys) == 2 and keys[0] == rc.run_key("smgnn", ds, splits, CONFIG, 0)
    assert entry.name == rc.entry_path(tmp_path, "smgnn", 0, keys[1]).name
    with monkeypatch.context() as m:
        _forbid_training(m)
        again = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 0, tmp_path)
    assert again.provenance["from_cache"] == entry.name
    assert again.provenance["code_fingerprint"] == "1" * 16  # still names the code that trained it
    assert torch.equal(again.metric_loss.a, first.metric_loss.a)
    # not listed as equivalent: trained again, under the new key
    monkeypatch.setattr(rc, "EQUIVALENT_CODE", {})
    fresh = rc.cached_train_segmentation("smgnn", ds, splits, CONFIG, "cpu", 0, tmp_path)
    assert "from_cache" not in fresh.provenance and len(list(tmp_path.glob("*.pt"))) == 2


def test_equivalent_code_versions_are_documented():
    for fingerprint, evidence in rc.EQUIVALENT_CODE.items():
        assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
        assert fingerprint != rc.code_fingerprint()
        assert "training_digest" in evidence
