"""Carry the entries of ``trained/`` from the source-keyed store (format 1) to run keys (format 2).

``MEDGRAPH_DATA=DIR python tools/carry_over_store.py [--store trained] [--write]``

Run once, on 2026-12-04, when the result cache's key stopped hashing the library's source bytes
(``medgraph.result_cache.CODE_FILES``) and became what a run means (:class:`medgraph.store.RunKey`:
study, recipe and its versions, model, seed, hyperparameters, data checksum, split). For every
training run that the ``paper`` runs of ``papermill_runs.yaml`` plan (through their studies), it
computes the new key and finds the format-1 entry of the same run by its content: the same model,
seed, hyperparameters (the old config without the options ``progress``, ``cache_dir``,
``checkpoint`` and ``resume``), train / validation / test indices and test image ids. It then
writes the entry again under the new key, with the payload's SHA-256, removes the old file, and
writes ``MIGRATION.json`` (old file → new file, both keys, the payload's digest) beside them.
Without ``--write`` it only prints the map. That the new library trains these runs bit for bit as
the old one did is shown separately (``tools/training_digest.py`` with both versions; recorded in
``trained/MIGRATION.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

OPTION_KEYS = ("progress", "cache_dir", "checkpoint", "resume")
PAPER_RUNS = (
    "02_smgnn_vs_baselines_wbc1",
    "02_smgnn_vs_baselines_wbc2",
    "03_metric_learning_umap_wbc1",
    "03_metric_learning_umap_wbc2",
)


def _old_entries(store: Path) -> dict[str, dict[str, Any]]:
    """Every format-1 entry of ``store`` by file name."""
    out = {}
    for path in sorted(store.glob("*.pt")):
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(payload, dict) and payload.get("format") == 1:
            out[path.name] = payload
    return out


def _identity(payload: dict[str, Any]) -> str:
    config = {k: v for k, v in payload["config"].items() if k not in OPTION_KEYS}
    return json.dumps(
        {
            "model": payload["model_name"],
            "seed": int(payload["seed"]),
            "config": config,
            "split": [payload[k].tolist() for k in ("train_idx", "val_idx", "test_idx")],
            "test_ids": list(payload["test_ids"]),
        },
        sort_keys=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="trained")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    from medgraph.data import data_fingerprint
    from medgraph.pieces import piece_parameters, run_study, select_pieces
    from medgraph.reporting import repo_root
    from medgraph.segmentation import SEGMENTATION, SegmentationConfig, SegmentationRequest
    from medgraph.store import read_entry, write_entry
    from medgraph.studies import get_study

    root = repo_root()
    store = root / args.store
    old = _old_entries(store)
    by_identity: dict[str, str] = {}
    for name, payload in old.items():
        ident = _identity(payload)
        if ident in by_identity:
            raise SystemExit(f"{name} and {by_identity[ident]} are the same run")
        by_identity[ident] = name
    config_path = root / "papermill_runs.yaml"
    mapping: list[dict[str, Any]] = []
    for run in PAPER_RUNS:
        params = piece_parameters(config_path, "paper", run)
        study = get_study(run_study(config_path, run))
        plan = study.plan(params)
        data, splits = study.data_and_splits(params)
        fingerprint = data_fingerprint(data)
        seen: set[str] = set()
        for group, label, seed in select_pieces(plan):
            model, overrides = plan[group].variants[label]
            cfg = SegmentationConfig.from_any(plan[group].config, **overrides)
            request = SegmentationRequest.make(model, data, splits, cfg, seed, fingerprint)
            key = SEGMENTATION.key(study.name, request)
            if key.digest in seen:
                continue
            seen.add(key.digest)
            ident = json.dumps(
                {
                    "model": model,
                    "seed": int(seed),
                    "config": cfg.to_dict(),
                    "split": [part.tolist() for part in request.splits],
                    "test_ids": [data.ids[i] for i in request.splits[2]],
                },
                sort_keys=True,
            )
            source = by_identity.pop(ident, None)
            if source is None:
                print(f"{run} {group} {label} seed {seed}: no format-1 entry", file=sys.stderr)
                continue
            mapping.append(
                {
                    "run": run,
                    "group": group,
                    "label": label,
                    "seed": int(seed),
                    "old_file": source,
                    "old_key": old[source]["key"],
                    "new_file": key.file_name,
                    "new_key": key.digest,
                }
            )
            print(f"{run:30s} {group:10s} {label:28s} seed {seed}  {source} -> {key.file_name}")
            if args.write:
                payload = dict(old[source])
                payload.pop("format")
                payload.pop("key")
                payload["config"] = {
                    k: v for k, v in payload["config"].items() if k not in OPTION_KEYS
                }
                payload["preprocessing"] = {
                    k: v for k, v in payload["preprocessing"].items() if k != "cache_dir"
                }
                payload["provenance"] = {
                    **payload["provenance"],
                    "carried_over_from": source,
                }
                write_entry(store / key.file_name, key, payload)
                entry = read_entry(store / key.file_name, key.digest)
                mapping[-1]["payload_sha256"] = entry.payload_sha256
    if by_identity:
        print(f"not mapped: {sorted(by_identity.values())}", file=sys.stderr)
        return 1
    if args.write:
        for row in mapping:
            (store / row["old_file"]).unlink()
        (store / "MIGRATION.json").write_text(json.dumps(mapping, indent=1) + "\n")
    print(f"{len(mapping)} entries mapped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
