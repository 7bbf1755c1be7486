"""The melanoma paper's Tables 1-11 as transcribed in medgraph.published (Elwer et al., 2026)."""

import re
from pathlib import Path

import numpy as np
import pytest

from medgraph.published import (
    MELANOMA_CLASSIFIERS,
    MELANOMA_METRICS,
    MELANOMA_SOURCE,
    melanoma_seed_best,
    melanoma_seed_captions,
    melanoma_seed_table,
)

PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "003_a3ccbb84b13c591a.txt"
METRIC = {"AC": "accuracy", "Spec": "specificity", "Sens": "sensitivity", "AUC": "auc"}

# rows (levels) per table; Table 8 lacks one garbled cell
LEVELS = {
    **{t: ["n=20", "n=40", "n=60", "n=80", "n=100", "fused"] for t in range(1, 7)},
    **{t: ["n=5", "n=10", "n=20", "n=40", "n=80", "fused"] for t in (8, 9, 10)},
    11: ["τ=0%", "τ=25%", "τ=50%", "τ=75%"],
}


def cell(table, level, classifier, metric, **where):
    frame = melanoma_seed_table(table)
    mask = (
        (frame["level"] == level)
        & (frame["classifier"] == classifier)
        & (frame["metric"] == metric)
    )
    for key, value in where.items():
        mask &= frame[key] == value
    assert mask.sum() == 1, (table, level, classifier, metric, where)
    return float(frame.loc[mask, "paper_value"].iloc[0])


def test_source_and_captions():
    assert "Elwer" in MELANOMA_SOURCE and "Melanoma" in MELANOMA_SOURCE
    captions = melanoma_seed_captions()
    assert sorted(captions) == list(range(1, 12))
    assert "hierarchy" not in captions[1].lower() and "SHG" in captions[9]
    with pytest.raises(KeyError):
        melanoma_seed_table(12)


@pytest.mark.parametrize("table", [*range(1, 7), 8, 9, 10, 11])
def test_classifier_tables_have_seven_classifiers_four_metrics_per_level(table):
    frame = melanoma_seed_table(table)
    expected = len(MELANOMA_CLASSIFIERS) * len(MELANOMA_METRICS) * len(LEVELS[table])
    assert len(frame) == expected - (1 if table == 8 else 0)
    assert list(frame["level"].drop_duplicates()) == LEVELS[table]
    assert set(frame["classifier"]) == set(MELANOMA_CLASSIFIERS)
    assert set(frame["metric"]) == set(MELANOMA_METRICS)
    assert not frame.duplicated(["level", "classifier", "metric"]).any()
    assert frame["paper_value"].between(0.0, 1.0).all()
    assert frame[["signal", "weights", "graph"]].drop_duplicates().shape[0] == 1
    assert frame["graph"].iloc[0] == ("SHG" if table in (8, 9, 10) else "SEG")


def test_table_7_is_the_summary_by_weights_and_signal():
    frame = melanoma_seed_table(7)
    assert len(frame) == 2 * 3 * 4
    assert set(frame["classifier"]) == {"best"} and set(frame["level"]) == {"fused"}
    assert set(frame["signal"]) == {"geometric", "texture", "colour"}
    assert frame["paper_value"].between(0.0, 1.0).all()


def test_hand_checked_cells_tables_1_to_6():
    # Table 1, "Single graph AC 95.92 96.21 87.17 90.38 97.08 95.63 89.50" / "(n=20) Spec ..."
    assert cell(1, "n=20", "SVM", "accuracy") == 0.9592
    # Table 1, "(n=60) Spec 98.36 93.85 93.04 99.18 100.00 98.68 98.36": GB specificity
    assert cell(1, "n=60", "GB", "specificity") == 1.0
    # Table 3, "(fused n) Spec 98.36 92.31 98.36 100.0 99.18 99.18 96.72"; AC line: RF 99.01
    assert cell(3, "fused", "RF", "accuracy") == 0.9901
    assert cell(3, "fused", "RF", "specificity") == 1.0
    # Table 5, "AUC 92.41 97.99 97.37 93.16 99.59 97.96 96.94" (fused): GB AUC 99.59
    assert cell(5, "fused", "GB", "auc") == 0.9959
    # Table 6, "Ensemble graph AC 98.70 98.05 96.42 99.24 98.70 96.1039 94.80"
    assert cell(6, "fused", "RF", "accuracy") == 0.9924
    assert cell(6, "fused", "AB", "accuracy") == 0.961039
    # Table 4, "Sens 97.26 86.28 94.12 99.55 99.00 99.10 98.64" (n=100): KNN sensitivity
    assert cell(4, "n=100", "KNN", "sensitivity") == 0.8628


def test_hand_checked_cells_table_7():
    # "AC 98.12 98.41 99.01" (handcrafted), "AC 98.71 99.00 99.24" (learned)
    assert cell(7, "fused", "best", "accuracy", weights="handcrafted", signal="geometric") == 0.9812
    assert cell(7, "fused", "best", "accuracy", weights="learned", signal="colour") == 0.9924
    # "AUC 99.18 99.59 99.31" (learned)
    assert cell(7, "fused", "best", "auc", weights="learned", signal="texture") == 0.9959


def test_hand_checked_cells_tables_8_to_10():
    # Table 8, "Hierarchy AC 95.85 96.11 96.71 98.94 95.81 92.51 89.97": RF 98.94
    assert cell(8, "fused", "RF", "accuracy") == 0.9894
    # Table 8, "Single graph AC 98.23 96.41 73.05 98.2 97.60 95.51 94.01" (n=10)
    assert cell(8, "n=10", "QDA", "accuracy") == 0.7305
    assert cell(8, "n=10", "RF", "accuracy") == 0.982
    # Table 8, "Sens 97.17 94.80.0 97.21 ..." (n=5): garbled KNN cell left out
    frame = melanoma_seed_table(8)
    left_out = (frame["level"] == "n=5") & (frame["classifier"] == "KNN")
    assert set(frame.loc[left_out, "metric"]) == {"accuracy", "specificity", "auc"}
    assert cell(8, "n=5", "SVM", "sensitivity") == 0.9717
    # Table 9, "(fused n) Sens 98.94 97.70 98.32 98.31 95.25 98.39 97.64": SVM 98.94
    assert cell(9, "fused", "SVM", "sensitivity") == 0.9894
    # Table 10, "Single graph AC 97.58 93.41 89.76 99.30 96.35 92.57 94.99" (n=40)
    assert cell(10, "n=40", "RF", "accuracy") == 0.993


def test_hand_checked_cells_table_11_and_its_baseline():
    # "AUC 89.91 97.36 96.97 99.36 98.89 89.96 98.03" (τ=50%): RF 99.36
    assert cell(11, "τ=50%", "RF", "auc") == 0.9936
    # "τ\tau=75% Spec 96.06 92.30 91.09 98.69 87.78 98.93 91.67"
    assert cell(11, "τ=75%", "AB", "specificity") == 0.9893
    # "AC 92.57 93.86 89.66 97.85 95.11 90.44 87.71" (τ=25%)
    assert cell(11, "τ=25%", "MLP", "accuracy") == 0.8771
    # τ=0% is the unpruned multi-level SEG of Table 6
    t11, t6 = melanoma_seed_table(11), melanoma_seed_table(6)
    np.testing.assert_array_equal(
        t11.loc[t11["level"] == "τ=0%", "paper_value"].to_numpy(),
        t6.loc[t6["level"] == "fused", "paper_value"].to_numpy(),
    )


def test_best_rows():
    best = melanoma_seed_best(1)
    assert (best["level"], best["classifier"], best["accuracy"]) == ("fused", "RF", 0.981)
    assert best["specificity"] == 0.9894 and best["sensitivity"] == 0.9714
    best = melanoma_seed_best(6)
    assert (best["level"], best["classifier"], best["accuracy"]) == ("fused", "RF", 0.9924)
    best = melanoma_seed_best(7)
    assert (best["weights"], best["signal"], best["accuracy"]) == ("learned", "colour", 0.9924)
    best = melanoma_seed_best(10)
    assert (best["level"], best["classifier"], best["accuracy"]) == ("n=40", "RF", 0.993)


def paper_tables() -> dict[int, dict[tuple[str, str, str], float | None]]:
    """Every cell of Tables 1-6 and 8-11 parsed from the paper's text (None where garbled)."""
    if not PAPER.exists():
        pytest.skip(f"the melanoma paper text is not at {PAPER}")
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    tables: dict[int, dict[tuple[str, str, str], float | None]] = {}
    for i, line in enumerate(lines):
        head = re.match(r"Table (\d+): ", line)
        if not head or int(head.group(1)) in (7, 12):
            continue
        cells, pending, level = {}, [], None
        for row in lines[i + 2 :]:
            found = re.search(r"\b(AC|Spec|Sens|AUC)\b (.*)$", row)
            if not found:
                break
            prefix = row[: found.start()]
            if n := re.search(r"\(n=(\d+)\)", prefix):
                level = f"n={n.group(1)}"
            if "fused" in prefix:
                level = "fused"
            if tau := re.search(r"=(\d+)%", prefix):
                level = f"τ={tau.group(1)}%"
            pending.append((METRIC[found.group(1)], found.group(2).split()))
            if len(pending) == 4:
                for metric, tokens in pending:
                    for clf, token in zip(MELANOMA_CLASSIFIERS, tokens, strict=True):
                        ok = re.fullmatch(r"\d+(\.\d+)?", token)
                        cells[(level, clf, metric)] = float(token) / 100 if ok else None
                pending = []
        tables[int(head.group(1))] = cells
    return tables


def test_every_cell_matches_the_paper_text():
    for table, cells in paper_tables().items():
        frame = melanoma_seed_table(table)
        ours = {
            (r.level, r.classifier, r.metric): r.paper_value for r in frame.itertuples(index=False)
        }
        theirs = {key: value for key, value in cells.items() if value is not None}
        assert ours.keys() == theirs.keys(), table
        for key, value in theirs.items():
            assert ours[key] == pytest.approx(value, abs=1e-9), (table, key)
