"""The one family of domain errors; intake maps each class to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a client can cause. ``status`` is the HTTP status it maps to;
    ``headers`` are sent with the error response (e.g. ``WWW-Authenticate``, ``Retry-After``)."""

    status = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(DomainError):
    """The request is well formed but not acceptable (HTTP 400)."""

    status = 400


class Unauthorized(DomainError):
    """No credentials, or credentials no authenticator accepts (HTTP 401)."""

    status = 401


class Forbidden(DomainError):
    """The caller is known but may not do this: a role too weak, an auth handler that denied
    (HTTP 403)."""

    status = 403


class Refused(DomainError):
    """A refusal whose status the deployment's own code chose: a custom auth handler's
    ``Auth.exceptions.HTTPException`` (any 4xx or 5xx status, its detail and headers)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, headers)
        self.status = status


class NotFound(DomainError):
    """An id names no stored record (HTTP 404)."""

    status = 404


class Conflict(DomainError):
    """The request clashes with stored state: existing id, busy thread (HTTP 409)."""

    status = 409


class RunGone(Conflict):
    """A retried run request (same ``Idempotency-Key``, or a CloudEvent delivered again)
    whose first delivery created run ``run_id``, which no longer exists: it ran and went with
    its stateless thread at its end, or was deleted (HTTP 409; a CloudEvent redelivery is
    answered 202, its effect being done)."""

    def __init__(self, detail: str, run_id: str) -> None:
        super().__init__(detail)
        self.run_id = run_id


class Invalid(DomainError):
    """A field's value is not valid (HTTP 422)."""

    status = 422


class TooManyRequests(DomainError):
    """A tenant limit was reached: its request rate, queued runs or open streams (HTTP 429;
    ``headers`` carry ``Retry-After`` and the ``RateLimit`` fields when a wait is known)."""

    status = 429


class LostClaim(Exception):
    """An executor's claim on a run was taken over; its writes are refused (fencing)."""


class StoreUnavailable(Exception):
    """PostgreSQL could not be reached to store a run's checkpoint or writes: the attempt stops
    without ending the run, which resumes from its last checkpoint once its lease expires."""
