"""Resolve a ref of a repository to a commit and check that commit out, with the ``git`` CLI.

Each repository has a bare cache under ``<cache_root>/<sha256 of its URL>.git``: a fetch brings
its branches and tags (and the remote ``HEAD`` or another ``refs/…`` name when asked for), the
ref is resolved there, and the commit is checked out into a fresh work tree that borrows the
cache's objects (``clone --shared``). One repository's cache is used by one build at a time (a
file lock), so builds of one repository in several threads or processes never race.

Failures reaching the repository that look like the network (unresolvable host, refused or
reset connection, timeout, HTTP 5xx) raise :class:`BuildRetry`; anything else (no such
repository, no access, unknown ref, submodules) raises :class:`BuildFailed`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.builds.errors import BuildFailed, BuildRetry

_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # no credential prompts: a private repository fails at once
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",  # never ext:: (runs commands)
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",  # English messages, classified below
}
_TRANSIENT = (
    "could not resolve host",
    "temporary failure in name resolution",
    "failed to connect",
    "connection refused",
    "connection reset",
    "connection timed out",
    "operation timed out",
    "network is unreachable",
    "early eof",
    "rpc failed",
    "the requested url returned error: 5",
)
"""Lower-case fragments of git's stderr that mean "try again later"."""


@dataclass(frozen=True)
class TreeEntry:
    """A file of the checked-out commit: its path (POSIX, relative) and git mode
    (``100644`` file, ``100755`` executable, ``120000`` symbolic link)."""

    path: str
    mode: str


@dataclass(frozen=True)
class Checkout:
    """A commit checked out at ``tree``, with the files git tracks there."""

    commit: str
    tree: Path
    entries: list[TreeEntry]


def checkout(cache_root: Path, repo: str, ref: str, dest: Path, *, timeout: float) -> Checkout:
    """Fetch ``repo`` into its cache, resolve ``ref`` to a commit and check it out at ``dest``
    (which must not exist). Raises :class:`BuildFailed` or :class:`BuildRetry`."""
    cache_root.mkdir(parents=True, exist_ok=True)
    cache = cache_root / f"{hashlib.sha256(repo.encode()).hexdigest()[:40]}.git"
    with _locked(cache.with_suffix(".lock")):
        if not (cache / "HEAD").is_file():
            _git(["init", "--quiet", "--bare", str(cache)], timeout=timeout, what="git init")
        target = _fetch(cache, repo, ref, timeout=timeout)
        commit = _resolve(cache, repo, ref, target, timeout=timeout)
        try:
            _git(
                ["clone", "--quiet", "--no-checkout", "--shared", "--", str(cache), str(dest)],
                timeout=timeout,
                what="git clone",
            )
            _git(
                ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit],
                cwd=dest,
                timeout=timeout,
                what=f"git checkout {commit}",
            )
            entries = _entries(dest, commit, timeout=timeout)
        except BuildFailed as exc:
            exc.commit = commit
            raise
    return Checkout(commit, dest, entries)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) across threads and processes."""
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fetch(cache: Path, repo: str, ref: str, *, timeout: float) -> str:
    """Fetch branches, tags and ``ref`` (when it is ``HEAD`` or another ``refs/…`` name);
    the name to resolve ``ref`` by in the cache."""
    refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
    target = ref
    if ref == "HEAD":
        target = "refs/lgd/remote-head"
        refspecs.append(f"+HEAD:{target}")
    elif ref.startswith("refs/") and not ref.startswith(("refs/heads/", "refs/tags/")):
        refspecs.append(f"+{ref}:{ref}")
    try:
        _git(
            [
                "--git-dir",
                str(cache),
                "fetch",
                "--quiet",
                "--prune",
                "--no-tags",
                "--",
                repo,
                *refspecs,
            ],
            timeout=timeout,
            what=f"git fetch {repo}",
        )
    except BuildFailed as exc:
        if "couldn't find remote ref" in str(exc).lower():
            raise BuildFailed(f"unknown ref {ref!r}: {repo} has no such ref") from exc
        raise
    return target


def _resolve(cache: Path, repo: str, ref: str, target: str, *, timeout: float) -> str:
    """The commit ``target`` names in the cache; :class:`BuildFailed` when none."""
    commit_of = f"{target}^{{commit}}"
    done = _run(
        [
            "--git-dir",
            str(cache),
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            commit_of,
        ],
        timeout=timeout,
        what="git rev-parse",
    )
    if done.returncode != 0:
        raise BuildFailed(f"unknown ref {ref!r}: no branch, tag or commit of that name in {repo}")
    return done.stdout.strip()


def _entries(tree: Path, commit: str, *, timeout: float) -> list[TreeEntry]:
    """The files of ``commit`` (``ls-tree``); :class:`BuildFailed` on a submodule."""
    out = _git(
        ["ls-tree", "-r", "-z", "--full-tree", commit], cwd=tree, timeout=timeout, what="ls-tree"
    )
    entries = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, kind, _ = meta.split(" ", 2)
        if kind != "blob":
            raise BuildFailed(f"{path}: git submodules are not supported (found a {kind})")
        entries.append(TreeEntry(path, mode))
    return entries


def _run(
    args: list[str], *, timeout: float, what: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``git args``; a timeout raises :class:`BuildRetry`."""
    env = {**os.environ, **_ENV}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildRetry(f"{what}: timed out after {timeout:g} s") from exc


def _git(args: list[str], *, timeout: float, what: str, cwd: Path | None = None) -> str:
    """Run ``git args``; its stdout. A failure raises :class:`BuildRetry` when git's message
    looks like the network, :class:`BuildFailed` otherwise (both with that message)."""
    done = _run(args, timeout=timeout, what=what, cwd=cwd)
    if done.returncode == 0:
        return done.stdout
    message = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
    text = f"{what}: {message or f'exit status {done.returncode}'}"
    if any(fragment in message.lower() for fragment in _TRANSIENT):
        raise BuildRetry(text)
    raise BuildFailed(text)
