import math

import pytest
import torch

from identifiable.losses import info_nce, similarity_matrix


def manual_info_nce(h, hp, tau, sim):
    b = len(h)
    total = 0.0
    for i in range(b):
        s = [float(sim(h[i], hp[j])) / tau for j in range(b)]
        total += -s[i] + math.log(sum(math.exp(v) for v in s))
    return total / b


@pytest.mark.parametrize(
    "name, sim",
    [
        ("dot", lambda a, b: a @ b),
        ("l1", lambda a, b: -(a - b).abs().sum()),
        ("l2", lambda a, b: -(a - b).square().sum()),
    ],
)
def test_matches_the_formula(name, sim):
    gen = torch.Generator().manual_seed(0)
    h, hp = (
        torch.randn(6, 3, generator=gen, dtype=torch.float64),
        torch.randn(6, 3, generator=gen, dtype=torch.float64),
    )
    got = float(info_nce(h, hp, 0.7, name))
    assert got == pytest.approx(manual_info_nce(h, hp, 0.7, sim), rel=1e-9)


def test_aligned_pairs_score_better_than_shuffled():
    gen = torch.Generator().manual_seed(0)
    h = torch.nn.functional.normalize(torch.randn(256, 8, generator=gen), dim=1)
    aligned = info_nce(h, h, 0.1)
    shuffled = info_nce(h, h[torch.randperm(256, generator=gen)], 0.1)
    assert float(aligned) < 1.0 < float(shuffled)
    # chance level for unrelated pairs is about log(B)
    assert float(shuffled) > math.log(256) - 1.0


def test_dot_loss_is_rotation_invariant_and_l1_is_not():
    gen = torch.Generator().manual_seed(1)
    h, hp = torch.randn(32, 4, generator=gen), torch.randn(32, 4, generator=gen)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen))
    assert float(info_nce(h @ q, hp @ q, 0.5)) == pytest.approx(float(info_nce(h, hp, 0.5)), 1e-5)
    assert float(info_nce(h @ q, hp @ q, 0.5, "l1")) != pytest.approx(
        float(info_nce(h, hp, 0.5, "l1")), 1e-3
    )


def test_stable_at_tiny_temperature():
    h = torch.randn(16, 4)
    value = info_nce(h, h + 0.1, 1e-4, "l2")
    assert torch.isfinite(value)


def test_similarity_matrix_l2_is_nonpositive_and_zero_on_diagonal():
    h = torch.randn(10, 3)
    s = similarity_matrix(h, h, "l2")
    assert float(s.max()) <= 0
    assert torch.allclose(s.diagonal(), torch.zeros(10), atol=1e-5)


@pytest.mark.parametrize(
    "h, hp, tau, sim, message",
    [
        (torch.randn(4, 3), torch.randn(5, 3), 0.1, "dot", "same shape|shape"),
        (torch.randn(1, 3), torch.randn(1, 3), 0.1, "dot", "at least 2"),
        (torch.randn(4, 3), torch.randn(4, 3), 0.0, "dot", "tau"),
        (torch.randn(4, 3), torch.randn(4, 3), 0.1, "cosine", "similarity"),
    ],
)
def test_bad_input(h, hp, tau, sim, message):
    with pytest.raises(ValueError, match=message):
        info_nce(h, hp, tau, sim)
