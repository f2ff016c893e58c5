"""pytest plugin: leak checks where code is tested (registered through the `pytest11` entry point).

A `leakhunt` fixture runs a workload in a fresh child process exactly like `leakhunt soak` and fails the test
with the verdict's reason, its figures and the report's path:

    def make_step():                      # module level: the child imports it
        model = build_model()
        return lambda: model(x)

    def test_inference_does_not_leak(leakhunt):
        leakhunt(make_step, iterations=2000, max_bytes_per_iter=1024)

The marker form runs the marked test function itself as the factory, in a child, instead of calling it:

    @pytest.mark.leakhunt(iterations=2000, max_bytes_per_iter=1024)
    def test_predict_step():
        model = build_model()
        return lambda: model(x)

`--leakhunt-reports DIR` keeps the run folders (default: pytest's temporary directory). `-p no:leakhunt`
turns the plugin off. This module never imports TensorFlow; only the child does, if the workload does.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from leakhunt.analysis.summary_types import StrategySummary

DEFAULT_ITERATIONS = 2000
DEFAULT_MAX_BYTES_PER_ITER = 1024.0
_MARKER = "leakhunt"


class LeakhuntWarning(UserWarning):
    """An inconclusive verdict in a non-strict check: the test passes, the warning says how to decide."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("leakhunt", "leak checks with leakhunt")
    group.addoption("--leakhunt-reports", metavar="DIR", default=None,
                    help="keep each leakhunt run folder (report.html, summary.json) under DIR "
                         "(default: pytest's temporary directory)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "leakhunt(iterations=2000, max_bytes_per_iter=1024, max_latency_drift=None, strict=False, "
        "**soak_options): run the test function as a leakhunt workload factory in a child process and fail "
        "on a leak")


def _human_rate(value: float | None) -> str:
    from leakhunt.units import human_rate

    return "-" if value is None else human_rate(value)


def _interval_text(ci: Any) -> str:
    from leakhunt.units import human_interval

    return "" if not ci else f" {human_interval(ci[0], ci[1])}"


def _where_text(entry: StrategySummary) -> str:
    """'; where: serve.py:41 (94%, native) +72.0 KiB/iter: <code>' from the attribution pass, if it ran."""
    from leakhunt.report.attribution_view import where_lines

    lines = where_lines(entry, 1)
    return f"; {lines[0]}" if lines else ""


def judge_result(strategy: Any, report: Path, iterations: int, max_bytes_per_iter: float | None,
                 max_latency_drift: float | None, strict: bool) -> str | None:
    """The failure message for one strategy's result, or None when the check passes (may warn)."""
    if strategy.verdict in ("failed", "crashed"):
        detail = strategy.error_text or strategy.entry.get("description") or strategy.verdict_reason
        return f"{strategy.verdict}: {detail}; report: {report}"
    if strategy.verdict == "leak":
        slope = strategy.deciding_slope_bytes_per_iter
        if max_bytes_per_iter is None or slope is None or slope > max_bytes_per_iter:
            series = strategy.deciding_series or "rss"
            ci = strategy.rss_slope_ci95_bytes_per_iter if series == "rss" else \
                strategy.entry.get(f"{series}_slope_ci95_bytes_per_iter")
            limit = "" if max_bytes_per_iter is None else f" (limit {_human_rate(max_bytes_per_iter)})"
            where = "" if series == "rss" else f" in {series}"
            return (f"leak{where}: {_human_rate(slope)}{_interval_text(ci)} over {strategy.iterations_completed} "
                    f"iterations{limit}: {strategy.verdict_reason}{_where_text(strategy.entry)}; report: {report}")
    if max_latency_drift is not None and strategy.latency_drift_significant:
        change = strategy.entry.get("latency_corrected_change_first_to_last_fifth")
        if change is None:
            change = strategy.entry.get("latency_change_first_to_last_fifth")
        if change is not None and change > max_latency_drift:
            return (f"latency drift: {change:+.0%} from the first to the last fifth of {iterations} iterations "
                    f"(limit {max_latency_drift:+.0%}); report: {report}")
    if strategy.verdict == "inconclusive":
        more = strategy.more_iterations_needed
        advice = f"; roughly {more} more iterations would decide" if more else ""
        message = f"inconclusive: {strategy.verdict_reason}{advice}; report: {report}"
        if strict:
            return message
        warnings.warn(LeakhuntWarning(message), stacklevel=3)
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:120] or "test"


class LeakCheck:
    """The `leakhunt` fixture's value: call it with a workload to soak and judge it."""

    def __init__(self, reports_dir: Path, node_name: str):
        self.reports_dir = reports_dir
        self.node_name = node_name
        self.calls = 0

    def __call__(self, workload: Callable[..., Any] | str, iterations: int = DEFAULT_ITERATIONS,
                 max_bytes_per_iter: float | None = DEFAULT_MAX_BYTES_PER_ITER,
                 max_latency_drift: float | None = None, strict: bool = False, **soak_options: Any):
        from leakhunt.api import SOAK_KEYWORDS, soak
        from leakhunt.errors import LeakhuntError

        unknown = sorted(set(soak_options) - set(SOAK_KEYWORDS))
        if unknown:
            pytest.fail(f"leakhunt: unknown soak option {unknown[0]!r}; known: {', '.join(sorted(SOAK_KEYWORDS))}",
                        pytrace=False)
        self.calls += 1
        out = self.reports_dir / f"{_slug(self.node_name)}-{self.calls}"
        soak_options.setdefault("force", True)
        try:
            result = soak(workload, iterations=iterations, out=out, **soak_options)
        except LeakhuntError as error:
            pytest.fail(f"leakhunt: {error}", pytrace=False)
        strategy = result.strategies[0]
        failure = judge_result(strategy, result.report_path, iterations, max_bytes_per_iter, max_latency_drift,
                               strict)
        if failure:
            pytest.fail(failure, pytrace=False)
        return strategy


def _session_tmp_factory(config: pytest.Config) -> Any:
    """pytest's session TempPathFactory (the tmp_path_factory fixture's value), where the tmpdir plugin runs."""
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        factory = pytest.TempPathFactory.from_config(config, _ispytest=True)
    return factory


def _reports_dir(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = config.getoption("--leakhunt-reports")
    if chosen:
        # With pytest-xdist every worker writes its own sub-folder, so run folders never collide.
        worker = getattr(config, "workerinput", {}).get("workerid", "")
        folder = Path(chosen) / worker if worker else Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("leakhunt")


@pytest.fixture
def leakhunt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LeakCheck:
    """Soak a workload in a fresh child and fail the test on a leak: leakhunt(make_step, iterations=...)."""
    return LeakCheck(_reports_dir(request.config, tmp_path_factory), request.node.name)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """@pytest.mark.leakhunt(...): the test function is the factory; soak it in a child instead of calling it."""
    marker = pyfuncitem.get_closest_marker(_MARKER)
    if marker is None:
        return None
    if marker.args:
        raise pytest.UsageError("@pytest.mark.leakhunt takes keyword arguments only")
    function = pyfuncitem.obj
    source = Path(pyfuncitem.fspath)
    check = LeakCheck(_reports_dir(pyfuncitem.config, _session_tmp_factory(pyfuncitem.config)), pyfuncitem.name)
    check(f"{source.resolve()}:{function.__name__}", **marker.kwargs)
    return True
