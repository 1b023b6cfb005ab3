"""The X-Sample contrastive loss: its special cases (InfoNCE, SupCon), its gradient, bad input."""

from __future__ import annotations

import pytest
import torch

from identifiable.losses import graph_targets, info_nce, same_label_targets, x_sample_loss


def _views(batch=12, dim=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    h = torch.nn.functional.normalize(torch.randn(batch, dim, generator=g, dtype=dtype), dim=1)
    h_pos = torch.nn.functional.normalize(torch.randn(batch, dim, generator=g, dtype=dtype), dim=1)
    return h, h_pos


@pytest.mark.parametrize("similarity", ["dot", "l1", "l2"])
def test_one_hot_targets_give_info_nce(similarity):
    """With s = I the loss is InfoNCE (the paper's binary one-positive graph)."""
    h, h_pos = _views()
    eye = torch.eye(len(h), dtype=h.dtype)
    torch.testing.assert_close(
        x_sample_loss(h, h_pos, eye, 0.3, similarity), info_nce(h, h_pos, 0.3, similarity),
        rtol=1e-12, atol=1e-12,
    )  # fmt: skip


def test_same_label_targets_give_supcon_out():
    """Uniform targets over same-class candidates = SupCon's L_out, written out per anchor."""
    h, h_pos = _views(batch=8)
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 2])
    tau = 0.2
    logits = h @ h_pos.T / tau
    expected = 0.0
    for i in range(len(h)):
        positives = [j for j in range(len(h)) if labels[j] == labels[i]]
        log_p = logits[i] - torch.logsumexp(logits[i], 0)
        expected += -sum(log_p[j] for j in positives) / len(positives)
    expected /= len(h)
    got = x_sample_loss(h, h_pos, same_label_targets(labels, torch.float64), tau)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_graph_targets_are_a_row_softmax_and_sharpen_to_the_binary_graph():
    graph = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    targets = graph_targets(graph, 0.5)
    expected_row = torch.softmax(torch.tensor([2.0, 1.0, 0.0]), 0)
    torch.testing.assert_close(targets[0], expected_row)
    torch.testing.assert_close(targets.sum(1), torch.ones(3))
    # τ_s → 0: all mass on each row's maximum (here: the diagonal) — SupCon's graph in the limit
    torch.testing.assert_close(graph_targets(graph, 1e-3), torch.eye(3))
    # τ_s → ∞: uniform targets
    torch.testing.assert_close(graph_targets(graph, 1e6), torch.full((3, 3), 1 / 3), atol=1e-6,
                               rtol=0)  # fmt: skip
    # adding a constant to the graph leaves the targets unchanged
    torch.testing.assert_close(graph_targets(graph + 1.0, 0.5), targets)


def test_gradient_wrt_logits_is_p_minus_s():
    """∂L/∂ℓ_ij = (p_ij − s_ij)/B: the loss pulls p towards the target graph, row by row."""
    h, h_pos = _views(batch=6)
    targets = graph_targets(torch.rand(6, 6, generator=torch.Generator().manual_seed(1)).double(),
                            0.2)  # fmt: skip
    h = h.clone().requires_grad_(True)
    x_sample_loss(h, h_pos, targets, 1.0).backward()
    p = torch.softmax(h.detach() @ h_pos.T, dim=1)
    torch.testing.assert_close(h.grad, (p - targets) @ h_pos / 6)


def test_minimum_is_reached_when_the_model_matches_the_targets():
    """L = H(s) + KL(s‖p) ≥ H(s), with equality iff p = s."""
    h, h_pos = _views(batch=5)
    logits = h @ h_pos.T / 0.5
    targets = torch.softmax(logits, dim=1)
    entropy = -(targets * targets.log()).sum(1).mean()
    torch.testing.assert_close(x_sample_loss(h, h_pos, targets, 0.5), entropy)
    other = graph_targets(torch.eye(5, dtype=h.dtype), 0.5)
    assert x_sample_loss(h, h_pos, other, 0.5) > -(other * other.log()).sum(1).mean()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda h: graph_targets(torch.ones(3, 4), 0.1), "must be square"),
        (lambda h: graph_targets(torch.tensor([[1.0, -0.2], [0.0, 1.0]]), 0.1), "must be >= 0"),
        (lambda h: graph_targets(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), 0.1), "NaN"),
        (lambda h: graph_targets(torch.tensor([[1.0, float("inf")], [0.0, 1.0]]), 0.1), "infinite"),
        (lambda h: graph_targets(torch.eye(2), 0.0), "tau_graph must be > 0"),
        (lambda h: x_sample_loss(h, h, torch.eye(3), 0.1), r"targets must have shape \(4, 4\)"),
        (lambda h: x_sample_loss(h, h[:2], torch.eye(4), 0.1), "must both have shape"),
        (lambda h: x_sample_loss(h[:1], h[:1], torch.eye(1), 0.1), "at least 2"),
        (lambda h: x_sample_loss(h, h, torch.eye(4), -1.0), "tau must be > 0"),
        (lambda h: same_label_targets(torch.zeros(2, 2)), "one-dimensional"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(torch.randn(4, 3))
