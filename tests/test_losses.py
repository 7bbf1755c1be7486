"""Hand-computed cases of the Dice loss (Eq 3.2) and the superpixel metric loss (Eqs 2.5–2.7)."""

import math

import pytest
import torch

from medgraph.losses import (
    NonFiniteLossError,
    SuperpixelMetricLoss,
    check_finite,
    dice_coefficients,
    dice_loss,
    joint_loss,
    superpixel_metric_loss,
)

EMB = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
SCORES = torch.tensor([0.0, 1.0, 0.5])
# cosines: c12 = 0, c13 = c23 = 1/√2, cii = 1
# SIM = 2·cos − 0.5 = [[1.5, −0.5, √2 − .5], [−0.5, 1.5, √2 − .5], [√2 − .5, √2 − .5, 1.5]]
# Metric = (y_i + y_j)/2 = [[0, .5, .25], [.5, 1, .75], [.25, .75, .5]]
# SIM − Metric = [[1.5, −1, √2 − .75], [−1, .5, √2 − 1.25], [√2 − .75, √2 − 1.25, 1]]
# Σ squares = 2.25 + 1 + 1 + .25 + 1 + 2(√2 − .75)² + 2(√2 − 1.25)² = 17.75 − 8√2
HAND_LOSS = (17.75 - 8 * math.sqrt(2)) / 9  # ≈ 0.715144
# ∂L/∂b = (2/9) Σ (SIM − Metric) = (2/9)(4√2 − 3)
HAND_GRAD_B = 2 * (4 * math.sqrt(2) - 3) / 9


# the class-aware reading: 𝒴 is the (K, C) class-fraction matrix and Metric = 𝒴𝒴ᵀ
FRACTIONS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
# Metric = [[1, 0, .5], [0, 1, .5], [.5, .5, .5]]; SIM as above (a = 2, b = −0.5)
# SIM − Metric = [[.5, −.5, √2 − 1], [−.5, .5, √2 − 1], [√2 − 1, √2 − 1, 1]]
# Σ squares = 4·0.25 + 4(√2 − 1)² + 1 = 14 − 8√2;  Σ (SIM − Metric) = 4√2 − 3
HAND_CLASS_LOSS = (14 - 8 * math.sqrt(2)) / 9  # ≈ 0.298478
# (∂L/∂b is the same for both readings: Σ (SIM − Metric) = 4√2 − 3 either way)


@pytest.mark.parametrize("method", ["dense", "factored", "auto"])
@pytest.mark.parametrize(
    "targets, expected", [(SCORES, HAND_LOSS), (FRACTIONS, HAND_CLASS_LOSS)], ids=["eq2.7", "class"]
)
def test_metric_loss_three_nodes_by_hand(method, targets, expected):
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(-0.5, requires_grad=True)
    loss = superpixel_metric_loss(EMB, targets, a, b, method=method)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert float(b.grad) == pytest.approx(HAND_GRAD_B, rel=1e-6)
    assert a.grad is not None and float(a.grad) != 0.0


def test_metric_loss_module_parameters_get_gradients():
    module = SuperpixelMetricLoss()
    assert module.a.item() == 1.0 and module.b.item() == 0.0
    assert {name for name, _ in module.named_parameters()} == {"a", "b"}
    emb = EMB.clone().requires_grad_(True)
    module(emb, SCORES).backward()
    for grad in (module.a.grad, module.b.grad, emb.grad):
        assert grad is not None and float(grad.abs().sum()) > 0
    with torch.no_grad():
        module.a.fill_(2.0)
        module.b.fill_(-0.5)
    assert module(EMB, SCORES).item() == pytest.approx(HAND_LOSS, rel=1e-6)


def test_dense_and_factored_forms_agree_with_gradients():
    gen = torch.Generator().manual_seed(0)
    emb = torch.randn(40, 6, generator=gen, requires_grad=True)
    scores = torch.rand(40, generator=gen)
    a = torch.tensor(1.3, requires_grad=True)
    b = torch.tensor(0.2, requires_grad=True)
    grads = []
    for method in ("dense", "factored"):
        loss = superpixel_metric_loss(emb, scores, a, b, method=method)
        grads.append((loss.detach(), *torch.autograd.grad(loss, (emb, a, b))))
    for x, y in zip(*grads, strict=True):
        assert torch.allclose(x, y, atol=1e-6)


def test_sampling_is_reproducible_and_without_replacement():
    gen = torch.Generator().manual_seed(1)
    emb = torch.randn(50, 4, generator=gen)
    scores = torch.rand(50, generator=gen)
    run = [
        superpixel_metric_loss(
            emb, scores, 1.0, 0.0, 10, 7, generator=torch.Generator().manual_seed(s)
        )
        for s in (5, 5, 6)
    ]
    assert float(run[0]) == float(run[1]) and float(run[0]) != float(run[2])
    # the same draws done by hand: anchors first, then references, each a randperm prefix
    g = torch.Generator().manual_seed(5)
    anchors, refs = torch.randperm(50, generator=g)[:10], torch.randperm(50, generator=g)[:7]
    assert len(set(anchors.tolist())) == 10
    unit = torch.nn.functional.normalize(emb, dim=1)
    sim = unit[anchors] @ unit[refs].T
    metric = (scores[anchors][:, None] + scores[refs][None]) / 2
    assert float(run[0]) == pytest.approx(float(((sim - metric) ** 2).mean()), rel=1e-6)
    # asking for more nodes than exist uses all of them
    assert float(superpixel_metric_loss(emb, scores, 1.0, 0.0, 500, 500)) == pytest.approx(
        float(superpixel_metric_loss(emb, scores, 1.0, 0.0))
    )


def test_metric_loss_rejects_nan_and_empty_input():
    with pytest.raises(ValueError, match="NaN"):
        superpixel_metric_loss(torch.tensor([[float("nan"), 1.0]]), torch.tensor([0.5]), 1.0, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        superpixel_metric_loss(EMB, torch.tensor([0.0, float("nan"), 1.0]), 1.0, 0.0)
    with pytest.raises(ValueError, match="empty"):
        superpixel_metric_loss(torch.zeros(0, 4), torch.zeros(0), 1.0, 0.0)
    with pytest.raises(ValueError, match="shape"):
        superpixel_metric_loss(EMB, torch.zeros(2), 1.0, 0.0)


def one_hot_probs(classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(classes, num_classes).permute(0, 3, 1, 2).float()


def test_dice_perfect_prediction():
    target = torch.tensor([[[0, 1, 2], [2, 1, 0]]])
    probs = one_hot_probs(target, 3)
    assert float(dice_loss(probs, target, 3)) == pytest.approx(0.0, abs=1e-7)
    assert float(dice_loss(probs, target, 3, convention="negative")) == pytest.approx(-1.0)


def test_dice_two_by_two_by_hand():
    target = torch.tensor([[[0, 1], [1, 1]]])
    p1 = torch.tensor([[0.2, 0.6], [0.8, 1.0]])
    probs = torch.stack([1 - p1, p1])[None]  # (1, 2, 2, 2)
    # class 1: Σpg = .6 + .8 + 1 = 2.4, Σp = 2.6, Σg = 3 → 4.8/5.6 = 6/7
    # class 0: p = [.8, .4, .2, 0], g = [1, 0, 0, 0]: Σpg = .8, Σp = 1.4, Σg = 1 → 1.6/2.4 = 2/3
    dice = dice_coefficients(probs, target, 2)
    assert dice[0].tolist() == pytest.approx([2 / 3, 6 / 7], rel=1e-5)
    mean = (2 / 3 + 6 / 7) / 2
    assert float(dice_loss(probs, target, 2)) == pytest.approx(1 - mean, rel=1e-5)
    assert float(dice_loss(probs, target, 2, convention="negative")) == pytest.approx(-mean)
    # a second, perfect image: the mean runs over all (image, class) pairs
    target2 = torch.cat([target, target])
    probs2 = torch.cat([probs, one_hot_probs(target, 2)])
    assert float(dice_loss(probs2, target2, 2)) == pytest.approx(1 - (2 * mean + 2) / 4, rel=1e-5)


def test_dice_gradient_and_input_checks():
    logits = torch.zeros(1, 3, 2, 2, requires_grad=True)
    target = torch.tensor([[[0, 1], [2, 2]]])
    dice_loss(logits.softmax(1), target, 3).backward()
    assert float(logits.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="outside"):
        dice_loss(logits.softmax(1), target + 1, 3)
    with pytest.raises(ValueError, match="probs"):
        dice_loss(logits.softmax(1), target, 2)


def test_dice_matches_one_hot_formula_with_masks_and_gradients():
    # Eq 3.1 written with the one-hot target g, against the gather/scatter implementation
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 7, 6, generator=gen, requires_grad=True)
    target = torch.randint(0, 4, (3, 7, 6), generator=gen)
    target[0, :2] = 9  # ignored pixels may hold anything
    valid = torch.rand(3, 7, 6, generator=gen) > 0.2
    keep = valid & (target != 9)
    clean = torch.where(keep, target, 0)
    g = torch.nn.functional.one_hot(clean, 4).permute(0, 3, 1, 2).float() * keep[:, None]
    p = logits.softmax(1) * keep[:, None]
    expected = (2 * (p * g).sum((2, 3)) + 1e-6) / (p.sum((2, 3)) + g.sum((2, 3)) + 1e-6)
    (grad_expected,) = torch.autograd.grad(expected.sum(), logits)
    got = dice_coefficients(logits.softmax(1), target, 4, valid=valid, ignore_index=9)
    (grad_got,) = torch.autograd.grad(got.sum(), logits)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(grad_got, grad_expected, atol=1e-6)
    plain = dice_coefficients(logits.softmax(1), clean, 4)
    g_all = torch.nn.functional.one_hot(clean, 4).permute(0, 3, 1, 2).float()
    q = logits.softmax(1)
    ref = (2 * (q * g_all).sum((2, 3)) + 1e-6) / (q.sum((2, 3)) + g_all.sum((2, 3)) + 1e-6)
    assert torch.allclose(plain, ref, atol=1e-6)


def test_check_finite_stops_on_nan():
    check_finite(torch.tensor(0.3), step=1)
    with pytest.raises(NonFiniteLossError, match="loss became NaN at step 7; training stopped"):
        check_finite(torch.tensor(float("nan")), step=7)
    with pytest.raises(NonFiniteLossError, match="inf at step 2"):
        check_finite(float("inf"), step=2)
    assert issubclass(NonFiniteLossError, RuntimeError)


def test_joint_loss_eq_3_3():
    assert float(joint_loss(torch.tensor(0.5), torch.tensor(2.0))) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        joint_loss(torch.tensor(0.5), torch.tensor(2.0), lam=-1.0)


def test_class_aware_dense_and_factored_agree_with_gradients_and_sampling():
    gen = torch.Generator().manual_seed(3)
    emb = torch.randn(30, 5, generator=gen, requires_grad=True)
    fractions = torch.rand(30, 3, generator=gen)
    fractions = fractions / fractions.sum(1, keepdim=True)
    a = torch.tensor(0.7, requires_grad=True)
    b = torch.tensor(0.1, requires_grad=True)
    grads = []
    for method in ("dense", "factored"):
        loss = superpixel_metric_loss(
            emb, fractions, a, b, 12, 9, torch.Generator().manual_seed(0), method=method
        )
        grads.append((loss.detach(), *torch.autograd.grad(loss, (emb, a, b))))
    for x, y in zip(*grads, strict=True):
        assert torch.allclose(x, y, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(30,\) or \(30, C\)"):
        superpixel_metric_loss(emb, fractions[:, :, None], a, b)
