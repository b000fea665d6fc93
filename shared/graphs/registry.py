"""Load the graphs named in ``langgraph.json`` and hand out copies bound to the checkpointer.

A graph entry may be a compiled graph (``Pregel``), an uncompiled ``StateGraph`` (compiled
here), or a factory of a shape the official Agent Server accepts (``shared/graphs/factories.py``:
``config`` and/or ``ServerRuntime`` parameters, sync or async, possibly a context manager).
Factories are called for every use (run, schema read, state read); compiled graphs are loaded
once. An unsupported factory shape stops start-up with a :class:`ConfigError`. A graph with
LangGraph's default name is handed out named after its graph id, as the official server does
(its schemas' titles and its runs' root event are named after it).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph_sdk.runtime import AccessContext

from shared.errors import NotFound
from shared.graphs.config import ConfigError, GraphSpec, ObjectRef, ProjectConfig
from shared.graphs.factories import Factory, as_pregel

DEFAULT_NAME = "LangGraph"
"""The name LangGraph gives a graph compiled without one."""


@dataclass
class LoadedGraph:
    """One graph id's loaded object: ``graph`` for a compiled graph, or ``factory``."""

    spec: GraphSpec
    graph: Pregel | None
    factory: Factory | None


def import_object(project: ProjectConfig, ref: ObjectRef, module_name: str) -> Any:
    """The object ``ref`` names; a file is imported as module ``module_name``.

    Raises :class:`ConfigError` naming ``ref.key`` when the import fails or the name is missing.
    """
    try:
        if ref.is_file:
            file = Path(ref.module_ref)
            folder = str(file.parent)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            mod_spec = importlib.util.spec_from_file_location(module_name, file)
            if mod_spec is None or mod_spec.loader is None:
                raise ConfigError(project.path, ref.key, f"cannot import {file}")
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[module_name] = module  # before exec: annotations resolve through it
            try:
                mod_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[module_name]
                raise
        else:
            module = importlib.import_module(ref.module_ref)
    except ConfigError:
        raise
    except Exception as exc:  # user code: any import-time failure is a config problem
        raise ConfigError(
            project.path,
            ref.key,
            f"importing {ref.module_ref!r} failed: {type(exc).__name__}: {exc}",
        ) from exc
    if not hasattr(module, ref.variable):
        raise ConfigError(
            project.path, ref.key, f"variable {ref.variable!r} not found in {ref.module_ref!r}"
        )
    return getattr(module, ref.variable)


class GraphRegistry:
    """Every graph of a project, by graph id. Build with :meth:`load` (raises ConfigError)."""

    def __init__(self, graphs: dict[str, LoadedGraph]) -> None:
        self._graphs = graphs

    @classmethod
    def load(cls, project: ProjectConfig) -> GraphRegistry:
        """Import every graph of ``project``; dependencies are put on ``sys.path`` first."""
        for dep in reversed(project.dependencies):  # the first listed comes first on sys.path
            if str(dep) not in sys.path:
                sys.path.insert(0, str(dep))
        loaded: dict[str, LoadedGraph] = {}
        for graph_id, spec in project.graphs.items():
            obj = import_object(project, spec, "_lgd_graph_" + re.sub(r"\W", "_", graph_id))
            graph = as_pregel(obj)
            if graph is not None:
                loaded[graph_id] = LoadedGraph(spec, graph, None)
            elif callable(obj):
                try:
                    loaded[graph_id] = LoadedGraph(spec, None, Factory.of(obj))
                except ValueError as exc:
                    raise ConfigError(project.path, spec.key, str(exc)) from exc
            else:
                raise ConfigError(
                    project.path,
                    spec.key,
                    f"{spec.variable!r} is a {type(obj).__name__}, not a graph or a graph factory",
                )
        return cls(loaded)

    @property
    def graph_ids(self) -> list[str]:
        """Graph ids in ``langgraph.json`` order."""
        return list(self._graphs)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._graphs

    def description(self, graph_id: str) -> str | None:
        """The ``description`` given in ``langgraph.json``, if any."""
        return self._graphs[graph_id].spec.description

    def name(self, graph_id: str) -> str:
        """The graph's own name (``compile(name=...)``), else its graph id (a factory's too):
        the name of its system assistant, as the official server names it."""
        graph = self._graphs[graph_id].graph
        if graph is None or graph.name == DEFAULT_NAME:
            return graph_id
        return graph.name

    @asynccontextmanager
    async def use(
        self,
        graph_id: str,
        access: AccessContext,
        config: RunnableConfig,
        *,
        store: BaseStore | None,
        checkpointer: BaseCheckpointSaver | None = None,
        context: Any = None,
    ) -> AsyncIterator[Pregel]:
        """The graph ``graph_id`` bound to ``checkpointer`` and ``store``, for one use.

        ``access`` says why it is wanted (``threads.create_run``, ``threads.read``,
        ``threads.update`` or ``assistants.read``, as on the official server); a factory is
        called with it, ``config`` and, for a run, the run's ``context``, and a factory that is
        a context manager is exited when this context ends. Raises NotFound (unknown graph id),
        TypeError (a factory that built no graph) and whatever the factory raises.
        """
        entry = self._graphs.get(graph_id)
        if entry is None:
            raise NotFound(f"Graph '{graph_id}' not found")
        if entry.factory is None:
            assert entry.graph is not None
            yield _bind(graph_id, entry.graph, checkpointer, store)
            return
        async with entry.factory.build(config, access, store, context) as built:
            graph = as_pregel(built)
            if graph is None:
                raise TypeError(f"factory of graph {graph_id!r} returned {type(built).__name__}")
            yield _bind(graph_id, graph, checkpointer, store)


def _bind(
    graph_id: str,
    graph: Pregel,
    checkpointer: BaseCheckpointSaver | None,
    store: BaseStore | None,
) -> Pregel:
    update: dict[str, Any] = {}
    if graph.name == DEFAULT_NAME:
        update["name"] = graph_id
    if checkpointer is not None:
        update["checkpointer"] = checkpointer
    if store is not None:
        update["store"] = store
    return graph.copy(update=update) if update else graph
