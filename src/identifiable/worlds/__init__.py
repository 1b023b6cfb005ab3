"""Ground-truth worlds: latent spaces, mixing functions and the worlds built from them.

Every world follows one interface (:class:`identifiable.worlds.base.World`):

    batch = world.sample(n, generator=torch.Generator().manual_seed(0))

* ``sample(n, *, generator)``: ``n`` draws; the keyword-only ``torch.Generator`` is the only
  source of the sample's randomness (no global random state, no numpy ``rng``).
* Observations are always ``batch.x`` (images for sprites, [X, T, Y] for PLR); the truth is
  ``batch.z`` where it is one latent vector, or named fields (sprites' ``position_x``, ``hue``;
  PLR's ``theta``, ``treatment_noise``).
* Seeds, one convention: the world's ``seed`` field fixes its *structure* — what stays the same
  across calls (mixing weights, PLR coefficients A, b, θ, cluster centres, the split assignment of
  a finite world); the ``generator`` argument draws the *samples*. ``world.sample(n,
  generator=g)`` with the same world and the same generator state always gives the same batch.
* Finite worlds (:class:`identifiable.worlds.finite.FiniteWorld`) also expose named, seeded splits
  ``split(name)``, ``name`` in :data:`identifiable.worlds.base.SPLITS` = train, validation, test,
  ood, all; their ``sample`` draws rows of train.

Modules: ``base`` (protocol, batches, split names), ``latents`` and ``mixing`` (z ~ p(z), x = g(z)),
``world`` (LatentWorld), ``clusters``, ``linear_ica``, ``plr``, ``sprites``, ``finite``.
"""
