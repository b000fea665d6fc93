"""``lg-deploy tenants|keys``: tenants and built-in API keys, straight in PostgreSQL.

- ``lg-deploy tenants create T [--name N]``, ``lg-deploy tenants list``;
- ``lg-deploy keys create --tenant T --role R [--name N]``: the key is printed once, alone on
  the last line of stdout; ``lg-deploy keys list [--tenant T]`` (never the secrets);
  ``lg-deploy keys revoke ID|NAME [--tenant T]``.

Each takes ``--database-url`` (or ``LG_DEPLOY_DATABASE_URL``), else ``--data-dir``'s embedded
PostgreSQL: the server a running ``lg-deploy dev`` uses is joined, not started again (and
left running); with none running one is started and stopped at the end. A running deployment
sees the change within ``LG_DEPLOY_API_KEY_CACHE_SECONDS``. Every change goes to the audit
log (``identity`` ``cli:<os user>``, ``client`` the host), as the admin API's do. A refusal
(unknown tenant or role, a name taken, no such key) exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.api.audit import AuditEvent
from shared.auth import key_admin
from shared.config import load_settings
from shared.db import api_keys as keys_db
from shared.db import audit as audit_db
from shared.db import tenants as tenants_db
from shared.db.migrate import apply_migrations
from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from shared.errors import DomainError
from shared.services.audit import log_event

COMMANDS = ("tenants", "keys")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tenants`` and ``keys`` with their actions to ``lg-deploy``'s subcommands."""
    tenants = sub.add_parser("tenants", help="create and list tenants").add_subparsers(
        dest="action", required=True
    )
    create = _action(tenants, "create", "create a tenant")
    create.add_argument("tenant", help="tenant id: letters, digits, '.', '_', '-'")
    create.add_argument("--name", default="", help="display name")
    _action(tenants, "list", "list tenants")

    keys = sub.add_parser("keys", help="create, list and revoke API keys").add_subparsers(
        dest="action", required=True
    )
    create = _action(keys, "create", "create an API key (printed once, on the last line)")
    create.add_argument("--tenant", required=True, help="the key's tenant")
    create.add_argument("--role", required=True, help="viewer, developer, operator or admin")
    create.add_argument("--name", help="a name, unique among the tenant's live keys")
    _action(keys, "list", "list API keys (never their secrets)").add_argument(
        "--tenant", help="only this tenant's"
    )
    revoke = _action(keys, "revoke", "revoke an API key")
    revoke.add_argument("key", metavar="ID|NAME", help="the key's id, or a live key's name")
    revoke.add_argument("--tenant", help="the key's tenant (needed if the name is in several)")


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    p = actions.add_parser(name, help=help_text)
    p.add_argument("--database-url", help="PostgreSQL DSN (env LG_DEPLOY_DATABASE_URL)")
    p.add_argument("--data-dir", help="embedded PostgreSQL data (default ./.lg-deploy)")
    return p


def run(args: argparse.Namespace) -> None:
    """Run ``lg-deploy tenants|keys <action>``; ``SystemExit(2)`` on a refusal."""
    settings = load_settings(database_url=args.database_url, data_dir=args.data_dir)
    dsn = settings.database_url
    if dsn is None:  # joins the server of a running `lg-deploy dev`, or starts one
        dsn = start_embedded_postgres(settings.data_dir)
    try:
        asyncio.run(_run(args, dsn))
    except DomainError as exc:
        print(f"lg-deploy: {exc.detail}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if settings.database_url is None:  # stops it only if no other process uses it
            stop_embedded_postgres(settings.data_dir)


async def _run(args: argparse.Namespace, dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn)
        await ACTIONS[args.command, args.action](conn, args)
    finally:
        await conn.close()


async def _audit(
    conn: asyncpg.Connection, action: str, tenant_id: str, resource_type: str, resource_id: str
) -> None:
    """Record a change made from the command line in the audit log, as the admin API's are:
    who is the operating-system user (``cli:<user>``), from where the host."""
    event = AuditEvent(
        occurred_at=datetime.now(UTC),
        tenant_id=tenant_id,
        identity=f"cli:{getpass.getuser()}",
        role="admin",
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        method=None,
        path=None,
        status=200,
        client=socket.gethostname(),
        request_id=uuid.uuid4().hex,
    )
    await audit_db.insert(conn, [event])
    log_event(event)


async def _create_tenant(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    row = await key_admin.create_tenant(conn, args.tenant, args.name)
    await _audit(conn, "tenants.create", row["tenant_id"], "tenants", row["tenant_id"])
    print(f"created tenant {row['tenant_id']}")


async def _list_tenants(conn: asyncpg.Connection, _args: argparse.Namespace) -> None:
    rows = await tenants_db.list_tenants(conn)
    _table(
        ("TENANT", "NAME", "CREATED"), [(r["tenant_id"], r["name"], r["created_at"]) for r in rows]
    )


async def _create_key(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    row, key = await key_admin.create_key(conn, args.tenant, args.role, args.name)
    await _audit(conn, "keys.create", row["tenant_id"], "keys", str(row["key_id"]))
    print(
        f"created API key {row['key_id']} ({row['name'] or 'no name'}) of tenant "
        f"{row['tenant_id']}, role {row['role']}; it is shown this once:"
    )
    print(key)


async def _list_keys(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    rows = await keys_db.list_keys(conn, args.tenant)
    _table(
        ("KEY ID", "TENANT", "NAME", "ROLE", "CREATED", "LAST USED", "REVOKED"),
        [
            (
                r["key_id"],
                r["tenant_id"],
                r["name"],
                r["role"],
                r["created_at"],
                r["last_used_at"],
                r["revoked_at"],
            )
            for r in rows
        ],
    )


async def _revoke_key(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    row = await key_admin.revoke_key(conn, args.key, args.tenant)
    await _audit(conn, "keys.revoke", row["tenant_id"], "keys", str(row["key_id"]))
    print(
        f"revoked API key {row['key_id']} ({row['name'] or 'no name'}) of tenant {row['tenant_id']}"
    )


ACTIONS: dict[
    tuple[str, str], Callable[[asyncpg.Connection, argparse.Namespace], Awaitable[None]]
] = {
    ("tenants", "create"): _create_tenant,
    ("tenants", "list"): _list_tenants,
    ("keys", "create"): _create_key,
    ("keys", "list"): _list_keys,
    ("keys", "revoke"): _revoke_key,
}


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print ``rows`` under ``headers`` in columns aligned by spaces."""
    cells = [list(headers), *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    for line in cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
