"""``lg-deploy``: run the functions, all in one process (``dev``) or one each.

- ``lg-deploy dev``: embedded PostgreSQL, in-process bus, intake + executor, port 2024
  (``--ephemeral``: the PostgreSQL in a temporary folder without fsync, removed at exit).
- ``lg-deploy intake|executor|cron|webhooks|builder``: one function against
  ``--database-url``; with ``--kafka-bootstrap`` they are connected by Kafka topics (run
  requests, run ends, cron ticks, build requests), else by PostgreSQL LISTEN/NOTIFY alone.
- ``lg-deploy up``: the production topology on one machine (functions/up.py).
- ``lg-deploy tenants|keys``: tenants and built-in API keys (functions/admin_cli.py).

Flags follow ``langgraph dev`` where one exists; each has an ``LG_DEPLOY_*`` variable. Traces
are configured by the standard ``OTEL_*`` variables (:mod:`shared.tracing.setup`); each process
is the service ``lg-deploy-<command>`` unless ``OTEL_SERVICE_NAME`` says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import uvicorn
import uvloop
from starlette.types import ASGIApp

from functions import admin_cli
from functions.signals import StopSignals
from functions.up import run_up
from shared.auth.keys import KeysAccess
from shared.bootstrap import close_runtime, load_project, open_runtime
from shared.config import Settings, load_settings
from shared.embedded import (
    ephemeral_data_dir,
    relax_durability,
    remove_ephemeral,
    start_embedded_postgres,
    stop_embedded_postgres,
)
from shared.graphs.config import ConfigError, ProjectConfig
from shared.graphs.registry import GraphRegistry
from shared.logs import configure_logging
from shared.runtime.context import Runtime
from shared.runtime.function import Function, Placement
from shared.runtime.heap import freeze_startup_heap
from shared.tracing.setup import configure_tracing

log = logging.getLogger("lg-deploy")

FUNCTIONS: tuple[str, ...] = ("intake", "executor", "cron", "webhooks")
"""The functions built so far, in start order; ``lg-deploy dev`` runs them all in one process.
Each is the package ``functions/<name>`` with a ``function.build(runtime, placement)``."""

HELP = {
    "intake": "the HTTP API only (needs --database-url)",
    "executor": "the graph executor only (needs --database-url)",
    "cron": "fires due crons, one tick per CloudEvent on POST / (needs --database-url)",
    "webhooks": "delivers run-end webhooks from the outbox (needs --database-url)",
    "builder": "validates and packages a Git repo per build request (needs --database-url)",
}
"""Every one-function command; ``lg-deploy <name>`` runs ``functions/<name>`` alone."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lg-deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "dev": "all functions in one process on an embedded PostgreSQL",
        "up": "the production topology here: PostgreSQL, Kafka, one process per function",
        **HELP,
    }
    for name, help_text in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", help="path to langgraph.json (default ./langgraph.json)")
        p.add_argument("--database-url", help="PostgreSQL DSN (env LG_DEPLOY_DATABASE_URL)")
        p.add_argument(
            "--n-jobs",
            "--n-jobs-per-worker",
            dest="n_jobs",
            type=int,
            help="concurrent runs per executor (default 32)",
        )
        p.add_argument("--host", help="bind address (default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port (default 2024)")
        if name in ("dev", "up"):
            p.add_argument("--data-dir", help="embedded PostgreSQL data (default ./.lg-deploy)")
        if name == "dev":
            p.add_argument(
                "--allow-unauthenticated",
                action="store_true",
                default=None,
                help="serve a non-loopback --host with neither API keys nor custom auth",
            )
            p.add_argument(
                "--ephemeral",
                action="store_true",
                help="embedded PostgreSQL in a temporary folder (no fsync), removed at exit",
            )
        if name in HELP:
            p.add_argument(
                "--kafka-bootstrap",
                help="Kafka brokers, host:port,… (env LG_DEPLOY_KAFKA_BOOTSTRAP)",
            )
        if name == "up":
            p.add_argument(
                "--executors", type=int, default=2, help="executor processes (default 2)"
            )
            p.add_argument(
                "--kafka-port",
                type=int,
                default=19092,
                help="port of the local Kafka (default 19092)",
            )
    admin_cli.add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        config=args.config,
        database_url=args.database_url,
        n_jobs=args.n_jobs,
        host=args.host,
        port=args.port,
        data_dir=getattr(args, "data_dir", None),
        kafka_bootstrap=getattr(args, "kafka_bootstrap", None),
        allow_unauthenticated=getattr(args, "allow_unauthenticated", None),
    )


def _build(name: str, rt: Runtime, placement: Placement) -> Function:
    module = importlib.import_module(f"functions.{name}.function")
    function: Function = module.build(rt, placement)
    return function


class ListenError(Exception):
    """The HTTP server could not start (the port is taken, or the address is not ours)."""


class Unprotected(Exception):
    """``lg-deploy dev`` would serve a non-loopback address with no authentication."""


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""Addresses only this machine reaches; ``lg-deploy dev`` may serve them open."""


async def _check_exposure(rt: Runtime, settings: Settings) -> None:
    """Safe by default: an open deployment (no API key, no custom auth) on a non-loopback
    ``--host`` raises :class:`Unprotected`, unless ``--allow-unauthenticated``; the start-up
    log says when the deployment is open."""
    if not isinstance(rt.access, KeysAccess) or await rt.access.closed():
        return
    if settings.host not in LOOPBACK_HOSTS and not settings.allow_unauthenticated:
        raise Unprotected(
            f"--host {settings.host} is reachable from other machines and no API key or "
            "custom auth exists; create a key (lg-deploy keys create) or pass "
            "--allow-unauthenticated"
        )
    log.warning(
        "no API key and no custom auth: every request is allowed (open deployment on %s)",
        settings.host,
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: after serving, uvicorn re-raises the signal it
    caught, which would interrupt the functions' clean stop; the launcher handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_http(server: _Server) -> None:
    """Serve until told to exit; a start-up failure (uvicorn exits; the cause is logged) just
    ends it, leaving ``server.started`` false: SystemExit must not escape an asyncio task."""
    with contextlib.suppress(SystemExit):
        await server.serve()


async def _run_until_signalled(
    app: ASGIApp | None, settings: Settings, signals: StopSignals
) -> None:
    """Serve ``app`` (if any) until SIGINT or SIGTERM (see :mod:`functions.signals`); open
    requests then get 5 s to finish before uvicorn cancels them."""
    if app is None:
        await signals.requested()
        return
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="none",
        http="httptools",
        log_level="warning",
        access_log=False,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    serving = asyncio.create_task(_serve_http(server))
    log.info("lg-deploy listening on http://%s:%s", settings.host, settings.port)
    waiting = asyncio.create_task(signals.requested())
    await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if serving.done() and not server.started:
        raise ListenError(f"cannot listen on {settings.host}:{settings.port} (in use?)")
    server.should_exit = True
    await serving


async def _serve(
    settings: Settings,
    names: tuple[str, ...],
    signals: StopSignals,
    *,
    dev: bool,
    ephemeral: bool = False,
) -> None:
    try:
        project, graphs = load_project(settings)
        dsn = settings.database_url
        if dsn is None:
            if not dev:
                raise SystemExit(
                    "lg-deploy: --database-url (or LG_DEPLOY_DATABASE_URL) is required"
                )
            dsn = await _start_embedded(settings.data_dir, signals, ephemeral)
        await _serve_functions(settings, names, signals, dsn, project, graphs, dev=dev)
    finally:
        if ephemeral:
            await asyncio.to_thread(remove_ephemeral, settings.data_dir)
        signals.stopped()


async def _start_embedded(data_dir: Path, signals: StopSignals, ephemeral: bool) -> str:
    """The embedded PostgreSQL over ``data_dir`` (throw-away when ``ephemeral``: no fsync,
    removed at exit, forced exits included); its libpq URI."""
    signals.on_forced_exit(
        partial(remove_ephemeral if ephemeral else stop_embedded_postgres, data_dir)
    )
    dsn = await asyncio.to_thread(start_embedded_postgres, data_dir)
    if ephemeral:
        await asyncio.to_thread(relax_durability, dsn)
        log.info("ephemeral: data in %s (fsync off), removed at exit", data_dir)
    return dsn


async def _serve_functions(
    settings: Settings,
    names: tuple[str, ...],
    signals: StopSignals,
    dsn: str,
    project: ProjectConfig,
    graphs: GraphRegistry,
    *,
    dev: bool,
) -> None:
    owns_database = dev and settings.database_url is None
    rt = await open_runtime(settings, dsn, project, graphs, in_process_bus=owns_database)
    placement = Placement(alone=not dev, owns_database=owns_database)
    started: list[Function] = []
    try:
        if dev:
            await _check_exposure(rt, settings)
        for name in names:
            function = _build(name, rt, placement)
            await function.start()
            started.append(function)
        log.info("lg-deploy running %s with graphs %s", ", ".join(names), rt.graphs.graph_ids)
        freeze_startup_heap()
        apps = [f.app for f in started if f.app is not None]
        await _run_until_signalled(apps[0] if apps else None, settings, signals)
    finally:
        for function in reversed(started):
            await function.stop()
        await close_runtime(rt)


def _ephemeral_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``dev --ephemeral``: the settings with a new temporary data folder. Exits with status
    2 when a database or data folder was named too."""
    if settings.database_url is not None or args.data_dir is not None:
        print("lg-deploy: --ephemeral cannot go with --database-url or --data-dir", file=sys.stderr)
        raise SystemExit(2)
    return settings.model_copy(update={"data_dir": ephemeral_data_dir()})


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lg-deploy`` command."""
    args = _parser().parse_args(argv)
    if args.command in admin_cli.COMMANDS:
        configure_logging("WARNING", False)
        admin_cli.run(args)
        return
    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_json, args.command)
    if args.command != "up":  # up's functions trace in their own processes (same OTEL_* env)
        configure_tracing(f"lg-deploy-{args.command}", statements=settings.trace_statements)
    dev = args.command == "dev"
    names = FUNCTIONS if dev else (args.command,)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            if args.command == "up":
                load_project(settings)  # a bad langgraph.json stops here, before anything starts
                settings = settings.model_copy(update={"config": settings.config.resolve()})
                uvloop.run(run_up(settings, args.executors, args.kafka_port))
            else:
                signals = StopSignals()
                signals.install()
                ephemeral = bool(getattr(args, "ephemeral", False))
                if ephemeral:
                    settings = _ephemeral_settings(args, settings)
                uvloop.run(_serve(settings, names, signals, dev=dev, ephemeral=ephemeral))
    except ConfigError as exc:
        print(f"lg-deploy: invalid langgraph.json: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    except ListenError as exc:
        print(f"lg-deploy: {exc}; choose another with --port", file=sys.stderr)
        raise SystemExit(2) from exc
    except Unprotected as exc:
        print(f"lg-deploy: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
