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


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **run_context.get(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str, as_json: bool) -> None:
    """Configure the root logger once: ``level`` name, JSON lines when ``as_json``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
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
