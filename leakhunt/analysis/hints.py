"""Root-cause hints: which in-process signal grew alongside memory, each with its evidence and advice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.drift import DriftAnalysis, SeriesTrend
from leakhunt.analysis.latency import LatencyStats
from leakhunt.analysis.robust import theil_sen
from leakhunt.analysis.verdict import JUDGED_SERIES, MemoryJudgement
from leakhunt.rundir.records import Outcome
from leakhunt.units import human_amount, human_ms

# Counts that only grow when something is built per call. One op or one trace after the warm-up can be
# a lazily built branch; a count that rises at two or more readings and by at least this much is a pattern.
GRAPH_OPS_MIN_GROWTH = 10
TRACING_MIN_GROWTH = 2
MIN_RISING_READINGS = 2
# Python creates and frees temporaries every step, so gc object counts wobble by hundreds; a thousand
# objects of sustained growth (interval clear of zero) is references being kept.
GC_OBJECTS_MIN_GROWTH = 1000


@dataclass(frozen=True)
class Hint:
    kind: str
    evidence: str
    advice: str


@dataclass(frozen=True)
class CounterGrowth:
    """How a per-step counter (graph ops, traces, gc objects) moved over the measured iterations."""

    first_value: float
    last_value: float
    first_iteration: int
    last_iteration: int
    rising_readings: int
    slope_per_iter: float | None
    slope_ci_low: float | None

    @property
    def growth(self) -> float:
        return self.last_value - self.first_value


def counter_growth(x: np.ndarray, y: np.ndarray) -> CounterGrowth | None:
    if len(x) < 2:
        return None
    fit = theil_sen(x, y)
    return CounterGrowth(
        first_value=float(y[0]), last_value=float(y[-1]), first_iteration=int(x[0]), last_iteration=int(x[-1]),
        rising_readings=int(np.count_nonzero(np.diff(y) > 0)),
        slope_per_iter=None if fit is None else fit.slope, slope_ci_low=None if fit is None else fit.ci_low,
    )


def _rate(growth: CounterGrowth) -> str:
    span = max(growth.last_iteration - growth.first_iteration, 1)
    return human_amount(growth.growth / span, "", signed=True).strip() + "/iter"


def _latency_drift_hint(drift: DriftAnalysis, raw: SeriesTrend, memory_grows: bool) -> Hint:
    """Quotes the raw slowdown and what is left of it net of the machine-speed reference."""
    first, last = raw.window_medians_ms[0], raw.window_medians_ms[-1]
    evidence = (f"latency slows down over the run: {human_ms(first)} -> {human_ms(last)} (first to last tenth), "
                f"{raw.change_first_to_last_fifth:+.0%} from the first to the last fifth")
    if drift.corrected is not None:
        evidence += (f"; net of the machine-speed reference {drift.corrected.change_first_to_last_fifth:+.0%} "
                     f"(the machine itself changed {drift.machine_change_first_to_last_fifth:+.0%})")
    else:
        evidence += "; no machine-speed reference in this run, so a busier machine is not ruled out"
    if memory_grows:
        advice = "the slowdown grows with memory: whatever accumulates is also walked each call"
    else:
        evidence += ", with no memory growth"
        advice = ("slowing down without memory growth: a growing structure scanned per call (graph "
                  "collections, Python lists), retracing, or thermal throttling; compare with a rerun")
    return Hint("latency_drift", evidence, advice)


PYTHON_REFERENCES_ADVICE = ("Python objects are kept alive: look for lists, dicts or caches appended to on every "
                            "call (stored results, tensors, closures) and drop or bound them")


def _counter_hints(counters: dict[str, CounterGrowth | None]) -> list[Hint]:
    """Counts that only grow when something is made per call: graph ops, traces, gc objects."""
    hints: list[Hint] = []
    graph = counters.get("graph_ops")
    if graph and graph.growth >= GRAPH_OPS_MIN_GROWTH and graph.rising_readings >= MIN_RISING_READINGS:
        hints.append(Hint(
            "graph_growth",
            f"graph_ops rose from {graph.first_value:,.0f} to {graph.last_value:,.0f} between iterations "
            f"{graph.first_iteration} and {graph.last_iteration} ({_rate(graph)})",
            "ops are being built inside the loop: build the graph once before it (placeholders/feeds, one "
            "session), then call graph.finalize() so any op created later raises",
        ))
    tracing = counters.get("tracing_count")
    if tracing and tracing.growth >= TRACING_MIN_GROWTH and tracing.rising_readings >= MIN_RISING_READINGS:
        hints.append(Hint(
            "retracing",
            f"tracing_count rose from {tracing.first_value:.0f} to {tracing.last_value:.0f} between iterations "
            f"{tracing.first_iteration} and {tracing.last_iteration}",
            "tf.function is retracing: give it an input_signature (or reduce_retracing=True) and pass tensors, "
            "not Python numbers or new shapes, on each call",
        ))
    gc_objects = counters.get("gc_objects")
    if (gc_objects and gc_objects.growth >= GC_OBJECTS_MIN_GROWTH and gc_objects.slope_ci_low is not None
            and gc_objects.slope_ci_low > 0):
        hints.append(Hint(
            "python_references",
            f"gc_objects rose from {gc_objects.first_value:,.0f} to {gc_objects.last_value:,.0f} "
            f"({_rate(gc_objects)})",
            PYTHON_REFERENCES_ADVICE,
        ))
    return hints


def _series_hints(judgements: dict[str, MemoryJudgement], memory_leaks: bool, found: list[Hint]) -> list[Hint]:
    """Which memory series leaks (Python blocks, TF allocator, GPU), else native memory when nothing in
    `found` (the counter hints) and nothing here explains a growing RSS."""
    hints: list[Hint] = []
    py_blocks = judgements.get("py_blocks")
    if (memory_leaks and py_blocks is not None and py_blocks.verdict == "leak"
            and not any(h.kind == "python_references" for h in found)):
        hints.append(Hint("python_references", f"Python's live allocator blocks grow too: {py_blocks.reason}",
                          PYTHON_REFERENCES_ADVICE))
    tf_current = judgements.get("tf_current")
    if tf_current is not None and tf_current.verdict == "leak":
        hints.append(Hint(
            "tf_allocator",
            f"TF allocator bytes in use grow: {tf_current.reason}",
            "tensors stay referenced (outputs kept across iterations, variables created per call): keep only "
            "what you need as NumPy, create variables once",
        ))
    gpu = judgements.get("gpu_process")
    if gpu is not None and gpu.verdict == "leak":
        hints.append(Hint(
            "gpu_memory",
            f"GPU memory of the process grows: {gpu.reason}",
            "GPU tensors are kept alive or the allocator keeps extending its pool; compare with "
            "TF_FORCE_GPU_ALLOW_GROWTH=true and check what outlives each call",
        ))
    rss = judgements.get("rss")
    explained = {h.kind for h in found + hints} & {"graph_growth", "retracing", "python_references", "tf_allocator"}
    if rss is not None and rss.verdict == "leak" and not explained:
        hints.append(Hint(
            "native_memory",
            f"RSS grows ({rss.reason}) while graph ops, traces, Python objects and the TF allocator do not",
            "native or allocator memory: glibc arena fragmentation (try MALLOC_ARENA_MAX=2 or LD_PRELOAD "
            "jemalloc/tcmalloc) or a leak inside a C extension or the TF runtime",
        ))
    return hints


def find_hints(
    judgements: dict[str, MemoryJudgement],
    counters: dict[str, CounterGrowth | None],
    latency: LatencyStats,
    outcome: Outcome,
    outcome_description: str,
    memory_limit_hit: bool,
    peak_rss_bytes: float | None,
) -> list[Hint]:
    """Hints in a fixed order; each names the numbers it rests on."""
    memory_leaks = any(judgements[name].verdict == "leak" for name in JUDGED_SERIES if name in judgements)
    hints = _counter_hints(counters)
    hints += _series_hints(judgements, memory_leaks, hints)
    drift = latency.drift
    if latency.drift_significant and drift is not None and drift.raw is not None:
        hints.append(_latency_drift_hint(drift, drift.raw, memory_leaks))
    if outcome == "crashed" and (memory_limit_hit or "SIGKILL" in outcome_description):
        peak = "" if peak_rss_bytes is None else f"; peak RSS {peak_rss_bytes / 2**20:.0f} MiB"
        hints.append(Hint(
            "out_of_memory",
            f"{outcome_description}{peak}",
            "the child was killed for memory: the growth numbers above come from the data before it died",
        ))
    return hints
