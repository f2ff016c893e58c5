"""Bad input through the real CLI in a subprocess (the in-process matrix is tests/unit/test_bad_input.py): a few
smoke cases for the installed entry point, and the workloads that only fail once a child imports them."""

from __future__ import annotations

from helpers import FAULTS, assert_one_line_error, run_cli


def test_bad_option_through_the_real_cli(tmp_path):
    out = tmp_path / "run"
    result = run_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--iterations", "0", "--out", str(out),
                     "--no-progress")
    assert_one_line_error(result, "--iterations", "greater than 0")
    assert not out.exists()


def test_report_on_a_folder_that_is_not_a_run_through_the_real_cli(tmp_path):
    assert_one_line_error(run_cli("report", str(tmp_path)), "not a leakhunt run folder")


def test_output_folder_under_a_read_only_filesystem_through_the_real_cli(tmp_path):
    result = run_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--out", "/proc/self/leakhunt-run")
    assert_one_line_error(result, "cannot write")


def test_factory_returning_a_non_callable_is_bad_input(tmp_path):
    out = tmp_path / "run"
    result = run_cli("soak", "--workload", f"{FAULTS}:returns_int", "--iterations", "5", "--out", str(out),
                     "--no-progress")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "not a callable" in result.stderr
    assert not out.exists()  # nothing was measured, so no half-written run folder is left


def test_workload_that_is_not_a_function(tmp_path):
    out = tmp_path / "run"
    result = run_cli("soak", "--workload", f"{FAULTS}:NOT_A_FUNCTION", "--iterations", "5", "--out", str(out),
                     "--no-progress")
    assert result.returncode == 2
    assert "not callable" in result.stderr
    assert "Traceback" not in result.stderr
