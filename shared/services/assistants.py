"""Assistants: versioned settings (config, context, metadata, name) of one graph.

Every change stores a new version and makes it current; any stored version can be made current
again. ``config.configurable`` and ``context`` are kept mirrored. Drawings and JSON schemas of
an assistant's graph come from LangGraph itself (a factory graph is built with the assistant's
config). Source: Agent Server API, "Assistants" and "Assistant versioning notes".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from langchain_core.runnables import RunnableConfig
from langchain_core.utils.pydantic import create_model
from langgraph.channels.base import BaseChannel
from langgraph.pregel import Pregel
from pydantic import TypeAdapter

from shared.api.assistants import (
    AssistantCreate,
    AssistantFilter,
    AssistantPatch,
    AssistantSearch,
    AssistantVersionSearch,
)
from shared.api.common import Config, Json
from shared.auth.context import RequestContext
from shared.auth.user import auth_configurable
from shared.db import assistants as assistants_db
from shared.db import runs as runs_db
from shared.db.scope import Scope
from shared.errors import BadRequest, Conflict, NotFound
from shared.execution.checkpointer import plain_saver
from shared.runtime.context import Runtime
from shared.runtime.tenant_store import tenant_store
from shared.services.access import scope_of
from shared.services.pages import Page, search_page
from shared.services.runs import cancel_runs, resolve_assistant

log = logging.getLogger(__name__)


def settings(
    config: Config | None, context: Json | None, current_config: Json, current_context: Json
) -> tuple[Json, Json]:
    """The ``(config, context)`` of a new version: given values replace the current ones, and
    ``config.configurable`` mirrors ``context`` (whichever was given fills the other).

    Raises BadRequest when both ``config.configurable`` and ``context`` are given.
    """
    if config is not None and config.configurable and context:
        raise BadRequest("Cannot specify both configurable and context. Use context instead.")
    new_config = config.model_dump(exclude_unset=True) if config is not None else current_config
    if config is not None and config.configurable:
        new_context = dict(config.configurable)
    else:
        new_context = context if context is not None else current_context
    if new_context or "configurable" in new_config:
        new_config = {**new_config, "configurable": new_context}
    return new_config, new_context


async def _row(
    conn: asyncpg.Pool | asyncpg.Connection,
    assistant_id: uuid.UUID,
    scope: Scope,
    *,
    for_update: bool = False,
    write: bool = False,
) -> asyncpg.Record:
    row = await assistants_db.get(conn, assistant_id, scope, for_update=for_update, write=write)
    if row is None:
        raise NotFound(f"Assistant '{assistant_id}' not found")
    return row


def _check_graph(rt: Runtime, graph_id: str) -> None:
    if graph_id not in rt.graphs:
        raise NotFound(f"Graph '{graph_id}' not found")


async def _readable(rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID) -> asyncpg.Record:
    """The assistant if ``ctx`` may read it (``assistants.read``). Raises NotFound."""
    scope = await scope_of(rt, ctx, "assistants", "read", {"assistant_id": assistant_id})
    return await _row(rt.db.pool, assistant_id, scope)


async def create_assistant(rt: Runtime, ctx: RequestContext, body: AssistantCreate) -> Json:
    """``POST /assistants``: a new assistant at version 1 (name "Untitled" unless given).

    Raises NotFound (graph not in the project), BadRequest (both ``config.configurable`` and
    ``context``), Conflict (id exists and ``if_exists="raise"``; with ``"do_nothing"`` the
    existing assistant is returned unchanged).
    """
    _check_graph(rt, body.graph_id)
    config, context = settings(body.config, body.context, {}, {})
    assistant_id = body.assistant_id or uuid.uuid4()
    value: dict[str, Any] = {
        "assistant_id": assistant_id,
        "graph_id": body.graph_id,
        "config": config,
        "context": context,
        "metadata": body.metadata or {},
        "if_exists": body.if_exists,
        "name": body.name or "Untitled",
    }
    scope = await scope_of(rt, ctx, "assistants", "create", value)
    fields = assistants_db.Fields(
        graph_id=body.graph_id,
        config=config,
        context=context,
        metadata=value["metadata"],
        name=body.name or "Untitled",
        description=body.description,
    )
    row = await assistants_db.insert(rt.db.pool, assistant_id, ctx.tenant_id, fields)
    if row is None and body.if_exists == "do_nothing":
        row = await assistants_db.get(rt.db.pool, assistant_id, scope)
    if row is None:
        raise Conflict(f"Assistant '{assistant_id}' already exists")
    return assistants_db.assistant_to_api(row)


async def get_assistant(rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID) -> Json:
    """``GET /assistants/{id}``: the assistant at its current version. Raises NotFound."""
    return assistants_db.assistant_to_api(await _readable(rt, ctx, assistant_id))


async def update_assistant(
    rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID, body: AssistantPatch
) -> Json:
    """``PATCH /assistants/{id}``: store the next version and make it current. Given fields
    replace the current ones, ``metadata`` is merged into the current metadata.

    Raises NotFound (assistant or graph; a system assistant for a tenant other than the
    default), BadRequest (both ``config.configurable`` and ``context``); nothing is stored
    when it raises.
    """
    if body.graph_id is not None:
        _check_graph(rt, body.graph_id)
    value: dict[str, Any] = {
        "assistant_id": assistant_id,
        **body.model_dump(include={"graph_id", "config", "context", "name"}),
        "metadata": body.metadata or {},
        "version": None,
    }
    scope = await scope_of(rt, ctx, "assistants", "update", value)
    async with rt.db.pool.acquire() as conn, conn.transaction():
        row = await _row(conn, assistant_id, scope, for_update=True)
        config, context = settings(body.config, body.context, row["config"], row["context"])
        fields = assistants_db.Fields(
            graph_id=body.graph_id or row["graph_id"],
            config=config,
            context=context,
            metadata={**row["metadata"], **value["metadata"]},
            name=row["name"] if body.name is None else body.name,
            description=row["description"] if body.description is None else body.description,
        )
        row = await assistants_db.add_version(conn, assistant_id, fields)
    return assistants_db.assistant_to_api(row)


async def delete_assistant(
    rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID, delete_threads: bool
) -> None:
    """``DELETE /assistants/{id}``: the assistant and all its versions; with
    ``delete_threads`` also the threads whose ``metadata.assistant_id`` is it, with their runs
    and checkpoints. Its pending and running runs are cancelled first (``interrupt``), as the
    official server does. Raises NotFound (then nothing is deleted or cancelled)."""
    scope = await scope_of(rt, ctx, "assistants", "delete", {"assistant_id": assistant_id})
    await _row(rt.db.pool, assistant_id, scope, write=True)  # one it may change
    in_flight = await runs_db.select_ids(
        rt.db.pool,
        Scope(ctx.tenant_id),
        statuses=list(runs_db.ACTIVE),
        assistant_id=assistant_id,
    )
    await cancel_runs(rt, [r["run_id"] for r in in_flight], "interrupt")
    async with rt.db.pool.acquire() as conn, conn.transaction():
        thread_ids = await assistants_db.delete(
            conn, assistant_id, scope, with_threads=delete_threads
        )
        if thread_ids is None:
            raise NotFound(f"Assistant '{assistant_id}' not found")
    saver = plain_saver(rt.db.checkpoint_pool)
    for thread_id in thread_ids:
        await saver.adelete_thread(str(thread_id))


async def _filter(rt: Runtime, ctx: RequestContext, body: AssistantFilter) -> assistants_db.Filter:
    """The search filter within what ``ctx`` may search (``assistants.search``)."""
    value: dict[str, Any] = {"graph_id": body.graph_id, "metadata": body.metadata or {}}
    if isinstance(body, AssistantSearch):
        value |= {"limit": body.limit, "offset": body.offset}
    scope = await scope_of(rt, ctx, "assistants", "search", value)
    return assistants_db.Filter(scope, body.graph_id, body.name, body.metadata)


async def search_assistants(rt: Runtime, ctx: RequestContext, body: AssistantSearch) -> Page:
    """``POST /assistants/search``: a page of matching assistants (only the ``select`` fields
    when given) and the total number of matches."""
    return await search_page(
        rt.db.pool,
        assistants_db.search,
        assistants_db.count,
        await _filter(rt, ctx, body),
        body,
        assistants_db.assistant_to_api,
    )


async def count_assistants(rt: Runtime, ctx: RequestContext, body: AssistantFilter) -> int:
    """``POST /assistants/count``: how many assistants match the filters."""
    return await assistants_db.count(rt.db.pool, await _filter(rt, ctx, body))


async def list_versions(
    rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID, body: AssistantVersionSearch
) -> list[Json]:
    """``POST /assistants/{id}/versions``: a page of versions, newest first. Raises NotFound."""
    await _readable(rt, ctx, assistant_id)
    async with rt.db.pool.acquire() as conn:
        rows = await assistants_db.versions(
            conn, assistant_id, metadata=body.metadata, limit=body.limit, offset=body.offset
        )
    return [assistants_db.version_to_api(r) for r in rows]


async def set_latest_version(
    rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID, version: int
) -> Json:
    """``POST /assistants/{id}/latest``: make stored ``version`` current (all its fields),
    authorized as ``assistants.update`` with ``version``. Raises NotFound (assistant or
    version)."""
    value = {"assistant_id": assistant_id, "version": version}
    scope = await scope_of(rt, ctx, "assistants", "update", value)
    async with rt.db.pool.acquire() as conn, conn.transaction():
        await _row(conn, assistant_id, scope, for_update=True)
        row = await assistants_db.set_latest(conn, assistant_id, version)
        if row is None:
            raise NotFound(f"Version {version} of assistant '{assistant_id}' not found")
    return assistants_db.assistant_to_api(row)


def _graph_of(
    rt: Runtime, ctx: RequestContext, row: asyncpg.Record
) -> AbstractAsyncContextManager[Pregel]:
    """The assistant's graph for a read (``assistants.read``), built from its config, with the
    caller's tenant's store (a system assistant has no tenant of its own)."""
    config = RunnableConfig(**{"configurable": {}, **row["config"]})
    config["configurable"] = {**config["configurable"], **auth_configurable(ctx.caller)}
    store = tenant_store(rt.store, ctx.tenant_id)
    return rt.graphs.use(row["graph_id"], "assistants.read", config, store=store)


async def drawable_graph(
    rt: Runtime, ctx: RequestContext, assistant_id: str, xray: bool | int
) -> Json:
    """``GET /assistants/{id}/graph``: LangGraph's drawable graph (``nodes``/``edges``) of an
    assistant given by UUID or graph id; ``xray`` expands subgraphs (``True`` or a depth).
    A node's ``data`` (its runnable's description) goes without its ``id`` (the runnable's
    Python import path, e.g. ``["langgraph", "_internal", ...]``), as the official server
    leaves it out. Raises NotFound (unknown assistant), Invalid (neither a UUID nor a graph
    id)."""
    resolved = await resolve_assistant(rt, ctx, rt.db.pool, assistant_id)
    row = await _readable(rt, ctx, resolved["assistant_id"])
    async with _graph_of(rt, ctx, row) as graph:
        drawing = (await graph.aget_graph(xray=xray)).to_json()
    for node in drawing.get("nodes", ()):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return drawing


def _schema(make: Callable[[], Json | None]) -> Json | None:
    try:
        return make()
    except Exception as exc:  # user-defined types: a schema may not be generable
        log.warning("cannot generate a JSON schema: %s: %s", type(exc).__name__, exc)
        return None


def _has_schema(typ: Any) -> bool:
    try:
        TypeAdapter(typ).json_schema()
    except Exception:  # any failure means pydantic cannot describe this type
        return False
    return True


def _channels_schema(graph: Pregel, title: str) -> Json:
    """An object schema with one property per state channel, typed by what it accepts
    (``Any`` where pydantic cannot describe the type), private channels (``_name``) included
    as the official server lists them: LangChain's ``create_model`` keeps them (by alias,
    titled without the underscore) where pydantic's would make them private attributes."""
    fields: dict[str, Any] = {}
    for name in graph.stream_channels_list:
        channel = graph.channels[name]
        if isinstance(channel, BaseChannel):
            typ = channel.UpdateType
            fields[name] = (typ if _has_schema(typ) else Any, None)
    return create_model(graph.get_name(title), **fields).model_json_schema()


RESERVED_CONFIGURABLE = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "__pregel_checkpointer",
    "__pregel_store",
)
"""``configurable`` keys the server sets itself: left out of ``config_schema``."""


def _config_schema(graph: Pregel) -> Json:
    """The graph's ``configurable`` options as the official server describes them: the schema
    of what a run's ``config.configurable`` holds (in LangGraph 1.x the context schema),
    without the keys the server sets; ``{}`` for a graph without one."""
    schema = graph.get_context_jsonschema()
    if schema is None:
        return {}
    properties = schema.get("properties") or {}
    for key in RESERVED_CONFIGURABLE:
        properties.pop(key, None)
    return schema


async def input_schema(rt: Runtime, ctx: RequestContext, row: asyncpg.Record) -> Json | None:
    """The ``input_schema`` of :func:`graph_schemas` for an assistant (an ``assistants`` row)
    alone, cheaper than all five. Raises NotFound when its graph left the project."""
    async with _graph_of(rt, ctx, row) as graph:
        return _schema(graph.get_input_jsonschema) or _schema(
            lambda: _channels_schema(graph, "State")
        )


def graph_schemas(graph: Pregel) -> Json:
    """``input_schema``, ``output_schema``, ``state_schema``, ``config_schema`` and
    ``context_schema`` of ``graph``; input and output fall back to the state channels' schema
    when LangGraph cannot generate them, any schema is ``None`` when it cannot be made."""
    state = _schema(lambda: _channels_schema(graph, "State"))
    return {
        "input_schema": _schema(graph.get_input_jsonschema) or state,
        "output_schema": _schema(graph.get_output_jsonschema) or state,
        "state_schema": state,
        "config_schema": _schema(lambda: _config_schema(graph)),
        "context_schema": _schema(graph.get_context_jsonschema),
    }


async def schemas(rt: Runtime, ctx: RequestContext, assistant_id: uuid.UUID) -> Json:
    """``GET /assistants/{id}/schemas``: ``graph_id`` and :func:`graph_schemas` of the
    assistant's graph. Raises NotFound."""
    row = await _readable(rt, ctx, assistant_id)
    async with _graph_of(rt, ctx, row) as graph:
        return {"graph_id": row["graph_id"], **graph_schemas(graph)}


async def subgraphs(
    rt: Runtime,
    ctx: RequestContext,
    assistant_id: uuid.UUID,
    namespace: str | None,
    recurse: bool,
) -> dict[str, Json]:
    """``GET /assistants/{id}/subgraphs[/{namespace}]``: namespace → :func:`graph_schemas` of
    each subgraph (only ``namespace`` when given; nested ones, ``|``-joined, with ``recurse``).
    Raises NotFound (assistant)."""
    async with _graph_of(rt, ctx, await _readable(rt, ctx, assistant_id)) as graph:
        return {
            ns: graph_schemas(sub)
            async for ns, sub in graph.aget_subgraphs(namespace=namespace, recurse=recurse)
            if isinstance(sub, Pregel)
        }
