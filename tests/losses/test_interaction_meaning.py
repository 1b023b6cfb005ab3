"""Meaning of the slot VAE's sampling: the encoder output splits in two equal halves (μ, s), and
ẑ = μ + ½e^s·ε is drawn in the encoder output's precision and on its device."""

import math

import pytest
import torch

from identifiable.losses.interaction import gaussian_slots


@pytest.mark.parametrize("width", [2, 4, 8, 10])
def test_any_even_width_splits_into_mean_and_log_scale(width):
    g = torch.Generator().manual_seed(width)
    encoded = torch.randn(3, 2, width, generator=g)
    _, mu, kl = gaussian_slots(encoded, sample=False)
    mean, s = encoded[..., : width // 2], encoded[..., width // 2 :]
    torch.testing.assert_close(mu, mean)
    sigma = 0.5 * s.exp()
    expected = (0.5 * (sigma**2 + mean**2 - 1) - sigma.log()).flatten(1).sum(1).mean()
    assert kl.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("width", [1, 3, 5, 9])
def test_an_odd_width_is_refused(width):
    with pytest.raises(ValueError, match="even width"):
        gaussian_slots(torch.ones(2, 3, width))


def test_double_precision_encoder_outputs_are_sampled_in_double_precision():
    """With μ = 0 and σ = ½e^{log 2} = 1, ẑ is the noise itself: a float64 standard normal draw
    (not a float32 one widened), from the generator given."""
    mu, s = torch.zeros(50, 2, 3), torch.full((50, 2, 3), math.log(2.0), dtype=torch.float64)
    encoded = torch.cat([mu.double(), s], dim=-1)
    z, _, kl = gaussian_slots(encoded, generator=torch.Generator().manual_seed(4))
    assert z.dtype == torch.float64
    expected = torch.randn(
        50, 2, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    torch.testing.assert_close(z, expected, rtol=0, atol=1e-15)
    assert not torch.equal(z, z.float().double())  # more than float32's 24 bits
    assert kl.item() == 0.0  # N(0, 1) is the prior itself


def test_the_sample_lives_on_the_encoder_outputs_device():
    """The noise is drawn where μ lives (here the meta device, a stand-in for an accelerator)."""
    encoded = torch.empty(4, 3, 6, device="meta")
    z, mu, kl = gaussian_slots(encoded)
    assert z.device == mu.device == kl.device == encoded.device
    assert z.shape == (4, 3, 3) and z.dtype == encoded.dtype
