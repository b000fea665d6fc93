"""Read and validate ``langgraph.json`` like the official CLI.

Used keys: ``graphs`` (``"./file.py:var"`` or ``"package.module:var"``, or ``{"path": …}``),
``dependencies`` (local folders made importable) and ``env`` (a ``.env`` path or a map).
Other known keys are accepted and ignored with a warning. Every problem raises
:class:`ConfigError`, whose message names the file, the key and the problem.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

log = logging.getLogger(__name__)

USED_KEYS = frozenset({"graphs", "dependencies", "env", "store", "webhooks"})
KNOWN_UNUSED_KEYS = frozenset(
    {
        "$schema",
        "python_version",
        "node_version",
        "pip_config_file",
        "pip_installer",
        "dockerfile_lines",
        "http",
        "checkpointer",
        "ui",
        "ui_config",
        "image_distro",
        "base_image",
        "keep_pkg_tools",
        "api_version",
        "encryption",
        "middleware_order",
    }
)

REFUSED_KEYS = {
    "auth": "custom authentication (langgraph_sdk.Auth handlers) is not supported yet; "
    "serving this project would leave every endpoint open: remove the key to serve it "
    "without authentication",
}
"""Keys whose meaning lg-deploy cannot honour and whose silent omission would be unsafe
(the official server enforces ``auth`` on every request): a project that has one does not
start."""


class ConfigError(Exception):
    """``langgraph.json`` is unusable; ``str()`` is the one message shown to the user."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path, self.key, self.problem = path, key, problem


@dataclass(frozen=True)
class ObjectRef:
    """A Python object named at ``key`` of ``langgraph.json`` as ``module_ref:variable``;
    ``module_ref`` is a resolved file path (``is_file``) or a module name."""

    key: str
    module_ref: str
    variable: str
    is_file: bool


@dataclass(frozen=True)
class GraphSpec(ObjectRef):
    """One entry of ``graphs``: ``graph_id`` → ``module_ref:variable``."""

    graph_id: str
    description: str | None = None


@dataclass
class ProjectConfig:
    """A validated ``langgraph.json``. ``base_dir`` is the folder that holds it."""

    path: Path
    base_dir: Path
    graphs: dict[str, GraphSpec]
    dependencies: list[Path]
    env: dict[str, str]
    store: dict[str, Any] = field(default_factory=dict)
    """The ``store`` section (``ttl``, ``index``), validated by the store module."""
    webhooks: dict[str, Any] = field(default_factory=dict)
    """The ``webhooks`` section (``url`` policy …), validated by the webhooks module."""
    raw: dict[str, Any] = field(default_factory=dict)


def _parse_graph(path: Path, graph_id: str, value: Any) -> GraphSpec:
    key = f"graphs.{graph_id}"
    description = None
    if isinstance(value, dict):
        description = value.get("description")
        if description is not None and not isinstance(description, str):
            raise ConfigError(path, f"{key}.description", "must be a string")
        value = value.get("path")
    ref = parse_object_ref(path, key, value)
    return GraphSpec(**asdict(ref), graph_id=graph_id, description=description)


def parse_object_ref(path: Path, key: str, value: Any) -> ObjectRef:
    """``"./file.py:name"`` (relative to ``langgraph.json``) or ``"package.module:name"`` at
    ``key``. Raises :class:`ConfigError` if malformed or the file does not exist."""
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(path, key, "must be 'path/to/file.py:variable' or 'module:variable'")
    module_ref, _, variable = value.rpartition(":")
    if not module_ref or not variable.isidentifier():
        raise ConfigError(path, key, f"{value!r} is not 'file.py:variable' or 'module:variable'")
    is_file = module_ref.endswith(".py") or "/" in module_ref or module_ref.startswith(".")
    if is_file:
        file = (path.parent / module_ref).resolve()
        if not file.is_file():
            raise ConfigError(path, key, f"file {module_ref!r} not found (looked at {file})")
        module_ref = str(file)
    return ObjectRef(key, module_ref, variable, is_file)


def _parse_env(path: Path, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(item, str | int | float | bool):
                raise ConfigError(path, f"env.{name}", "must be a string")
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        env_file = (path.parent / value).resolve()
        if not env_file.is_file():
            raise ConfigError(path, "env", f"env file {value!r} not found (looked at {env_file})")
        return {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    raise ConfigError(path, "env", "must be a path to a .env file or a map of variables")


def _parse_dependencies(path: Path, value: Any) -> list[Path]:
    """Local folders of ``dependencies`` (``"."``, ``"./src"``, absolute); package names
    such as ``"langchain_openai"`` are left to the environment's installed packages."""
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise ConfigError(path, "dependencies", "must be a list of strings")
    folders = []
    for dep in value:
        if dep.startswith((".", "/")):
            folder = (path.parent / dep).resolve()
            if not folder.is_dir():
                raise ConfigError(
                    path, "dependencies", f"local folder {dep!r} not found (looked at {folder})"
                )
            folders.append(folder)
    return folders


def load_project_config(path: Path) -> ProjectConfig:
    """Read and validate ``path``. Raises :class:`ConfigError` on the first problem found."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(path, "(file)", "not found")
    try:
        raw = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "(file)", f"invalid JSON: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(file)", f"cannot be read: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(path, "(file)", "must be a JSON object")
    graphs_raw = raw.get("graphs")
    if not isinstance(graphs_raw, dict) or not graphs_raw:
        raise ConfigError(path, "graphs", "must be a non-empty map of graph id to graph path")
    graphs = {gid: _parse_graph(path, gid, v) for gid, v in graphs_raw.items()}
    dependencies = _parse_dependencies(path, raw.get("dependencies", []))
    env = _parse_env(path, raw.get("env"))
    for key, problem in REFUSED_KEYS.items():
        if key in raw:
            raise ConfigError(path, key, problem)
    for key in sorted(set(raw) - USED_KEYS):
        kind = "accepted but not used by lg-deploy" if key in KNOWN_UNUSED_KEYS else "unknown"
        log.warning("%s: key %r is %s; ignored", path, key, kind)
    return ProjectConfig(
        path=path,
        base_dir=path.parent,
        graphs=graphs,
        dependencies=dependencies,
        env=env,
        store=_section(path, raw, "store"),
        webhooks=_section(path, raw, "webhooks"),
        raw=raw,
    )


def _section(path: Path, raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a JSON object")
    return value


def apply_environment(project: ProjectConfig) -> None:
    """Put ``env`` into ``os.environ`` (existing variables win)."""
    for key, value in project.env.items():
        os.environ.setdefault(key, value)
