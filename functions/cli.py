"""``lg-deploy``: run the functions, all in one process (``dev``) or one each.

- ``lg-deploy dev``: embedded PostgreSQL, in-process bus, intake + executor, port 2024.
- ``lg-deploy intake`` / ``lg-deploy executor``: one function against ``--database-url``;
  they meet through PostgreSQL (LISTEN/NOTIFY wakes).

Flags follow ``langgraph dev`` where one exists; each has an ``LG_DEPLOY_*`` variable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import uvicorn
import uvloop

from functions.executor.worker import Executor
from functions.intake.app import create_app
from shared.config import Settings, load_settings
from shared.embedded import start_embedded_postgres
from shared.graphs.config import ConfigError
from shared.logs import configure_logging
from shared.runtime.bootstrap import close_runtime, load_project, open_runtime
from shared.runtime.streams import RunWatcher

log = logging.getLogger("lg-deploy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lg-deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("dev", "all functions in one process on an embedded PostgreSQL"),
        ("intake", "the HTTP API only (needs --database-url)"),
        ("executor", "the graph executor only (needs --database-url)"),
    ):
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
        if name != "executor":
            p.add_argument("--host", help="bind address (default 127.0.0.1)")
            p.add_argument("--port", type=int, help="port (default 2024)")
        if name == "dev":
            p.add_argument("--data-dir", help="embedded PostgreSQL data (default ./.lg-deploy)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        config=args.config,
        database_url=args.database_url,
        n_jobs=args.n_jobs,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
    )


async def _serve(
    settings: Settings, *, run_intake: bool, run_executor: bool, embedded: bool
) -> None:
    project, graphs = load_project(settings)
    dsn = settings.database_url
    if dsn is None:
        if not embedded:
            raise SystemExit("lg-deploy: --database-url (or LG_DEPLOY_DATABASE_URL) is required")
        dsn = await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
    rt = await open_runtime(
        settings, dsn, project, graphs, in_process_bus=embedded and settings.database_url is None
    )
    executor: Executor | None = None
    watcher = RunWatcher(rt.bus)
    watcher.start()
    try:
        if run_executor:
            executor = Executor(rt, n_jobs=settings.n_jobs)
            if embedded and settings.database_url is None:
                await executor.sweep(every_running=True)  # we own this database alone
            await executor.start()
        if run_intake:
            app = create_app(rt, watcher)
            config = uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                loop="none",
                http="httptools",
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
            server = uvicorn.Server(config)
            log.info(
                "lg-deploy serving graphs %s on http://%s:%s",
                rt.graphs.graph_ids,
                settings.host,
                settings.port,
            )
            await server.serve()
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            log.info("lg-deploy executor %s running", executor.executor_id if executor else "")
            await stop.wait()
    finally:
        if executor is not None:
            await executor.stop()
        await watcher.close()
        await close_runtime(rt)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``lg-deploy`` command."""
    args = _parser().parse_args(argv)
    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_json)
    kinds = {
        "dev": (True, True, True),
        "intake": (True, False, False),
        "executor": (False, True, False),
    }
    run_intake, run_executor, embedded = kinds[args.command]
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(
                _serve(
                    settings, run_intake=run_intake, run_executor=run_executor, embedded=embedded
                )
            )
    except ConfigError as exc:
        print(f"lg-deploy: invalid langgraph.json: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
