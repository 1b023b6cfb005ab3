"""The Causal-de-Finetti test of bivariate causal structure from exchangeable data.

Guo, Tóth, Schölkopf, Huszár (2023), "Causal de Finetti: On the Identification of Invariant
Causal Structure in Exchangeable Data", NeurIPS, arXiv:2203.15756 (official code
syguo96/Causal-de-Finetti, ``src/models/causaldf.py``, read for the rule); used unchanged by
Reizinger et al. (2025), arXiv:2406.14302 (IEM). With two draws (X₁, Y₁), (X₂, Y₂) of each
environment (one row per environment), the structures leave different independences:

    X → Y:        X₁ ⫫ Y₂ | X₂   (the cause's parameter is all the two draws share about Y₂)
    Y → X:        Y₁ ⫫ X₂ | Y₂
    independent:  X₁ ⫫ Y₁

Each is tested with the kernel conditional-independence test (KCI; Zhang et al. 2011,
arXiv:1202.3775) of causal-learn, ``approx=True`` (gamma approximation of the null) and its
default empirical kernel widths, at level α = 0.05 (the reference's). Decision: X → Y if
p_{X₁⫫Y₂|X₂} ≥ α and the other two p ≤ α; Y → X symmetrically; independent if all three p ≥ α;
otherwise (no clean pattern) the reference falls back to the structure of the largest p-value
(``fallback=True``). With ``fallback=False`` an undecided data set gets ``structure_ = None``
(counted wrong): the reference's fallback alone scores about 2/3 on i.i.d. data, because
independence is testable without exchangeability and the two directions become a coin flip.

Needs the optional extra ``causal-discovery`` (causal-learn).
"""

from __future__ import annotations

import numpy as np

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.worlds.exchangeable import STRUCTURES

__all__ = ["CausalDeFinetti", "decide", "require"]

EXTRA = "causal-discovery"


def require(module: str, package: str, extra: str = EXTRA):
    """Import ``module`` or fail with one line naming the extra that installs ``package``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ValueError(
            f"{package} is needed for this; install it with pip install 'identifiable[{extra}]'"
        ) from error


def decide(p_xy: float, p_yx: float, p_ind: float, alpha: float = 0.05,
           fallback: bool = True) -> int | None:  # fmt: skip
    """The reference's rule (module docs): the index in :data:`STRUCTURES`, or ``None`` when no
    pattern is clean and ``fallback`` is off. Comparisons are inclusive on both sides, and ties
    of the fallback go to the first of X → Y, Y → X, independent (``np.argmax``)."""
    if p_xy >= alpha and p_yx <= alpha and p_ind <= alpha:
        return 0
    if p_xy <= alpha and p_yx >= alpha and p_ind <= alpha:
        return 1
    if p_xy >= alpha and p_yx >= alpha and p_ind >= alpha:
        return 2
    return int(np.argmax([p_xy, p_yx, p_ind])) if fallback else None


class CausalDeFinetti:
    """Causal-de-Finetti structure test (module docs), scikit-learn style.

    alpha:     level of the three KCI tests (the reference's 0.05).
    fallback:  the reference's argmax-of-p-values decision when no pattern is clean.

    After ``fit(x, y)`` (each (environments, 2): two draws per environment): ``p_values_``
    (p of X₁⫫Y₂|X₂, Y₁⫫X₂|Y₂, X₁⫫Y₁), ``structure_`` (index in :data:`STRUCTURES` or ``None``)
    and ``structure_name_``. Bad input (fewer than 4 environments or 2 samples each, NaN/inf, a
    constant sample column) is a one-line ValueError.
    """

    def __init__(self, alpha: float = 0.05, fallback: bool = True):
        self.alpha = alpha
        self.fallback = fallback

    def fit(self, x, y) -> CausalDeFinetti:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        xs = as_2d_array("x", x, min_rows=1)
        ys = as_2d_array("y", y, min_rows=1)
        check_same_rows("x", xs, "y", ys)
        if xs.shape[0] < 4:
            raise ValueError(
                f"x and y need at least 4 environments (rows), got {xs.shape[0]}; one row per "
                "environment, one column per sample"
            )
        if xs.shape[1] < 2 or ys.shape[1] < 2:
            raise ValueError(
                "x and y need at least 2 samples per environment (columns), got "
                f"{xs.shape[1]} and {ys.shape[1]}; one row per environment"
            )
        for name, values in (("x", xs), ("y", ys)):
            for j in (0, 1):
                if np.ptp(values[:, j]) == 0:  # KCI would z-score it to NaN: every p-value NaN
                    raise ValueError(
                        f"{name}[:, {j}] is constant over the environments; the KCI tests need "
                        "draws that vary"
                    )
        kci = require("causallearn.utils.KCI.KCI", "causal-learn")
        x1, x2, y1, y2 = (v[:, None] for v in (xs[:, 0], xs[:, 1], ys[:, 0], ys[:, 1]))
        conditional = kci.KCI_CInd(approx=True)
        p_xy = float(conditional.compute_pvalue(x1, y2, x2)[0])
        p_yx = float(conditional.compute_pvalue(y1, x2, y2)[0])
        p_ind = float(kci.KCI_UInd(approx=True).compute_pvalue(x1, y1)[0])
        self.p_values_ = np.array([p_xy, p_yx, p_ind])
        self.structure_ = decide(p_xy, p_yx, p_ind, self.alpha, self.fallback)
        self.structure_name_ = None if self.structure_ is None else STRUCTURES[self.structure_]
        return self
