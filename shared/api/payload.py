"""The one check of the JSON a client sends, made where it enters: REST bodies, query and path
parameters (intake's edge route), CloudEvents, A2A and MCP messages. Only values that
PostgreSQL, asyncpg and the JSON encoder can hold get in, so whatever is accepted can be read
back, and nothing a client sends can make a later read fail.

Refused (the caller answers 4xx with the reason and where it sits):

- a string or key with a NUL character (``text`` and ``jsonb`` cannot hold it) or a lone UTF-16
  surrogate (``"\\ud800"``: not encodable as UTF-8);
- an integer outside the signed 64-bit range (PostgreSQL ``bigint``, asyncpg, orjson);
- a number that is not finite (``NaN``, ``Infinity``, ``1e400``);
- objects and arrays nested deeper than :data:`MAX_DEPTH` levels (stored values are sent back
  inside other objects, and the JSON encoder stops at 255 levels).

The official server refuses lone surrogates as invalid JSON (422) and nesting past its
encoder's limit (400); lg-deploy answers 422 for every case, naming the place.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting of objects and arrays in a JSON document a client sends (the document
itself is level 1)."""
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
"""Largest PostgreSQL ``integer`` (assistant versions, other ``int4`` columns)."""

Loc = tuple[str | int, ...]


class Unstorable(ValueError):
    """A client's value lg-deploy will not take: ``reason`` says why, ``loc`` is the path to
    the offending part from the checked value (object keys and array indexes)."""

    def __init__(self, reason: str, loc: Loc = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.loc = loc

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc)
        return f"{self.reason} (at {where})" if where else self.reason


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "strings must not contain NUL characters (\\u0000)"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "strings must not contain lone UTF-16 surrogates (\\ud800-\\udfff)"
    return None


def printable(key: str | int) -> str | int:
    """``key`` as it can be sent back in an error (lone surrogates escaped)."""
    return key.encode(errors="backslashreplace").decode() if isinstance(key, str) else key


def check(value: Any, _depth: int = 1) -> Any:
    """``value`` (decoded JSON: dict, list, str, int, float, bool, None) unchanged when every
    part of it can be stored and sent back; raises :class:`Unstorable` otherwise."""
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            raise Unstorable(problem)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise Unstorable("integers must fit in 64 bits (-2^63 to 2^63-1)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Unstorable("numbers must be finite")
    elif isinstance(value, (dict, list)):
        if _depth > MAX_DEPTH:
            raise Unstorable(f"JSON must not be nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            try:
                if isinstance(key, str):
                    check(key)
                check(item, _depth + 1)
            except Unstorable as exc:
                exc.loc = (printable(key), *exc.loc)
                raise
    return value


def loads(raw: bytes | str) -> Any:
    """``raw`` decoded as JSON and :func:`check`-ed. Raises ``json.JSONDecodeError`` (not
    JSON), ``UnicodeDecodeError`` (not UTF-8) or :class:`Unstorable`."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:  # nested past the decoder's own limit
        raise Unstorable(f"JSON must not be nested deeper than {MAX_DEPTH} levels") from exc
    return check(value)
