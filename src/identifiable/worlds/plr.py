"""Partially linear regression (PLR) worlds: the ground truth for treatment-effect estimation.

    T = f(X) + η,        f(X) = σ(X) Aᵀ              (n × k treatments)
    Y = θᵀT + g(X) + ε,  g(X) = σ(X) b               (n outcomes)

with covariates X ∈ ℝᵈ, treatment noise η ∈ ℝᵏ and outcome noise ε ∈ ℝ mutually independent and
every coordinate i.i.d. from its family. σ is applied element-wise (identity gives the linear
model). The sources S = [X, η, ε] and the observations O = [X, T, Y]; for σ = identity,
O = M S with the lower block-triangular mixing

        ⎡ I        0    0 ⎤
    M = ⎢ A        I    0 ⎥ ,
        ⎣ θᵀA + bᵀ θᵀ   1 ⎦

which is what linear ICA inverts (Reizinger, Mackey, Brendel, Krishnan 2025, "Estimating Treatment
Effects with Independent Component Analysis", arXiv:2507.16467).

Two structural designs, chosen by ``support_size``:

* ``support_size == 0`` (Reizinger et al. 2025, code ``ica.py:generate_ica_data``): every entry of
  A is nonzero with probability ``treatment_density`` (0.4 in the 2025-07 code, 0.3 later), nonzero
  entries and b drawn from ``coefficient_distribution`` ("gaussian": N(0, 1)); b is dense.
* ``support_size == s > 0`` (Mackey, Syrgkanis, Zadik 2018, "Orthogonal Machine Learning: Power
  and Limitations", arXiv:1711.00342, demand experiment): T and Y depend on the same s randomly
  chosen covariates, coefficients U(−5, 5) ("uniform"); k = 1.

Noise families (``*_distribution`` with ``*_beta`` and ``*_scale``):
"gennorm" — generalized normal, density ∝ exp(−|x/scale|^β) (β = 1 Laplace, β = 2 Gaussian);
"gaussian" — N(0, scale²); "uniform" — U[−scale, scale]; "discrete" — Mackey et al.'s price
discount {0, −0.5, −2, −4} with probabilities {0.65, 0.2, 0.1, 0.05}, centred, times scale.

Sampling (all randomness from the ``torch.Generator`` handed to :meth:`PLRWorld.sample`; the
arithmetic in float64 numpy, which the causal estimators use). Each family is the inverse CDF of
float64 uniforms u ~ U[0, 1) (one per draw), except "gaussian" (``torch.randn``):

    gennorm   v = 2u − 1,  X = sign(v) · scale · P⁻¹(1/β, |v|)^(1/β)   (P: regularized lower
              incomplete gamma; |X/scale|^β ~ Gamma(1/β, 1), so β = 1 gives −log(1 − |v|))
    uniform   X = scale · (2u − 1)
    discrete  X = scale · (d_j − E d),  j = min{j : u < p_1 + … + p_j}

The structural parameters (A, b, θ, support) are a fixed function of the world's ``seed``; the
data come from the generator handed to :meth:`PLRWorld.sample`:

    >>> world = PLRWorld.reizinger2025(n_covariates=10, seed=0)
    >>> sample = world.sample(2000, generator=torch.Generator().manual_seed(0))
    >>> sample.X.shape, sample.T.shape, sample.Y.shape, sample.x.shape
    ((2000, 10), (2000, 1), (2000,), (2000, 12))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

import numpy as np
import torch
from scipy.special import expit, gammaincinv

__all__ = ["PAPER_THETA", "PLRSample", "PLRStructure", "PLRWorld", "sample_noise"]

Distribution = Literal["gennorm", "gaussian", "uniform", "discrete"]
Nonlinearity = Literal["identity", "leaky_relu", "relu", "tanh", "sigmoid"]

#: θ used by Reizinger et al. (2025) (``theta_choice='fixed'``), first k entries.
PAPER_THETA: tuple[float, ...] = (1.55, 0.65, -2.45, 1.75, -1.35)

_DISCOUNTS = np.array([0.0, -0.5, -2.0, -4.0])
_DISCOUNT_PROBABILITIES = np.array([0.65, 0.2, 0.1, 0.05])
_DISTRIBUTIONS = ("gennorm", "gaussian", "uniform", "discrete")
_NONLINEARITIES = ("identity", "leaky_relu", "relu", "tanh", "sigmoid")
_BELOW_ONE = np.nextafter(1.0, 0.0)  # keeps P⁻¹(a, |v|) finite when u = 0 gives |v| = 1


def sample_noise(
    distribution: str,
    beta: float,
    scale: float,
    size: tuple[int, ...],
    *,
    generator: torch.Generator,
) -> np.ndarray:
    """i.i.d. float64 draws of one noise family (formulas in the module docstring)."""
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}")
    if distribution == "gaussian":
        normal = torch.randn(
            size, generator=generator, dtype=torch.float64, device=generator.device
        )
        return scale * normal.cpu().numpy()
    u = torch.rand(size, generator=generator, dtype=torch.float64, device=generator.device)
    u = u.cpu().numpy()
    if distribution == "uniform":
        return scale * (2.0 * u - 1.0)
    if distribution == "discrete":
        values = _DISCOUNTS - _DISCOUNTS @ _DISCOUNT_PROBABILITIES
        index = np.searchsorted(np.cumsum(_DISCOUNT_PROBABILITIES), u, side="right")
        return scale * values[np.minimum(index, len(values) - 1)]
    v = 2.0 * u - 1.0  # gennorm: inverse CDF of |X| on |v|, the sign of v
    magnitude = gammaincinv(1.0 / beta, np.minimum(np.abs(v), _BELOW_ONE)) ** (1.0 / beta)
    return np.copysign(scale * magnitude, v)


def _activation(name: str, slope: float):
    if name == "identity":
        return lambda x: x
    if name == "leaky_relu":
        return lambda x: np.where(x >= 0, x, slope * x)
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return expit
    raise ValueError(f"nonlinearity must be one of {_NONLINEARITIES}, got {name!r}")


@dataclass(frozen=True)
class PLRStructure:
    """The fixed structural parameters of a world.

    treatment_coef: (k, d) A, so f(X) = σ(X) Aᵀ.   outcome_coef: (d,) b, so g(X) = σ(X) b.
    theta: (k,) treatment effects.                  support: covariates that enter f and g.
    """

    treatment_coef: np.ndarray
    outcome_coef: np.ndarray
    theta: np.ndarray
    support: np.ndarray


@dataclass(frozen=True)
class PLRSample:
    """One draw from a world: the observations and the truth behind them (float64 numpy).

    X: (n, d) covariates (also the covariate sources).  T: (n, k) treatments.  Y: (n,) outcome.
    treatment_noise: (n, k) η.  outcome_noise: (n,) ε.  theta: (k,) true effects.
    x: (n, d + k + 1) all observations [X, T, Y] (every world's ``.x``).
    z: (n, d + k + 1) the independent sources [X, η, ε] (for σ = identity, x = z Mᵀ).
    """

    X: np.ndarray
    T: np.ndarray
    Y: np.ndarray
    treatment_noise: np.ndarray
    outcome_noise: np.ndarray
    theta: np.ndarray

    @property
    def z(self) -> np.ndarray:
        """The sources S = [X, η, ε], shape (n, d + k + 1)."""
        return np.column_stack([self.X, self.treatment_noise, self.outcome_noise])

    @property
    def x(self) -> np.ndarray:
        """The observations O = [X, T, Y], shape (n, d + k + 1)."""
        return np.column_stack([self.X, self.T, self.Y])


@dataclass(frozen=True)
class PLRWorld:
    """Partially linear regression world  T = σ(X)Aᵀ + η,  Y = θᵀT + σ(X)b + ε.

    Reizinger, Mackey, Brendel, Krishnan (2025), arXiv:2507.16467 (ICA for treatment effects) and
    Mackey, Syrgkanis, Zadik (2018), arXiv:1711.00342 (higher-order orthogonal ML); formulas and
    designs in the module docstring. Presets: :meth:`reizinger2025`, :meth:`mackey2018`.

    n_covariates:             d, number of covariates X.
    n_treatments:             k, number of treatments T.
    theta:                    treatment effects; empty → ``theta_choice``.
    theta_choice:             "fixed" (the paper's (1.55, 0.65, −2.45, 1.75, −1.35)[:k], k ≤ 5),
                              "uniform" (U[0, 1)) or "gaussian" (N(0, 1)) from ``seed``.
    covariate_distribution:   family of X; with ``covariate_beta``, ``covariate_scale``.
    treatment_noise:          family of η; with ``treatment_beta``, ``treatment_scale``.
    outcome_noise:            family of ε; with ``outcome_beta``, ``outcome_scale``.
    nonlinearity:             σ: "identity", "leaky_relu" (negative slope ``slope``), "relu",
                              "tanh", "sigmoid".
    slope:                    negative slope of leaky_relu (1 makes it linear).
    support_size:             0 → Bernoulli(``treatment_density``) mask on A, dense b (Reizinger);
                              s > 0 → T and Y use the same s random covariates (Mackey).
    treatment_density:        probability that an entry of A is nonzero (support_size = 0).
    coefficient_distribution: "gaussian" N(0, 1) or "uniform" U(−5, 5) for A and b.
    seed:                     draws the structural parameters A, b, θ, support (the data come
                              from the generator handed to ``sample``).
    """

    n_covariates: int = 10
    n_treatments: int = 1
    theta: tuple[float, ...] = ()
    theta_choice: Literal["fixed", "uniform", "gaussian"] = "fixed"
    covariate_distribution: Distribution = "gennorm"
    covariate_beta: float = 1.0
    covariate_scale: float = 1.0
    treatment_noise: Distribution = "gennorm"
    treatment_beta: float = 1.0
    treatment_scale: float = 1.0
    outcome_noise: Distribution = "gennorm"
    outcome_beta: float = 1.0
    outcome_scale: float = 1.0
    nonlinearity: Nonlinearity = "identity"
    slope: float = 0.2
    support_size: int = 0
    treatment_density: float = 0.4
    coefficient_distribution: Literal["gaussian", "uniform"] = "gaussian"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_covariates < 1:
            raise ValueError(f"n_covariates must be >= 1, got {self.n_covariates}")
        if self.n_treatments < 1:
            raise ValueError(f"n_treatments must be >= 1, got {self.n_treatments}")
        if self.theta and len(self.theta) != self.n_treatments:
            raise ValueError(
                f"theta must have n_treatments={self.n_treatments} entries, got {len(self.theta)}"
            )
        if self.theta_choice not in ("fixed", "uniform", "gaussian"):
            raise ValueError(
                f"theta_choice must be 'fixed', 'uniform' or 'gaussian', got {self.theta_choice!r}"
            )
        if not self.theta and self.theta_choice == "fixed" and self.n_treatments > len(PAPER_THETA):
            raise ValueError(
                f"the fixed theta has {len(PAPER_THETA)} entries; give theta or "
                f"theta_choice='gaussian' for n_treatments={self.n_treatments}"
            )
        for role in ("covariate", "treatment", "outcome"):
            family = getattr(
                self, "covariate_distribution" if role == "covariate" else f"{role}_noise"
            )
            if family not in _DISTRIBUTIONS:
                raise ValueError(
                    f"{role} distribution must be one of {_DISTRIBUTIONS}, got {family!r}"
                )
            for part in ("beta", "scale"):  # NaN and inf fail the chained comparison
                if not 0 < getattr(self, f"{role}_{part}") < np.inf:
                    raise ValueError(
                        f"{role}_{part} must be > 0 and finite, got "
                        f"{getattr(self, f'{role}_{part}')}"
                    )
        if not -np.inf < self.slope < np.inf:
            raise ValueError(f"slope must be a finite number, got {self.slope}")
        if self.nonlinearity not in _NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {_NONLINEARITIES}, got {self.nonlinearity!r}"
            )
        if not 0 <= self.support_size <= self.n_covariates:
            raise ValueError(
                f"support_size must be in [0, n_covariates={self.n_covariates}], "
                f"got {self.support_size}"
            )
        if not 0.0 < self.treatment_density <= 1.0:
            raise ValueError(f"treatment_density must be in (0, 1], got {self.treatment_density}")
        if self.coefficient_distribution not in ("gaussian", "uniform"):
            raise ValueError(
                "coefficient_distribution must be 'gaussian' or 'uniform', "
                f"got {self.coefficient_distribution!r}"
            )

    # ---------------------------------------------------------------- presets
    @classmethod
    def reizinger2025(cls, **overrides) -> PLRWorld:
        """The ICA paper's synthetic design: all sources Laplace (gennorm β = 1), linear
        nuisance, Bernoulli(0.4)-sparse A, dense N(0, 1) b, fixed θ. For Gaussian confounders
        pass ``covariate_beta=2.0`` (the paper's ``split_noise_dist``); for nonlinear nuisance
        ``nonlinearity="leaky_relu", slope=...``."""
        return cls(**overrides)

    @classmethod
    def mackey2018(cls, support_size: int = 5, **overrides) -> PLRWorld:
        """The HOML demand design: d = 50 gennorm(β = 1) covariates, one treatment with the
        discrete price-discount noise, ε ~ U[−√3, √3], shared sparse support of size s with
        U(−5, 5) coefficients, θ = 1 (the papers sweep θ ∈ {0.01 … 10}, s ∈ {2 … 50})."""
        params = dict(
            n_covariates=50,
            n_treatments=1,
            theta=(1.0,),
            treatment_noise="discrete",
            outcome_noise="uniform",
            outcome_scale=float(np.sqrt(3.0)),
            coefficient_distribution="uniform",
            support_size=support_size,
        )
        params.update(overrides)
        return cls(**params)

    def with_seed(self, seed: int) -> PLRWorld:
        """The same design with other structural parameters (A, b, θ, support)."""
        return replace(self, seed=seed)

    # ------------------------------------------------------------- structure
    @cached_property
    def structure(self) -> PLRStructure:
        """A, b, θ and the support, a deterministic function of ``seed``."""
        rng = np.random.default_rng([self.seed, 2507_16467])
        d, k = self.n_covariates, self.n_treatments

        def coefficients(size):
            if self.coefficient_distribution == "uniform":
                return rng.uniform(-5.0, 5.0, size=size)
            return rng.normal(size=size)

        if self.support_size > 0:
            support = np.sort(rng.choice(d, size=self.support_size, replace=False))
            treatment_coef = np.zeros((k, d))
            outcome_coef = np.zeros(d)
            treatment_coef[:, support] = coefficients((k, self.support_size))
            outcome_coef[support] = coefficients(self.support_size)
        else:
            mask = rng.random((k, d)) < self.treatment_density
            treatment_coef = mask * coefficients((k, d))
            outcome_coef = coefficients(d)
            support = np.arange(d)
        if self.theta:
            theta = np.asarray(self.theta, dtype=float)
        elif self.theta_choice == "fixed":
            theta = np.asarray(PAPER_THETA[:k], dtype=float)
        elif self.theta_choice == "uniform":
            theta = rng.random(k)
        else:
            theta = rng.normal(size=k)
        return PLRStructure(treatment_coef, outcome_coef, theta, support)

    # -------------------------------------------------------------- sampling
    def sample(self, n: int, *, generator: torch.Generator) -> PLRSample:
        """n i.i.d. draws of (X, T, Y) with their sources; all randomness from ``generator``
        (X, then η, then ε; float64 numpy arrays)."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        if not isinstance(generator, torch.Generator):
            raise ValueError(
                "generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0), "
                f"got {type(generator).__name__}"
            )
        d, k = self.n_covariates, self.n_treatments
        structure = self.structure
        X = sample_noise(
            self.covariate_distribution,
            self.covariate_beta,
            self.covariate_scale,
            (n, d),
            generator=generator,
        )
        eta = sample_noise(
            self.treatment_noise,
            self.treatment_beta,
            self.treatment_scale,
            (n, k),
            generator=generator,
        )
        eps = sample_noise(
            self.outcome_noise, self.outcome_beta, self.outcome_scale, (n,), generator=generator
        )
        features = _activation(self.nonlinearity, self.slope)(X)
        T = features @ structure.treatment_coef.T + eta
        Y = T @ structure.theta + features @ structure.outcome_coef + eps
        return PLRSample(X, T, Y, eta, eps, structure.theta.copy())
