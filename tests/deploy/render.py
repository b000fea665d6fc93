"""Render ``charts/lg-deploy`` with helm, and regenerate the plain manifests from it.

``knative/`` and ``keda/`` at the repository root are the chart rendered with its default
values (plus ``namespace.create=true``, so the files also create the labelled namespace),
one file per template: ``templates/base/*`` and ``templates/knative/*`` go to ``knative/``,
``templates/keda/*`` to ``keda/``. Regenerate them after changing the chart::

    .venv/bin/python -m tests.deploy.render          # rewrite knative/*.yaml and keda/*.yaml
    .venv/bin/python -m tests.deploy.render --check  # exit 1 when they differ from the chart
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.tools import REPO, K8sTools, ensure_tools

CHART = REPO / "charts" / "lg-deploy"
RELEASE = "lg-deploy"
NAMESPACE = "lg-deploy"
KUBE_VERSION = "1.34.0"
"""The Kubernetes version the chart is rendered for and validated against."""

HERE = Path(__file__).parent
VALUES: dict[str, tuple[Path, ...]] = {
    "default": (),
    "all": (HERE / "values-all.yaml",),
    "minimal": (HERE / "values-minimal.yaml",),
}
"""Values files the tests render with: the defaults, every option on, the options off."""

PLAIN_SET = ("namespace.create=true",)
PLAIN_FOLDERS = {"base": "knative", "knative": "knative", "keda": "keda"}
"""Template sub-folder → folder of the plain manifests."""

_SOURCE = re.compile(r"^# Source: [^/]+/templates/(?P<path>\S+)$", re.MULTILINE)
_HEADER = (
    "# Generated from charts/lg-deploy/templates/{path}\n"
    "# (default values, namespace.create=true) by `python -m tests.deploy.render`.\n"
    "# Edit the chart, not this file.\n"
)


def helm_template(
    tools: K8sTools, values_files: tuple[Path, ...] = (), set_values: tuple[str, ...] = ()
) -> str:
    """``helm template`` of the chart (release ``lg-deploy`` in namespace ``lg-deploy``);
    RuntimeError with helm's message when rendering fails."""
    args = [str(tools.helm), "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    args += ["--kube-version", KUBE_VERSION]
    for path in values_files:
        args += ["--values", str(path)]
    for item in set_values:
        args += ["--set", item]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"helm template failed:\n{proc.stderr}")
    return proc.stdout


Doc = dict[str, Any]


def documents(rendered: str) -> list[Doc]:
    """The non-empty YAML documents of a rendering."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def of_kind(docs: list[Doc], api_version: str, kind: str) -> list[Doc]:
    """The documents of one ``apiVersion`` and ``kind``."""
    return [d for d in docs if d["apiVersion"] == api_version and d["kind"] == kind]


def by_name(docs: list[Doc], api_version: str, kind: str, name: str) -> Doc:
    """The one document with that kind and name (StopIteration when absent)."""
    return next(d for d in of_kind(docs, api_version, kind) if d["metadata"]["name"] == name)


def plain_files(rendered: str) -> dict[Path, str]:
    """Split a rendering into the plain manifest files: relative path → text. Each template's
    documents keep helm's order; the ``# Source:`` line becomes a header naming the template."""
    by_template: dict[str, list[str]] = {}
    for chunk in re.split(r"^---[ \t]*$", rendered, flags=re.MULTILINE):
        match = _SOURCE.search(chunk)
        if match is None:
            continue
        body = _SOURCE.sub("", chunk).strip("\n")
        by_template.setdefault(match["path"], []).append(body)
    files: dict[Path, str] = {}
    for path, bodies in by_template.items():
        folder, name = path.split("/", 1)
        target = Path(PLAIN_FOLDERS[folder]) / name
        files[target] = _HEADER.format(path=path) + "".join(f"---\n{b}\n" for b in bodies)
    return files


def render_plain(tools: K8sTools) -> dict[Path, str]:
    """The plain manifests as the chart renders them now."""
    return plain_files(helm_template(tools, set_values=PLAIN_SET))


def stale_plain_files(expected: dict[Path, str]) -> list[str]:
    """Plain manifest files (``*.yaml`` under knative/ and keda/) that are missing, differ
    from ``expected`` or should not exist."""
    present = {
        path.relative_to(REPO)
        for folder in set(PLAIN_FOLDERS.values())
        for path in (REPO / folder).glob("*.yaml")
    }
    stale = [str(p) for p in sorted(present - expected.keys())]
    for path, text in sorted(expected.items()):
        target = REPO / path
        if not target.is_file() or target.read_text() != text:
            stale.append(str(path))
    return stale


def main(argv: list[str] | None = None) -> int:
    """Rewrite the plain manifests (or, with ``--check``, report the stale ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    expected = render_plain(ensure_tools())
    stale = stale_plain_files(expected)
    if args.check:
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    for folder in set(PLAIN_FOLDERS.values()):
        for path in (REPO / folder).glob("*.yaml"):
            if path.relative_to(REPO) not in expected:
                path.unlink()
    for path, text in expected.items():
        (REPO / path).parent.mkdir(parents=True, exist_ok=True)
        (REPO / path).write_text(text)
    print(f"wrote {len(expected)} files; {len(stale)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
