"""FastAPI dependencies: the process's :class:`~shared.runtime.context.Runtime` and watcher,
and the request's :class:`~shared.auth.context.RequestContext`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.context import RequestContext
from shared.runtime.context import Runtime
from shared.streams.follow import RunWatcher


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was created with."""
    return request.app.state.runtime


def get_watcher(request: Request) -> RunWatcher:
    """The process's run watcher."""
    return request.app.state.watcher


def get_context(request: Request) -> RequestContext:
    """The request context the edge built (:class:`functions.intake.auth.Authenticate`)."""
    return request.state.ctx


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
WatcherDep = Annotated[RunWatcher, Depends(get_watcher)]
CtxDep = Annotated[RequestContext, Depends(get_context)]
