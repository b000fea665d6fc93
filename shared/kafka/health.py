"""``lgd_kafka_up{client}``: whether this process's Kafka clients are connected to a broker.

aiokafka keeps one connection per broker (and one to the group coordinator) in its client and
closes it as soon as the broker goes away; it exposes no "connected" flag, so
:func:`broker_connected` reads those connections (``AIOKafkaClient._conns``, each with the
public ``connected()``). The clients refresh their metadata at least every
:data:`METADATA_MAX_AGE_MS`, which reconnects them to a broker that came back even when they
have nothing to send.
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
