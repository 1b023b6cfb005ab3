"""The object-centric metrics' contract beyond their headline meaning: what each argument and
default does, invariance to an affine map of each inferred coordinate (the readout standardises),
seeded determinism, where mapped slots are placed, which kernel ridge models are fitted, and
compositional contrast as a mean over at most ``max_scenes`` scenes.

Small data on purpose (kernel ridge is cubic in the slots): at most 120 scenes of 2–3 slots, or
1 001 scenes of one slot where a default of 1 000 scenes must be exceeded.
"""

import numpy as np
import pytest
import torch

from identifiable.metrics import slots as slots_module
from identifiable.metrics.reconstruction import reconstruction_r2
from identifiable.metrics.slots import (
    _subsample,
    compositional_contrast,
    decoder_r2,
    map_true_slots,
    slot_identifiability,
)

B = np.array([[1.0, 2.0], [-1.0, 1.0]])


def encode(z):
    """A smooth invertible map per slot (shared): m = 2 latents → d = 4 coordinates."""
    return np.concatenate([np.tanh(z @ B), z**2 + z], axis=-1)


def clean_scenes(n=80, k=3, seed=0):
    z = np.random.default_rng(seed).random((n, k, 2))
    return z, encode(z)


def shuffle_slots(h, seed):
    """Each scene's slots in an order of its own."""
    rng = np.random.default_rng(seed)
    order = np.stack([rng.permutation(h.shape[1]) for _ in range(len(h))])
    return np.take_along_axis(h, order[:, :, None], axis=1)


def noisy_scenes():
    """60 scenes of 3 slots whose slots carry their object under heavy noise: the per-scene
    matching keeps moving from one round of refitting to the next."""
    rng = np.random.default_rng(0)
    z = rng.random((60, 3, 2))
    h = np.concatenate([np.tanh(z @ B), z**2], -1) + 0.5 * rng.standard_normal((60, 3, 4))
    return z, h


def one_slot_scenes(n=1001):
    rng = np.random.default_rng(0)
    z = rng.random((n, 1, 1))
    h = np.concatenate([np.tanh(2 * z), z**2], -1) + 0.05 * rng.standard_normal((n, 1, 2))
    return z, h


W = torch.tensor(np.random.default_rng(3).standard_normal((4, 5)), dtype=torch.float32)


def decode(slots):
    """A fixed additive decoder (n, K, 4) → (n, 5)."""
    return torch.tanh(slots @ W).sum(1)


def score(*args, **kwargs):
    return slot_identifiability(*args, **kwargs)["slot_identifiability"]


# -- inputs ----------------------------------------------------------------------------------------
Z, H = clean_scenes(20, 2)
Z_NEW = np.random.default_rng(9).random((6, 2, 2))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: slot_identifiability(Z[:, 0], H), r"^z_true must have shape \(n, K, d\)"),
        (lambda: slot_identifiability(Z, H[:, 0]), r"^z_hat must have shape \(n, K, d\)"),
        (lambda: slot_identifiability([["a"] * 3] * 9, H), "^z_true must be a numeric array"),
        (lambda: slot_identifiability(Z[:7], H[:7]), "^z_true needs at least 8 scenes, got 7$"),
        (lambda: slot_identifiability(Z, H[:, :1]), "^z_true and z_hat must have the same"),
        (
            lambda: slot_identifiability(Z, H, z_true_ood=Z, z_hat_ood=H[:9]),
            "^z_true_ood and z_hat_ood must have the same scenes and slots",
        ),
        (lambda: slot_identifiability(Z, H, z_true_ood=Z), r"^z_hat_ood must have shape"),
        (lambda: slot_identifiability(Z, H, z_hat_ood=H), r"^z_true_ood must have shape"),
        (lambda: map_true_slots(Z, H, Z_NEW[:, 0]), r"^z_true_ood must have shape \(n, K, d\)"),
        (lambda: map_true_slots(Z, H, Z_NEW[:, :1]), r"^z_true_ood must have shape \(n, 2, 2\)"),
        (lambda: compositional_contrast(decode, H[:, 0]), r"^z_hat must have shape \(n, K, d\)"),
    ],
)
def test_each_argument_is_named_in_its_error(call, message):
    """Half an OOD pair is an error too, not silently ignored."""
    with pytest.raises(ValueError, match=message):
        call()


def test_eight_scenes_are_enough_and_one_new_scene_can_be_mapped():
    assert np.isfinite(score(Z[:8], H[:8]))
    assert map_true_slots(Z, H, Z_NEW[:1]).shape == (1, 2, 4)


def test_tensors_are_read_in_double_precision_even_when_they_require_grad():
    z32 = torch.tensor(Z, dtype=torch.float32)
    h32 = torch.tensor(H, dtype=torch.float32, requires_grad=True)
    expected = score(z32.double().numpy(), h32.detach().double().numpy())
    assert score(z32, h32) == expected


def test_subsampling_is_seeded_without_replacement_and_keeps_rows_paired():
    a = np.arange(10)[:, None, None] * np.ones((1, 2, 3))
    b = -a
    kept_a, kept_b = _subsample([a, b], 9, 0)
    rows = kept_a[:, 0, 0].astype(int)
    assert len(rows) == 9 and len(set(rows)) == 9
    assert np.array_equal(kept_b, -kept_a)
    assert np.array_equal(_subsample([a, b], 9, 0)[0], kept_a)
    dropped = {({*range(10)} - {*_subsample([a], 9, seed)[0][:, 0, 0].astype(int)}).pop()
               for seed in range(8)}  # fmt: skip
    assert len(dropped) > 1  # which row is left out depends on the seed
    assert _subsample([a, b], 10, 0)[0] is a  # n ≤ max_scenes: all rows, untouched


# -- invariances and determinism ------------------------------------------------------------------
def test_scores_do_not_change_under_an_affine_map_of_each_inferred_coordinate():
    """The readout standardises every inferred coordinate (its own mean and sd, constant ones
    left at scale 1), so rescaling and shifting coordinates changes nothing. Slots are shuffled
    per scene, so the matching has to use the standardised coordinates too."""
    z, h = clean_scenes(80, 3)
    z_ood, h_ood = clean_scenes(40, 3, seed=1)
    h, h_ood = shuffle_slots(h, 1), shuffle_slots(h_ood, 2)
    scale, shift = np.array([1e3, 1e-3, 0.2, 30.0]), np.array([500.0, -3.0, 0.0, 7.0])
    plain = slot_identifiability(z, h, z_true_ood=z_ood, z_hat_ood=h_ood)
    moved = slot_identifiability(
        z, h * scale + shift, z_true_ood=z_ood, z_hat_ood=h_ood * scale + shift
    )
    assert plain["slot_identifiability"] > 0.85 and plain["slot_identifiability_ood"] > 0.85
    for name, value in plain.items():
        assert moved[name] == pytest.approx(value, abs=1e-6)
    constant = np.concatenate([h, np.full((80, 3, 1), 0.5)], -1)  # sd exactly 0
    assert score(z, constant) > 0.9


def test_results_are_fixed_by_random_state_even_when_scenes_are_subsampled():
    z, h = clean_scenes(120, 2)
    z_ood, h_ood = clean_scenes(120, 2, seed=1)
    kwargs = dict(z_true_ood=z_ood, z_hat_ood=h_ood, max_scenes=60)
    first = slot_identifiability(z, h, **kwargs)
    assert slot_identifiability(z, h, **kwargs) == first
    assert slot_identifiability(z, h, **kwargs, random_state=1) != first
    mapped = map_true_slots(z, h, Z_NEW, max_scenes=60)
    assert torch.equal(map_true_slots(z, h, Z_NEW, max_scenes=60), mapped)
    x = decode(torch.tensor(encode(Z_NEW), dtype=torch.float32))
    r2 = decoder_r2(decode, z, h, Z_NEW, x, max_scenes=60)
    assert decoder_r2(decode, z, h, Z_NEW, x, max_scenes=60) == r2


def test_the_held_out_part_is_a_test_size_share_of_the_scenes_but_at_least_two():
    z, h = clean_scenes(100, 2)
    two = score(z, h, test_size=0.02)
    assert score(z, h, test_size=0.005) == two  # 0.5 scenes → 2
    assert score(z, h, test_size=0.03) != two
    assert score(z, h) == score(z, h, test_size=0.25) != score(z, h, test_size=0.5)


# -- defaults and their wiring ---------------------------------------------------------------------
def test_the_defaults_are_1000_scenes_two_rounds_and_random_state_zero():
    z, h = one_slot_scenes()
    explicit = dict(max_scenes=1000, rounds=2, random_state=0)
    default = score(z, h)
    assert default == score(z, h, **explicit)
    assert default != score(z, h, max_scenes=1001)
    assert default != score(z, h, random_state=1)
    new = z[:5, :, :]
    mapped = map_true_slots(z, h, new)
    assert torch.equal(mapped, map_true_slots(z, h, new, **explicit))
    assert not torch.equal(mapped, map_true_slots(z, h, new, max_scenes=1001))
    assert not torch.equal(mapped, map_true_slots(z, h, new, random_state=1))
    # two rounds: they matter where the matching still moves
    zn, hn = noisy_scenes()
    assert score(zn, hn) == score(zn, hn, rounds=2) != score(zn, hn, rounds=3)
    mapped = map_true_slots(zn, hn, zn[:4])
    assert torch.equal(mapped, map_true_slots(zn, hn, zn[:4], rounds=2))
    assert not torch.equal(mapped, map_true_slots(zn, hn, zn[:4], rounds=3))


def test_decoder_r2_renders_the_mapped_slots_with_its_own_settings():
    """decoder_r2 = R²_vw(x, decode(map_true_slots(...))) with the same max_scenes, rounds and
    random_state, whose defaults are map_true_slots' own."""
    decode_one = lambda s: torch.tanh(s @ W[:2]).sum(1)  # noqa: E731
    z, h = one_slot_scenes()
    new = np.random.default_rng(4).random((30, 1, 1))
    x = decode_one(torch.tensor(np.concatenate([np.tanh(2 * new), new**2], -1)).float())

    def by_hand(z, h, new, x, decoder, **kwargs):
        return reconstruction_r2(x, decoder(map_true_slots(z, h, new, **kwargs)))

    default = decoder_r2(decode_one, z, h, new, x)
    assert default == by_hand(z, h, new, x, decode_one)
    fewer = decoder_r2(decode_one, z, h, new, x, max_scenes=400, random_state=3)
    assert fewer == by_hand(z, h, new, x, decode_one, max_scenes=400, random_state=3) != default
    zn, hn = noisy_scenes()
    x = decode(torch.tensor(hn[:20], dtype=torch.float32))
    by_rounds = {r: decoder_r2(decode, zn, hn, zn[:20], x, rounds=r) for r in (1, 3)}
    for rounds, value in by_rounds.items():
        assert value == by_hand(zn, hn, zn[:20], x, decode, rounds=rounds)
    default = decoder_r2(decode, zn, hn, zn[:20], x)
    assert default == by_hand(zn, hn, zn[:20], x, decode) != by_rounds[3]


def test_one_round_starts_from_the_best_global_permutation():
    """With every scene's slots in one fixed (non-identity) order, the linear start finds that
    order, so a single round of the readout already scores ≈ 1."""
    z, h = clean_scenes(80, 3)
    for order in ([2, 0, 1], [1, 2, 0]):
        assert score(z, h[:, order], rounds=1) > 0.95


# -- which models are fitted -----------------------------------------------------------------------
class Spy(slots_module.KernelRidge):
    calls: list = []
    predicted: list = []

    def fit(self, x, y):
        Spy.calls.append((self.alpha, self.kernel, self.gamma, len(x)))
        return super().fit(x, y)

    def predict(self, x):
        Spy.predicted.append(np.array(x))
        return super().predict(x)


def test_the_readout_searches_its_grid_once_then_refits_each_round(monkeypatch):
    """α ∈ {1e-3, 1e-2, 1e-1} × γ ∈ {0.1, 0.5, 2}/d (RBF) on the first 80 % of the training
    scenes, scored on the rest; each round refits on all training slots with the winner. The map
    M of map_true_slots is RBF kernel ridge with α = 1e-3, γ = 0.5/m on all matched slots."""
    monkeypatch.setattr(slots_module, "KernelRidge", Spy)
    z, h = clean_scenes(40, 2)  # 30 training scenes, 24 for the search; d = 4
    Spy.calls = []
    score(z, h, rounds=2)
    grid = [(a, "rbf", g, 48) for a in (1e-3, 1e-2, 1e-1) for g in (0.1 / 4, 0.5 / 4, 2.0 / 4)]
    assert Spy.calls[:9] == grid
    refits = Spy.calls[9:]
    assert len(refits) == 2 and refits[0] == refits[1]
    alpha, kernel, gamma, rows = refits[0]
    assert (alpha, kernel, gamma, rows) in [(a, k, g, 60) for a, k, g, _ in grid]
    # nothing to choose between (constant latents: every candidate's R² is 0): the first is kept
    Spy.calls = []
    score(np.full((40, 2, 2), 0.5), h, rounds=1)
    assert Spy.calls[9] == (1e-3, "rbf", 0.1 / 4, 60)
    # map_true_slots: the readout (9 + 2 fits), then M
    Spy.calls = []
    map_true_slots(z, h, Z_NEW)
    assert len(Spy.calls) == 12 and Spy.calls[-1] == (1e-3, "rbf", 0.5 / 2, 80)


# -- placement of mapped slots ---------------------------------------------------------------------
def test_mapped_slots_go_where_their_true_slot_is_matched_most_often():
    """Every scene's inferred slots hold the objects in reverse order: M(z_k) goes to slot K−1−k."""
    z, h = clean_scenes(80, 3)
    new = np.random.default_rng(5).random((10, 3, 2))
    mapped = map_true_slots(z, h[:, ::-1], new).numpy()
    assert np.abs(mapped - encode(new)[:, ::-1]).max() < 0.05


def test_mapped_slots_keep_their_own_position_when_two_would_collide():
    """Inferred slot of true slots (0, 1, 2): (0, 1, 2) in 40 % of scenes, (1, 0, 2) and (2, 0, 1)
    in 30 % each — true slots 0 and 1 are both most often at position 0, so slot k stays at k."""
    z, h = clean_scenes(100, 3)
    where = np.array([[0, 1, 2]] * 40 + [[1, 0, 2]] * 30 + [[2, 0, 1]] * 30)
    shuffled = np.empty_like(h)
    np.put_along_axis(shuffled, where[:, :, None], h, axis=1)  # inferred slot where[i, k] ← k
    new = np.random.default_rng(6).random((10, 3, 2))
    mapped = map_true_slots(z, shuffled, new).numpy()
    assert np.abs(mapped - encode(new)).max() < 0.05


# -- compositional contrast ------------------------------------------------------------------------
def test_compositional_contrast_is_a_mean_over_the_first_64_scenes():
    v = torch.tensor(np.random.default_rng(7).standard_normal((8, 6)), dtype=torch.float32)

    def mixing(s):
        return torch.tanh(s.flatten(1) @ v)

    slots = torch.tensor(np.random.default_rng(8).standard_normal((70, 2, 4)), dtype=torch.float32)
    per_scene = [compositional_contrast(mixing, slots[i : i + 1]) for i in range(3)]
    assert compositional_contrast(mixing, slots[:3]) == pytest.approx(np.mean(per_scene), rel=1e-5)
    assert compositional_contrast(mixing, slots) == compositional_contrast(mixing, slots[:64])
    assert compositional_contrast(mixing, slots, max_scenes=65) != compositional_contrast(
        mixing, slots
    )


def test_compositional_contrast_of_one_slot_is_zero():
    """With one slot there is no pair of slots: the contrast is 0 for any decoder."""
    slots = torch.randn(5, 1, 4)
    assert compositional_contrast(lambda s: torch.tanh(s @ W).sum(1), slots) == 0.0


def test_without_a_scorable_validation_part_the_readout_falls_back_to_fixed_parameters(
    monkeypatch,
):
    """One slot, 8 scenes, test_size 0.7: 2 training scenes, 1 of them for validation — one row,
    whose R² is undefined (NaN), so no candidate wins and α = 1e-2, γ = 1/d are used."""
    monkeypatch.setattr(slots_module, "KernelRidge", Spy)
    z, h = one_slot_scenes(8)
    Spy.calls = []
    with pytest.warns(UserWarning, match="R\\^2 score is not well-defined"):
        score(z, h, test_size=0.7, rounds=1)
    assert Spy.calls[9] == (1e-2, "rbf", 1 / 2, 2)


def test_a_coordinate_constant_in_distribution_is_centred_but_not_scaled(monkeypatch):
    """Its sd is 0, so it is divided by 1: off distribution it enters the readout as x − c."""
    monkeypatch.setattr(slots_module, "KernelRidge", Spy)
    z, h = clean_scenes(40, 2)
    h = np.concatenate([h, np.full((40, 2, 1), 0.5)], -1)
    z_ood, h_ood = clean_scenes(12, 2, seed=1)
    offsets = np.random.default_rng(2).random((12, 2, 1))
    h_ood = np.concatenate([h_ood, 0.5 + offsets], -1)
    Spy.predicted = []
    slot_identifiability(z, h, z_true_ood=z_ood, z_hat_ood=h_ood, rounds=1)
    assert np.allclose(Spy.predicted[-1][:, -1], offsets.reshape(-1), atol=1e-12)
