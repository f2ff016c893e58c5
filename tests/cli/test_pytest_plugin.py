"""The pytest plugin and the Python API, tested the way a user's CI runs them (pytester, real children)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import leakhunt
import leakhunt.api  # noqa: F401 - imported before pytester snapshots sys.modules (numpy loads once)
from leakhunt.errors import BadInputError

pytest_plugins = ["pytester"]

WORKLOADS = textwrap.dedent('''
    import time

    def make_leaky():
        kept = []
        def step():
            kept.append(bytearray(16 * 1024))
            time.sleep(0.0005)
        return step

    def make_flat():
        def step():
            scratch = bytearray(64 * 1024)
            del scratch
            time.sleep(0.0005)
        return step

    def make_raising():
        def step():
            raise RuntimeError("the model exploded")
        return step
''')


@pytest.fixture
def user_tests(pytester):
    pytester.makepyfile(workloads=WORKLOADS)
    return pytester


def test_a_leaking_test_fails_with_the_reason_and_the_report(user_tests):
    user_tests.makepyfile(test_user='''
        from workloads import make_leaky

        def test_no_leak(leakhunt):
            leakhunt(make_leaky, iterations=1500, max_bytes_per_iter=1024)
    ''')
    result = user_tests.runpytest_subprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*leak: +1?.? KiB/iter*over * iterations (limit +1.00 KiB/iter)*report: *report.html*"]
    )


def test_a_flat_test_passes_and_reports_can_be_kept(user_tests, tmp_path):
    user_tests.makepyfile(test_user='''
        from workloads import make_flat

        def test_flat(leakhunt):
            result = leakhunt(make_flat, iterations=1500)
            assert result.verdict == "flat"
    ''')
    reports = tmp_path / "kept"
    result = user_tests.runpytest_subprocess("-q", f"--leakhunt-reports={reports}")
    result.assert_outcomes(passed=1)
    assert list(reports.glob("*/report.html"))


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_an_inconclusive_check_warns_and_fails_when_strict(user_tests):
    user_tests.makepyfile(test_user='''
        from workloads import make_flat

        def test_short(leakhunt):
            leakhunt(make_flat, iterations=30)

        def test_short_strict(leakhunt):
            leakhunt(make_flat, iterations=30, strict=True)
    ''')
    result = user_tests.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1, failed=1, warnings=1)
    result.stdout.fnmatch_lines(["*LeakhuntWarning: inconclusive: too short to judge*more iterations would decide*"])


def test_a_workload_that_raises_fails_with_its_exception_text(user_tests):
    user_tests.makepyfile(test_user='''
        from workloads import make_raising

        def test_raises(leakhunt):
            leakhunt(make_raising, iterations=100)
    ''')
    result = user_tests.runpytest_subprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failed: RuntimeError: the model exploded*"])


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_the_marker_form_soaks_the_test_function_itself(user_tests):
    user_tests.makepyfile(test_marked='''
        import time
        import pytest

        # attribute="off": a soak option through the marker, and no attribution child (the test above has one)
        @pytest.mark.leakhunt(iterations=1500, max_bytes_per_iter=1024, attribute="off")
        def test_leaky_step():
            kept = []
            def step():
                kept.append(bytearray(16 * 1024))
                time.sleep(0.0005)
            return step
    ''')
    result = user_tests.runpytest_subprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*leak: *KiB/iter*"])
    (summary,) = user_tests.path.rglob("summary.json")
    assert json.loads(summary.read_text())["strategies"][0]["attribution"]["status"] == "skipped: --attribute off"


def test_the_plugin_can_be_turned_off(user_tests):
    user_tests.makepyfile(test_user='''
        def test_uses_fixture(leakhunt):
            pass
    ''')
    result = user_tests.runpytest_subprocess("-q", "-p", "no:leakhunt")
    result.assert_outcomes(errors=1)


def test_the_plugin_never_imports_tensorflow():
    code = "import sys, leakhunt.pytest_plugin, leakhunt.api; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def make_leaky_here():
    """A module-level function: the API turns it into this file's path and name for the child."""
    import time

    kept = []

    def step():
        kept.append(bytearray(16 * 1024))
        time.sleep(0.0005)

    return step


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_the_api_result_matches_the_clis_summary(tmp_path):
    workloads = tmp_path / "workloads.py"
    workloads.write_text(WORKLOADS, encoding="utf-8")
    result = leakhunt.soak(make_leaky_here, f"{workloads}:make_flat", iterations=600, out=tmp_path / "run",
                           until_decided=False)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [s.entry for s in result.strategies] == on_disk["strategies"]
    assert result.leak_found is True and on_disk["leak_found"] is True
    assert result.strategy("test_pytest_plugin:make_leaky_here").verdict == "leak"
    assert result.strategies[1].verdict == "flat"
    assert result.report_path.is_file()


def test_bad_input_raises_the_documented_exception_with_the_clis_message(tmp_path):
    with pytest.raises(BadInputError, match="^--iterations must be greater than 0, got 0$"):
        leakhunt.soak("examples/leaky.py:make", iterations=0, out=tmp_path / "run")
    with pytest.raises(BadInputError, match="module-level function"):
        leakhunt.soak(lambda: None, out=tmp_path / "run")


def test_leakhunt_soak_stays_the_api_function_after_every_submodule_is_imported():
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(leakhunt.__path__, "leakhunt."):
        if module.name.endswith(("pytest_plugin",)) or ".models" in module.name or ".strategies" in module.name:
            continue
        importlib.import_module(module.name)
    assert callable(leakhunt.soak)
