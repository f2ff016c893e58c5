"""Shared helpers: run the CLI in a real subprocess, the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FAULTS = REPO_ROOT / "tests" / "workloads" / "faults.py"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, env_extra: dict | None = None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "leakhunt", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def faults_path() -> str:
    return str(FAULTS)
