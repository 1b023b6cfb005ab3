"""Numbers of a training curve that say *when* something happened: fitting, generalising (grokking)
and softmax collapse, with the naïve-loss-minimisation cosine.

Prieto, Barsbey, Mediano, Birdal (2025), "Grokking at the Edge of Numerical Stability", ICLR,
arXiv:2501.04697. Onsets are read off the evaluation schedule and *censored* at the budget:

    onset(c, t) = min { epoch e on the schedule : c(e) ≥ t },   = budget when no epoch qualifies

so a run that never collapses (or never groks) reports the budget, the earliest epoch the event
could still happen after; :func:`first_epoch` says which with its second value.
"""

from __future__ import annotations

import numpy as np

from identifiable.metrics._registry import declare

__all__ = ["first_epoch"]


def first_epoch(epochs, values, threshold: float, budget: int) -> tuple[int, bool]:
    """(onset, reached): the first of ``epochs`` whose value is ≥ ``threshold``, else
    (``budget``, False). ``epochs`` ascending, ``values`` of the same length; NaN never counts."""
    epochs = np.asarray(epochs, dtype=float).reshape(-1)
    values = np.asarray(values, dtype=float).reshape(-1)
    if epochs.shape != values.shape:
        raise ValueError(
            f"epochs and values must have the same length, got {epochs.size} and {values.size}"
        )
    if epochs.size > 1 and np.any(np.diff(epochs) <= 0):
        raise ValueError("epochs must be strictly increasing")
    hits = np.flatnonzero(values >= threshold)
    if hits.size == 0:
        return int(budget), False
    return int(epochs[hits[0]]), True


declare(
    "collapse_fraction",
    higher_is_better=None,
    kind="proportion",
    description="fraction of training rows in softmax collapse (softmax sum exactly 1)",
)
declare(
    "zero_loss_fraction",
    higher_is_better=None,
    kind="proportion",
    description="fraction of training rows whose loss is exactly 0",
)
for _name, _what in (
    ("collapse_onset_epoch", "first evaluated epoch with ≥ 50 % of training rows collapsed"),
    ("fit_epoch", "first evaluated epoch with training accuracy 1"),
    ("grok_epoch", "first evaluated epoch with test accuracy ≥ 0.95"),
):
    declare(
        _name,
        higher_is_better=None,
        bounds=(0.0, None),
        kind="diagnostic",
        description=_what + " (the budget when never)",
    )
declare(
    "collapse_onset_delay",
    higher_is_better=None,
    kind="diagnostic",
    description="collapse onset of this run minus that of the compared run (epochs)",
)
for _name in ("collapsed", "grokked", "fitted"):
    declare(
        _name,
        higher_is_better=None,
        kind="proportion",
        description=f"1 if the run {_name} within its budget, else 0",
    )
declare(
    "nlm_cosine",
    higher_is_better=None,
    bounds=(-1.0, 1.0),
    kind="diagnostic",
    description="cos(−∇L, θ) of a layer: 1 when the step only scales the weights up",
)
declare("weight_norm", higher_is_better=None, bounds=(0.0, None), kind="diagnostic")
declare("logit_norm", higher_is_better=None, bounds=(0.0, None), kind="diagnostic")
declare(
    "epochs_ratio",
    higher_is_better=None,
    bounds=(0.0, None),
    kind="diagnostic",
    description="ratio of two epoch counts",
)
