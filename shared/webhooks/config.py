"""The ``webhooks`` section of ``langgraph.json``, validated once at start-up.

Official keys: ``env_prefix`` (default ``LG_WEBHOOK_``), ``url`` (:class:`UrlPolicy`) and
``headers`` (static request headers). lg-deploy extensions: ``signing_secret``,
``url.allowed_networks`` and ``delivery`` (:class:`DeliveryOptions`). Header values and
``signing_secret`` may contain ``${{ env.VAR }}`` templates, resolved from the environment at
start-up; ``VAR`` must start with ``env_prefix`` so a config cannot leak other variables.
Every problem raises :class:`~shared.graphs.config.ConfigError` naming the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    model_validator,
)

from shared.api.runs import RetryPolicy
from shared.graphs.config import ConfigError, ProjectConfig
from shared.webhooks.signing import signing_key

_TEMPLATE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class UrlPolicy(BaseModel):
    """``webhooks.url``: which webhook URLs runs may name (checked at run creation and again
    on the resolved address at delivery).

    Private, link-local, unspecified, multicast and reserved addresses are always refused,
    except inside ``allowed_networks``; cloud metadata addresses are refused even there;
    loopback (``127.0.0.0/8``, ``::1``, ``localhost``) is refused unless
    ``disable_loopback`` is false. Relative URLs are never accepted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_https: bool = Field(False, description="refuse http:// URLs")
    disable_loopback: bool = Field(True, description="refuse loopback hosts (default)")
    allowed_domains: list[str] = Field(
        default_factory=list,
        description="exact hosts or '*.example.com' (subdomains only); empty = any public host",
    )
    allowed_ports: list[int] = Field(
        default_factory=list, description="allowed ports (443/80 when the URL has none)"
    )
    max_url_length: int = Field(4096, ge=16, le=65536)
    allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="lg-deploy extension: private CIDRs webhooks may reach (not metadata)",
    )


class DeliveryOptions(BaseModel):
    """``webhooks.delivery`` (lg-deploy extension): retries, timeouts and the claim lease.

    ``retry`` is the run ``retry_policy`` shape (``max_attempts`` attempts in all, exponential
    backoff from ``initial_delay_seconds`` with jitter; ``retry_on`` is not used here).
    ``lease_seconds`` must exceed ``timeout_seconds``: a deliverer that dies mid-request
    hands its delivery back when the lease expires.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry: RetryPolicy = Field(
        default_factory=lambda: RetryPolicy.model_validate({"max_attempts": 5})
    )
    timeout_seconds: float = Field(10.0, gt=0, le=600)
    lease_seconds: float = Field(60.0, gt=0, le=3600)
    concurrency: int = Field(16, ge=1, le=1000, description="deliveries in flight per process")
    retention_seconds: float = Field(
        7 * 86400.0, ge=0, description="how long ended deliveries and their attempts are kept"
    )

    @model_validator(mode="after")
    def _lease_covers_timeout(self) -> DeliveryOptions:
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("lease_seconds must be greater than timeout_seconds")
        return self


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    env_prefix: str = Field("LG_WEBHOOK_", min_length=1)
    url: UrlPolicy = Field(default_factory=lambda: UrlPolicy.model_validate({}))
    headers: dict[str, str] = Field(default_factory=dict)
    signing_secret: str | None = None
    delivery: DeliveryOptions = Field(default_factory=lambda: DeliveryOptions.model_validate({}))


@dataclass(frozen=True)
class WebhookConfig:
    """What the run service and the deliverer need: the URL ``policy``, resolved static
    ``headers``, the HMAC ``signing_key`` (``None``: requests go unsigned) and ``delivery``."""

    policy: UrlPolicy = field(default_factory=lambda: UrlPolicy.model_validate({}))
    headers: dict[str, str] = field(default_factory=dict)
    signing_key: bytes | None = None
    delivery: DeliveryOptions = field(default_factory=lambda: DeliveryOptions.model_validate({}))


def load_webhook_config(project: ProjectConfig) -> WebhookConfig:
    """Validate ``project.webhooks``. Raises :class:`ConfigError` on the first problem."""
    path = project.path
    try:
        section = _Section.model_validate(project.webhooks)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(["webhooks", *(str(part) for part in first["loc"])])
        raise ConfigError(path, key, first["msg"]) from exc
    prefix = section.env_prefix
    headers = {
        name: _expand(path, f"webhooks.headers.{name}", value, prefix)
        for name, value in section.headers.items()
    }
    secret_key: bytes | None = None
    if section.signing_secret is not None:
        secret = _expand(path, "webhooks.signing_secret", section.signing_secret, prefix)
        try:
            secret_key = signing_key(secret)
        except ValueError as exc:
            raise ConfigError(path, "webhooks.signing_secret", str(exc)) from exc
    return WebhookConfig(
        policy=section.url, headers=headers, signing_key=secret_key, delivery=section.delivery
    )


def _expand(path: Path, key: str, value: str, prefix: str) -> str:
    """``value`` with each ``${{ env.VAR }}`` replaced by the variable's value."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name.startswith(prefix):
            raise ConfigError(path, key, f"{name} does not start with env_prefix {prefix!r}")
        if name not in os.environ:
            raise ConfigError(path, key, f"environment variable {name} is not set")
        return os.environ[name]

    return _TEMPLATE.sub(substitute, value)
