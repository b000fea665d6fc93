"""HTTP plumbing of intake: the JSON response class, SSE framing and error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal, get_args

import anyio
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.api.common import ErrorBody
from shared.api.payload import printable
from shared.errors import DomainError
from shared.metrics import STREAM_CONNECTIONS
from shared.serde import dumps, to_jsonable
from shared.streams.follow import StoredEvent


class Json(JSONResponse):
    """JSON response encoded with lg-deploy's serde (messages, UUIDs, datetimes)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def paginated(items: list[Any], total: int, next_offset: int | None) -> Json:
    """A page of a search with ``X-Pagination-Total`` (all matches) and, when more rows
    follow, ``X-Pagination-Next`` (the next page's offset)."""
    headers = {"X-Pagination-Total": str(total)}
    if next_offset is not None:
        headers["X-Pagination-Next"] = str(next_offset)
    return Json(items, headers=headers)


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> Json:
    """``{"detail": …}`` with ``status`` (and ``headers``)."""
    return Json({"detail": detail}, status_code=status, headers=headers)


async def domain_error_handler(_request: Request, exc: Exception) -> Json:
    """Map a :class:`DomainError` to its status."""
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.detail, exc.headers)


ERROR_DESCRIPTIONS = {
    400: "Bad request: the request is well formed but not acceptable",
    401: "Unauthorized: no API key (X-Api-Key or Authorization: Bearer), or one not valid",
    403: "Forbidden: the caller's role (or auth handler) does not allow this operation",
    404: "Not found: an id names no stored record",
    409: "Conflict with stored state (existing id, busy thread)",
    413: "Request body over LG_DEPLOY_MAX_BODY_BYTES",
    422: "Invalid input: a list of problems (validation), or a message",
    429: "A tenant limit was reached: request rate (Retry-After, RateLimit headers), queued"
    " runs or open streams",
    503: "PostgreSQL unreachable; retry",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error ``statuses`` (keys of
    :data:`ERROR_DESCRIPTIONS`), each answering the error model ``{"detail": …}``."""
    return {s: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


def _problems(exc: RequestValidationError) -> Any:
    """pydantic's error list as JSON; if its ``input``/``ctx`` cannot be encoded, the list
    without them (the answer never fails on the input it reports)."""
    try:
        return to_jsonable(exc.errors())
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        return [
            {
                "type": e["type"],
                "loc": [printable(part) for part in e["loc"]],
                "msg": printable(e["msg"]),
            }
            for e in exc.errors()
        ]


async def validation_error_handler(_request: Request, exc: Exception) -> Json:
    """422 with pydantic's error list."""
    assert isinstance(exc, RequestValidationError)
    return error_response(422, _problems(exc))


async def http_error_handler(_request: Request, exc: Exception) -> Json:
    """Starlette's HTTP errors (404 route, 405 method) as JSON."""
    assert isinstance(exc, StarletteHTTPException)
    return Json({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


HEARTBEAT = b": heartbeat\r\n\r\n"


def _frame(event: StoredEvent, with_ids: bool) -> bytes:
    return ServerSentEvent(
        data=event.data, event=event.event, id=str(event.seq) if with_ids else None, sep="\r\n"
    ).encode()


StreamKind = Literal["run", "join", "thread", "a2a"]
"""What an SSE response streams (``lgd_stream_connections{kind}``): a run created with
streaming, a join of a run's stream, a thread's stream, an A2A ``message/stream``."""
for _kind in get_args(StreamKind):  # every kind has a series (at 0) from the start
    STREAM_CONNECTIONS.labels(_kind)


def sse_response(
    events: AsyncIterator[Sequence[StoredEvent] | StoredEvent | bytes | None],
    *,
    kind: StreamKind,
    headers: dict[str, str] | None = None,
    with_ids: bool = True,
    on_close: Callable[[], Any] | None = None,
) -> EventSourceResponse:
    """Stream stored events as SSE (``event:``/``data:``/``id:`` lines, CRLF). Each item is an
    event or a batch of events (sent in one write), ``None`` for a ``: heartbeat`` comment, or
    bytes already framed. ``on_close`` runs when the stream ends for any reason. While it
    streams, it counts in ``lgd_stream_connections{kind}``."""

    async def frames() -> AsyncIterator[bytes]:
        open_streams = STREAM_CONNECTIONS.labels(kind)
        open_streams.inc()
        try:
            async for item in events:
                if item is None:
                    yield HEARTBEAT
                elif isinstance(item, bytes):
                    yield item
                elif isinstance(item, StoredEvent):
                    yield _frame(item, with_ids)
                else:
                    yield b"".join(_frame(event, with_ids) for event in item)
        finally:
            open_streams.dec()
            if on_close is not None:
                with anyio.CancelScope(shield=True):  # the client is gone; finish the cleanup
                    await on_close()

    return EventSourceResponse(
        frames(),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **(headers or {})},
        ping=0,
        sep="\r\n",
    )


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def accepts(accept: str | None, media_type: str) -> bool:
    """Whether an ``Accept`` header admits ``media_type`` (``type/subtype``): a missing header
    admits anything; ranges match exactly or through ``type/*`` and ``*/*``; ``q=0`` refuses."""
    if accept is None:
        return True
    kind = media_type.split("/", 1)[0]
    for item in accept.split(","):
        media_range, *params = item.split(";")
        if media_range.strip().lower() in (media_type, f"{kind}/*", "*/*") and _quality(params):
            return True
    return False
