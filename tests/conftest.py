import pytest
import torch

from identifiable.claims import Claim


def pytest_collection_modifyitems(items):
    """A test parametrised with a claim that is a known FAIL at CPU scale (``Claim.known_fail``)
    is a strict xfail: it must fail, and a pass (the claim got fixed) is reported."""
    for item in items:
        for value in getattr(getattr(item, "callspec", None), "params", {}).values():
            if isinstance(value, Claim) and value.known_fail:
                reason = f"known FAIL at CPU scale: {value.known_fail}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)
