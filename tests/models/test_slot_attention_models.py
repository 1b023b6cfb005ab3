"""The attention blocks, the pixel-query Transformer decoder, the spatial-broadcast decoder and the
query slot encoder: shapes, what their masks mean, seeding, forward-mode differentiability."""

import pytest
import torch

from identifiable.models.attention import Attention, Block
from identifiable.models.broadcast_decoder import BroadcastDecoder
from identifiable.models.pixel_transformer import PixelTransformerDecoder, fourier_grid
from identifiable.models.query_slot_encoder import QuerySlotEncoder


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_attention_weights_are_a_distribution_over_keys_and_mix_the_values():
    attention = Attention(6, 5, 8, 2)
    x, z = torch.randn(3, 4, 6), torch.randn(3, 7, 5)
    out, weights = attention(x, z)
    assert out.shape == (3, 4, 6) and weights.shape == (3, 2, 4, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 4))
    # one key: every query takes its value, whatever the weights
    single = attention(x, z[:, :1])[0]
    v = attention.to_kv(z[:, :1]).chunk(2, dim=-1)[1]
    torch.testing.assert_close(single, attention.out(v).expand(-1, 4, -1))


def test_attention_scale_is_the_query_inputs_width_or_the_heads():
    assert Attention(16, 4, 8, 2).scale == 16**-0.5
    assert Attention(16, 4, 8, 2, scale="head").scale == 4**-0.5
    with pytest.raises(ValueError, match="multiple of heads"):
        Attention(4, 4, 6, 4)


def test_block_needs_z_for_cross_attention_and_returns_its_weights():
    block = Block(6, 5, 8, 2, self_attention=True)
    x, z = torch.randn(2, 3, 6), torch.randn(2, 4, 5)
    y, weights = block(x, z)
    assert y.shape == x.shape and weights.shape == (2, 2, 3, 4)
    with pytest.raises(ValueError, match="needs z"):
        block(x)


def test_fourier_grid_covers_the_pixels_row_major():
    grid = fourier_grid(4, octaves=2)
    assert grid.shape == (16, 8)
    assert len({tuple(row.tolist()) for row in grid}) == 16


def test_pixel_transformer_decodes_images_and_its_masks_sum_to_the_heads():
    decoder = PixelTransformerDecoder(4, 8, proj=8, query=8, query_hidden=8, heads=2, layers=2,
                                      generator=seeded())  # fmt: skip
    slots = torch.randn(3, 5, 4)
    images, weights = decoder.attend(slots)
    assert images.shape == (3, 3, 8, 8) and weights.shape == (3, 2, 2, 64, 5)
    masks = decoder.attention_masks(weights)
    assert masks.shape == (3, 5, 8, 8)
    torch.testing.assert_close(masks.sum(1), torch.full((3, 8, 8), 2.0))
    torch.testing.assert_close(decoder(slots), images)
    # slots are a set for the decoder: permuting them changes nothing
    torch.testing.assert_close(decoder(slots[:, [4, 2, 0, 1, 3]]), images, atol=1e-5, rtol=1e-5)


def test_broadcast_decoder_masks_are_a_partition_and_each_slot_renders_alone():
    decoder = BroadcastDecoder(4, 16, channels=4, generator=seeded())
    slots = torch.randn(2, 3, 4)
    images, masks = decoder.render(slots)
    assert images.shape == (2, 3, 16, 16) and masks.shape == (2, 3, 16, 16)
    torch.testing.assert_close(masks.sum(1), torch.ones(2, 16, 16))
    alone = decoder.render(slots[:, :1])  # one slot: its mask is 1, the image is its rendering
    torch.testing.assert_close(alone[1], torch.ones(2, 1, 16, 16))
    with pytest.raises(ValueError, match="8 times a power of 2"):
        BroadcastDecoder(4, 24)


def test_query_slot_encoder_gives_k_slots():
    encoder = QuerySlotEncoder(16, 3, 8, channels=4, heads=2, layers=1, generator=seeded())
    assert encoder(torch.rand(2, 3, 16, 16)).shape == (2, 3, 8)
    with pytest.raises(ValueError, match="multiple of 4"):
        QuerySlotEncoder(18, 3, 8)


@pytest.mark.parametrize(
    "build",
    [
        lambda g: PixelTransformerDecoder(4, 8, proj=8, query=8, query_hidden=8, heads=2,
                                          generator=g),
        lambda g: BroadcastDecoder(4, 8, channels=4, generator=g),
        lambda g: QuerySlotEncoder(8, 3, 8, channels=4, heads=2, layers=1, generator=g),
    ],
)  # fmt: skip
def test_a_seed_fixes_the_network_and_leaves_the_global_rng_alone(build):
    state = torch.random.get_rng_state()
    a, b, c = build(seeded(0)), build(seeded(0)), build(seeded(1))
    for (name, p), q, r in zip(a.state_dict().items(), b.state_dict().values(),
                               c.state_dict().values(), strict=True):  # fmt: skip
        torch.testing.assert_close(p, q)
        if p.dim() > 1:
            assert not torch.equal(p, r), name
    torch.testing.assert_close(torch.random.get_rng_state(), state)


def test_decoders_take_forward_mode_jacobians():
    decoder = PixelTransformerDecoder(2, 8, proj=8, query=8, query_hidden=8, heads=2,
                                      generator=seeded())  # fmt: skip
    slots = torch.randn(3, 2)
    jac = torch.func.jacfwd(lambda s: decoder(s[None])[0])(slots)
    full = torch.autograd.functional.jacobian(lambda s: decoder(s[None])[0], slots)
    torch.testing.assert_close(jac, full, atol=1e-5, rtol=1e-4)


def test_query_init_normal_gives_unalike_slot_queries_and_uniform_the_references():
    def mean_cosine(queries):
        q = torch.nn.functional.normalize(queries, dim=-1)
        return (q @ q.T)[~torch.eye(len(q), dtype=torch.bool)].mean().item()

    uniform = QuerySlotEncoder(16, 4, 64, query_init="uniform", generator=seeded())
    normal = QuerySlotEncoder(16, 4, 64, query_init="normal", generator=seeded())
    assert (uniform.queries >= 0).all() and (uniform.queries < 1).all()
    assert mean_cosine(uniform.queries.detach()) > 0.6
    assert abs(mean_cosine(normal.queries.detach())) < 0.3
    with pytest.raises(ValueError, match="query_init must be uniform or normal"):
        QuerySlotEncoder(16, 4, 64, query_init="zeros")
