"""ConceptScenes: the finer points tests/worlds/test_concept_scenes.py leaves open (found by
mutation testing): the Zipf law of p(c), P(pair) ∝ p(c₁) p(c₂) over the shown pairs, the
sprite factors each scene is drawn with (through a spy on the renderer), the seeding, and the
edges of the settings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from identifiable.worlds.concept_scenes import ConceptScenes
from identifiable.worlds.sprites import SpritesWorld

SMALL = {"image_size": 8}


def test_concept_probabilities_follow_the_zipf_law_of_their_ranks():
    """Sorted, p(c) is k^(−zipf) / Σ_j j^(−zipf) for k = 1 … C (ranks start at 1)."""
    world = ConceptScenes(zipf=1.5, **SMALL)
    k = np.arange(1, 21, dtype=float)
    expected = k**-1.5 / (k**-1.5).sum()
    np.testing.assert_allclose(np.sort(world.concept_probabilities)[::-1], expected, rtol=1e-12)


def test_pair_probabilities_are_the_product_renormalised_over_the_shown_pairs():
    """P({a, b}) = p(a) p(b) / Σ_shown p(a′) p(b′) (rejection of the held-out pairs), and the
    held-out and shown pairs split all C(C − 1)/2 pairs."""
    world = ConceptScenes(zipf=1.0, n_held_out=30, seed=4, **SMALL)
    p = world.concept_probabilities
    products = np.array([p[a] * p[b] for a, b in world.shown_pairs])
    np.testing.assert_allclose(world.pair_probabilities, products / products.sum(), rtol=1e-12)
    assert not set(world.shown_pairs) & set(world.held_out_pairs)
    assert sorted(world.shown_pairs + world.held_out_pairs) == list(
        itertools.combinations(range(20), 2)
    )


def test_the_seed_fixes_the_ranks_and_the_held_out_pairs():
    """Same seed: the same world; another seed: other ranks and other held-out pairs."""
    first, again = ConceptScenes(seed=3, **SMALL), ConceptScenes(seed=3, **SMALL)
    np.testing.assert_array_equal(first.concept_probabilities, again.concept_probabilities)
    assert first.held_out_pairs == again.held_out_pairs
    other = ConceptScenes(seed=4, **SMALL)
    assert first.held_out_pairs != other.held_out_pairs
    assert not np.array_equal(first.concept_probabilities, other.concept_probabilities)


def test_scenes_are_fixed_by_the_generator_alone():
    """Every draw (pairs, which object is on top, positions, …) comes from the given generator:
    the global RNG in between changes nothing."""
    world = ConceptScenes(**SMALL)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        first = world.sample(6, generator=torch.Generator().manual_seed(5))
        held = world.scenes_of(world.held_out_pairs[:2], 2, generator=torch.Generator())
        torch.manual_seed(2)
        again = world.sample(6, generator=torch.Generator().manual_seed(5))
        held_again = world.scenes_of(world.held_out_pairs[:2], 2, generator=torch.Generator())
    torch.testing.assert_close(again.x, first.x, rtol=0, atol=0)
    assert torch.equal(again.concepts, first.concepts)
    torch.testing.assert_close(held_again.x, held.x, rtol=0, atol=0)


@pytest.fixture
def drawn(monkeypatch):
    """4000 scenes and the factors the sprite renderer was called with."""
    calls = []
    render = SpritesWorld.render

    def spy(self, shape, position_x, position_y, scale, rotation, hue, present=None):
        calls.append((shape, position_x, position_y, scale, rotation, hue))
        return render(self, shape, position_x, position_y, scale, rotation, hue, present)

    monkeypatch.setattr(SpritesWorld, "render", spy)
    world = ConceptScenes(**SMALL)
    batch = world.sample(4000, generator=torch.Generator().manual_seed(0))
    (factors,) = calls
    return world, batch, factors


def test_each_object_is_its_concepts_shape_and_hue_in_random_order(drawn):
    """Slot objects are the scene's two concepts (shape c // H, hue hues[c mod H]); which one is
    drawn first (below) is a fair coin: 2000 ± 5·√1000 scenes draw the smaller concept first."""
    world, batch, (shape, _, _, _, _, hue) = drawn
    hues = torch.tensor(world.hues)

    def drawn_as(concepts):
        return (shape == concepts // 5).all(dim=1) & (hue == hues[concepts % 5]).all(dim=1)

    straight, swapped = drawn_as(batch.concepts), drawn_as(batch.concepts.flip(1))
    assert (straight ^ swapped).all()  # each scene shows exactly its two concepts
    assert abs(int(straight.sum()) - 2000) < 5 * 1000**0.5


def test_positions_scales_and_rotations_are_uniform_on_their_ranges_and_independent(drawn):
    """x, y ~ U[0.2, 0.8] (the sprite world's ranges), scale ~ U[0.14, 0.22], rotation ~
    U[0, 2π), independent: 8000 objects reach both ends of each range, their means lie within
    5 standard errors of the midpoints and no two factors correlate beyond 5/√8000."""
    _, _, (_, x, y, scale, rotation, _) = drawn
    ranges = {"x": (x, 0.2, 0.8), "y": (y, 0.2, 0.8), "scale": (scale, 0.14, 0.22),
              "rotation": (rotation, 0.0, 2 * np.pi)}  # fmt: skip
    unit = {}
    for name, (value, low, high) in ranges.items():
        value = value.flatten().double()
        assert low - 1e-6 <= float(value.min()) < low + 0.01 * (high - low), name
        assert high - 0.01 * (high - low) < float(value.max()) <= high + 1e-6, name
        standard_error = (high - low) / 12**0.5 / len(value) ** 0.5
        assert abs(float(value.mean()) - (low + high) / 2) < 5 * standard_error, name
        unit[name] = (value - (low + high) / 2) / (high - low)
    for a, b in itertools.combinations(unit, 2):
        correlation = float(torch.corrcoef(torch.stack([unit[a], unit[b]]))[0, 1])
        assert abs(correlation) < 5 / 8000**0.5, (a, b)


def test_a_concept_is_drawn_by_its_shape_name_not_its_place_in_the_list():
    """Listing the shapes in another order renumbers the concepts but draws the same scenes:
    (circle, hue 0) + (circle, hue 0.5) look the same in both worlds."""
    hues = (0.0, 0.5)
    a = ConceptScenes(shapes=("circle", "square", "cross"), hues=hues, n_held_out=0, **SMALL)
    b = ConceptScenes(shapes=("square", "cross", "circle"), hues=hues, n_held_out=0, **SMALL)
    assert a.concept_name(1) == b.concept_name(5) == "circle-0.5"
    scenes_a = a.scenes_of([(0, 1)], 3, generator=torch.Generator().manual_seed(2))
    scenes_b = b.scenes_of([(4, 5)], 3, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(scenes_a.x, scenes_b.x, rtol=0, atol=0)


def test_scenes_of_accepts_pairs_as_any_integer_array():
    """Pairs as a numpy int32 array (unsorted) work like a list: int64 concepts, sorted."""
    world = ConceptScenes(**SMALL)
    pairs = np.array([[3, 1], [0, 19]], dtype=np.int32)
    batch = world.scenes_of(pairs, 1, generator=torch.Generator().manual_seed(0))
    assert batch.concepts.dtype == torch.int64 and batch.concepts.tolist() == [[1, 3], [0, 19]]


def test_the_smallest_valid_worlds_are_accepted():
    """One shape × 3 hues, 3 shapes × 1 hue (3 concepts each, the minimum), and the most pairs
    that can be held out with every concept still shown (4 concepts: 6 pairs, 2 held out)."""
    for shapes, hues in ((("square",), (0.0, 0.3, 0.6)), (("square", "circle", "cross"), (0.2,))):
        world = ConceptScenes(shapes=shapes, hues=hues, n_held_out=0, **SMALL)
        assert world.n_concepts == 3 and len(world.shown_pairs) == 3
    world = ConceptScenes(shapes=("square", "circle"), hues=(0.0, 0.5), n_held_out=2, **SMALL)
    assert len(world.held_out_pairs) == 2 and len(world.shown_pairs) == 4
    assert {c for p in world.shown_pairs for c in p} == {0, 1, 2, 3}


def test_setting_checks_at_their_edges():
    """hue 1 is hue 0 again (refused: not in [0, 1)); one pair too many held out is refused and
    the message counts pairs as integers; n = 1 is a batch, n = 0, −1, 2.0 and True are not."""
    with pytest.raises(ValueError, match="hues must be distinct values in"):
        ConceptScenes(hues=(0.0, 0.5, 1.0), **SMALL)
    with pytest.raises(ValueError, match=r"n_held_out must be in 0\.\.2 \(of 6 pairs"):
        ConceptScenes(shapes=("square", "circle"), hues=(0.0, 0.5), n_held_out=3, **SMALL)
    world = ConceptScenes(**SMALL)
    assert world.sample(1, generator=torch.Generator()).x.shape == (1, 3, 8, 8)
    for n in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="number of samples must be a positive int"):
            world.sample(n, generator=torch.Generator())
