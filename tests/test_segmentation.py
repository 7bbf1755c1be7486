"""The segmentation layer: padding and ignore, augmentation, models, options, scores."""

import numpy as np
import pandas as pd
import pytest
import torch

import medgraph.segmentation as seg
import medgraph.segmentation.training as seg_training
from medgraph.data import SegmentationDataset, make_wbc_phantoms
from medgraph.graphs import build_superpixel_graphs
from medgraph.losses import NonFiniteLossError, dice_loss
from medgraph.metrics import evaluate_segmentation, summarize_segmentation
from medgraph.models import build_baseline, count_parameters
from medgraph.options import RunOptions, split_settings
from medgraph.segmentation import (
    IGNORE_INDEX,
    NODE_IGNORE,
    Preprocessing,
    SegmentationConfig,
    make_batch,
    pad_to_shape,
    predict,
    prepare_images,
    train_segmentation,
)
from medgraph.superpixels import snic
from medgraph.training import split_indices
from medgraph.transforms import dihedral_ops, invert_array, transform_array, transform_graph

SIDE = 48
# hand-made crops that give the phantoms different sizes (so that padding is exercised)
CROPS = {1: (44, 40), 4: (40, 48), 6: (48, 42)}


@pytest.fixture(scope="module")
def phantoms() -> SegmentationDataset:
    """Ten small wbc1-style phantoms, three of them cropped to smaller sizes."""
    base = make_wbc_phantoms(10, seed=3, size=SIDE)
    images, masks = list(base.images), list(base.masks)
    for i, (h, w) in CROPS.items():
        images[i] = np.ascontiguousarray(images[i][:h, :w])
        masks[i] = np.ascontiguousarray(masks[i][:h, :w])
    return SegmentationDataset("wbc1", "phantom", images, masks, base.ids, base.class_labels, None)


@pytest.fixture(scope="module")
def splits(phantoms):
    return split_indices(len(phantoms), seed=0)


#: how the tests run (never what they train): the CPU, no progress bars, no result cache
QUIET = RunOptions(device="cpu", progress=False)


def quick_config(**overrides) -> SegmentationConfig:
    values = dict(epochs=2, batch_size=4, n_anchors=64, n_refs=64)
    values.update(overrides)
    return SegmentationConfig.from_any(values)


# --------------------------------------------------------------------------------------------
# padding and the ignore label
# --------------------------------------------------------------------------------------------


def test_pad_to_shape_reflects_and_crops_back():
    image = np.arange(2 * 3 * 3).reshape(2, 3, 3).astype(np.uint8)
    padded, (top, left) = pad_to_shape(image, (4, 6))
    assert padded.shape == (4, 6, 3) and (top, left) == (1, 1)
    assert np.array_equal(padded[top : top + 2, left : left + 3], image)
    assert np.array_equal(padded[0], padded[2])  # reflect: row −1 mirrors row 1
    mask = np.ones((2, 3), np.uint8)
    pmask, _ = pad_to_shape(mask, (4, 6), IGNORE_INDEX)
    assert (pmask == IGNORE_INDEX).sum() == 4 * 6 - 2 * 3 and (pmask == 1).sum() == 6


def test_ignored_pixels_do_not_change_the_dice_loss():
    # 2 classes on 2×2; pixel (1, 1) is padding
    probs = torch.tensor([[[0.8, 0.4], [0.1, 0.5]], [[0.2, 0.6], [0.9, 0.5]]])[None]
    target = torch.tensor([[[0, 1], [1, IGNORE_INDEX]]])
    valid = target != IGNORE_INDEX
    # class 0: 2·0.8 / (1.3 + 1); class 1: 2·1.5 / (1.7 + 2)
    hand = 1 - (1.6 / 2.3 + 3.0 / 3.7) / 2
    loss = dice_loss(probs, target, 2, valid=valid)
    assert loss.item() == pytest.approx(hand, rel=1e-5)
    assert dice_loss(probs, target, 2, ignore_index=IGNORE_INDEX).item() == pytest.approx(
        hand, rel=1e-5
    )
    # whatever the padding holds (prediction or label) the loss stays the same
    other = probs.clone()
    other[0, :, 1, 1] = torch.tensor([0.99, 0.01])
    relabelled = target.clone()
    relabelled[0, 1, 1] = 0
    assert dice_loss(other, relabelled, 2, valid=valid).item() == pytest.approx(hand, rel=1e-5)
    # ... while counting it would change it
    assert dice_loss(other, relabelled, 2).item() != pytest.approx(hand, rel=1e-3)


def test_prepared_masks_and_node_labels_ignore_padding(phantoms):
    pre = Preprocessing("smgnn", (SIDE, SIDE), np.zeros(3), np.ones(3))
    prepared = prepare_images(phantoms.images, phantoms.masks, pre, phantoms.ids)
    assert prepared.images.shape == (10, SIDE, SIDE, 3)
    for i, (h, w) in CROPS.items():
        top, left, ch, cw = prepared.crops[i]
        assert (ch, cw) == (h, w)
        assert np.array_equal(prepared.crop(prepared.masks[i], i), phantoms.masks[i])
        assert (prepared.masks[i] == IGNORE_INDEX).sum() == SIDE * SIDE - h * w
        # node class fractions count the valid pixels only
        labels = prepared.label_maps[i].ravel()
        mask = prepared.masks[i].ravel()
        keep = mask != IGNORE_INDEX
        k = int(labels.max()) + 1
        counts = np.zeros((k, 3))
        np.add.at(counts, (labels[keep], mask[keep].astype(int)), 1)
        graph = prepared.graphs[i]
        n_valid = counts.sum(1)
        assert np.array_equal(graph.valid.numpy(), n_valid > 0)
        ok = n_valid > 0
        assert np.allclose(graph.fractions.numpy()[ok], counts[ok] / n_valid[ok, None])
        assert (graph.y.numpy()[~ok] == NODE_IGNORE).all()
    batch = make_batch(prepared, [0, 1, 4], pre)
    assert torch.equal(batch.valid, batch.target != IGNORE_INDEX)
    assert int((~batch.valid).sum()) == sum(SIDE * SIDE - h * w for h, w in (CROPS[1], CROPS[4]))


# --------------------------------------------------------------------------------------------
# augmentation
# --------------------------------------------------------------------------------------------


def test_transformed_graph_equals_the_graph_of_the_transformed_image(phantoms):
    image = phantoms.images[0]
    labels = snic(image, scale=16)
    data = build_superpixel_graphs(image[None], labels[None]).graph.to_data_list()[0]
    seen = set()
    for op in dihedral_ops(square=True):
        moved = transform_graph(data, op, (SIDE, SIDE))
        rebuilt = build_superpixel_graphs(
            np.ascontiguousarray(transform_array(image, op))[None],
            np.ascontiguousarray(transform_array(labels, op))[None],
        )
        ref = rebuilt.graph
        assert torch.allclose(moved.x, ref.x, atol=1e-5)
        assert torch.allclose(moved.pos, ref.pos, atol=1e-4)
        mine = {tuple(e) for e in moved.edge_index.T.tolist()}
        theirs = {tuple(e) for e in ref.edge_index.T.tolist()}
        radius = float(rebuilt.thresholds[0])
        for i, j in mine ^ theirs:  # only ties with the radius may differ (float rounding)
            dist = float((ref.pos[i] - ref.pos[j]).abs().sum())
            assert abs(dist - radius) < 1e-3
        assert len(mine ^ theirs) <= 0.01 * len(mine)
        seen.add(tuple(moved.x[:, 3:].flatten().tolist()[:6]))
    assert len(seen) == 8  # the eight transforms really move the nodes
    assert len(dihedral_ops(square=False)) == 4


def test_augmented_batch_keeps_image_mask_and_label_map_together(phantoms):
    pre = Preprocessing("smgnn", (SIDE, SIDE), np.zeros(3), np.ones(3))
    prepared = prepare_images(phantoms.images[:2], phantoms.masks[:2], pre)
    op = (True, True, False)
    plain = make_batch(prepared, [0, 1], pre)
    moved = make_batch(prepared, [0, 1], pre, [op, op])
    assert torch.equal(invert_array(moved.images, op), plain.images)
    assert torch.equal(invert_array(moved.target, op), plain.target)
    assert torch.equal(invert_array(moved.graph.label_maps, op), plain.graph.label_maps)
    # mean colour of every superpixel of the moved batch equals its node feature
    from medgraph.superpixels import to_nodes

    colours = to_nodes(moved.images.permute(0, 2, 3, 1), moved.graph.label_maps)
    assert torch.allclose(colours, moved.graph.graph.x[:, :3], atol=1e-5)


# --------------------------------------------------------------------------------------------
# training runs
# --------------------------------------------------------------------------------------------


def test_smgnn_lowers_the_training_loss(phantoms, splits):
    cfg = quick_config(epochs=6, lr=1e-2, warmup_epochs=0)
    run = train_segmentation("smgnn", phantoms, splits, cfg, seed=0, options=QUIET)
    losses = run.history.train_loss
    print(f"SMGNN training loss per epoch: {np.round(losses, 4)}")
    assert all(np.isfinite(losses)) and losses[-1] < losses[0] - 0.05
    assert run.n_parameters == 6998 and run.metric_loss is not None
    assert 0 <= run.history.best_epoch < 6
    # test predictions come back at the original (unpadded) sizes
    test_shapes = [pred.shape for pred in run.test_predictions]
    assert test_shapes == [phantoms.masks[i].shape for i in run.test_idx]
    frame = run.evaluate(phantoms)
    assert len(frame) == 3 * len(run.test_idx)


def test_pure_gnn_pixels_are_node_predictions_through_the_label_map(phantoms, splits):
    cfg = quick_config(lam=0.1)
    run = train_segmentation("pure_gnn", phantoms, splits, cfg, seed=1, options=QUIET)
    assert np.isfinite(run.history.train_loss).all()
    model, pre = run.model, run.preprocessing
    test = np.concatenate([run.test_idx, run.val_idx])
    images = [phantoms.images[i] for i in test]
    prepared = prepare_images(images, None, pre)
    batch = make_batch(prepared, np.arange(len(test)), pre)
    with torch.no_grad():
        g = batch.graph.graph
        nodes = model.node_logits(model.embed(g.x, g.edge_index)).argmax(1)
    gathered = nodes[batch.graph.label_maps].numpy()
    pixels = predict(run, images)
    for b, pred in enumerate(pixels):
        assert np.array_equal(pred, prepared.crop(gathered[b], b))
    assert np.array_equal(pixels[0], run.test_predictions[0])


def test_tiny_unet_runs_through_the_same_entry_point(phantoms, splits):
    options = {"base": 4, "depth": 2}
    cfg = quick_config(baseline_options=options)
    run = train_segmentation("unet", phantoms, splits, cfg, seed=0, options=QUIET)
    assert run.n_parameters == count_parameters(build_baseline("unet", **options))
    assert len(run.history) == 2 and np.isfinite(run.history.train_loss).all()
    assert run.preprocessing.node_mean is None and run.metric_loss is None
    assert [p.shape for p in run.test_predictions] == [
        phantoms.masks[i].shape for i in run.test_idx
    ]
    # a bare model with its preprocessing predicts the same, larger images keep their size
    images = [phantoms.images[i] for i in run.test_idx] + [np.zeros((SIDE + 8, SIDE, 3), np.uint8)]
    by_run = predict(run, images)
    by_model = predict(run.model, images, preprocessing=run.preprocessing)
    assert all(np.array_equal(a, b) for a, b in zip(by_run, by_model, strict=True))
    assert by_run[-1].shape == (SIDE + 8, SIDE)
    assert np.array_equal(by_run[0], run.test_predictions[0])


def test_nan_loss_stops_training_and_writes_nothing(phantoms, splits, tmp_path, monkeypatch):
    def nan_dice(probs, *args, **kwargs):
        return probs.sum() * float("nan")

    monkeypatch.setattr(seg_training, "dice_loss", nan_dice)
    options = QUIET.replace(checkpoint=str(tmp_path / "smgnn.pt"))
    with pytest.raises(NonFiniteLossError, match="NaN at step 0"):
        train_segmentation("smgnn", phantoms, splits, quick_config(), options=options)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_raise(phantoms, splits):
    train, val, test = splits
    with pytest.raises(ValueError, match="overlap"):
        train_segmentation(
            "smgnn", phantoms, (train, val, np.append(test, train[0])), quick_config()
        )
    with pytest.raises(ValueError, match="unknown model"):
        train_segmentation("resnet", phantoms, splits, quick_config())
    with pytest.raises(ValueError, match="unknown segmentation config"):
        SegmentationConfig.from_any({"epoch": 3})


def test_options_are_split_from_the_hyperparameters():
    # a notebook's `config` mixes both; only the hyperparameters reach SegmentationConfig
    mixed = {"batch_size": 8, "progress": False, "superpixel_cache": "sp", "lam": 0.0}
    hyper, options = split_settings(mixed)
    assert hyper == {"batch_size": 8, "lam": 0.0}
    assert options == {"progress": False, "superpixel_cache": "sp"}
    assert RunOptions(**options).progress is False
    cfg = SegmentationConfig.from_any(hyper)
    assert cfg.batch_size == 8 and cfg.lam == 0.0
    assert not {"progress", "device", "checkpoint", "resume"} & set(cfg.key_hyperparameters())
    # an option is not a hyperparameter: SegmentationConfig refuses it
    with pytest.raises(
        ValueError, match=r"unknown segmentation config keys \['progress', 'superpixel_cache'\]"
    ):
        SegmentationConfig.from_any(mixed)


def test_config_sets_the_smgnn_head_dilations():
    # a list, as papermill passes it from papermill_runs.yaml
    cfg = SegmentationConfig.from_any({"cnn_dilation": [1, 2, 4]})
    head = seg.build_segmentation_model("smgnn", cfg).head
    convs = [m for m in head if isinstance(m, torch.nn.Conv2d)]
    assert [c.dilation for c in convs] == [(1, 1), (2, 2), (4, 4)]
    assert [c.padding for c in convs] == [(1, 1), (2, 2), (4, 4)]
    plain = seg.build_segmentation_model("smgnn", SegmentationConfig())
    assert [m.dilation for m in plain.head if isinstance(m, torch.nn.Conv2d)] == [(1, 1)] * 3
    assert count_parameters(plain) == count_parameters(seg.build_segmentation_model("smgnn", cfg))


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def test_evaluate_segmentation_rows_and_perfect_scores(phantoms):
    masks = phantoms.masks[:3]
    frame = evaluate_segmentation(masks, masks, phantoms.ids[:3])
    assert len(frame) == 9 and set(frame["class_name"]) == {"background", "cytoplasm", "nucleus"}
    for col in ("dice", "iou", "ppv", "sensitivity", "accuracy"):
        assert np.allclose(frame[col], 1.0)
    assert np.allclose(frame[["hausdorff", "hd95"]], 0.0)


def test_summarize_segmentation_by_hand():
    nan = np.nan
    frame = pd.DataFrame(
        {
            "image": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "class_index": [0, 1, 2] * 3,
            "class_name": ["background", "cytoplasm", "nucleus"] * 3,
            "dice": [0.9, 0.6, 0.3, 1.0, nan, 0.5, 0.8, nan, nan],
            "hd95": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    s = summarize_segmentation(frame)
    # per image over the three classes: 0.6, 0.75, 0.8 → 0.71667 (not the pooled 0.68333)
    assert s.loc["dice", "all_classes"] == pytest.approx((0.6 + 0.75 + 0.8) / 3)
    # cell classes: a 0.45, b 0.5, c all NaN (skipped) → 0.475
    assert s.loc["dice", "cell_classes"] == pytest.approx(0.475)
    assert s.loc["dice", "nan_all"] == 3 and s.loc["dice", "nan_cell"] == 3
    assert s.loc["hd95", "all_classes"] == pytest.approx(5.0)
    assert s.loc["hd95", "cell_classes"] == pytest.approx((2.5 + 5.5 + 8.5) / 3)
    assert s.loc["hd95", "nan_all"] == 0 and s.loc["dice", "n_images"] == 3


def test_the_class_aware_metric_target_trains_and_keeps_stored_keys(phantoms, splits):
    # at its default the field added after runs were stored stays out of the key
    assert "metric_target" not in quick_config().key_hyperparameters()
    cfg = quick_config(metric_target="class", epochs=1)
    assert cfg.key_hyperparameters()["metric_target"] == "class"
    with pytest.raises(ValueError, match="metric_target must be"):
        quick_config(metric_target="vector")
    literal = train_segmentation("smgnn", phantoms, splits, quick_config(epochs=1), options=QUIET)
    aware = train_segmentation("smgnn", phantoms, splits, cfg, options=QUIET)
    assert np.isfinite(aware.history.train_loss).all()
    # same seed, same draws: only the metric target differs, so the losses differ
    assert aware.history.train_loss[0] != pytest.approx(literal.history.train_loss[0], rel=1e-6)
