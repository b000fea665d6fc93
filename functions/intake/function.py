"""Intake as a deployable function: the Agent Server HTTP API over the shared runtime."""

from __future__ import annotations

from starlette.types import ASGIApp

from functions.intake.app import create_app
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.streams.follow import RunWatcher


class IntakeFunction:
    """The API app plus the run watcher that wakes its streams and waits."""

    def __init__(self, rt: Runtime) -> None:
        self._watcher = RunWatcher(rt.bus)
        self.app: ASGIApp | None = create_app(rt, self._watcher)

    async def start(self) -> None:
        """Subscribe to run events."""
        self._watcher.start()

    async def stop(self) -> None:
        """Unsubscribe."""
        await self._watcher.close()


def build(rt: Runtime, placement: Placement) -> IntakeFunction:
    """Intake over ``rt`` (the same wherever it runs)."""
    return IntakeFunction(rt)
