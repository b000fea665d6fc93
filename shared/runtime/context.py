"""What a running function holds: settings, database pools, the bus, the graphs, the store,
the webhook configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from langgraph.store.postgres.aio import AsyncPostgresStore

from shared.auth.access import Access, OpenAccess
from shared.bus.base import Bus
from shared.config import Settings
from shared.db.pool import Database
from shared.graphs.config import ProjectConfig
from shared.graphs.registry import GraphRegistry
from shared.kafka.producer import EventProducer
from shared.webhooks.config import WebhookConfig


@dataclass
class Runtime:
    """Shared state of one process; built once at start-up by the CLI."""

    settings: Settings
    db: Database
    bus: Bus
    project: ProjectConfig
    graphs: GraphRegistry
    store: AsyncPostgresStore | None = None
    """The store (long-term memory) graphs and ``/store/*`` share; see shared/runtime/store.py."""
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    """``langgraph.json`` ``webhooks``: URL policy, headers, signing key, delivery options."""
    access: Access = field(default_factory=OpenAccess)
    """Authentication and authorization (:mod:`shared.auth.access`)."""
    producer: EventProducer | None = None
    """The Kafka producer when the functions are connected by Kafka (``--kafka-bootstrap``)."""
