"""The sprites world: shapes, ranges, determinism, masks vs images, factors move pixels, errors."""

import math

import pytest
import torch

from identifiable.worlds.sprites import SHAPES, SpritesBatch, SpritesWorld, hsv_to_rgb


def sample(world, n=32, seed=0) -> SpritesBatch:
    return world.sample(n, generator=torch.Generator().manual_seed(seed))


def single(world, **factors):
    """Render one scene of one object with the given factors (defaults: centred, unrotated)."""
    values = {"position_x": 0.5, "position_y": 0.5, "scale": 0.2, "rotation": 0.0, "hue": 0.0}
    values.update(factors)
    shape = torch.tensor([[world.shapes.index(values.pop("shape", world.shapes[0]))]])
    tensors = {k: torch.tensor([[float(v)]]) for k, v in values.items()}
    return world.render(shape, **tensors)


@pytest.mark.parametrize("size, k", [(32, 1), (64, 4), (24, 3)])
def test_shapes_dtypes_and_ranges(size, k):
    world = SpritesWorld(image_size=size, n_objects=k, shapes=SHAPES)
    batch = sample(world, n=20)
    assert batch.x.shape == (20, 3, size, size) and batch.x.dtype == torch.float32
    assert batch.masks.shape == (20, k, size, size) and batch.masks.dtype == torch.float32
    assert batch.factors().shape == (20, k, 5)
    assert batch.shape.dtype == torch.int64 and batch.present.all()
    assert 0 <= batch.shape.min() and batch.shape.max() < len(SHAPES)
    assert batch.x.min() >= 0 and batch.x.max() <= 1
    assert batch.masks.min() >= 0 and batch.masks.sum(1).max() <= 1 + 1e-5
    assert ((batch.position_x >= 0.2) & (batch.position_x <= 0.8)).all()
    assert ((batch.position_y >= 0.2) & (batch.position_y <= 0.8)).all()
    assert ((batch.scale >= 0.1) & (batch.scale <= 0.2)).all()
    assert ((batch.rotation >= 0) & (batch.rotation <= 2 * math.pi)).all()
    assert ((batch.hue >= 0) & (batch.hue <= 1)).all()
    assert (batch.masks.sum((2, 3)) > 0).float().mean() > 0.9  # objects are mostly visible


def test_same_seed_same_scenes_and_seed_matters():
    world = SpritesWorld(image_size=32, n_objects=3)
    a, b, c = sample(world), sample(world), sample(world, seed=1)
    for name in SpritesBatch._fields:
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.x, c.x)


def test_rendering_does_not_depend_on_the_chunking(monkeypatch):
    from identifiable.worlds import sprites

    world = SpritesWorld(image_size=32, n_objects=2, shapes=SHAPES)
    whole = sample(world, n=40)
    monkeypatch.setattr(sprites, "_CHUNK_PIXELS", 3 * 2 * 32 * 32)  # chunks of 3 scenes
    chunked = sample(world, n=40)
    torch.testing.assert_close(whole.x, chunked.x, rtol=0, atol=1e-6)
    torch.testing.assert_close(whole.masks, chunked.masks, rtol=0, atol=1e-6)


@pytest.mark.parametrize("occlusion", ["soft", "hard"])
def test_image_is_the_mask_weighted_sum_of_colours(occlusion):
    background = (0.1, 0.2, 0.3)
    world = SpritesWorld(image_size=32, n_objects=4, background=background, occlusion=occlusion)
    batch = sample(world, n=16)
    colours = hsv_to_rgb(batch.hue)  # (n, K, 3)
    expected = torch.einsum("nkc,nkhw->nchw", colours, batch.masks)
    expected += (1 - batch.masks.sum(1, keepdim=True)) * torch.tensor(background).view(1, 3, 1, 1)
    torch.testing.assert_close(batch.x, expected, rtol=0, atol=1e-5)
    if occlusion == "hard":
        assert set(batch.masks.unique().tolist()) <= {0.0, 1.0}
    else:  # anti-aliased edges: some fractional coverage
        assert ((batch.masks > 0.05) & (batch.masks < 0.95)).any()


def test_later_objects_occlude_earlier_ones():
    world = SpritesWorld(image_size=32, n_objects=2, shapes=("square",), occlusion="hard")
    shape = torch.zeros((1, 2), dtype=torch.long)
    same = torch.tensor([[0.5, 0.5]])
    images, masks = world.render(
        shape, same, same, torch.tensor([[0.2, 0.1]]), torch.zeros(1, 2), torch.tensor([[0.0, 0.5]])
    )
    _, big_alone = single(world, scale=0.2)
    _, small_alone = single(world, scale=0.1)
    # the small square on top is fully visible; the big one only where the small one is not
    torch.testing.assert_close(masks[0, 1], small_alone[0, 0])
    torch.testing.assert_close(masks[0, 0], big_alone[0, 0] - small_alone[0, 0])
    assert small_alone.sum() > 0 and (masks[0, 0] * masks[0, 1]).sum() == 0
    centre = images[0, :, 16, 16]
    torch.testing.assert_close(centre, hsv_to_rgb(torch.tensor(0.5)))  # cyan object on top
    corner_of_big = images[0, :, 16, 12]
    torch.testing.assert_close(corner_of_big, hsv_to_rgb(torch.tensor(0.0)))  # red below


def test_position_x_moves_the_mask_centroid_and_scale_grows_the_area():
    world = SpritesWorld(image_size=64, shapes=SHAPES)
    columns = torch.arange(64, dtype=torch.float32) + 0.5
    for name in SHAPES:
        centroids, areas = [], []
        for x in (0.3, 0.45, 0.6, 0.75):
            _, mask = single(world, shape=name, position_x=x, rotation=0.3)
            centroids.append(float((mask[0, 0].sum(0) * columns).sum() / mask.sum()) / 64)
        for scale in (0.08, 0.12, 0.16, 0.2):
            _, mask = single(world, shape=name, scale=scale)
            areas.append(float(mask.sum()))
        assert centroids == pytest.approx([0.3, 0.45, 0.6, 0.75], abs=0.02), name
        assert all(a < b for a, b in zip(areas, areas[1:], strict=False)), name


def test_circle_area_matches_pi_r_squared_and_rotation_turns_a_square():
    world = SpritesWorld(image_size=64, shapes=("circle", "square"))
    _, mask = single(world, shape="circle", scale=0.25)
    assert float(mask.sum()) == pytest.approx(math.pi * 16**2, rel=0.01)
    _, upright = single(world, shape="square")
    _, turned = single(world, shape="square", rotation=math.pi / 4)
    _, quarter = single(world, shape="square", rotation=math.pi / 2)
    assert float(turned.sum()) == pytest.approx(float(upright.sum()), rel=0.02)  # same area
    assert float((upright - turned).abs().sum()) > 50  # ... different pixels
    torch.testing.assert_close(upright, quarter, rtol=0, atol=1e-4)  # 4-fold symmetry


def test_hue_sets_the_colour_and_min_objects_hides_slots():
    world = SpritesWorld(image_size=32, occlusion="hard")
    images, _ = single(world, hue=1 / 3)  # green
    torch.testing.assert_close(images[0, :, 16, 16], torch.tensor([0.0, 1.0, 0.0]))
    varying = SpritesWorld(image_size=32, n_objects=4, min_objects=1)
    batch = sample(varying, n=200)
    counts = batch.present.sum(1)
    assert counts.min() == 1 and counts.max() == 4
    assert (batch.masks.sum((2, 3))[~batch.present] == 0).all()
    assert (batch.present[:, :-1] >= batch.present[:, 1:]).all()  # the first slots are shown


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 4}, "image_size"),
        ({"n_objects": 0}, "n_objects"),
        ({"n_objects": 2, "min_objects": 3}, "min_objects"),
        ({"shapes": ("square", "hexagon")}, "shapes"),
        ({"shapes": ()}, "shapes"),
        ({"position_x_range": (0.8, 0.2)}, "position_x_range"),
        ({"scale_range": (0.0, 0.2)}, "scale_range"),
        ({"hue_range": (0.0, 2.0)}, "hue_range"),
        ({"saturation": 1.5}, "saturation"),
        ({"background": (0, 0)}, "background"),
        ({"occlusion": "none"}, "occlusion"),
    ],
)
def test_bad_settings_raise_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        SpritesWorld(**kwargs)
    assert "\n" not in str(error.value)


def test_bad_sample_size_and_factor_shapes_raise():
    world = SpritesWorld()
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive int"):
            world.sample(n, generator=torch.Generator())
    with pytest.raises(ValueError, match="position_x must have shape"):
        world.render(torch.zeros((2, 1), dtype=torch.long), *[torch.zeros(2)] * 5)
