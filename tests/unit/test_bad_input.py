"""Bad input: one clear line on stderr, exit code 2, no traceback, no run folder left behind.

In-process through CliRunner; tests/cli/test_bad_input_smoke.py runs a few of the same through a real subprocess."""

from __future__ import annotations

import os

import pytest

from helpers import FAULTS, assert_one_line_error, invoke_cli


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--workload", "nope/missing.py:make"], ["not found", "missing.py"]),
        (["--workload", f"{FAULTS}:absent_func"], ["absent_func"]),
        (["--workload", f"{FAULTS}"], ["FILE.py:FUNC"]),
        (["--workload", f"{FAULTS}:leak_16k", "--iterations", "0"], ["--iterations", "greater than 0"]),
        (["--workload", f"{FAULTS}:leak_16k", "--iterations", "-5"], ["--iterations"]),
        (["--workload", f"{FAULTS}:leak_16k", "--iterations", "lots"], ["--iterations", "whole number"]),
        (["--workload", f"{FAULTS}:leak_16k", "--duration", "soon"], ["--duration"]),
        (["--workload", f"{FAULTS}:leak_16k", "--memory-limit", "huge"], ["--memory-limit"]),
        (["--workload", f"{FAULTS}:leak_16k", "--label", "a", "--label", "b"], ["--label"]),
        (["--workload", f"{FAULTS}:leak_16k", "--attribute", "always"], ["--attribute", "auto, off"]),
    ],
)
def test_bad_soak_options(tmp_path, args, fragments):
    out = tmp_path / "run"
    result = invoke_cli("soak", *args, "--out", str(out), "--no-progress")
    assert_one_line_error(result, *fragments)
    assert not out.exists()


def test_unwritable_output_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        result = invoke_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--out", str(locked / "run"))
        assert_one_line_error(result, "cannot write")
    finally:
        os.chmod(locked, 0o700)


def test_output_path_that_is_a_file(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = invoke_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--out", str(target / "run"))
    assert_one_line_error(result, "cannot write")


def test_non_empty_output_folder_needs_force(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--out", str(out))
    assert_one_line_error(result, "not empty", "--force")
    assert (out / "keep.txt").read_text() == "mine"


def test_report_on_a_folder_that_is_not_a_run(tmp_path):
    result = invoke_cli("report", str(tmp_path))
    assert_one_line_error(result, "not a leakhunt run folder")
    result = invoke_cli("report", str(tmp_path / "missing"))
    assert_one_line_error(result, "not found")


def test_output_folder_under_a_read_only_filesystem(tmp_path):
    result = invoke_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--out", "/proc/self/leakhunt-run")
    assert_one_line_error(result, "cannot write")
