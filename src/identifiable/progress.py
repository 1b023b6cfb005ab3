"""Progress reporting: the lowest layer, so learners, experiments and the CLI share one protocol.

A progress callback is ``progress(done, total, **fields)``; long-running code calls it now and
then and the CLI shows it (a bar with the fields, e.g. ``loss=...``). :func:`no_progress` ignores
everything; :func:`subspan` reports one part of a longer job (the second of two fits reports steps
``steps + 1 … 2·steps`` of ``2·steps``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress", "subspan"]

# progress(done, total, **fields): fields are numbers shown live (loss=..., linear_r2=...)
Progress = Callable[..., None]


def no_progress(done: int, total: int, **fields: float) -> None:
    """A progress callback that ignores everything."""


def subspan(progress: Progress, offset: int, total: int) -> Progress:
    """A callback that reports ``offset + done`` of ``total`` to ``progress``.

    >>> shown = []
    >>> second = subspan(lambda d, t, **f: shown.append((d, t)), offset=100, total=200)
    >>> second(50, 100)
    >>> shown
    [(150, 200)]
    """

    def report(done: int, _part_total: int, **fields: float) -> None:
        progress(offset + done, total, **fields)

    return report
