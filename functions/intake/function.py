"""Intake as a deployable function: the Agent Server HTTP API over the shared runtime."""

from __future__ import annotations

from starlette.types import ASGIApp

from functions.intake.app import create_app
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.services.audit import AuditRecorder
from shared.streams.follow import RunWatcher


class IntakeFunction:
    """The API app plus the run watcher that wakes its streams and waits."""

    def __init__(self, rt: Runtime) -> None:
        self._watcher = RunWatcher(rt.bus)
        self.audit = AuditRecorder(rt.db.pool)
        self.app: ASGIApp | None = create_app(rt, self._watcher, self.audit)

    async def start(self) -> None:
        """Subscribe to run events; start the audit log's writer."""
        self._watcher.start()
        self.audit.start()

    async def stop(self) -> None:
        """Unsubscribe; write what the audit log still holds."""
        await self._watcher.close()
        await self.audit.stop()


def build(rt: Runtime, placement: Placement) -> IntakeFunction:
    """Intake over ``rt`` (the same wherever it runs)."""
    return IntakeFunction(rt)
