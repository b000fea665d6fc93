"""``langgraph.json`` handling: :func:`load_project_config`, :meth:`GraphRegistry.load` and
the start-up message of ``lg-deploy dev`` for an invalid file."""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.errors import NotFound
from shared.graphs.config import (
    ConfigError,
    ProjectConfig,
    apply_environment,
    load_project_config,
)
from shared.graphs.registry import GraphRegistry
from tests.support import ROOT, refused_start

GRAPHS_PY = """
from typing import Annotated, TypedDict
import operator

from langgraph.graph import START, StateGraph
from langgraph_sdk.runtime import ServerRuntime


class Items(TypedDict):
    items: Annotated[list[str], operator.add]


def builder(word: str) -> StateGraph:
    g = StateGraph(Items)
    g.add_node("add", lambda state: {"items": [word]})
    g.add_edge(START, "add")
    return g


compiled = builder("compiled").compile()
uncompiled = builder("uncompiled")


def with_config(config):
    return builder(config["configurable"].get("word", "default")).compile()


def no_args():
    return builder("zero-arg")


async def async_factory(config):
    return builder("async").compile()


def not_a_graph_factory():
    return 42


def two_configs(config, options):
    return compiled


def two_runtimes(runtime: ServerRuntime, other: ServerRuntime):
    return compiled


def three(config, runtime: ServerRuntime, extra):
    return compiled


number = 42
"""


@pytest.fixture(autouse=True)
def isolated_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Restore ``sys.path`` and forget the modules of a test's graphs."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [n for n in sys.modules if n.startswith(("_lgd_graph_", "lgd_test_pkg_"))]:
        del sys.modules[name]


WriteProject = Callable[..., Path]


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write ``files`` (relative path → text) and ``langgraph.json`` (``config``) under a
    fresh folder; return the ``langgraph.json`` path."""

    def write(config: Any, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / uuid.uuid4().hex[:8]
        for name, text in (files or {}).items():
            file = root / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(textwrap.dedent(text))
        root.mkdir(exist_ok=True)
        path = root / "langgraph.json"
        path.write_text(config if isinstance(config, str) else json.dumps(config))
        return path

    return write


def _unique_package() -> str:
    return f"lgd_test_pkg_{uuid.uuid4().hex[:8]}"


async def _run(registry: GraphRegistry, graph_id: str, **configurable: Any) -> Any:
    config: Any = {"configurable": configurable}
    async with registry.use(graph_id, "threads.create_run", config, store=None) as graph:
        return (await graph.ainvoke({"items": []}, config))["items"]


# --- valid files ---------------------------------------------------------------------


async def test_file_path_graphs_of_every_kind_load_and_run(write_project: WriteProject) -> None:
    path = write_project(
        {
            "graphs": {
                "compiled": "./src/graphs.py:compiled",
                "uncompiled": "./src/graphs.py:uncompiled",
                "with-config": "./src/graphs.py:with_config",
                "zero arg": "src/graphs.py:no_args",
                "async": {"path": "./src/graphs.py:async_factory", "description": "async one"},
            }
        },
        {"src/graphs.py": GRAPHS_PY},
    )
    project = load_project_config(path)
    assert project.base_dir == path.parent
    registry = GraphRegistry.load(project)

    assert registry.graph_ids == ["compiled", "uncompiled", "with-config", "zero arg", "async"]
    assert registry.description("async") == "async one"
    assert registry.description("compiled") is None
    assert await _run(registry, "compiled") == ["compiled"]
    assert await _run(registry, "uncompiled") == ["uncompiled"]
    assert await _run(registry, "with-config", word="configured") == ["configured"]
    assert await _run(registry, "with-config") == ["default"]
    assert await _run(registry, "zero arg") == ["zero-arg"]
    assert await _run(registry, "async") == ["async"]


async def test_module_path_graph_is_imported_through_dependencies(
    write_project: WriteProject,
) -> None:
    package = _unique_package()
    path = write_project(
        {"dependencies": ["./lib"], "graphs": {"mod": f"{package}.graphs:compiled"}},
        {f"lib/{package}/__init__.py": "", f"lib/{package}/graphs.py": GRAPHS_PY},
    )
    project = load_project_config(path)
    assert project.dependencies == [path.parent / "lib"]
    registry = GraphRegistry.load(project)
    assert await _run(registry, "mod") == ["compiled"]


async def test_file_path_graph_imports_its_own_package_via_dependencies(
    write_project: WriteProject,
) -> None:
    package = _unique_package()
    path = write_project(
        {"dependencies": ["."], "graphs": {"g": f"./{package}/entry.py:graph"}},
        {
            f"{package}/__init__.py": "",
            f"{package}/graphs.py": GRAPHS_PY,
            f"{package}/entry.py": f"from {package}.graphs import compiled as graph\n",
        },
    )
    registry = GraphRegistry.load(load_project_config(path))
    assert await _run(registry, "g") == ["compiled"]


async def test_registry_refuses_unknown_graph_ids_and_factories_returning_non_graphs(
    write_project: WriteProject,
) -> None:
    path = write_project(
        {"graphs": {"bad": "./graphs.py:not_a_graph_factory"}}, {"graphs.py": GRAPHS_PY}
    )
    registry = GraphRegistry.load(load_project_config(path))
    assert "bad" in registry and "nope" not in registry
    with pytest.raises(NotFound):
        async with registry.use("nope", "threads.read", {}, store=None):
            pass
    with pytest.raises(TypeError, match="'bad' returned int"):
        async with registry.use("bad", "threads.read", {}, store=None):
            pass


def test_env_as_a_map(write_project: WriteProject) -> None:
    path = write_project(
        {"graphs": {"g": "./graphs.py:compiled"}, "env": {"NAME": "value", "PORT": 8080}},
        {"graphs.py": GRAPHS_PY},
    )
    assert load_project_config(path).env == {"NAME": "value", "PORT": "8080"}


def test_env_as_a_dotenv_file_relative_to_the_config(write_project: WriteProject) -> None:
    path = write_project(
        {"graphs": {"g": "./graphs.py:compiled"}, "env": "./config/app.env"},
        {"graphs.py": GRAPHS_PY, "config/app.env": "# comment\nGREETING='hi there'\nEMPTY=\n"},
    )
    assert load_project_config(path).env == {"GREETING": "hi there", "EMPTY": ""}


def test_apply_environment_keeps_variables_already_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LGD_TEST_SET", "from the shell")
    monkeypatch.setenv("LGD_TEST_NEW", "")
    monkeypatch.delenv("LGD_TEST_NEW")  # absent now, and again after the test
    project = ProjectConfig(
        path=tmp_path / "langgraph.json",
        base_dir=tmp_path,
        graphs={},
        dependencies=[],
        env={"LGD_TEST_SET": "from the file", "LGD_TEST_NEW": "new"},
    )
    apply_environment(project)
    assert os.environ["LGD_TEST_SET"] == "from the shell"
    assert os.environ["LGD_TEST_NEW"] == "new"


def test_unknown_and_unused_keys_only_warn(
    write_project: WriteProject, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_project(
        {
            "graphs": {"g": "./graphs.py:compiled"},
            "python_version": "3.11",
            "colour": "blue",
        },
        {"graphs.py": GRAPHS_PY},
    )
    with caplog.at_level(logging.WARNING, logger="shared.graphs.config"):
        project = load_project_config(path)
    assert list(project.graphs) == ["g"]
    warnings = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    assert warnings == {
        f"{path}: key 'colour' is unknown; ignored",
        f"{path}: key 'python_version' is accepted but not used by lg-deploy; ignored",
    }


def test_the_examples_project_is_valid() -> None:
    project = load_project_config(ROOT / "examples" / "langgraph.json")
    assert list(project.graphs) == ["agent", "approval", "pipeline"]
    assert project.env["EXAMPLE_GREETING"]
    assert GraphRegistry.load(project).graph_ids == ["agent", "approval", "pipeline"]


# --- invalid files: one ConfigError naming the file, the key and the problem ----------

GRAPH = {"g": "./graphs.py:compiled"}
GRAPH_FILE = {"graphs.py": GRAPHS_PY}
INVALID: list[tuple[str, Any, dict[str, str], str, str]] = [
    # (case, langgraph.json, files, key, problem)
    ("bad JSON", '{"graphs": {', {}, "(file)", "invalid JSON"),
    ("not an object", "[1, 2]", {}, "(file)", "must be a JSON object"),
    ("no graphs", {"dependencies": ["."]}, {}, "graphs", "non-empty map"),
    ("empty graphs", {"graphs": {}}, {}, "graphs", "non-empty map"),
    (
        "http.cors with an unknown key",
        {"graphs": GRAPH, "http": {"cors": {"allow_origin": ["https://a.example"]}}},
        GRAPH_FILE,
        "http.cors.allow_origin",
        "Extra inputs are not permitted",
    ),
    (
        "http.cors with a bad value",
        {"graphs": GRAPH, "http": {"cors": {"max_age": "long"}}},
        GRAPH_FILE,
        "http.cors.max_age",
        "valid integer",
    ),
    (
        "http.cors with a bad origin regex",
        {"graphs": GRAPH, "http": {"cors": {"allow_origin_regex": "("}}},
        GRAPH_FILE,
        "http.cors.allow_origin_regex",
        "missing ), unterminated subpattern",
    ),
    (
        "auth file not found",
        {"graphs": GRAPH, "auth": {"path": "./auth.py:auth"}},
        GRAPH_FILE,
        "auth.path",
        "'./auth.py' not found",
    ),
    (
        "auth without a path",
        {"graphs": GRAPH, "auth": {"disable_studio_auth": True}},
        GRAPH_FILE,
        "auth.path",
        "Field required",
    ),
    (
        "auth with an unknown key",
        {"graphs": GRAPH, "auth": {"path": "./graphs.py:auth", "skip": True}},
        GRAPH_FILE,
        "auth.skip",
        "Extra inputs are not permitted",
    ),
    (
        "auth.disable_studio_auth not a boolean",
        {"graphs": GRAPH, "auth": {"path": "./graphs.py:auth", "disable_studio_auth": "yes"}},
        GRAPH_FILE,
        "auth.disable_studio_auth",
        "valid boolean",
    ),
    (
        "auth.openapi.security not a list",
        {"graphs": GRAPH, "auth": {"path": "./graphs.py:auth", "openapi": {"security": {}}}},
        GRAPH_FILE,
        "auth.openapi.security",
        "valid list",
    ),
    (
        "auth.cache with a negative ttl",
        {"graphs": GRAPH, "auth": {"path": "./graphs.py:auth", "cache": {"ttl_seconds": -1}}},
        GRAPH_FILE,
        "auth.cache.ttl_seconds",
        "greater than or equal to 0",
    ),
    ("graphs not a map", {"graphs": ["./a.py:g"]}, {}, "graphs", "non-empty map"),
    ("path without ':'", {"graphs": {"g": "./graphs.py"}}, {}, "graphs.g", "'module:variable'"),
    ("empty variable", {"graphs": {"g": "./graphs.py:"}}, {}, "graphs.g", "is not"),
    ("object without path", {"graphs": {"g": {"description": "x"}}}, {}, "graphs.g", "must be"),
    (
        "description not a string",
        {"graphs": {"g": {"path": "./graphs.py:compiled", "description": 3}}},
        {},
        "graphs.g.description",
        "must be a string",
    ),
    (
        "file not found",
        {"graphs": {"g": "./nope.py:graph"}},
        {},
        "graphs.g",
        "'./nope.py' not found",
    ),
    (
        "variable not found",
        {"graphs": {"g": "./graphs.py:missing"}},
        {"graphs.py": GRAPHS_PY},
        "graphs.g",
        "variable 'missing' not found",
    ),
    (
        "not a graph",
        {"graphs": {"g": "./graphs.py:number"}},
        {"graphs.py": GRAPHS_PY},
        "graphs.g",
        "'number' is a int, not a graph or a graph factory",
    ),
    (
        "factory of two parameters, neither a ServerRuntime",
        {"graphs": {"g": "./graphs.py:two_configs"}},
        {"graphs.py": GRAPHS_PY},
        "graphs.g",
        "'two_configs' takes ['config', 'options'], neither annotated ServerRuntime",
    ),
    (
        "factory of two ServerRuntime parameters",
        {"graphs": {"g": "./graphs.py:two_runtimes"}},
        {"graphs.py": GRAPHS_PY},
        "graphs.g",
        "'two_runtimes' takes ['runtime', 'other'], both annotated ServerRuntime",
    ),
    (
        "factory of three parameters",
        {"graphs": {"g": "./graphs.py:three"}},
        {"graphs.py": GRAPHS_PY},
        "graphs.g",
        "at most two parameters (a config and a ServerRuntime); 'three' takes 3",
    ),
    (
        "import error",
        {"graphs": {"g": "./graphs.py:graph"}},
        {"graphs.py": "import lgd_no_such_module\n"},
        "graphs.g",
        "ModuleNotFoundError: No module named 'lgd_no_such_module'",
    ),
    (
        "error raised by the module",
        {"graphs": {"g": "./graphs.py:graph"}},
        {"graphs.py": "raise RuntimeError('no API key')\n"},
        "graphs.g",
        "RuntimeError: no API key",
    ),
    (
        "syntax error",
        {"graphs": {"g": "./graphs.py:graph"}},
        {"graphs.py": "def broken(:\n"},
        "graphs.g",
        "SyntaxError",
    ),
    (
        "module not importable",
        {"graphs": {"g": "lgd_no_such_package.graphs:graph"}},
        {},
        "graphs.g",
        "No module named 'lgd_no_such_package'",
    ),
    (
        "missing env file",
        {"graphs": GRAPH, "env": ".env.local"},
        GRAPH_FILE,
        "env",
        "'.env.local' not found",
    ),
    ("env of a bad type", {"graphs": GRAPH, "env": 3}, GRAPH_FILE, "env", "must be a path"),
    ("env value not a string", {"graphs": GRAPH, "env": {"A": {}}}, GRAPH_FILE, "env.A", "string"),
    (
        "dependencies not a list",
        {"graphs": GRAPH, "dependencies": "."},
        GRAPH_FILE,
        "dependencies",
        "list",
    ),
    (
        "dependency not a string",
        {"graphs": GRAPH, "dependencies": [1]},
        GRAPH_FILE,
        "dependencies",
        "list",
    ),
    (
        "dependency folder missing",
        {"graphs": GRAPH, "dependencies": ["./src"]},
        GRAPH_FILE,
        "dependencies",
        "local folder './src' not found",
    ),
    (
        "dependency is a file",
        {"graphs": GRAPH, "dependencies": ["./graphs.py"]},
        {"graphs.py": GRAPHS_PY},
        "dependencies",
        "local folder './graphs.py' not found",
    ),
]


@pytest.mark.parametrize(
    ("config", "files", "key", "problem"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_file_raises_one_config_error_naming_file_key_and_problem(
    write_project: WriteProject, config: Any, files: dict[str, str], key: str, problem: str
) -> None:
    path = write_project(config, files)
    with pytest.raises(ConfigError) as caught:
        GraphRegistry.load(load_project_config(path))
    error = caught.value
    assert (error.path, error.key) == (path, key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}: {key}: ")


def test_missing_file_raises_config_error(tmp_path: Path) -> None:
    path = tmp_path / "langgraph.json"
    with pytest.raises(ConfigError, match=r"langgraph.json: \(file\): not found"):
        load_project_config(path)


def test_failed_file_import_leaves_no_half_imported_module(write_project: WriteProject) -> None:
    path = write_project({"graphs": {"g": "./graphs.py:graph"}}, {"graphs.py": "1 / 0\n"})
    with pytest.raises(ConfigError, match="ZeroDivisionError"):
        GraphRegistry.load(load_project_config(path))
    assert "_lgd_graph_g" not in sys.modules


def test_cli_stops_with_one_clear_message_on_an_invalid_file(
    write_project: WriteProject, tmp_path: Path
) -> None:
    path = write_project({"graphs": {"agent": "./agent.py:graph"}})
    stderr = refused_start(path, tmp_path / "data")
    [message] = [line for line in stderr.splitlines() if str(path) in line]
    assert message == (
        f"lg-deploy: invalid langgraph.json: {path}: graphs.agent: "
        f"file './agent.py' not found (looked at {path.parent / 'agent.py'})"
    )
