"""Numbers about training itself (objective, speed, accuracy): declared so tables know them.

None of these compares a representation with the truth; they say how a fit went. ``accuracy`` is a
proportion (reports give it a Wilson interval); seconds and throughput are diagnostics.
"""

from __future__ import annotations

import numpy as np

from identifiable.metrics._registry import declare, metric

__all__ = ["accuracy"]

declare("loss", higher_is_better=False, kind="diagnostic", description="training objective")
declare(
    "train_seconds",
    higher_is_better=False,
    bounds=(0.0, None),
    kind="diagnostic",
    description="seconds spent in optimisation steps (evaluation excluded)",
)
declare(
    "steps_per_second",
    higher_is_better=True,
    bounds=(0.0, None),
    kind="diagnostic",
    description="optimisation steps per second of train_seconds",
)
declare(
    "fit_seconds",
    higher_is_better=False,
    bounds=(0.0, None),
    kind="diagnostic",
    description="seconds of one estimator fit",
)
declare(
    "wall_seconds",
    higher_is_better=False,
    bounds=(0.0, None),
    kind="diagnostic",
    description="seconds of the whole run",
)


@metric(higher_is_better=True, kind="proportion")
def accuracy(labels, predicted) -> float:
    """Fraction of predictions equal to the labels, (1/n) Σ 1[ŷ_i = y_i]."""
    labels = np.asarray(labels).reshape(-1)
    predicted = np.asarray(predicted).reshape(-1)
    if labels.shape != predicted.shape:
        raise ValueError(
            f"labels and predicted must have the same length, got {labels.size} and "
            f"{predicted.size}"
        )
    if labels.size == 0:
        raise ValueError("accuracy needs at least one label")
    return float((labels == predicted).mean())


declare(
    "train_accuracy",
    higher_is_better=True,
    kind="proportion",
    description="accuracy on the training data (the batches since the last evaluation, for "
    "minibatch learners)",
)
declare(
    "test_accuracy", higher_is_better=True, kind="proportion", description="accuracy on test data"
)
declare("train_loss", higher_is_better=False, kind="diagnostic", description="loss on train data")
declare("test_loss", higher_is_better=False, kind="diagnostic", description="loss on test data")
declare(
    "converged",
    higher_is_better=True,
    kind="proportion",
    description="1 if the fit converged within its iteration budget, else 0; over seeds, the "
    "fraction of runs that converged",
)
declare(
    "converged_fraction",
    higher_is_better=True,
    kind="proportion",
    description="fraction of a run's fits (folds, restarts, bootstrap replicates) that converged",
)
