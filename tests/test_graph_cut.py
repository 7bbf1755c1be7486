"""Per-image graph cuts (issue 36): affinities, losses, dense per-image GNN layers, the batched
optimisation, the foreground rule and the classical rows.

The hand cases use four patches with features

    x0 = (1, 0), x1 = (1, 0), x2 = (0, 1), x3 = (−1, 2)

so that ``X Xᵀ = [[1, 1, 0, −1], [1, 1, 0, −1], [0, 0, 1, 2], [−1, −1, 2, 5]]`` (max 5), and the
soft assignment ``S = [[1, 0], [1, 0], [½, ½], [0, 1]]``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from torch_geometric.nn import ARMAConv, GATConv, GCNConv

from medgraph.graphcut import (
    NonFiniteGraphCutError,
    border_patches,
    centre_distances,
    foreground_cluster,
    foreground_mask,
    iou_dice,
    kmeans_lab_mask,
    optimise_graph_cuts,
    oracle_flip_scores,
    otsu_lab_mask,
    patch_mask_to_image,
)
from medgraph.graphcut import optimise as optimise_module
from medgraph.graphcut.lowrank import cc_lowrank_loss, cc_lowrank_propagation, cc_offset
from medgraph.graphcut.optimise import GAT_CPU_CHUNK_BYTES, chunk_images
from medgraph.graphs import cc_affinity, dmon_adjacency, ncut_affinity, patch_gram
from medgraph.losses import (
    association_trace,
    collapse_penalty,
    correlation_clustering_loss,
    dmon_loss,
    modularity,
    ncut_loss,
    orthogonality_penalty,
)
from medgraph.models.clustering import (
    GraphCutNet,
    PerImageARMAConv,
    PerImageGATConv,
    PerImageGCNConv,
    arma_propagation,
    gcn_propagation,
)

X4 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 2.0]], dtype=torch.float64)
S4 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], dtype=torch.float64)
W_NCUT = torch.tensor(
    [[0.2, 0.2, 0, 0], [0.2, 0.2, 0, 0], [0, 0, 0.2, 0.4], [0, 0, 0.4, 1.0]], dtype=torch.float64
)
W_CC = torch.tensor(  # X Xᵀ − 5/5
    [[0, 0, -1, -2], [0, 0, -1, -2], [-1, -1, 0, 1], [-2, -2, 1, 4]], dtype=torch.float64
)
A_DMON = torch.tensor(  # cos: x0,x1 → 1; x2,x3 → 2/√5 = 0.894 > 0.7; x0,x3 → −1/√5; x0,x2 → 0
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]], dtype=torch.float64
)


# --------------------------------------------------------------------------------------------
# affinities
# --------------------------------------------------------------------------------------------


def test_ncut_affinity_hand_case():
    w = ncut_affinity(X4)
    torch.testing.assert_close(w, W_NCUT, rtol=0, atol=1e-12)


def test_cc_affinity_hand_case():
    torch.testing.assert_close(cc_affinity(X4, alpha=5.0), W_CC, rtol=0, atol=1e-12)
    # α = 2: X Xᵀ − 5/2
    torch.testing.assert_close(cc_affinity(X4, alpha=2.0), W_CC + 1.0 - 2.5, rtol=0, atol=1e-12)


def test_affinities_are_per_image_and_symmetric():
    """Image 2 = 2·X: X Xᵀ and its max both scale by 4, so the NCut W is the same, CC's is ×4."""
    batch = torch.stack([X4, 2 * X4])
    w = ncut_affinity(batch)
    assert w.shape == (2, 4, 4)
    torch.testing.assert_close(w[1], W_NCUT, rtol=0, atol=1e-12)
    torch.testing.assert_close(cc_affinity(batch)[1], 4 * W_CC, rtol=0, atol=1e-12)
    feats = torch.randn(3, 50, 7, generator=torch.Generator().manual_seed(1))
    for fn in (ncut_affinity, cc_affinity, dmon_adjacency):
        m = fn(feats)
        assert torch.equal(m, m.transpose(1, 2))


def test_affinity_refuses_all_zero_features():
    with pytest.raises(ValueError, match=r"image\(s\) \[1\]"):
        ncut_affinity(torch.stack([X4, torch.zeros_like(X4)]))


def test_dmon_adjacency_hand_case_and_diagonal():
    torch.testing.assert_close(dmon_adjacency(X4, tau=0.7), A_DMON, rtol=0, atol=0)
    no_loops = dmon_adjacency(X4, tau=0.7, self_loops=False)
    torch.testing.assert_close(no_loops, A_DMON - torch.eye(4, dtype=torch.float64), rtol=0, atol=0)
    # τ = 0.9: cos(x2, x3) = 0.894 falls below, only x0–x1 stay joined
    expected = torch.eye(4, dtype=torch.float64)
    expected[0, 1] = expected[1, 0] = 1
    torch.testing.assert_close(dmon_adjacency(X4, tau=0.9), expected, rtol=0, atol=0)
    # strict threshold: cos(x0, x2) = 0 is not > 0
    assert dmon_adjacency(X4, tau=0.0)[0, 2] == 0


# --------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------


def test_ncut_loss_hand_case():
    # W S rows: (.4, 0), (.4, 0), (.1, .5), (.2, 1.2) → Tr(SᵀWS) = .4 + .4 + .3 + 1.2 = 2.3
    # d = (.4, .4, .6, 1.4), ‖S_i‖² = (1, 1, .5, 1) → Tr(SᵀDS) = .4 + .4 + .3 + 1.4 = 2.5
    assert float(association_trace(S4, W_NCUT)) == pytest.approx(2.3)
    # SᵀS = [[2.25, .25], [.25, 1.25]], ‖SᵀS‖_F = √6.75
    f, r2 = math.sqrt(6.75), 1 / math.sqrt(2)
    ortho = math.sqrt((2.25 / f - r2) ** 2 + 2 * (0.25 / f) ** 2 + (1.25 / f - r2) ** 2)
    assert ortho == pytest.approx(0.307963, abs=1e-6)
    assert float(orthogonality_penalty(S4)) == pytest.approx(ortho, abs=1e-12)
    expected = -2.3 / 2.5 + ortho  # = −0.612037
    assert float(ncut_loss(S4, W_NCUT)) == pytest.approx(expected, abs=1e-12)
    assert float(ncut_loss(S4, W_NCUT, symmetric=True)) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(-0.612037, abs=1e-6)


def test_ncut_sign_prefers_the_association():
    """DeepCut's minus: the partition {0,1}|{2,3} (no weight cut) scores −1, the partition
    {0,2}|{1,3} (Tr(SᵀWS) = .2+.2 + .2+1 = 1.6 of 2.8) scores −1.6/2.8 = −0.5714: lower is
    better. With the seed slide's plus sign the order would reverse."""
    good = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]], dtype=torch.float64)
    bad = torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1]], dtype=torch.float64)
    assert float(ncut_loss(good, W_NCUT)) == pytest.approx(-1.0, abs=1e-12)
    assert float(ncut_loss(bad, W_NCUT)) == pytest.approx(-1.6 / 2.8, abs=1e-12)


def test_cc_loss_hand_case():
    # ⟨S_i, S_j⟩ = [[1, 1, .5, 0], [1, 1, .5, 0], [.5, .5, .5, .5], [0, 0, .5, 1]]
    # Σ W⊙⟨⟩ by rows: −.5, −.5, −.5, 4.5 → 3.0
    assert float(correlation_clustering_loss(S4, W_CC)) == pytest.approx(-3.0, abs=1e-12)
    assert float(correlation_clustering_loss(S4, W_CC, symmetric=True)) == pytest.approx(-3.0)


def test_dmon_loss_hand_case():
    # d = (2, 2, 2, 2), 2m = Σ A = 8 (m = 4 edges, self loops as half edges)
    # Tr(SᵀAS) = (1+1+1+1) + (.5+.5+.5+1) = 6.5; Sᵀd = 2·(2.5, 1.5) = (5, 3), ‖Sᵀd‖² = 34
    # Tr(SᵀBS) = 6.5 − 34/8 = 2.25 → modularity 2.25/8 = 0.28125
    assert float(modularity(S4, A_DMON)) == pytest.approx(0.28125, abs=1e-12)
    # collapse: Σ_i S_i = (2.5, 1.5), ‖·‖ = √8.5, √2/4·√8.5 − 1 = √17/4 − 1 = 0.0307764
    assert float(collapse_penalty(S4)) == pytest.approx(math.sqrt(17) / 4 - 1, abs=1e-12)
    expected = -0.28125 + math.sqrt(17) / 4 - 1  # −0.2504736
    assert float(dmon_loss(S4, A_DMON)) == pytest.approx(expected, abs=1e-12)
    assert float(dmon_loss(S4, A_DMON, symmetric=True)) == pytest.approx(expected, abs=1e-12)
    assert float(dmon_loss(S4, A_DMON, collapse_weight=0.0)) == pytest.approx(-0.28125)


def test_losses_are_per_image():
    s = torch.stack([S4, S4.flip(1)])
    w = torch.stack([W_NCUT, W_NCUT])
    out = ncut_loss(s, w)
    assert out.shape == (2,)
    # swapping the cluster labels changes nothing
    torch.testing.assert_close(out[0], out[1])
    out = dmon_loss(torch.stack([S4, S4]), torch.stack([A_DMON, torch.ones(4, 4).double()]))
    assert float(out[0]) == pytest.approx(-0.28125 + math.sqrt(17) / 4 - 1)
    # the complete graph with loops: B = 1 − 1·16/16 = 0, modularity 0
    assert float(out[1]) == pytest.approx(math.sqrt(17) / 4 - 1)


def test_symmetric_fast_path_has_the_autograd_gradient():
    gen = torch.Generator().manual_seed(3)
    w = ncut_affinity(torch.randn(2, 9, 4, generator=gen, dtype=torch.float64))
    logits = torch.randn(2, 9, 3, generator=gen, dtype=torch.float64)
    grads = []
    for symmetric in (False, True):
        z = logits.clone().requires_grad_(True)
        for fn in (ncut_loss, correlation_clustering_loss, dmon_loss):
            fn(z.softmax(2), w, symmetric=symmetric).sum().backward()
        grads.append(z.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert grads[0].abs().max() > 1e-3


def test_known_degrees_give_the_same_losses_and_gradients():
    """With W1 given and S on the simplex, W is multiplied by K − 1 columns (module notes)."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 9, 4, generator=gen, dtype=torch.float64)
    logits = torch.randn(2, 9, 3, generator=gen, dtype=torch.float64)
    for fn, w in (
        (ncut_loss, ncut_affinity(x)),
        (correlation_clustering_loss, cc_affinity(x, 5.0)),
        (dmon_loss, dmon_adjacency(x, 0.2)),
    ):
        values, grads = [], []
        for degrees in (None, w.sum(dim=2)):
            z = logits.clone().requires_grad_(True)
            value = fn(z.softmax(2), w, symmetric=True, degrees=degrees)
            value.sum().backward()
            values.append(value.detach())
            grads.append(z.grad)
        torch.testing.assert_close(values[0], values[1], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    # rows off the simplex: the identity does not hold, so the full product is used
    s = torch.rand(2, 9, 3, generator=gen, dtype=torch.float64)
    w = ncut_affinity(x)
    torch.testing.assert_close(
        ncut_loss(s, w, symmetric=True, degrees=w.sum(dim=2)), ncut_loss(s, w)
    )
    with pytest.raises(ValueError, match="degrees must be"):
        ncut_loss(s, w, symmetric=True, degrees=w.sum(dim=1)[:, :5])


def test_dmon_collapse_term_has_a_gradient():
    """∂/∂S_ik (√K/n)‖c‖ = (√K/n) c_k/‖c‖ with c = Σ_i S_i = (2.5, 1.5):
    (√2/4)·(2.5, 1.5)/√8.5 = (0.303170, 0.181902) in every row; finite differences agree."""
    s = S4.clone().requires_grad_(True)
    collapse_penalty(s).backward()
    row = math.sqrt(2) / 4 * np.array([2.5, 1.5]) / math.sqrt(8.5)
    assert row == pytest.approx([0.303170, 0.181902], abs=1e-6)
    np.testing.assert_allclose(s.grad.numpy(), np.tile(row, (4, 1)), rtol=0, atol=1e-12)
    eps = 1e-6
    fd = np.zeros((4, 2))
    for i in range(4):  # 8 entries of a 4×2 hand case
        for k in range(2):
            up, down = S4.clone(), S4.clone()
            up[i, k] += eps
            down[i, k] -= eps
            fd[i, k] = (float(collapse_penalty(up)) - float(collapse_penalty(down))) / (2 * eps)
    np.testing.assert_allclose(s.grad.numpy(), fd, rtol=0, atol=1e-8)

    # through the softmax the term still moves; UnSeGGNet's sum over clusters does not
    z = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    z.requires_grad_(True)
    collapse_penalty(z.softmax(1)).backward()
    assert z.grad.abs().max() > 1e-3
    z.grad = None
    c = z.softmax(1)
    k = torch.linalg.norm(torch.eye(2, dtype=torch.float64))
    (torch.sqrt(k) / 6 * torch.linalg.norm(c.t().sum(dim=0)) - 1).backward()
    assert z.grad.abs().max() < 1e-12


# --------------------------------------------------------------------------------------------
# dense per-image layers
# --------------------------------------------------------------------------------------------


def test_gcn_propagation_hand_case():
    """Path 0–1–2–3 with unit weights. No loops: Ã = W + I, degrees (2, 3, 3, 2),
    P_01 = 1/√(2·3) = 0.408248, P_11 = 1/3. With W_00 = 3, PyG keeps it (no extra 1):
    degree of node 0 becomes 3 + 1 = 4, P_00 = 3/4, P_01 = 1/√(4·3) = 0.288675."""
    w = torch.zeros(1, 4, 4, dtype=torch.float64)
    for i in range(3):
        w[0, i, i + 1] = w[0, i + 1, i] = 1.0
    p = gcn_propagation(w)[0]
    assert float(p[0, 1]) == pytest.approx(1 / math.sqrt(6))
    assert float(p[1, 1]) == pytest.approx(1 / 3)
    assert float(p[0, 0]) == pytest.approx(1 / 2)
    w[0, 0, 0] = 3.0
    p = gcn_propagation(w)[0]
    assert float(p[0, 0]) == pytest.approx(0.75)
    assert float(p[0, 1]) == pytest.approx(1 / math.sqrt(12))
    torch.testing.assert_close(gcn_propagation(w, normalize=False), w.transpose(1, 2))


def test_arma_propagation_hand_case_and_negative_degrees():
    """Path 0–1–2–3, no self loops added: degrees (1, 2, 2, 1), L̂_01 = 1/√2, L̂_12 = 1/2."""
    w = torch.zeros(1, 4, 4, dtype=torch.float64)
    for i in range(3):
        w[0, i, i + 1] = w[0, i + 1, i] = 1.0
    lap = arma_propagation(w)[0]
    assert float(lap[0, 1]) == pytest.approx(1 / math.sqrt(2))
    assert float(lap[1, 2]) == pytest.approx(0.5)
    assert float(lap[0, 0]) == 0.0
    with pytest.raises(ValueError, match="negative node degrees"):
        arma_propagation(W_CC[None])


def _random_graph(n: int = 7, signed: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """A non-symmetric weighted graph with some absent edges and some self loops, and features."""
    gen = torch.Generator().manual_seed(7)
    w = torch.rand(n, n, generator=gen, dtype=torch.float64) + 0.1
    if signed:
        w = w - 0.5
    w = w * (torch.rand(n, n, generator=gen, dtype=torch.float64) > 0.4)
    w.diagonal()[::2] = 0.0  # half the nodes without a self loop
    x = torch.randn(n, 5, generator=gen, dtype=torch.float64)
    return w, x


def _edges(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ei = w.nonzero().t()
    return ei, w[ei[0], ei[1]]


def _randomise(module: torch.nn.Module) -> None:
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))


@pytest.mark.parametrize("normalize", [True, False])
def test_dense_gcn_equals_pyg(normalize):
    w, x = _random_graph(signed=not normalize)
    ours = PerImageGCNConv(1, 5, 6, normalize=normalize, dtype=torch.float64)
    _randomise(ours)
    ref = GCNConv(5, 6, normalize=normalize).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.weight[0].t())
        ref.bias.copy_(ours.bias[0])
    ei, ew = _edges(w)
    torch.testing.assert_close(ours(x[None], w[None])[0], ref(x, ei, ew), rtol=0, atol=1e-5)
    assert (ours(x[None], w[None])[0] - ref(x, ei, ew)).abs().max() < 1e-10


@pytest.mark.parametrize("width", [6, 3])  # wider than the input (X aggregated first), narrower
def test_dense_gat_equals_pyg(width):
    w, x = _random_graph()
    ours = PerImageGATConv(1, 5, width, dtype=torch.float64)
    _randomise(ours)
    ref = GATConv(5, width, heads=1).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.weight[0].t())
        ref.att_src.copy_(ours.att_src[0].view(1, 1, width))
        ref.att_dst.copy_(ours.att_dst[0].view(1, 1, width))
        ref.bias.copy_(ours.bias[0])
    ei, ew = _edges(w)
    out = ours(x[None], w[None])[0]
    torch.testing.assert_close(out, ref(x, ei), rtol=0, atol=1e-5)
    assert (out - ref(x, ei)).abs().max() < 1e-10
    # edge weights are not used, only which edges exist
    torch.testing.assert_close(ours(x[None], (w != 0).double()[None])[0], out)


def test_dense_arma_equals_pyg():
    w, x = _random_graph()
    ours = PerImageARMAConv(1, 5, 6, dtype=torch.float64)
    _randomise(ours)
    ref = ARMAConv(5, 6, num_stacks=1, num_layers=1, shared_weights=False).double()
    with torch.no_grad():
        ref.init_weight.copy_(ours.init_weight)
        ref.root_weight.copy_(ours.root_weight[None])
        ref.bias.copy_(ours.bias.view(1, 1, 1, 6))
    ei, ew = _edges(w)
    out = ours(x[None], w[None])[0]
    torch.testing.assert_close(out, ref(x, ei, ew), rtol=0, atol=1e-5)
    assert (out - ref(x, ei, ew)).abs().max() < 1e-10
    assert (out > 0).any() and (out == 0).any()  # the ReLU acted


def test_per_image_initialisation_is_independent_of_the_batch():
    batch = GraphCutNet([5, 6, 7], 4, hidden=8, layer="gat")
    alone = GraphCutNet([6], 4, hidden=8, layer="gat")
    for (name, p_batch), (_, p_alone) in zip(
        batch.named_parameters(), alone.named_parameters(), strict=True
    ):
        assert torch.equal(p_batch[1], p_alone[0]), name
    assert not torch.equal(batch.conv.weight[0], batch.conv.weight[1])
    assert torch.equal(batch.conv.bias, torch.zeros_like(batch.conv.bias))


def test_network_outputs_a_soft_assignment():
    x = torch.randn(3, 10, 4, generator=torch.Generator().manual_seed(0))
    for layer in ("gcn", "gat", "arma"):
        s = GraphCutNet([0, 1, 2], 4, hidden=8, k=3, layer=layer)(x, ncut_affinity(x))
        assert s.shape == (3, 10, 3)
        torch.testing.assert_close(s.sum(2), torch.ones(3, 10))


# --------------------------------------------------------------------------------------------
# optimisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "layer"), [("ncut", "gcn"), ("dmon", "gat"), ("cc", "gcn"), ("cc", "gat")]
)
def test_batched_equals_looped(loss, layer):
    feats = torch.randn(4, 25, 6, generator=torch.Generator().manual_seed(2))
    kw = {"epochs": 20, "eval_every": 10, "seed": 3, "hidden": 16}
    batched = optimise_graph_cuts(feats, loss, layer, batch_size=4, **kw)
    looped = optimise_graph_cuts(feats, loss, layer, batch_size=1, **kw)
    assert batched.assignments.shape == (4, 2, 25)
    np.testing.assert_array_equal(batched.eval_epochs, [10, 20])
    np.testing.assert_array_equal(batched.assignments, looped.assignments)
    np.testing.assert_allclose(batched.soft, looped.soft, rtol=0, atol=1e-5)
    np.testing.assert_allclose(batched.losses, looped.losses, rtol=1e-5, atol=1e-5)
    # image 2 alone, seeded with seed + 2
    alone = optimise_graph_cuts(feats[2:3], loss, layer, **{**kw, "seed": 5})
    np.testing.assert_allclose(alone.soft[0], batched.soft[2], rtol=0, atol=1e-5)
    assert batched.losses.shape == (4, 20)


def test_training_lowers_ncut_and_recovers_two_clusters():
    rows, cols = 6, 6
    truth = np.zeros((rows, cols), dtype=np.int64)
    truth[:, 3:] = 1
    truth = truth.ravel()
    gen = torch.Generator().manual_seed(0)
    centres = torch.eye(8)[:2]  # two orthogonal directions: the NCut W is block diagonal
    x = centres[torch.as_tensor(truth)] + 0.05 * torch.randn(rows * cols, 8, generator=gen)
    for layer in ("gcn", "gat", "arma"):
        result = optimise_graph_cuts(x, "ncut", layer, epochs=100, lr=1e-2, seed=0)
        first, last = result.losses[0, 0], result.losses[0, -1]
        assert last < first - 0.5, (layer, first, last)
        assert last < -0.95  # the optimum of two disconnected equal blocks is −1
        pred = result.final_assignments[0].astype(bool)
        assert oracle_flip_scores(pred, truth.astype(bool))[0] == 1.0


def test_cc_with_arma_is_refused():
    with pytest.raises(ValueError, match="'cc' cannot be used with layer='arma'"):
        optimise_graph_cuts(torch.randn(1, 9, 3), "cc", "arma")
    with pytest.raises(ValueError, match="loss must be"):
        optimise_graph_cuts(torch.randn(1, 9, 3), "mincut", "gcn")


def test_non_finite_loss_names_the_image():
    """Image 1 has orthogonal features: no edges at τ = 0.5 without self loops, 2m = 0."""
    feats = torch.randn(3, 4, 4, generator=torch.Generator().manual_seed(0)).abs() + 1.0
    feats[1] = torch.eye(4)
    with pytest.raises(NonFiniteGraphCutError, match="image 1 at epoch 1"):
        optimise_graph_cuts(feats, "dmon", "gcn", epochs=2, tau=0.5, dmon_self_loops=False)


# --------------------------------------------------------------------------------------------
# per-step arithmetic: correlation clustering from W's factors, GAT chunks
# --------------------------------------------------------------------------------------------


def test_cc_lowrank_loss_hand_case():
    """X Xᵀ has max 5, so c = 5/5 = 1; XᵀS = [[2, −1], [½, 2½]], ‖XᵀS‖² = 11.5;
    1ᵀS = (2.5, 1.5), ‖1ᵀS‖² = 8.5: −11.5 + 1·8.5 = −3.0, the dense hand case's value."""
    offset = cc_offset(X4[None], 5.0)
    torch.testing.assert_close(offset, torch.tensor([1.0], dtype=torch.float64))
    xts = X4.t() @ S4
    assert float((xts**2).sum()) == pytest.approx(11.5)
    value = cc_lowrank_loss(S4[None], X4[None], offset)
    assert float(value[0]) == pytest.approx(-3.0, abs=1e-12)
    assert float(value[0]) == pytest.approx(float(correlation_clustering_loss(S4, W_CC)))
    torch.testing.assert_close(cc_affinity(X4[None], 5.0), patch_gram(X4[None]) - 1.0)
    with pytest.raises(ValueError, match="max_ij"):
        cc_offset(torch.zeros(1, 3, 2), 5.0)


def test_cc_lowrank_loss_and_gradient_equal_the_dense_formula():
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(3, 30, 5, generator=gen, dtype=torch.float64) + 0.3
    logits = torch.randn(3, 30, 2, generator=gen, dtype=torch.float64)
    w = cc_affinity(x, 5.0)
    values, grads = [], []
    for lowrank in (False, True):
        z = logits.clone().requires_grad_(True)
        s = z.softmax(2)
        if lowrank:
            value = cc_lowrank_loss(s, x, cc_offset(x, 5.0))
        else:
            value = correlation_clustering_loss(s, w, symmetric=True, degrees=w.sum(dim=2))
        value.sum().backward()
        values.append(value.detach())
        grads.append(z.grad)
    torch.testing.assert_close(values[1], values[0], rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-12)
    assert grads[0].abs().max() > 1e-3


def test_cc_lowrank_propagation_equals_pyg_gcn_without_normalisation():
    """GCNConv(normalize=False) on CC's W, edges = the non-zero entries, equals the factorised
    ``W X`` followed by the layer's weights and bias (float64)."""
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(2, 12, 5, generator=gen, dtype=torch.float64)
    offset = cc_offset(x, 5.0)
    px = cc_lowrank_propagation(x, offset)
    w = cc_affinity(x, 5.0)
    torch.testing.assert_close(px, gcn_propagation(w, normalize=False) @ x, rtol=1e-12, atol=1e-12)
    ours = PerImageGCNConv(2, 5, 6, normalize=False, dtype=torch.float64)
    _randomise(ours)
    out = ours.forward_prepared({"px": px})
    torch.testing.assert_close(out, ours(x, w), rtol=1e-12, atol=1e-12)
    for b in range(2):
        ref = GCNConv(5, 6, normalize=False).double()
        with torch.no_grad():
            ref.lin.weight.copy_(ours.weight[b].t())
            ref.bias.copy_(ours.bias[b])
        ei, ew = _edges(w[b])
        torch.testing.assert_close(out[b], ref(x[b], ei, ew), rtol=1e-10, atol=1e-10)


def _dense_reference(feats, loss, layer, epochs, seed, hidden):
    """The optimisation with every N × N product formed (the code before the factorisation)."""
    x = feats.double()
    w = {"ncut": ncut_affinity, "cc": cc_affinity, "dmon": dmon_adjacency}[loss](x)
    model = GraphCutNet(
        [seed + i for i in range(x.shape[0])],
        x.shape[2],
        hidden,
        2,
        layer,
        normalize=loss != "cc",
        dtype=torch.float64,
    )
    prepared = model.prepare(x, w)
    fn = {"ncut": ncut_loss, "cc": correlation_clustering_loss, "dmon": dmon_loss}[loss]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        s = model.assign(prepared)
        value = fn(s, w, symmetric=True)
        losses.append(value.detach())
        value.sum().backward()
        opt.step()
    return s.detach().numpy(), torch.stack(losses, dim=1).numpy()


@pytest.mark.parametrize(
    ("loss", "layer"), [("cc", "gcn"), ("cc", "gat"), ("ncut", "arma"), ("dmon", "gcn")]
)
def test_optimisation_equals_the_dense_formulas(loss, layer):
    """Same method: the factorised / precomputed products give the losses and assignments of
    the plain dense computation, epoch by epoch (float64)."""
    feats = torch.randn(3, 20, 4, generator=torch.Generator().manual_seed(6)) + 0.2
    soft, losses = _dense_reference(feats, loss, layer, epochs=15, seed=1, hidden=8)
    result = optimise_graph_cuts(
        feats, loss, layer, epochs=15, seed=1, hidden=8, dtype=torch.float64
    )
    np.testing.assert_allclose(result.losses, losses, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(result.soft, soft.astype(np.float32), rtol=0, atol=1e-6)


def test_gat_chunk_rule_and_chunked_equals_looped(monkeypatch):
    cpu = torch.device("cpu")
    # 784² float32 = 2.46 MB per image
    expected = max(1, GAT_CPU_CHUNK_BYTES // (784 * 784 * 4))
    assert chunk_images(64, "gat", 784, torch.float32, cpu) == min(64, expected)
    assert chunk_images(64, "gat", 784, torch.float64, cpu) == max(1, expected // 2)
    assert chunk_images(64, "gcn", 784, torch.float32, cpu) == 64
    assert chunk_images(3, "gat", 10, torch.float32, cpu) == 3
    assert chunk_images(64, "gat", 100_000, torch.float32, cpu) == 1
    assert chunk_images(64, "gat", 784, torch.float32, torch.device("cuda", 0)) == 64
    # 25² · 4 bytes = 2500 per image: a 5000-byte budget makes chunks of 2 images
    monkeypatch.setattr(optimise_module, "GAT_CPU_CHUNK_BYTES", 5000)
    feats = torch.randn(5, 25, 6, generator=torch.Generator().manual_seed(8))
    kw = {"epochs": 12, "eval_every": 6, "seed": 2, "hidden": 16}
    chunked = optimise_graph_cuts(feats, "dmon", "gat", batch_size=4, **kw)
    assert chunked.config["chunk"] == 2 and chunked.config["batch_size"] == 4
    looped = optimise_graph_cuts(feats, "dmon", "gat", batch_size=1, **kw)
    np.testing.assert_array_equal(chunked.assignments, looped.assignments)
    np.testing.assert_allclose(chunked.soft, looped.soft, rtol=0, atol=1e-5)


# --------------------------------------------------------------------------------------------
# foreground rule and scores
# --------------------------------------------------------------------------------------------


def test_centre_distances_and_border_hand_case():
    # 3×3: centre 0, edge midpoints (±2/3, 0) → 0.6667, corners √2·2/3 → 0.9428
    d = centre_distances((3, 3)).reshape(3, 3)
    np.testing.assert_allclose(d, [[0.9428, 0.6667, 0.9428], [0.6667, 0, 0.6667], [0.9428, 0.6667, 0.9428]], atol=1e-4)  # fmt: skip
    assert border_patches((3, 3)).reshape(3, 3).tolist() == [
        [True, True, True],
        [True, False, True],
        [True, True, True],
    ]


def test_foreground_rule_picks_the_central_cluster():
    # cluster 1 = the centre patch (mean 0); cluster 0 = the ring (4·0.6667 + 4·0.9428)/8 = 0.8047
    ring = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0])
    assert foreground_cluster(ring, (3, 3)) == 1
    assert foreground_cluster(1 - ring, (3, 3)) == 0  # names do not matter
    np.testing.assert_array_equal(foreground_cluster(np.stack([ring, 1 - ring]), (3, 3)), [1, 0])
    mask = foreground_mask(np.stack([ring, 1 - ring]), (3, 3))
    assert mask.shape == (2, 3, 3) and mask[:, 1, 1].all() and mask.sum() == 2


def test_foreground_ties_go_to_fewer_border_patches_and_empty_clusters_lose():
    # 5×5 grid, offsets (−.8, −.4, 0, .4, .8). Cluster 0 = {(2, 4): .8 on the border, (2, 2): 0}
    # → mean .4, one border patch; cluster 1 = {(2, 3)}: .4, none on the border; cluster 2 = the
    # rest (mean > .4). Tie at .4 → cluster 1.
    lab = np.full((5, 5), 2)
    lab[2, 4] = lab[2, 2] = 0
    lab[2, 3] = 1
    assert foreground_cluster(lab.ravel(), (5, 5), k=3) == 1
    # 2×2: every patch equidistant and on the border: full tie → the lower index
    assert foreground_cluster(np.array([1, 0, 0, 1]), (2, 2)) == 0
    # an empty cluster is never the foreground
    assert foreground_cluster(np.ones(9, dtype=np.int64), (3, 3)) == 1
    assert foreground_cluster(np.zeros(9, dtype=np.int64), (3, 3), k=3) == 0


def test_honest_choice_ignores_the_masks_that_flip_the_oracle():
    ring = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0])
    params = inspect.signature(foreground_cluster).parameters
    assert not {"mask", "masks", "truth", "target"} & set(params)
    honest = foreground_mask(ring, (3, 3))
    truth_a = honest.copy()  # the object is the centre
    truth_b = ~honest  # the object is the ring
    # the oracle flips its choice with the truth ...
    assert oracle_flip_scores(honest, truth_a) == (1.0, 1.0)
    assert oracle_flip_scores(honest, truth_b) == (1.0, 1.0)
    # ... the honest rule cannot: same mask, scored once right and once wrong
    assert np.array_equal(foreground_mask(ring, (3, 3)), honest)
    assert iou_dice(honest, truth_a) == (1.0, 1.0)
    assert iou_dice(honest, truth_b) == (0.0, 0.0)


def test_iou_dice_and_oracle_hand_case():
    pred = np.zeros((4, 4), dtype=bool)
    pred[0, :4] = True  # 4 pixels
    truth = np.zeros((4, 4), dtype=bool)
    truth[0, 2:] = truth[1, 2:] = True  # 4 pixels, 2 shared
    iou, dice = iou_dice(pred, truth)
    assert iou == pytest.approx(2 / 6) and dice == pytest.approx(4 / 8)
    assert iou_dice(np.zeros((3, 3)), np.zeros((3, 3))) == (1.0, 1.0)
    # complement: ~pred has 12 pixels, 2 shared with truth → IoU 2/14: the oracle keeps 2/6
    assert oracle_flip_scores(pred, truth) == pytest.approx((2 / 6, 4 / 8))
    assert oracle_flip_scores(pred, ~pred) == (1.0, 1.0)
    assert iou_dice(pred, ~pred) == (0.0, 0.0)


def test_patch_mask_to_image_nearest():
    m = np.array([[1, 0], [0, 1]], dtype=bool)
    up = patch_mask_to_image(m, (4, 6))
    expected = np.array([[1, 1, 1, 0, 0, 0]] * 2 + [[0, 0, 0, 1, 1, 1]] * 2, dtype=bool)
    np.testing.assert_array_equal(up, expected)
    # 3 patches onto 4 pixels: rows ⌊y·3/4⌋ = 0, 0, 1, 2
    m3 = np.arange(9).reshape(3, 3)
    np.testing.assert_array_equal(patch_mask_to_image(m3, (4, 4))[:, 0], [0, 0, 3, 6])
    assert patch_mask_to_image(np.stack([m, ~m]), (4, 6)).shape == (2, 4, 6)


# --------------------------------------------------------------------------------------------
# classical rows
# --------------------------------------------------------------------------------------------


def _disc_image(dark_disc: bool) -> tuple[np.ndarray, np.ndarray]:
    h = w = 64
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 31.5) ** 2 + (xx - 31.5) ** 2 < 14**2
    inside, outside = (50, 200) if dark_disc else (200, 50)
    img = np.where(disc, inside, outside).astype(np.float64)
    img = img + np.random.default_rng(0).normal(0, 10, img.shape)
    rgb = np.clip(np.stack([img, 0.9 * img, 0.8 * img], axis=2), 0, 255).astype(np.uint8)
    return rgb, disc


@pytest.mark.parametrize("dark_disc", [True, False])
def test_classical_rows_find_the_central_disc(dark_disc):
    image, disc = _disc_image(dark_disc)
    for mask in (otsu_lab_mask(image), kmeans_lab_mask(image, seed=0, max_pixels=2000)):
        assert mask.shape == disc.shape and mask.dtype == bool
        assert iou_dice(mask, disc)[0] > 0.9
