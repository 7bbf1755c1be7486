"""Golden training fingerprints: training behaviour never changes without a recipe version bump.

Every registered model (:data:`medgraph.models.registry.MODELS`) is trained for two epochs on
seeded phantoms, on the CPU with one thread. What it produced (per-epoch losses and validation
scores, weight statistics, predicted class counts) is compared with ``golden/training.json``,
recorded together with the versions that enter the model's run keys (the segmentation recipe's
and the model's). A stored run is reused only while those versions are unchanged, so a change of
training behaviour at unchanged versions would silently reuse runs that the new code would train
differently: this test fails and names the version to bump.

The comparison allows relative differences of 1e-4 in the floats (and a few pixels in the class
counts): enough for the last-bit differences of floating point between CPUs, far below what any
change of method, initialisation, schedule or data order gives after two epochs. The exact
SHA-256 of weights and predictions is recorded too, for ``tools/training_digest.py``.

To refresh the file after a deliberate change (and a version bump):
``MEDGRAPH_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_digests.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from medgraph.data import make_wbc_phantoms
from medgraph.models.registry import MODELS
from medgraph.options import RunOptions
from medgraph.segmentation import train_segmentation
from medgraph.segmentation.recipe import RECIPE_VERSION
from medgraph.training import split_indices

GOLDEN = Path(__file__).parent / "golden" / "training.json"
UPDATE = os.environ.get("MEDGRAPH_UPDATE_GOLDEN") == "1"
RTOL = 1e-4
PIXEL_SLACK = 0.002  # share of test pixels whose predicted class may differ


def _versions(name: str) -> dict[str, int]:
    return {"segmentation": RECIPE_VERSION, name: MODELS[name].version}


def _config(name: str) -> dict:
    cfg: dict = {"epochs": 2, "batch_size": 4, "n_anchors": 64, "n_refs": 64}
    if name in ("unet", "attention_unet", "unet++"):
        cfg["baseline_options"] = {"base": 4, "depth": 2}
    if name == "swin_unet":
        cfg["baseline_options"] = {
            "embed_dim": 12,
            "depths": (1, 1),
            "num_heads": (1, 2),
            "window_size": 5,
        }
    return cfg


@pytest.fixture(scope="module")
def phantoms():
    data = make_wbc_phantoms(8, seed=5, style="wbc1", size=40)
    return data, split_indices(len(data), (0.5, 0.25, 0.25), seed=0)


def fingerprint(run) -> dict:
    """What a short training run produced, as numbers to compare and an exact digest."""
    weights = [
        v.detach().double().cpu()
        for m in [run.model] + ([run.metric_loss] if run.metric_loss is not None else [])
        for v in m.state_dict().values()
        if v.is_floating_point()
    ]
    flat = torch.cat([w.reshape(-1) for w in weights])
    probe = torch.sin(torch.arange(flat.numel(), dtype=torch.float64))  # a fixed direction
    counts = np.bincount(np.concatenate([p.ravel() for p in run.test_predictions]), minlength=3)
    digest = hashlib.sha256()
    for w in weights:
        digest.update(w.float().numpy().tobytes())
    for p in run.test_predictions:
        digest.update(np.ascontiguousarray(p).tobytes())
    return {
        "train_loss": [float(v) for v in run.history.train_loss],
        "val_dice": [float(v["dice"]) for v in run.history.val],
        "best_epoch": int(run.history.best_epoch),
        "weight_sum": float(flat.sum()),
        "weight_sq": float((flat**2).sum()),
        "weight_probe": float((flat * probe).sum()),
        "n_weights": int(flat.numel()),
        "class_counts": [int(c) for c in counts],
        "sha256": digest.hexdigest()[:16],
    }


def _differences(now: dict, then: dict) -> list[str]:
    out = []
    for name in ("train_loss", "val_dice", "weight_sum", "weight_sq", "weight_probe"):
        a, b = np.atleast_1d(now[name]), np.atleast_1d(then[name])
        if a.shape != b.shape or not np.allclose(a, b, rtol=RTOL, atol=1e-7):
            out.append(f"{name}: {then[name]} → {now[name]}")
    for name in ("best_epoch", "n_weights"):
        if now[name] != then[name]:
            out.append(f"{name}: {then[name]} → {now[name]}")
    a, b = np.asarray(now["class_counts"]), np.asarray(then["class_counts"])
    if a.shape != b.shape or np.abs(a - b).sum() > PIXEL_SLACK * max(b.sum(), 1):
        out.append(f"class_counts: {then['class_counts']} → {now['class_counts']}")
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_training_matches_golden_fingerprint(name, phantoms):
    data, splits = phantoms
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = train_segmentation(
            name,
            data,
            splits,
            _config(name),
            seed=3,
            options=RunOptions(device="cpu", progress=False),
        )
    finally:
        torch.set_num_threads(threads)
    now = {"versions": _versions(name), **fingerprint(run)}
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if UPDATE:
        golden[name] = now
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    assert name in golden, f"no golden fingerprint for {name!r}; record it (module notes)"
    then = golden[name]
    if then["versions"] != now["versions"]:
        pytest.fail(
            f"the golden fingerprint of {name!r} was recorded at versions {then['versions']}, "
            f"the code is at {now['versions']}: refresh it "
            "(MEDGRAPH_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_digests.py)"
        )
    diff = _differences(now, then)
    assert not diff, (
        f"training of {name!r} changed while its run-key versions {now['versions']} did not, so "
        f"stored runs would be reused for a different method: bump MODELS[{name!r}].version in "
        "lib/medgraph/models/registry.py (or RECIPE_VERSION in lib/medgraph/segmentation/"
        "recipe.py when every model changed), then refresh the golden file (module notes). "
        "Differences: " + "; ".join(diff)
    )


def test_fingerprint_tells_a_changed_method(phantoms):
    """The comparison is sensitive: one more hidden unit or another learning rate is caught."""
    data, splits = phantoms
    opts = RunOptions(device="cpu", progress=False)
    base = fingerprint(
        train_segmentation("smgnn", data, splits, _config("smgnn"), seed=3, options=opts)
    )
    again = fingerprint(
        train_segmentation("smgnn", data, splits, _config("smgnn"), seed=3, options=opts)
    )
    assert _differences(again, base) == []
    other = fingerprint(
        train_segmentation(
            "smgnn", data, splits, {**_config("smgnn"), "lr": 5e-3}, seed=3, options=opts
        )
    )
    assert _differences(other, base), "a different learning rate went unnoticed"
