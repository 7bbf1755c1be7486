"""Atomic writes and the contents of results.json."""

import json
import os
import stat

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from medgraph.reporting import Report, atomic_write, atomic_write_text, format_mean_std


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    dest = tmp_path / "table.csv"
    atomic_write_text(dest, "old\n")

    def broken(path):
        path.write_text("half a ta")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(dest, broken)
    assert dest.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary left behind


def test_atomic_write_gives_ordinary_file_permissions(tmp_path):
    # mkstemp makes its temporary file owner-only (0o600); the written file must instead get
    # what an ordinary new file gets under the process's umask
    old_mask = os.umask(0o027)
    try:
        dest = atomic_write_text(tmp_path / "table.csv", "a\n")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_report_writes_tables_figures_and_results(tmp_path):
    rep = Report(tmp_path / "run", run_name="demo", profile="quick", seeds=[3], parameters={"a": 1})
    rep.add_dataset({"name": "wbc1", "source": "phantom", "n_images": 2})
    frame = pd.DataFrame({"method": ["snic"], "iou": [0.91234]})
    rep.table("t", frame, "A caption")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    rep.figure("f", fig, "a figure")
    rep.record("value", np.float32(0.5))
    rep.record("missing", float("nan"))
    rep.compare("IoU", 0.9, None, "Fig 6 (curve only)")
    path = rep.finish()
    payload = json.loads(path.read_text())
    assert payload["status"] == "complete"
    assert payload["seeds"] == [3] and payload["profile"] == "quick"
    assert payload["results"] == {"value": 0.5, "missing": None}
    assert payload["paper_comparison"][0]["paper"] is None
    assert payload["datasets"][0]["n_images"] == 2
    assert {"python", "packages", "git_revision", "device"} <= set(payload["metadata"])
    assert "torch" in payload["metadata"]["packages"]
    md = (tmp_path / "run" / "t.md").read_text()
    assert "A caption" in md and "profile `quick`" in md and "seeds [3]" in md and "0.9123" in md
    assert (tmp_path / "run" / "t.csv").read_text().startswith("method,iou")
    assert (tmp_path / "run" / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_table_prints_integer_columns_as_integers(tmp_path):
    # every column numeric: tabulate sees one float array, so the count needs its own format
    rep = Report(tmp_path / "run", run_name="demo", profile="quick", seeds=[0])
    frame = pd.DataFrame({"λ": [0.1, 0.0], "gap": [-0.16414, 0.0059], "superpixels": [26313, 7]})
    rep.table("sep", frame, "Separation")
    rows = (tmp_path / "run" / "sep.md").read_text().splitlines()[-2:]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert cells == [["0.1000", "-0.1641", "26313"], ["0.0000", "0.0059", "7"]]


def test_git_revision_is_the_one_at_start(tmp_path, monkeypatch):
    import medgraph.reporting as reporting

    monkeypatch.setattr(reporting, "_git_revision", lambda root: "aaa111")
    rep = Report(tmp_path / "run", run_name="demo", profile="quick", seeds=[0])
    monkeypatch.setattr(reporting, "_git_revision", lambda root: "bbb222+dirty")  # a commit lands
    meta = json.loads(rep.finish().read_text())["metadata"]
    assert meta["git_revision"] == "aaa111" and meta["git_revision_at_finish"] == "bbb222+dirty"
    same = Report(tmp_path / "run2", run_name="demo", profile="quick", seeds=[0])
    meta = json.loads(same.finish().read_text())["metadata"]
    assert meta["git_revision"] == "bbb222+dirty" and "git_revision_at_finish" not in meta


def test_new_report_removes_stale_results(tmp_path):
    folder = tmp_path / "run"
    Report(folder, run_name="a", profile="quick", seeds=[0]).finish()
    assert (folder / "results.json").exists()
    Report(folder, run_name="a", profile="quick", seeds=[0])  # a new attempt starts
    assert not (folder / "results.json").exists()


def test_format_mean_std():
    assert format_mean_std(0.91234, 0.01) == "0.9123 ± 0.0100"
    assert format_mean_std(float("nan"), 0.1) == "–"
    assert format_mean_std(1.0, float("nan"), 2) == "1.00"


def test_dataset_description_counts_in_words():
    from medgraph.reporting import count_noun, describe_datasets

    assert count_noun(1, "seed") == "1 seed" and count_noun(3, "seed") == "3 seeds"
    assert count_noun(0, "image") == "0 images"
    records = [
        {"name": "wbc1", "source": "real", "n_images": 300},
        {"name": "toy", "source": "phantom", "n_images": 1},
    ]
    assert describe_datasets(records, "; ") == "wbc1 (real, 300 images); toy (phantom, 1 image)"


def test_a_data_root_is_recorded_without_the_machine_path(tmp_path, monkeypatch):
    from medgraph.reporting import portable_root

    monkeypatch.setenv("MEDGRAPH_DATA", str(tmp_path))
    assert portable_root(tmp_path / "bccd_crops") == "$MEDGRAPH_DATA/bccd_crops"
    monkeypatch.delenv("MEDGRAPH_DATA")
    assert portable_root("/home/someone/data/emds5/EMDS-5") == ".../emds5/EMDS-5"


def test_a_wide_table_gets_a_readable_markdown_view(tmp_path):
    from medgraph.reporting import mean_std_view

    wide = pd.DataFrame(
        {
            "model": ["smgnn", "unet"],
            "n_seeds": [3, 1],
            "dice_3cls_mean": [0.95291, 0.9675],
            "dice_3cls_std": [0.00061, float("nan")],
            "hd95_3cls_mean": [2.5232, 1.8012],
            "hd95_3cls_std": [0.1591, 0.0902],
            "ppv_3cls_mean": [0.9572, 0.9705],
        }
    )
    view = mean_std_view(wide, ["dice_3cls", "hd95_3cls", "ppv_3cls", "absent"], ["model"])
    assert list(view.columns) == ["model", "dice_3cls", "hd95_3cls", "ppv_3cls"]
    assert view["dice_3cls"].tolist() == ["0.9529 ± 0.0006", "0.9675"]  # one seed: the mean
    assert view["ppv_3cls"].tolist() == ["0.9572", "0.9705"]  # no std column
    rep = Report(tmp_path / "run", run_name="demo", profile="paper", seeds=[0, 1, 2])
    rep.table("wide", wide, "Wide", view=view, numparse=False)
    md = (tmp_path / "run" / "wide.md").read_text()
    assert "0.9529 ± 0.0006" in md and "hd95_3cls_std" not in md and "wide.csv" in md
    assert "hd95_3cls_std" in (tmp_path / "run" / "wide.csv").read_text()
