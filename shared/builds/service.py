"""One build end to end: record it, check out, validate, write the context, record the outcome.

The ``builds`` row is committed (``queued``) before any work, so the request is durable;
the work (git and files, in a worker thread) then ends it ``succeeded`` (commit, digest,
graph ids) or ``failed`` (the message of :class:`BuildFailed`): both are a handled request.
A :class:`BuildRetry` (network) puts it back to ``queued`` and propagates, as do database
errors, so the transport delivers the event again; that delivery finds the same row and
resumes it, while a delivery of an ended build returns it unchanged. Deliveries of one event
take turns (an advisory lock), so one build is never worked on twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.builds import git
from shared.builds.context import dockerfile, write_context
from shared.builds.errors import BuildFailed, BuildRetry
from shared.builds.models import Build, BuildRequest
from shared.builds.project import check_project
from shared.config import Settings
from shared.db import builds as builds_db
from shared.errors import NotFound
from shared.ids import new_id, parse_uuid
from shared.logs import bound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """What handling one request did: ``build`` as stored now, and whether this handling
    ended it (``False`` for a redelivery of a build that had already ended)."""

    build: Build
    ended_now: bool


@dataclass(frozen=True)
class _Produced:
    commit: str
    digest: str
    graphs: list[str]


async def run_build(
    pool: asyncpg.Pool,
    settings: Settings,
    request: BuildRequest,
    *,
    event_source: str,
    event_id: str,
) -> BuildResult:
    """Build ``request`` once for the CloudEvent (``event_source``, ``event_id``).

    Raises :class:`BuildRetry` (the build is ``queued`` again) and asyncpg/``OSError``
    errors (database down): deliver the event again."""
    async with builds_db.one_at_a_time(pool, event_source, event_id) as conn:
        row = await builds_db.record(
            conn,
            build_id=new_id(),
            event_source=event_source,
            event_id=event_id,
            repo=request.repo,
            ref=request.ref,
            config_path=request.config,
        )
        if row["status"] in builds_db.TERMINAL:  # a redelivery: the build as it ended
            return BuildResult(_build(row), ended_now=False)
        await builds_db.start(conn, row["build_id"])
        with bound({"build_id": str(row["build_id"])}):  # its log lines carry the build id
            ended = await _work(conn, settings, request, row["build_id"])
    return BuildResult(_build(ended), ended_now=True)


async def _work(
    conn: asyncpg.Connection, settings: Settings, request: BuildRequest, build_id: uuid.UUID
) -> asyncpg.Record:
    """Produce the started build ``build_id`` and record how it ended; its row."""
    log.info("build %s: %s at %s (%s)", build_id, request.repo, request.ref, request.config)
    try:
        produced = await asyncio.to_thread(_produce, settings, request)
    except BuildFailed as exc:
        log.info("build %s failed: %s", build_id, exc)
        ended = await builds_db.finish(
            conn, build_id, status="failed", commit=exc.commit, error=str(exc)
        )
    except BuildRetry as exc:
        log.warning("build %s will be retried: %s", build_id, exc)
        await builds_db.requeue(conn, build_id, f"will be retried: {exc}")
        raise
    else:
        log.info("build %s succeeded: %s %s", build_id, produced.commit, produced.digest)
        ended = await builds_db.finish(
            conn,
            build_id,
            status="succeeded",
            commit=produced.commit,
            digest=produced.digest,
            graphs=produced.graphs,
        )
    if ended is None:  # only this handler, holding the lock, moves a running build
        raise RuntimeError(f"build {build_id} stopped running while being built")
    return ended


async def get_build(pool: asyncpg.Pool, build_id: str) -> Build:
    """The build ``build_id``. Raises :class:`NotFound` (also for an id that is no UUID)."""
    parsed = parse_uuid(build_id)
    row = await builds_db.get(pool, parsed) if parsed is not None else None
    if row is None:
        raise NotFound(f"build {build_id} not found")
    return _build(row)


def _build(row: asyncpg.Record) -> Build:
    """A ``builds`` row as the Build model."""
    return Build.model_validate(builds_db.build_to_api(row))


def _produce(settings: Settings, request: BuildRequest) -> _Produced:
    """Check out, validate and write the context (blocking: run it in a thread)."""
    work = settings.builder_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix="build-") as scratch:
        done = git.checkout(
            settings.builder_dir / "git",
            request.repo,
            request.ref,
            Path(scratch) / "app",
            timeout=settings.builder_git_timeout_seconds,
        )
        try:
            project = check_project(done.tree, request.config)
            docker_file = dockerfile(
                project,
                commit=done.commit,
                base_image=settings.builder_base_image,
                lg_deploy_requirement=settings.builder_lg_deploy_requirement,
            )
            digest = write_context(
                settings.builder_artifacts_dir, done.tree, done.entries, docker_file
            )
        except BuildFailed as exc:
            exc.commit = done.commit
            raise
    return _Produced(done.commit, digest, project.graph_ids)
