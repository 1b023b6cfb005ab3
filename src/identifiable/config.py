"""Typed config overrides: ``--set key=value`` strings -> a validated Config dataclass.

Values are parsed against the dataclass field types (int, float, str, bool, ``Literal[...]``,
``tuple[T, ...]`` as a comma list). Every mistake raises :class:`ConfigError`, a ``ValueError`` with
a one-line message that names the valid keys or choices.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = [
    "ConfigError",
    "FieldDoc",
    "build_config",
    "config_to_dict",
    "describe",
    "parse_overrides",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A bad config key or value; the message says what to change."""


def _field_types(config_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_cls) if f.init}


def _convert(key: str, text: Any, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin is Literal:
        choices = typing.get_args(kind)
        if text not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(map(str, choices))}, got {text!r}")
        return text
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if isinstance(text, str) and text.lower() in ("none", "null"):
            return None
        return _convert(key, text, args[0])
    if origin is tuple:
        inner = typing.get_args(kind)[0]
        items = text.split(",") if isinstance(text, str) else list(text)
        return tuple(
            _convert(key, item.strip() if isinstance(item, str) else item, inner)
            for item in items
            if not (isinstance(item, str) and not item.strip())
        )
    if not isinstance(text, str):
        if kind is float and isinstance(text, int | float) and not isinstance(text, bool):
            return float(text)
        if isinstance(text, kind) and not (kind is int and isinstance(text, bool)):
            return text
        raise ConfigError(f"{key} must be {kind.__name__}, got {text!r}")
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"{key} must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key} must be an integer, got {text!r}") from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{key} must be a number, got {text!r}") from None
        if math.isnan(value):
            raise ConfigError(f"{key} must be a number, got NaN")
        return value
    if kind is str:
        return text
    raise ConfigError(f"{key} has a type ({kind}) that cannot be set from the command line")


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a malformed item is a ConfigError."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"overrides look like key=value, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def build_config(config_cls: type, overrides: Mapping[str, Any] | None = None, **fixed: Any):
    """``config_cls`` with ``overrides`` (strings or values) parsed against its field types.

    ``fixed`` values (e.g. ``seed=3`` from ``--seed``) are applied last. Unknown keys, unparsable
    values and values the Config's own validation rejects all raise :class:`ConfigError`.
    """
    types_ = _field_types(config_cls)
    values: dict[str, Any] = {}
    for key, text in {
        **(overrides or {}),
        **{k: v for k, v in fixed.items() if v is not None},
    }.items():
        if key not in types_:
            raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(types_)}")
        values[key] = _convert(key, text, types_[key])
    try:
        return config_cls(**values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:
        raise ConfigError(str(error)) from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a Config (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


@dataclasses.dataclass(frozen=True)
class FieldDoc:
    """One config key as ``identifiable show`` prints it."""

    name: str
    type: str
    default: Any
    allowed: str
    doc: str


def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return "str"
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return f"{_type_name(args[0])} or none"
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(kind)[0])}"
    return getattr(kind, "__name__", str(kind))


def _field_docs(config_cls: type) -> dict[str, str]:
    """``name: text`` entries of the Config docstring (continuation lines joined); ``a, b: text``
    documents several keys at once."""
    docs: dict[str, str] = {}
    current: list[str] = []
    names = {f.name for f in dataclasses.fields(config_cls)}
    for line in (config_cls.__doc__ or "").splitlines():
        head, sep, rest = line.strip().partition(":")
        keys = [key.strip() for key in head.split(",")]
        if sep and all(key in names for key in keys):
            current = keys
            for key in keys:
                docs[key] = rest.strip()
        elif current and line.strip():
            for key in current:
                docs[key] += " " + line.strip()
        else:
            current = []
    return docs


def describe(config_cls: type) -> list[FieldDoc]:
    """Every settable key of ``config_cls``: type, default, allowed values and its documentation."""
    docs = _field_docs(config_cls)
    defaults = config_to_dict(config_cls())
    rows = []
    for name, kind in _field_types(config_cls).items():
        inner = kind
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(kind) if a is not type(None)][0]
        allowed = (
            ", ".join(map(str, typing.get_args(inner)))
            if typing.get_origin(inner) is Literal
            else ""
        )
        rows.append(
            FieldDoc(name, _type_name(kind), defaults.get(name), allowed, docs.get(name, ""))
        )
    return rows
