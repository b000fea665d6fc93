"""Make two servers' answers comparable: what differs by nature (ids, times, ports) is replaced
by a placeholder, and what differs by choice (tests/ecosystem/README.md, "Differences") is
dropped.

``normalise(value)`` walks JSON-like data (dicts, lists, strings, numbers) and returns a copy
in which every UUID becomes ``"<uuid>"``, every 32-hex-digit id (interrupt ids) ``"<hex>"``,
every ISO-8601 date-time ``"<time>"`` and every loopback URL ``"<url>"``, inside longer
strings too (``"lc_run--<uuid>-0"``, ``"Bob:<uuid>"``). Dict key order is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEX = re.compile(r"\b[0-9a-f]{32}\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_URL = re.compile(r"http://(127\.0\.0\.1|localhost):\d+")


def _text(value: str) -> str:
    value = _UUID.sub("<uuid>", value)
    value = _HEX.sub("<hex>", value)
    value = _TIME.sub("<time>", value)
    return _URL.sub("<url>", value)


def _matcher(rules: Iterable[str]) -> Callable[[str | None, str], bool]:
    """Whether a dict entry ``(parent key, key)`` is named by ``rules``: ``"key"`` anywhere,
    ``"parent.key"`` only in a dict that is the value of ``parent`` (list items count as the
    list's value)."""
    parsed = {tuple(rule.split(".")) for rule in rules}
    return lambda parent, key: (key,) in parsed or (parent, key) in parsed


def normalise(value: Any, drop: Iterable[str] = ()) -> Any:
    """``value`` with ids, times and URLs replaced (see the module docstring) and the dict
    entries the ``drop`` rules name removed, at any depth (see :func:`_matcher`)."""
    dropped = _matcher(drop)

    def walk(item: Any, parent: str | None) -> Any:
        if isinstance(item, dict):
            return {
                _text(str(k)): walk(v, str(k))
                for k, v in item.items()
                if not dropped(parent, str(k))
            }
        if isinstance(item, list | tuple):
            return [walk(v, parent) for v in item]
        if isinstance(item, str):
            return _text(item)
        return item

    return walk(value, None)


def pick(value: Any, rules: Iterable[str]) -> list[str]:
    """The dict entries the ``rules`` name (see :func:`_matcher`), one ``path = value`` line
    each, in document order: what :func:`normalise` with ``drop=rules`` would remove. Paths
    leave list positions out (``$[].messages[].id``), so an event more or less elsewhere does
    not shift every line."""
    wanted = _matcher(rules)
    out: list[str] = []

    def walk(item: Any, parent: str | None, path: str) -> None:
        if isinstance(item, dict):
            for k, v in item.items():
                if wanted(parent, str(k)):
                    out.append(f"{path}.{k} = {_short(v)}")
                else:
                    walk(v, str(k), f"{path}.{k}")
        elif isinstance(item, list | tuple):
            for v in item:
                walk(v, parent, f"{path}[]")

    walk(value, None, "$")
    return out


_MESSAGE_TYPES = {"human", "ai", "tool", "system", "AIMessageChunk"}


def settle_output_ids(value: Any, inside: bool = False) -> Any:
    """``value`` with the ``id`` of every message inside a task's ``result`` or an ``updates``
    event (a dict whose keys are node names) replaced by ``"<id>"``.

    A node may return a message without an id; LangGraph's ``add_messages`` gives it one in place
    when it applies the node's writes, which can come before or after the writes are saved or
    streamed, so either server shows the id or ``null`` there, run to run."""
    if isinstance(value, list):
        return [settle_output_ids(v, inside) for v in value]
    if not isinstance(value, dict):
        return value
    if inside and value.get("type") in _MESSAGE_TYPES and "content" in value:
        return {
            k: ("<id>" if k == "id" else settle_output_ids(v, inside)) for k, v in value.items()
        }
    return {k: settle_output_ids(v, inside or k == "result") for k, v in value.items()}


_LIFTED = ("usage_metadata", "invalid_tool_calls")


def lift_message_fields(value: Any) -> Any:
    """``value`` with every AI message whose ``usage_metadata``/``invalid_tool_calls`` sit in
    ``additional_kwargs`` (as LangChain builds a message from a dict with unknown keys) given
    them back at the top level, where LangGraph itself keeps them."""
    if isinstance(value, list):
        return [lift_message_fields(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: lift_message_fields(v) for k, v in value.items()}
    extra = out.get("additional_kwargs")
    if out.get("type") == "ai" and isinstance(extra, dict) and "usage_metadata" in extra:
        out["additional_kwargs"] = {k: v for k, v in extra.items() if k not in _LIFTED}
        out |= {k: extra[k] for k in _LIFTED if k in extra}
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def differences(ours: Any, official: Any, path: str = "$") -> list[str]:
    """Where the two values differ, one line per place: a JSON path, then what each has."""
    if isinstance(ours, dict) and isinstance(official, dict):
        out: list[str] = []
        for key in [*official, *(k for k in ours if k not in official)]:
            where = f"{path}.{key}"
            if key not in ours:
                out.append(f"{where}: official {_short(official[key])}, lg-deploy has no such key")
            elif key not in official:
                out.append(f"{where}: lg-deploy {_short(ours[key])}, official has no such key")
            else:
                out += differences(ours[key], official[key], where)
        return out
    if isinstance(ours, list) and isinstance(official, list):
        out = []
        if len(ours) != len(official):
            out.append(f"{path}: official {len(official)} items, lg-deploy {len(ours)}")
        for i, (a, b) in enumerate(zip(ours, official, strict=False)):
            out += differences(a, b, f"{path}[{i}]")
        return out
    if ours != official:
        return [f"{path}: official {_short(official)}, lg-deploy {_short(ours)}"]
    return []


def assert_same(ours: Any, official: Any, what: str, limit: int = 40) -> None:
    """Fail, listing where they differ, unless the normalised values are equal."""
    found = differences(ours, official)
    if found:
        more = f"\n... and {len(found) - limit} more" if len(found) > limit else ""
        lines = "\n".join(found[:limit])
        raise AssertionError(f"{what} differs from the official server:\n{lines}{more}")
