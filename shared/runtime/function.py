"""The shape every deployable function has, so one launcher can run any set of them.

A function is built from the process's :class:`~shared.runtime.context.Runtime`; it may run
background work between ``start`` and ``stop`` and may expose an ASGI ``app`` (its HTTP
surface: the API for intake, CloudEvent endpoints for the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.types import ASGIApp


@dataclass(frozen=True)
class Placement:
    """Where a function runs: ``alone`` in its own process (serves its ``app``), or together
    with the others in ``lg-deploy dev`` (``owns_database``: the embedded PostgreSQL is this
    process's alone, so no other process can hold leases on it)."""

    alone: bool
    owns_database: bool


class Function(Protocol):
    """A started function; ``app`` is ``None`` when it has no HTTP surface."""

    app: ASGIApp | None

    async def start(self) -> None:
        """Begin background work (loops, subscriptions)."""

    async def stop(self) -> None:
        """End background work, handing unfinished work back."""
