"""Decoders: output shapes, the reference's parameter counts, seeding, bad sizes."""

import pytest
import torch

from identifiable.models.decoders import MLPDecoder, UpsampleDecoder, n_parameters


def test_upsample_decoder_has_the_reference_sizes():
    """The 2023 reference's UpsampleMLP: 277 475 parameters per slot (5 latents, hidden 256,
    32 channels), 587 779 for the monolithic one (10 latents, hidden 320, 64 channels)."""
    assert n_parameters(UpsampleDecoder(5, 64, 3, 256, 4)) == 277_475
    assert n_parameters(UpsampleDecoder(10, 64, 3, 320, 4, 64)) == 587_779
    out = UpsampleDecoder(5, 32, 4)(torch.rand(7, 5))
    assert out.shape == (7, 4, 32, 32)


def test_mlp_decoder_shape_and_seeding():
    make = lambda seed: MLPDecoder(3, (2, 6), 16, 3, generator=torch.Generator().manual_seed(seed))  # noqa: E731
    z = torch.rand(5, 3)
    assert make(0)(z).shape == (5, 2, 6)
    assert torch.equal(make(0)(z), make(0)(z)) and not torch.equal(make(0)(z), make(1)(z))


@pytest.mark.parametrize("size", [4, 12, 48])
def test_upsample_decoder_needs_a_power_of_two_size(size):
    with pytest.raises(ValueError, match="image_size must be 4·2\\^m"):
        UpsampleDecoder(5, size)
