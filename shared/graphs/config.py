"""Read and validate ``langgraph.json`` like the official CLI.

Used keys: ``graphs`` (``"./file.py:var"`` or ``"package.module:var"``, or ``{"path": …}``),
``dependencies`` (local folders made importable), ``env`` (a ``.env`` path or a map),
``http.cors`` (CORS, as the official server reads it) and ``auth`` (custom authentication,
see :class:`AuthConfig`).
Other known keys are accepted and ignored with a warning. Every problem raises
:class:`ConfigError`, whose message names the file, the key and the problem.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

log = logging.getLogger(__name__)

SectionModel = TypeVar("SectionModel", bound=BaseModel)

USED_KEYS = frozenset({"graphs", "dependencies", "env", "store", "webhooks", "http", "auth"})
KNOWN_UNUSED_KEYS = frozenset(
    {
        "$schema",
        "python_version",
        "node_version",
        "pip_config_file",
        "pip_installer",
        "dockerfile_lines",
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
    cors: dict[str, Any] | None = None
    """``http.cors`` as Starlette ``CORSMiddleware`` options (see :func:`parse_cors`);
    ``None``: the official server's default CORS."""
    auth: AuthConfig | None = None
    """The ``auth`` section (custom authentication); ``None`` without one."""
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
    auth = parse_auth(path, raw.get("auth"))
    http = _section(path, raw, "http")
    cors = parse_cors(path, http.get("cors"))
    for key in sorted(set(http) - {"cors"}):
        log.warning("%s: key 'http.%s' is accepted but not used by lg-deploy; ignored", path, key)
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
        cors=cors,
        auth=auth,
        raw=raw,
    )


class CorsConfig(BaseModel):
    """``http.cors`` of ``langgraph.json``, the keys the official server passes to Starlette's
    ``CORSMiddleware``; a key left out takes Starlette's default (as there)."""

    model_config = ConfigDict(extra="forbid")
    allow_origins: list[str] = Field(default_factory=list)
    allow_methods: list[str] = Field(default_factory=lambda: ["GET"])
    allow_headers: list[str] = Field(default_factory=list)
    allow_credentials: bool = False
    allow_origin_regex: str | None = None
    expose_headers: list[str] = Field(default_factory=list)
    max_age: int = Field(600, ge=0)


DEFAULT_CORS: dict[str, Any] = {
    "allow_origins": ["*"],
    "allow_methods": ["*"],
    "allow_headers": ["*"],
    "expose_headers": ["X-Pagination-Total", "X-Pagination-Next", "Content-Location", "Location"],
}
"""CORS without ``http.cors``: the official server's default (any origin, no credentials)."""


def parse_cors(path: Path, value: Any) -> dict[str, Any] | None:
    """``CORSMiddleware`` options from ``http.cors`` (``None`` without it: use
    :data:`DEFAULT_CORS`). ``"*"`` among ``allow_origins`` with ``allow_credentials`` would
    let any site send the user's credentials and read the answer while browsers refuse a
    ``*`` with credentials: the request's origin is reflected instead (an
    ``allow_origin_regex`` matching every origin), never ``*``. Raises :class:`ConfigError`
    naming the key for an invalid value."""
    if value is None:
        return None
    cors = _validated(CorsConfig, path, "http.cors", value)
    if cors.allow_origin_regex is not None:
        try:
            re.compile(cors.allow_origin_regex)
        except re.error as exc:
            raise ConfigError(path, "http.cors.allow_origin_regex", str(exc)) from exc
    options = cors.model_dump()
    if cors.allow_credentials and "*" in cors.allow_origins:
        options["allow_origins"] = [o for o in cors.allow_origins if o != "*"]
        options["allow_origin_regex"] = ".*"
    return options


class AuthOpenApi(BaseModel):
    """``auth.openapi``: what the API description (``/openapi.json``) says about
    authentication, as the official server applies it: ``securitySchemes`` (also spelt
    ``security_schemes``) replaces ``components.securitySchemes``, ``security`` is the
    default requirement of every operation, ``paths`` overrides it per path and method
    (``{"/threads": {"post": [{"Bearer": []}]}}``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    security_schemes: dict[str, dict[str, Any]] | None = Field(None, alias="securitySchemes")
    security: list[dict[str, list[str]]] | None = None
    paths: dict[str, dict[str, list[dict[str, list[str]]]]] = Field(default_factory=dict)


class AuthCache(BaseModel):
    """``auth.cache`` (``cache_keys``, ``ttl_seconds``, ``max_size``): validated and not
    used, as the official server does for a Python ``auth.path`` (it caches only the results
    of JavaScript authenticators); the ``@auth.authenticate`` function runs on every
    request."""

    model_config = ConfigDict(extra="forbid")
    cache_keys: list[str] = Field(default_factory=list)
    ttl_seconds: int = Field(60, ge=0)
    max_size: int = Field(1000, ge=1)


class AuthSection(BaseModel):
    """The keys of the official ``auth`` section; any other key is refused."""

    model_config = ConfigDict(extra="forbid")
    path: str
    disable_studio_auth: StrictBool = False
    allow_langsmith_api_keys: StrictBool | None = None
    openapi: AuthOpenApi | None = None
    cache: AuthCache | None = None


@dataclass(frozen=True)
class AuthConfig:
    """``auth`` of ``langgraph.json``: ``ref``, where the ``langgraph_sdk.Auth`` object is
    (``auth.path``, loaded by :mod:`shared.auth.custom`), and ``openapi``, the security the
    API description declares (``None``: as without auth).

    The official section's other keys are accepted: ``disable_studio_auth`` (every request
    goes through the ``@auth.authenticate`` function in lg-deploy, which has no LangSmith to
    verify a Studio user against: what ``true`` asks for), ``allow_langsmith_api_keys`` (the
    same: no LangSmith API keys) and ``cache`` (see :class:`AuthCache`)."""

    ref: ObjectRef
    openapi: AuthOpenApi | None = None


def parse_auth(path: Path, value: Any) -> AuthConfig | None:
    """The ``auth`` section, or ``None`` without one (absent or ``{}``, as the official
    server treats it). Raises :class:`ConfigError` naming the key for an unknown key, a
    missing or malformed ``path`` or a value of the wrong type."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise ConfigError(path, "auth", "must be a JSON object")
    section = _validated(AuthSection, path, "auth", value)
    if section.allow_langsmith_api_keys:
        log.warning(
            "%s: 'auth.allow_langsmith_api_keys' is accepted but not used: lg-deploy has no "
            "LangSmith API keys; every request goes through the @auth.authenticate function",
            path,
        )
    return AuthConfig(parse_object_ref(path, "auth.path", section.path), section.openapi)


def _validated(model: type[SectionModel], path: Path, key: str, value: Any) -> SectionModel:
    """``value`` (the section at ``key``) as ``model``. Raises :class:`ConfigError` naming
    the key of its first problem (``key.field``)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(path, f"{key}.{where}".rstrip("."), error["msg"]) from exc


def _section(path: Path, raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a JSON object")
    return value


def apply_environment(project: ProjectConfig) -> None:
    """Put ``env`` into ``os.environ`` (existing variables win)."""
    for key, value in project.env.items():
        os.environ.setdefault(key, value)
