"""Bus over PostgreSQL LISTEN/NOTIFY, for intake and executors in separate processes.

Payloads are small JSON objects (ids only; NOTIFY caps payloads at 8000 bytes). A dedicated
connection LISTENs on every topic; when it drops it is reopened and every subscriber gets a
``None`` wake, since notifications sent meanwhile are lost (they are only hints).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import orjson

from shared.bus.base import TOPICS, FanOut, Payload, Subscription

log = logging.getLogger(__name__)


def _channel(topic: str) -> str:
    return "lgd_" + topic.replace(".", "_")


class PgNotifyBus:
    """:class:`~shared.bus.base.Bus` on LISTEN/NOTIFY of the database at ``dsn``."""

    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self._dsn = dsn
        self._pool = pool
        self._fanout = FanOut()
        self._conn: asyncpg.Connection | None = None
        self._watch: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Open the listening connection and LISTEN on every topic."""
        await self._connect()
        self._watch = asyncio.create_task(self._keep_connected())

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        for topic in TOPICS:
            await conn.add_listener(_channel(topic), self._make_listener(topic))
        self._conn = conn

    def _make_listener(self, topic: str) -> Any:
        def on_notify(_c: Any, _pid: int, _channel: str, payload: str) -> None:
            self._fanout.deliver(topic, orjson.loads(payload))

        return on_notify

    async def _keep_connected(self) -> None:
        while not self._closed:
            await asyncio.sleep(1.0)
            if self._conn is not None and not self._conn.is_closed():
                continue
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("bus listener reconnect failed: %s", exc)
                continue
            self._fanout.deliver_all(None)

    async def close(self) -> None:
        """Stop listening and close the connection."""
        self._closed = True
        if self._watch:
            self._watch.cancel()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def publish(self, topic: str, payload: Payload) -> None:
        """NOTIFY ``payload`` on ``topic``'s channel."""
        await self._pool.execute(
            "SELECT pg_notify($1, $2)", _channel(topic), orjson.dumps(payload).decode()
        )

    def subscribe(self, topic: str) -> Subscription:
        """A new subscription to ``topic``."""
        return self._fanout.add(topic)
