"""ConceptScenes: Zipfian concept frequencies, held-out pairs never sampled, exact frequencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from identifiable.worlds.concept_scenes import ConceptScenes


def test_held_out_pairs_are_never_sampled_and_every_concept_is_shown():
    world = ConceptScenes(image_size=16, n_held_out=40, seed=2)
    assert world.n_concepts == 20 and len(world.held_out_pairs) == 40
    assert len(world.shown_pairs) == 190 - 40
    assert {c for p in world.shown_pairs for c in p} == set(range(20))
    batch = world.sample(3000, generator=torch.Generator().manual_seed(0))
    seen = {tuple(p) for p in batch.concepts.tolist()}
    assert not seen & set(world.held_out_pairs)
    assert (
        batch.x.shape == (3000, 3, 16, 16) and (batch.concepts[:, 0] < batch.concepts[:, 1]).all()
    )


def test_frequencies_are_the_exact_caption_shares():
    world = ConceptScenes(image_size=8, zipf=1.0, seed=1)
    f = world.frequencies
    assert f.sum() == pytest.approx(1.0) and (f > 0).all()
    batch = world.sample(40_000, generator=torch.Generator().manual_seed(3))
    counts = np.bincount(batch.concepts.flatten().numpy(), minlength=20) / (2 * 40_000)
    np.testing.assert_allclose(counts, f, atol=0.004)
    ranks = np.argsort(np.argsort(-world.concept_probabilities))
    assert f.max() / f.min() > 5  # Zipf 1 over 20 concepts: a wide range
    assert ranks.min() == 0
    uniform = ConceptScenes(image_size=8, zipf=0.0, n_held_out=0).frequencies
    np.testing.assert_allclose(uniform, 1 / 20)


def test_scenes_of_show_the_given_pairs_in_colour():
    world = ConceptScenes(image_size=16)
    batch = world.scenes_of([(3, 1), (0, 19)], 2, generator=torch.Generator().manual_seed(0))
    assert batch.concepts.tolist() == [[1, 3], [1, 3], [0, 19], [0, 19]]
    assert batch.x.amax() > 0.5  # objects drawn on the black background
    assert world.concept_name(0) == "square-0" and world.concept_name(19) == "cross-0.67"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"zipf": -1.0}, "zipf must be >= 0"),
        ({"n_held_out": 200}, "n_held_out must be in 0..170"),
        ({"hues": (0.0, 0.0)}, "hues must be distinct"),
        ({"shapes": ("square",), "hues": (0.0, 0.5)}, "at least 3 concepts"),
        ({"image_size": 4}, "image_size"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConceptScenes(**kwargs)
