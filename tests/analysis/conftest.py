"""The reference's released loss table, read from ../shared/data (skipped where it is absent)."""

import pytest


@pytest.fixture
def llm_line_csv(shared_file):
    return shared_file("llm_line/latest_pm_hf.csv")
