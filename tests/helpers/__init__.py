"""Helpers shared by test modules (fixtures stay in conftest.py files).

Importable as `helpers` because pyproject's pytest `pythonpath` puts tests/ on sys.path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FAULTS = REPO_ROOT / "tests" / "workloads" / "faults.py"
FAST_STEPS = REPO_ROOT / "tests" / "workloads" / "fast_steps.py"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, env_extra: dict | None = None):
    """Run the CLI in a real subprocess, the way a user does."""
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


def invoke_cli(*args: str):
    """Run the CLI in-process through typer's CliRunner (stdout and stderr kept apart): bad input in milliseconds."""
    from typer.testing import CliRunner

    from leakhunt.cli.app import app

    return CliRunner().invoke(app, list(args))


def assert_one_line_error(result, *fragments):
    """Bad input: exit code 2, one `leakhunt: error:` line on stderr, no traceback.

    Takes a subprocess result (returncode, stdout, stderr) or a typer CliRunner result (exit_code, stdout, stderr).
    """
    returncode = getattr(result, "returncode", None)
    if returncode is None:  # CliRunner: an exception escaping the CLI would be a traceback for a user
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        returncode = result.exit_code
    assert returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leakhunt: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
