"""Hand-computed cases for the association-matrix bridge and the superpixel quality measures."""

import numpy as np
import pytest
import torch

from medgraph.metrics import confusion_matrix, dice_per_class, iou_per_class
from medgraph.superpixels.bridge import (
    class_fractions,
    majority_label,
    metric_score,
    node_sizes,
    offset_labels,
    reconstruct_labels,
    to_nodes,
    to_pixels,
)
from medgraph.superpixels.quality import (
    boundary_map,
    boundary_recall,
    compression_ratio,
    reconstruction_iou,
    undersegmentation_error,
)

# four 2×2 superpixels on a 4×4 image
LABELS = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
# a binary label image Y
MASK = np.array([[0, 0, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 1, 1]])


def dense_q(labels: np.ndarray) -> np.ndarray:
    k = labels.max() + 1
    return np.eye(k)[labels.ravel()]  # (N, K) association matrix of the paper


def test_metric_score_eq_2_1_by_hand():
    # superpixel 0 holds one foreground pixel of four, 1 all four, 2 none, 3 three of four
    score = metric_score(MASK, LABELS)
    assert torch.allclose(score, torch.tensor([0.25, 1.0, 0.0, 0.75]))
    # the same as Q̄ᵀY with the dense column-normalised matrix
    q = dense_q(LABELS)
    q_bar = q / q.sum(0, keepdims=True)
    assert np.allclose(score.numpy(), q_bar.T @ MASK.ravel())


def test_to_pixels_is_qh_by_hand():
    h = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    out = to_pixels(h, LABELS)
    assert out.shape == (4, 4, 2)
    assert out[2, 3].tolist() == [4.0, 40.0]
    assert out[0, 1].tolist() == [1.0, 10.0]
    assert np.allclose(out.reshape(-1, 2).numpy(), dense_q(LABELS) @ h.numpy())


def test_to_nodes_multichannel_and_gradient():
    values = torch.arange(32, dtype=torch.float32).reshape(4, 4, 2).requires_grad_(True)
    means = to_nodes(values, LABELS)
    # superpixel 0 = pixels (0,0),(0,1),(1,0),(1,1) → flat indices 0,1,4,5 → channel 0 values 0,2,8,10
    assert means[0, 0].item() == pytest.approx((0 + 2 + 8 + 10) / 4)
    means.sum().backward()
    # each pixel contributes 1/|V_j| = 1/4 to its node's mean
    assert torch.allclose(values.grad, torch.full_like(values, 0.25))


def test_to_pixels_gradient_reaches_nodes():
    h = torch.ones(4, 3, requires_grad=True)
    to_pixels(h, LABELS).sum().backward()
    assert torch.equal(h.grad, torch.full((4, 3), 4.0))  # 4 pixels per node


def test_node_sizes_and_empty_node():
    assert node_sizes(LABELS).tolist() == [4, 4, 4, 4]
    means = to_nodes(np.ones((4, 4)), LABELS, num_nodes=6)
    assert means.tolist() == [1, 1, 1, 1, 0, 0]


def test_majority_label_eq_4_2():
    assert majority_label(torch.tensor([0.25, 1.0, 0.0, 0.75, 0.5])).tolist() == [0, 1, 0, 1, 1]
    fractions = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    assert majority_label(fractions).tolist() == [1, 0]


def test_reconstruction_by_hand():
    recon = reconstruct_labels(MASK, LABELS, num_classes=2)
    expected = np.array([[0, 0, 1, 1]] * 4)
    assert np.array_equal(recon, expected)
    # class 0: 8 true, 8 reconstructed, 7 shared → 7/9; class 1 likewise → IoU_r = 7/9
    assert reconstruction_iou(MASK, LABELS, 2) == pytest.approx(7 / 9)
    assert reconstruction_iou(MASK, np.arange(16).reshape(4, 4), 2) == pytest.approx(1.0)


def test_class_fractions_rows_sum_to_one():
    mask3 = np.array([[0, 1, 2, 2]] * 4)
    f = class_fractions(mask3, LABELS, 3)
    assert torch.allclose(f.sum(1), torch.ones(4))
    assert f[0].tolist() == [0.5, 0.5, 0.0]
    with pytest.raises(ValueError, match="num_classes"):
        class_fractions(mask3, LABELS, 2)


def test_offset_labels_batches_match_per_image():
    a = LABELS
    b = np.array([[0, 1, 1, 1]] * 4)
    batch, counts = offset_labels(np.stack([a, b]))
    assert counts.tolist() == [4, 2]
    assert int(batch[1].min()) == 4 and int(batch[1].max()) == 5
    images = torch.rand(2, 4, 4, 3)
    joint = to_nodes(images, batch)
    separate = torch.cat([to_nodes(images[0], a), to_nodes(images[1], b)])
    assert torch.allclose(joint, separate)
    maps, counts2 = offset_labels([a, b[:, :3]])
    assert counts2.tolist() == [4, 2] and int(maps[1].max()) == 5


def test_bad_labels_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        to_nodes(np.ones((2, 2)), np.array([[0, -1], [0, 0]]))
    with pytest.raises(TypeError):
        to_nodes(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="do not match"):
        to_nodes(np.ones((3, 3)), LABELS)
    with pytest.raises(ValueError, match="only 2 nodes"):
        to_pixels(torch.ones(2, 1), LABELS)


def test_compression_ratio_by_hand():
    assert compression_ratio(4, 16) == pytest.approx(20 / 48)
    # S = 16 gives K = N/16 and c = 5/(3·16)
    assert compression_ratio(5625, 90000) == pytest.approx(5 / 48)
    assert compression_ratio(4, 16, n_edges=2) == pytest.approx(24 / 48)


def test_boundary_recall_by_hand():
    gt = np.array([[0, 0, 1, 1]] * 4)  # ground-truth boundary: columns 1 and 2 (8 pixels)
    assert boundary_map(gt).sum() == 8
    assert boundary_recall(LABELS, gt, tolerance=0) == pytest.approx(1.0)
    shifted = np.array([[0, 1, 1, 1]] * 4)  # superpixel boundary on columns 0 and 1
    assert boundary_recall(shifted, gt, tolerance=0) == pytest.approx(0.5)
    assert boundary_recall(shifted, gt, tolerance=1) == pytest.approx(1.0)
    assert np.isnan(boundary_recall(LABELS, np.zeros((4, 4), int)))


def test_undersegmentation_error_by_hand():
    gt = np.array([[0, 0, 1, 1]] * 4)
    assert undersegmentation_error(LABELS, gt) == 0.0
    shifted = np.array([[0, 1, 1, 1]] * 4)
    # superpixel 1 (12 px) leaks 4 px into class 0 and covers 8 of class 1: min(4,8)+min(8,4) = 8
    assert undersegmentation_error(shifted, gt) == pytest.approx(8 / 16)


def test_confusion_dice_iou_by_hand():
    pred = np.array([0, 0, 1, 1, 2])
    true = np.array([0, 1, 1, 1, 1])
    m = confusion_matrix(pred, true, 3)
    assert m.tolist() == [[1, 0, 0], [1, 2, 1], [0, 0, 0]]
    assert np.allclose(iou_per_class(pred, true, 3), [1 / 2, 2 / 4, 0.0])
    assert np.allclose(dice_per_class(pred, true, 3), [2 / 3, 4 / 6, 0.0])
    assert np.isnan(iou_per_class(np.zeros(3, int), np.zeros(3, int), 2)[1])
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix(np.array([3]), np.array([0]), 3)


def test_hausdorff_by_hand():
    from medgraph.metrics import hausdorff, surface_distances

    a = np.zeros((7, 7), bool)
    a[2:5, 2:5] = True  # 3×3 square: surface = its 8 border pixels
    b = a.copy()
    assert hausdorff(a, b) == 0.0
    c = np.zeros((7, 7), bool)
    c[2:5, 4:7] = True  # the same square moved 2 pixels right
    d_ab, d_ba = surface_distances(a, c)
    # the left column of a (col 2) is 2 pixels from c's left column (col 4)
    assert d_ab.max() == pytest.approx(2.0) and d_ba.max() == pytest.approx(2.0)
    assert hausdorff(a, c) == pytest.approx(2.0)
    assert np.isnan(hausdorff(a, np.zeros_like(a)))
    assert hausdorff(np.zeros_like(a), np.zeros_like(a)) == 0.0
    # a single far outlier pixel moves HD but not HD95 of a large region
    big = np.zeros((60, 60), bool)
    big[10:50, 10:50] = True
    noisy = big.copy()
    noisy[58, 58] = True
    assert hausdorff(big, noisy) == pytest.approx(np.hypot(9, 9))
    assert hausdorff(big, noisy, 95) == 0.0


def test_segmentation_scores_by_hand():
    from medgraph.metrics import segmentation_scores

    target = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 2, 2]])
    pred = target.copy()
    pred[0, 1] = 1  # one background pixel called cytoplasm
    s = segmentation_scores(pred, target, 3)
    # class 0: TP 7, FP 0, FN 1, TN 8 ; class 1: TP 4, FP 1, FN 0, TN 11
    assert s["dice"][0] == pytest.approx(14 / 15) and s["dice"][1] == pytest.approx(8 / 9)
    assert s["ppv"][1] == pytest.approx(4 / 5) and s["sensitivity"][0] == pytest.approx(7 / 8)
    assert s["accuracy"][0] == pytest.approx(15 / 16) and s["accuracy"][2] == 1.0
    assert s["dice"][2] == 1.0 and s["hausdorff"][2] == 0.0
    assert s["hausdorff"][1] == pytest.approx(1.0)
