"""identifiable: when do learned representations recover the truth?

World (ground truth) -> Learner (fits on observations) -> Metrics (learned vs truth)
-> Store (run files + DuckDB) -> Report (tables, plots). See README.md.
"""

__version__ = "0.1.0"
