"""Run one of the install scripts of this folder (``k8s-tools.sh``, ``node-deps.sh``,
``chromium.sh``) from a test: each installs what is missing and prints ``key=value`` lines
naming what it installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def install(script: str, timeout: float) -> dict[str, str]:
    """``bash tests/infra/<script> install``; its ``key=value`` output lines as a dict.
    RuntimeError with the script's output when it exits non-zero;
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    proc = subprocess.run(
        ["bash", str(FOLDER / script), "install"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} install failed:\n{proc.stderr}{proc.stdout}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
