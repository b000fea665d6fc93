"""An httpx transport that connects only to addresses the URL policy allows.

Before each request it checks the URL again, resolves the host, refuses the request if any
address it resolves to is blocked, and connects to the first checked address itself (the URL's
host is replaced by that IP; the ``Host`` header and TLS SNI/certificate name stay the original
host). A DNS answer that changes between the check and the connection therefore cannot point
the request inside (DNS rebinding). The client built by :func:`webhook_client` follows no
redirects and ignores proxy variables.
"""

from __future__ import annotations

import asyncio
import socket
from ipaddress import ip_address

import httpx

from shared.webhooks.config import UrlPolicy
from shared.webhooks.policy import IPAddress, WebhookRefused, blocked_range, check_url

USER_AGENT = "lg-deploy-webhooks/1"


class GuardedTransport(httpx.AsyncBaseTransport):
    """:class:`httpx.AsyncHTTPTransport` pinned to policy-checked addresses.

    Raises :class:`~shared.webhooks.policy.WebhookRefused` for a refused URL or address, and
    ``httpx.ConnectError`` when the host does not resolve.
    """

    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check, resolve, pin, then send ``request`` with the wrapped transport."""
        url = request.url
        check_url(self._policy, str(url))
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve_checked(self._policy, url.host, port)
        request.url = url.copy_with(host=str(address))
        request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport's connections."""
        await self._inner.aclose()


async def resolve_checked(policy: UrlPolicy, host: str, port: int) -> IPAddress:
    """The address to connect to for ``host``: the first it resolves to, once every address
    it resolves to passed :func:`~shared.webhooks.policy.blocked_range`.

    Raises :class:`~shared.webhooks.policy.WebhookRefused` if one is blocked and
    ``httpx.ConnectError`` if ``host`` does not resolve.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = [ip_address(info[4][0]) for info in infos]
    for address in addresses:
        reason = blocked_range(policy, address)
        if reason is not None:
            raise WebhookRefused(f"Webhook host blocked: {reason} ({host} is {address})")
    if not addresses:
        raise httpx.ConnectError(f"cannot resolve {host}: no address")
    return addresses[0]


def webhook_client(policy: UrlPolicy, timeout_seconds: float) -> httpx.AsyncClient:
    """The deliverer's HTTP client: guarded transport, no redirects, no proxies from the
    environment, ``timeout_seconds`` for each phase of a request."""
    return httpx.AsyncClient(
        transport=GuardedTransport(policy),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout_seconds,
        headers={"user-agent": USER_AGENT},
    )
