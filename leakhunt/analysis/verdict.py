"""Verdicts: what a memory series' growth means (leak / plateau / flat / inconclusive), and the verdict of
a strategy once how its child ended (crashed / failed) is taken into account.

The memory verdict is one table, `RULES`: each row is (pattern, verdict, condition, reason). The first row
whose condition holds decides; every condition reads named facts (`Facts`) computed once from the
estimate, so a row can be read, tested and changed on its own.

The pieces live in facts.py (what the rules read) and rules.py (the table); names other modules import from
here are re-exported.
"""

from __future__ import annotations

from dataclasses import dataclass

from leakhunt.analysis.facts import (
    CI_SHRINK_EXPONENT,
    LEVEL_FLAT_SHARE,
    MIN_JUDGED_ITERATIONS,
    MIN_JUDGED_SAMPLES,
    MORE_ITERATIONS_MAX_FACTOR,
    RELEASE_MIN_FRACTION,
    RELEASE_MIN_SIGMAS,
    SAWTOOTH_MIN_RELEASES,
    SAWTOOTH_RISE_MIN_SHARE,
    SAWTOOTH_RISE_MIN_SHARE_OF_RELEASE,
    SLOWING_FRACTION,
    STEP_MAX_FRACTION,
    STEP_MIN_FRACTION,
    STOPPED_MAX_FRACTION,
    Facts,
    facts_of,
    iterations_to_decide,
    required_fit,
    round_up_roughly,
)
from leakhunt.analysis.leak import GrowthEstimate
from leakhunt.analysis.rules import RULES, MemoryJudgement, Rule, judge_growth
from leakhunt.analysis.verdict_types import MEMORY_VERDICTS, VERDICTS, MemoryVerdict, Pattern, StrategyVerdict
from leakhunt.rundir.records import Outcome, outcome_of

# Names other modules import from here (the verdict constants lived here before facts.py).
__all__ = ["CI_SHRINK_EXPONENT", "FINER_SERIES_OVERRIDES", "Facts", "JUDGED_SERIES", "LEVEL_FLAT_SHARE",
           "MEMORY_VERDICTS", "MIN_JUDGED_ITERATIONS", "MIN_JUDGED_SAMPLES", "MORE_ITERATIONS_MAX_FACTOR",
           "MemoryJudgement", "OUTCOME_VERDICT", "PYTHON_LEAK_MAX_HEAP_SHARE", "PY_BLOCKS_DECIDE_WHEN",
           "RELEASE_MIN_FRACTION", "RELEASE_MIN_SIGMAS", "RULES", "Rule", "SAWTOOTH_MIN_RELEASES",
           "SAWTOOTH_RISE_MIN_SHARE", "SAWTOOTH_RISE_MIN_SHARE_OF_RELEASE", "SERIES_LABELS", "SLOWING_FRACTION",
           "STEP_MAX_FRACTION", "STEP_MIN_FRACTION", "STOPPED_MAX_FRACTION", "VERDICTS", "Verdict", "facts_of",
           "iterations_to_decide", "judge_growth", "required_fit", "round_up_roughly", "strategy_verdict"]

# Which series can make a strategy a leak, in the order they are named as deciding; "rss" (the child's
# iteration-aligned RSS, else the parent's samples) is the primary series for every other verdict.
# Python's block count is evidence, not a judge: it includes cyclic garbage waiting for a full collection
# (a finalized TF1 session.run leaves ~1 block per call until gen-2 collects it, which looked like a steady
# 1 block/iter "leak" over 2000 calls); the `python_references` hint reads it instead.
JUDGED_SERIES = ("rss", "heap", "gpu_process", "tf_current")
# A leak Python's blocks confirm is named by them before the C heap when the heap grows by less than this share of
# what RSS grows by: the memory is mostly Python objects (pymalloc's arenas are outside malloc), and the heap's
# bytes per call (a list's slot) would understate it. A TF1 graph growing per call: heap 163 KiB of RSS's 465 KiB.
PYTHON_LEAK_MAX_HEAP_SHARE = 0.25
# Python's live blocks decide a leak once forced full collections confirmed their growth: read right after a
# collection the count holds live objects only, and a Python-held leak of 256 B per call is one block per call,
# far below RSS's floor. Without that confirmation they stay evidence.
PY_BLOCKS_DECIDE_WHEN = ("confirmed", "partly-garbage")
OUTCOME_VERDICT: dict[Outcome, StrategyVerdict] = {"failed": "failed", "crashed": "crashed", "hung": "crashed"}
# When RSS is flat, these (verdict, pattern) of a finer series (C heap, Python blocks, ...) decide instead.
# Where RSS is a sawtooth with too few teeth to tell, a finer series that shows the memory in use is bounded
# decides: releases seen, teeth in every eighth of the run, or growth that full collections freed.
BOUNDED_SAWTOOTH_OVERRIDES: tuple[tuple[MemoryVerdict, Pattern], ...] = (
    ("plateau", "sawtooth"), ("plateau", "bounded"), ("plateau", "collected"))
FINER_SERIES_OVERRIDES: tuple[tuple[MemoryVerdict, Pattern], ...] = (("plateau", "sawtooth"),
                                                                    ("inconclusive", "unclear-end"))


@dataclass(frozen=True)
class Verdict:
    verdict: StrategyVerdict
    reason: str
    memory_verdict: MemoryVerdict
    deciding_series: str | None
    pattern: Pattern
    more_iterations_needed: int | None


SERIES_LABELS = {"heap": "C heap", "py_blocks": "Python blocks", "gpu_process": "GPU (process)",
                 "gpu_used": "GPU (device)", "tf_current": "TF allocator", "rss_parent": "RSS (parent samples)"}


def strategy_verdict(outcome: str, judgements: dict[str, MemoryJudgement],
                     judged_series: tuple[str, ...] = JUDGED_SERIES, names_python_leak: bool = False) -> Verdict:
    """The strategy's verdict: crashed/failed from how the child ended, else what memory says.

    Any judged series (RSS, C heap, Python blocks, GPU, TF allocator) that leaks makes the strategy a
    leak (the byte-precise heap sees leaks far below RSS's page-and-arena floor); otherwise the primary
    series (RSS) decides. `names_python_leak`: the heap sees a small share of the growth RSS sees, so a leak
    that Python's blocks confirm is named by them before the heap (strategy_analysis decides it from slopes).
    """
    present = [name for name in judged_series if name in judgements and judgements[name].pattern != "no-data"]
    blocks = judgements.get("py_blocks")
    leak_judges = list(present)
    if blocks is not None and blocks.survival in PY_BLOCKS_DECIDE_WHEN:
        # After the byte series; but a Python-held leak is named by its blocks (its bytes are RSS's slope), not by
        # the few bytes per call the heap sees of the list that holds it: see names_python_leak.
        after_rss = 1 if leak_judges[:1] == ["rss"] else 0
        leak_judges.insert(after_rss if names_python_leak else len(leak_judges), "py_blocks")
    deciding = next((name for name in leak_judges if judgements[name].verdict == "leak"), None)
    if deciding is None and present:
        deciding = present[0]
        primary = (judgements[deciding].verdict, judgements[deciding].pattern)
        if primary == ("flat", "none") or primary == ("inconclusive", "sawtooth"):
            # RSS moves in pages and arenas; a finer series can see what hides under its floor: a bounded
            # sawtooth (releases are positive evidence: plateau), or growth above its own floor whose end is
            # unclear (flat would hide it: inconclusive). A finer series' warm-up or noise does not count.
            # Where RSS is a sawtooth with too few teeth (glibc keeps freed memory, so RSS releases rarely),
            # a C heap that releases what it takes, tooth after tooth, shows the memory in use is bounded.
            allowed = FINER_SERIES_OVERRIDES if primary[0] == "flat" else BOUNDED_SAWTOOTH_OVERRIDES
            finer = next((name for name in present[1:] if (judgements[name].verdict, judgements[name].pattern)
                          in allowed), None)
            deciding = finer or deciding
    if deciding is None:
        memory = judgements.get("rss") or MemoryJudgement("inconclusive", "no-data", "no memory readings", None)
    else:
        memory = judgements[deciding]
    # An outcome string this version does not know is judged by memory alone, as "completed" is.
    verdict = OUTCOME_VERDICT.get(outcome_of({"outcome": outcome}), memory.verdict)
    series_label = f"{SERIES_LABELS.get(deciding, deciding)}: " if deciding and deciding != "rss" else ""
    reason = f"{series_label}{memory.reason}"
    return Verdict(verdict, reason, memory.verdict, deciding, memory.pattern, memory.more_iterations_needed)


def names_python_leak(estimates: dict[str, GrowthEstimate | None]) -> bool:
    """Whether a leak Python's blocks confirm should be named by them before the C heap (see the constant)."""
    rss, heap = estimates.get("rss"), estimates.get("heap")
    if rss is None or rss.fit is None or rss.fit.slope <= 0:
        return False
    return heap is None or heap.fit is None or heap.fit.slope < PYTHON_LEAK_MAX_HEAP_SHARE * rss.fit.slope
