"""Validate a ``requirements.txt`` before it goes into an image, line by line.

Supported: requirement lines as :class:`packaging.requirements.Requirement` parses them
(``name[extras] specifier ; marker`` and ``name @ url``), comments, blank lines, ``\\``
continuations, ``-r``/``--requirement`` and ``-c``/``--constraint`` files inside the
repository (checked too), and ``--hash=<sha256|sha384|sha512>:<hex>`` after a requirement.
Anything else (editable installs, index options, bare paths or URLs, ``${VARIABLES}``) is
refused with a message naming the file and line, since pip would install something the
build cannot vouch for, or nothing at all.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from shared.builds.errors import BuildFailed

SUPPORTED = (
    "requirement lines ('name[extras] specifier ; marker' or 'name @ url'), "
    "-r/--requirement and -c/--constraint files, and --hash=<algorithm>:<hex>"
)
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDES = ("-r", "--requirement", "-c", "--constraint")
_EDITABLE = ("-e", "--editable")
_INDEX = ("-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links")
_HASH = re.compile(r"(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})")


def check_requirements(tree: Path, file: Path) -> list[Requirement]:
    """The requirements of ``file`` and of the files it includes (each once), all inside the
    folder ``tree``. Raises :class:`BuildFailed` ``"<file>:<line>: <problem>"`` at the first
    line it cannot support."""
    found: list[Requirement] = []
    _check_file(tree.resolve(), file, found, seen=set())
    return found


def _check_file(tree: Path, file: Path, found: list[Requirement], seen: set[Path]) -> None:
    real = file.resolve()
    if real in seen:
        return
    seen.add(real)
    name = _relative(tree, file)
    if not real.is_relative_to(tree):
        raise BuildFailed(f"{name}: is outside the repository")
    try:
        text = real.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed(f"{name}: cannot be read: {exc}") from exc
    for number, line in _logical_lines(text):
        where = f"{name}:{number}"
        if line.startswith("-"):
            include = _include(where, line)
            _check_file(tree, file.parent / include, found, seen)
        else:
            found.append(_requirement(where, line))


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(first line number, text)`` of each non-blank line, continuations joined and
    comments removed (as pip reads them)."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if raw.endswith("\\"):
            parts.append(raw[:-1])
            continue
        parts.append(raw)
        line = _COMMENT.sub("", "".join(parts)).strip()
        parts = []
        if line:
            yield start, line
    line = _COMMENT.sub("", "".join(parts)).strip()
    if line:
        yield start, line


def _include(where: str, line: str) -> str:
    """The file named by a ``-r``/``-c`` line; :class:`BuildFailed` for any other option."""
    if "${" in line:
        raise BuildFailed(f"{where}: environment variables (${{…}}) are not supported")
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise BuildFailed(f"{where}: {line!r}: {exc}") from exc
    first = tokens[0]
    if first[:2] in ("-r", "-c") and len(first) > 2 and not first.startswith("--"):
        option, values = first[:2], [first[2:], *tokens[1:]]  # -rfile
    else:
        option, equals, value = first.partition("=")
        values = [value, *tokens[1:]] if equals else tokens[1:]
    if option in _INCLUDES:
        if len(values) != 1 or not values[0]:
            raise BuildFailed(f"{where}: {line!r}: {option} takes exactly one file name")
        return values[0]
    if option in _EDITABLE:
        raise BuildFailed(
            f"{where}: {line!r}: editable installs cannot go into an immutable image; "
            "name the package instead, or list its folder in langgraph.json 'dependencies'"
        )
    if option in _INDEX or option == "--trusted-host":
        raise BuildFailed(
            f"{where}: {line!r}: package index options are not supported; "
            "images install from the default package index"
        )
    raise BuildFailed(f"{where}: option {option!r} is not supported; supported: {SUPPORTED}")


def _requirement(where: str, line: str) -> Requirement:
    """The requirement of one line, after checking its ``--hash`` options."""
    if "${" in line:
        raise BuildFailed(f"{where}: environment variables (${{…}}) are not supported")
    words = line.split()
    first_option = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
    text, options = " ".join(words[:first_option]), words[first_option:]
    _check_hashes(where, options)
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        hint = ""
        if "/" in text or text.startswith("."):
            hint = " (a path or URL needs a name: 'name @ url'; local folders go in langgraph.json)"
        raise BuildFailed(f"{where}: {text!r} is not a valid requirement: {exc}{hint}") from exc


def _check_hashes(where: str, options: list[str]) -> None:
    """Only ``--hash=<algorithm>:<hex>`` (or ``--hash <algorithm>:<hex>``) may follow."""
    words = iter(options)
    for word in words:
        option, equals, value = word.partition("=")
        if option != "--hash":
            raise BuildFailed(
                f"{where}: option {option!r} after a requirement is not supported (only --hash)"
            )
        if not equals:
            value = next(words, "")
        if not _HASH.fullmatch(value):
            raise BuildFailed(
                f"{where}: --hash {value!r} is not <sha256|sha384|sha512>:<lower-case hex>"
            )


def _relative(tree: Path, file: Path) -> str:
    """``file`` relative to ``tree`` when it lies there (for messages)."""
    absolute = Path(file).absolute()
    return str(absolute.relative_to(tree)) if absolute.is_relative_to(tree) else str(file)
