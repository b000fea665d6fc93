"""The webhook URL policy (SSRF guard), its ``langgraph.json`` section and the signature scheme.

Covers IPv4/IPv6 private and special ranges, IPv6 forms carrying an IPv4 address, cloud
metadata addresses, the decimal/hex/octal/short IPv4 spellings the resolver accepts, the
official policy keys, and the connect-time check on resolved addresses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.graphs.config import ConfigError, ProjectConfig
from shared.webhooks.config import UrlPolicy, load_webhook_config
from shared.webhooks.policy import WebhookRefused, blocked_range, check_url, literal_address
from shared.webhooks.signing import signature_headers, signing_key
from shared.webhooks.transport import GuardedTransport, resolve_checked

DEFAULT = UrlPolicy()
LOOPBACK_OK = UrlPolicy(disable_loopback=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private IP range"),
        ("10.255.255.255", "private IP range"),
        ("172.16.0.1", "private IP range"),
        ("172.31.255.254", "private IP range"),
        ("192.168.0.1", "private IP range"),
        ("100.64.0.1", "non-public IP range"),  # carrier-grade NAT
        ("127.0.0.1", "loopback IP range"),
        ("127.200.1.1", "loopback IP range"),
        ("169.254.0.5", "link-local IP range"),
        ("0.0.0.0", "unspecified address"),
        ("0.1.2.3", "private IP range"),
        ("224.0.0.1", "multicast IP range"),
        ("255.255.255.255", "private IP range"),
        ("192.0.2.10", "private IP range"),  # documentation
        ("198.18.0.1", "private IP range"),  # benchmarking
        ("::1", "loopback IP range"),
        ("::", "unspecified address"),
        ("fe80::1", "link-local IP range"),
        ("fc00::1", "private IP range"),
        ("fd12:3456::1", "private IP range"),
        ("ff02::1", "multicast IP range"),
        ("2001:db8::1", "private IP range"),  # documentation
        ("::ffff:10.0.0.1", "private IP range"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback IP range"),
        ("::127.0.0.1", "loopback IP range"),  # IPv4-compatible
        ("2002:a00:1::", "private IP range"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", "private IP range"),  # NAT64 of 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private IP range"),  # Teredo of 192.0.2.45
        ("169.254.169.254", "cloud metadata address"),
        ("::ffff:169.254.169.254", "cloud metadata address"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata address"),
        ("fd00:ec2::254", "cloud metadata address"),
        ("100.100.100.200", "cloud metadata address"),
        ("168.63.129.16", "cloud metadata address"),
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_default_policy_blocks_non_public_ranges(address: str, reason: str | None) -> None:
    assert blocked_range(DEFAULT, ip_address(address)) == reason


def test_loopback_and_allowed_networks_open_only_their_addresses() -> None:
    policy = UrlPolicy(
        disable_loopback=False, allowed_networks=["10.0.0.0/8", "169.254.0.0/16", "fd00::/8"]
    )
    for allowed in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "10.1.2.3", "169.254.1.1"):
        assert blocked_range(policy, ip_address(allowed)) is None, allowed
    assert blocked_range(policy, ip_address("192.168.1.1")) == "private IP range"
    for metadata in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"):
        assert blocked_range(policy, ip_address(metadata)) == "cloud metadata address"


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f000001", "127.0.0.1"),  # hex
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short form
        ("0x7f.1", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("cafe", None),
        ("example.com", None),
        ("1e100.net", None),
    ],
)
def test_ip_spellings_are_read_as_the_resolver_reads_them(host: str, address: str | None) -> None:
    assert literal_address(host) == (ip_address(address) if address else None)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001:8080/hook",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]:9000/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://example.com@127.0.0.1/",  # the host is what follows the userinfo
        "http://127.0.0.1#@example.com/",
    ],
)
def test_loopback_urls_are_refused_unless_loopback_is_allowed(url: str) -> None:
    with pytest.raises(WebhookRefused, match=r"^Webhook host blocked: loopback IP range"):
        check_url(DEFAULT, url)
    check_url(LOOPBACK_OK, url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("http://0xa9fea9fe/", "cloud metadata address"),
        ("http://[fd00:ec2::254]/", "cloud metadata address"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata address"),
        ("http://10.0.0.5/", "private IP range"),
        ("http://[fd00::5]/", "private IP range"),
        ("http://0.0.0.0:8000/", "unspecified address"),
        ("/runs/hook", "relative URLs are not supported"),
        ("ftp://example.com/", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("http:///path", "has no host"),
        ("http://0177.0.0.1/", "not valid"),
        ("http://example.com:99999/", "port 99999 is not valid"),
    ],
)
def test_unsafe_or_malformed_urls_are_refused_under_any_policy(url: str, message: str) -> None:
    for policy in (DEFAULT, LOOPBACK_OK):
        with pytest.raises(WebhookRefused, match=message):
            check_url(policy, url)


def test_official_policy_keys() -> None:
    https_only = UrlPolicy(require_https=True)
    with pytest.raises(WebhookRefused, match=r"^Webhook must use https$"):
        check_url(https_only, "http://hooks.example.com/")
    check_url(https_only, "https://hooks.example.com/")

    domains = UrlPolicy(allowed_domains=["hooks.example.com", "*.corp.example"])
    check_url(domains, "https://hooks.example.com/x")
    check_url(domains, "https://a.b.corp.example/x")
    for refused in ("https://corp.example/", "https://evil.com/", "https://xhooks.example.com/"):
        with pytest.raises(WebhookRefused, match="not in allowed_domains"):
            check_url(domains, refused)

    ports = UrlPolicy(allowed_ports=[443, 8443])
    check_url(ports, "https://example.com/")  # 443 by default
    check_url(ports, "https://example.com:8443/")
    for refused in ("http://example.com/", "https://example.com:8080/"):
        with pytest.raises(WebhookRefused, match="not in allowed_ports"):
            check_url(ports, refused)

    short = UrlPolicy(max_url_length=30)
    check_url(short, "https://example.com/a")
    with pytest.raises(WebhookRefused, match="max_url_length"):
        check_url(short, "https://example.com/" + "a" * 20)


async def test_connect_time_check_judges_the_resolved_address() -> None:
    with pytest.raises(WebhookRefused, match=r"loopback IP range \(localhost is 127\.0\.0\.1\)"):
        await resolve_checked(DEFAULT, "localhost", 80)
    with pytest.raises(WebhookRefused, match="loopback IP range"):
        await resolve_checked(DEFAULT, "2130706433", 80)
    assert await resolve_checked(LOOPBACK_OK, "localhost", 80) == ip_address("127.0.0.1")
    with pytest.raises(httpx.ConnectError):
        await resolve_checked(DEFAULT, "no-such-host.invalid", 80)


@pytest.fixture
def echo_host() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering with the Host header it got; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            host = (self.headers.get("host") or "").encode()
            self.send_response(200)
            self.send_header("content-length", str(len(host)))
            self.end_headers()
            self.wfile.write(host)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


async def test_guarded_transport_pins_the_checked_address_and_keeps_the_host(
    echo_host: str,
) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport(LOOPBACK_OK)) as client:
        answer = await client.post(echo_host, content=b"{}")
    assert answer.status_code == 200
    assert answer.text == echo_host.removeprefix("http://").removesuffix("/hook")
    async with httpx.AsyncClient(transport=GuardedTransport(DEFAULT)) as client:
        with pytest.raises(WebhookRefused):
            await client.post(echo_host, content=b"{}")


def _project(webhooks: dict[str, Any]) -> ProjectConfig:
    path = Path("/project/langgraph.json")
    return ProjectConfig(path, path.parent, {}, [], {}, webhooks=webhooks)


def test_webhooks_section_defaults_and_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    default = load_webhook_config(_project({}))
    assert default.policy.disable_loopback and not default.policy.require_https
    assert default.signing_key is None and default.delivery.retry.max_attempts == 5

    monkeypatch.setenv("LG_WEBHOOK_SECRET", "a-secret-of-enough-length")
    monkeypatch.setenv("LG_WEBHOOK_TOKEN", "t0k3n")
    config = load_webhook_config(
        _project(
            {
                "signing_secret": "${{ env.LG_WEBHOOK_SECRET }}",
                "headers": {"Authorization": "Bearer ${{env.LG_WEBHOOK_TOKEN}}"},
                "delivery": {"retry": {"max_attempts": 2}, "timeout_seconds": 1},
            }
        )
    )
    assert config.signing_key == b"a-secret-of-enough-length"
    assert config.headers == {"Authorization": "Bearer t0k3n"}
    assert config.delivery.retry.max_attempts == 2


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"url": {"disable_loopbak": False}}, "webhooks.url.disable_loopbak"),
        ({"url": {"allowed_networks": ["not-a-cidr"]}}, "webhooks.url.allowed_networks.0"),
        ({"delivery": {"timeout_seconds": 30, "lease_seconds": 10}}, "webhooks.delivery"),
        ({"delivery": {"retry": {"max_attempts": 0}}}, "webhooks.delivery.retry.max_attempts"),
        ({"headers": {"X-Key": "${{ env.HOME }}"}}, "webhooks.headers.X-Key"),
        ({"signing_secret": "${{ env.LG_WEBHOOK_UNSET_VAR }}"}, "webhooks.signing_secret"),
        ({"signing_secret": "short"}, "webhooks.signing_secret"),
        ({"signing_secret": "whsec_!!not base64!!"}, "webhooks.signing_secret"),
        ({"surprise": 1}, "webhooks.surprise"),
    ],
)
def test_bad_webhooks_section_names_the_key(section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_webhook_config(_project(section))
    assert caught.value.key == key


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    headers = signature_headers(
        key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert "webhook-signature" not in signature_headers(None, "id", 1, b"{}")
