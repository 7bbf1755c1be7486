"""The parameters of the workbook's notebooks: their defaults, and checks of values given to them.

Each notebook declares its parameters in one code cell tagged ``parameters`` (papermill's
convention); :func:`notebook_defaults` reads the values that cell assigns. :func:`check_parameters`
checks values meant for a notebook (those of ``papermill_runs.yaml`` and ``--set``) before
anything is executed:

- every name must be one the ``parameters`` cell assigns (an unknown name is refused, with the
  closest valid name suggested);
- every value must have the type of the cell's default (an ``int`` default takes an ``int``, a
  ``float`` default an ``int`` or a ``float``, a list default a list whose elements have the type
  of the default's elements; a ``None`` default takes anything);
- a value whose name is in :data:`RULES` must pass that rule (``epochs`` ≥ 1, ``max_images`` None
  or ≥ 1, ``data_source`` one of "auto", "real", "phantom", …).

Convention: a parameter name means the same thing in every notebook of the workbook. ``epochs``
is a number of training epochs wherever it appears, ``seeds`` a list of training seeds,
``n_phantoms`` a number of synthetic images, and so on, so that one central table
(:data:`RULES`) states the valid range of each name once. A notebook that needs a parameter with
another meaning gives it another name.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ParameterError",
    "Rule",
    "RULES",
    "notebook_defaults",
    "check_parameters",
]


class ParameterError(ValueError):
    """A notebook's parameters cannot be read, or a value given to a notebook is not valid."""


@dataclass(frozen=True)
class Rule:
    """The valid values of one parameter name.

    Attributes
    ----------
    description : what a valid value is, completing "parameter 'x' must be …"
    check : returns True for a valid value
    """

    description: str
    check: Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_at_least(low: int) -> Rule:
    return Rule(f"an integer ≥ {low}", lambda v: _is_int(v) and v >= low)


def _optional_int_at_least(low: int) -> Rule:
    return Rule(f"None or an integer ≥ {low}", lambda v: v is None or (_is_int(v) and v >= low))


def _int_list_at_least(low: int) -> Rule:
    return Rule(
        f"a non-empty list of integers ≥ {low}",
        lambda v: isinstance(v, list) and bool(v) and all(_is_int(x) and x >= low for x in v),
    )


def _number_list_at_least(low: float) -> Rule:
    return Rule(
        f"a non-empty list of numbers ≥ {low:g}",
        lambda v: isinstance(v, list) and bool(v) and all(_is_number(x) and x >= low for x in v),
    )


def _one_of(*choices: str) -> Rule:
    return Rule(f"one of {', '.join(map(repr, choices))}", lambda v: v in choices)


#: The valid values of the parameter names shared by the workbook's notebooks (see the module
#: docstring for the convention that makes one table possible).
RULES: dict[str, Rule] = {
    # training budgets
    "epochs": _int_at_least(1),
    "ablation_epochs": _int_at_least(1),
    "classification_epochs": _int_at_least(1),
    # seeds
    "seeds": _int_list_at_least(0),
    "seed": _int_at_least(0),
    "split_seed": _int_at_least(0),
    "ablation_seed": _int_at_least(0),
    # data
    "data_source": _one_of("auto", "real", "phantom"),
    # an interactive session's settings: the declared profile's ("auto") or the cell's ("as set")
    "settings": _one_of("auto", "as set"),
    "max_images": _optional_int_at_least(1),
    "n_phantoms": _int_at_least(1),
    # metric learning and its layouts (03)
    "lambdas": _number_list_at_least(0),
    "ablation_lambdas": _number_list_at_least(0),
    "n_per_class": _int_at_least(1),
    "n_pairs": _int_at_least(1),
    "umap_neighbors": _int_at_least(2),  # UMAP refuses fewer than 2 neighbours
    "umap_min_dist": Rule(
        "a number between 0 and 1 (UMAP's spread)", lambda v: _is_number(v) and 0 <= v <= 1
    ),
    # superpixel scales (mean areas in pixels) and the scale study's figure (01)
    "scales": _int_list_at_least(1),
    "ablation_scales": _int_list_at_least(1),
    "figure_scales": _int_list_at_least(1),
    "figure_image": _int_at_least(0),
    "boundary_tolerance": _int_at_least(0),
    # model choices (02)
    "baseline_size": _one_of("small", "paper"),
    "classification_region": _one_of("cell", "whole", "validation"),
    # unsupervised graph cuts (04)
    "combinations": Rule(
        "a non-empty list of 'loss/layer' (ncut, cc, dmon / gcn, gat, arma; not cc/arma)",
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(
                isinstance(c, str)
                and c.count("/") == 1
                and c.split("/")[0] in ("ncut", "cc", "dmon")
                and c.split("/")[1] in ("gcn", "gat", "arma")
                and c != "cc/arma"
                for c in v
            )
        ),
    ),
    "features": _one_of("colour_texture", "dino_vits8"),
    "eval_every": _int_at_least(1),
    "k": _int_at_least(2),
    "hidden": _int_at_least(1),
    "image_size": _int_at_least(8),
    "patch": _int_at_least(1),
    "batch_size": _int_at_least(1),
    "val_fraction": Rule(
        "a number strictly between 0 and 1", lambda v: _is_number(v) and 0 < v < 1
    ),
    "n_bootstrap": _int_at_least(100),
    "gallery_size": _int_at_least(1),
    "lr": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "alpha": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "tau": Rule("a number between -1 and 1 (a cosine)", lambda v: _is_number(v) and -1 <= v <= 1),
    # leukemia kNN-GCN (05); `k` is a number of clusters (04), so the kNN graph's k is
    # `neighbour_grid` (the values tried, one chosen on validation)
    "protocols": Rule(
        "a non-empty list of 'holdout', 'folds', 'patients'",
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(p in ("holdout", "folds", "patients") for p in v)
        ),
    ),
    "test_fraction": Rule(
        "a number strictly between 0 and 1", lambda v: _is_number(v) and 0 < v < 1
    ),
    "neighbour_grid": _int_list_at_least(1),
    "gcn_hidden": _int_at_least(1),
    "gcn_epochs": _int_at_least(1),
    "gcn_lr": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "weight_decay": Rule("a number ≥ 0", lambda v: _is_number(v) and v >= 0),
    "gcn_weight_decay": Rule("a number ≥ 0", lambda v: _is_number(v) and v >= 0),
    "dropout": Rule("a number in [0, 1)", lambda v: _is_number(v) and 0 <= v < 1),
    "rotation": Rule("a number of degrees in [0, 180]", lambda v: _is_number(v) and 0 <= v <= 180),
    "jitter": Rule("a number in [0, 1]", lambda v: _is_number(v) and 0 <= v <= 1),
    # melanoma multi-level graphs (06); `tau` is a cosine threshold (04), so the pruned shares
    # are `taus`
    "seg_counts": _int_list_at_least(2),
    "shg_counts": _int_list_at_least(2),
    "taus": Rule(
        "a list of numbers in (0, 1) (pruned shares of the edges)",
        lambda v: isinstance(v, list) and all(_is_number(x) and 0 < x < 1 for x in v),
    ),
    "delta": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "gamma": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "slic_compactness": Rule("a positive number", lambda v: _is_number(v) and v > 0),
    "n_splits": _int_at_least(2),
    "n_select": _int_at_least(1),
    "classifiers": Rule(
        "a non-empty list of 'SVM', 'KNN', 'QDA', 'RF', 'GB', 'AB', 'MLP'",
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(c in ("SVM", "KNN", "QDA", "RF", "GB", "AB", "MLP") for c in v)
        ),
    ),
    "cv_seed": _int_at_least(0),
    "n_jobs": _int_at_least(1),
    "chunk_size": _int_at_least(1),
    # caches: "auto" (the default folder), a folder, or None (off); None passes although the
    # notebooks' defaults are strings
    "result_cache": Rule(
        "'auto', a folder or None", lambda v: v is None or (isinstance(v, str) and bool(v.strip()))
    ),
    "feature_cache": Rule(
        "'auto', a folder or None", lambda v: v is None or (isinstance(v, str) and bool(v.strip()))
    ),
}


def notebook_defaults(notebook: str | Path) -> dict[str, Any]:
    """The values assigned in a notebook's ``parameters`` cell (the cell is executed alone).

    Parameters
    ----------
    notebook : path of an ``.ipynb`` with exactly one cell tagged ``parameters``

    Returns
    -------
    dict of the names the cell assigns (modules and private names left out)

    Raises
    ------
    ParameterError
        When the notebook cannot be read or does not have exactly one ``parameters`` cell.
    """
    path = Path(notebook)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"cannot read notebook {path}: {exc}") from None
    cells = [
        c
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ParameterError(f"{path} has {len(cells)} cells tagged 'parameters', expected one")
    source = cells[0]["source"]
    namespace: dict[str, Any] = {}
    exec("".join(source) if isinstance(source, list) else source, namespace)  # noqa: S102
    return {
        k: v
        for k, v in namespace.items()
        if not k.startswith("_") and not hasattr(v, "__spec__") and not callable(v)
    }


def _element_type(items: list[Any] | tuple[Any, ...]) -> type | None:
    """The common element type of a non-empty default list (int, float or str), else None."""
    if not items:
        return None
    if all(_is_int(x) for x in items):
        return int
    if all(_is_number(x) for x in items):
        return float
    if all(isinstance(x, str) for x in items):
        return str
    return None


def _type_matches(value: Any, expected: type) -> bool:
    if expected is int:
        return _is_int(value)
    if expected is float:
        return _is_number(value)
    return isinstance(value, expected)


def _type_error(name: str, value: Any, default: Any) -> str | None:
    """Why ``value`` does not have the type of ``default`` (None when it does)."""
    if default is None:
        return None
    if isinstance(default, bool):
        expected, ok = "a bool", isinstance(value, bool)
    elif isinstance(default, int):
        expected, ok = "an int", _is_int(value)
    elif isinstance(default, float):
        expected, ok = "a float (or an int)", _is_number(value)
    elif isinstance(default, str):
        expected, ok = "a str", isinstance(value, str)
    elif isinstance(default, list | tuple):
        element = _element_type(default)
        expected = f"a list of {element.__name__}" if element else "a list"
        ok = isinstance(value, list) and (
            element is None or all(_type_matches(x, element) for x in value)
        )
    elif isinstance(default, dict):
        expected, ok = "a dict", isinstance(value, dict)
    else:
        return None
    if ok:
        return None
    return f"parameter {name!r} must be {expected}, got {value!r} ({type(value).__name__})"


def check_parameters(
    notebook: str | Path,
    values: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Check parameter values meant for ``notebook`` against its ``parameters`` cell and RULES.

    Parameters
    ----------
    notebook : path of the ``.ipynb`` (its name appears in the messages)
    values : parameter names and the values to be injected
    defaults : the notebook's defaults, when already read (:func:`notebook_defaults`); read from
        ``notebook`` when None

    Raises
    ------
    ParameterError
        At the first name the cell does not assign, value of the wrong type, or value out of its
        rule's range; the message names the parameter.
    """
    notebook = Path(notebook)
    if defaults is None:
        defaults = notebook_defaults(notebook)
    valid = sorted(defaults)
    for name, value in values.items():
        if name not in defaults:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(
                f"unknown parameter {name!r} for {notebook.name}{hint}; "
                f"its parameters: {', '.join(valid)}"
            )
        rule = RULES.get(name)
        message = _type_error(name, value, defaults[name])
        if message and not (value is None and rule is not None and rule.check(None)):
            raise ParameterError(message)
        if rule is not None and not rule.check(value):
            raise ParameterError(f"parameter {name!r} must be {rule.description}, got {value!r}")
