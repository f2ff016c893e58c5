"""How differently the machine treated two runs of a compare, and how much latency tolerance that costs.

A busier machine crowds a child off its CPUs (its threads wait on the run queue; it gets a smaller share of a
CPU) and slows each cycle (the reference kernels run slower). analysis/latency_change.py takes out what it can
and widens its tolerance by what these corrections leave uncertain; past MAX_TOLERANCE two runs are "not
comparable", and the words here say which condition differed.
"""

from __future__ import annotations

import math

from leakhunt.analysis.span_conditions import SpanConditions

# The smallest change called a change. Two runs of one command on the shared 2-core host, each net of its
# machine, still moved by up to ~13% (docs/benchmarks.md, "compare under noise": the host's other tenants
# slow a Python loop, a matmul and TensorFlow's dispatch by different amounts, and the reference kernel is
# only one of them); a 20% slower step must still show.
LATENCY_MIN_CHANGE = 0.12
# The child is CPU-bound when it used at least this much CPU per wall second in either run (as drift.py).
CPU_BOUND_MIN_SHARE = 0.6
# CPU shares within this factor of each other count as the same machine share (both views decide).
SHARE_TOLERANCE = 1.15
# A child whose threads wanted more than this many CPUs' worth per wall second runs its step on several threads.
MULTI_THREADED_MIN_SHARE = 1.1
# A child crowded off its CPU is corrected (its run-queue wait taken out, its CPU time read instead of the
# wall clock), but not exactly: a busy neighbour also pollutes its caches and TensorFlow's pools spin
# longer. Measured without run-queue readings (docs/benchmarks.md), the corrected ratio of the same code
# erred by up to ~0.7x the drop of its CPU share, so the tolerance grows by this much per unit of the
# contention difference; a CPU hog on every core (a third of the wall clock waiting) is then past
# MAX_TOLERANCE...
TOLERANCE_PER_CONTENTION = 1.0
# ...and by this much per unit of |ln(reference B / reference A)|: the farther apart the two machines' speeds,
# the more the correction rests on the kernel speaking for the workload. (Measured, the same code's
# corrected ratio erred by up to ~13% whether the references were 4% or 47% apart: a small term.)
TOLERANCE_PER_REFERENCE_LOG = 0.1
# Past this tolerance a 20% change could not be seen: "not comparable".
MAX_TOLERANCE = 0.25
# Without run-queue readings (older runs), a CPU-bound child that got less than this share of the CPU it
# got in the other run is beyond correction.
MIN_CPU_SHARE_RATIO = 0.5


def cpu_demand(conditions: SpanConditions) -> float | None:
    """CPUs' worth the child's threads wanted per wall second: the CPU they got, plus the time they waited
    for it where all threads' waits were read (a crowded multi-threaded child gets under one CPU, but its
    threads still want two)."""
    if not conditions.cpu_share:
        return None
    if conditions.threads_wait_fraction is None or conditions.threads_wait_fraction >= 1:
        return conditions.cpu_share
    return conditions.cpu_share / (1 - conditions.threads_wait_fraction)


def multi_threaded(a: SpanConditions, b: SpanConditions) -> bool:
    """More than one CPU's worth wanted per wall second in either run: the step runs on several threads."""
    demands = [demand for demand in (cpu_demand(a), cpu_demand(b)) if demand is not None]
    return len(demands) == 2 and max(demands) > MULTI_THREADED_MIN_SHARE


def threads_waits_known(a: SpanConditions, b: SpanConditions) -> bool:
    return a.threads_wait_fraction is not None and b.threads_wait_fraction is not None


def contention_difference(a: SpanConditions, b: SpanConditions) -> float:
    """How differently the two children were crowded off their CPUs, the largest of what applies: the
    difference of their step threads' run-queue wait shares; the difference of all their threads' wait
    fractions where read (a multi-threaded step's workers are starved while its step thread only blocks on
    them); in older runs without those, for a multi-threaded child or without any run-queue readings, the
    drop of the CPU share relative to the larger (which also drops when the step's own single-threaded part
    grows: a cruder reading)."""
    waits = 0.0
    if a.runqueue_wait_share is not None and b.runqueue_wait_share is not None:
        waits = abs(a.runqueue_wait_share - b.runqueue_wait_share)
    if a.threads_wait_fraction is not None and b.threads_wait_fraction is not None:
        return max(waits, abs(a.threads_wait_fraction - b.threads_wait_fraction))
    shares = 0.0
    if a.cpu_share and b.cpu_share:
        if multi_threaded(a, b) or a.runqueue_wait_share is None or b.runqueue_wait_share is None:
            shares = 1 - min(a.cpu_share, b.cpu_share) / max(a.cpu_share, b.cpu_share)
    return max(waits, shares)


def reference_log_ratio(a: SpanConditions, b: SpanConditions) -> float:
    ratio = _ratio(a.reference_ms, b.reference_ms)
    return 0.0 if ratio is None else abs(math.log(ratio))


def tolerance_for(a: SpanConditions, b: SpanConditions) -> float:
    """LATENCY_MIN_CHANGE, widened by what the corrections of a crowded CPU and a slower cycle leave
    uncertain."""
    return (LATENCY_MIN_CHANGE + TOLERANCE_PER_CONTENTION * contention_difference(a, b)
            + TOLERANCE_PER_REFERENCE_LOG * reference_log_ratio(a, b))


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b and a > 0 and b > 0 else None


def is_cpu_bound(a: SpanConditions, b: SpanConditions) -> bool:
    """At least CPU_BOUND_MIN_SHARE of the wall clock on a CPU or waiting for one, in either run."""
    if a.cpu_share is None or b.cpu_share is None:
        return False
    return max(a.cpu_share + (a.runqueue_wait_share or 0.0),
               b.cpu_share + (b.runqueue_wait_share or 0.0)) >= CPU_BOUND_MIN_SHARE


def shares_differ(a: SpanConditions, b: SpanConditions) -> bool:
    """Without run-queue readings the wall view cannot take the lost time slices out: the CPU shares tell."""
    if a.runqueue_wait_share is not None and b.runqueue_wait_share is not None:
        return False
    ratio = _ratio(a.cpu_share, b.cpu_share)
    return ratio is not None and not 1 / SHARE_TOLERANCE <= ratio <= SHARE_TOLERANCE


def too_different(a: SpanConditions, b: SpanConditions, cpu_bound: bool, tolerance: float) -> str | None:
    """Why the two machines are beyond correction (None when the corrections can carry the difference)."""
    if a.runqueue_wait_share is None or b.runqueue_wait_share is None:
        if cpu_bound and a.cpu_share and b.cpu_share and \
                min(a.cpu_share, b.cpu_share) / max(a.cpu_share, b.cpu_share) < MIN_CPU_SHARE_RATIO:
            return share_words(a, b)
    if tolerance <= MAX_TOLERANCE:
        return None
    contention = TOLERANCE_PER_CONTENTION * contention_difference(a, b)
    if contention >= TOLERANCE_PER_REFERENCE_LOG * reference_log_ratio(a, b):
        return contention_words(a, b)
    ratio = _ratio(a.reference_ms, b.reference_ms) or 1.0
    return (f"the machine-speed reference kernel took {a.reference_ms:.3g} ms in A and {b.reference_ms:.3g} ms "
            f"in B ({ratio - 1:+.0%}): each cycle ran at a very different speed")


def contention_words(a: SpanConditions, b: SpanConditions) -> str:
    text = share_words(a, b)
    step_waits_known = a.runqueue_wait_share is not None and b.runqueue_wait_share is not None
    if threads_waits_known(a, b) and (
            not step_waits_known or contention_difference(a, b) > abs((a.runqueue_wait_share or 0.0)
                                                                       - (b.runqueue_wait_share or 0.0))):
        return text + (f" (its threads waited for a CPU {b.threads_wait_fraction:.0%} of their runnable time vs "
                       f"{a.threads_wait_fraction:.0%})")
    if step_waits_known:
        text += (f" (its step thread waited for a CPU {b.runqueue_wait_share:.0%} of the time vs "
                 f"{a.runqueue_wait_share:.0%})")
    return text


def share_words(a: SpanConditions, b: SpanConditions) -> str:
    if a.cpu_share is None or b.cpu_share is None:
        return "the CPU each child got is unknown"
    return f"run B's child got {b.cpu_share:.0%} of a CPU vs {a.cpu_share:.0%} in A"
