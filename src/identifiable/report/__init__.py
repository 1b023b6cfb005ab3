"""Reports from the store: Markdown/HTML tables and matplotlib figures a reader can trust.

* :mod:`~identifiable.report.markdown` — ``write_report``: one page per store or experiment
  (runs table, curves, claim verdicts).
* :mod:`~identifiable.report.sweep` — ``write_sweep_report``/``aggregate``: a sweep's mean and
  95% interval per grid point as CSV, figures, Markdown and self-contained HTML.
* :mod:`~identifiable.report.intervals` — Student-t and Wilson intervals, clipped to a metric's
  declared bounds.
* :mod:`~identifiable.report.figures` — the plotting rules (no offset notation, equal values said
  in words, categorical axes as points).
"""

from identifiable.report.markdown import claim_verdicts, run_label, write_report
from identifiable.report.sweep import aggregate, write_sweep_report

__all__ = ["aggregate", "claim_verdicts", "run_label", "write_report", "write_sweep_report"]
