"""The training-loop helpers shared by the learners."""

import pytest
import torch

from identifiable.learners._loop import on_device, seeded_generators


def test_seeded_generators_are_three_seeds_in_a_row():
    gens = seeded_generators(7)
    assert [g.initial_seed() for g in gens] == [7, 8, 9]
    again = seeded_generators(7)
    for a, b in zip(gens, again, strict=True):
        assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b))


def test_on_device_keeps_the_cpu_generator():
    generator = torch.Generator().manual_seed(3)
    assert on_device(generator, torch.device("cpu")) is generator
    assert on_device(generator, "cpu") is generator


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_device_seeds_a_cuda_generator_like_the_cpu_one():
    first = on_device(torch.Generator().manual_seed(3), torch.device("cuda"))
    second = on_device(torch.Generator().manual_seed(3), torch.device("cuda"))
    assert first.device.type == "cuda" and first.initial_seed() == 3
    draw = dict(device="cuda")
    assert torch.equal(
        torch.randn(8, generator=first, **draw), torch.randn(8, generator=second, **draw)
    )
