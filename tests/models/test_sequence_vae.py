"""SequenceVAE: shapes, seeded init, the β-ELBO by hand, a CPA decoder, bad arguments."""

import math

import pytest
import torch
import torch.nn.functional as F

from identifiable.models.sequence_vae import SequenceVAE, vae_loss

T, V, D = 6, 5, 3


def model(seed=0):
    return SequenceVAE(T, V, D, hidden=(16, 8), generator=torch.Generator().manual_seed(seed))


def tokens(n=4):
    return torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(1))


def test_shapes_and_the_mean_is_the_noise_free_latent():
    vae = model()
    logits, mean, log_var = vae(tokens())
    assert logits.shape == (4, T, V) and mean.shape == log_var.shape == (4, D)
    torch.testing.assert_close(vae.encoder(tokens()), mean)
    torch.testing.assert_close(vae.decoder(mean), logits)
    torch.testing.assert_close(vae.encoder(tokens().float()), mean)  # float token ids work


def test_seed_fixes_the_init():
    a, b, c = model(0), model(0), model(1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.decoder.net[0].weight, c.decoder.net[0].weight)


def test_loss_by_hand():
    x = tokens(3)
    logits = torch.randn(3, T, V, generator=torch.Generator().manual_seed(2))
    mean = torch.tensor([[1.0, 0.0, 0.0]] * 3)
    log_var = torch.zeros(3, D)
    loss, reconstruction, kl = vae_loss(logits, x, mean, log_var, beta=2.0)
    expected = -F.log_softmax(logits, -1).gather(2, x[..., None]).squeeze(2).sum(1).mean()
    torch.testing.assert_close(reconstruction, expected)
    assert kl.item() == pytest.approx(0.5)  # ½ μ² for μ = 1, σ = 1
    assert loss.item() == pytest.approx(expected.item() + 1.0)
    _, _, zero = vae_loss(logits, x, torch.zeros(3, D), torch.zeros(3, D))
    assert zero.item() == 0.0
    _, _, kl_var = vae_loss(logits, x, torch.zeros(3, D), torch.full((3, D), math.log(2.0)))
    assert kl_var.item() == pytest.approx(0.5 * D * (2.0 - math.log(2.0) - 1))


def test_decoder_is_piecewise_affine_in_z():
    decoder = model().decoder.double()
    z = torch.randn(1, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    step = 1e-7 * torch.ones_like(z)
    jac = lambda u: torch.autograd.functional.jacobian(decoder, u)  # noqa: E731
    torch.testing.assert_close(jac(z), jac(z + step), rtol=0, atol=1e-12)  # same linear region
    torch.testing.assert_close(
        decoder(z + step) - decoder(z), (jac(z).reshape(T * V, D) @ step[0]).reshape(1, T, V)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"length": 0}, "length must be an int >= 1"),
        ({"vocab_size": 1}, "vocab_size must be an int >= 2"),
        ({"n_latents": 0}, "n_latents must be an int >= 1"),
        ({"hidden": ()}, "hidden must be a non-empty tuple"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"length": T, "vocab_size": V, "n_latents": D} | kwargs
    with pytest.raises(ValueError, match=message):
        SequenceVAE(**args)


def test_wrong_token_shape_is_a_value_error():
    with pytest.raises(ValueError, match="shape"):
        model().encoder(torch.zeros(2, T + 1, dtype=torch.long))
