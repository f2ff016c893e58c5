"""The verdict table, one test per row, and the stability promises: transients never flip a verdict, a
straight climb is never a step, each series is judged against its own floor."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import REPO_ROOT
from leakhunt.analysis.leak import HEAP_KIND, PAGE_BYTES, PY_BLOCKS_KIND, RSS_KIND, TF_ALLOCATOR_KIND, estimate_growth
from leakhunt.analysis.robust import SlopeFit
from leakhunt.analysis.verdict import RULES, facts_of, judge_growth, strategy_verdict

MIB = 2**20
BASE_BYTES = 600 * MIB


def child_rss(trend, iterations=2000, every=1, noise_bytes=16 * 1024, seed=0):
    """(iteration, RSS) as the child reads itself every `every` steps: whole pages plus a little noise."""
    rng = np.random.default_rng(seed)
    x = np.arange(0, iterations, every).astype(float)
    y = BASE_BYTES + trend(x) + rng.normal(0, noise_bytes, len(x))
    return x, np.floor(y / PAGE_BYTES) * PAGE_BYTES


def judge(x, y, kind=RSS_KIND):
    return judge_growth(estimate_growth("rss", x, y, kind=kind))


def test_the_table_names_each_pattern_with_one_verdict_per_row():
    rows = [(rule.pattern, rule.verdict) for rule in RULES]
    assert rows[0] == ("short", "inconclusive")
    assert rows[-1][0] == "noisy"  # the catch-all comes last
    assert len(set(rows)) == len(rows)


def test_each_row_comes_after_the_rows_it_relies_on():
    patterns = [rule.pattern for rule in RULES]
    for position, rule in enumerate(RULES):
        missing = [earlier for earlier in rule.after if earlier not in patterns[:position]]
        assert not missing, f"row {position + 1} ({rule.pattern}) relies on {missing} above it"


def test_a_row_that_reads_the_overall_fit_says_it_relies_on_short():
    # Without an overall fit (too few readings) only "short" stands between a row and Facts.line's error.
    x = np.arange(3.0)
    facts = facts_of(estimate_growth("rss", x, np.full(3, float(BASE_BYTES))))
    assert facts.fit is None
    for rule in RULES:
        try:
            rule.condition(facts)
        except ValueError:
            assert "short" in rule.after, f"{rule.pattern} reads the overall fit without naming 'short'"


def test_the_rows_a_row_relies_on_would_take_its_cases():
    # What `after` says is real: a slowing climb also meets "linear"'s condition, so with the two rows swapped
    # it would be named linear.
    by_name = {(rule.pattern, rule.verdict): rule for rule in RULES}
    slowing = facts_of(estimate_growth("rss", *child_rss(lambda x: 1024 * 60 * np.sqrt(x), iterations=5000)))
    assert by_name[("slowing", "leak")].condition(slowing) and by_name[("linear", "leak")].condition(slowing)


# --- one test per row of RULES ---------------------------------------------------------------------------

def test_row_short():
    x, y = child_rss(lambda x: 64 * 1024 * x, iterations=30)
    judgement = judge(x, y)
    assert (judgement.verdict, judgement.pattern) == ("inconclusive", "short")
    assert judgement.more_iterations_needed >= 20


def test_fifty_iterations_are_enough_and_the_short_reason_counts_iterations():
    # `leakhunt soak -n 50` must not be told "49 iterations ... at least 50 are needed".
    x, y = child_rss(lambda x: 64 * 1024 * x, iterations=50)
    assert judge(x, y).verdict == "leak"
    x, y = child_rss(lambda x: 64 * 1024 * x, iterations=49)
    short = judge(x, y)
    assert short.pattern == "short" and "49 iterations" in short.reason, short.reason


def test_row_collected_is_a_plateau():
    # Growth that forced full collections freed (post-collection level flat): garbage, not a leak.
    from leakhunt.analysis.post_collection import PostCollectionPoints

    x, y = child_rss(lambda x: 8 * 1024 * x, iterations=2000)
    at = np.array([0.0, 500.0, 1000.0, 1500.0, 1999.0])
    points = PostCollectionPoints(at, np.full(at.size, BASE_BYTES), BASE_BYTES + 8 * 1024 * at)
    judgement = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=points))
    assert (judgement.verdict, judgement.pattern) == ("plateau", "collected"), judgement.reason


def test_row_bounded_is_a_plateau_whatever_the_tooth_width():
    # 640-step teeth read every 50 steps over 20000 iterations: 13 readings a tooth, aliased in binned levels.
    x = np.arange(0, 20000, 50).astype(float)
    judgement = judge(x, BASE_BYTES + 40 * MIB * ((x % 640) / 640))
    assert (judgement.verdict, judgement.pattern) == ("plateau", "bounded"), judgement.reason


def test_row_sawtooth_rising_is_a_leak():
    x, y = child_rss(lambda x: 64 * 1024 * (x % 200) + 4096 * x)
    assert (judge(x, y).verdict, judge(x, y).pattern) == ("leak", "sawtooth-rising")


def test_row_sawtooth_with_too_few_teeth_is_inconclusive():
    x, y = child_rss(lambda x: 2 * MIB * (x % 300) + np.where(x >= 300, 100 * MIB, 0), iterations=600)
    judgement = judge(x, y)
    assert (judgement.verdict, judgement.pattern) == ("inconclusive", "sawtooth")
    assert judgement.more_iterations_needed > 0


def test_row_bounded_sawtooth_is_a_plateau():
    x, y = child_rss(lambda x: 16 * 1024 * (x % 250))
    assert (judge(x, y).verdict, judge(x, y).pattern) == ("plateau", "sawtooth")


def test_row_step_is_a_plateau():
    x, y = child_rss(lambda x: np.where(x > 1200, 40 * MIB, 0))
    judgement = judge(x, y)
    assert (judgement.verdict, judgement.pattern) == ("plateau", "step")
    assert "100%" not in judgement.reason or "(100% of the rise)" in judgement.reason


def test_row_flat():
    x, y = child_rss(lambda x: 0 * x)
    assert (judge(x, y).verdict, judge(x, y).pattern) == ("flat", "none")


def test_row_stopped_is_a_plateau():
    x, y = child_rss(lambda x: 16 * 1024 * np.minimum(x, 900))
    assert (judge(x, y).verdict, judge(x, y).pattern) == ("plateau", "stopped")


def test_row_slowing_is_a_leak_even_though_one_line_fits_it_badly():
    x, y = child_rss(lambda x: 1024 * 60 * np.sqrt(x), iterations=5000)
    assert (judge(x, y).verdict, judge(x, y).pattern) == ("leak", "slowing")


def test_row_linear_is_a_leak():
    x, y = child_rss(lambda x: 4096 * x)
    judgement = judge(x, y)
    assert (judgement.verdict, judgement.pattern) == ("leak", "linear")
    assert "KiB/iter" in judgement.reason and "e+" not in judgement.reason


def _estimate_with(**fields):
    x, y = child_rss(lambda x: 4096 * x)
    return dataclasses.replace(estimate_growth("rss", x, y, kind=RSS_KIND), **fields)


def test_row_unclear_end():
    # Overall clearly above the floor, but the last third's rate is neither clearly positive nor stopped.
    estimate = _estimate_with(recent_fit=SlopeFit(2000.0, -500.0, 4500.0, 0.0, 100))
    judgement = judge_growth(estimate)
    assert (judgement.verdict, judgement.pattern) == ("inconclusive", "unclear-end")


def test_row_linear_from_the_memory_in_use_after_collections():
    # A tf.data pipeline built per call: the heap's line so serially correlated that its interval spans zero, while
    # the heap right after each of 13 forced collections climbed steadily (nothing freed: live memory).
    from leakhunt.analysis.post_collection import PostCollectionPoints

    x, y = child_rss(lambda x: 930 * x, iterations=1000, noise_bytes=500)
    at = np.array([0.0, 130, 156, 184, 200, 212, 242, 280, 320, 370, 400, 426, 492, 998])
    climbing = PostCollectionPoints(at, BASE_BYTES + 950 * at, BASE_BYTES + 950 * at)
    wide = SlopeFit(930.0, -150.0, 2000.0, 0.0, 500)
    heap = dataclasses.replace(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=climbing),
                               fit=wide, early_fit=wide)
    judgement = judge_growth(heap)
    assert (judgement.verdict, judgement.pattern) == ("leak", "linear"), judgement.reason
    # THEN without that evidence the same line is too noisy to tell; RSS's post-collection level never counts
    assert judge_growth(dataclasses.replace(heap, survival=None)).verdict == "inconclusive"
    assert judge_growth(dataclasses.replace(heap, series="rss")).verdict == "inconclusive"


def test_row_noisy():
    wide = SlopeFit(1500.0, -2000.0, 5000.0, 0.0, 100)
    estimate = _estimate_with(fit=wide, early_fit=wide, recent_fit=wide)
    judgement = judge_growth(estimate)
    assert (judgement.verdict, judgement.pattern) == ("inconclusive", "noisy")


# --- stability ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", [
    lambda x: 400 * 1024 * x,  # the tutorial pattern: a steady climb
    lambda x: 0 * x,
    lambda x: 16 * 1024 * (x % 250),  # a bounded sawtooth
    lambda x: 64 * 1024 * np.minimum(x, 300),  # a cache that fills and stops
])
def test_one_iteration_dips_and_spikes_do_not_change_the_verdict(shape, seed):
    # GIVEN a series, and the same series with 700 MiB dips and spikes lasting one or two iterations
    x, y = child_rss(shape, iterations=800, seed=seed)
    rng = np.random.default_rng(seed + 10)
    dipped = y.copy()
    for start in rng.choice(len(x) - 3, 12, replace=False):
        dipped[start:start + rng.integers(1, 3)] -= 700 * MIB
    for start in rng.choice(len(x) - 3, 6, replace=False):
        dipped[start] += 300 * MIB
    # WHEN both are judged THEN the verdict is the same
    clean, noisy = judge(x, y), judge(x, dipped)
    assert (noisy.verdict, noisy.pattern) == (clean.verdict, clean.pattern), noisy.reason


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("chunk_bytes", [132 * 1024, 1 * MIB, 2.3 * MIB])
def test_a_linear_climb_in_chunks_is_never_a_step(chunk_bytes, seed):
    # RSS of a ~1.1 KB/call leak grows in allocator chunks: still a straight climb, never "one jump".
    slope = 1160.0
    x, y = child_rss(lambda x: np.floor(slope * x / chunk_bytes) * chunk_bytes, iterations=5000, every=5,
                     seed=seed)
    judgement = judge(x, y)
    assert judgement.pattern != "step", judgement.reason
    assert judgement.verdict != "plateau", judgement.reason


def test_heap_series_has_its_own_floor_far_below_rss():
    # 256 B/iter over 5000 iterations: 1.2 MiB, below RSS's 2 MiB floor, far above the heap's.
    rng = np.random.default_rng(0)
    x = np.arange(0, 5000, 5).astype(float)
    heap = 50 * MIB + 272 * x + rng.normal(0, 512, len(x))
    assert judge(x, heap, HEAP_KIND).verdict == "leak"
    assert judge(x, np.floor((BASE_BYTES + 272 * x) / PAGE_BYTES) * PAGE_BYTES, RSS_KIND).verdict != "leak"


def test_python_blocks_are_judged_in_blocks():
    x = np.arange(0, 3000, 3).astype(float)
    blocks = 80_000 + 1.0 * x + np.random.default_rng(0).normal(0, 20, len(x))
    judgement = judge(x, blocks, PY_BLOCKS_KIND)
    assert judgement.verdict == "leak" and "blocks/iter" in judgement.reason
    flat = 80_000 + np.random.default_rng(1).normal(0, 200, len(x))
    assert judge(x, flat, PY_BLOCKS_KIND).verdict == "flat"


def test_a_leak_seen_only_in_the_heap_decides_the_strategy():
    x = np.arange(0, 5000, 5).astype(float)
    heap = judge(x, 50 * MIB + 272 * x, HEAP_KIND)
    rss = judge(*child_rss(lambda x: 0 * x, iterations=5000, every=5))
    verdict = strategy_verdict("completed", {"rss": rss, "heap": heap})
    assert (verdict.verdict, verdict.deciding_series) == ("leak", "heap")
    assert verdict.reason.startswith("C heap: ")


def test_the_documented_table_matches_the_code():

    doc = (REPO_ROOT / "docs" / "verdicts.md").read_text(encoding="utf-8")
    documented = [tuple(cell.strip().strip("`") for cell in line.split("|")[2:4])
                  for line in doc.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert documented == [(rule.pattern, rule.verdict) for rule in RULES]


def test_a_bounded_sawtooth_under_the_rss_floor_is_a_plateau_through_the_heap():
    rss = judge(*child_rss(lambda x: 0 * x, iterations=3000, every=3))
    x = np.arange(0, 3000, 3).astype(float)
    heap = judge(x, 50 * MIB + 4096 * (x % 300), HEAP_KIND)
    assert (heap.verdict, heap.pattern) == ("plateau", "sawtooth")
    verdict = strategy_verdict("completed", {"rss": rss, "heap": heap})
    assert (verdict.verdict, verdict.deciding_series) == ("plateau", "heap")


def test_a_finer_series_warmup_or_noise_does_not_override_flat_rss():
    rss = judge(*child_rss(lambda x: 0 * x, iterations=3000, every=3))
    x = np.arange(0, 3000, 3).astype(float)
    noisy_heap = judge(x, 50 * MIB + np.random.default_rng(0).normal(0, 300 * 1024, len(x)), HEAP_KIND)
    assert noisy_heap.verdict != "leak"
    assert strategy_verdict("completed", {"rss": rss, "heap": noisy_heap}).verdict == "flat"


def test_a_heap_sawtooth_settles_an_rss_sawtooth_with_too_few_teeth():
    rss = judge(*child_rss(lambda x: 2 * MIB * (x % 300) + np.where(x >= 300, 100 * MIB, 0), iterations=600))
    assert (rss.verdict, rss.pattern) == ("inconclusive", "sawtooth")
    x = np.arange(0, 600, 1).astype(float)
    heap = judge(x, 900 * MIB + 50 * MIB * (x % 21), HEAP_KIND)
    assert (heap.verdict, heap.pattern) == ("plateau", "sawtooth")
    verdict = strategy_verdict("completed", {"rss": rss, "heap": heap})
    assert (verdict.verdict, verdict.deciding_series) == ("plateau", "heap")


def test_the_verdict_words_are_exactly_the_ones_the_rules_use():
    from leakhunt.analysis.verdict import OUTCOME_VERDICT
    from leakhunt.analysis.verdict_types import MEMORY_VERDICTS, PATTERNS, VERDICTS

    # "retained" is read across series (analysis/garbage.py), "no-data" where a series has no readings.
    assert {rule.pattern for rule in RULES} | {"no-data", "retained"} == set(PATTERNS)
    assert {rule.verdict for rule in RULES} == set(MEMORY_VERDICTS)
    assert set(MEMORY_VERDICTS) | set(OUTCOME_VERDICT.values()) == set(VERDICTS)


# --- bounded whatever the tooth width: tooth width x reading period x run length ------------------------------

def _sawtooth_readings(width: int, every: int, iterations: int, leak_bytes_per_iter: float = 0.0, seed: int = 0):
    """A 40 MiB sawtooth (memory piled up over `width` steps, then released) read every `every` steps."""
    rng = np.random.default_rng(seed)
    x = np.arange(0, iterations, every).astype(float)
    y = BASE_BYTES + 40 * MIB * ((x % width) / width) + leak_bytes_per_iter * x + rng.normal(0, 64 * 1024, x.size)
    return x, np.floor(y / PAGE_BYTES) * PAGE_BYTES


# (tooth width, reading period): the child reads at least 400 times a run, so a period of 13 comes with runs of
# 5200 iterations or more, 50 with 20000. The case: 640-step teeth read every ~50 steps over 20000. (A
# width that is an exact multiple of the period reads every tooth at the same phases: a flat series; real steps
# jitter.)
SAWTOOTH_MATRIX = [(width, every, iterations) for width in (40, 160, 640, 3000) for every in (1, 13, 50)
                   for iterations in (3000, 8000, 20000) if iterations >= 4 * width and every <= iterations // 400]


@pytest.mark.parametrize(("width", "every", "iterations"), SAWTOOTH_MATRIX)
def test_a_bounded_sawtooth_is_a_plateau_at_every_tooth_width_reading_period_and_length(width, every, iterations):
    judgement = judge(*_sawtooth_readings(width, every, iterations))
    assert judgement.verdict == "plateau", (width, every, iterations, judgement.reason)


@pytest.mark.parametrize(("width", "every", "iterations"), [case for case in SAWTOOTH_MATRIX if case[2] >= 8000])
def test_a_rising_sawtooth_is_a_leak_at_every_tooth_width_and_reading_period(width, every, iterations):
    # 2 KiB per step under 40 MiB teeth: 16 MiB over 8000 iterations.
    judgement = judge(*_sawtooth_readings(width, every, iterations, leak_bytes_per_iter=2048))
    assert judgement.verdict == "leak", (width, every, iterations, judgement.reason)


def test_an_input_cycle_is_flat_and_a_sawtooth_of_the_same_swing_a_plateau():
    # A persistent Session fed six images in turn: TF's allocator swings with the image, with no growth at all.
    cycle = np.array([171346944, 161746944, 209454080, 171346944, 163666944, 184786944], float)
    x = np.arange(6000, dtype=float)
    judgement = judge_growth(estimate_growth("tf_current", x, np.resize(cycle, x.size), kind=TF_ALLOCATOR_KIND))
    assert (judgement.verdict, judgement.pattern) == ("flat", "none"), judgement.reason
    judgement = judge(x, 161 * MIB + 48 * MIB * (x % 6) / 6)
    assert judgement.verdict == "plateau", judgement.reason
