"""The X-Sample loss: the finer points the main tests leave open (found by mutation testing): the
smallest batch (B = 2) by hand, the edge of the temperature check, and the dtype of the loss."""

from __future__ import annotations

import math

import pytest
import torch

from identifiable.losses import info_nce, x_sample_loss


def test_a_batch_of_two_by_hand():
    """B = 2 is the smallest contrastive batch and must be accepted (not only B ≥ 3). With
    h = h̃ = I and τ = 1 the logits are I, so log p_i = (1, 0)_i − log(1 + e); with soft targets
    (¾, ¼) on the own sample: L = log(1 + e) − ¾ for both rows."""
    h = torch.eye(2, dtype=torch.float64)
    targets = torch.tensor([[0.75, 0.25], [0.25, 0.75]], dtype=torch.float64)
    got = x_sample_loss(h, h, targets, 1.0)
    assert float(got) == pytest.approx(math.log(1 + math.e) - 0.75, rel=1e-12)


def test_zero_temperature_is_refused_and_a_tiny_one_accepted():
    """τ = 0 divides the logits by zero: refused (τ > 0, not τ ≥ 0)."""
    h = torch.eye(3)
    with pytest.raises(ValueError, match="tau must be > 0"):
        x_sample_loss(h, h, torch.eye(3), 0.0)
    assert torch.isfinite(x_sample_loss(h, h, torch.eye(3), 1e-3))


def test_the_loss_has_the_representations_dtype_whatever_the_targets():
    """Float32 representations with float64 targets (a graph built in double precision) give a
    float32 loss, InfoNCE's, as a float32 model trains in; the targets are cast, not promoting
    the loss to float64."""
    g = torch.Generator().manual_seed(0)
    h, h_pos = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    got = x_sample_loss(h, h_pos, torch.eye(6, dtype=torch.float64), 0.5)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, info_nce(h, h_pos, 0.5))
