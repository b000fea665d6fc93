"""Validate a Grafana dashboard JSON against the dashboard schema as grafana-foundation-sdk
models it (its Python models are generated from Grafana's CUE schema; the package ships no
JSON schema and no validator, so this walks its models' type hints).

:func:`dashboard_errors` decodes the JSON with the SDK's own decoders (``Dashboard.from_json``,
with the SDK's panel and query plugins registered, so panel options, field config and
Prometheus queries decode into their typed models), then reports:

- every difference between the JSON and the decoded model encoded back (``to_json``): the
  decoders drop what the schema does not know, so a misspelt or unknown key anywhere shows up;
- every value whose type does not match the model's annotation (a string where the schema
  wants a number, a value outside a ``Literal`` or an enum, a list where it wants an object);
- every query not decoded as a Prometheus query and every panel type without a panel plugin
  in the SDK.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.cog.runtime import panelcfg_config
from grafana_foundation_sdk.models import dashboard, prometheus

register_default_plugins()


def dashboard_errors(data: dict[str, Any]) -> list[str]:
    """Schema problems of one dashboard JSON object (``[]`` when valid), each as
    ``<path>: <problem>``."""
    board = dashboard.Dashboard.from_json(data)
    errors = _differences(data, json.loads(json.dumps(board, cls=JSONEncoder)), "$")
    errors += _model_errors(board, "$")
    for panel in board.panels or []:
        if isinstance(panel, dashboard.RowPanel):
            continue
        if panelcfg_config(panel.type_val) is None:
            errors.append(f"panel {panel.id_val}: no panel plugin {panel.type_val!r}")
        for target in panel.targets or []:
            if not isinstance(target, prometheus.Dataquery):
                errors.append(f"panel {panel.id_val}: a target is not a Prometheus query")
    return errors


def _differences(given: Any, decoded: Any, path: str) -> list[str]:
    """Where ``decoded`` (the JSON after a trip through the models) differs from ``given``."""
    if isinstance(given, dict) and isinstance(decoded, dict):
        out = [f"{path}.{key}: not in the schema" for key in given.keys() - decoded.keys()]
        out += [f"{path}.{key}: added by the schema" for key in decoded.keys() - given.keys()]
        for key in given.keys() & decoded.keys():
            out += _differences(given[key], decoded[key], f"{path}.{key}")
        return out
    if isinstance(given, list) and isinstance(decoded, list) and len(given) == len(decoded):
        return [
            e
            for i, (g, d) in enumerate(zip(given, decoded, strict=True))
            for e in _differences(g, d, f"{path}[{i}]")
        ]
    return [] if given == decoded else [f"{path}: {given!r} decodes as {decoded!r}"]


def _model_errors(obj: object, path: str) -> list[str]:
    """Type errors of every annotated field of a decoded model object."""
    hints = typing.get_type_hints(type(obj))
    return [
        error
        for name, hint in hints.items()
        for error in _type_errors(getattr(obj, name), hint, f"{path}.{name}")
    ]


def _type_errors(value: Any, hint: Any, path: str) -> list[str]:
    """Whether ``value`` fits the annotation ``hint`` (recursing into models and
    containers)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any or hint is object:
        return _model_errors(value, path) if hasattr(value, "to_json") else []
    if origin in (typing.Union, types.UnionType):
        # Report against the alternative the value was decoded as (its class, or the
        # container it is), so the message points inside it.
        likely = [arg for arg in args if _decoded_as(value, arg)]
        tried = [_type_errors(value, arg, path) for arg in likely or args]
        return min(tried, key=len) if all(tried) else []
    if hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [
            e for i, item in enumerate(value) for e in _type_errors(item, args[0], f"{path}[{i}]")
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        return [e for k, item in value.items() for e in _type_errors(item, args[1], f"{path}.{k}")]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        # The SDK's decoders keep enum values as the raw JSON value.
        allowed = {member.value for member in hint}
        return [] if value in allowed else [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    if hint in (int, float):
        fits = isinstance(value, int if hint is int else (int, float))
        return [] if fits and not isinstance(value, bool) else [f"{path}: {value!r} is not {hint}"]
    if isinstance(hint, type):
        if not isinstance(value, hint):
            return [f"{path}: {value!r} is not {hint.__name__}"]
        return _model_errors(value, path) if hasattr(value, "to_json") else []
    return [f"{path}: annotation {hint} not understood"]


def _decoded_as(value: Any, hint: Any) -> bool:
    """Whether ``value`` is an instance of the class or container ``hint`` names (False for
    ``Literal`` and other special forms)."""
    kind = typing.get_origin(hint) or hint
    return isinstance(kind, type) and isinstance(value, kind)
