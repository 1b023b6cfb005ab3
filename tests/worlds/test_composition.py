"""Composition functions: sum, the reference's sigmoid OccludeAdd, alpha compositing."""

import pytest
import torch

from identifiable.worlds.composition import compose, n_channels_in


def test_sum_adds_the_slots():
    renders = torch.rand(4, 3, 2, 5)
    assert torch.allclose(compose(renders, "sum"), renders.sum(1))


def test_occlude_shows_the_back_at_half_intensity_behind_black_and_hides_it_behind_bright():
    back = torch.ones(1, 3, 4)
    black = torch.zeros(1, 3, 4)
    bright = torch.full((1, 3, 4), 2.0)
    out = compose(torch.stack([black, back], 1), "occlude")
    assert torch.allclose(out, 0.5 * back)  # σ(0) = ½
    out = compose(torch.stack([bright, back], 1), "occlude")
    s = 6.0  # channel sum of the front
    expected = bright * torch.sigmoid(torch.tensor(s)) + back * torch.sigmoid(torch.tensor(-s))
    assert torch.allclose(out, expected)
    one = torch.rand(2, 1, 3, 4)
    assert torch.equal(compose(one, "occlude"), one[:, 0])


def test_alpha_front_to_back_over_black():
    red = torch.tensor([1.0, 0.0, 0.0, 1.0]).view(1, 4, 1)  # opaque red
    blue = torch.tensor([0.0, 0.0, 1.0, 1.0]).view(1, 4, 1)
    clear = torch.tensor([1.0, 1.0, 1.0, 0.0]).view(1, 4, 1)  # fully transparent
    assert torch.allclose(compose(torch.stack([red, blue], 1), "alpha"), red[:, :3])
    assert torch.allclose(compose(torch.stack([clear, blue], 1), "alpha"), blue[:, :3])
    half = torch.tensor([1.0, 0.0, 0.0, 0.5]).view(1, 4, 1)
    out = compose(torch.stack([half, blue], 1), "alpha")
    assert torch.allclose(out.flatten(), torch.tensor([0.5, 0.0, 0.5]))
    assert n_channels_in("alpha", 3) == 4 and n_channels_in("occlude", 3) == 3


@pytest.mark.parametrize(
    "renders, composition, message",
    [
        (torch.zeros(2, 2, 3), "multiply", "composition must be one of"),
        (torch.zeros(2, 2), "sum", "renders must have shape"),
        (torch.zeros(2, 2, 1, 4), "alpha", "needs a colour channel and an opacity channel"),
    ],
)
def test_bad_input(renders, composition, message):
    with pytest.raises(ValueError, match=message):
        compose(renders, composition)


def reference_occlude(renders):
    """The reference's fold, one scene and one pixel at a time."""
    n, k, c, p = renders.shape
    out = torch.empty(n, c, p)
    for i in range(n):
        for q in range(p):
            x = renders[i, 0, :, q]
            for j in range(1, k):
                s = x.sum()
                x = x * torch.sigmoid(s) + renders[i, j, :, q] * torch.sigmoid(-s)
            out[i, :, q] = x
    return out


def reference_alpha(renders):
    n, k, c, p = renders.shape
    out = torch.zeros(n, c - 1, p)
    for i in range(n):
        for q in range(p):
            transmitted = 1.0
            for j in range(k):
                a = float(renders[i, j, -1, q].clamp(0, 1))
                out[i, :, q] += transmitted * a * renders[i, j, :-1, q]
                transmitted *= 1 - a
    return out


def test_occlude_and_alpha_match_a_pixel_by_pixel_reference():
    g = torch.Generator().manual_seed(0)
    renders = torch.rand(2, 3, 3, 5, generator=g)
    assert torch.allclose(compose(renders, "occlude"), reference_occlude(renders), atol=1e-6)
    with_opacity = torch.rand(2, 3, 4, 5, generator=g)
    with_opacity[:, :, -1] = with_opacity[:, :, -1] * 2.0 - 0.5  # opacities outside [0, 1] clamp
    assert torch.allclose(compose(with_opacity, "alpha"), reference_alpha(with_opacity), atol=1e-6)
    grey = torch.rand(2, 3, 2, 5, generator=g)  # one colour channel + opacity is enough
    assert compose(grey, "alpha").shape == (2, 1, 5)


def test_sum_is_the_default_and_three_axes_are_enough():
    renders = torch.rand(4, 2, 3)
    assert torch.equal(compose(renders), renders.sum(1))
