"""``papermill_runs.yaml``: profiles, declared runs and their merged, checked parameters.

Parameters are merged in this order, later ones winning: the profile's ``parameters``, the run's
``parameters``, the run's ``profiles[<profile>]``; a mapping (such as ``config``) is merged key
by key, one level deep. :func:`check_runs` checks every run's parameters against its notebook's
``parameters`` cell (:func:`medgraph.parameters.check_parameters`) before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medgraph.parameters import ParameterError, check_parameters, notebook_defaults

__all__ = [
    "CONFIG_NAME",
    "RUNNER_PARAMETERS",
    "RunConfigError",
    "RunSpec",
    "load_config",
    "merge_parameters",
    "load_runs",
    "parse_overrides",
    "check_runs",
]

CONFIG_NAME = "papermill_runs.yaml"
#: parameters the runner gives every run itself
RUNNER_PARAMETERS = ("profile", "run_name", "output_dir")


class RunConfigError(ValueError):
    """``papermill_runs.yaml`` is malformed."""


@dataclass(frozen=True)
class RunSpec:
    """One run: a notebook and its merged parameters for one profile."""

    name: str
    notebook: Path
    profile: str
    parameters: dict[str, Any]
    description: str = ""


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate ``papermill_runs.yaml``."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunConfigError(f"{path} not found") from None
    except yaml.YAMLError as exc:
        raise RunConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(config, dict) or "profiles" not in config or "runs" not in config:
        raise RunConfigError(f"{path} must define 'profiles' and 'runs'")
    names = [r.get("name") for r in config["runs"]]
    if len(set(names)) != len(names) or None in names:
        raise RunConfigError(f"{path}: every run needs a unique 'name'")
    return config


def merge_parameters(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win; a mapping over a mapping is merged key by key (one level)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def load_runs(
    config_path: str | Path, profile: str, only: Sequence[str] | None = None
) -> list[RunSpec]:
    """The runs of ``profile``, optionally only those whose name contains one of ``only``.

    Parameters are merged in this order, later ones winning: the profile's ``parameters``, the
    run's ``parameters``, the run's ``profiles[<profile>]``. A parameter whose value is a mapping
    in both (e.g. ``config``) is merged key by key, one level deep, so a run can add to the
    profile's ``config`` without repeating it. A run whose ``profiles`` mapping omits the profile
    is not part of it.
    """
    config_path = Path(config_path)
    config = load_config(config_path)
    profiles = config["profiles"]
    if profile not in profiles:
        raise RunConfigError(
            f"unknown profile {profile!r}; {config_path} defines {sorted(profiles)}"
        )
    base = dict((profiles[profile] or {}).get("parameters") or {})
    root = config_path.parent
    specs = []
    for run in config["runs"]:
        per_profile = run.get("profiles") or {}
        if per_profile and profile not in per_profile:
            continue
        if only and not any(token in run["name"] for token in only):
            continue
        params = merge_parameters(base, run.get("parameters") or {}, per_profile.get(profile) or {})
        specs.append(
            RunSpec(
                name=run["name"],
                notebook=root / run["notebook"],
                profile=profile,
                parameters=params,
                description=run.get("description", ""),
            )
        )
    return specs


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["KEY=VALUE", …]`` (VALUE read as YAML) as a dict; malformed items raise RunConfigError."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise RunConfigError(f"--set expects KEY=VALUE with a parameter name, got {item!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RunConfigError(f"--set {key}: {text!r} is not valid YAML ({exc})") from None
    return overrides


def check_runs(specs: Sequence[RunSpec]) -> None:
    """Check every run's parameters against its notebook before anything is executed.

    Parameters
    ----------
    specs : the runs, with their merged parameters (``--set`` included)

    Raises
    ------
    RunConfigError
        For the first run whose parameters fail :func:`medgraph.parameters.check_parameters`, or
        that sets a parameter the runner sets itself; the message starts with the run's name.
    """
    defaults: dict[Path, dict[str, Any]] = {}
    for spec in specs:
        try:
            taken = [k for k in RUNNER_PARAMETERS if k in spec.parameters]
            if taken:
                raise ParameterError(
                    f"parameter {taken[0]!r} is set by the runner ({', '.join(RUNNER_PARAMETERS)})"
                )
            if spec.notebook not in defaults:
                defaults[spec.notebook] = notebook_defaults(spec.notebook)
            check_parameters(spec.notebook, spec.parameters, defaults=defaults[spec.notebook])
        except ParameterError as exc:
            raise RunConfigError(f"{spec.name}: {exc}") from None
