"""A World: a latent space (marginal + positive-pair conditional) seen through a mixing g.

    z ~ p(z),  z̃ ~ p(z̃ | z),  x = g(z),  x̃ = g(z̃)

This is the generative model of Zimmermann et al. (2021), "Contrastive Learning Inverts the Data
Generating Process", arXiv:2102.08850, Sec. 3. ``sample`` returns the truth with the data
(disentanglement_lib's sample_factors/sample_observations idea, without its globals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from identifiable.worlds.base import Batch, PairBatch
from identifiable.worlds.latents import LatentSpace, SphereSpace
from identifiable.worlds.mixing import LeakyMLPMixing, Mixing

__all__ = ["Batch", "LatentWorld", "PairBatch"]  # Batch, PairBatch live in worlds.base


@dataclass(frozen=True)
class LatentWorld:
    """Latents from ``space``, observed through ``mixing``; randomness from the caller's generator.

    >>> world = LatentWorld(SphereSpace(n_latents=10, kappa=10.0), LeakyMLPMixing(n_layers=3))
    >>> batch = world.pairs(512, generator=torch.Generator().manual_seed(0))
    """

    space: LatentSpace = field(default_factory=SphereSpace)
    mixing: Mixing = field(default_factory=LeakyMLPMixing)

    @property
    def n_latents(self) -> int:
        return self.space.n_latents

    def observe(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z)."""
        return self.mixing.build(self.space.n_latents)(z)

    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        z = self.space.marginal(n, generator=generator)
        return Batch(z, self.observe(z))

    def pairs(self, n: int, *, generator: torch.Generator) -> PairBatch:
        z = self.space.marginal(n, generator=generator)
        z_pos = self.space.conditional(z, generator=generator)
        both = self.observe(torch.cat([z, z_pos]))
        return PairBatch(z, z_pos, both[:n], both[n:])
