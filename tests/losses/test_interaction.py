"""The interaction regulariser and the slot VAE's KL against their definitions."""

import itertools

import pytest
import torch

from identifiable.losses.interaction import cross_attention_interaction, gaussian_slots


def test_interaction_is_the_sum_over_slot_pairs_of_head_summed_layer_averaged_attention():
    g = torch.Generator().manual_seed(0)
    weights = torch.softmax(torch.randn(3, 2, 4, 10, 5, generator=g), dim=-1)
    a = weights.sum(2).mean(1)  # (n, P, K)
    expected = sum(a[..., i] * a[..., j] for i, j in itertools.combinations(range(5), 2))
    assert cross_attention_interaction(weights).item() == pytest.approx(expected.mean().item())


def test_interaction_is_zero_for_one_slot_per_pixel_and_largest_for_even_attention():
    owner = torch.randint(3, (2, 1, 1, 16), generator=torch.Generator().manual_seed(1))
    one_hot = torch.nn.functional.one_hot(owner, 3).float()
    assert cross_attention_interaction(one_hot).item() == 0.0
    even = torch.full((2, 1, 1, 16, 3), 1 / 3)
    assert cross_attention_interaction(even).item() == pytest.approx(3 * (1 / 9))
    # heads disagreeing on the owner interact: summing heads before the product
    split = (
        torch.stack([one_hot[:, :, 0], 1 - one_hot[:, :, 0]], dim=2)
        / torch.tensor([1, 2.0])[None, None, :, None, None]
    )
    assert cross_attention_interaction(split).item() > 0


def test_interaction_refuses_the_wrong_shape():
    with pytest.raises(ValueError, match="scenes, layers, heads, pixels, slots"):
        cross_attention_interaction(torch.ones(2, 3, 4))


def test_gaussian_slots_kl_is_torch_distributions_with_the_references_sigma():
    g = torch.Generator().manual_seed(2)
    encoded = torch.randn(4, 3, 6, generator=g)
    z, mu, kl = gaussian_slots(encoded, generator=torch.Generator().manual_seed(3))
    mean, s = encoded.chunk(2, dim=-1)
    posterior = torch.distributions.Normal(mean, 0.5 * s.exp())
    prior = torch.distributions.Normal(0.0, 1.0)
    expected = torch.distributions.kl_divergence(posterior, prior).flatten(1).sum(1).mean()
    assert kl.item() == pytest.approx(expected.item(), rel=1e-5)
    torch.testing.assert_close(mu, mean)
    noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(z, mean + 0.5 * s.exp() * noise)
    z_mean, _, _ = gaussian_slots(encoded, sample=False)
    torch.testing.assert_close(z_mean, mean)


def test_gaussian_slots_need_an_even_width():
    with pytest.raises(ValueError, match="even width"):
        gaussian_slots(torch.ones(2, 3, 5))
