import os
from pathlib import Path

import pytest
import torch

from identifiable.claims import Claim

#: The papers' released data (../shared/data next to the checkout; $IDENTIFIABLE_SHARED_DATA).
SHARED_DATA = Path(
    os.environ.get("IDENTIFIABLE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data")
)


@pytest.fixture
def shared_file():
    """``shared_file("llm_line/latest_pm_hf.csv")``: the path, or a skip that says where it was
    looked for (a user's clone has no ../shared)."""

    def get(relative: str) -> Path:
        path = SHARED_DATA / relative
        if not path.is_file():
            pytest.skip(f"released data not at {path} (set IDENTIFIABLE_SHARED_DATA)")
        return path

    return get


def pytest_collection_modifyitems(items):
    """A slow test parametrised with a claim that is a known FAIL at CPU scale
    (``Claim.known_fail``) — a test that the claim holds — is a strict xfail: it must fail, and a
    pass (the claim got fixed) is reported. Fast tests of such a claim (it fails for a barely
    trained model, its config is valid) run as usual."""
    for item in items:
        if item.get_closest_marker("slow") is None:
            continue
        for value in getattr(getattr(item, "callspec", None), "params", {}).values():
            if isinstance(value, Claim) and value.known_fail:
                reason = f"known FAIL at CPU scale: {value.known_fail}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)


@pytest.fixture
def refuses(tmp_path):
    """``refuses(experiment, settings)``: ``identifiable run EXPERIMENT --set …`` must exit 2 with
    a message of at most three lines, and store nothing."""
    from typer.testing import CliRunner

    from identifiable.cli import app

    def check(experiment: str, settings: list[str]):
        store = tmp_path / "runs"
        args = ["run", experiment, "--store", str(store)]
        for setting in settings:
            args += ["--set", setting]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) <= 3, result.output
        assert not store.exists() or not any(store.glob("*/run.json"))
        return result

    return check
