"""Which webhook URLs and addresses may be called (SSRF guard), under a :class:`UrlPolicy`.

:func:`check_url` runs when a run is created (a refusal is a 422 and nothing is written) and
again before each delivery; it judges the URL and a host that is an IP literal (in any form
the resolver accepts: ``2130706433``, ``0x7f000001``, ``127.1``, ``[::ffff:127.0.0.1]``) or a
well-known local name. :func:`blocked_range` judges each address a host resolves to at connect
time (see :mod:`shared.webhooks.transport`), which closes DNS names pointing inside and DNS
rebinding. Source: ``langgraph.json`` ``webhooks.url`` (WebhookUrlPolicy) of the official CLI.
"""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

import httpx

from shared.errors import Invalid
from shared.webhooks.config import UrlPolicy

IPAddress = IPv4Address | IPv6Address

METADATA_ADDRESSES = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean …
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address)
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
"""Cloud instance metadata endpoints: refused under every policy."""

METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
_NAT64 = IPv6Network("64:ff9b::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class WebhookRefused(Invalid):
    """A webhook URL or address the policy refuses (HTTP 422 at run creation)."""


def check_url(policy: UrlPolicy, url: str) -> None:
    """Refuse ``url`` unless ``policy`` allows it. Raises :class:`WebhookRefused` with a
    message starting with "Webhook"."""
    if len(url) > policy.max_url_length:
        raise WebhookRefused(f"Webhook URL is longer than max_url_length={policy.max_url_length}")
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise WebhookRefused(f"Webhook URL is not valid: {exc}") from exc
    if not parsed.scheme:
        raise WebhookRefused("Webhook URL must be absolute: relative URLs are not supported")
    if parsed.scheme not in _DEFAULT_PORTS:
        raise WebhookRefused("Webhook URL scheme must be http or https")
    if policy.require_https and parsed.scheme != "https":
        raise WebhookRefused("Webhook must use https")
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise WebhookRefused("Webhook URL has no host")
    port = port if port is not None else _DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise WebhookRefused(f"Webhook URL port {port} is not valid")
    if policy.allowed_ports and port not in policy.allowed_ports:
        raise WebhookRefused(f"Webhook port {port} is not in allowed_ports")
    if policy.allowed_domains and not any(_matches(host, d) for d in policy.allowed_domains):
        raise WebhookRefused(f"Webhook host '{host}' is not in allowed_domains")
    reason = _blocked_host(policy, host)
    if reason is not None:
        raise WebhookRefused(f"Webhook host blocked: {reason}")


def blocked_range(policy: UrlPolicy, ip: IPAddress) -> str | None:
    """Why ``policy`` refuses to connect to ``ip`` (the range's name), ``None`` if allowed.

    IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, Teredo, NAT64) are judged
    by that address too.
    """
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return blocked_range(policy, ip.ipv4_mapped)
        if int(ip) >> 32 == 0 and int(ip) > 1:  # IPv4-compatible ::a.b.c.d
            return blocked_range(policy, IPv4Address(int(ip)))
        inner = [ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in _NAT64:
            inner.append(IPv4Address(int(ip) & 0xFFFFFFFF))
        for address in filter(None, inner):
            reason = blocked_range(policy, address)
            if reason is not None:
                return reason
    if ip in METADATA_ADDRESSES:
        return "cloud metadata address"
    if ip.is_loopback:
        return "loopback IP range" if policy.disable_loopback else None
    if any(ip in network for network in policy.allowed_networks):
        return None
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_link_local:
        return "link-local IP range"
    if ip.is_multicast:
        return "multicast IP range"
    if ip.is_private:
        return "private IP range"
    if not ip.is_global:
        return "non-public IP range"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` names without DNS (IPv6, dotted IPv4, or the decimal, hex,
    octal and short IPv4 forms the system resolver accepts), else ``None``."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _blocked_host(policy: UrlPolicy, host: str) -> str | None:
    address = literal_address(host)
    if address is not None:
        return blocked_range(policy, address)
    if host in METADATA_NAMES:
        return "cloud metadata address"
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback IP range" if policy.disable_loopback else None
    return None  # a DNS name: its addresses are judged at connect time


def _matches(host: str, domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    if domain.startswith("*."):
        return host.endswith(domain[1:]) and host != domain[2:]
    return host == domain
