"""Latent spaces: a marginal p(z) and a positive-pair conditional p(z̃ | z).

Zimmermann, Sharma, Schneider, Bethge, Brendel (2021), "Contrastive Learning Inverts the Data
Generating Process", ICML, arXiv:2102.08850 (official code: brendel-group/cl-ica, ``spaces.py``,
``vmf.py``, ``spaces_utils.py``).

Every conditional is written with one concentration ``kappa`` as

    p(z̃ | z) ∝ exp(κ · sim(z, z̃))

with the similarity that the matching InfoNCE model uses (so τ = 1/κ is the "matched" model):

=============  ===================  ===============================  ==========================
space          marginal p(z)        conditional p(z̃ | z)            sim(z, z̃)
=============  ===================  ===============================  ==========================
``sphere``     uniform on S^{n-1}   von Mises–Fisher(z, κ)           zᵀz̃
``box``        uniform on [a, b]^n  Laplace(z, 1/κ), truncated       −‖z − z̃‖₁
               (default [-1, 1]^n)  or Normal(z, σ² = 1/(2κ)),       or −‖z − z̃‖₂²
                                    truncated to the box
``gaussian``   N(0, I_n)            Normal(z, σ² = 1/(2κ))           −‖z − z̃‖₂²
=============  ===================  ===============================  ==========================

``AnisotropicSphereSpace`` breaks this pattern on purpose: one concentration Λ_k per latent
(projected-normal positives; Rusak et al. 2025, arXiv:2407.00143), modelled by AnInfoNCE's
similarity −½(a − b)ᵀΛ̂(a − b) (:func:`identifiable.losses.an_info_nce`).

All sampling is batched torch and draws every random number from an explicit
``torch.Generator``: the same generator state gives the same tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

__all__ = [
    "LAMBDA_PRESETS",
    "AnisotropicSphereSpace",
    "BoxSpace",
    "GaussianSpace",
    "LatentSpace",
    "SphereSpace",
    "anisotropic_lambdas",
    "sample_vmf",
]

_MAX_REJECTION_ROUNDS = 1000


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be a positive int, got {n!r}")


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device)


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=generator.device)


def _laplace(shape: tuple[int, ...], scale: float, generator: torch.Generator) -> torch.Tensor:
    """Laplace(0, scale) by inversion: x = −b·sign(u)·log(1 − 2|u|), u ~ U(−½, ½)."""
    u = _uniform(shape, generator) - 0.5
    return -scale * torch.sign(u) * torch.log1p(-2.0 * u.abs().clamp(max=0.5 - 1e-7))


def _beta_symmetric(n: int, dof: int, generator: torch.Generator) -> torch.Tensor:
    """Beta(dof/2, dof/2) exactly, as X/(X+Y) with X, Y ~ χ²(dof) independent."""
    squares = _normal((2, n, dof), generator).square().sum(-1)
    return squares[0] / squares.sum(0)


def sample_vmf(mu: torch.Tensor, kappa: float, generator: torch.Generator) -> torch.Tensor:
    """Exact von Mises–Fisher samples around each row of ``mu`` (unit vectors, shape (N, p)).

    Wood (1994), "Simulation of the von Mises Fisher distribution", Commun. Stat. Simul. Comput.
    The cosine w = μᵀz̃ is drawn by Wood's rejection scheme (batched: only rejected rows are
    redrawn), the direction orthogonal to μ uniformly, and z̃ = w·μ + √(1 − w²)·v.

    With b = (−2κ + √(4κ² + (p−1)²))/(p−1), x₀ = (1−b)/(1+b), c = κx₀ + (p−1)log(1−x₀²):
    draw s ~ Beta((p−1)/2, (p−1)/2), w = (1 − (1+b)s)/(1 − (1−b)s), u ~ U(0,1), and accept when
    κw + (p−1)log(1 − x₀w) − c ≥ log u.
    """
    if kappa <= 0:
        raise ValueError(f"kappa must be > 0, got {kappa}")
    n, p = mu.shape
    if p < 2:
        raise ValueError(f"the von Mises–Fisher distribution needs dimension >= 2, got {p}")
    dof = p - 1
    b = dof / (2.0 * kappa + math.sqrt(4.0 * kappa**2 + dof**2))  # = (−2κ + √(4κ²+d²))/d, stable
    x0 = (1.0 - b) / (1.0 + b)
    c = kappa * x0 + dof * math.log(1.0 - x0**2)

    w = torch.empty(n, device=mu.device, dtype=mu.dtype)
    todo = torch.arange(n, device=mu.device)
    for _ in range(_MAX_REJECTION_ROUNDS):
        m = todo.numel()
        s = _beta_symmetric(m, dof, generator).to(mu.dtype)
        w_try = (1.0 - (1.0 + b) * s) / (1.0 - (1.0 - b) * s)
        log_u = torch.log(_uniform((m,), generator).to(mu.dtype).clamp_min(1e-38))
        accept = kappa * w_try + dof * torch.log1p(-x0 * w_try) - c >= log_u
        w[todo[accept]] = w_try[accept]
        todo = todo[~accept]
        if todo.numel() == 0:
            break
    else:  # pragma: no cover - acceptance rate is > 0.5 for every kappa
        raise RuntimeError("von Mises–Fisher rejection sampling did not finish")

    v = _normal((n, p), generator).to(mu.dtype)
    v = v - (v * mu).sum(-1, keepdim=True) * mu
    v = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    w = w.unsqueeze(-1)
    return w * mu + torch.sqrt((1.0 - w**2).clamp_min(0.0)) * v


class LatentSpace:
    """Interface: ``marginal(n, generator)`` -> (n, n_latents); ``conditional(z, generator)``."""

    n_latents: int
    kappa: float
    similarity: str

    def marginal(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def conditional(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


def _check_space(n_latents: int, kappa: float, min_latents: int = 1) -> None:
    if not isinstance(n_latents, int) or n_latents < min_latents:
        raise ValueError(f"n_latents must be an int >= {min_latents}, got {n_latents!r}")
    if not (isinstance(kappa, int | float) and math.isfinite(kappa) and kappa > 0):
        raise ValueError(f"kappa must be a finite number > 0, got {kappa!r}")


@dataclass(frozen=True)
class SphereSpace(LatentSpace):
    """Uniform marginal on the unit sphere S^{n−1}; von Mises–Fisher(z, κ) positives.

    p(z) = 1/vol(S^{n−1}),  p(z̃ | z) = C_n(κ) exp(κ zᵀz̃).
    Zimmermann et al. 2021, arXiv:2102.08850, Table 1 (sphere rows); sampled exactly with
    Wood's (1994) algorithm (:func:`sample_vmf`).
    """

    n_latents: int = 10
    kappa: float = 10.0
    similarity: str = "dot"

    def __post_init__(self) -> None:
        _check_space(self.n_latents, self.kappa, min_latents=2)

    def marginal(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        _check_n(n)
        z = _normal((n, self.n_latents), generator)
        return z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def conditional(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        return sample_vmf(z, self.kappa, generator)


def _truncated(
    z: torch.Tensor, draw, low: float, high: float, generator: torch.Generator
) -> torch.Tensor:
    """z + noise, where each coordinate that leaves [low, high] is redrawn until it lands inside.

    This is the reference's per-coordinate rejection resampling
    (cl-ica ``spaces_utils.truncated_rejection_resampling``), batched over the entries still out.
    """
    out = z + draw(z.shape, generator).to(z.dtype)
    bad = (out < low) | (out > high)
    for _ in range(_MAX_REJECTION_ROUNDS):
        if not bool(bad.any()):
            return out
        idx = bad.nonzero(as_tuple=True)
        out[idx] = z[idx] + draw((idx[0].numel(),), generator).to(z.dtype)
        bad = (out < low) | (out > high)
    raise RuntimeError(
        "truncated sampling did not finish: the conditional is far wider than the box; "
        "increase kappa"
    )


@dataclass(frozen=True)
class BoxSpace(LatentSpace):
    """Uniform marginal on the box [low, high]^n; Laplace or Normal positives truncated to it.

    p(z) = 1/(high − low)^n;
    Laplace: p(z̃ | z) ∝ exp(−κ‖z̃ − z‖₁) on the box (scale b = 1/κ);
    Normal:  p(z̃ | z) ∝ exp(−κ‖z̃ − z‖₂²) on the box (σ² = 1/(2κ)).
    The truncation redraws each coordinate that leaves the box, as the reference does.
    Zimmermann et al. 2021, arXiv:2102.08850, Table 2 (box rows; their code uses [0, 1]^n).
    """

    n_latents: int = 10
    kappa: float = 10.0
    conditional_family: Literal["laplace", "normal"] = "laplace"
    low: float = -1.0
    high: float = 1.0

    def __post_init__(self) -> None:
        _check_space(self.n_latents, self.kappa)
        if self.conditional_family not in ("laplace", "normal"):
            raise ValueError(
                f"conditional_family must be 'laplace' or 'normal', got {self.conditional_family!r}"
            )
        if not self.low < self.high:
            raise ValueError(f"box needs low < high, got low={self.low}, high={self.high}")

    @property
    def similarity(self) -> str:  # type: ignore[override]
        return "l1" if self.conditional_family == "laplace" else "l2"

    @property
    def scale(self) -> float:
        """Laplace scale 1/κ, or Normal standard deviation 1/√(2κ)."""
        if self.conditional_family == "laplace":
            return 1.0 / self.kappa
        return 1.0 / math.sqrt(2.0 * self.kappa)

    def marginal(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        _check_n(n)
        return self.low + (self.high - self.low) * _uniform((n, self.n_latents), generator)

    def conditional(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        scale = self.scale
        if self.conditional_family == "laplace":

            def draw(shape, g):
                return _laplace(shape, scale, g)
        else:

            def draw(shape, g):
                return scale * _normal(shape, g)

        return _truncated(z, draw, self.low, self.high, generator)


@dataclass(frozen=True)
class GaussianSpace(LatentSpace):
    """Unbounded: standard normal marginal, Normal positives.

    p(z) = N(0, I_n),  p(z̃ | z) = N(z, σ² I_n) with σ² = 1/(2κ), i.e. ∝ exp(−κ‖z̃ − z‖₂²).
    The joint p(z, z̃) is invariant to any rotation R applied to both, so no method can tell
    z from Rz: InfoNCE recovers z up to an orthogonal map (linear R² can be high) but *not* up to
    permutation (MCC stays low). This is the negative control for permutation identifiability
    (Zimmermann et al. 2021, arXiv:2102.08850, Sec. 4 — the Normal conditional is the one
    rotation-invariant member of the generalized-normal family).
    """

    n_latents: int = 10
    kappa: float = 10.0
    similarity: str = "l2"

    def __post_init__(self) -> None:
        _check_space(self.n_latents, self.kappa)

    def marginal(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        _check_n(n)
        return _normal((n, self.n_latents), generator)

    def conditional(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        return z + _normal(tuple(z.shape), generator).to(z.dtype) / math.sqrt(2.0 * self.kappa)


LAMBDA_PRESETS = ("linspace", "bimodal")


def anisotropic_lambdas(
    preset: str, n_latents: int, low: float = 5.0, high: float = 25.0
) -> tuple[float, ...]:
    """Per-latent concentrations Λ of the AnInfoNCE reference (brendel-group/AnInfoNCE).

    ``linspace``: Λ = linspace(low, high, n) (``--linearly-spaced-lambda``), all distinct;
    ``bimodal``:  the first ⌊n/2⌋ latents at ``high``, the rest at ``low`` (the default run).
    """
    if preset not in LAMBDA_PRESETS:
        raise ValueError(
            f"lambda preset must be one of {', '.join(LAMBDA_PRESETS)}, got {preset!r}"
        )
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high for the lambda preset, got low={low}, high={high}")
    if preset == "linspace":
        return tuple(float(v) for v in torch.linspace(low, high, n_latents, dtype=torch.float64))
    half = n_latents // 2
    return (float(high),) * half + (float(low),) * (n_latents - half)


@dataclass(frozen=True)
class AnisotropicSphereSpace(LatentSpace):
    """Uniform marginal on S^{n−1}; anisotropic projected-normal positives kept near the sphere.

        z ~ U(S^{n−1}),   δ ~ N(0, diag(1/Λ)),   z̃ = (z + δ)/‖z + δ‖,
        accepted only when |‖z + δ‖ − 1| < ``threshold`` (else δ is redrawn).

    Large Λ_k: latent k barely changes within a positive pair; small Λ_k: it changes a lot.
    The rejection step keeps z + δ near the sphere, so the projection barely distorts the
    Gaussian step. This is the reference's ``rejected_projected_normal``
    (brendel-group/AnInfoNCE ``extended_sphere_space.py``, threshold 0.1); here batched: each
    pending row draws ``candidates`` proposals at once and keeps its first accepted one
    (acceptance is ≈ 15 % for the linspace preset, ≈ 10 % for bimodal at n = 10).
    Rusak, Reizinger, Juhos, Bringmann, Zimmermann, Brendel (2025), "InfoNCE: Identifying the Gap
    Between Theory and Practice", AISTATS, arXiv:2407.00143. The matched model is AnInfoNCE with
    Λ̂ = Λ (:func:`identifiable.losses.an_info_nce`).
    """

    lambdas: tuple[float, ...] = anisotropic_lambdas("linspace", 10)
    threshold: float = 0.1
    candidates: int = 16
    similarity: str = "anisotropic"

    def __post_init__(self) -> None:
        lambdas = tuple(self.lambdas)
        if len(lambdas) < 2:
            raise ValueError(f"need at least 2 lambdas (one per latent), got {len(lambdas)}")
        if not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in lambdas):
            raise ValueError(f"every lambda must be a finite number > 0, got {lambdas}")
        if not 0 < self.threshold:
            raise ValueError(f"threshold must be > 0, got {self.threshold}")
        if not isinstance(self.candidates, int) or self.candidates < 1:
            raise ValueError(f"candidates must be an int >= 1, got {self.candidates!r}")
        object.__setattr__(self, "lambdas", tuple(float(v) for v in lambdas))

    @classmethod
    def preset(cls, name: str, n_latents: int = 10, **kwargs) -> AnisotropicSphereSpace:
        """The space with Λ from :func:`anisotropic_lambdas` (``linspace`` or ``bimodal``)."""
        return cls(lambdas=anisotropic_lambdas(name, n_latents), **kwargs)

    @property
    def n_latents(self) -> int:  # type: ignore[override]
        return len(self.lambdas)

    @property
    def kappa(self) -> float:  # type: ignore[override]
        """Mean concentration (the interface's single κ; the conditional uses every Λ_k)."""
        return sum(self.lambdas) / len(self.lambdas)

    def marginal(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        _check_n(n)
        z = _normal((n, self.n_latents), generator)
        return z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def conditional(self, z: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        std = torch.tensor(self.lambdas, dtype=z.dtype, device=z.device).rsqrt()
        out = torch.empty_like(z)
        todo = torch.arange(z.shape[0], device=z.device)
        for _ in range(_MAX_REJECTION_ROUNDS):
            m = todo.numel()
            proposal = z[todo].unsqueeze(1) + std * _normal(
                (m, self.candidates, self.n_latents), generator
            ).to(z.dtype)
            norm = proposal.norm(dim=-1)
            ok = (norm - 1.0).abs() < self.threshold  # (m, candidates)
            first = ok.to(torch.int8).argmax(dim=1)  # first accepted proposal (0 when none)
            done = ok.any(dim=1)
            rows = torch.arange(m, device=z.device)[done]
            out[todo[done]] = proposal[rows, first[done]] / norm[rows, first[done]].unsqueeze(-1)
            todo = todo[~done]
            if todo.numel() == 0:
                return out
        raise RuntimeError(
            "anisotropic sampling did not finish: almost no z + δ lands within the threshold of "
            "the sphere; raise the lambdas or the threshold"
        )
