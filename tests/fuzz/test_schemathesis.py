"""A bounded schemathesis run over intake's ``/openapi.json`` in ``make test``.

Every operation but :data:`UNREADABLE`, the coverage, fuzzing and stateful phases, a fixed seed
and at most :data:`MAX_EXAMPLES` generated cases per operation (about 12,000 requests, a minute
and a half on two idle cores): no answer may be a 5xx, use a status the operation does not
document, or break its documented schema, content type or headers. A new endpoint that can
answer 500, or an undocumented error, fails CI. ``tests/fuzz/README.md`` says how to run a
longer campaign.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import create_api_key, dev_server

SEED = 20261206
MAX_EXAMPLES = 100
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "use_after_free",
    "ensure_resource_availability",
)
PHASES = ("examples", "coverage", "fuzzing", "stateful")
UNREADABLE = "GET /threads/{thread_id}/stream"
"""The thread stream follows a thread until the client leaves (as the official server's), so
a fuzzer reading answers to their end would hang on it; tests/api cover it."""


def schemathesis_command(url: str, report_dir: Path, api_key: str) -> list[str]:
    """The ``st run`` command line of the bounded run (one worker, deterministic seed), every
    request with ``api_key`` (an admin's: the fuzzer also creates keys over ``/admin/keys``,
    which would close an open deployment midway)."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        f"--checks={','.join(CHECKS)}",
        f"--phases={','.join(PHASES)}",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--exclude-name={UNREADABLE}",
        "--workers=1",
        "--generation-database=none",  # the same cases on every machine
        "--request-timeout=30",
        "--suppress-health-check=all",
        "--no-color",
        "--report=json",
        f"--report-dir={report_dir}",
        f"--header=X-Api-Key: {api_key}",
    ]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(tmp_path: Path) -> None:
    # waits and run streams give up after 5 s: a run scheduled a year ahead cannot hold one
    with dev_server("fuzz", env={"LG_DEPLOY_MAX_WAIT_SECONDS": "5"}) as server:
        key = create_api_key(server.data_dir)
        result = subprocess.run(
            schemathesis_command(server.url, tmp_path, key),
            cwd=tmp_path,  # its caches (.schemathesis, .hypothesis) stay out of the project
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    (report,) = tmp_path.glob("*.json")
    summary = json.loads(report.read_text())
    assert result.returncode == 0 and not summary["failures"], result.stdout[-30000:]
    assert summary["test_cases"]["generated"] > 1000  # every phase ran
