"""Validate a checked-out repository as an lg-deploy project: ``langgraph.json`` (with the
runtime's own loader) and the ``requirements.txt`` of its dependency folders.

Beyond what the runtime checks at start-up, everything the image will need must lie inside
the repository: the graph files (a ``module:variable`` graph must be a module of a local
dependency folder), the dependency folders and the ``env`` file. At least one local
dependency folder must hold a ``requirements.txt`` (MVP: no ``pyproject.toml`` installs).
``python_version`` (as the official CLI reads it; default ``"3.11"``) picks the image's Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from shared.builds.errors import BuildFailed
from shared.builds.requirements import check_requirements
from shared.graphs.config import ConfigError, GraphSpec, load_project_config

DEFAULT_PYTHON = "3.11"
_PYTHON = re.compile(r"3\.(1[1-9])")
"""Python versions lg-deploy runs on (3.11 and later)."""


@dataclass(frozen=True)
class ValidProject:
    """What the image needs of a valid project; paths are relative to the repository."""

    config: PurePosixPath
    graph_ids: list[str]
    requirement_files: list[PurePosixPath]
    packages: list[str]
    """``dependencies`` entries that name packages (``"langchain_openai"``), pip-installed."""
    python_version: str


def check_project(tree: Path, config: str) -> ValidProject:
    """Validate the project at ``tree`` whose ``langgraph.json`` is at ``config`` (relative).
    Raises :class:`BuildFailed` whose message names the file, the key and the problem, with
    paths relative to the repository."""
    tree = tree.resolve()
    try:
        return _check(tree, config)
    except ConfigError as exc:
        raise BuildFailed(_relative_text(tree, str(exc))) from exc
    except BuildFailed as exc:
        raise BuildFailed(_relative_text(tree, str(exc))) from exc


def _check(tree: Path, config: str) -> ValidProject:
    path = tree / config
    if not path.resolve().is_relative_to(tree):
        raise BuildFailed(f"{config}: is a link to outside the repository")
    if not path.is_file():
        raise BuildFailed(f"{config}: not found in the repository at this commit")
    project = load_project_config(path)
    for spec in project.graphs.values():
        _check_graph(tree, config, spec, project.dependencies)
    for folder in project.dependencies:
        _inside(tree, folder, config, "dependencies")
    env = project.raw.get("env")
    if isinstance(env, str):
        _inside(tree, project.base_dir / env, config, "env")
    packages = [_package(config, dep) for dep in project.raw.get("dependencies", [])]
    files = [folder / "requirements.txt" for folder in project.dependencies]
    files = [file for file in files if file.is_file()]
    if not files:
        raise BuildFailed(
            f"{config}: dependencies: no requirements.txt in its local folders "
            f"{project.raw.get('dependencies', [])}; lg-deploy builds install requirements.txt"
        )
    for file in files:
        check_requirements(tree, file)
    python_version = project.raw.get("python_version", DEFAULT_PYTHON)
    if not isinstance(python_version, str) or not _PYTHON.fullmatch(python_version):
        raise BuildFailed(f"{config}: python_version: {python_version!r} is not 3.11 or later")
    return ValidProject(
        config=PurePosixPath(path.relative_to(tree).as_posix()),
        graph_ids=list(project.graphs),
        requirement_files=[PurePosixPath(f.relative_to(tree).as_posix()) for f in files],
        packages=[p for p in packages if p is not None],
        python_version=python_version,
    )


def _check_graph(tree: Path, config: str, spec: GraphSpec, folders: list[Path]) -> None:
    """A graph's file lies in the repository; a module graph is a module of a local folder."""
    if spec.is_file:
        _inside(tree, Path(spec.module_ref), config, spec.key)
        return
    relative = Path(*spec.module_ref.split("."))
    candidates = [f / relative.with_suffix(".py") for f in folders]
    candidates += [f / relative / "__init__.py" for f in folders]
    if not any(c.is_file() for c in candidates):
        raise BuildFailed(
            f"{config}: {spec.key}: module {spec.module_ref!r} is not in the local dependency "
            "folders of the repository; name the graph by its file ('./path/file.py:variable')"
        )


def _package(config: str, dependency: str) -> str | None:
    """A ``dependencies`` entry that is a package name, validated; ``None`` for a folder."""
    if dependency.startswith((".", "/")):
        return None
    try:
        Requirement(dependency)
    except InvalidRequirement as exc:
        raise BuildFailed(
            f"{config}: dependencies: {dependency!r} is neither a local folder ('./…') "
            f"nor a package requirement: {exc}"
        ) from exc
    return dependency


def _inside(tree: Path, path: Path, config: str, key: str) -> None:
    """Raise :class:`BuildFailed` unless ``path`` (links resolved) lies in ``tree``."""
    if not path.resolve().is_relative_to(tree):
        raise BuildFailed(f"{config}: {key}: {path} is outside the repository")


def _relative_text(tree: Path, text: str) -> str:
    """``text`` with the work tree's absolute paths made relative to the repository."""
    return text.replace(f"{tree}/", "").replace(str(tree), ".")
