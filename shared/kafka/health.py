"""``lgd_kafka_up{client}``: whether this process's Kafka clients are connected to a broker.

aiokafka (0.14) has no public way to ask this: ``AIOKafkaProducer`` and ``AIOKafkaConsumer``
expose no connection state (their ``_closed`` only says whether they were stopped); asked, a
maintainer answered that there is no open API for it and to use a private one on a known
version (aio-libs/aiokafka#604; #1073 asks again). The shared ``AIOKafkaClient``'s one public
connection method, ``ready(node_id)``, is a coroutine that opens a connection when there is
none: a probe that would itself reconnect on every scrape, not a reading, and it cannot run in
the synchronous callback a scrape calls. So :func:`broker_connected` reads the client's table
of connections, ``AIOKafkaClient._conns`` (the consumer's client is private too,
``AIOKafkaConsumer._client``), each an ``AIOKafkaConnection`` whose ``connected()`` says its
stream is open and not at EOF. A connection closes as soon as the broker closes its socket (it
stops or dies); a broker that vanishes without closing it is noticed when a request times out.
Should an aiokafka release change these internals, the tests on a real broker show it.

A consumer reconnects at once to a broker that came back (it looks its group coordinator up
again every ``retry_backoff_ms``); an idle producer only at its next metadata refresh, which
every client makes at least every :data:`METADATA_MAX_AGE_MS`. Both are shown on a real broker
stopped and started again (tests/observability/test_metrics.py).
"""

from __future__ import annotations

import contextlib

from aiokafka.client import AIOKafkaClient

from shared.metrics import KAFKA_UP

METADATA_MAX_AGE_MS = 30_000
"""``metadata_max_age_ms`` of every producer and consumer: how long at most a client that
lost its broker waits before it tries again on its own (aiokafka's default is 5 minutes)."""


def broker_connected(client: AIOKafkaClient) -> bool:
    """Whether ``client`` has an open connection to some broker now."""
    return any(conn.connected() for conn in client._conns.values())


class KafkaClients:
    """The clients of one kind (``producer`` or ``consumer``) of this process, behind one
    ``lgd_kafka_up{client=kind}`` series: 1 while every one of them is connected, 0 when one is
    not, no series while there is none. The value is computed when scraped."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._clients: set[AIOKafkaClient] = set()

    def add(self, client: AIOKafkaClient) -> None:
        """Count ``client`` in (after it started)."""
        if not self._clients:
            KAFKA_UP.labels(self._kind).set_function(self._value)
        self._clients.add(client)

    def discard(self, client: AIOKafkaClient) -> None:
        """Count ``client`` out (when it stops); the series goes with the last one."""
        self._clients.discard(client)
        if not self._clients:
            with contextlib.suppress(KeyError):
                KAFKA_UP.remove(self._kind)

    def _value(self) -> float:
        return float(all(broker_connected(client) for client in self._clients))


PRODUCERS = KafkaClients("producer")
"""This process's producer (one per process: :class:`shared.kafka.producer.EventProducer`)."""
CONSUMERS = KafkaClients("consumer")
"""This process's consumers (:class:`shared.kafka.consumer.EventConsumer`)."""
