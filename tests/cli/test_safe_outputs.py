"""Outputs are safe to attach to a public ticket: allow-listed environment, redacted paths, no network."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from helpers import FAULTS, REPO_ROOT, run_cli

CANARY = "canary-secret-7f3a9c"


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*")
                     if p.is_file() and p.suffix in (".json", ".csv", ".md", ".html", ".log", ".txt"))


@pytest.fixture(scope="module")
def redacted_run(tmp_path_factory):
    """A workload under a fake home folder, a secret in the environment, --redact-paths on."""
    home = tmp_path_factory.mktemp("home") / "alice-home"
    home.mkdir()
    workload = home / "my_leaky_model.py"
    shutil.copy(FAULTS, workload)
    out = home / "runs" / "run1"
    result = run_cli("soak", "--workload", f"{workload}:leak_16k", "--iterations", "300", "--out", str(out),
                     "--redact-paths", "--no-progress",
                     env_extra={"HOME": str(home), "AWS_SECRET_ACCESS_KEY": CANARY, "MY_TOKEN": CANARY,
                                "USER": "alice-home", "LOGNAME": "alice-home", "TF_CPP_MIN_LOG_LEVEL": "1"})
    assert result.returncode == 0, result.stderr
    return out, home


def test_no_output_file_contains_the_secret_environment(redacted_run):
    out, _ = redacted_run
    assert CANARY not in _all_text(out)
    env_vars = json.loads((out / "run.json").read_text())["environment"]["env_vars"]
    assert env_vars == {"TF_CPP_MIN_LOG_LEVEL": "1"}  # only allow-listed knobs


def test_redact_paths_removes_the_home_folder_everywhere(redacted_run):
    out, home = redacted_run
    text = _all_text(out)
    assert str(home) not in text
    assert "alice-home" not in text
    summary = (out / "summary.json").read_text()
    assert "my_leaky_model" in summary  # the file name itself stays: only the home part is replaced


def test_html_is_self_contained_with_a_restrictive_csp(redacted_run):
    out, _ = redacted_run
    html = (out / "report.html").read_text()
    assert "Content-Security-Policy" in html
    assert "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from the network
    assert "<script" not in html.lower()


def test_help_and_report_do_not_import_tensorflow(redacted_run):
    out, _ = redacted_run
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from leakhunt.cli.app import app\n"
        "runner = CliRunner()\n"
        "assert runner.invoke(app, ['--help']).exit_code == 0\n"
        f"result = runner.invoke(app, ['report', {str(out)!r}, '--format', 'json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "print('ok')\n"
    )
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
