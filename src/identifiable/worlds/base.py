"""The World protocol, the batches worlds return, and the split names of finite worlds.

A World is a ground-truth data-generating process: a fixed structure (drawn once from the world's
``seed``: mixing weights, coefficients, cluster centres, a split assignment) and a way to draw
data from it with the caller's randomness:

    batch = world.sample(n, generator=torch.Generator().manual_seed(0))
    batch.x      # (n, ...) the observations a learner sees
    batch.z      # (n, ...) the truth behind them, where the world has one latent vector
                 #          (worlds with named factors return them under their own names)

so the same world and the same generator state always give the same batch, and nothing reads a
global random state (disentanglement_lib's sample_factors/sample_observations idea, without its
globals). Finite worlds (:class:`~identifiable.worlds.finite.FiniteWorld`) also expose named,
seeded splits through ``split(name)``, with ``name`` one of :data:`SPLITS`.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

__all__ = [
    "SPLITS",
    "Batch",
    "PairBatch",
    "World",
    "draw_splits",
    "pick_split",
    "seeded_generator",
]

#: The split names every finite world uses: ``train`` (what a learner fits on), ``validation``
#: (model selection), ``test`` (held-out, same distribution), ``ood`` (rows held out of all three,
#: e.g. another region of latent space or longer prompts) and ``all`` (every row).
SPLITS: tuple[str, ...] = ("train", "validation", "test", "ood", "all")


class Batch(NamedTuple):
    """Truth and observations of n draws."""

    z: torch.Tensor  # (n, n_latents) true latents (or labels, for finite worlds of labels)
    x: torch.Tensor  # (n, n_observed) observations g(z)


class PairBatch(NamedTuple):
    """n positive pairs: latents z, z̃ ~ p(z̃ | z) and their observations."""

    z: torch.Tensor
    z_pos: torch.Tensor
    x: torch.Tensor
    x_pos: torch.Tensor


@runtime_checkable
class World(Protocol):
    """Anything with ``sample(n, *, generator) -> batch`` whose observations are ``batch.x``.

    ``generator`` is a :class:`torch.Generator` and the only source of the sample's randomness;
    the world's own ``seed`` (when it has one) fixes its structure and never changes per call.
    """

    def sample(self, n: int, *, generator: torch.Generator) -> Any: ...


def seeded_generator(*keys: int) -> torch.Generator:
    """A CPU generator seeded from a tuple of ints, e.g. ``(seed, n, k)`` for one cell of a grid.

    The keys are mixed by numpy's :class:`~numpy.random.SeedSequence`, so neighbouring tuples
    ((0, 500, 1) and (1, 500, 1)) give unrelated streams, unlike ``manual_seed(seed + n)``.
    """
    if not keys or any(
        isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0 for k in keys
    ):
        raise ValueError(f"seeded_generator needs one or more ints >= 0, got {keys!r}")
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def draw_splits(world: World, sizes: dict[str, int], seed: int) -> dict[str, Any]:
    """``world.sample`` once per named split, the i-th from ``seeded_generator(seed, i)``: the
    seeded train / validation / test draws of a sequence world."""
    return {
        name: world.sample(n, generator=seeded_generator(seed, i))
        for i, (name, n) in enumerate(sizes.items())
    }


def pick_split(splits: dict[str, Any], name: str) -> Any:
    """``splits[name]``, or a one-line error naming the splits there are."""
    if name not in splits:
        raise ValueError(f"split must be one of {', '.join(splits)}, got {name!r}")
    return splits[name]
