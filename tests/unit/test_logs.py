"""Structured logs carry the run, thread and assistant ids of the run being executed."""

from __future__ import annotations

import json
import logging

import pytest

from shared.logs import configure_logging, run_context


def test_json_lines_carry_run_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", as_json=True)
    token = run_context.set({"run_id": "r1", "thread_id": "t1", "assistant_id": "a1"})
    try:
        logging.getLogger("lg-deploy.test").info("hello %s", "there")
    finally:
        run_context.reset(token)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["msg"] == "hello there"
    assert (line["run_id"], line["thread_id"], line["assistant_id"]) == ("r1", "t1", "a1")
    assert line["level"] == "INFO"


def test_repeating_kafka_client_messages_are_throttled(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", as_json=False)
    for _ in range(50):  # what a broker that is down makes aiokafka log, several times a second
        logging.getLogger("aiokafka.conn").error("Unable connect to %r", "node 1")
        logging.getLogger("lg-deploy.test").warning("our own warning")
    err = capsys.readouterr().err
    assert err.count("Unable connect") == 1
    assert err.count("our own warning") == 50
