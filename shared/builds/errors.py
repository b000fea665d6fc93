"""How a build can go wrong: for good (the build ends ``failed``) or for now (try again)."""

from __future__ import annotations

from shared.cloud_events.http import RetryLater


class BuildFailed(Exception):
    """The repository cannot be built as asked (unknown ref, invalid ``langgraph.json`` or
    ``requirements.txt`` …). ``str()`` is the message stored in the build's ``error``;
    ``commit`` is the resolved commit when the failure came after resolving the ref."""

    def __init__(self, message: str, commit: str | None = None) -> None:
        super().__init__(message)
        self.commit = commit


class BuildRetry(RetryLater):
    """A transient failure (network error or timeout reaching the repository): the build goes
    back to ``queued`` and the request should be delivered again (HTTP 503 with this message,
    Kafka redelivery)."""
