"""A custom auth handler's filter as the one JSON object a resource's ``metadata`` must contain
(``metadata @> filter``, see :mod:`shared.db.scope`).

Source: ``langgraph_sdk.auth.types.FilterType`` and the official server's matching: every key
must match (AND); ``{"owner": "a"}`` and ``{"owner": {"$eq": "a"}}`` mean the metadata's
``owner`` is ``"a"``; ``{"tags": {"$contains": "x"}}`` means its ``tags`` is a list holding
``"x"``, ``{"tags": {"$contains": ["x", "y"]}}`` a list holding both; ``$and`` (a list of such
filters, all of which must match) is accepted too. PostgreSQL's containment gives exactly
these for scalar values: ``{"owner": "a"}`` is contained only where ``owner`` is ``"a"``, and
``{"tags": ["x"]}`` only where ``tags`` is a list holding ``"x"``.

What one containment cannot say is refused with :class:`UnsupportedFilter` rather than
widened: ``$or``, an operator other than ``$eq``/``$contains``, equality with a list or an
object (containment would also let longer lists and larger objects through), and ``$and``
groups that ask one key for two different values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JsonScalar = str | int | float | bool | None


class UnsupportedFilter(ValueError):
    """A filter lg-deploy cannot apply as one containment; the message says which part."""


def containment(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object whose containment is ``filters`` (``{}``: no condition). Raises
    :class:`UnsupportedFilter`."""
    out: dict[str, Any] = {}
    for key, condition in filters.items():
        if key == "$and":
            if not isinstance(condition, list) or not all(
                isinstance(g, Mapping) for g in condition
            ):
                raise UnsupportedFilter("'$and' must be a list of filters")
            for group in condition:
                for part_key, part in containment(group).items():
                    _merge(out, part_key, part)
        elif key.startswith("$"):
            raise UnsupportedFilter(
                f"operator {key!r} is not supported (only $eq, $contains, $and)"
            )
        else:
            _merge(out, key, _condition(key, condition))
    return out


def _condition(key: str, condition: Any) -> Any:
    """What ``metadata[key]`` must contain for ``condition``."""
    if isinstance(condition, Mapping):
        if len(condition) != 1:
            raise UnsupportedFilter(f"{key!r}: one operator per key ($eq or $contains)")
        [(op, value)] = condition.items()
        if op == "$eq":
            return _scalar(key, value)
        if op == "$contains":
            items = value if isinstance(value, list) else [value]
            return [_scalar(key, item) for item in items]
        raise UnsupportedFilter(f"{key!r}: operator {op!r} is not supported ($eq, $contains)")
    return _scalar(key, condition)


def _scalar(key: str, value: Any) -> JsonScalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise UnsupportedFilter(
        f"{key!r}: compares with a {type(value).__name__}; only strings, numbers, booleans "
        "and null can be compared"
    )


def _merge(out: dict[str, Any], key: str, value: Any) -> None:
    """Add ``key``'s condition to ``out``: two lists join (both must be held); two equal
    scalars are one; anything else asks for two values at once."""
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list) and isinstance(value, list):
        out[key] = out[key] + [v for v in value if v not in out[key]]
    elif out[key] != value or isinstance(value, list) != isinstance(out[key], list):
        raise UnsupportedFilter(f"{key!r}: asked for two different values at once")
