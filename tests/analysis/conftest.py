"""The reference's released loss table, read from ../shared/data (skipped where it is absent)."""

import os
from pathlib import Path

import pytest

SHARED = Path(
    os.environ.get("IDENTIFIABLE_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data")
)
LLM_LINE = SHARED / "llm_line" / "latest_pm_hf.csv"


@pytest.fixture
def llm_line_csv() -> Path:
    if not LLM_LINE.is_file():
        pytest.skip(f"the llm-line table is not at {LLM_LINE} (set IDENTIFIABLE_SHARED_DATA)")
    return LLM_LINE
