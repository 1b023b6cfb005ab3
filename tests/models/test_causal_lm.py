"""Tiny causal language models: shapes, causality, seeds, the positional encoding."""

import pytest
import torch

from identifiable.models.causal_lm import (
    ARCHITECTURES,
    LinearLM,
    build_language_model,
    sinusoidal_positions,
)

SIZES = {
    "transformer": dict(d_model=8, heads=2, feedforward=16, layers=2, dropout=0.0),
    "lstm": dict(d_model=8, hidden=12, layers=2, dropout=0.0),
    "linear": dict(d_model=8),
}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_logits_shape_and_causality(architecture):
    model = build_language_model(architecture, 7, 12, seed=0, **SIZES[architecture]).eval()
    tokens = torch.randint(0, 7, (5, 10), generator=torch.Generator().manual_seed(0))
    logits = model(tokens)
    assert logits.shape == (5, 10, 7)
    changed = tokens.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % 7  # change the future of position 5
    again = model(changed)
    torch.testing.assert_close(again[:, :6], logits[:, :6])
    assert not torch.allclose(again[:, 6:], logits[:, 6:])


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_seed_fixes_the_weights_and_leaves_the_global_rng_alone(architecture):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_language_model(architecture, 5, 8, seed=1, **SIZES[architecture])
    assert torch.equal(torch.rand(1), before)
    b = build_language_model(architecture, 5, 8, seed=1, **SIZES[architecture])
    c = build_language_model(architecture, 5, 8, seed=2, **SIZES[architecture])
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert any(
        not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True)
    )


def test_the_transformer_sees_positions():
    """The reference adds each sequence's batch-index encoding to every position (its model sees
    no positions); ours adds PE_t at position t, so a row's output does not depend on its place
    in the batch, and one token repeated gives different outputs at different positions."""
    model = build_language_model("transformer", 5, 8, seed=0, **SIZES["transformer"]).eval()
    tokens = torch.tensor([[0, 3, 3, 3], [0, 4, 4, 4]])
    alone = model(tokens[1:])
    torch.testing.assert_close(model(tokens)[1:], alone)
    assert not torch.allclose(alone[0, 1], alone[0, 2])


def test_sinusoidal_table():
    table = sinusoidal_positions(6, 4)
    assert table.shape == (6, 4)
    torch.testing.assert_close(table[:, 0], torch.sin(torch.arange(6.0)))
    torch.testing.assert_close(table[:, 1], torch.cos(torch.arange(6.0)))
    torch.testing.assert_close(table[:, 2], torch.sin(torch.arange(6.0) / 100))
    assert sinusoidal_positions(3, 5).shape == (3, 5)  # odd widths work


def test_the_linear_model_is_a_position_dependent_linear_map():
    model = LinearLM(4, 3, d_model=2, seed=0)
    with torch.no_grad():
        model.bias.copy_(torch.randn(3, 4))
    tokens = torch.tensor([[0, 2, 1]])
    e = model.embedding(tokens)[0]  # (3, 2)
    expected = torch.stack(
        [sum(e[s] @ model.weight[s, :, t] for s in range(t + 1)) + model.bias[t] for t in range(3)]
    )
    torch.testing.assert_close(model(tokens)[0], expected)


def test_unknown_architecture_and_bad_heads():
    with pytest.raises(ValueError, match="unknown architecture 'gru'.*transformer, lstm, linear"):
        build_language_model("gru", 5, 8)
    with pytest.raises(ValueError, match="multiple of heads"):
        build_language_model("transformer", 5, 8, d_model=10, heads=3)
