"""The edge of intake: every route's request passes :class:`EdgeRoute` before its handler.

One check for every REST operation (A2A, MCP and ``/cloudevents`` decode their bodies with the
same :func:`shared.api.payload.loads`): path and query parameters and the JSON body must hold
only what PostgreSQL and the wire can hold (:mod:`shared.api.payload`). Anything else is
refused with ``422 {"detail": [{"type", "loc", "msg"}]}`` (the shape of FastAPI's validation
errors, ``loc`` starting with ``path``, ``query`` or ``body``) before the route runs, so it
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from shared.api.payload import Unstorable, check, loads


def refusal(where: str, exc: Unstorable) -> HTTPException:
    """The 422 answering ``exc``, found in the request's ``where`` (``body``, ``query``…)."""
    problem = {"type": "value_error", "loc": [where, *exc.loc], "msg": exc.reason}
    return HTTPException(422, detail=[problem])


class _CheckedRequest(Request):
    """A request whose JSON body is decoded and checked by :func:`loads` (FastAPI reads JSON
    bodies through ``Request.json``)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads(await self.body())
            except Unstorable as exc:
                raise refusal("body", exc) from exc
            except UnicodeDecodeError as exc:
                raise refusal("body", Unstorable("the body must be UTF-8 JSON")) from exc
        return self._json


def _check_params(where: str, params: Iterable[tuple[str, Any]]) -> None:
    for name, value in params:
        try:
            check(value)
        except Unstorable as exc:
            exc.loc = (name, *exc.loc)
            raise refusal(where, exc) from exc


class EdgeRoute(APIRoute):
    """An ``APIRoute`` that checks path and query parameters and reads the JSON body through
    :func:`shared.api.payload.loads`; every intake router uses it (``route_class``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            _check_params("path", request.path_params.items())
            _check_params("query", request.query_params.multi_items())
            return await handler(_CheckedRequest(request.scope, request.receive))

        return checked
