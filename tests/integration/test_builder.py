"""The builder as deployed: ``lg-deploy builder`` on the test PostgreSQL, sent build-request
CloudEvents over HTTP for git repositories made in temporary folders.

Guarantees: a valid repository ends ``succeeded`` with its commit, graph ids and the digest of
a stored build context; the same event delivered again is the same build; the same commit
gives the same digest; an invalid repository or ref ends ``failed`` with a message naming the
problem (a handled request: 202); a request that is not a build request is refused (400) and
records nothing; an unreachable repository (503) or database (503) asks for a redelivery.
Requests on the ``build-requests`` Kafka topic go through the same handler.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import subprocess
import tarfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from shared.cloud_events.types import BUILD_REQUESTS_TOPIC
from shared.config import Settings
from shared.db.pool import Database
from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from shared.infra.kafka import LocalKafka
from shared.kafka.producer import EventProducer
from tests.faults.helpers import eventually
from tests.observability.jaeger import jaeger
from tests.support import Server, free_port, postgres_dir, start

BUILD = "dev.lgdeploy.build.requested"
SOURCE = "/tests/builder"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}
VALID = {
    "langgraph.json": json.dumps({"graphs": {"agent": "./agent.py:graph"}, "dependencies": ["."]}),
    "agent.py": "graph = None\n",
    "requirements.txt": "langchain-core>=1.0\n",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; its stdout."""
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass
class Repo:
    """A git repository in a temporary folder; ``main`` is its branch."""

    path: Path

    def commit(self, files: dict[str, str | None]) -> str:
        """Write (or, for ``None``, delete) ``files`` and commit them all; the commit id."""
        for name, content in files.items():
            file = self.path / name
            if content is None:
                file.unlink()
                continue
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(content)
        git(self.path, "add", "-A")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", "change")
        return git(self.path, "rev-parse", "HEAD")


NewRepo = Callable[[dict[str, str]], Repo]


@pytest.fixture
def new_repo(tmp_path: Path) -> NewRepo:
    """Make repositories whose first commit holds the given files."""

    def make(files: dict[str, str]) -> Repo:
        path = tmp_path / f"repo-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        git(path, "init", "--quiet", "--initial-branch", "main")
        repo = Repo(path)
        repo.commit(dict(files))
        return repo

    return make


def builder_env(base: Path) -> dict[str, str]:
    """Work and artifact folders of a builder under ``base``."""
    return {
        "LG_DEPLOY_BUILDER_DIR": str(base / "work"),
        "LG_DEPLOY_BUILDER_ARTIFACTS_DIR": str(base / "artifacts"),
    }


@pytest.fixture(scope="module")
def builder(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``lg-deploy builder`` on the test database, for this module."""
    base = tmp_path_factory.mktemp("builder")
    env = {**builder_env(base), "LG_DEPLOY_LOG_JSON": "true"}
    server = start("builder", database_url=database_url, env=env, log=base / "log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def artifacts(builder: Server) -> Path:
    """Where the module's builder stores build contexts."""
    return Path(builder_env(Path(builder.log).parent)["LG_DEPLOY_BUILDER_ARTIFACTS_DIR"])


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP: CloudEvents, builds, metrics."""
    async with httpx.AsyncClient(timeout=120) as client:
        yield client


def build_event(
    data: Any, *, event_id: str | None = None, type_: str = BUILD, **extensions: str
) -> CloudEvent:
    """A build request CloudEvent (a fresh id unless given) with ``extensions``."""
    attributes = {
        "type": type_,
        "source": SOURCE,
        "id": event_id or str(uuid.uuid4()),
        "datacontenttype": "application/json",
        **extensions,
    }
    return CloudEvent(attributes=attributes, data=data)


async def post(
    http: httpx.AsyncClient, server: Server, event: CloudEvent, *, structured: bool = False
) -> httpx.Response:
    """POST ``event`` to ``server`` in binary (or structured) mode."""
    to_http = ce_http.to_structured if structured else ce_http.to_binary
    message = to_http(event, JSONFormat())
    return await http.post(server.url + "/", headers=message.headers, content=message.body)


async def build(
    http: httpx.AsyncClient, server: Server, data: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """Request a build of ``data``; the build its ``202``'s ``Location`` shows."""
    response = await post(http, server, build_event(data, **kwargs))
    assert response.status_code == 202, response.text
    assert response.content == b""
    shown = await http.get(server.url + response.headers["location"])
    assert shown.status_code == 200, shown.text
    found: dict[str, Any] = shown.json()
    return found


async def builds_of_event(db: Database, event_id: str) -> int:
    """How many builds the test event ``event_id`` made."""
    count: int = await db.pool.fetchval(
        "SELECT count(*) FROM builds WHERE event_source = $1 AND event_id = $2", SOURCE, event_id
    )
    return count


async def test_valid_repository_builds_a_context_named_by_its_digest(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo, artifacts: Path
) -> None:
    repo = new_repo(VALID)
    done = await build(http, builder, {"repo": str(repo.path)})
    assert done["status"] == "succeeded", done
    assert done["commit"] == git(repo.path, "rev-parse", "HEAD")
    assert (done["ref"], done["config"], done["graphs"]) == ("HEAD", "langgraph.json", ["agent"])
    assert (done["error"], done["attempts"]) == (None, 1)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", done["digest"])
    stored = artifacts / "sha256" / f"{done['digest'].removeprefix('sha256:')}.tar"
    assert "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest() == done["digest"]
    with tarfile.open(stored) as tar:
        names = tar.getnames()
        dockerfile = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    assert names == [
        "Dockerfile",
        "app",
        "app/agent.py",
        "app/langgraph.json",
        "app/requirements.txt",
    ]
    assert f'revision="{done["commit"]}"' in dockerfile
    assert "RUN pip install -r /app/requirements.txt" in dockerfile
    assert 'LG_DEPLOY_CONFIG="/app/langgraph.json"' in dockerfile


async def test_redelivered_event_is_the_same_build(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo, db: Database
) -> None:
    repo = new_repo(VALID)
    event = build_event({"repo": str(repo.path)})
    together = await asyncio.gather(post(http, builder, event), post(http, builder, event))
    later = await post(http, builder, event, structured=True)
    assert [r.status_code for r in [*together, later]] == [202, 202, 202]
    assert len({r.headers["location"] for r in [*together, later]}) == 1
    assert await builds_of_event(db, event.get_id()) == 1
    shown = (await http.get(builder.url + later.headers["location"])).json()
    assert (shown["status"], shown["attempts"]) == ("succeeded", 1)


async def test_same_commit_gives_the_same_digest(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo
) -> None:
    repo = new_repo(VALID)
    commit = git(repo.path, "rev-parse", "HEAD")
    by_branch = await build(http, builder, {"repo": str(repo.path), "ref": "main"})
    by_commit = await build(http, builder, {"repo": f"file://{repo.path}", "ref": commit})
    assert by_branch["build_id"] != by_commit["build_id"]
    assert by_branch["commit"] == by_commit["commit"] == commit
    assert by_branch["digest"] == by_commit["digest"]

    git(repo.path, "tag", "v1")
    changed = repo.commit({"agent.py": "graph = 1\n"})
    by_tag = await build(http, builder, {"repo": str(repo.path), "ref": "v1"})
    latest = await build(http, builder, {"repo": str(repo.path)})
    assert (by_tag["commit"], by_tag["digest"]) == (commit, by_branch["digest"])
    assert latest["commit"] == changed
    assert latest["digest"] != by_branch["digest"]


async def test_langgraph_json_in_a_subfolder(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo, artifacts: Path
) -> None:
    config = {"graphs": {"a": "./a.py:graph", "b": "pkg.b:graph"}, "dependencies": [".", ".."]}
    repo = new_repo(
        {
            "agents/langgraph.json": json.dumps(config),
            "agents/a.py": "graph = None\n",
            "agents/pkg/b.py": "graph = None\n",
            "requirements.txt": "-r agents/more.txt\n",
            "agents/more.txt": "httpx\n",
        }
    )
    done = await build(http, builder, {"repo": str(repo.path), "config": "agents/langgraph.json"})
    assert (done["status"], done["graphs"]) == ("succeeded", ["a", "b"]), done
    stored = artifacts / "sha256" / f"{done['digest'].removeprefix('sha256:')}.tar"
    with tarfile.open(stored) as tar:
        dockerfile = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    assert 'LG_DEPLOY_CONFIG="/app/agents/langgraph.json"' in dockerfile
    assert "RUN pip install -r /app/requirements.txt\n" in dockerfile


BAD_GRAPH = json.dumps({"graphs": {"agent": "./missing.py:graph"}, "dependencies": ["."]})
BAD_MODULE = json.dumps({"graphs": {"agent": "nowhere.mod:graph"}, "dependencies": ["."]})


@pytest.mark.parametrize(
    ("files", "data", "expected"),
    [
        pytest.param(
            {**VALID, "langgraph.json": None},
            {},
            "langgraph.json: not found in the repository",
            id="no-langgraph-json",
        ),
        pytest.param(
            {**VALID, "langgraph.json": "{"},
            {},
            "langgraph.json: (file): invalid JSON",
            id="invalid-json",
        ),
        pytest.param(
            {**VALID, "langgraph.json": BAD_GRAPH},
            {},
            "langgraph.json: graphs.agent: file './missing.py' not found (looked at missing.py)",
            id="graph-file-missing",
        ),
        pytest.param(
            {**VALID, "langgraph.json": BAD_MODULE},
            {},
            "graphs.agent: module 'nowhere.mod' is not in the local dependency folders",
            id="graph-module-missing",
        ),
        pytest.param(
            {**VALID, "requirements.txt": "httpx\n-e .\n"},
            {},
            "requirements.txt:2: '-e .': editable installs cannot go into an immutable image",
            id="editable-requirement",
        ),
        pytest.param(
            {**VALID, "requirements.txt": "httpx\nhttpx >>> 1\n"},
            {},
            "requirements.txt:2: 'httpx >>> 1' is not a valid requirement",
            id="bad-requirement",
        ),
        pytest.param(
            {**VALID, "requirements.txt": None},
            {},
            "no requirements.txt in its local folders ['.']",
            id="no-requirements-txt",
        ),
        pytest.param(
            {**VALID, "langgraph.json": json.dumps({"graphs": {"agent": "./agent.py:graph"}})},
            {},
            "no requirements.txt in its local folders []",
            id="no-dependencies",
        ),
        pytest.param(
            VALID, {"ref": "nope"}, "unknown ref 'nope': no branch, tag or commit", id="ref"
        ),
        pytest.param(
            VALID, {"ref": "refs/pull/1/head"}, "unknown ref 'refs/pull/1/head'", id="named-ref"
        ),
        pytest.param(
            VALID, {"config": "other.json"}, "other.json: not found in the repository", id="config"
        ),
    ],
)
async def test_invalid_repository_fails_with_a_clear_error(
    builder: Server,
    http: httpx.AsyncClient,
    new_repo: NewRepo,
    files: dict[str, str | None],
    data: dict[str, str],
    expected: str,
) -> None:
    repo = new_repo(VALID)
    commit = repo.commit(files)
    done = await build(http, builder, {"repo": str(repo.path), **data})
    assert done["status"] == "failed", done
    assert expected in done["error"]
    assert "/work/build-" not in done["error"]  # paths are relative to the repository
    assert done["digest"] is None
    assert done["commit"] == (commit if "ref" not in data else None)


async def test_missing_repository_and_submodules_fail(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo, tmp_path: Path
) -> None:
    missing = await build(http, builder, {"repo": str(tmp_path / "nowhere")})
    assert missing["status"] == "failed"
    assert "does not appear to be a git repository" in missing["error"]
    logged = [json.loads(line) for line in builder.log_text().splitlines() if line[:1] == "{"]
    about = [line for line in logged if line.get("build_id") == missing["build_id"]]
    assert [line["msg"].split(":")[0] for line in about] == [
        f"build {missing['build_id']}",
        f"build {missing['build_id']} failed",
    ]
    assert {line["function"] for line in about} == {"builder"}

    repo = new_repo(VALID)
    commit = git(repo.path, "rev-parse", "HEAD")
    git(repo.path, "update-index", "--add", "--cacheinfo", f"160000,{commit},vendored")
    git(repo.path, "commit", "--quiet", "-m", "submodule")
    with_submodule = await build(http, builder, {"repo": str(repo.path)})
    assert with_submodule["status"] == "failed"
    assert with_submodule["error"] == "vendored: git submodules are not supported (found a commit)"


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        pytest.param(
            {"content-type": "application/json"}, b'{"repo": "/x"}', "not a CloudEvent", id="json"
        ),
        pytest.param(
            {"ce-type": BUILD, "ce-id": "1", "ce-specversion": "1.0"},
            b'{"repo": "/x"}',
            "Missing required attribute: 'source'",
            id="no-source",
        ),
    ],
)
async def test_a_request_that_is_not_a_cloudevent_is_refused(
    builder: Server, http: httpx.AsyncClient, headers: dict[str, str], body: bytes, expected: str
) -> None:
    response = await http.post(builder.url + "/", headers=headers, content=body)
    assert response.status_code == 400
    assert expected in response.json()["detail"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            build_event({"repo": "/x"}, type_="dev.lgdeploy.run.requested"),
            "'dev.lgdeploy.run.requested' is not accepted here",
            id="type",
        ),
        pytest.param(build_event({"ref": "main"}), "repo: Field required", id="no-repo"),
        pytest.param(
            build_event({"repo": "/x", "branch": "main"}), "branch: Extra inputs", id="extra"
        ),
        pytest.param(build_event({"repo": "/x", "ref": "-x"}), "ref: Value error", id="ref"),
        pytest.param(build_event("{oops"), "not JSON", id="not-json"),
    ],
)
async def test_a_bad_build_request_is_refused_and_records_nothing(
    builder: Server, http: httpx.AsyncClient, db: Database, event: CloudEvent, expected: str
) -> None:
    response = await post(http, builder, event)
    assert response.status_code == 400
    assert expected in response.json()["detail"]
    assert await builds_of_event(db, event.get_id()) == 0


async def test_unknown_build_is_not_found(builder: Server, http: httpx.AsyncClient) -> None:
    for build_id in (str(uuid.uuid4()), "not-a-uuid"):
        response = await http.get(f"{builder.url}/builds/{build_id}")
        assert response.status_code == 404
        assert response.json() == {"detail": f"build {build_id} not found"}


async def test_unreachable_repository_asks_for_a_redelivery(
    builder: Server, http: httpx.AsyncClient, db: Database
) -> None:
    event = build_event({"repo": f"http://127.0.0.1:{free_port()}/repo.git"})
    for attempt in (1, 2):
        response = await post(http, builder, event)
        assert response.status_code == 503
        assert "Failed to connect" in response.json()["detail"]
        row = await db.pool.fetchrow(
            "SELECT status, error, attempts FROM builds WHERE event_id = $1", event.get_id()
        )
        assert (row["status"], row["attempts"]) == ("queued", attempt)
        assert row["error"].startswith("will be retried: git fetch http://127.0.0.1")


def metric(text: str, status: str) -> float:
    """``lgd_builds_total{status=…}`` in a ``/metrics`` body."""
    found = re.search(rf'^lgd_builds_total{{status="{status}"}} (\S+)$', text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


async def test_metrics_count_ended_builds(
    builder: Server, http: httpx.AsyncClient, new_repo: NewRepo
) -> None:
    before = (await http.get(builder.url + "/metrics")).text
    repo = new_repo(VALID)
    await build(http, builder, {"repo": str(repo.path)})
    await build(http, builder, {"repo": str(repo.path), "ref": "nope"})
    after = (await http.get(builder.url + "/metrics")).text
    assert metric(after, "succeeded") == metric(before, "succeeded") + 1
    assert metric(after, "failed") == metric(before, "failed") + 1


async def test_database_down_answers_503_and_recovers(
    http: httpx.AsyncClient, new_repo: NewRepo, tmp_path: Path
) -> None:
    repo = new_repo(VALID)
    event = build_event({"repo": str(repo.path)})
    with postgres_dir("builder-db") as base:
        dsn = start_embedded_postgres(base / "data")
        server = start(
            "builder", database_url=dsn, env=builder_env(tmp_path), log=tmp_path / "builder.log"
        )
        try:
            stop_embedded_postgres(base / "data")
            response = await post(http, server, event)
            assert response.status_code == 503
            assert response.json() == {"detail": "database unavailable; retry"}
            start_embedded_postgres(base / "data")
            response = await post(http, server, event)
            assert response.status_code == 202, response.text
            shown = (await http.get(server.url + response.headers["location"])).json()
            assert shown["status"] == "succeeded"
        finally:
            server.stop()
            stop_embedded_postgres(base / "data")


async def test_build_requests_from_kafka_are_built_once(
    database_url: str, kafka: LocalKafka, new_repo: NewRepo, db: Database, tmp_path: Path
) -> None:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    env = {**builder_env(tmp_path), "LG_DEPLOY_KAFKA_TOPIC_PREFIX": prefix}
    server = start(
        "builder",
        database_url=database_url,
        env=env,
        log=tmp_path / "builder.log",
        extra=["--kafka-bootstrap", kafka.bootstrap],
    )
    producer = EventProducer(
        Settings(kafka_bootstrap=kafka.bootstrap, kafka_topic_prefix=prefix), SOURCE
    )
    await producer.start()
    try:
        repo = new_repo(VALID)
        event = build_event({"repo": str(repo.path)})
        await producer.send(BUILD_REQUESTS_TOPIC, event)
        await producer.send(BUILD_REQUESTS_TOPIC, event)  # a redelivery

        async def ended() -> Any:
            return await db.pool.fetchrow(
                "SELECT status, commit, attempts FROM builds WHERE event_id = $1 AND status = $2",
                event.get_id(),
                "succeeded",
            )

        row = await eventually(ended, within=60, what="the build from Kafka", interval=0.2)
        assert (row["commit"], row["attempts"]) == (git(repo.path, "rev-parse", "HEAD"), 1)
        assert await builds_of_event(db, event.get_id()) == 1
    finally:
        await producer.stop()
        server.stop()


async def test_a_build_continues_the_trace_its_event_carries(
    database_url: str, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    trace_id, event_span = "5bf92f3577b34da6a3ce929d0e0e4737", "10f067aa0ba902b8"
    with jaeger() as backend:
        env = {**builder_env(tmp_path), **backend.env}
        server = start("builder", database_url=database_url, env=env, log=tmp_path / "log")
        try:
            traceparent = f"00-{trace_id}-{event_span}-01"
            event = build_event({"repo": str(tmp_path / "nowhere")}, traceparent=traceparent)
            response = await post(http, server, event)
            assert response.status_code == 202, response.text
            shown = (await http.get(server.url + response.headers["location"])).json()
        finally:
            server.stop()  # flushes its spans
        spans = backend.spans(trace_id)
    processed = [s for s in spans if s.name == f"CloudEvents Process {BUILD}"]
    assert [(s.service, s.parent) for s in processed] == [("lg-deploy-builder", event_span)]
    assert processed[0].tags["lgd.build_id"] == shown["build_id"]
    assert processed[0].tags["lgd.outcome"] == "failed"
