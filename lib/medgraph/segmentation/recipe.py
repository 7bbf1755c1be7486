"""Segmentation runs in the store: their key, payload, slim store form and the study helpers.

:class:`SegmentationRecipe` implements :class:`medgraph.store.Recipe` for
:func:`~medgraph.segmentation.training.train_segmentation`. A run's key holds the study, the
recipe's version :data:`RECIPE_VERSION` and the model's version (its entry of
:data:`medgraph.models.registry.MODELS`), the model name, the seed, the hyperparameters
(:meth:`SegmentationConfig.key_hyperparameters`), the checksum of the data
(:func:`data_fingerprint`) and the train / validation / test indices.

**The committed store form** (:func:`slim_payload`): the pixel baselines' weights (2-3 million
parameters each) are dropped and their test predictions, history and, for the runs whose
segmentations feed the cell-type classifier, their predictions on every image are kept
(:func:`predict_dataset` serves them); label maps are zlib-compressed. Graph models keep their
weights (7,000 parameters), which notebook 03 needs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from medgraph.data import SegmentationDataset, data_fingerprint, load_dataset
from medgraph.losses import SuperpixelMetricLoss
from medgraph.metrics import evaluate_segmentation, summarize_segmentation
from medgraph.models.registry import get_model
from medgraph.options import RunOptions
from medgraph.segmentation.config import SegmentationConfig
from medgraph.segmentation.prediction import predict
from medgraph.segmentation.preparation import Preprocessing
from medgraph.segmentation.training import (
    SegmentationRun,
    build_segmentation_model,
    check_splits,
    train_segmentation,
)
from medgraph.store import RunKey, obtain, pack_uint8, unpack_uint8
from medgraph.training import History, select_device, split_indices

__all__ = [
    "RECIPE_VERSION",
    "SegmentationRequest",
    "SegmentationRecipe",
    "SEGMENTATION",
    "WeightsNotKept",
    "data_fingerprint",
    "run_payload",
    "run_from_payload",
    "slim_payload",
    "predict_dataset",
    "train_or_load",
    "load_segmentation_data",
    "compare_segmentation_models",
    "run_provenance",
]

#: version of the segmentation recipe (the training loop shared by every model); part of every
#: segmentation run's key, bumped when a change alters what any model trains
RECIPE_VERSION = 1


@dataclass(frozen=True)
class SegmentationRequest:
    """One segmentation run: a model trained on a data set's split with a config and seed.

    ``fingerprint`` is the data's :func:`data_fingerprint`, computed once by the caller when many
    runs share the data (None: computed when the key is taken).
    """

    model: str
    data: SegmentationDataset
    splits: tuple[np.ndarray, np.ndarray, np.ndarray]
    config: SegmentationConfig
    seed: int = 0
    fingerprint: str | None = None

    @classmethod
    def make(
        cls,
        model: str,
        data: SegmentationDataset,
        splits: Sequence[Sequence[int]],
        config: SegmentationConfig | Mapping[str, Any] | None = None,
        seed: int = 0,
        fingerprint: str | None = None,
    ) -> SegmentationRequest:
        """A request with the model checked, the config completed and the splits validated."""
        get_model(model)
        return cls(
            model,
            data,
            check_splits(len(data), splits),
            SegmentationConfig.from_any(config),
            int(seed),
            fingerprint,
        )


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _pack_labels(label: np.ndarray) -> dict[str, Any]:
    """A class map (H, W) with values in 0 … 255 as ``{"shape", "zlib"}`` (compressed uint8)."""
    arr = np.asarray(label)
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError("label maps to pack must hold values in 0 … 255")
    return pack_uint8(arr)


def _unpack_labels(item: Any) -> np.ndarray:
    """Inverse of :func:`_pack_labels`; a plain tensor (a full entry's map) is converted as is."""
    if isinstance(item, dict):
        return unpack_uint8(item).astype(np.int64)
    return item.numpy().astype(np.int64)


class WeightsNotKept(nn.Module):
    """The model of a run loaded from a slim store entry, whose weights were not committed.

    It has no parameters and cannot run; it holds the entry's stored predictions on a whole data
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
            f"{len(self.predictions)} stored predictions (predict_dataset); train it again "
            "(python -m medgraph.pieces) to predict other images"
        )


def run_payload(run: SegmentationRun) -> dict[str, Any]:
    """A run as a payload: weights on the CPU, arrays as tensors, everything else plain."""
    pre = dataclasses.asdict(run.preprocessing)
    pre.pop("cache_dir", None)  # where this machine kept superpixels: an option, not the run's
    for name in ("image_mean", "image_std", "node_mean", "node_std"):
        if pre[name] is not None:
            pre[name] = torch.as_tensor(np.asarray(pre[name], dtype=np.float64))
    pre["pad_shape"] = [int(v) for v in pre["pad_shape"]]
    return {
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


def run_from_payload(
    payload: Mapping[str, Any], entry: str, options: RunOptions | None = None
) -> SegmentationRun:
    """A run back from :func:`run_payload` (or a slim store payload), its model in eval mode."""
    opts = options if options is not None else RunOptions()
    dev = select_device(opts.device)
    cfg = SegmentationConfig.from_any(payload["config"])
    model: nn.Module
    if payload["model_state"] is None:
        stored = payload.get("all_predictions") or {"ids": [], "labels": []}
        model = WeightsNotKept(
            payload["model_name"],
            entry,
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
    pre["cache_dir"] = None if opts.superpixel_cache is None else str(opts.superpixel_cache)
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
        provenance=dict(payload["provenance"]),
    )


def slim_payload(
    payload: Mapping[str, Any], data: SegmentationDataset | None = None
) -> dict[str, Any]:
    """The committed store form of a payload (module notes).

    Parameters
    ----------
    payload : a full payload (:func:`run_payload`)
    data : SegmentationDataset, optional
        For a pixel baseline, also keep its predictions on every image of ``data`` (predicted
        here from the full payload, on the CPU), for :func:`predict_dataset`.

    Returns
    -------
    dict
    """
    out = dict(payload)
    if not get_model(out["model_name"]).needs_graph:
        if out.get("model_state") is None:
            raise ValueError("this payload is already in the slim form")
        if data is not None:
            run = run_from_payload(out, "(export)", RunOptions(device="cpu"))
            out["all_predictions"] = {
                "data": data_fingerprint(data),
                "ids": list(data.ids),
                "labels": [_pack_labels(p) for p in predict(run, data.images)],
            }
        out["model_state"] = None
    out["test_predictions"] = [_pack_labels(_unpack_labels(p)) for p in out["test_predictions"]]
    return out


def predict_dataset(run: SegmentationRun, data: SegmentationDataset) -> list[np.ndarray]:
    """A run's class maps of every image of ``data``: predicted, or the stored ones of a slim entry.

    Returns
    -------
    list of (H_n, W_n) int64 arrays, in the order of ``data``

    Raises
    ------
    ValueError
        When the run's weights were not kept and its entry stores no predictions of ``data``.
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


class SegmentationRecipe:
    """:class:`medgraph.store.Recipe` of segmentation runs (module notes)."""

    name = "segmentation"

    def key(self, study: str, request: SegmentationRequest) -> RunKey:
        """The run's key (module notes)."""
        fingerprint = request.fingerprint or data_fingerprint(request.data)
        spec = get_model(request.model)
        return RunKey(
            study=study,
            recipe=self.name,
            versions={self.name: RECIPE_VERSION, spec.name: spec.version},
            name=request.model,
            seed=int(request.seed),
            hyperparameters=request.config.key_hyperparameters(),
            data=fingerprint,
            split=[part.tolist() for part in request.splits],
        )

    def train(self, request: SegmentationRequest, options: RunOptions) -> SegmentationRun:
        """:func:`~medgraph.segmentation.training.train_segmentation` of the request."""
        return train_segmentation(
            request.model,
            request.data,
            request.splits,
            request.config,
            seed=request.seed,
            options=options,
        )

    def to_payload(self, run: SegmentationRun) -> dict[str, Any]:
        """:func:`run_payload`."""
        return run_payload(run)

    def from_payload(
        self, payload: Mapping[str, Any], request: SegmentationRequest, options: RunOptions
    ) -> SegmentationRun:
        """:func:`run_from_payload`."""
        return run_from_payload(payload, request.model, options)

    def store_form(
        self, payload: Mapping[str, Any], request: SegmentationRequest, keep_all: bool
    ) -> dict[str, Any]:
        """:func:`slim_payload`, keeping the predictions of every image when ``keep_all``."""
        return slim_payload(payload, request.data if keep_all else None)

    def summary(self, run: SegmentationRun, request: SegmentationRequest) -> str:
        """One line: the test Dice, three-class and cell-class means."""
        masks = [request.data.masks[i] for i in run.test_idx]
        frame = evaluate_segmentation(run.test_predictions, masks, run.test_ids)
        dice = summarize_segmentation(frame, metrics=["dice"]).loc["dice"]
        return f"test Dice 3cls {dice['all_classes']:.4f} cell {dice['cell_classes']:.4f}"


#: the segmentation recipe
SEGMENTATION = SegmentationRecipe()


def train_or_load(
    study: str,
    model: str,
    data: SegmentationDataset,
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    seed: int = 0,
    options: RunOptions | None = None,
    fingerprint: str | None = None,
) -> SegmentationRun:
    """One segmentation run through the store (:func:`medgraph.store.obtain`).

    Parameters
    ----------
    study : the asking study's name (part of the key)
    model, data, splits, config, seed : as for :func:`train_segmentation`
    options : RunOptions, optional
        With ``result_cache`` set, the run is loaded when the cache or a store holds it, and
        saved once trained; without, it is trained.
    fingerprint : the data's :func:`data_fingerprint`, when the caller has it

    Returns
    -------
    SegmentationRun
    """
    request = SegmentationRequest.make(model, data, splits, config, seed, fingerprint)
    return obtain(SEGMENTATION, study, request, options)


def load_segmentation_data(
    dataset: str,
    data_source: str = "auto",
    data_root: str | os.PathLike[str] | None = None,
    n_phantoms: int = 60,
    split_seed: int = 0,
) -> tuple[SegmentationDataset, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A segmentation data set and its 80/10/10 split (the SMGNN paper's proportions).

    Parameters
    ----------
    dataset, data_source, data_root, n_phantoms
        As for :func:`medgraph.data.load_dataset` (``n_phantoms`` only for phantoms).
    split_seed : int
        Seeds the phantoms and the split.
    """
    data = load_dataset(
        dataset, source=data_source, root=data_root, n_phantoms=n_phantoms, seed=split_seed
    )
    return data, split_indices(len(data), (0.8, 0.1, 0.1), seed=split_seed)


Variants = Sequence[str] | Mapping[str, tuple[str, Mapping[str, Any]]]


def compare_segmentation_models(
    study: str,
    data: SegmentationDataset,
    variants: Variants,
    seeds: Sequence[int],
    splits: Sequence[Sequence[int]],
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
) -> tuple[dict[tuple[str, int], SegmentationRun], pd.DataFrame]:
    """Train (or load) every variant with every seed on one split and score the test predictions.

    Parameters
    ----------
    study : the asking study's name (part of every run's key)
    data : SegmentationDataset
    variants : model names, or a mapping ``label → (model name, config overrides)``
    seeds : training seeds
    splits : (train, val, test) indices, the same for every variant and seed
    config : shared hyperparameters (overridden per variant)
    options : RunOptions (device, result cache, ...)

    Returns
    -------
    runs : dict ``(label, seed) → SegmentationRun``
    scores : DataFrame, one row per (label, seed, test image, class) with the columns of
        :func:`medgraph.metrics.evaluate_segmentation` plus ``model``, ``seed``,
        ``parameters`` and ``seconds_per_epoch``
    """
    if isinstance(variants, Mapping):
        plan = {label: (name, dict(overrides)) for label, (name, overrides) in variants.items()}
    else:
        plan = {name: (name, {}) for name in variants}
    if not plan or not seeds:
        raise ValueError("compare_segmentation_models needs at least one model and one seed")
    fingerprint = data_fingerprint(data)
    runs: dict[tuple[str, int], SegmentationRun] = {}
    frames = []
    for label, (name, overrides) in plan.items():
        cfg = SegmentationConfig.from_any(config, **overrides)
        for seed in seeds:
            run = train_or_load(study, name, data, splits, cfg, int(seed), options, fingerprint)
            runs[(label, int(seed))] = run
            frame = evaluate_segmentation(
                run.test_predictions, [data.masks[i] for i in run.test_idx], run.test_ids
            )
            frame.insert(0, "seed", int(seed))
            frame.insert(0, "model", label)
            frame["parameters"] = run.n_parameters
            frame["seconds_per_epoch"] = run.seconds_per_epoch
            frames.append(frame)
    return runs, pd.concat(frames, ignore_index=True)


def run_provenance(runs: Mapping[tuple[str, int], SegmentationRun]) -> pd.DataFrame:
    """Where and when every run was trained, and whether it was loaded from a store.

    Returns
    -------
    DataFrame, one row per run: ``model``, ``seed``, ``device`` (with the GPU's name when there
    was one), ``host``, ``git_revision``, ``code_fingerprint`` (of the training code that trained
    runs stored before recipe versions existed), ``trained_utc``, ``torch``, ``train_seconds``
    (wall time of the training itself; for a resumed run, with the epochs of the interrupted
    calls), ``epochs_run``, ``best_epoch``, ``resumed_at`` (the epochs at which an interrupted run
    was continued from its resume state, space-separated) and ``from_cache`` (the entry's file
    name, or empty when trained in this process)
    """
    rows = []
    for (label, seed), run in runs.items():
        info = run.provenance
        device = str(info.get("device", run.device))
        if info.get("gpu"):
            device = f"{device} ({info['gpu']})"
        rows.append(
            {
                "model": label,
                "seed": int(seed),
                "device": device,
                "host": info.get("host", ""),
                "git_revision": info.get("git_revision", ""),
                "code_fingerprint": info.get("code_fingerprint", ""),
                "trained_utc": info.get("trained_utc", ""),
                "torch": info.get("torch", ""),
                "train_seconds": float(run.seconds),
                "epochs_run": len(run.history),
                "best_epoch": int(run.history.best_epoch),
                "resumed_at": " ".join(str(e) for e in run.history.resumed_at),
                "from_cache": info.get("from_cache", ""),
            }
        )
    return pd.DataFrame(rows)
