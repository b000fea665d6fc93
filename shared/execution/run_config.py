"""The LangGraph config a run executes with, built from its ``runs`` row.

Source: the official server's run config: the run's stored ``config`` whose ``configurable``
gets the run's ids (``run_id``, ``thread_id``, ``graph_id``, ``assistant_id``), the user who
created the run (``langgraph_auth_user``, ``langgraph_auth_user_id``,
``langgraph_auth_permissions``, see :mod:`shared.auth.user`, from the run's stored
``request_context``) and ``user_id`` (its identity, unless the run's config names one), and whose
``metadata`` is the run's metadata plus the attempt (``run_attempt``) and the
``langgraph_version`` running it. LangGraph hands ``metadata`` to model callbacks (the
``messages-tuple`` metadata) and copies its scalars into each checkpoint's metadata; the
official server's webhook body shows this config as the run's ``kwargs.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.version import __version__ as LANGGRAPH_VERSION

from shared.auth.context import RequestContext
from shared.auth.user import auth_configurable


def run_config(row: Mapping[str, Any]) -> dict[str, Any]:
    """The config of the current attempt of the run in ``row`` (a ``runs`` row or a webhook
    outbox row: ``run_id``, ``thread_id``, ``assistant_id``, ``metadata`` with ``graph_id``,
    ``kwargs``, ``attempt``, and ``request_context``: without it, the run's user is
    anonymous), JSON-able; new dicts, ``row`` is not changed."""
    config = dict(row["kwargs"].get("config") or {})
    metadata = row["metadata"] or {}
    caller = RequestContext.from_json(row.get("request_context")).caller
    configurable = config.get("configurable") or {}
    config["configurable"] = {
        **configurable,
        **auth_configurable(caller),
        "user_id": configurable.get("user_id") or caller.identity,
        "run_id": str(row["run_id"]),
        "thread_id": str(row["thread_id"]),
        "graph_id": metadata.get("graph_id"),
        "assistant_id": str(row["assistant_id"]),
    }
    config["metadata"] = {
        **metadata,
        "run_attempt": row["attempt"],
        "langgraph_version": LANGGRAPH_VERSION,
    }
    return config
