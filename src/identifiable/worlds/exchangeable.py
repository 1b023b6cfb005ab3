"""Bivariate exchangeable (multi-environment) data: the ground truth of causal direction from
non-i.i.d. data.

Guo, Tóth, Schölkopf, Huszár (2023), "Causal de Finetti: On the Identification of Invariant
Causal Structure in Exchangeable Data", NeurIPS, arXiv:2203.15756; Reizinger, Guo, Huszár,
Schölkopf, Brendel (2025), "Identifiable Exchangeable Mechanisms for Causal Structure and
Representation Learning", ICLR, arXiv:2406.14302 (IEM). Generator as the official code
(syguo96/Causal-de-Finetti and the fork rpatrik96/Causal-de-Finetti,
``experiments/synthetic_data_generation.py``, read for it): per environment e = 1 … E a cause
parameter θ_e and a mechanism parameter ψ_e, ``samples`` draws per environment,

    θ_e, ψ_e ~ U[−1, 1]                  (or one value shared by every environment, see below)
    N₀ ~ Laplace(θ_e, b),  N₁ ~ Laplace(ψ_e, b)        (b = ``laplace_scale``, the reference's 1)
    (X, Y) = A (N₀, N₁) + m_e · B (N₀², N₁²),  B = c (A − I),  c ~ U{1 … 9}

with A, per structure (a_ij ~ U{1 … 9}): X → Y: [[1, 0], [a₂₁, a₂₂]]; Y → X: [[a₁₁, a₁₂], [0, 1]];
independent: I. m_e ∈ {0, 1} switches the quadratic part of the mechanism on in half the
environments (E // 2 chosen without replacement), as the reference.

``variability`` says which parameters vary across environments (IEM's relaxation: either
suffices): ``both`` (Causal de Finetti's setting), ``cause`` (θ_e varies, ψ is one draw for
all environments), ``mechanism`` (ψ_e varies, θ shared) and ``none`` (i.i.d. data: both shared).
Deviations from the fork, stated: its "cause-only" and "mechanism-only" modes hold the fixed
parameter constant *within* each environment but still draw it per environment, and its
"both" mode drops the Laplace draw so the two samples of an environment are identical; here a
fixed parameter is one value for every environment (IEM's delta prior) and ``both`` is the
original Causal de Finetti generator. The quadratic switch m_e is part of the mechanism: it
varies per environment only when the mechanism does (``both``, ``mechanism``); otherwise one
coin decides it for every environment (``switch=False`` turns it off altogether).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch

__all__ = ["STRUCTURES", "VARIABILITY", "BivariateExchangeableWorld", "ExchangeableSample"]

STRUCTURES: tuple[str, ...] = ("x->y", "y->x", "independent")
VARIABILITY: tuple[str, ...] = ("both", "cause", "mechanism", "none")


class ExchangeableSample(NamedTuple):
    """One data set: ``x``, ``y`` of shape (environments, samples) and its structure's index in
    :data:`STRUCTURES`."""

    x: np.ndarray
    y: np.ndarray
    structure: int

    def pooled(self) -> np.ndarray:
        """(environments · samples, 2): every draw as a row [x, y], environments forgotten (what
        the reference's baselines get)."""
        return np.stack([self.x.reshape(-1), self.y.reshape(-1)], axis=1)


def _laplace(loc: np.ndarray, scale: float, generator: torch.Generator) -> np.ndarray:
    """Laplace(loc, scale) by the inverse CDF of float64 uniforms."""
    u = torch.rand(loc.shape, generator=generator, dtype=torch.float64).numpy() - 0.5
    return loc - scale * np.sign(u) * np.log1p(-2 * np.abs(u))


def _integers(shape: tuple[int, ...], generator: torch.Generator) -> np.ndarray:
    return torch.randint(1, 10, shape, generator=generator).numpy().astype(float)


@dataclass(frozen=True)
class BivariateExchangeableWorld:
    """Exchangeable bivariate data sets (see the module docstring).

    n_environments: environments E per data set (≥ 4).
    samples:        draws per environment (≥ 2; Causal de Finetti compares two).
    variability:    ``both``, ``cause``, ``mechanism`` or ``none`` (i.i.d.).
    structure:      ``random`` (uniform over :data:`STRUCTURES` per data set, as the reference)
                    or one of :data:`STRUCTURES`.
    laplace_scale:  scale b of the Laplace noise around each parameter (the reference's 1).
    switch:         the quadratic part of the mechanism in half the environments (reference).

    >>> world = BivariateExchangeableWorld(n_environments=300)
    >>> data = world.sample(generator=torch.Generator().manual_seed(0))
    >>> data.x.shape, STRUCTURES[data.structure] in STRUCTURES
    ((300, 2), True)
    """

    n_environments: int = 300
    samples: int = 2
    variability: Literal["both", "cause", "mechanism", "none"] = "both"
    structure: Literal["random", "x->y", "y->x", "independent"] = "random"
    laplace_scale: float = 1.0
    switch: bool = True

    def __post_init__(self) -> None:
        for name, low in (("n_environments", 4), ("samples", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.variability not in VARIABILITY:
            raise ValueError(
                f"variability must be one of {', '.join(VARIABILITY)}, got {self.variability!r}"
            )
        if self.structure not in ("random", *STRUCTURES):
            raise ValueError(
                f"structure must be 'random' or one of {', '.join(STRUCTURES)}, "
                f"got {self.structure!r}"
            )
        scale = self.laplace_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
            raise ValueError(f"laplace_scale must be a number > 0, got {scale!r}")

    def sample(self, *, generator: torch.Generator) -> ExchangeableSample:
        """One data set: a structure, its weights, the parameters and the draws."""
        e, m = self.n_environments, self.samples
        if self.structure == "random":
            structure = int(torch.randint(3, (1,), generator=generator))
        else:
            structure = STRUCTURES.index(self.structure)
        weights = _integers((2, 2), generator)
        if structure == 0:
            a = np.array([[1.0, 0.0], [weights[1, 0], weights[1, 1]]])
        elif structure == 1:
            a = np.array([[weights[0, 0], weights[0, 1]], [0.0, 1.0]])
        else:
            a = np.eye(2)
        c = float(_integers((1,), generator)[0])
        varies = {
            "cause": self.variability in ("both", "cause"),
            "mechanism": self.variability in ("both", "mechanism"),
        }
        params = np.empty((2, e))
        for row, part in enumerate(("cause", "mechanism")):
            draws = torch.rand(e if varies[part] else 1, generator=generator, dtype=torch.float64)
            params[row] = (2 * draws - 1).numpy()  # U[−1, 1], broadcast when shared
        noise = _laplace(np.repeat(params[:, :, None], m, axis=2), self.laplace_scale, generator)
        mask = np.zeros(e)
        if self.switch and varies["mechanism"]:
            mask[torch.randperm(e, generator=generator)[: e // 2].numpy()] = 1.0
        elif self.switch:
            mask[:] = float(torch.rand(1, generator=generator)) < 0.5
        linear = np.einsum("ij,jes->ies", a, noise)
        quadratic = np.einsum("ij,jes->ies", c * (a - np.eye(2)), noise**2) * mask[None, :, None]
        data = linear + quadratic
        return ExchangeableSample(data[0], data[1], structure)
