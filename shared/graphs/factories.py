"""Graph factories of the shapes the official Agent Server accepts, and how they are called.

Source: langgraph-api's graph loading (``langgraph dev``, langgraph-api 0.16). A graph entry of
``langgraph.json`` may name a function that builds the graph. It takes no parameter, or one,
or two: a parameter annotated ``ServerRuntime`` (``langgraph_sdk.runtime``; also
``ServerRuntime[Ctx]``, ``Annotated[ServerRuntime, …]``, its concrete classes, or the name as
a string under ``TYPE_CHECKING``) gets the server runtime, any other gets the ``config``. Two
parameters must be one of each; other shapes are refused when the project is loaded.

It may be sync or async, and may return (or be) a sync or async context manager: that is
entered for one use of the graph and exited after it (a run, a schema read, a state read).

Each call says why the graph is wanted (``access_context``): ``threads.create_run`` for a run
(the runtime then carries the run's ``context``: the assistant's merged with the run's, before
the graph's context schema filters it), ``assistants.read`` for schemas, subgraphs and
drawings, ``threads.read`` for state and history reads, ``threads.update`` for state writes.
The runtime's ``user`` is the one in the config's ``configurable["langgraph_auth_user"]``
(the run's or the request's user, see :mod:`shared.auth.user`); without one it is ``None`` for
runs and an unauthenticated user (identity ``""``) for requests, as on the official server.
While the factory runs, ``langgraph.config.get_config()`` answers its config.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, cast, get_args, get_origin

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph_sdk.auth.types import BaseUser
from langgraph_sdk.runtime import AccessContext, ServerRuntime, _ExecutionRuntime, _ReadRuntime
from starlette import authentication

_RUNTIME_CLASSES = (_ExecutionRuntime, _ReadRuntime)
_NAMES = {"ServerRuntime": ServerRuntime, "RunnableConfig": RunnableConfig}
"""Names a factory's string annotations may use without importing them at run time."""

RUN: AccessContext = "threads.create_run"


def _is_runtime(annotation: Any) -> bool:
    """Whether a parameter annotation asks for the ``ServerRuntime``."""
    if isinstance(annotation, str):  # unresolvable: judged by its name
        name = annotation.split("[", 1)[0].strip()
        return name == "ServerRuntime" or name.endswith(".ServerRuntime")
    if annotation is ServerRuntime:
        return True
    if isinstance(annotation, type):
        return issubclass(annotation, _RUNTIME_CLASSES)
    origin = get_origin(annotation)
    if origin is ServerRuntime:
        return True
    args = get_args(annotation)
    return origin is not None and bool(args) and _is_runtime(args[0])


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, localns=_NAMES)
    except Exception:  # user annotations: any that cannot be resolved is judged by name
        return {}


@dataclass(frozen=True)
class Factory:
    """A graph factory and what each of its parameters receives (``"config"``/``"runtime"``).

    Build with :meth:`of`; :meth:`build` calls it."""

    fn: Callable[..., Any]
    params: tuple[tuple[inspect.Parameter, str], ...]

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> Factory:
        """Classify ``fn`` by its parameters. Raises ValueError (the problem, for the user)
        when it has more than two, or two that are not one runtime and one config."""
        name = getattr(fn, "__name__", repr(fn))
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"cannot read the parameters of graph factory {name!r}: {exc}"
            ) from exc
        hints = _hints(fn)
        kinds = [
            "runtime" if _is_runtime(hints.get(p.name, p.annotation)) else "config" for p in params
        ]
        names = [p.name for p in params]
        if len(params) > 2:
            raise ValueError(
                f"a graph factory takes at most two parameters (a config and a ServerRuntime); "
                f"{name!r} takes {len(params)}: {names}"
            )
        if len(params) == 2 and sorted(kinds) != ["config", "runtime"]:
            raise ValueError(
                f"a graph factory of two parameters takes a config and one annotated "
                f"ServerRuntime (langgraph_sdk.runtime); {name!r} takes {names}, "
                f"{'both' if kinds[0] == 'runtime' else 'neither'} annotated ServerRuntime"
            )
        return cls(fn, tuple(zip(params, kinds, strict=True)))

    @asynccontextmanager
    async def build(
        self,
        config: RunnableConfig,
        access: AccessContext,
        store: BaseStore | None,
        context: Any = None,
    ) -> AsyncIterator[Any]:
        """Call the factory for ``access`` and yield what it built (entered when it is a
        context manager, which is exited when this context ends). ``context`` is the run's
        context (for runs only). The factory's own exceptions propagate."""
        user = (config.get("configurable") or {}).get("langgraph_auth_user")
        runtime = server_runtime(access, store, context, user)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param, kind in self.params:
            value = runtime if kind == "runtime" else config
            if param.kind in (param.POSITIONAL_ONLY, param.VAR_POSITIONAL):
                args.append(value)
            else:
                kwargs[param.name] = value
        async with AsyncExitStack() as stack:
            with _current_config(config):
                made = self.fn(*args, **kwargs)
                if hasattr(made, "__aenter__") and hasattr(made, "__aexit__"):
                    made = await stack.enter_async_context(made)
                elif hasattr(made, "__enter__") and hasattr(made, "__exit__"):
                    made = stack.enter_context(made)
                elif inspect.isawaitable(made):
                    made = await made
            yield made


class UnauthenticatedUser(authentication.UnauthenticatedUser):
    """The user of a request without custom auth: starlette's (identity ``""``, not
    authenticated) with the rest of the SDK's ``BaseUser`` protocol (no permissions; read
    as a mapping of those fields too)."""

    @property
    def permissions(self) -> Sequence[str]:
        return ()

    def _fields(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "display_name": self.display_name,
            "is_authenticated": self.is_authenticated,
            "permissions": self.permissions,
        }

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._fields()

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())


def server_runtime(
    access: AccessContext, store: BaseStore | None, context: Any, user: BaseUser | None = None
) -> ServerRuntime:
    """The ``langgraph_sdk.runtime.ServerRuntime`` a factory gets for ``access``: for runs
    with the run's ``context`` (a shallow copy) and ``user`` (``None`` when anonymous), for
    every other use (requests) with ``user``, else an :class:`UnauthenticatedUser`. ``store``
    is open in every lg-deploy process (the SDK types it as always present)."""
    always = cast(BaseStore, store)
    if access == RUN:
        return _ExecutionRuntime(
            access_context=access, user=user, store=always, context=copy.copy(context)
        )
    return _ReadRuntime(access_context=access, user=user or UnauthenticatedUser(), store=always)


@contextmanager
def _current_config(config: RunnableConfig) -> Iterator[None]:
    token = var_child_runnable_config.set(config)
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


def as_pregel(obj: Any) -> Pregel | None:
    """``obj`` as a compiled graph (a ``StateGraph`` is compiled), else ``None``."""
    if isinstance(obj, Pregel):
        return obj
    if isinstance(obj, StateGraph):
        return obj.compile()
    return None
