"""What the compositional world means: each renderer against a plain per-slot reference built from
the module docstring (the MLP formula and weight law; the sprite latents' ranges, shape order and
``no_overlap`` shift), the settings wired into the splits and samplers, fixed splits that depend
on the seed only, and the smallest valid settings.

Statistical tolerances (weight law): standard deviations of ≥ 800 entries within 15 %.
"""

import math

import pytest
import torch

from identifiable.worlds.compositional import CompositionalWorld, _slot_mlps, _split
from identifiable.worlds.sprites import SpritesWorld
from identifiable.worlds.supports import diagonal_distance, in_support

SMALL = dict(n_train=60, n_test=40)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# -- the vector renderer ---------------------------------------------------------------------------
def reference_mlp(world, z):
    """φ_k(z) = relu(W₂ leaky_relu(W₁(2z − 1) + b₁, 0.2) + b₂), slot by slot; for ``alpha`` the
    last channel is the opacity σ(·) instead of a ReLU."""
    alpha = world.composition == "alpha"
    c = world.channels + 1 if alpha else world.channels
    w1, b1, w2, b2 = _slot_mlps(
        world.seed, world.n_slots, world.slot_dim, world.hidden, c * world.pixels
    )
    out = torch.empty(len(z), world.n_slots, c, world.pixels)
    for k in range(world.n_slots):
        j = 0 if world.shared_renderer else k
        pre = (2 * z[:, k] - 1) @ w1[j].T + b1[j]
        hidden = torch.where(pre > 0, pre, 0.2 * pre)
        o = (hidden @ w2[j].T + b2[j]).view(len(z), c, world.pixels)
        if alpha:
            o = torch.cat([o[:, :-1].clamp_min(0), torch.sigmoid(o[:, -1:])], 1)
        out[:, k] = o if alpha else o.clamp_min(0)
    return out


@pytest.mark.parametrize(
    "settings",
    [
        dict(composition="occlude"),
        dict(composition="sum", n_slots=3, slot_dim=2, pixels=4, channels=2, hidden=8),
        dict(composition="alpha", pixels=6),
        dict(composition="alpha", shared_renderer=True, n_slots=3, pixels=5),
    ],
)
def test_the_vector_renderer_is_the_documented_mlp_slot_by_slot(settings):
    world = CompositionalWorld(**settings, **SMALL)
    z = torch.rand(7, world.n_slots, world.slot_dim, generator=gen(1))
    renders = world.render_slots(z)
    channels = world.channels + (world.composition == "alpha")
    assert renders.shape == (7, world.n_slots, channels, world.pixels)
    assert torch.allclose(renders, reference_mlp(world, z), atol=1e-5)
    assert world.observe(z).shape == (7, world.channels, world.pixels)
    if world.composition == "alpha":  # opacities strictly inside (0, 1): a sigmoid, not a ReLU
        opacity = renders[:, :, -1]
        assert bool(((opacity > 0) & (opacity < 1)).all())


def test_the_renderer_weights_follow_their_law_and_depend_on_the_seed_only():
    """W ~ N(0, 1/fan_in), b ~ N(0, 0.1²), one independent set per slot; the global RNG is
    neither used nor touched."""
    torch.manual_seed(0)
    state = torch.get_rng_state()
    w1, b1, w2, b2 = _slot_mlps.__wrapped__(11, 4, 25, 200, 300)
    assert torch.equal(torch.get_rng_state(), state)
    assert w1.shape == (4, 200, 25) and b1.shape == (4, 200)
    assert w2.shape == (4, 300, 200) and b2.shape == (4, 300)
    for weight, sd in ((w1, 1 / 5), (b1, 0.1), (w2, 1 / math.sqrt(200)), (b2, 0.1)):
        assert abs(float(weight.std()) / sd - 1) < 0.15
        assert abs(float(weight.mean())) < 0.15 * sd
        assert not torch.allclose(weight[0], weight[1])  # each slot its own function
    torch.manual_seed(1)
    again = _slot_mlps.__wrapped__(11, 4, 25, 200, 300)
    assert all(torch.equal(a, b) for a, b in zip((w1, b1, w2, b2), again, strict=True))
    other = _slot_mlps.__wrapped__(12, 4, 25, 200, 300)
    assert not torch.equal(other[0], w1)


def test_latents_are_read_as_float32_whatever_their_type():
    world = CompositionalWorld(**SMALL)
    z = torch.rand(5, 2, 5, generator=gen(2))
    x = world.observe(z)
    assert x.dtype == torch.float32
    assert torch.equal(world.observe(z.double()), x)
    assert torch.equal(world.observe(z.tolist()), x)


def test_latents_of_the_wrong_slot_size_are_refused():
    world = CompositionalWorld(**SMALL)
    for shape in ((3, 2, 4), (3, 3, 5)):
        with pytest.raises(ValueError, match=r"z must have shape \(n, 2, 5\)"):
            world.render_slots(torch.zeros(shape))


# -- the sprites renderer --------------------------------------------------------------------------
def reference_sprites(z, size, *, no_overlap=False):
    """Each slot alone through SpritesWorld, with the docstring's ranges and shape order:
    x ∈ [0.1, 0.9], y ∈ [0.2, 0.8], shape round(2z) (triangle, square, circle; out-of-range
    latents take the nearest end), scale ∈ [0.09, 0.22], hue ∈ [0.05, 0.95]; no_overlap shifts
    slot k's x latent by k/K (mod 1) and divides the scale latent by K + 1."""
    n, k, _ = z.shape
    sprites = SpritesWorld(image_size=size, n_objects=1, shapes=("triangle", "square", "circle"))
    images = torch.empty(n, k, 4, size, size)
    for i in range(n):
        for j in range(k):
            x, y, shape, scale, hue = (float(v) for v in z[i, j])
            if no_overlap:
                x, scale = (x + j / k) % 1.0, scale / (k + 1)
            image, mask = sprites.render(
                shape=torch.tensor([[min(max(round(2 * shape), 0), 2)]]),
                position_x=torch.tensor([[0.1 + 0.8 * x]]),
                position_y=torch.tensor([[0.2 + 0.6 * y]]),
                scale=torch.tensor([[0.09 + 0.13 * scale]]),
                rotation=torch.zeros(1, 1),
                hue=torch.tensor([[0.05 + 0.9 * hue]]),
            )
            images[i, j] = torch.cat([image[0], mask[0]])
    return images


Z_SPRITES = torch.tensor(
    [
        [[0.5, 0.3, 0.0, 1.0, 0.2], [0.8, 0.6, 0.5, 0.4, 0.7], [0.1, 0.9, 1.0, 0.7, 0.0]],
        [[0.3, 0.7, 0.2, 0.6, 0.9], [0.9, 0.1, -0.7, 0.9, 0.4], [0.6, 0.4, 1.6, 0.2, 0.5]],
    ]
)


@pytest.mark.parametrize("no_overlap", [False, True])
@pytest.mark.parametrize("composition", ["occlude", "alpha"])
def test_the_sprites_renderer_is_one_reference_sprite_per_slot(no_overlap, composition):
    world = CompositionalWorld(
        n_slots=3,
        renderer="sprites",
        image_size=16,
        composition=composition,
        no_overlap=no_overlap,
        support="orthogonal",
        **SMALL,
    )
    renders = world.render_slots(Z_SPRITES)
    expected = reference_sprites(Z_SPRITES, 16, no_overlap=no_overlap)
    if composition == "alpha":  # the sprite's coverage is its opacity
        assert renders.shape == (2, 3, 4, 16, 16)
        assert torch.allclose(renders, expected, atol=1e-6)
    else:
        assert renders.shape == (2, 3, 3, 16, 16)
        assert torch.allclose(renders, expected[:, :, :3], atol=1e-6)
    assert world.observe(Z_SPRITES).shape == (2, 3, 16, 16)


# -- settings --------------------------------------------------------------------------------------
def test_the_smallest_valid_settings_build_a_world():
    world = CompositionalWorld(
        n_slots=1, slot_dim=1, pixels=1, channels=1, hidden=1, n_train=1, n_test=1, seed=0
    )
    assert world.split("train").x.shape == (1, 1, 1)
    assert CompositionalWorld(renderer="sprites", image_size=8, n_train=1, n_test=1).split(
        "test"
    ).x.shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="image_size must be an int >= 8"):
        CompositionalWorld(renderer="sprites", image_size=7)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"n_slots": True}, "n_slots must be an int >= 1"),
        ({"pixels": 0}, "pixels must be an int >= 1"),
        ({"n_test": 0}, "n_test must be an int >= 1"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"support": "random", "n_slots": 1}, "n_slots >= 2"),
        ({"support": "random", "delta": 0.8}, "delta must be in"),
        ({"support": "orthogonal_gap", "planes": ((5, (0.0,) * 5),)}, "planes must be pairs"),
    ],
)
def test_each_bad_setting_is_refused_when_the_world_is_built(settings, message):
    with pytest.raises(ValueError, match=message):
        CompositionalWorld(**settings)


PLANES = ((0, (0.5, 0.25, 0.5, 0.25, 0.5)), (1, (0.75,) * 5))


@pytest.mark.parametrize("support", ["orthogonal", "orthogonal_gap"])
def test_custom_planes_are_the_ones_sampled_and_scored(support):
    world = CompositionalWorld(support=support, planes=PLANES, **SMALL)
    assert world.planes_used == PLANES
    train, ood = world.split("train").z, world.split("ood").z
    assert bool(in_support(train, support, planes=PLANES, tolerance=0.0).all())
    assert not bool(in_support(train, support, tolerance=0.0).any())  # not the default planes
    assert not bool(in_support(ood, support, planes=PLANES).any())
    fresh = world.sample(30, generator=gen(3)).z
    assert bool(in_support(fresh, support, planes=PLANES, tolerance=0.0).all())
    assert CompositionalWorld(**SMALL).planes_used == CompositionalWorld(**SMALL).planes_used
    assert len(CompositionalWorld(n_slots=3, **SMALL).planes_used) == 3


def test_delta_is_wired_into_the_diagonal_support_and_its_ood_set():
    world = CompositionalWorld(support="diagonal", delta=0.3, n_train=400, n_test=100)
    train = diagonal_distance(world.split("train").z)
    assert float(train.max()) <= 0.3 + 1e-6 and float(train.max()) > 0.25
    ood = diagonal_distance(world.split("ood").z)
    assert bool((ood > 0.3).any(1).all())


# -- samples and splits ----------------------------------------------------------------------------
def test_sample_draws_fresh_rows_of_the_training_support_from_the_callers_generator():
    world = CompositionalWorld(support="diagonal", **SMALL)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    batch = world.sample(25, generator=gen(4))
    assert torch.equal(torch.get_rng_state(), state)
    assert batch.z.shape == (25, 2, 5) and torch.equal(batch.x, world.observe(batch.z))
    assert bool(in_support(batch.z, "diagonal").all())
    assert torch.equal(batch.z, world.sample(25, generator=gen(4)).z)
    assert torch.equal(batch.z, world.sample_latents("train", 25, generator=gen(4)))
    everything = world.sample_latents("all", 25, generator=gen(4))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(everything, torch.rand(25, 2, 5, generator=gen(4)))


def test_splits_depend_on_the_seed_only_and_each_has_its_own_stream():
    """Recomputed from scratch (cache cleared) under another global RNG state, a split is the
    same; another seed gives other rows; train and test are different draws of one support."""
    world = CompositionalWorld(support="orthogonal", n_train=40, n_test=40)
    _split.cache_clear()
    torch.manual_seed(0)
    state = torch.get_rng_state()
    splits = {name: world.split(name) for name in ("train", "test", "ood", "all")}
    assert torch.equal(torch.get_rng_state(), state)
    _split.cache_clear()
    torch.manual_seed(1)
    for name, batch in splits.items():
        assert torch.equal(world.split(name).z, batch.z), name
    assert not torch.equal(splits["train"].z, splits["test"].z)
    other = CompositionalWorld(support="orthogonal", n_train=40, n_test=40, seed=1)
    assert not torch.equal(other.split("train").z, splits["train"].z)


def test_the_validation_split_is_empty_but_well_formed():
    world = CompositionalWorld(**SMALL)
    assert world.sizes == {"train": 60, "validation": 0, "test": 40, "ood": 40, "all": 40}
    validation = world.split("validation")
    assert validation.z.shape == (0, 2, 5) and validation.x.shape == (0, 3, 32)
