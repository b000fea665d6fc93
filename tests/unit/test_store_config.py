"""The ``store`` section of ``langgraph.json``: :func:`parse_store_config`, :func:`index_config`
and the start-up message of ``lg-deploy dev`` for a bad section."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.graphs.config import ConfigError, ObjectRef, ProjectConfig, load_project_config
from shared.runtime.store import IndexSettings, index_config, parse_store_config
from tests.support import ROOT, refused_start

GRAPH = f"{ROOT / 'tests' / 'graphs' / 'graphs.py'}:echo"

WriteProject = Callable[..., ProjectConfig]


@pytest.fixture
def project(tmp_path: Path) -> WriteProject:
    """Write ``langgraph.json`` with ``store`` (and ``files`` next to it) and load it."""

    def write(store: Any, files: dict[str, str] | None = None) -> ProjectConfig:
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(text)
        path = tmp_path / "langgraph.json"
        path.write_text(json.dumps({"graphs": {"echo": GRAPH}, "store": store}))
        return load_project_config(path)

    return write


@pytest.fixture(autouse=True)
def isolated_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Restore ``sys.path`` and forget the imported embedding module."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    sys.modules.pop("_lgd_store_embed", None)


EMBED_PY = """
def embed(texts):
    return [[float(len(t)), 1.0] for t in texts]

not_callable = 42
"""


def test_a_full_section_is_read_like_the_official_config(project: WriteProject) -> None:
    config = project(
        {
            "ttl": {"default_ttl": 1.5, "refresh_on_read": False, "sweep_interval_minutes": 0.5},
            "index": {"dims": 2, "embed": "./embed.py:embed", "fields": ["text", "a.b"]},
        },
        {"embed.py": EMBED_PY},
    )
    settings = parse_store_config(config)
    assert settings.ttl == {
        "omit_expired": True,
        "default_ttl": 1.5,
        "refresh_on_read": False,
        "sweep_interval_minutes": 0.5,
    }
    assert settings.index == IndexSettings(
        dims=2,
        embed=ObjectRef("store.index.embed", str(config.base_dir / "embed.py"), "embed", True),
        fields=("text", "a.b"),
    )


def test_no_section_means_no_index_and_expired_items_never_read(project: WriteProject) -> None:
    settings = parse_store_config(project(None))
    assert settings.index is None
    assert settings.ttl == {"omit_expired": True}


def test_embed_may_be_a_module_function_or_a_provider_string(project: WriteProject) -> None:
    module = parse_store_config(
        project({"index": {"dims": 26, "embed": "tests.graphs.embeddings:letters"}})
    )
    assert module.index is not None
    assert module.index.embed == ObjectRef(
        "store.index.embed", "tests.graphs.embeddings", "letters", False
    )
    provider = "openai:text-embedding-3-small"
    settings = parse_store_config(project({"index": {"dims": 1536, "embed": provider}}))
    assert settings.index is not None and settings.index.embed == provider


INVALID: list[tuple[str, Any, str, str]] = [
    ("custom store path", {"path": "./s.py:s"}, "store.path", "unknown key"),
    ("ttl not an object", {"ttl": 5}, "store.ttl", "must be a JSON object"),
    (
        "negative default_ttl",
        {"ttl": {"default_ttl": -1}},
        "store.ttl.default_ttl",
        "positive number",
    ),
    (
        "string default_ttl",
        {"ttl": {"default_ttl": "5"}},
        "store.ttl.default_ttl",
        "positive number",
    ),
    (
        "boolean default_ttl",
        {"ttl": {"default_ttl": True}},
        "store.ttl.default_ttl",
        "positive number",
    ),
    (
        "refresh_on_read not a boolean",
        {"ttl": {"refresh_on_read": "yes"}},
        "store.ttl.refresh_on_read",
        "true or false",
    ),
    (
        "zero sweep interval",
        {"ttl": {"sweep_interval_minutes": 0}},
        "store.ttl.sweep_interval_minutes",
        "positive number",
    ),
    ("unknown ttl key", {"ttl": {"max_ttl": 5}}, "store.ttl.max_ttl", "unknown key"),
    ("no dims", {"index": {"embed": "./e.py:f"}}, "store.index.dims", "is required"),
    ("no embed", {"index": {"dims": 2}}, "store.index.embed", "is required"),
    (
        "fractional dims",
        {"index": {"dims": 1.5, "embed": "m:f"}},
        "store.index.dims",
        "positive integer",
    ),
    ("zero dims", {"index": {"dims": 0, "embed": "m:f"}}, "store.index.dims", "positive integer"),
    (
        "embed file missing",
        {"index": {"dims": 2, "embed": "./nope.py:f"}},
        "store.index.embed",
        "not found",
    ),
    (
        "embed without a name",
        {"index": {"dims": 2, "embed": "embeddings"}},
        "store.index.embed",
        "must be",
    ),
    (
        "fields not a list",
        {"index": {"dims": 2, "embed": "m:f", "fields": "text"}},
        "store.index.fields",
        "list of field paths",
    ),
    (
        "empty field",
        {"index": {"dims": 2, "embed": "m:f", "fields": [""]}},
        "store.index.fields",
        "list of field paths",
    ),
    (
        "unknown index key",
        {"index": {"dims": 2, "embed": "m:f", "model": "x"}},
        "store.index.model",
        "unknown key",
    ),
]


@pytest.mark.parametrize(
    ("store", "key", "problem"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_section_raises_config_error_naming_the_key(
    project: WriteProject, store: Any, key: str, problem: str
) -> None:
    config = project(store)
    with pytest.raises(ConfigError) as caught:
        parse_store_config(config)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_index_config_imports_the_embedding_function_like_a_graph(
    project: WriteProject,
) -> None:
    config = project(
        {"index": {"dims": 2, "embed": "./embed.py:embed", "fields": ["text"]}},
        {"embed.py": EMBED_PY},
    )
    settings = parse_store_config(config)
    assert settings.index is not None
    index = index_config(config, settings.index)
    assert index["dims"] == 2
    assert index["fields"] == ["text"]
    assert index["embed"].embed_documents(["abc", "z"]) == [[3.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize(
    ("embed", "files", "problem"),
    [
        ("./embed.py:not_callable", {"embed.py": EMBED_PY}, "not an embedding function"),
        ("./embed.py:missing", {"embed.py": EMBED_PY}, "variable 'missing' not found"),
        ("./broken.py:embed", {"broken.py": "1 / 0\n"}, "ZeroDivisionError"),
        ("no_such_module_lgd:embed", {}, "ModuleNotFoundError"),
        ("nosuchprovider:some-model", {}, "not supported"),
    ],
    ids=["not callable", "missing name", "import fails", "no module", "unknown provider"],
)
def test_unloadable_embed_raises_config_error_naming_store_index_embed(
    project: WriteProject, embed: str, files: dict[str, str], problem: str
) -> None:
    config = project({"index": {"dims": 2, "embed": embed}}, files)
    settings = parse_store_config(config)
    assert settings.index is not None
    with pytest.raises(ConfigError) as caught:
        index_config(config, settings.index)
    assert caught.value.key == "store.index.embed"
    assert problem in caught.value.problem


def test_cli_stops_with_one_clear_message_on_a_bad_store_section(tmp_path: Path) -> None:
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": {"echo": GRAPH}, "store": {"ttl": {"default_ttl": 0}}}))
    stderr = refused_start(path, tmp_path / "data")
    assert (
        f"lg-deploy: invalid langgraph.json: {path}: store.ttl.default_ttl: "
        "must be a positive number" in stderr
    )
