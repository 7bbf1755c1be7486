"""Notebook hygiene (no outputs, one parameters cell, jupytext pair in sync) and smoke runs.

The smoke runs execute every run of the ``smoke`` profile of ``papermill_runs.yaml`` (tiny
parameters, phantoms) through the runner, as ``make reports`` would; they are marked ``slow``
(``pytest -m "not slow"`` leaves them out).
"""

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from medgraph.parameters import notebook_defaults
from medgraph.pieces import main as pieces_main
from medgraph.runs import RunSpec, load_runs, merge_parameters
from medgraph.runs import main as run_main
from medgraph.store import ENV_RESULT_CACHE, ENV_RESULT_STORE
from medgraph.studies import get_study
from medgraph.verdicts import PHANTOM

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "papermill_runs.yaml"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DECLARED = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["runs"]
#: the runs with a `smoke` entry, in the order of papermill_runs.yaml
SMOKE_RUNS = [r["name"] for r in DECLARED if "smoke" in (r.get("profiles") or {})]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run nbstripout"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exactly_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    for name in ("profile", "run_name", "output_dir"):
        assert f"{name} =" in tagged[0].source, f"{path.name}: parameters cell lacks {name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    """`papermill --help-notebook` lists every assignment of the parameters cell with its help."""
    from papermill.translators import PythonTranslator

    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assigned = {
        line.split("=")[0].split(":")[0].strip()
        for line in cell.source.splitlines()
        if line and not line[0].isspace() and not line.startswith("#") and "=" in line
    }
    parsed = {p.name for p in PythonTranslator.inspect(cell)}
    assert parsed == assigned, f"{path.name}: papermill cannot parse {sorted(assigned - parsed)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_jupytext_pair_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin"
    nb = nbformat.read(path, as_version=4)
    py = jupytext.read(twin)
    pairs = list(zip(nb.cells, py.cells, strict=False))
    assert len(nb.cells) == len(py.cells), f"{path.name} and {twin.name} differ in cell count"
    for i, (a, b) in enumerate(pairs):
        assert (a.cell_type, a.source.strip()) == (b.cell_type, b.source.strip()), (
            f"{path.name} cell {i} differs from {twin.name}; run `jupytext --sync {twin}`"
        )


def test_every_run_names_an_existing_notebook():
    config = yaml.safe_load((ROOT / "papermill_runs.yaml").read_text())
    used = {run["notebook"] for run in config["runs"]}
    for nb in used:
        assert (ROOT / nb).exists(), f"papermill_runs.yaml names missing {nb}"
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in used, f"{nb.name} is not declared in papermill_runs.yaml"
    assert {"quick", "paper", "smoke"} <= set(config["profiles"])


def test_every_run_is_smoke_tested_unless_it_is_outside_the_quick_profile():
    """A run of the quick profile (or of every profile) needs a smoke entry, and every notebook at
    least one smoke run. Runs declared only for ``paper`` or ``cpu`` (other budgets, models or
    seeds of a notebook whose code the smoke runs cover) may go without."""
    missing = [
        r["name"]
        for r in DECLARED
        if (not r.get("profiles") or "quick" in r["profiles"]) and r["name"] not in SMOKE_RUNS
    ]
    assert not missing, f"papermill_runs.yaml: give {missing} a `smoke:` entry (tiny parameters)"
    smoked = {r["notebook"] for r in DECLARED if r["name"] in SMOKE_RUNS}
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in smoked, f"{nb.name} has no run of the smoke profile"


def test_the_smoke_profile_is_tiny_and_offline():
    specs = load_runs(CONFIG, "smoke")
    # exactly the runs with a smoke entry (a run without `profiles` would run at full size)
    assert [s.name for s in specs] == SMOKE_RUNS
    for spec in specs:
        params = spec.parameters
        assert params["data_source"] == "phantom", spec.name
        assert params.get("n_phantoms", 0) <= 16, spec.name  # 16: two classes of 5 cells (02)
        for budget in ("epochs", "ablation_epochs", "classification_epochs"):
            assert params.get(budget, 1) <= 2, (spec.name, budget)
        # a run that trains keeps its runs in a result cache (the test's own folder)
        if get_study(_study(spec.name)).plan(_parameters(spec)):
            assert params.get("result_cache") == "auto", spec.name


def _study(name: str) -> str:
    return next(r["study"] for r in DECLARED if r["name"] == name)


def _parameters(spec: RunSpec) -> dict[str, Any]:
    """The parameters the notebook sees: its defaults under the declared ones."""
    return merge_parameters(notebook_defaults(spec.notebook), spec.parameters)


def _finite_in(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


# -- what each notebook records ----------------------------------------------------------------


def _check_01(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    assert results["datasets"][0]["n_images"] == params["max_images"]
    assert 16 in params["scales"]
    for method in ("snic", "slic"):
        assert 0.5 < results["results"][f"{method}_S16"]["iou_r_mean"] <= 1.0, method
    # every method at every scale, each score finite and in its range
    summary = pd.DataFrame(results["results"]["summary"])
    assert sorted(zip(summary["method"], summary["scale"], strict=True)) == sorted(
        (m, s) for m in ("slic", "snic") for s in params["scales"]
    )
    assert all(_finite_in(v, 0, 1) for v in summary["iou_r_mean"])
    assert all(_finite_in(v, 0, 1) for v in summary["boundary_recall_mean"])
    for name in (
        "scale_study.csv",
        "scale_study.md",
        "fig6_reconstruction.png",
        "iou_vs_superpixels.png",
    ):
        assert (out / name).is_file(), name


def _check_02(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    for model in params["models"]:
        dice = results["results"][f"{model}_dice"]
        assert _finite_in(dice["three_class"], 0, 1) and _finite_in(dice["cell_classes"], 0, 1)
    assert results["results"]["smgnn_dice"]["params"] <= 10_000
    names = ["segmentation_comparison.md", "superpixel_graph.png", "segmentations.png"]
    if params["run_ablations"]:
        names += ["ablation_lambda.md", "ablation_gnn.md", "ablation_scale.md", "ablations.png"]
    if params["run_classification"] or (
        params["run_classification"] is None and params["dataset"] == "wbc2"
    ):
        names += ["cell_type_classification.md", "confusion_matrices.png"]
        accuracy = results["results"]["cell_type_accuracy"]
        assert {"image only", "ground truth", *params["models"]} <= set(accuracy)
        assert all(_finite_in(v, 0, 1) for v in accuracy.values())
    else:
        assert "cell_type_accuracy" not in results["results"]
    assert results["results"]["padded_images"]["count"] >= 0
    if params["dataset"] == "wbc2":  # the smoke run's 16 phantoms have two classes of >= 5 cells
        names.append("cell_type_morphology_cv.md")
        morph = results["results"]["morphology_cv"]
        assert _finite_in(morph["ground_truth"], 0, 1)
        assert _finite_in(morph["smgnn_mean_over_seeds"], 0, 1)
        assert morph["repeats"] == params["morphology_repeats"]
    if params.get("selection_candidates"):  # the smoke run of dataset-1 declares three
        names.append("setting_selection.md")
        chosen = results["results"]["setting_selection"]
        assert list(chosen) == list(params["selection_candidates"])
        # the comparison's own runs are kept; the 2-epoch one was never trained
        assert chosen["as compared"]["runs_in_the_comparison"]
        assert chosen["U-Net as compared"]["runs_in_the_comparison"]
        assert _finite_in(chosen["U-Net as compared"]["validation_dice"], 0, 1)
        assert chosen["two epochs (never trained)"]["validation_dice"] is None
        assert not chosen["two epochs (never trained)"]["runs_in_the_comparison"]
        # the only kept setting of each model is its highest
        assert chosen["as compared"]["highest_of_its_model"]
        assert not chosen["two epochs (never trained)"]["highest_of_its_model"]
    for name in names:
        assert (out / name).is_file(), name
    rows = [r["quantity"] for r in results["paper_comparison"]]
    assert any("smgnn" in q and "Dice" in q for q in rows)


def _check_03(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    seeds = list(params.get("seeds") or [params.get("seed", 0)])
    literal = [f"lambda_{float(lam)}" for lam in params["lambdas"]]
    aware = [f"lambda_{float(lam)}_class" for lam in params.get("class_lambdas", [0.1])]
    for key in literal + aware:
        sep = results["results"][f"separation_{key}"]
        assert sep["seeds"] == seeds and len(sep["silhouette"]) == len(seeds)
        assert all(_finite_in(v, -1, 1) for v in sep["silhouette"])
        assert all(_finite_in(v, -2, 2) for v in sep["gap"])
        fit = results["results"][f"metric_target_fit_{key}"]
        for which in ("literal", "class"):  # both targets fitted for every model
            for r, r2 in zip(fit[which]["r"], fit[which]["r2"], strict=True):
                assert _finite_in(r2, 0, 1) and r2 == pytest.approx(r**2, abs=1e-9)
        assert len(results["results"][f"dice_{key}"]["per_seed"]) == len(seeds)
    for name in (
        "fig12_umap.png",
        "cosine_distributions.png",
        "class_pair_cosines.png",
        "separation.md",
        "test_dice.md",
        "class_pair_cosines.md",
        "metric_target_fit.md",
    ):
        assert (out / name).is_file(), name
    # six class pairs per model, each with both targets for pure superpixels
    pairs = pd.read_csv(out / "class_pair_cosines.csv")
    labels = [f"λ = {lam:g}" for lam in params["lambdas"]]
    labels += [f"λ = {lam:g}, class target" for lam in params.get("class_lambdas", [0.1])]
    assert len(pairs) == len(labels) * 6
    pairs = pairs.set_index(["model", "pair"])
    target = pairs["Eq 2.7 target (pure superpixels)"]
    assert target[("λ = 0.1", "background–nucleus")] == 0.5
    assert target[("λ = 0", "cytoplasm–nucleus")] == 0.75
    aware_target = pairs["class-aware target (pure superpixels)"]
    assert aware_target[("λ = 0.1", "nucleus–nucleus")] == 1.0
    assert aware_target[("λ = 0.1", "background–nucleus")] == 0.0
    prov = pd.read_csv(out / "run_provenance.csv", keep_default_na=False)
    assert prov["model"].tolist() == [label for label in labels for _ in seeds]


def _check_04(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    table = pd.read_csv(out / "graph_cut_results.csv")
    methods = table["method"].tolist()
    assert methods == [*params["combinations"], "Otsu (L*)", "2-means (Lab)"]
    for column in (
        "IoU",
        "Dice",
        "IoU, oracle flip",
        "optimistic IoU (oracle flip, best test epoch)",
    ):
        assert table[column].between(0, 1).all(), column
    # the oracle can only help, and choosing the epoch on the scored images only helps further
    assert (table["IoU, oracle flip"] >= table["IoU"] - 1e-12).all()
    graph = table[table["method"].isin(params["combinations"])]
    epochs = set(range(params["eval_every"], params["epochs"] + 1, params["eval_every"]))
    assert set(graph["epoch (chosen on validation)"].astype(int)) <= epochs
    comparison = pd.read_csv(out / "seed_comparison.csv")
    assert comparison["verdict"].str.startswith("not comparable").all()  # phantoms
    for name in ("examples.png", "affinities.png", "iou_vs_epoch.png", "gallery.png", "times.md"):
        assert (out / name).is_file(), name
    best = results["results"]["best_honest"]
    assert best["method"] in methods and 0 <= best["iou"] <= 1


def _check_05(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    table = pd.read_csv(out / "results.csv")
    assert set(table["protocol"]) == set(params["protocols"]) - {"patients"}
    for _, group in table.groupby("protocol"):
        assert group["model"].tolist() == ["SVM", "CNN", "CNN + GCN"]
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert table[metric].between(0, 1).all(), metric
    holdout = table[table["protocol"] == "holdout"]
    assert (holdout["runs"] == len(params["seeds"])).all()
    sweep = pd.read_csv(out / "neighbour_sweep.csv")
    assert set(sweep["n_neighbours"]) == set(params["neighbour_grid"])
    assert results["results"]["chosen_n_neighbours"] in params["neighbour_grid"]
    comparison = pd.read_csv(out / "seed_comparison.csv")
    assert comparison["verdict"].str.startswith("not comparable").all()  # phantoms
    backbones = pd.read_csv(out / "backbones.csv")
    assert set(backbones["weights"]) == {"random-init"}  # no ImageNet file offline
    figures = ["examples", "backbone_validation", "neighbour_sweep", "confusion", "roc"]
    figures += ["umap"] if params["show_umap"] else []
    for name in figures:
        assert (out / f"{name}.png").is_file(), name


def _check_06(out: Path, results: dict[str, Any], params: dict[str, Any]) -> None:
    timing = pd.read_csv(out / "cross_validations.csv")
    n_seg, n_shg = len(params["seg_counts"]), len(params["shg_counts"])
    # SEG: 6 (signal, weighting) x (levels + fused); pruned; SHG: 3 x (levels + fused); 2 more
    expected = 6 * (n_seg + 1) + len(params["taus"]) + 3 * (n_shg + 1) + 2
    assert len(timing) == expected == results["results"]["n_feature_sets"]
    scores = pd.read_csv(out / "scores_long.csv")
    assert scores["ours"].between(0, 1).all()
    assert set(scores["classifier"]) == set(params["classifiers"])
    assert (scores["folds"] == params["n_splits"]).all()
    for table in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11):
        verdicts = pd.read_csv(out / f"table{table}_verdicts.csv")
        ran = verdicts[verdicts["verdict"] != "not run"]
        assert len(ran) > 0 and ran["verdict"].str.startswith("not comparable").all(), table
    table7 = pd.read_csv(out / "table7.csv")
    assert len(table7) == 6 * 4 and table7["verdict"].str.startswith("not comparable").all()
    shares = pd.read_csv(out / "fig6_selection.csv")
    sums = shares.groupby(["signal", "weighting"])["share"].sum()
    assert len(sums) == 6 and np.allclose(sums, 1.0)
    leak = pd.read_csv(out / "leakage.csv")
    assert leak["protocol"].nunique() == 3
    assert results["results"]["best_multilevel"]["classifier"] in params["classifiers"]
    for name in ("examples", "levels", "weights", "graph_features", "fig5_auc", "fig6_selection"):
        assert (out / f"{name}.png").is_file(), name


#: the notebook-specific checks, by notebook (a notebook without one fails its smoke test)
CHECKS: dict[str, Callable[[Path, dict[str, Any], dict[str, Any]], None]] = {
    "01_superpixel_scale": _check_01,
    "02_smgnn_vs_baselines": _check_02,
    "03_metric_learning_umap": _check_03,
    "04_unsupervised_graph_cuts": _check_04,
    "05_leukemia_knn_gcn": _check_05,
    "06_melanoma_graphs": _check_06,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", SMOKE_RUNS)
def test_smoke_run_through_the_runner(name, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MEDGRAPH_DATA", raising=False)
    cache = tmp_path / "runs"
    monkeypatch.setenv(ENV_RESULT_CACHE, str(cache))  # `result_cache: auto` of the smoke runs
    monkeypatch.setenv(ENV_RESULT_STORE, "")  # the committed trained/ is not read
    (spec,) = load_runs(CONFIG, "smoke", [name])  # --only selects this run alone
    check = CHECKS.get(spec.notebook.stem)
    assert check is not None, f"tests/test_notebooks.py has no check for {spec.notebook.name}"
    params = _parameters(spec)
    reports = tmp_path / "reports"
    argv = ["--config", str(CONFIG), "--profile", "smoke", "--only", name]
    assert run_main([*argv, "--reports-dir", str(reports)]) == 0

    out = reports / "smoke" / name
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "complete" and results["run"] == name
    assert [d["source"] for d in results["datasets"]] == ["phantom"]
    listed = [t[k] for t in results.get("tables") or [] for k in ("csv", "md")]
    listed += [f["file"] for f in results.get("figures") or []]
    assert listed and all((out / f).is_file() for f in listed)
    check(out, results, params)
    # every saved figure is also shown in the kernel: the executed notebook holds an image per
    # figure (a library that switched matplotlib's backend would leave them blank)
    executed = nbformat.read(out / spec.notebook.name, as_version=4)
    images = sum(
        "image/png" in output.get("data", {})
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert images >= len(results.get("figures") or []) > 0, (images, results.get("figures"))
    index = (reports / "smoke" / "README.md").read_text()
    assert name in index and "paper's" in index
    # phantom numbers are never set beside the paper's as if comparable: every claim says so
    claims = results.get("paper_comparison") or []
    assert all(row["verdict"] == PHANTOM for row in claims), claims
    assert not claims or (out / "claims.md").is_file()
    # the executed notebook names neither the repository's folder nor the staging folder
    text = (out / spec.notebook.name).read_text()
    assert str(ROOT) not in text and ".staging" not in text

    # the pieces command asks the store for exactly the runs the notebook trained: all cached
    study = get_study(_study(name))
    if study.make_pieces is not None:  # runs of another recipe than segmentation
        capsys.readouterr()
        argv = ["--config", str(CONFIG), "--profile", "smoke", "--run", name, "--dry-run"]
        assert pieces_main(argv) == 0
        listed = capsys.readouterr().out.splitlines()[1:]
        expected, _ = study.make_pieces(params)  # 04: one per combination; 05: per split
        assert len(listed) == len(expected) > 0
        assert all(line.split()[-2] == "cached" for line in listed), listed
        assert len(list(cache.glob("*.pt"))) == len(listed)
        return
    plan = study.plan(params)
    capsys.readouterr()
    assert (
        pieces_main(["--config", str(CONFIG), "--profile", "smoke", "--run", name, "--dry-run"])
        == 0
    )
    listed = capsys.readouterr().out.splitlines()
    if not plan:
        assert listed == [f"{name}: study {_study(name)} trains nothing"]
        assert not cache.exists()
        return
    pieces = sum(len(g.variants) * len(g.seeds) for g in plan.values())
    distinct = len(listed) - 1
    assert listed[0].startswith(f"{name} (smoke, study {_study(name)}): ")
    assert f"{pieces} pieces, {distinct} distinct runs" in listed[0]
    assert all(line.split()[-2] == "cached" for line in listed[1:]), listed
    assert len(list(cache.glob("*.pt"))) == distinct
    # every run is listed with where it was trained; a run asked for twice (e.g. the λ = 0.1
    # ablation that is notebook 02's main SMGNN run) is trained once and then loaded
    prov = pd.read_csv(out / "run_provenance.csv", keep_default_na=False)
    assert len(prov) == pieces and (prov["device"] != "").all()
    assert (prov["from_cache"] != "").sum() == pieces - distinct
