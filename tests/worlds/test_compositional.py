"""The compositional world: slot renderers, the known composition, fixed seeded splits."""

import pytest
import torch

from identifiable.worlds.composition import compose
from identifiable.worlds.compositional import CompositionalWorld
from identifiable.worlds.supports import in_support

SMALL = dict(n_train=200, n_test=100)


def test_splits_have_their_shapes_are_fixed_and_lie_where_they_should():
    world = CompositionalWorld(support="diagonal", delta=0.1, **SMALL)
    train, test, ood, everything = (world.split(s) for s in ("train", "test", "ood", "all"))
    assert train.z.shape == (200, 2, 5) and train.x.shape == (200, 3, 32)
    assert len(test.z) == len(ood.z) == len(everything.z) == 100
    assert len(world.split("validation").z) == 0
    assert bool(in_support(train.z, "diagonal", delta=0.1).all())
    assert bool(in_support(test.z, "diagonal", delta=0.1).all())
    assert not bool(in_support(ood.z, "diagonal", delta=0.1).any())
    again = CompositionalWorld(support="diagonal", delta=0.1, **SMALL).split("train")
    assert torch.equal(again.x, train.x)
    assert not torch.equal(train.z, test.z)
    other = CompositionalWorld(support="diagonal", delta=0.1, seed=1, **SMALL)
    assert not torch.equal(other.observe(train.z), train.x)  # the seed draws other renderers


def test_observe_is_the_composition_of_the_slot_renderings():
    for composition in ("sum", "occlude", "alpha"):
        world = CompositionalWorld(composition=composition, **SMALL)
        z = world.split("all").z
        renders = world.render_slots(z)
        assert renders.shape[:2] == (100, 2)
        assert torch.allclose(world.observe(z), compose(renders, composition))
        assert bool((renders >= 0).all())


def test_each_slot_renders_only_from_its_own_latents():
    world = CompositionalWorld(**SMALL)
    z = world.split("all").z
    changed = z.clone()
    changed[:, 1] = torch.rand(100, 5, generator=torch.Generator().manual_seed(3))
    a, b = world.render_slots(z), world.render_slots(changed)
    assert torch.equal(a[:, 0], b[:, 0]) and not torch.equal(a[:, 1], b[:, 1])
    # about half of a vector slot's pixels are background (the ReLU), so occlusion hides things
    assert 0.2 < float((a == 0).float().mean()) < 0.8


def test_sprites_renderer_draws_one_sprite_per_slot_in_the_reference_ranges():
    world = CompositionalWorld(renderer="sprites", image_size=16, **SMALL)
    z = torch.tensor([[[0.5, 0.5, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.5]]])
    slots = world.render_slots(z)
    assert slots.shape == (1, 2, 3, 16, 16)
    assert float(slots[0, 0, 0].max()) > 0.9  # hue 0 → 0.05 after scaling: red
    assert float(slots[0, 0, :, 0, 0].max()) == 0  # a centred sprite leaves the corner black
    assert world.split("train").x.shape == (200, 3, 16, 16)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"support": "grid"}, "support must be one of"),
        ({"renderer": "pil"}, "renderer must be one of"),
        ({"composition": "max"}, "composition must be one of"),
        ({"renderer": "sprites", "slot_dim": 3}, "set slot_dim=5"),
        ({"support": "diagonal", "delta": 0.0}, "delta must be in"),
        ({"support": "diagonal", "n_slots": 1}, "n_slots >= 2"),
        ({"slot_dim": 0}, "slot_dim must be an int >= 1"),
        ({"planes": ((5, (0.0,) * 5),)}, "planes must be pairs"),
    ],
)
def test_bad_settings_one_line_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        CompositionalWorld(**settings)


def test_bad_latents_and_split_names():
    world = CompositionalWorld(**SMALL)
    with pytest.raises(ValueError, match=r"z must have shape \(n, 2, 5\)"):
        world.observe(torch.zeros(3, 10))
    with pytest.raises(ValueError, match="NaN"):
        world.observe(torch.full((1, 2, 5), float("nan")))
    with pytest.raises(ValueError, match="split must be one of"):
        world.split("holdout")


def test_a_shared_renderer_draws_every_slot_with_one_function():
    world = CompositionalWorld(shared_renderer=True, **SMALL)
    z = world.split("all").z
    swapped = z.flip(1)
    a, b = world.render_slots(z), world.render_slots(swapped)
    assert torch.allclose(a, b.flip(1))  # same object, same rendering, whichever slot it is in
    per_slot = CompositionalWorld(**SMALL)
    assert not torch.allclose(per_slot.render_slots(z), per_slot.render_slots(swapped).flip(1))


def test_no_overlap_moves_slot_one_half_a_canvas_to_the_right():
    z = torch.tensor([[[0.2, 0.5, 0.0, 1.0, 0.3], [0.2, 0.5, 0.0, 1.0, 0.3]]])
    apart = CompositionalWorld(renderer="sprites", image_size=32, no_overlap=True, **SMALL)
    together = CompositionalWorld(renderer="sprites", image_size=32, **SMALL)
    a, b = apart.render_slots(z), together.render_slots(z)
    assert torch.equal(b[0, 0], b[0, 1])  # the same latents, the same place
    overlap = lambda r: float((r[0, 0].sum(0) > 0).logical_and(r[0, 1].sum(0) > 0).sum())  # noqa: E731
    assert overlap(a) == 0 and overlap(b) > 0
    assert float(a[0, 0].sum()) < float(b[0, 0].sum())  # shrunk
