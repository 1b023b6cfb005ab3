"""Asymptotic (sandwich) covariance of a symmetric FastICA solution, for delta-method intervals.

Symmetric ("parallel") FastICA with contrast G (g = G′) stops at an unmixing U of the centred
data x = r − μ whose sources s = U x satisfy, as sample means,

    r − μ = 0                                   (p equations: the mean),
    s_i s_j − δ_ij = 0,               i ≤ j     (p(p+1)/2: whitening / decorrelation),
    d_j g(s_i) s_j − d_i g(s_j) s_i = 0,  i < j (p(p−1)/2: the fixed point),

d_i = sign κ_i, κ_i = E[s_i g(s_i) − g′(s_i)] (opposite for super- and sub-Gaussian
sources; with logcosh and exp a Laplace source has κ < 0, a uniform one κ > 0, with cube the
reverse): the parallel update
W⁺ = E[g(s) xᵀ] − diag E[g′(s)] W is followed by the symmetric decorrelation (W⁺W⁺ᵀ)^{−1/2} W⁺,
so W is a fixed point (up to the sign flips FastICA allows) when M D is symmetric positive,
M = E[g(s) sᵀ] − diag E[g′(s)], D = diag(d),

or, for deflationary FastICA (components extracted one after the other, in row order),
g(s_i) s_j = 0 for i < j (each component's fixed point, orthogonal to those extracted before):
p + p² equations for the p + p² parameters θ = (μ, U): FastICA is an M-estimator (Hyvärinen
1999, IEEE TNN 10(3); Tichavský, Koldovský, Oja 2006, IEEE TSP 54(4), for its asymptotics).
With ψ the per-sample estimating functions, J = E[∂ψ/∂θ] (computed analytically below) and
Ω = Cov ψ, √n (θ̂ − θ) → N(0, J⁻¹ Ω J⁻ᵀ). A smooth read-out φ(U) (the treatment effect) then
has Var φ̂ ≈ ∇φᵀ J⁻¹ Ω J⁻ᵀ ∇φ / n, with ∇φ by central differences.

J is singular when two sources are Gaussian (their rotation is not identified): the contrast
equation of a pair (i, j) moves with its rotation at the rate |κ_i| + |κ_j| (parallel; |κ_i|
alone, for the earlier-extracted i, in deflation), and κ is zero for a Gaussian (Stein's
identity). When that rate is within 3 standard errors of 0 for some pair, the rotation
is not identified at this n and :func:`sandwich` returns None (the caller falls back to the
bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_CONDITION_LIMIT = 1e10
_WEAK_PAIR_Z = 3.0  # κ_i + κ_j within this many standard errors of 0: rotation not identified


def _contrast(fun: str, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g(s) and g′(s) of scikit-learn's FastICA contrasts (``alpha`` = 1 for logcosh)."""
    if fun == "logcosh":
        g = np.tanh(s)
        return g, 1.0 - g**2
    if fun == "exp":
        e = np.exp(-(s**2) / 2)
        return s * e, (1 - s**2) * e
    if fun == "cube":
        return s**3, 3 * s**2
    raise ValueError(f"fun must be 'logcosh', 'exp' or 'cube' for the sandwich, got {fun!r}")


def signs(s: np.ndarray, fun: str) -> np.ndarray:
    """d_i = sign κ_i, κ_i = mean(s_i g(s_i) − g′(s_i)) over the sources s (n, p)."""
    g, dg = _contrast(fun, s)
    return np.where((s * g - dg).mean(axis=0) >= 0, 1.0, -1.0)


def _pair_weights(
    d: np.ndarray, algorithm: str, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (of g(s_a) s_b, of g(s_b) s_a) in the contrast equation of each pair a < b."""
    if algorithm == "parallel":
        return d[b], d[a]
    if algorithm == "deflation":
        return np.ones(len(a)), np.zeros(len(a))
    raise ValueError(f"algorithm must be 'parallel' or 'deflation', got {algorithm!r}")


def estimating_functions(
    r: np.ndarray,
    mu: np.ndarray,
    U: np.ndarray,
    fun: str,
    algorithm: str = "parallel",
    d: np.ndarray | None = None,
) -> np.ndarray:
    """ψ (n, p + p²): the per-sample estimating functions of the module docstring (signs d
    computed from the data when not given)."""
    p = U.shape[0]
    x = r - mu
    s = x @ U.T
    g, _ = _contrast(fun, s)
    d = signs(s, fun) if d is None else d
    i, j = np.triu_indices(p)
    a, b = np.triu_indices(p, 1)
    first, second = _pair_weights(d, algorithm, a, b)
    return np.hstack(
        [x, s[:, i] * s[:, j] - (i == j), first * g[:, a] * s[:, b] - second * g[:, b] * s[:, a]]
    )


def jacobian(
    r: np.ndarray,
    mu: np.ndarray,
    U: np.ndarray,
    fun: str,
    algorithm: str = "parallel",
    d: np.ndarray | None = None,
) -> np.ndarray:
    """J = mean ∂ψ/∂(μ, vec U) (rows as :func:`estimating_functions`, U flattened row-major; the
    signs d held fixed)."""
    n, p = r.shape
    x = r - mu
    s = x @ U.T
    g, dg = _contrast(fun, s)
    Exs = x.T @ s / n  # E[x_c s_j] (c, j)
    Es = s.mean(axis=0)
    Eg = g.mean(axis=0)
    Egx = g.T @ x / n  # E[g(s_i) x_c] (i, c)
    Edgsx = np.einsum("ni,nj,nc->ijc", dg, s, x) / n  # E[g′(s_i) s_j x_c]
    eye = np.eye(p)

    # d s_a / d μ_b = −U_ab ;  d s_a / d U_bc = δ_ab x_c
    # decorrelation s_i s_j:  d/dμ_b = −U_ib E s_j − E s_i U_jb
    #                         d/dU_bc = δ_ib E[x_c s_j] + δ_jb E[x_c s_i]
    i, j = np.triu_indices(p)
    dec_mu = -(U[i] * Es[j, None] + Es[i, None] * U[j])
    dec_U = eye[i][:, :, None] * Exs.T[j][:, None, :] + eye[j][:, :, None] * Exs.T[i][:, None, :]

    # contrast u g(s_a) s_b − v g(s_b) s_a (u, v: the pair's weights):
    #   d/dμ_k = u (−E[g′(s_a) s_b] U_ak − E g(s_a) U_bk) + v (E[g′(s_b) s_a] U_bk + E g(s_b) U_ak)
    #   d/dU_kc = δ_ak (u E[g′(s_a) s_b x_c] − v E[g(s_b) x_c])
    #             + δ_bk (u E[g(s_a) x_c] − v E[g′(s_b) s_a x_c])
    a, b = np.triu_indices(p, 1)
    u, v = _pair_weights(signs(s, fun) if d is None else d, algorithm, a, b)
    u, v = u[:, None], v[:, None]
    Edgs = dg.T @ s / n  # E[g′(s_i) s_j]
    con_mu = u * (-Edgs[a, b, None] * U[a] - Eg[a, None] * U[b]) + v * (
        Edgs[b, a, None] * U[b] + Eg[b, None] * U[a]
    )
    con_U = (
        eye[a][:, :, None] * (u * Edgsx[a, b] - v * Egx[b])[:, None, :]
        + eye[b][:, :, None] * (u * Egx[a] - v * Edgsx[b, a])[:, None, :]
    )

    top = np.hstack([-eye, np.zeros((p, p * p))])
    rows_dec = np.hstack([dec_mu, dec_U.reshape(len(i), p * p)])
    rows_con = np.hstack([con_mu, con_U.reshape(len(a), p * p)])
    return np.vstack([top, rows_dec, rows_con])


def weakly_identified(s: np.ndarray, fun: str, algorithm: str = "parallel") -> bool:
    """True when some pair of the sources s (n, p) is not separable at this n (module docstring):
    its rate |κ_a| + |κ_b| (deflation: |κ_a|) is within 3 standard errors of 0."""
    n, p = s.shape
    g, dg = _contrast(fun, s)
    terms = (s * g - dg) * signs(s, fun)  # per-sample |κ| terms (n, p)
    a, b = np.triu_indices(p, 1)
    _, second = _pair_weights(np.ones(p), algorithm, a, b)
    pair = terms[:, a] + second * terms[:, b]
    rate = pair.mean(axis=0)
    noise = pair.std(axis=0) / np.sqrt(n)
    return bool(np.any(rate < _WEAK_PAIR_Z * noise))


def sandwich(
    r: np.ndarray,
    U: np.ndarray,
    readout: Callable[[np.ndarray], np.ndarray],
    *,
    fun: str = "logcosh",
    algorithm: str = "parallel",
    step: float = 1e-6,
) -> np.ndarray | None:
    """Asymptotic covariance (k, k) of ``readout(U)`` for the FastICA solution U of data r (n, p).

    Returns None when J is (nearly) singular: two or more Gaussian sources."""
    n, p = r.shape
    mu = r.mean(axis=0)
    if weakly_identified((r - mu) @ U.T, fun, algorithm):
        return None
    d = signs((r - mu) @ U.T, fun)
    psi = estimating_functions(r, mu, U, fun, algorithm, d)
    J = jacobian(r, mu, U, fun, algorithm, d)
    if not np.all(np.isfinite(J)) or np.linalg.cond(J) > _CONDITION_LIMIT:
        return None
    psi = psi - psi.mean(axis=0)
    omega = psi.T @ psi / n
    J_inv = np.linalg.inv(J)
    cov_params = J_inv @ omega @ J_inv.T / n
    cov_U = cov_params[p:, p:]

    # ∇φ by central differences, each entry of U stepped relative to the row's scale
    base = np.asarray(readout(U), dtype=float)
    grad = np.empty((base.size, p * p))
    flat = U.ravel()
    h = step * np.repeat(np.linalg.norm(U, axis=1), p)
    for m in range(p * p):
        up, down = flat.copy(), flat.copy()
        up[m] += h[m]
        down[m] -= h[m]
        grad[:, m] = (readout(up.reshape(p, p)) - readout(down.reshape(p, p))) / (2 * h[m])
    return grad @ cov_U @ grad.T
