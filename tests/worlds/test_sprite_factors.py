"""SpriteFactors: dSprites' grid design on our renderer, usable by the sampler metrics."""

import pytest
import torch

from identifiable.worlds.factors import FactorWorld, SpriteFactors, sample_factors
from identifiable.worlds.sprites import FACTORS, SpritesWorld


def world():
    return SpriteFactors(SpritesWorld(image_size=24), sizes=(4, 4, 2, 3, 5))


def test_values_are_bin_centres_and_images_are_the_renderers():
    w = world()
    assert isinstance(w, FactorWorld) and w.factor_sizes == (3, 4, 4, 2, 3, 5)
    f = torch.tensor([[0, 0, 3, 1, 0, 4], [2, 1, 2, 0, 2, 0]])
    v = w.values(f)
    low, high = w.sprites.position_x_range
    assert v["position_x"][0] == pytest.approx(low + (high - low) / 8)  # centre of bin 0 of 4
    assert v["position_y"][0] == pytest.approx(low + (high - low) * 7 / 8)
    assert v["hue"][1] == pytest.approx(0.1) and v["shape"].tolist() == [0, 2]
    images = w.observe(f, generator=torch.Generator())
    direct, _ = w.sprites.render(f[:, :1], *(v[name][:, None] for name in FACTORS))
    assert torch.equal(images, direct) and images.shape == (2, 3, 24, 24)


def test_a_position_read_out_beats_a_blind_encoder_on_factor_vae():
    """Codes that read the sprite's centroid (x, y) let FactorVAE's vote name the two position
    factors; constant codes cannot name any."""
    from identifiable.metrics.disentanglement import factor_vae_score

    w = SpriteFactors(SpritesWorld(image_size=24, shapes=("circle", "square")), (4, 4, 2, 3, 5))
    grid = torch.linspace(0, 1, 24)  # symmetric shapes: the centroid is the centre

    def centroid(x):
        mass = x.sum(dim=1)
        total = mass.sum(dim=(1, 2)).clamp_min(1e-6)
        cx = (mass.sum(dim=1) * grid).sum(dim=1) / total
        cy = (mass.sum(dim=2) * grid).sum(dim=1) / total
        return torch.stack([cx, cy], dim=1)

    budget = dict(batch_size=16, num_train=1000, num_eval=500, num_variance_estimate=1000)
    good = factor_vae_score(w, centroid, **budget)
    blind = factor_vae_score(w, lambda x: torch.zeros(len(x), 2), prune_threshold=0.0, **budget)
    assert good["factor_vae_train_accuracy"] >= 2 / 6 - 0.04  # x and y of six factors named
    assert good["factor_vae_eval_accuracy"] >= 2 / 6 - 0.08
    assert good["factor_vae_eval_accuracy"] > blind["factor_vae_eval_accuracy"] + 0.05


def test_bad_worlds_and_factors():
    with pytest.raises(ValueError, match="n_objects=1"):
        SpriteFactors(SpritesWorld(n_objects=2))
    with pytest.raises(ValueError, match="sizes must give 5 counts"):
        SpriteFactors(sizes=(2, 2))
    with pytest.raises(ValueError, match="integer indices"):
        world().values(torch.tensor([[0, 0, 9, 0, 0, 0]]))
    assert sample_factors(world(), 5, generator=torch.Generator()).shape == (5, 6)
