"""The token Transformer: shapes, seeding without the global RNG, the symmetry the reference's
missing positional embedding leaves, and one-line errors."""

import pytest
import torch

from identifiable.models.transformer import TokenTransformer


def test_features_of_the_last_position_seeded_and_global_rng_untouched():
    tokens = torch.tensor([[1, 2], [3, 4], [5, 6]])
    state = torch.random.get_rng_state()
    a = TokenTransformer(vocab=7, seq_len=2, d_model=8, heads=2, feedforward=16, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = TokenTransformer(vocab=7, seq_len=2, d_model=8, heads=2, feedforward=16, seed=3)
    c = TokenTransformer(vocab=7, seq_len=2, d_model=8, heads=2, feedforward=16, seed=4)
    out = a(tokens)
    assert out.shape == (3, 8)
    assert torch.equal(out, b(tokens)) and not torch.equal(out, c(tokens))
    assert torch.equal(a(tokens.float()), out)  # float ids, as a learner's float32 inputs


def test_without_positions_only_the_last_token_tells_the_order():
    """No positional embedding (the reference): (a, b) and (b, a) differ only through the
    residual of the read-out (last) token; with the positional embedding every position's order
    matters."""
    net = TokenTransformer(vocab=5, seq_len=2, d_model=8, heads=2, feedforward=16, seed=0).eval()
    ab, ba = net(torch.tensor([[1, 2]])), net(torch.tensor([[2, 1]]))
    assert not torch.allclose(ab, ba)
    # attention over a set: the first position's token enters only through attention, which
    # is order-free, so swapping the *other* positions of a longer sequence changes nothing
    long = TokenTransformer(vocab=5, seq_len=3, d_model=8, heads=2, feedforward=16, seed=0).eval()
    assert torch.allclose(long(torch.tensor([[1, 2, 3]])), long(torch.tensor([[2, 1, 3]])),
                          atol=1e-6)  # fmt: skip
    ordered = TokenTransformer(
        vocab=5, seq_len=3, d_model=8, heads=2, feedforward=16, positional=True, seed=0
    ).eval()
    assert not torch.allclose(
        ordered(torch.tensor([[1, 2, 3]])), ordered(torch.tensor([[2, 1, 3]])), atol=1e-6
    )


@pytest.mark.parametrize(
    "tokens, message",
    [
        (torch.tensor([[1, 2, 3]]), r"shape \(n, 2\)"),
        (torch.tensor([[1, 7]]), r"token ids must be in 0\.\.6"),
        (torch.tensor([[-1, 2]]), r"token ids must be in 0\.\.6"),
    ],
)
def test_bad_tokens_one_line_errors(tokens, message):
    net = TokenTransformer(vocab=7, seq_len=2, d_model=8, heads=2, feedforward=16)
    with pytest.raises(ValueError, match=message):
        net(tokens)


def test_d_model_must_split_into_heads():
    with pytest.raises(ValueError, match="multiple of heads"):
        TokenTransformer(vocab=7, seq_len=2, d_model=10, heads=4)
