"""Cell-type classification: split, inputs, LightResNet, training, report, the experiment."""

import dataclasses
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from medgraph import transforms
from medgraph.classification import (
    CELL_TYPES,
    CLASSIFIER_CANDIDATES,
    PAPER_CLASS_ORDER,
    ClassifierConfig,
    augment_dihedral,
    choose_classifier_on_validation,
    class_weights,
    classification_report,
    classifier_inputs,
    format_confusion,
    plot_confusion,
    predict_classes,
    run_cell_type_experiment,
    stratified_fraction_split,
    train_classifier,
)
from medgraph.data import make_wbc_phantoms
from medgraph.data.dataset import SegmentationDataset
from medgraph.models.common import count_parameters
from medgraph.models.resnet import LightResNet
from medgraph.training import NonFiniteLossError

WBC2_COUNTS = (33, 37, 15, 12, 3)


@pytest.fixture(autouse=True)
def one_thread():
    """Single-threaded: tiny models on a shared 2-core machine run fastest this way."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def phantoms():
    """30 small wbc2-style phantoms (class-dependent nucleus shapes), 96×96 px."""
    return make_wbc_phantoms(30, seed=1, style="wbc2", size=96)


# ------------------------------------------------------------------------------------- split


def test_split_takes_a_third_of_each_class_disjoint_and_complete():
    labels = np.repeat(np.arange(1, 6), WBC2_COUNTS)
    labels = np.random.default_rng(5).permutation(labels)
    train, test = stratified_fraction_split(labels, 1 / 3, seed=0)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(labels.size))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    # round(n/3): 11, 12, 5, 4, 1 — the 3 basophils still give one training image
    assert np.bincount(labels[train], minlength=6)[1:].tolist() == [11, 12, 5, 4, 1]
    assert np.bincount(labels[test], minlength=6)[1:].tolist() == [22, 25, 10, 8, 2]


def test_split_fraction_clamping_and_singletons():
    labels = np.array([1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3])
    train, test = stratified_fraction_split(labels, 0.05, seed=3)
    counts = np.bincount(labels[train], minlength=4)
    assert counts[1] == 1 and counts[2] == 1  # at least one per class with >= 2 samples
    assert counts[3] == 0  # a lone sample goes to test when fraction < 0.5
    train, test = stratified_fraction_split(labels, 0.95, seed=3)
    assert np.bincount(labels[test], minlength=4)[1:3].tolist() == [1, 1]  # one left for test
    assert np.bincount(labels[train], minlength=4)[3] == 1
    with pytest.raises(ValueError):
        stratified_fraction_split(labels, 1.0)


def test_split_is_seeded():
    labels = np.repeat(np.arange(1, 6), WBC2_COUNTS)
    a = stratified_fraction_split(labels, seed=7)
    b = stratified_fraction_split(labels, seed=7)
    c = stratified_fraction_split(labels, seed=8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


# ------------------------------------------------------------------------------------ inputs


def test_inputs_channels_range_and_one_hot(phantoms):
    images, masks = phantoms.images[:4], phantoms.masks[:4]
    x3 = classifier_inputs(images, size=48)
    x6 = classifier_inputs(images, masks, size=48)
    assert x3.shape == (4, 3, 48, 48) and x6.shape == (4, 6, 48, 48)
    assert x3.dtype == torch.float32
    assert torch.equal(x3, x6[:, :3])
    assert x3.min() >= -1.0 and x3.max() <= 1.0
    onehot = x6[:, 3:]
    assert torch.all((onehot == 0) | (onehot == 1))
    assert torch.equal(onehot.sum(1), torch.ones(4, 48, 48))
    # the nucleus channel is where the (resized) mask says nucleus; 96 → 48 by nearest
    mask = torch.from_numpy(masks[0].astype(np.int64))
    small = torch.nn.functional.interpolate(mask[None, None].float(), size=48, mode="nearest-exact")
    assert torch.equal(onehot[0, 2], (small[0, 0] == 2).float())
    # area resizing of an exact 2× reduction is the mean over 2×2 blocks
    rgb = images[0].astype(np.float64) / 255
    block = rgb.reshape(48, 2, 48, 2, 3).mean((1, 3))
    np.testing.assert_allclose(x3[0].permute(1, 2, 0).numpy(), block * 2 - 1, atol=1e-5)


def test_inputs_validate_segmentations(phantoms):
    images = phantoms.images[:2]
    with pytest.raises(ValueError):
        classifier_inputs(images, phantoms.masks[:1], size=32)
    bad = [m.copy() for m in phantoms.masks[:2]]
    bad[1][0, 0] = 3
    with pytest.raises(ValueError):
        classifier_inputs(images, bad, size=32)
    with pytest.raises(ValueError):
        classifier_inputs(images, [m[:-1] for m in phantoms.masks[:2]], size=32)


def test_inputs_upsample_and_non_square():
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    seg = np.zeros((20, 30), dtype=np.uint8)
    seg[5:15, 10:20] = 2
    x = classifier_inputs([image], [seg], size=40)
    assert x.shape == (1, 6, 40, 40)
    assert torch.equal(x[0, 3:].sum(0), torch.ones(40, 40))
    assert x[0, 5].sum() > 0


def test_dihedral_augmentation_is_a_symmetry():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        y = augment_dihedral(x, rng)
        assert y.shape == x.shape
        for a, b in zip(x, y, strict=True):
            # the same multiset of values per channel, and channels are not mixed
            assert torch.equal(a.flatten(1).sort(1).values, b.flatten(1).sort(1).values)
        seen.add(tuple(y[0, 0].flatten().tolist()))
    assert len(seen) == 8  # all eight symmetries of the square occur
    assert augment_dihedral is transforms.augment_dihedral  # one implementation, shared


def test_class_weights_balance_the_classes():
    w = class_weights(np.array([0, 0, 0, 1, 2, 2]), 4)
    np.testing.assert_allclose(w, [6 / 9, 6 / 3, 6 / 6, 0.0])
    counts = np.bincount([0, 0, 0, 1, 2, 2], minlength=4)
    np.testing.assert_allclose((w * counts)[:3], [2.0, 2.0, 2.0])


# ------------------------------------------------------------------------------------- model


def test_light_resnet_shapes_and_size():
    for c in (3, 6):
        model = LightResNet(c)
        assert model(torch.randn(2, c, 64, 64)).shape == (2, 5)
        assert 100_000 < count_parameters(model) < 400_000
    assert count_parameters(LightResNet(6)) == 308_613
    model = LightResNet(6, num_classes=3, widths=(8, 16), blocks=(2, 1))
    assert model(torch.randn(3, 6, 37, 29)).shape == (3, 3)
    assert model.features(torch.randn(3, 6, 32, 32)).shape == (3, 16)
    with pytest.raises(ValueError):
        model(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError):
        LightResNet(3, widths=(8, 16), blocks=(1,))


def test_light_resnet_residual_branches_start_as_identity():
    model = LightResNet(3, widths=(8, 8), blocks=(2, 1)).eval()
    block = model.stages[0][1]  # 8 → 8, stride 1: identity shortcut
    x = torch.relu(torch.randn(2, 8, 16, 16))
    assert torch.allclose(block(x), x)


# ---------------------------------------------------------------------------------- training


def test_training_learns_the_phantom_training_set(phantoms):
    x = classifier_inputs(phantoms.images, phantoms.masks, size=48)
    y = phantoms.class_labels
    cfg = ClassifierConfig(size=48, epochs=40, batch_size=8, lr=3e-3, widths=(8, 16, 32, 64))
    model, history = train_classifier(x, y, cfg, seed=0)
    assert len(history["loss"]) == 40 and len(history["accuracy"]) == 40
    assert np.mean(history["loss"][-5:]) < 0.6 * np.mean(history["loss"][:5])
    assert history["lr"][-1] < history["lr"][0]
    assert not model.training
    pred = predict_classes(model, x)
    chance = np.bincount(y).max() / y.size  # always guessing the largest class
    accuracy = float(np.mean(pred == y))
    assert accuracy > chance + 0.3, (accuracy, chance)


def test_training_is_seeded_and_keeps_global_rng(phantoms):
    x = classifier_inputs(phantoms.images[:10], phantoms.masks[:10], size=32)
    y = phantoms.class_labels[:10]
    cfg = ClassifierConfig(size=32, epochs=2, batch_size=4, widths=(4, 8), blocks=(1, 1))
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    m1, h1 = train_classifier(x, y, cfg, seed=4)
    after = torch.rand(1)
    m2, h2 = train_classifier(x, y, cfg, seed=4)
    m3, _ = train_classifier(x, y, cfg, seed=5)
    assert torch.equal(before, after)
    assert h1["loss"] == h2["loss"]
    p1, p2, p3 = (torch.cat([p.flatten() for p in m.parameters()]) for m in (m1, m2, m3))
    assert torch.equal(p1, p2) and not torch.equal(p1, p3)


def _reference_classifier(x, y, cfg, seed):
    """The classifier's own training loop from before it ran on ``medgraph.training.fit``."""
    targets = np.array([cfg.classes.index(int(v)) for v in y])
    n, num_classes = targets.size, len(cfg.classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LightResNet(x.shape[1], num_classes, cfg.widths, cfg.blocks, dropout=cfg.dropout)
    rng = np.random.default_rng(seed)
    y_all = torch.from_numpy(targets)
    weight = None
    if cfg.class_weighting == "balanced":
        weight = torch.tensor(class_weights(targets, num_classes), dtype=torch.float32)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_batches = math.ceil(n / cfg.batch_size)
    scheduler = None
    if cfg.lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimiser, T_max=cfg.epochs * n_batches, eta_min=cfg.lr / 100
        )
    losses, lrs = [], []
    model.train()
    for _ in range(cfg.epochs):
        loss_sum = weight_sum = 0.0
        for batch in np.array_split(rng.permutation(n), n_batches):
            idx = torch.from_numpy(batch)
            xb, yb = x[idx], y_all[idx]
            if cfg.augment:
                xb = augment_dihedral(xb, rng)
            loss = F.cross_entropy(model(xb), yb, weight=weight)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            w = float(weight[yb].sum()) if weight is not None else float(len(batch))
            loss_sum += float(loss.detach()) * w
            weight_sum += w
        losses.append(loss_sum / weight_sum)
        lrs.append(optimiser.param_groups[0]["lr"])
    model.eval()
    return model, losses, lrs


@pytest.mark.parametrize(
    "options",
    [
        {},  # augmentation, balanced weights, cosine schedule
        {"augment": False, "class_weighting": "none", "lr_schedule": "constant"},
        {"dropout": 0.2, "batch_size": 3},
    ],
)
def test_training_on_fit_reproduces_the_classifiers_own_loop_bit_for_bit(phantoms, options):
    x = classifier_inputs(phantoms.images[:11], phantoms.masks[:11], size=24)
    y = phantoms.class_labels[:11]
    cfg = ClassifierConfig(size=24, epochs=3, batch_size=4, widths=(4, 8), blocks=(1, 1))
    cfg = dataclasses.replace(cfg, **options)
    torch.manual_seed(9)  # dropout draws from torch's global stream
    model, history = train_classifier(x, y, cfg, device="cpu", seed=3)
    torch.manual_seed(9)
    reference, losses, lrs = _reference_classifier(x, y, cfg, seed=3)
    assert history["loss"] == losses and history["lr"] == lrs
    assert len(history["accuracy"]) == len(history["seconds"]) == 3
    for (name, a), (_, b) in zip(
        model.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_training_stops_on_a_non_finite_loss(phantoms):
    x = classifier_inputs(phantoms.images[:4], size=16)
    x[0, 0, 0, 0] = float("nan")
    cfg = ClassifierConfig(size=16, epochs=1, widths=(4,), blocks=(1,), augment=False)
    with pytest.raises(NonFiniteLossError):
        train_classifier(x, phantoms.class_labels[:4], cfg, device="cpu")


def test_training_device_defaults_to_select_device_auto(phantoms, monkeypatch):
    import medgraph.classification.classifier as classifier

    asked = []

    def spy(preference):
        asked.append(preference)
        return torch.device("cpu")

    monkeypatch.setattr(classifier, "select_device", spy)
    x = classifier_inputs(phantoms.images[:4], size=16)
    cfg = ClassifierConfig(size=16, epochs=1, widths=(4,), blocks=(1,))
    train_classifier(x, phantoms.class_labels[:4], cfg)
    ds = make_wbc_phantoms(12, seed=2, style="wbc2", size=24)
    run_cell_type_experiment(ds, {"image only": None}, cfg)
    assert asked == ["auto", "auto"]


def test_training_rejects_unknown_labels(phantoms):
    x = classifier_inputs(phantoms.images[:3], size=16)
    cfg = ClassifierConfig(size=16, epochs=1, widths=(4,), blocks=(1,))
    with pytest.raises(ValueError):
        train_classifier(x, [1, 2, 0], cfg)
    with pytest.raises(ValueError):
        train_classifier(x, [1, 2], cfg)


def test_predict_classes_maps_logits_to_labels():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0, 0, 0].long(), 5).float() + self.w

    x = torch.tensor([0.0, 4.0, 2.0]).reshape(3, 1, 1, 1)
    assert predict_classes(Fixed(), x).tolist() == [1, 5, 3]
    assert predict_classes(Fixed(), x, classes=(10, 20, 30, 40, 50)).tolist() == [10, 50, 30]


# ------------------------------------------------------------------------------------ report


def test_report_by_hand():
    y_true = [1, 1, 1, 1, 2, 2, 3, 3, 3, 5]
    y_pred = [1, 1, 2, 1, 2, 3, 3, 3, 3, 5]  # column sums 3, 2, 4, 0, 1 differ from rows
    confusion, numbers = classification_report(y_true, y_pred)
    rows = ["Neutrophil", "Lymphocyte", "Monocyte", "Eosinophil", "Basophil"]
    assert list(confusion.index) == [*rows, "Overall Accuracy"]
    assert list(confusion.columns) == [f"Recognized {r}" for r in rows] + ["Accuracy"]
    expected = [
        [3, 1, 0, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 3, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
    ]
    assert confusion.iloc[:5, :5].to_numpy(dtype=np.int64).tolist() == expected
    assert numbers["matrix"] == expected
    acc = confusion["Accuracy"]
    assert acc["Neutrophil"] == pytest.approx(3 / 4)
    assert acc["Lymphocyte"] == pytest.approx(1 / 2)
    assert acc["Monocyte"] == pytest.approx(3 / 3)
    assert np.isnan(acc["Eosinophil"])
    assert acc["Basophil"] == pytest.approx(1.0)
    assert acc["Overall Accuracy"] == pytest.approx(8 / 10)
    assert confusion.loc["Overall Accuracy"].iloc[:5].isna().all()
    assert numbers["overall_accuracy"] == pytest.approx(0.8)
    assert numbers["n_correct"] == 8 and numbers["n_samples"] == 10
    assert numbers["balanced_accuracy"] == pytest.approx((3 / 4 + 1 / 2 + 1 + 1) / 4)
    assert numbers["support"]["Monocyte"] == 3


def test_report_reproduces_paper_table_4():
    """The paper's Table 4 counts, in its alphabetical order, give its printed accuracies."""
    order = {k: CELL_TYPES[k] for k in PAPER_CLASS_ORDER}
    table = [[2, 0, 0, 0, 0], [0, 8, 0, 0, 0], [0, 0, 23, 1, 0], [0, 0, 0, 10, 0], [1, 0, 0, 0, 16]]
    y_true, y_pred = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            y_true += [PAPER_CLASS_ORDER[i]] * count
            y_pred += [PAPER_CLASS_ORDER[j]] * count
    confusion, numbers = classification_report(y_true, y_pred, order)
    assert confusion.index[0] == "Basophil" and confusion.columns[-2] == "Recognized Neutrophil"
    text = format_confusion(confusion)
    # 23/24 = 95.83%; the paper prints 92.00% for lymphocytes (a typo there: 23 of 25 would be)
    assert text["Accuracy"].tolist() == [
        "100.00%",
        "100.00%",
        "95.83%",
        "100.00%",
        "94.12%",
        "96.72%",
    ]
    assert text.loc["Overall Accuracy", "Recognized Basophil"] == "-"
    assert numbers["n_samples"] == 61


def test_report_sequence_names_and_unknown_labels():
    confusion, _ = classification_report([1, 2, 2], [1, 2, 1], ["a", "b"])
    assert list(confusion.index) == ["a", "b", "Overall Accuracy"]
    assert confusion.loc["b", "Accuracy"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        classification_report([1, 2, 3], [1, 2, 2], ["a", "b"])
    with pytest.raises(ValueError):
        classification_report([1, 2], [1], ["a", "b"])


def test_plot_confusion_draws_counts():
    confusion, _ = classification_report([1, 1, 2, 3], [1, 2, 2, 3], {1: "a", 2: "b", 3: "c"})
    ax = plot_confusion(confusion, "demo")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1", "1", "0", "0", "1", "0", "0", "0", "1"]
    assert "75.00%" in ax.get_title() and ax.get_title().startswith("demo")
    assert ax.get_yticklabels()[0].get_text() == "a (50%)"
    plt.close(ax.figure)


# -------------------------------------------------------------------------------- experiment


def test_experiment_end_to_end_on_tiny_phantoms():
    ds = make_wbc_phantoms(20, seed=2, style="wbc2", size=48)
    cfg = ClassifierConfig(size=32, epochs=3, batch_size=4, widths=(4, 8), blocks=(1, 1))
    rng = np.random.default_rng(0)
    noisy = [rng.integers(0, 3, m.shape).astype(np.uint8) for m in ds.masks]
    result = run_cell_type_experiment(
        ds, {"image only": None, "ground truth": ds.masks, "noise": noisy}, cfg, seed=0
    )
    assert list(result.index) == ["image only", "ground truth", "noise"]
    assert result["in_channels"].tolist() == [3, 6, 6]
    train_idx, test_idx = result.attrs["train_idx"], result.attrs["test_idx"]
    assert result["n_train"].eq(train_idx.size).all() and result["n_test"].eq(test_idx.size).all()
    assert train_idx.size + test_idx.size == len(ds)
    expected = stratified_fraction_split(ds.class_labels, 1 / 3, seed=0)
    assert np.array_equal(train_idx, expected[0]) and np.array_equal(test_idx, expected[1])
    assert result.attrs["test_ids"] == [ds.ids[i] for i in test_idx]
    for source in result.index:
        confusion = result.loc[source, "confusion"]
        assert isinstance(confusion, pd.DataFrame)
        y_pred = result.loc[source, "y_pred"]
        assert y_pred.shape == (test_idx.size,)
        direct = float(np.mean(y_pred == ds.class_labels[test_idx]))
        assert result.loc[source, "overall_accuracy"] == pytest.approx(direct)
        assert confusion.loc["Overall Accuracy", "Accuracy"] == pytest.approx(direct)
        assert confusion.iloc[:-1, :-1].to_numpy(dtype=np.int64).sum() == test_idx.size
    with pytest.raises(ValueError):
        run_cell_type_experiment(ds, {"short": ds.masks[:-1]}, cfg)


def test_cell_region_by_hand():
    from medgraph.classification import cell_region

    image = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    seg = np.zeros((10, 12), dtype=np.int64)
    seg[3:6, 4:9] = 1  # cytoplasm: rows 3-5, columns 4-8
    seg[4, 6] = 2  # nucleus
    out, out_seg = cell_region(image, seg, margin=1)
    # box rows 2-6 (5 rows), columns 3-9 (7 columns), centred in a 7 x 7 square: one black row
    # above, one below
    assert out.shape == (7, 7, 3) and out_seg.shape == (7, 7)
    expected_seg = np.zeros((7, 7), dtype=np.int64)
    expected_seg[2:5, 1:6] = 1
    expected_seg[3, 3] = 2
    np.testing.assert_array_equal(out_seg, expected_seg)
    expected = np.zeros((7, 7, 3), dtype=np.uint8)
    expected[2:5, 1:6] = image[3:6, 4:9]  # the cell's own pixels; the margin is masked to black
    np.testing.assert_array_equal(out, expected)
    # the box is clipped at the border; a segmentation without a cell changes nothing
    seg2 = np.zeros((10, 12), dtype=np.int64)
    seg2[0:2, 10:12] = 2
    out2, out_seg2 = cell_region(image, seg2, margin=3)
    assert out2.shape == (5, 5, 3) and out_seg2.sum() == 2 * 4
    empty = np.zeros((10, 12), dtype=np.int64)
    same, same_seg = cell_region(image, empty)
    assert same is image and same_seg is empty


def test_classifier_inputs_cell_region():
    from medgraph.classification import cell_region

    image = np.full((20, 20, 3), 200, dtype=np.uint8)
    seg = np.zeros((20, 20), dtype=np.int64)
    seg[5:15, 5:15] = 1
    seg[8:12, 8:12] = 2
    x = classifier_inputs([image], [seg], size=10, region="cell", margin=0)
    # the 10 x 10 cell fills the input exactly: no black, the one-hot maps are the cell's
    crop, crop_seg = cell_region(image, seg, margin=0)
    assert crop.shape == (10, 10, 3)
    np.testing.assert_allclose(x[0, :3].numpy(), 200 / 255 * 2 - 1, rtol=1e-6)
    np.testing.assert_array_equal(x[0, 3:].argmax(0).numpy(), crop_seg)
    with pytest.raises(ValueError, match="needs segmentations"):
        classifier_inputs([image], size=10, region="cell")
    with pytest.raises(ValueError, match="region must be"):
        ClassifierConfig(region="nucleus")


def test_experiment_cell_region_only_for_segmentation_sources(monkeypatch):
    import medgraph.classification.experiment as experiment

    seen = []
    real = experiment.classifier_inputs

    def spy(images, segmentations=None, size=150, region="whole", margin=6):
        seen.append((segmentations is None, region, margin))
        return real(images, segmentations, size, region=region, margin=margin)

    monkeypatch.setattr(experiment, "classifier_inputs", spy)
    ds = make_wbc_phantoms(12, seed=2, style="wbc2", size=48)
    cfg = ClassifierConfig(
        size=32,
        epochs=1,
        batch_size=4,
        widths=(4, 8),
        blocks=(1, 1),
        region="cell",
        region_margin=2,
    )
    result = run_cell_type_experiment(ds, {"image only": None, "ground truth": ds.masks}, cfg)
    # the image-only baseline sees the whole image, the segmentation source its cell
    assert seen == [(True, "whole", 2), (False, "cell", 2)]
    assert result.attrs["config"]["region"] == "cell"


# ---------------------------------------------------------------- settings chosen on validation

REGIONS = {"cell": {"region": "cell"}, "whole": {"region": "whole"}}


def _fake_training(monkeypatch, correct_when):
    """Replace input building, training and prediction: x carries each image's position in the
    data set, and a candidate's 'classifier' is right on the images ``correct_when(cfg, i)``."""
    import medgraph.classification.experiment as experiment

    seen: list[tuple[str, list[int]]] = []
    held_out: list[tuple[str, list[int]]] = []

    def inputs(images, segmentations, size, region, margin):
        seen.append((region, [int(im[0, 0, 0]) for im in images]))
        return np.array([[float(im[0, 0, 0])] for im in images])

    def train(x, y, cfg, device, seed):
        return cfg, {}

    def predict(model, x, classes):
        idx = x[:, 0].astype(int)
        held_out.append((model, idx.tolist()))
        truth = labels[idx]
        wrong = np.where(truth == classes[0], classes[1], classes[0])
        return np.where([correct_when(model, i) for i in idx], truth, wrong)

    monkeypatch.setattr(experiment, "classifier_inputs", inputs)
    monkeypatch.setattr(experiment, "train_classifier", train)
    monkeypatch.setattr(experiment, "predict_classes", predict)
    labels = np.array([1, 2, 3, 4, 5] * 9)
    images = [np.full((4, 4, 3), i, dtype=np.uint8) for i in range(labels.size)]
    ds = SegmentationDataset(
        images=images,
        masks=[np.zeros((4, 4), np.uint8)] * labels.size,
        ids=[str(i) for i in range(labels.size)],
        class_labels=labels,
        name="toy",
        source="phantom",
    )
    return ds, labels, seen, held_out


def test_choice_reads_only_training_images_and_scores_held_out_folds(monkeypatch):
    ds, labels, seen, held_out = _fake_training(
        monkeypatch, lambda cfg, i: cfg.region == "whole" or i % 2 == 0
    )
    candidates = {**REGIONS, "whole, unweighted": {"region": "whole", "class_weighting": "none"}}
    chosen, table = choose_classifier_on_validation(ds, ds.masks, candidates, seed=3, n_splits=3)
    train_idx, _ = stratified_fraction_split(labels, 1 / 3, seed=3)
    # inputs built from the training images only, once per input layout
    assert seen == [("cell", train_idx.tolist()), ("whole", train_idx.tolist())]
    # each candidate's folds hold every training image out exactly once, the same folds for all
    folds = {}
    for cfg, idx in held_out:
        folds.setdefault((cfg.region, cfg.class_weighting), []).append(sorted(idx))
    assert len(folds) == 3 and all(sorted(sum(f, [])) == train_idx.tolist() for f in folds.values())
    assert len({tuple(map(tuple, f)) for f in folds.values()}) == 1
    assert chosen == "whole"  # 1.0, tied with "whole, unweighted": the earlier wins
    by = table.set_index("candidate")
    assert by.loc["whole", "validation_accuracy"] == 1.0
    assert by.loc["whole, unweighted", "validation_accuracy"] == 1.0
    assert by.loc["cell", "validation_accuracy"] == pytest.approx(np.mean(train_idx % 2 == 0))
    assert by["chosen"].tolist() == [False, True, False]
    assert by.loc["whole, unweighted", "class_weighting"] == "none"
    assert by["n_validation"].eq(train_idx.size).all() and by["folds"].eq(3).all()


def test_choice_tie_keeps_the_earlier_candidate(monkeypatch):
    ds, *_ = _fake_training(monkeypatch, lambda cfg, i: True)
    assert choose_classifier_on_validation(ds, ds.masks, REGIONS)[0] == "cell"
    flipped = {"whole": REGIONS["whole"], "cell": REGIONS["cell"]}
    assert choose_classifier_on_validation(ds, ds.masks, flipped)[0] == "whole"


def test_choice_rejects_bad_arguments():
    ds = make_wbc_phantoms(6, seed=0, style="wbc2", size=32)
    with pytest.raises(ValueError, match="n_splits"):
        choose_classifier_on_validation(ds, ds.masks, REGIONS, n_splits=1)
    with pytest.raises(ValueError, match="segmentations"):
        choose_classifier_on_validation(ds, ds.masks[:-1], REGIONS)
    with pytest.raises(ValueError, match="candidates"):
        choose_classifier_on_validation(ds, ds.masks, {})
    with pytest.raises(ValueError, match="region"):
        choose_classifier_on_validation(ds, ds.masks, {"bad": {"region": "nucleus"}})


def test_the_declared_candidates_cover_layout_weighting_and_augmentation():
    settings = {tuple(sorted(c.items())) for c in CLASSIFIER_CANDIDATES.values()}
    assert len(settings) == len(CLASSIFIER_CANDIDATES) == 8
    for over in CLASSIFIER_CANDIDATES.values():
        ClassifierConfig(**over)  # every candidate is a valid configuration


def test_choice_end_to_end_on_tiny_phantoms():
    ds = make_wbc_phantoms(20, seed=2, style="wbc2", size=48)
    cfg = ClassifierConfig(size=32, epochs=2, batch_size=4, widths=(4, 8), blocks=(1, 1))
    chosen, table = choose_classifier_on_validation(ds, ds.masks, REGIONS, cfg, n_splits=2)
    assert chosen in REGIONS and table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "candidate"].item() == chosen
    assert table["validation_accuracy"].between(0, 1).all()


def test_choice_on_too_few_training_images_returns_the_first_candidate(monkeypatch):
    ds, *_ = _fake_training(monkeypatch, lambda cfg, i: cfg.region == "whole")
    few = dataclasses.replace(
        ds,
        images=ds.images[:5],
        masks=ds.masks[:5],
        ids=ds.ids[:5],
        class_labels=ds.class_labels[:5],  # one image per class: each goes to the test part
    )
    chosen, table = choose_classifier_on_validation(few, few.masks, REGIONS)
    assert chosen == "cell" and table["validation_accuracy"].isna().all()
    assert table["chosen"].tolist() == [True, False] and table["folds"].eq(0).all()
    # two images in the largest class: two folds instead of three
    pick = [0, 5, 10, 15, 20, 25, 1, 2, 3, 4]  # six of class 1, one of each other class
    some = dataclasses.replace(
        ds,
        images=[ds.images[i] for i in pick],
        masks=[ds.masks[i] for i in pick],
        ids=[ds.ids[i] for i in pick],
        class_labels=ds.class_labels[pick],
    )
    chosen, table = choose_classifier_on_validation(some, some.masks, REGIONS, n_splits=3)
    assert chosen == "whole" and table["folds"].eq(2).all()
