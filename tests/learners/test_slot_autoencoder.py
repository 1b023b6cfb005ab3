"""The slot autoencoder: additive vs monolithic decoders, the consistency loss's switch-on and
where its gradient goes, one-line errors."""

import pytest
import torch

from identifiable.learners.slot_autoencoder import SlotAutoencoder
from identifiable.losses.slots import matched_slot_distance, recombine_slots
from identifiable.worlds.compositional import CompositionalWorld

WORLD = CompositionalWorld(support="diagonal", composition="sum", shared_renderer=True, pixels=8,
                           n_train=128, n_test=32)  # fmt: skip
FAST = dict(slot_dim=4, hidden=16, epochs=4, eval_every=1, batch_size=32, device="cpu")


def test_the_additive_decoder_sums_one_function_of_each_slot_in_any_order():
    ae = SlotAutoencoder(**FAST).fit(WORLD)
    slots = ae.encode_slots(WORLD.split("test").x)
    assert slots.shape == (32, 2, 4)
    rendered = ae.decoder_.render_slots(slots).detach()
    assert torch.allclose(ae.decode(slots), rendered.sum(1), atol=1e-6)
    assert torch.allclose(ae.decode(slots.flip(1)), ae.decode(slots), atol=1e-6)
    mono = SlotAutoencoder(**FAST | {"decoder": "monolithic"}).fit(WORLD)
    slots = mono.encode_slots(WORLD.split("test").x)
    assert not torch.allclose(mono.decode(slots.flip(1)), mono.decode(slots), atol=1e-4)


def test_consistency_switches_on_at_its_epoch():
    ae = SlotAutoencoder(**FAST | {"consistency": True, "consistency_start": 3}).fit(WORLD)
    terms = [r["consistency_loss"] for r in ae.history_]
    assert terms[:2] == [0.0, 0.0] and all(t > 0 for t in terms[2:])
    plain = SlotAutoencoder(**FAST).fit(WORLD)
    # identical until the switch-on (same seed, same batches), different afterwards
    assert plain.history_[1]["loss"] == ae.history_[1]["loss"]
    assert plain.history_[3]["loss"] != ae.history_[3]["loss"]


def test_the_consistency_gradient_reaches_the_encoder_only():
    ae = SlotAutoencoder(**FAST).fit(WORLD)
    x = WORLD.split("train").x[:16]
    slots = ae.encoder_(x)
    mixed = recombine_slots(slots, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        scenes = ae.decoder_(mixed)
    term, _ = matched_slot_distance(mixed, ae.encoder_(scenes))
    for p in [*ae.encoder_.parameters(), *ae.decoder_.parameters()]:
        p.grad = None
    term.backward()
    assert all(p.grad is None for p in ae.decoder_.parameters())
    assert any(
        p.grad is not None and float(p.grad.abs().sum()) > 0 for p in ae.encoder_.parameters()
    )


def test_images_use_the_convolutional_encoder():
    world = CompositionalWorld(renderer="sprites", composition="sum", image_size=16,
                               no_overlap=True, n_train=32, n_test=8)  # fmt: skip
    ae = SlotAutoencoder(**FAST | {"epochs": 1}).fit(world)
    assert ae.transform(world.split("test").x).shape == (8, 8)
    assert ae.reconstruct(world.split("test").x).shape == (8, 3, 16, 16)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"consistency": True, "consistency_start": 9}, "after the last epoch"),
        ({"n_slots": 7}, "n_slots must be <= 6"),
        ({"decoder": "broadcast"}, "decoder must be"),
        ({"slot_dim": 0}, "slot_dim must be a positive int"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        SlotAutoencoder(**FAST | settings).fit(WORLD)


def test_decode_checks_the_slot_shape():
    ae = SlotAutoencoder(**FAST | {"epochs": 1}).fit(WORLD)
    with pytest.raises(ValueError, match=r"slots must have shape \(n, 2, 4\)"):
        ae.decode(torch.zeros(3, 8))
