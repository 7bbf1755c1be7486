"""A disk cache of trained segmentation runs, so that a long study can be built in pieces.

Notebook 02's ``paper`` profile trains five models with three seeds on two data sets, plus about
thirty ablation variants: more than one machine session holds. :func:`cached_train_segmentation`
wraps :func:`medgraph.segmentation.train_segmentation`: a run whose inputs were already trained is
loaded from disk (weights, history, test predictions) instead of being trained again, so the
pieces can be trained in separate invocations (or on another machine, the cache entries copied
over) and the full notebook then assembles every table from them.

**What makes two runs the same.** The entry's key is the SHA-256 of

- the model name and the training seed;
- every :class:`~medgraph.segmentation.SegmentationConfig` field that can change the result (all
  but ``progress``, ``cache_dir`` and ``checkpoint``, which only say where things are shown or
  written);
- the data: ids, shapes and bytes of every image and mask (all images matter: the padding shape
  is taken over the whole data set) and the train / validation / test indices;
- the source code that trains and predicts (:data:`CODE_FILES`), so that any change to the
  method, even a comment, invalidates every entry; and the entry format :data:`FORMAT`.

**Changes shown not to change results.** A change to the training code that provably leaves every
run as it was (a resume state added to the loop, say) would otherwise throw away days of training.
Such a version may list the fingerprint of the version before it in :data:`EQUIVALENT_CODE`, with
the evidence: ``tools/training_digest.py`` run with both versions gave the same weights, test
predictions and history, bit for bit, for every model. An entry trained by a listed version is then
found under the key computed with that fingerprint (:func:`run_keys`); its provenance still names
the code that trained it. A change that may alter any result is never listed.

**Interrupted runs.** A run trained through the cache keeps a resume state
(:func:`medgraph.training.fit`) in ``<cache>/partial/`` while it trains, so a run cut off by the end
of a machine session continues from its last finished epoch when it is asked for again, with the
same result as one trained in one go; the state is deleted once the entry is saved.

The device, the host and the package versions are *not* part of the key: a run trained on a GPU
is reused on a CPU. They are recorded with the entry (:attr:`SegmentationRun.provenance`) and the
notebooks print them beside the results, so a report says where every number was trained.

Entries are written atomically (temporary file, then rename). An unreadable or mismatched entry is
reported with a warning and the run is trained again; a run that fails (for instance a non-finite
loss) writes nothing.

**The committed store.** The cache folder is git-ignored and does not outlive the machine it was
filled on, while the ``paper`` profile needs days of CPU time. Finished runs are therefore also
kept in *stores*: folders committed with the workbook (``trained/``; :func:`result_stores`), read
after the cache and never written by training. :func:`slim_entry` writes a store entry: the same
format and key, but the weights of the pixel baselines (2–3 million parameters each) are dropped,
and label maps are zlib-compressed. What the notebooks need of a baseline is kept: its test
predictions, its history and, for the runs whose segmentations feed the cell-type classifier, its
predictions on every image of the data set (:func:`predict_dataset` serves them). Graph models keep
their weights (7,000 parameters), which notebook 03 and the embedding figures need.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medgraph.data import SegmentationDataset
from medgraph.losses import SuperpixelMetricLoss
from medgraph.reporting import atomic_write, git_revision, repo_root
from medgraph.segmentation import (
    GRAPH_MODELS,
    Preprocessing,
    SegmentationConfig,
    SegmentationRun,
    _check_splits,
    build_segmentation_model,
    predict,
    train_segmentation,
)
from medgraph.training import History, select_device

__all__ = [
    "FORMAT",
    "CODE_FILES",
    "ENV_RESULT_CACHE",
    "ENV_RESULT_STORE",
    "WeightsNotKept",
    "default_result_cache",
    "result_stores",
    "resolve_result_cache",
    "EQUIVALENT_CODE",
    "code_fingerprint",
    "data_fingerprint",
    "run_key",
    "run_keys",
    "entry_path",
    "save_run",
    "load_run",
    "slim_entry",
    "predict_dataset",
    "cached_train_segmentation",
]

#: version of the entry layout; part of the key
FORMAT = 1

#: the package files whose content is part of the key (paths relative to ``medgraph/``; a folder
#: means every ``.py`` file under it)
CODE_FILES = (
    "segmentation.py",
    "training.py",
    "losses.py",
    "graphs.py",
    "metrics.py",
    "models",
    "superpixels",
)

#: environment variable naming the cache folder (see :func:`default_result_cache`)
ENV_RESULT_CACHE = "MEDGRAPH_RESULT_CACHE"

#: environment variable naming the committed stores, separated by ``os.pathsep``
#: (see :func:`result_stores`)
ENV_RESULT_STORE = "MEDGRAPH_RESULT_STORE"

#: fingerprints (:func:`code_fingerprint`) of earlier versions of :data:`CODE_FILES` that train
#: exactly what the current version trains, each with its evidence (module notes): entries they
#: trained are used as if the current code had trained them. Only ever for changes that cannot
#: alter a result; never edit an entry to make room for one that can.
EQUIVALENT_CODE: dict[str, str] = {
    "0cc743b93454e96637e02e681e580e5557ac9826c7ec1158f5c39a7c16372085": (
        "ce58732 (2026-11-30 to 2026-12-02; the 36 runs of trained/ until then): the next "
        "version only added fit's resume state (written after every epoch when asked for, never "
        "read otherwise), SegmentationConfig.resume, History.resumed_at and the seconds of a "
        "resumed run, and gave the superpixel cache's files ordinary permissions. "
        "tools/training_digest.py, both versions, 6 epochs, all eight models (smgnn, smgnn_gcn, "
        "smgnn_gat, pure_gnn, unet, attention_unet, unet++, swin_unet): identical digests, and "
        "identical again when resumed after epoch 3."
    ),
}

#: config fields that do not change what is trained
_NOT_IN_KEY = ("progress", "cache_dir", "checkpoint", "resume")

#: sub-folder of the cache holding the resume states of runs being trained
PARTIAL = "partial"


def default_result_cache() -> Path:
    """The cache folder: ``MEDGRAPH_RESULT_CACHE``, else ``<workbook root>/.cache/runs``.

    ``.cache/`` is git-ignored. The folder is not created here.
    """
    env = os.environ.get(ENV_RESULT_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    return repo_root() / ".cache" / "runs"


def resolve_result_cache(value: str | os.PathLike[str] | None) -> Path | None:
    """A notebook's ``result_cache`` parameter as a folder: None (off), ``"auto"`` or a path."""
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return default_result_cache()
    return Path(value).expanduser()


def result_stores() -> list[Path]:
    """The read-only stores searched after the cache: ``MEDGRAPH_RESULT_STORE`` (folders separated
    by ``os.pathsep``; empty: none), else ``<workbook root>/trained``."""
    env = os.environ.get(ENV_RESULT_STORE)
    if env is not None:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return [repo_root() / "trained"]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the relative paths and bytes of :data:`CODE_FILES` (hex)."""
    package = Path(__file__).resolve().parent
    files: list[Path] = []
    for name in CODE_FILES:
        path = package / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def data_fingerprint(data: SegmentationDataset) -> str:
    """SHA-256 over a data set's name, ids and the shapes, dtypes and bytes of images and masks."""
    digest = hashlib.sha256()
    digest.update(f"{data.name}\0{len(data)}\0".encode())
    for ident, image, mask in zip(data.ids, data.images, data.masks, strict=True):
        for array in (image, mask):
            array = np.ascontiguousarray(array)
            digest.update(f"{ident}\0{array.shape}\0{array.dtype.str}\0".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def _key_fields(
    model_name: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig,
    seed: int,
) -> dict[str, Any]:
    train, val, test = _check_splits(len(data), splits)
    settings = {k: v for k, v in config.to_dict().items() if k not in _NOT_IN_KEY}
    return {
        "format": FORMAT,
        "model": model_name,
        "seed": int(seed),
        "config": settings,
        "data": data_fingerprint(data),
        "splits": [train.tolist(), val.tolist(), test.tolist()],
        "code": code_fingerprint(),
    }


def run_key(
    model_name: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | dict[str, Any] | None,
    seed: int,
) -> str:
    """The cache key (64 hex digits) of one training run; see the module notes for its inputs."""
    return run_keys(model_name, data, splits, config, seed)[0]


def run_keys(
    model_name: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | dict[str, Any] | None,
    seed: int,
) -> list[str]:
    """The run's key under the current code, then under each version of :data:`EQUIVALENT_CODE`.

    An entry saved under any of them is this run; new entries are saved under the first.
    """
    fields = _key_fields(model_name, data, splits, SegmentationConfig.from_any(config), seed)
    keys = []
    for code in [fields["code"], *EQUIVALENT_CODE]:  # the data are hashed once, not per version
        text = json.dumps(
            {**fields, "code": code}, sort_keys=True, separators=(",", ":"), allow_nan=True
        )
        keys.append(hashlib.sha256(text.encode()).hexdigest())
    return list(dict.fromkeys(keys))


def entry_path(cache_dir: str | os.PathLike[str], model_name: str, seed: int, key: str) -> Path:
    """``<cache_dir>/<model>-seed<seed>-<key[:24]>.pt`` (model name reduced to ``[A-Za-z0-9_-]``)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "p", model_name)
    return Path(cache_dir) / f"{safe}-seed{int(seed)}-{key[:24]}.pt"


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def save_run(run: SegmentationRun, key: str, path: str | os.PathLike[str]) -> Path:
    """Write a run to ``path`` atomically (weights on the CPU; arrays as tensors).

    The file loads with ``torch.load(weights_only=True)``: tensors, numbers, strings, lists and
    dicts only.
    """
    pre = dataclasses.asdict(run.preprocessing)
    for name in ("image_mean", "image_std", "node_mean", "node_std"):
        if pre[name] is not None:
            pre[name] = torch.as_tensor(np.asarray(pre[name], dtype=np.float64))
    pre["pad_shape"] = [int(v) for v in pre["pad_shape"]]
    payload = {
        "format": FORMAT,
        "key": key,
        "model_name": run.model_name,
        "model_state": _cpu_state(run.model),
        "metric_state": _cpu_state(run.metric_loss) if run.metric_loss is not None else None,
        "history": dataclasses.asdict(run.history),
        "n_parameters": int(run.n_parameters),
        "train_idx": torch.as_tensor(run.train_idx, dtype=torch.int64),
        "val_idx": torch.as_tensor(run.val_idx, dtype=torch.int64),
        "test_idx": torch.as_tensor(run.test_idx, dtype=torch.int64),
        "test_predictions": [
            torch.as_tensor(np.asarray(p, dtype=np.uint8)) for p in run.test_predictions
        ],
        "test_ids": list(run.test_ids),
        "seconds": float(run.seconds),
        "config": run.config.to_dict(),
        "seed": int(run.seed),
        "preprocessing": pre,
        "provenance": {
            str(k): v if isinstance(v, bool | int | float | None) else str(v)
            for k, v in run.provenance.items()
        },
    }
    return atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def _pack_labels(label: np.ndarray) -> dict[str, Any]:
    """A class map (H, W) with values in 0 … 255 as ``{"shape", "zlib"}`` (compressed uint8)."""
    arr = np.asarray(label)
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError("label maps to pack must hold values in 0 … 255")
    raw = np.ascontiguousarray(arr, dtype=np.uint8).tobytes()
    packed = np.frombuffer(zlib.compress(raw, 9), dtype=np.uint8).copy()
    return {"shape": [int(v) for v in arr.shape], "zlib": torch.from_numpy(packed)}


def _unpack_labels(item: Any) -> np.ndarray:
    """Inverse of :func:`_pack_labels`; a plain tensor (a full entry's map) is converted as is."""
    if isinstance(item, dict):
        raw = zlib.decompress(item["zlib"].numpy().tobytes())
        return np.frombuffer(raw, dtype=np.uint8).reshape(item["shape"]).astype(np.int64)
    return item.numpy().astype(np.int64)


class WeightsNotKept(nn.Module):
    """The model of a run loaded from a slim store entry, whose weights were not committed.

    It has no parameters and cannot run; it holds the entry's stored predictions on whole data
    set (``predictions``: image id → (H, W) int64 class map), which :func:`predict_dataset`
    returns in place of a forward pass.
    """

    def __init__(
        self,
        model_name: str,
        entry: str,
        predictions: dict[str, np.ndarray],
        data_fingerprint: str | None = None,
    ) -> None:
        super().__init__()
        self.model_name = model_name
        self.entry = entry
        self.predictions = predictions
        #: :func:`data_fingerprint` of the data set the predictions are of
        self.data_fingerprint = data_fingerprint
        # an empty parameter, so that code asking for the model's device gets one; the forward
        # pass then says what is missing
        self.device_anchor = nn.Parameter(torch.empty(0), requires_grad=False)

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        raise RuntimeError(
            f"the weights of this {self.model_name} run were not kept (slim store entry "
            f"{self.entry}): it has its test predictions and "
            f"{len(self.predictions)} stored predictions (medgraph.result_cache.predict_dataset); "
            "train it again (python -m medgraph.pieces) to predict other images"
        )


def slim_entry(
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    data: SegmentationDataset | None = None,
) -> Path:
    """Write the store form of a cache entry (see the module notes) atomically.

    Parameters
    ----------
    source : a full entry written by :func:`save_run`
    destination : the store entry (usually ``<store>/<the same file name>``)
    data : SegmentationDataset, optional
        For a pixel baseline, also keep its predictions on every image of ``data`` (predicted here
        from the full entry, on the CPU), for :func:`predict_dataset`.

    Returns
    -------
    Path
        ``destination``.
    """
    payload = torch.load(Path(source), map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{source} is not a result-cache entry of format {FORMAT}")
    if payload.get("model_state") is None:
        raise ValueError(f"{source} is already a slim entry")
    if payload["model_name"] not in GRAPH_MODELS:
        if data is not None:
            run = load_run(source, payload["key"], "cpu")
            labels = predict(run, data.images)
            payload["all_predictions"] = {
                "data": data_fingerprint(data),
                "ids": list(data.ids),
                "labels": [_pack_labels(p) for p in labels],
            }
        payload["model_state"] = None
    payload["test_predictions"] = [
        _pack_labels(_unpack_labels(p)) for p in payload["test_predictions"]
    ]
    return atomic_write(Path(destination), lambda tmp: torch.save(payload, tmp))


def predict_dataset(run: SegmentationRun, data: SegmentationDataset) -> list[np.ndarray]:
    """A run's class maps of every image of ``data``: predicted, or the stored ones of a slim entry.

    Returns
    -------
    list of (H_n, W_n) int64 arrays, in the order of ``data``

    Raises
    ------
    ValueError
        When the run's weights were not kept and its entry stores no predictions of ``data`` (of
        another data set, or not of every image).
    """
    model = run.model
    if isinstance(model, WeightsNotKept):
        if model.predictions and model.data_fingerprint != data_fingerprint(data):
            raise ValueError(
                f"{run.model_name} seed {run.seed} comes from a slim store entry ({model.entry}) "
                f"whose stored predictions are of another data set than {data.name}; train it "
                "again with python -m medgraph.pieces"
            )
        missing = [i for i in data.ids if i not in model.predictions]
        if missing:
            raise ValueError(
                f"{run.model_name} seed {run.seed} comes from a slim store entry ({model.entry}) "
                f"without predictions of {len(missing)} images of {data.name} (e.g. "
                f"{missing[0]!r}); train it again with python -m medgraph.pieces"
            )
        return [model.predictions[i] for i in data.ids]
    return predict(run, data.images)


def load_run(
    path: str | os.PathLike[str], key: str, device: torch.device | str = "auto"
) -> SegmentationRun:
    """Read a run written by :func:`save_run`; the model is rebuilt, on ``device``, in eval mode.

    Raises
    ------
    ValueError
        When the file is not an entry of this format or holds another key.
    Exception
        Whatever :func:`torch.load` or ``load_state_dict`` raise for a corrupt file.
    """
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a result-cache entry of format {FORMAT}")
    if payload.get("key") != key:
        raise ValueError(f"{path} holds key {str(payload.get('key'))[:12]}…, not {key[:12]}…")
    dev = select_device(device)
    cfg = SegmentationConfig.from_any(payload["config"])
    model: nn.Module
    if payload["model_state"] is None:
        stored = payload.get("all_predictions") or {"ids": [], "labels": []}
        model = WeightsNotKept(
            payload["model_name"],
            Path(path).name,
            {
                str(i): _unpack_labels(p)
                for i, p in zip(stored["ids"], stored["labels"], strict=True)
            },
            stored.get("data"),
        )
    else:
        model = build_segmentation_model(payload["model_name"], cfg)
        model.load_state_dict(payload["model_state"])
    model.to(dev).eval()
    metric = None
    if payload["metric_state"] is not None:
        metric = SuperpixelMetricLoss(cfg.n_anchors, cfg.n_refs)
        metric.load_state_dict(payload["metric_state"])
        metric.to(dev)
    pre = dict(payload["preprocessing"])
    for name in ("image_mean", "image_std", "node_mean", "node_std"):
        if pre[name] is not None:
            pre[name] = pre[name].numpy()
    pre["pad_shape"] = tuple(pre["pad_shape"])
    provenance = dict(payload["provenance"])
    provenance["from_cache"] = str(Path(path).name)
    return SegmentationRun(
        model_name=payload["model_name"],
        model=model,
        history=History(**payload["history"]),
        n_parameters=int(payload["n_parameters"]),
        train_idx=payload["train_idx"].numpy(),
        val_idx=payload["val_idx"].numpy(),
        test_idx=payload["test_idx"].numpy(),
        test_predictions=[_unpack_labels(p) for p in payload["test_predictions"]],
        test_ids=list(payload["test_ids"]),
        seconds=float(payload["seconds"]),
        config=cfg,
        seed=int(payload["seed"]),
        preprocessing=Preprocessing(**pre),
        device=str(dev),
        metric_loss=metric,
        provenance=provenance,
    )


def cached_train_segmentation(
    model_name: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | dict[str, Any] | None = None,
    device: torch.device | str = "auto",
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> SegmentationRun:
    """:func:`medgraph.segmentation.train_segmentation`, through the result cache.

    Parameters
    ----------
    model_name, data, splits, config, device, seed
        As for :func:`~medgraph.segmentation.train_segmentation`.
    cache_dir : path or None
        The cache folder; None trains without caching.

    Returns
    -------
    SegmentationRun
        Loaded when ``cache_dir`` holds an entry with this run's key (its ``provenance`` then has
        ``from_cache``, the entry's file name, beside where and when it was trained); trained and
        saved otherwise.
    """
    if cache_dir is None:
        return train_segmentation(model_name, data, splits, config, device=device, seed=seed)
    cfg = SegmentationConfig.from_any(config)
    keys = run_keys(model_name, data, splits, cfg, seed)
    key = keys[0]
    path = entry_path(cache_dir, model_name, seed, key)
    # the cache first (a bad entry there is trained again and overwritten), then the read-only
    # committed stores (a bad entry there is passed over); each under every equivalent key
    for folder, stored, stored_key in [
        (folder, entry_path(folder or cache_dir, model_name, seed, k), k)
        for folder in [None, *result_stores()]
        for k in keys
    ]:
        if not stored.exists():
            continue
        try:
            run = load_run(stored, stored_key, device)
        except Exception as exc:  # a corrupt or foreign file: say so, never fatal
            what = "result cache entry" if folder is None else "result store entry"
            warnings.warn(
                f"{what} {stored} could not be used ({type(exc).__name__}: {exc})"
                + (
                    f"; looking for {model_name} seed {seed} in the committed stores, else "
                    "training it again"
                    if folder is None
                    else ""
                ),
                stacklevel=2,
            )
            continue
        if folder is not None:
            run.provenance["from_cache"] = f"{folder.name}/{stored.name}"
        return run
    # killed part-way, the run continues from its resume state when asked for again
    partial = Path(cache_dir) / PARTIAL / path.name if cfg.resume is None else None
    # the revision whose code the key was taken from: HEAD when training starts (a long run may
    # finish after later commits, which its weights do not reflect)
    revision = git_revision()
    resumable = cfg if partial is None else dataclasses.replace(cfg, resume=str(partial))
    run = train_segmentation(model_name, data, splits, resumable, device=device, seed=seed)
    run.config = cfg
    run.provenance["git_revision"] = revision
    run.provenance["code_fingerprint"] = code_fingerprint()[:16]
    save_run(run, key, path)
    if partial is not None:
        partial.unlink(missing_ok=True)
    return run
