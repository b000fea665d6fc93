"""requirements.txt validation of the builder: what pip would install is accepted, anything the
image cannot vouch for is refused with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.builds.errors import BuildFailed
from shared.builds.requirements import check_requirements

SHA = "a" * 64


def names(tree: Path, text: str, **others: str) -> list[str]:
    """The requirement names ``text`` (as ``requirements.txt``, with ``others`` beside it)
    parses to."""
    for name, content in {"requirements.txt": text, **others}.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    return [r.name for r in check_requirements(tree, tree / "requirements.txt")]


def refused(tree: Path, text: str) -> str:
    """The message refusing ``text`` as ``requirements.txt``."""
    with pytest.raises(BuildFailed) as caught:
        names(tree, text)
    return str(caught.value)


def test_requirement_lines_comments_and_continuations_are_accepted(tmp_path: Path) -> None:
    text = (
        "# the app's packages\n"
        "\n"
        "langgraph>=1.0,<2  # inline comment\n"
        "httpx[http2] == 0.27.0 ; python_version >= '3.11'\n"
        "pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc\n"
        "orjson==3.10.0 \\\n"
        f"    --hash=sha256:{SHA} \\\n"
        f"    --hash sha256:{SHA}\n"
    )
    assert names(tmp_path, text) == ["langgraph", "httpx", "pkg", "orjson"]


def test_included_files_are_checked_once(tmp_path: Path) -> None:
    text = "-r base.txt\n--constraint=sub/constraints.txt\n-rbase.txt\nmain-pkg\n"
    found = names(
        tmp_path,
        text,
        **{"base.txt": "base-pkg\n-r requirements.txt\n", "sub/constraints.txt": "base-pkg<2\n"},
    )
    assert found == ["base-pkg", "base-pkg", "main-pkg"]  # base, the constraint, main


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("httpx\n-e .\n", "requirements.txt:2: '-e .': editable installs"),
        ("--editable ./pkg\n", "requirements.txt:1: '--editable ./pkg': editable"),
        ("--index-url https://mirror/simple\n", "package index options are not supported"),
        ("--find-links ./wheels\n", "package index options are not supported"),
        ("--pre\n", "requirements.txt:1: option '--pre' is not supported"),
        ("ok\nnot a requirement!\n", "requirements.txt:2: 'not a requirement!' is not a valid"),
        ("./local/pkg\n", "a path or URL needs a name"),
        ("git+https://example.com/x.git\n", "a path or URL needs a name"),
        ("httpx --config-settings=x=y\n", "option '--config-settings' after a requirement"),
        ("httpx --hash=md5:abc\n", "--hash 'md5:abc' is not"),
        ("pkg==${VERSION}\n", "requirements.txt:1: environment variables"),
        ("-r\n", "-r takes exactly one file name"),
        ("-r missing.txt\n", "missing.txt: cannot be read"),
        ("-r /etc/hostname\n", "/etc/hostname: is outside the repository"),
    ],
)
def test_unsupported_lines_are_refused_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in refused(tmp_path, text)


def test_a_continued_line_is_reported_at_its_first_line(tmp_path: Path) -> None:
    assert refused(tmp_path, "ok\n# note\nbad \\\n  !!\n").startswith("requirements.txt:3:")
