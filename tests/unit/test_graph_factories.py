"""Graph factory shapes (:class:`shared.graphs.factories.Factory`): which parameter gets the
config and which the ``ServerRuntime``, how each shape is called and left, and the runtime of
each access context, as the official Agent Server does them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest
from langgraph.config import get_config
from langgraph.store.memory import InMemoryStore
from langgraph_sdk.runtime import ServerRuntime, _ExecutionRuntime, _ReadRuntime

from shared.auth.context import Caller
from shared.auth.user import AuthUser
from shared.graphs.factories import Factory

CONFIG: Any = {"configurable": {"k": "v"}}


def no_params() -> Any:
    return ()


def config_only(config: Any) -> Any:
    return ("config", config)


def runtime_only(runtime: ServerRuntime) -> Any:
    return ("runtime", runtime)


def generic_runtime(runtime: ServerRuntime[dict[str, Any]]) -> Any:
    return ("runtime", runtime)


def unresolvable(runtime: ServerRuntime[NoSuchContext]) -> Any:  # type: ignore[name-defined]  # noqa: F821
    return ("runtime", runtime)


def annotated_first(rt: Annotated[ServerRuntime, "meta"], cfg: dict[str, Any]) -> Any:
    return ("runtime", rt, "config", cfg)


def concrete_second(config: Any, runtime: _ReadRuntime) -> Any:
    return ("config", config, "runtime", runtime)


def positional_only(config: Any, /) -> Any:
    return ("config", config)


def star_args(*args: Any) -> Any:
    return ("config", *args)


async def coroutine(runtime: ServerRuntime) -> Any:
    return ("runtime", runtime)


SHAPES: list[tuple[Callable[..., Any], tuple[str, ...]]] = [
    (no_params, ()),
    (config_only, ("config",)),
    (runtime_only, ("runtime",)),
    (generic_runtime, ("runtime",)),
    (unresolvable, ("runtime",)),
    (annotated_first, ("runtime", "config")),
    (concrete_second, ("config", "runtime")),
    (positional_only, ("config",)),
    (star_args, ("config",)),
    (coroutine, ("runtime",)),
]


@pytest.mark.parametrize(("fn", "expected"), SHAPES, ids=[fn.__name__ for fn, _ in SHAPES])
async def test_each_parameter_gets_the_config_or_the_runtime_by_its_annotation(
    fn: Callable[..., Any], expected: tuple[str, ...]
) -> None:
    async with Factory.of(fn).build(CONFIG, "threads.read", InMemoryStore()) as made:
        got = made[0::2]
        assert got == expected
        for kind, value in zip(got, made[1::2], strict=True):
            if kind == "config":
                assert value is CONFIG
            else:
                assert isinstance(value, _ReadRuntime)


async def test_the_runtime_of_a_run_carries_a_copy_of_its_context_and_no_user() -> None:
    context = {"model": "m"}
    store = InMemoryStore()
    async with Factory.of(runtime_only).build(CONFIG, "threads.create_run", store, context) as made:
        runtime = made[1]
    assert isinstance(runtime, _ExecutionRuntime)
    assert runtime.execution_runtime is runtime
    assert (runtime.access_context, runtime.user, runtime.store) == (
        "threads.create_run",
        None,
        store,
    )
    assert runtime.context == context and runtime.context is not context


@pytest.mark.parametrize("access", ["assistants.read", "threads.read", "threads.update"])
async def test_other_uses_get_a_read_runtime_with_an_unauthenticated_user(access: str) -> None:
    async with Factory.of(runtime_only).build(CONFIG, access, None) as made:  # type: ignore[arg-type]
        runtime = made[1]
    assert isinstance(runtime, _ReadRuntime)
    assert runtime.access_context == access and runtime.execution_runtime is None
    user = runtime.ensure_user()
    assert (user.identity, user.display_name, user.is_authenticated) == ("", "", False)
    assert list(user.permissions) == [] and user["identity"] == "" and "identity" in user


@pytest.mark.parametrize("access", ["threads.create_run", "threads.read"])
async def test_the_runtime_carries_the_user_of_the_configs_langgraph_auth_user(access: str) -> None:
    """As the official server: a run's factory gets the run's user, a request's the
    request's (``config["configurable"]["langgraph_auth_user"]``, :mod:`shared.auth.user`)."""
    user = AuthUser.of(Caller("alice", permissions=("read",)))
    config: Any = {"configurable": {"langgraph_auth_user": user}}
    async with Factory.of(runtime_only).build(config, access, InMemoryStore(), {}) as made:
        runtime = made[1]
    assert runtime.user is user and runtime.ensure_user().identity == "alice"


async def test_context_managers_are_entered_with_the_config_current_and_exited_after() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def managed(runtime: ServerRuntime) -> AsyncIterator[str]:
        events.append(f"enter {get_config()['configurable']['k']}")
        yield "async graph"
        events.append("exit")

    @contextlib.contextmanager
    def sync_managed(config: Any) -> Iterator[str]:
        events.append("sync enter")
        yield "sync graph"
        events.append("sync exit")

    async with Factory.of(managed).build(CONFIG, "threads.read", None) as made:
        assert (made, events) == ("async graph", ["enter v"])
    assert events[-1] == "exit"
    with pytest.raises(RuntimeError):  # the config is current only while the factory runs
        get_config()
    async with Factory.of(sync_managed).build(CONFIG, "threads.read", None) as made:
        assert (made, events[-1]) == ("sync graph", "sync enter")
    assert events[-1] == "sync exit"


async def test_a_failure_inside_the_use_reaches_the_context_manager() -> None:
    seen: list[BaseException] = []

    @contextlib.asynccontextmanager
    async def managed(runtime: ServerRuntime) -> AsyncIterator[str]:
        try:
            yield "graph"
        except ValueError as exc:
            seen.append(exc)
            raise

    with pytest.raises(ValueError, match="boom"):
        async with Factory.of(managed).build(CONFIG, "threads.read", None):
            raise ValueError("boom")
    assert len(seen) == 1
