"""The context a run hands its graph, as the official Agent Server builds it.

Source: langgraph-api (run creation and execution). A run's context is the assistant's
``context`` merged with the run's own: the run's ``context``, or its ``config.configurable``
when it gives no context; a ``context`` the caller gives is mirrored into the run's
``config.configurable``. When the run starts, keys the graph's ``context_schema`` (dataclass,
pydantic model or TypedDict) does not declare are dropped, also from that mirror, and the graph
always gets a dict: LangGraph makes a dataclass or pydantic schema's instance of it, so the
schema's defaults apply when the run gives no context. A graph without a context schema (or one
whose JSON schema lists no properties) gets every key.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from langgraph.pregel import Pregel
from pydantic import TypeAdapter

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def _declared(schema: Any) -> frozenset[str]:
    """The property names of ``schema``'s JSON schema; empty when it has none or cannot be
    made (then nothing is dropped)."""
    try:
        properties = TypeAdapter(schema).json_schema().get("properties") or {}
    except Exception as exc:  # a user type pydantic cannot describe: keep every key
        log.debug("context schema %r has no JSON schema: %s", schema, exc)
        return frozenset()
    return frozenset(properties)


def graph_context(
    graph: Pregel, context: dict[str, Any] | None, mirror: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The context ``graph`` gets for a run whose merged context is ``context``: the keys its
    context schema declares (every key without a schema). Each dropped key is also removed from
    ``mirror`` (the run's ``configurable``, when it mirrors a context the caller gave) where
    it holds the same value."""
    given = dict(context or {})
    schema: Any = graph.context_schema
    declared = _declared(schema) if schema is not None and given else None
    if not declared:
        return given
    kept = {key: value for key, value in given.items() if key in declared}
    if mirror is not None:
        for key in given.keys() - kept.keys():
            if key in mirror and mirror[key] == given[key]:
                del mirror[key]
    return kept
