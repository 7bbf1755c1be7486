"""Library modules leave matplotlib's backend alone, so that figures show in a kernel; the figures
of notebook 02 are labelled, shaped as asked, and survive NaN."""

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

MODULES = ["medgraph.viz", "medgraph.classification", "medgraph.graphcut", "medgraph.features"]


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_library_keeps_the_backend(module):
    script = (
        "import matplotlib; matplotlib.use('svg'); "
        f"import {module}; import matplotlib.pyplot; print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


# --------------------------------------------------------------------------------------------
# the figures of notebook 02 (drawn headless: Agg is chosen here, in the test, never in lib/)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def _cell(h: int = 40, w: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A phantom: an image and a three-class mask (cytoplasm disc, nucleus inside)."""
    rr, cc = np.mgrid[:h, :w]
    r = np.hypot(rr - h / 2, cc - w / 2)
    mask = np.where(r < 12, 1, 0) + (r < 6)
    image = np.stack([0.9 - 0.3 * mask, 0.8 - 0.35 * mask, 0.9 - 0.1 * mask], axis=-1)
    return image, mask.astype(np.int64)


def _grid_graph(h: int, w: int, step: int = 8):
    """Square superpixels, their centroids and the 4-neighbour edges (both directions)."""
    rows, cols = (np.arange(h) // step), (np.arange(w) // step)
    nc = cols.max() + 1
    labels = rows[:, None] * nc + cols[None, :]
    k = labels.max() + 1
    rr, cc = np.mgrid[:h, :w]
    pos = (
        np.stack(
            [np.bincount(labels.ravel(), rr.ravel()), np.bincount(labels.ravel(), cc.ravel())], 1
        )
        / np.bincount(labels.ravel())[:, None]
    )
    edges = [(i, i + 1) for i in range(k) if (i + 1) % nc] + [(i, i + nc) for i in range(k - nc)]
    e = np.array(edges).T
    return labels, pos, np.concatenate([e, e[::-1]], axis=1)


def _labelled(ax) -> bool:
    """An axes says what it shows: a title, or both axis labels."""
    return bool(ax.get_title()) or (bool(ax.get_xlabel()) and bool(ax.get_ylabel()))


def test_superpixel_graph_figure_labels_its_axes(plt):
    from medgraph.viz import superpixel_graph_figure

    image, mask = _cell()
    labels, pos, edge_index = _grid_graph(*mask.shape)
    fig = superpixel_graph_figure(image, mask, labels, pos, edge_index)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert "edges" in fig.axes[0].get_title()
    # cropped to the cell: the graph panel is smaller than the image
    assert fig.axes[0].get_xlim()[1] < mask.shape[1]


def test_segmentation_figure_shows_dice_and_errors(plt):
    from medgraph.viz import ERROR_COLOUR, segmentation_figure

    image, mask = _cell()
    empty_nucleus = np.where(mask == 2, 1, mask)  # a class missing from the prediction
    preds = {"perfect": [mask, mask], "no nucleus": [empty_nucleus, np.zeros_like(mask)]}
    fig = segmentation_figure([image, image], [mask, mask], preds, ids=["a", "b"])
    assert len(fig.axes) == 2 * 4
    assert all(_labelled(ax) for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert "perfect\nDice 1.000" in titles
    # the wrong pixels of the second model are drawn in the error colour
    shown = fig.axes[3].get_images()[0].get_array()
    wrong = empty_nucleus != mask
    assert np.allclose(shown[wrong], 0.25 * shown[wrong] + 0.75 * np.array(ERROR_COLOUR), atol=0.3)
    with pytest.raises(ValueError):
        segmentation_figure([image], [mask, mask], preds)


def test_per_image_dice_matches_the_metrics_module():
    from medgraph.metrics import evaluate_segmentation
    from medgraph.viz import per_image_dice

    _, mask = _cell()
    shifted = np.roll(mask, 3, axis=1)
    run = SimpleNamespace(test_predictions=[shifted, mask], test_idx=[1, 0], test_ids=["b", "a"])
    frame = per_image_dice({("m", 0): run}, [mask, mask])
    assert list(frame.columns) == ["model", "seed", "image", "dice"]
    ref = evaluate_segmentation([shifted, mask], [mask, mask], ["b", "a"])
    expected = ref.groupby("image", sort=False)["dice"].mean()
    assert np.allclose(frame.set_index("image")["dice"], expected.loc[["b", "a"]])


def _per_image(models, rng, n=12, nan=False):
    rows = []
    for i, m in enumerate(models):
        for img in range(n):
            value = 0.8 + 0.02 * i + 0.05 * rng.standard_normal()
            rows.append({"model": m, "seed": 0, "image": str(img), "dice": value})
    frame = pd.DataFrame(rows)
    if nan:
        frame.loc[0, "dice"] = np.nan
        frame.loc[frame["model"] == models[-1], "dice"] = np.nan  # a model with no score at all
    return frame


def test_interval_bars_start_at_zero_or_mark_the_cut(plt):
    from medgraph.viz import plot_interval_bars

    rng = np.random.default_rng(0)
    frame = _per_image(["λ = 0", "λ = 0.1"], rng)
    fig, ax = plt.subplots()
    plot_interval_bars(ax, frame)
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylabel() and ax.get_xlabel()
    assert len(ax.patches) == 2
    fig2, ax2 = plt.subplots()
    plot_interval_bars(ax2, frame, cut=0.5)
    assert ax2.get_ylim()[0] == 0.5 and "cut" in ax2.get_ylabel()
    # the same resampling seed gives the same intervals
    from medgraph.viz import _interval_summary

    a, b = _interval_summary(frame, seed=3), _interval_summary(frame, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert (a["low"] <= a["mean"]).all() and (a["mean"] <= a["high"]).all()


def test_ablation_figure_tolerates_nan_and_empty(plt):
    from medgraph.viz import ablation_figure

    rng = np.random.default_rng(1)
    scale = _per_image(
        ["pure GNN, S = 16", "pure GNN, S = 64", "SMGNN, S = 16", "SMGNN, S = 64"], rng
    )
    per_image = {
        "lambda": _per_image(["λ = 0", "λ = 0.1", "λ = 1"], rng, nan=True),
        "gnn": _per_image(["smgnn", "smgnn_gcn"], rng),
        "scale": scale,
        "empty": pd.DataFrame(columns=["model", "seed", "image", "dice"]),
    }
    fig = ablation_figure(per_image, titles={"lambda": "λ"})
    assert len(fig.axes) == 3
    assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes)
    assert fig.axes[0].get_title() == "λ" and fig.axes[2].get_xscale() == "log"
    assert len(fig.axes[2].get_lines()) == 2
    assert len(ablation_figure({}).axes) == 1


def test_confusion_grid_is_a_page_wide_grid(plt):
    pytest.importorskip("seaborn")
    from medgraph.classification import classification_report
    from medgraph.viz import confusion_grid

    rng = np.random.default_rng(2)
    y_true = rng.integers(1, 6, size=60)
    confusions = {}
    for i in range(7):
        y_pred = np.where(rng.random(60) < 0.3 + 0.1 * i, y_true, rng.integers(1, 6, size=60))
        confusions[f"source {i}"] = classification_report(y_true, y_pred)[0]
    # a source with a class absent from its test set: NaN accuracy
    confusions["source 6"] = classification_report(
        np.r_[y_true[y_true != 5]], np.r_[y_true[y_true != 5]]
    )[0]
    fig = confusion_grid(confusions, ncols=4, width=10)
    assert fig.get_figwidth() == pytest.approx(10)
    heat = [ax for ax in fig.axes if ax.get_title()]
    assert len(heat) == 7 and len(fig.axes) == 8  # seven heat maps and one colour bar
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in heat)
    assert "%" in heat[0].get_title()
    assert fig.axes[-1 if fig.axes[-1] not in heat else 0].get_ylabel()  # the colour bar's label
