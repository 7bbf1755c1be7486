"""Parameter checks: the names a notebook's ``parameters`` cell assigns, their types, RULES."""

from pathlib import Path

import nbformat
import pytest

from medgraph.parameters import RULES, ParameterError, check_parameters, notebook_defaults

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("0*.ipynb"))

CELL = """\
import math
epochs = 150
seeds = [0, 1, 2]
lambdas = [0.1, 0.0]
models = ["smgnn", "unet"]
mixed = [1, "a"]
config = {}
max_images = None
lr = 0.01
run_ablations = True
data_source = "auto"
_private = 1
"""


def write_notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "02_toy.ipynb", (CELL, ["parameters"]), ("1 / 0", []))


def test_notebook_defaults_reads_the_parameters_cell_alone(notebook):
    defaults = notebook_defaults(notebook)
    assert defaults["epochs"] == 150 and defaults["seeds"] == [0, 1, 2]
    assert defaults["max_images"] is None and defaults["lambdas"] == [0.1, 0.0]
    assert "math" not in defaults and "_private" not in defaults  # modules and private names


def test_notebook_defaults_errors(tmp_path):
    with pytest.raises(ParameterError, match="cannot read notebook"):
        notebook_defaults(tmp_path / "missing.ipynb")
    two = write_notebook(
        tmp_path / "two.ipynb", ("a = 1", ["parameters"]), ("b = 2", ["parameters"])
    )
    with pytest.raises(ParameterError, match="has 2 cells tagged 'parameters', expected one"):
        notebook_defaults(two)
    assert issubclass(ParameterError, ValueError)


def test_unknown_name_lists_the_valid_ones_and_suggests_the_closest(notebook):
    with pytest.raises(ParameterError) as info:
        check_parameters(notebook, {"epochs": 3, "epoch": 5})
    assert str(info.value) == (
        "unknown parameter 'epoch' for 02_toy.ipynb (did you mean 'epochs'?); its parameters: "
        "config, data_source, epochs, lambdas, lr, max_images, mixed, models, run_ablations, seeds"
    )
    with pytest.raises(ParameterError, match=r"^unknown parameter 'zzz' for 02_toy.ipynb; its"):
        check_parameters(notebook, {"zzz": 1})  # nothing close: no suggestion


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seeds": "abc"}, "parameter 'seeds' must be a list of int, got 'abc' (str)"),
        ({"seeds": [0, 1.5]}, "parameter 'seeds' must be a list of int, got [0, 1.5] (list)"),
        ({"seeds": [True]}, "parameter 'seeds' must be a list of int, got [True] (list)"),
        ({"epochs": 3.0}, "parameter 'epochs' must be an int, got 3.0 (float)"),
        ({"epochs": True}, "parameter 'epochs' must be an int, got True (bool)"),
        ({"lr": "0.1"}, "parameter 'lr' must be a float (or an int), got '0.1' (str)"),
        ({"lr": False}, "parameter 'lr' must be a float (or an int), got False (bool)"),
        ({"run_ablations": 1}, "parameter 'run_ablations' must be a bool, got 1 (int)"),
        ({"data_source": 1}, "parameter 'data_source' must be a str, got 1 (int)"),
        ({"models": ["smgnn", 2]}, "parameter 'models' must be a list of str, got ['smgnn', 2]"),
        ({"lambdas": ["x"]}, "parameter 'lambdas' must be a list of float, got ['x'] (list)"),
        ({"config": [1]}, "parameter 'config' must be a dict, got [1] (list)"),
    ],
)
def test_wrong_types_name_the_parameter_value_and_type(notebook, values, message):
    with pytest.raises(ParameterError) as info:
        check_parameters(notebook, values)
    assert str(info.value).startswith(message)


def test_values_of_the_defaults_type_pass(notebook):
    check_parameters(
        notebook,
        {
            "epochs": 3,
            "seeds": [4],
            "lambdas": [1, 0.5],  # an int where a float is expected
            "lr": 1,
            "mixed": [2.5, None],  # elements of a mixed default list are not checked
            "config": {"epochs": 3},
            "max_images": 12,  # a None default takes anything its rule allows
            "models": [],
            "run_ablations": False,
            "data_source": "phantom",
        },
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_images": 0}, "parameter 'max_images' must be None or an integer ≥ 1, got 0"),
        ({"max_images": "all"}, "parameter 'max_images' must be None or an integer ≥ 1"),
        ({"epochs": 0}, "parameter 'epochs' must be an integer ≥ 1, got 0"),
        ({"seeds": []}, "parameter 'seeds' must be a non-empty list of integers ≥ 0, got []"),
        ({"seeds": [0, -1]}, "parameter 'seeds' must be a non-empty list of integers ≥ 0"),
        ({"lambdas": []}, "parameter 'lambdas' must be a non-empty list of numbers ≥ 0, got []"),
        ({"lambdas": [0.1, -0.1]}, "parameter 'lambdas' must be a non-empty list of numbers ≥ 0"),
        (
            {"data_source": "rea"},
            "parameter 'data_source' must be one of 'auto', 'real', 'phantom', got 'rea'",
        ),
    ],
)
def test_values_out_of_range_name_the_parameter(notebook, values, message):
    with pytest.raises(ParameterError) as info:
        check_parameters(notebook, values)
    assert str(info.value).startswith(message)


def test_defaults_argument_is_used_instead_of_the_notebook(tmp_path):
    # the notebook is not read when its defaults are given (it does not even exist)
    check_parameters(tmp_path / "absent.ipynb", {"epochs": 2}, defaults={"epochs": 1})
    with pytest.raises(ParameterError, match="'epochs' must be an integer ≥ 1"):
        check_parameters(tmp_path / "absent.ipynb", {"epochs": -2}, defaults={"epochs": 1})


def test_every_rule_names_a_workbook_parameter_and_its_defaults_pass():
    assert len(NOTEBOOKS) >= 4
    defaults = [notebook_defaults(nb) for nb in NOTEBOOKS]
    names = set().union(*defaults)
    assert not set(RULES) - names, "RULES names no notebook's parameter"
    for nb, values in zip(NOTEBOOKS, defaults, strict=True):
        # None defaults (max_images) are the notebooks' "all", which the rules allow
        check_parameters(nb, values, defaults=values)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("n_phantoms", 0),
        ("n_per_class", 0),
        ("n_pairs", -5),
        ("ablation_epochs", 0),
        ("classification_epochs", 0),
        ("split_seed", -1),
        ("ablation_seed", -1),
        ("scales", [16, 0]),
        ("figure_scales", []),
        ("ablation_scales", [-4]),
        ("umap_neighbors", 1),
        ("umap_min_dist", -0.1),
        ("boundary_tolerance", -1),
        ("figure_image", -1),
        ("ablation_lambdas", []),
        ("baseline_size", "huge"),
        ("classification_region", "nucleus"),
    ],
)
def test_count_and_size_rules_refuse_zero_or_negative(name, bad):
    assert not RULES[name].check(bad)
    with pytest.raises(ParameterError, match=f"^parameter '{name}' must be "):
        check_parameters("nb.ipynb", {name: bad}, defaults={name: None})


@pytest.mark.parametrize("good", ["cell", "whole", "validation"])
def test_classification_region_accepts_both_layouts_and_the_validation_choice(good):
    assert RULES["classification_region"].check(good)
    check_parameters(
        "nb.ipynb", {"classification_region": good}, defaults={"classification_region": None}
    )
