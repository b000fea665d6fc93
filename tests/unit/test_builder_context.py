"""The build context: the same files give the same bytes, whatever the machine's times, owners
and permission bits; the generated Dockerfile runs lg-deploy on the project's langgraph.json."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path, PurePosixPath

from shared.builds.context import artifact_path, dockerfile, write_context
from shared.builds.git import TreeEntry
from shared.builds.project import ValidProject

PROJECT = ValidProject(
    config=PurePosixPath("agents/langgraph.json"),
    graph_ids=["agent"],
    requirement_files=[PurePosixPath("requirements.txt"), PurePosixPath("agents/my reqs.txt")],
    packages=["langchain_openai"],
    python_version="3.12",
)
ENTRIES = [
    TreeEntry("agents/langgraph.json", "100644"),
    TreeEntry("agents/run.sh", "100755"),
    TreeEntry("agents/link.py", "120000"),
    TreeEntry("requirements.txt", "100644"),
]


def make_tree(root: Path, mtime: int, umask_mode: int) -> Path:
    """The files of :data:`ENTRIES` under ``root`` with the given mtime and file mode."""
    (root / "agents").mkdir(parents=True)
    (root / "agents" / "langgraph.json").write_text('{"graphs": {}}')
    (root / "agents" / "run.sh").write_text("#!/bin/sh\n")
    (root / "requirements.txt").write_text("httpx\n")
    (root / "agents" / "link.py").symlink_to("run.sh")
    (root / "untracked.txt").write_text("not in the commit")
    for path in (root / "agents" / "langgraph.json", root / "requirements.txt"):
        path.chmod(umask_mode)
        os.utime(path, (mtime, mtime))
    (root / "agents" / "run.sh").chmod(umask_mode | 0o111)
    return root


def docker_file() -> str:
    return dockerfile(
        PROJECT,
        commit="c0ffee",
        base_image="python:{python_version}-slim",
        lg_deploy_requirement="lg-deploy==0.1.0",
    )


def test_same_files_give_the_same_digest(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one", mtime=1_000_000, umask_mode=0o600)
    second = make_tree(tmp_path / "two", mtime=2_000_000, umask_mode=0o664)
    artifacts = tmp_path / "artifacts"
    digest = write_context(artifacts, first, ENTRIES, docker_file())
    assert write_context(artifacts, second, ENTRIES, docker_file()) == digest
    stored = artifact_path(artifacts, digest)
    assert digest == "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest()
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]  # no leftovers


def test_entries_are_sorted_and_carry_nothing_of_the_machine(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", mtime=1_000_000, umask_mode=0o600)
    digest = write_context(tmp_path / "artifacts", tree, ENTRIES, docker_file())
    with tarfile.open(artifact_path(tmp_path / "artifacts", digest)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == [
            "Dockerfile",
            "app",
            "app/agents",
            "app/agents/langgraph.json",
            "app/agents/link.py",
            "app/agents/run.sh",
            "app/requirements.txt",
        ]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {
            (0, 0, 0, "", "")
        }
        assert members["app/agents/langgraph.json"].mode == 0o644
        assert members["app/agents/run.sh"].mode == 0o755
        assert members["app/agents/link.py"].issym()
        assert members["app/agents/link.py"].linkname == "run.sh"
        assert members["app"].isdir()
        dockerfile_text = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    assert dockerfile_text == docker_file()


def test_dockerfile_installs_the_requirements_and_points_at_langgraph_json() -> None:
    lines = docker_file().splitlines()
    assert "FROM python:3.12-slim" in lines
    assert 'LABEL org.opencontainers.image.revision="c0ffee"' in lines
    assert "RUN pip install lg-deploy==0.1.0" in lines
    assert "COPY app/ /app/" in lines
    assert (
        "RUN pip install -r /app/requirements.txt -r '/app/agents/my reqs.txt' langchain_openai"
        in lines
    )
    assert (
        'ENV LG_DEPLOY_CONFIG="/app/agents/langgraph.json" LG_DEPLOY_HOST=0.0.0.0'
        " LG_DEPLOY_PORT=8080"
    ) in lines
    assert lines[-2:] == ['ENTRYPOINT ["lg-deploy"]', 'CMD ["intake"]']
