"""CloudEvents over HTTP, as Knative sources and brokers deliver them.

One endpoint shape for every function that takes CloudEvents by HTTP (cron, webhooks, builder,
intake's ``/cloudevents``), following the Knative Eventing data-plane contract: both binary and
structured content modes are accepted; ``202`` with an empty body once the handler's effect is
durable; ``400`` for a request that is not a CloudEvent or an event the function does not take
(not retried by senders); ``503`` when PostgreSQL is unreachable (senders retry). Handlers must
be idempotent on the event's ``source`` + ``id``: delivery is at-least-once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.api.payload import Unstorable, check, loads
from shared.db.pool import DB_ERRORS

log = logging.getLogger(__name__)

Handler = Callable[[BaseCloudEvent], Awaitable[Mapping[str, str] | None]]
"""Applies one event and returns headers for the ``202`` answer (or None); raises
:class:`InvalidEvent` for an event it cannot take, :class:`RetryLater` or database errors
(``OSError``, asyncpg errors) when the effect could not be made durable now."""


class RetryLater(ConnectionError):
    """The effect could not be made durable now for a reason other than the database (an
    unreachable Git host …); ``str()`` is shown in the ``503`` answer."""


class InvalidEvent(ValueError):
    """The event is well-formed but not acceptable here (unknown ``type``, bad ``data``)."""


def parse(headers: dict[str, str], body: bytes) -> BaseCloudEvent:
    """The CloudEvent of an HTTP request in binary or structured mode; InvalidEvent otherwise,
    also when ``id`` or ``specversion`` is missing (the SDK would invent them, and an invented
    ``id`` would make every redelivery look new), and when its JSON holds what lg-deploy does
    not take (:mod:`shared.api.payload`: NUL in ``id`` or ``source``, integers beyond 64 bits
    in ``data`` …)."""
    try:
        _check(headers, body)
        return from_http(HTTPMessage(headers, body), JSONFormat())
    except Unstorable as exc:
        raise InvalidEvent(f"CloudEvent not accepted: {exc}") from exc
    except (BaseCloudEventException, ValueError, TypeError, KeyError) as exc:
        raise InvalidEvent(f"not a CloudEvent: {exc}") from exc


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.endswith(("/json", "+json"))


def _check_data(body: bytes) -> None:
    """Raises Unstorable for JSON ``data`` lg-deploy does not take; ``data`` that is not JSON
    is left to the handler, which says so for its type."""
    try:
        loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass


def _check(headers: dict[str, str], body: bytes) -> None:
    """Required attributes present; the JSON document (structured mode) or the attributes and
    JSON ``data`` (binary mode) checked by :func:`shared.api.payload.check`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "")
    if content_type.startswith("application/cloudevents"):
        document = loads(body)  # JSONDecodeError is a ValueError
        present = set(document) if isinstance(document, dict) else set()
    else:
        attributes = {name[3:]: value for name, value in lowered.items() if name.startswith("ce-")}
        check(attributes)
        if body and _is_json(content_type):
            _check_data(body)
        present = set(attributes)
    missing = sorted({"id", "specversion"} - present)
    if missing:
        raise ValueError(f"missing required attribute(s) {', '.join(missing)}")


def check_type(event: BaseCloudEvent, accepted: Collection[str]) -> None:
    """InvalidEvent unless ``event``'s ``type`` is one of ``accepted``."""
    if event.get_type() not in accepted:
        raise InvalidEvent(
            f"CloudEvent type {event.get_type()!r} is not accepted here; "
            f"expected one of {sorted(accepted)}"
        )


def cloudevent_endpoint(handle: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: parse the request's CloudEvent, ``await handle(event)``, answer
    ``202`` / ``400`` / ``503`` as the module docstring says."""

    async def endpoint(request: Request) -> Response:
        try:
            event = parse(dict(request.headers), await request.body())
            headers = await handle(event)
        except InvalidEvent as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        except DB_ERRORS as exc:  # RetryLater is an OSError too
            return retry_response(exc)
        return Response(status_code=202, headers=headers)

    return endpoint


def retry_response(exc: BaseException) -> JSONResponse:
    """``503`` for a failure a redelivery may not meet: the :class:`RetryLater` message, or
    ``database unavailable; retry``."""
    log.warning("request not handled, the sender should retry: %s", exc)
    detail = str(exc) if isinstance(exc, RetryLater) else "database unavailable; retry"
    return JSONResponse({"detail": detail}, status_code=503)
