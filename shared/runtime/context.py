"""What a running function holds: settings, database pools, the bus and the graphs."""

from __future__ import annotations

from dataclasses import dataclass

from shared.bus.base import Bus
from shared.config import Settings
from shared.db.pool import Database
from shared.graphs.config import ProjectConfig
from shared.graphs.registry import GraphRegistry


@dataclass
class Runtime:
    """Shared state of one process; built once at start-up by the CLI."""

    settings: Settings
    db: Database
    bus: Bus
    project: ProjectConfig
    graphs: GraphRegistry
