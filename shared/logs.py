"""Logging set-up: plain or JSON lines (``LG_DEPLOY_LOG_JSON=true``) carrying the correlation
ids of the work being done (PRD §9.3) and the OpenTelemetry trace and span ids.

A JSON line's keys (README "Observability: logs" documents them as the Loki label set):

- always: ``ts``, ``level``, ``logger``, ``function`` (the ``lg-deploy`` command the process
  runs: ``dev``, ``intake``, ``executor``, ``cron``, ``webhooks``, ``builder``, ``up``), ``msg``;
- while a run's work is done (:data:`run_context`): ``run_id``, ``thread_id``,
  ``assistant_id``, ``graph_id``, ``attempt``, ``tenant_id``, ``request_id``, ``trace_id``
  (of the run's W3C ``traceparent``), and ``span_id`` of the current span when tracing is on;
- what a line adds itself (``extra={"fields": {...}}``), e.g. the run state changes of
  :func:`log_run_status`: ``event="run.status"``, ``status``, ``reason``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from shared.tracing.propagation import current_ids

run_context: ContextVar[dict[str, str]] = ContextVar("run_context", default={})  # noqa: B039
"""The correlation ids of the work this task does (set by the executor per attempt and by the
webhook deliverer per delivery); a ``traceparent`` in it is logged as its ``trace_id``."""


@contextmanager
def bound(fields: dict[str, str]) -> Iterator[None]:
    """:data:`run_context` is ``fields`` inside the block, as before it after."""
    token = run_context.set(fields)
    try:
        yield
    finally:
        run_context.reset(token)


RUNS_LOGGER = "lg_deploy.runs"
"""The logger of the one line per run state change (:func:`log_run_status`)."""

_runs_log = logging.getLogger(RUNS_LOGGER)


def correlation(carried: dict[str, str]) -> dict[str, str]:
    """Log fields of a request context's carried ids (``tenant_id``, ``request_id``,
    ``traceparent``; :meth:`shared.auth.context.RequestContext.carried`): the same, with the
    ``traceparent`` replaced by its 32-hex-digit ``trace_id`` (W3C Trace Context)."""
    fields = {k: v for k, v in carried.items() if k not in ("traceparent", "tracestate")}
    parts = carried.get("traceparent", "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        fields["trace_id"] = parts[1]
    return fields


def log_run_status(
    run_id: object, status: str, reason: str, level: int = logging.INFO, **ids: object
) -> None:
    """Log one run state change at ``level`` (INFO) on :data:`RUNS_LOGGER`: ``run <id> <status>
    (<reason>)`` with the fields ``event="run.status"``, ``run_id``, ``status``, ``reason`` and
    ``ids`` (``thread_id``, ``attempt``… when the caller's :data:`run_context` lacks them).
    ``status`` is the run's new status (pending, running, success, error, timeout,
    interrupted); ``reason`` why (created, claimed, retry, lease expired, cancelled…)."""
    fields = {"event": "run.status", "run_id": str(run_id), "status": status, "reason": reason}
    fields |= {k: str(v) for k, v in ids.items() if v is not None}
    _runs_log.log(level, "run %s %s (%s)", run_id, status, reason, extra={"fields": fields})


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in run_context.get().items():
            setattr(record, key, value)
        return True


class _Throttle(logging.Filter):
    """Lets a repeating message of the ``aiokafka`` loggers through once per ``seconds``
    (a broker that is down makes them log every connection attempt, several per second)."""

    def __init__(self, seconds: float = 30.0) -> None:
        super().__init__()
        self._seconds = seconds
        self._last: dict[tuple[str, object], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        key = (record.name, record.msg)
        last = self._last.get(key)
        if last is not None and record.created - last < self._seconds:
            return False
        self._last[key] = record.created
        return True


class _JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, function, message, the run context
    (:func:`correlation`), the current span's ``trace_id``/``span_id`` when tracing is on, and
    the record's ``fields`` (``log.info(…, extra={"fields": {...}})``) at the top level."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self._function = function

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "function": self._function,
            "msg": record.getMessage(),
            **correlation(run_context.get()),
        }
        out |= current_ids()
        out |= getattr(record, "fields", {})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str, as_json: bool, function: str = "lg-deploy") -> None:
    """Configure the root logger once: ``level`` name, JSON lines when ``as_json`` (their
    ``function`` field names the process's function)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.addFilter(_Throttle())
    handler.setFormatter(
        _JsonFormatter(function)
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO, webhook URLs (and their tokens) included
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
    # aiokafka logs every group join and partition assignment at INFO
    logging.getLogger("aiokafka").setLevel(max(root.level, logging.WARNING))
