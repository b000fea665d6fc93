"""Identifier helpers: time-ordered ids for threads and runs, fixed ids for system assistants.

Source: Agent Server API conventions (new thread/run ids are UUIDv7; the default assistant of a
graph is ``uuid5(NAMESPACE_URL-like constant, graph_id)``).
"""

from __future__ import annotations

import uuid

import uuid_utils

SYSTEM_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def new_id() -> uuid.UUID:
    """A fresh UUIDv7 (time ordered), for threads and runs."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def system_assistant_id(graph_id: str) -> uuid.UUID:
    """The id of the default assistant of ``graph_id``: stable across restarts and servers."""
    return uuid.uuid5(SYSTEM_ASSISTANT_NAMESPACE, graph_id)


def parse_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID, or ``None`` when it is not one."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
