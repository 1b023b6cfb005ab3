from dataclasses import dataclass
from typing import Literal

import pytest

from identifiable.config import (
    ConfigError,
    build_config,
    config_to_dict,
    parse_overrides,
)


@dataclass(frozen=True)
class Toy:
    """Toy config.

    n: an int.  rate: a float.  name: a choice.  flag: a bool.  sizes: a tuple.
    """

    n: int = 3
    rate: float = 0.5
    name: Literal["a", "b"] = "a"
    flag: bool = False
    sizes: tuple[int, ...] = (1, 2)

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")


def test_parses_each_type():
    cfg = build_config(
        Toy, parse_overrides(["n=5", "rate=1e-3", "name=b", "flag=yes", "sizes=4,5,6"])
    )
    assert cfg == Toy(n=5, rate=1e-3, name="b", flag=True, sizes=(4, 5, 6))
    assert config_to_dict(cfg)["sizes"] == [4, 5, 6]


def test_fixed_values_win_and_none_is_ignored():
    assert build_config(Toy, {"n": "2"}, n=7).n == 7
    assert build_config(Toy, {"n": "2"}, n=None).n == 2


@pytest.mark.parametrize(
    "items, message",
    [
        (["m=1"], "unknown config key 'm'; valid keys: n, rate, name, flag, sizes"),
        (["n=1.5"], "n must be an integer"),
        (["rate=fast"], "rate must be a number"),
        (["rate=nan"], "NaN"),
        (["name=c"], "name must be one of a, b"),
        (["flag=maybe"], "flag must be true or false"),
        (["n=0"], "n must be >= 1"),
        (["novalue"], "key=value"),
    ],
)
def test_errors_are_one_line_and_say_what_to_change(items, message):
    with pytest.raises(ConfigError, match=message) as info:
        build_config(Toy, parse_overrides(items))
    assert "\n" not in str(info.value)


def test_docstring_entries_document_one_or_several_keys():
    from identifiable.config import describe

    @dataclass(frozen=True)
    class Documented:
        """A config.

        steps:      optimiser steps,
                    of one batch each.
        width, depth: the network's sizes.
        """

        steps: int = 1
        width: int = 2
        depth: int = 3

    docs = {row.name: row.doc for row in describe(Documented)}
    assert docs == {
        "steps": "optimiser steps, of one batch each.",
        "width": "the network's sizes.",
        "depth": "the network's sizes.",
    }
