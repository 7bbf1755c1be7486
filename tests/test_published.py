"""The transcribed tables agree with the paper's own text (when ../shared/papers is present)."""

import re
from pathlib import Path

import pytest

from medgraph.published import (
    smgnn_classification_table,
    smgnn_segmentation_table,
    smgnn_time_table,
)

PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "000_fe7e2cbe8257e505.txt"


def paper_rows(title: str, n_numbers: int) -> list[list[float]]:
    """The numeric cells of the table that follows ``title`` (parameter counts left out)."""
    if not PAPER.exists():
        pytest.skip(f"the SMGNN paper text is not at {PAPER}")
    text = PAPER.read_text(encoding="utf-8")
    rows = []
    for line in text[text.index(title) :].splitlines()[1:]:
        if line.startswith("|") and "---" not in line and not line.startswith("| Model"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            numbers = [c for c in cells[1:] if not c.rstrip("$").endswith("M")]
            rows.append([float(re.sub(r"[^0-9.]", "", c)) for c in numbers][-n_numbers:])
        elif rows and not line.startswith("|"):
            break
    return rows


@pytest.mark.parametrize("dataset,title", [("wbc1", "**Table 1.**"), ("wbc2", "**Table 2.**")])
def test_segmentation_tables_match_the_paper(dataset, title):
    ours = smgnn_segmentation_table(dataset)
    rows = paper_rows(title, 5)
    assert len(rows) == len(ours) == 7
    for (_, row), printed in zip(ours.iterrows(), rows, strict=True):
        expected = [
            row.paper_dice,
            row.paper_hausdorff,
            row.paper_ppv,
            row.paper_accuracy,
            row.paper_sensitivity,
        ]
        assert printed == pytest.approx(expected), row.model


def test_time_and_classification_tables_match_the_paper():
    times = paper_rows("**Table 3.**", 1)
    assert [r[-1] for r in times] == pytest.approx(
        smgnn_time_table().paper_seconds_per_8_images.tolist()
    )
    cls = paper_rows("**Table 6.**", 2)
    ours = smgnn_classification_table()
    expected = ours[["paper_dice", "paper_classification_accuracy"]].to_numpy().ravel()
    assert [x for r in cls for x in r[-2:]] == pytest.approx(expected.tolist())


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(KeyError, match="wbc1"):
        smgnn_segmentation_table("isic2017")
