"""Logging set-up: plain or JSON lines, with run/thread/assistant ids from context variables."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar

run_context: ContextVar[dict[str, str]] = ContextVar("run_context", default={})  # noqa: B039


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
    """One JSON object per record: time, level, logger, message, the run context, and the
    record's ``fields`` (``log.info(…, extra={"fields": {...}})``) at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **run_context.get(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str, as_json: bool) -> None:
    """Configure the root logger once: ``level`` name, JSON lines when ``as_json``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.addFilter(_Throttle())
    handler.setFormatter(
        _JsonFormatter()
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
