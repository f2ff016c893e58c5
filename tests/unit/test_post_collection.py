"""Garbage is not a leak: growth judged against the child's forced full collections (collections.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt import rundir
from leakhunt.analysis.leak import HEAP_KIND, PY_BLOCKS_KIND, RSS_KIND, estimate_growth
from leakhunt.analysis.post_collection import post_collection_points, survival
from leakhunt.analysis.settle import take_look
from leakhunt.analysis.verdict import judge_growth, strategy_verdict

MIB = 2**20
WARMUP = 10


def _collections(rows: list[tuple[int, dict[str, tuple[float, float]]]]) -> pd.DataFrame:
    """collections.csv rows: (step, {series: (before, after)})."""
    records = []
    for step, values in rows:
        record: dict[str, object] = {"step": step, "reason": "milestone", "duration_s": 0.2}
        for series, (before_column, after_column) in (("rss", ("rss_before_bytes", "rss_after_bytes")),
                                                      ("heap", ("heap_before_bytes", "heap_after_bytes")),
                                                      ("py_blocks", ("py_blocks_before", "py_blocks_after"))):
            if series in values:
                record[before_column], record[after_column] = values[series]
        records.append(record)
    frame = pd.DataFrame(records)
    for column in rundir.COLLECTION_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    return frame[list(rundir.COLLECTION_COLUMNS)]


def _garbage_heap(iterations: int = 2000, every: int = 400, rate: float = 2400.0):
    """A heap that grows by `rate` per call with garbage a forced collection frees every `every` calls."""
    x = np.arange(iterations, dtype=float)
    since = x % every
    y = 100 * MIB + rate * since + np.random.default_rng(1).normal(0, 500, x.size)
    rows = [(WARMUP + int(i), {"heap": (100 * MIB + rate * every, 100 * MIB)}) for i in range(0, iterations, every)]
    return x, y, _collections(rows)


def test_garbage_freed_by_every_collection_is_a_plateau_not_a_leak():
    # GIVEN a heap that grows like a leak between collections, and each collection frees all of it
    x, y, collections = _garbage_heap(every=2000)  # no release inside the run: the readings alone read "leak"
    rows = [(WARMUP + i, {"heap": (100 * MIB + 2400.0 * i, 100 * MIB)}) for i in (0, 600, 1200, 1800)]
    collections = _collections(rows)
    without = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND))
    assert without.verdict == "leak"
    # WHEN the post-collection points are given
    points = post_collection_points(collections, "heap", WARMUP)
    judgement = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=points))
    # THEN the growth is garbage: a plateau whose reason names the collection that freed it
    assert (judgement.verdict, judgement.pattern, judgement.survival) == ("plateau", "collected", "garbage")
    assert "a full collection at iteration 1800 freed" in judgement.reason
    assert "not a leak" in judgement.reason


def test_a_leak_that_survives_collections_stays_a_leak():
    x = np.arange(2000, dtype=float)
    y = 100 * MIB + 2400.0 * x
    rows = [(WARMUP + i, {"heap": (100 * MIB + 2400.0 * i + 1000, 100 * MIB + 2400.0 * i)})
            for i in (0, 500, 1000, 1500)]
    points = post_collection_points(_collections(rows), "heap", WARMUP)
    judgement = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=points))
    assert (judgement.verdict, judgement.survival) == ("leak", "confirmed")
    assert "survives full collections" in judgement.reason


def test_a_leak_under_garbage_is_still_a_leak_at_its_post_collection_rate():
    # 300 B/call that survives, 3 KiB/call that collections free: a leak, slower than the readings say.
    x = np.arange(3000, dtype=float)
    y = 100 * MIB + 3300.0 * x
    rows = [(WARMUP + i, {"heap": (100 * MIB + 3300.0 * i, 100 * MIB + 300.0 * i)}) for i in (0, 700, 1400, 2100)]
    points = post_collection_points(_collections(rows), "heap", WARMUP)
    judgement = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=points))
    assert (judgement.verdict, judgement.survival) == ("leak", "partly-garbage")
    assert "still grows at +300 B/iter" in judgement.reason


def test_rss_keeps_the_first_garbage_it_held_so_its_first_interval_does_not_count():
    # RSS after the first collection stays at the garbage's high-water mark (freed arenas are reused, not
    # returned); from there on it is level. Counting from the baseline would "confirm" the garbage as a leak.
    post = [(0, 700 * MIB), (300, 703 * MIB), (600, 703 * MIB), (900, 703.05 * MIB)]
    rows = [(WARMUP + i, {"rss": (after + 3 * MIB, after)}) for i, after in post]
    points = post_collection_points(_collections(rows), "rss", WARMUP)
    result = survival("rss", 0, 1000, 10_000.0, 2 * MIB, points)
    assert result.status == "garbage" and result.points_used == 3
    # The heap has no such memory: its first interval counts.
    heap_rows = [(WARMUP + i, {"heap": (after + 3 * MIB, after)}) for i, after in post]
    heap_points = post_collection_points(_collections(heap_rows), "heap", WARMUP)
    heap = survival("heap", 0, 1000, 10_000.0, 64 * 1024, heap_points)
    assert heap.points_used == 4


def test_too_few_collections_leave_a_leak_unchecked_and_unchanged():
    x = np.arange(2000, dtype=float)
    y = 100 * MIB + 2400.0 * x
    rows = [(WARMUP + 0, {"heap": (100 * MIB, 100 * MIB)})]
    points = post_collection_points(_collections(rows), "heap", WARMUP)
    judgement = judge_growth(estimate_growth("heap", x, y, kind=HEAP_KIND, post_points=points))
    assert (judgement.verdict, judgement.pattern, judgement.survival) == ("leak", "linear", "unchecked")


def _blocks_leak(post_points=None):
    x = np.arange(5000, dtype=float)
    blocks = 300_000 + 1.0 * x  # one 200-byte object kept per call
    rss = 700 * MIB + 250.0 * x  # under RSS's 2 MiB floor at 5000 iterations
    rss = np.floor(rss / 4096) * 4096
    judgements = {"rss": judge_growth(estimate_growth("rss", x, rss, kind=RSS_KIND)),
                  "py_blocks": judge_growth(estimate_growth("py_blocks", x, blocks, kind=PY_BLOCKS_KIND,
                                                            post_points=post_points))}
    return strategy_verdict("completed", judgements)


def test_python_blocks_decide_a_leak_once_collections_confirm_them():
    assert _blocks_leak().verdict == "flat"  # without collections the block count is evidence only
    rows = [(WARMUP + i, {"py_blocks": (300_000 + i + 40, 300_000 + i)}) for i in (0, 1000, 2000, 3000, 4000, 4999)]
    verdict = _blocks_leak(post_collection_points(_collections(rows), "py_blocks", WARMUP))
    assert (verdict.verdict, verdict.deciding_series) == ("leak", "py_blocks")


def test_python_blocks_that_collections_free_never_decide():
    # A finalized TF1 session leaves ~1 block of cyclic garbage per call until a full collection.
    rows = [(WARMUP + i, {"py_blocks": (300_000 + i, 300_000)}) for i in (0, 1000, 2000, 3000, 4000, 4999)]
    verdict = _blocks_leak(post_collection_points(_collections(rows), "py_blocks", WARMUP))
    assert verdict.verdict == "flat"


def _iterations_frame(heap: np.ndarray) -> pd.DataFrame:
    steps = np.arange(WARMUP + heap.size)
    full_heap = np.concatenate([np.full(WARMUP, heap[0]), heap])
    latency_ms = 10 + np.random.default_rng(3).normal(0, 0.3, steps.size)
    return pd.DataFrame({"step": steps, "phase": np.where(steps < WARMUP, "warmup", "measure"),
                         "start_monotonic_s": steps * 0.1, "latency_ms": latency_ms,
                         "rss_bytes": np.full(steps.size, 700 * MIB), "heap_bytes": full_heap,
                         "py_blocks": np.full(steps.size, 300_000), "tf_current_bytes": np.zeros(steps.size),
                         "reference_ms": np.where(steps % 5 == 0, 0.3, np.nan)})


def test_a_look_asks_for_a_collection_and_never_settles_garbage_as_a_leak():
    x = np.arange(400, dtype=float)
    heap = 100 * MIB + 2400.0 * x + np.random.default_rng(2).normal(0, 300, x.size)
    frame = _iterations_frame(heap)
    look = take_look(frame, WARMUP, 5000, _collections([(WARMUP, {"heap": (100 * MIB, 100 * MIB)})]))
    assert look is not None and look.wants_collection and look.confirmed_leaks == frozenset()
    garbage = _collections([(WARMUP + i, {"heap": (100 * MIB + 2400.0 * i, 100 * MIB)}) for i in (0, 200, 300, 399)])
    look = take_look(frame, WARMUP, 5000, garbage)
    assert look is not None and look.settles != "leak" and look.verdict != "leak"
    survived = _collections([(WARMUP + i, {"heap": (100 * MIB + 2400.0 * i, 100 * MIB + 2400.0 * i)})
                             for i in (0, 200, 300, 399)])
    look = take_look(frame, WARMUP, 5000, survived)
    assert look is not None and look.settles == "leak" and "heap" in look.confirmed_leaks


def _judged(series_values: dict, collections: pd.DataFrame, x: np.ndarray) -> tuple[dict, dict]:
    from leakhunt.analysis.leak import TF_ALLOCATOR_KIND

    kinds = {"rss": RSS_KIND, "heap": HEAP_KIND, "py_blocks": PY_BLOCKS_KIND, "tf_current": TF_ALLOCATOR_KIND}
    estimates = {series: estimate_growth(series, x, y, kind=kinds[series],
                                         post_points=post_collection_points(collections, series, WARMUP))
                 for series, y in series_values.items()}
    return estimates, {series: judge_growth(estimate) for series, estimate in estimates.items()}


def test_rss_that_keeps_garbage_pages_while_the_memory_in_use_stays_level_is_retained():
    from leakhunt.analysis.garbage import with_retained_garbage

    # A Keras clone per call: garbage piles up in the heap and blocks between collections; RSS keeps the pages.
    x = np.arange(4000, dtype=float)
    at = [0, 800, 1600, 2400, 3200, 3999]
    rng = np.random.default_rng(4)
    heap = 100 * MIB + 3000.0 * (x % 800)
    blocks = 300_000 + 40.0 * (x % 800)
    rss = np.floor((700 * MIB + 1500.0 * x + rng.normal(0, 20_000, x.size)) / 4096) * 4096
    rows = [(WARMUP + i, {"heap": (100 * MIB + 3000.0 * 799, 100 * MIB), "py_blocks": (300_000 + 40 * 799, 300_000),
                          "rss": (700 * MIB + 1500.0 * i, 700 * MIB + 1500.0 * i)}) for i in at]
    estimates, judgements = _judged({"rss": rss, "heap": heap, "py_blocks": blocks}, _collections(rows), x)
    assert judgements["rss"].verdict == "leak"
    revised = with_retained_garbage(judgements, estimates)
    assert (revised["rss"].verdict, revised["rss"].pattern) == ("plateau", "retained"), revised["rss"].reason
    # The same RSS while the heap after collections keeps growing: not retained, the strategy is a leak.
    growing = [(WARMUP + i, {"heap": (100 * MIB + 3000.0 * 799 + 500.0 * i, 100 * MIB + 500.0 * i),
                             "py_blocks": (300_000 + 40 * 799, 300_000),
                             "rss": (700 * MIB + 1500.0 * i, 700 * MIB + 1500.0 * i)}) for i in at]
    estimates, judgements = _judged({"rss": rss, "heap": heap + 500.0 * x, "py_blocks": blocks},
                                    _collections(growing), x)
    revised = with_retained_garbage(judgements, estimates)
    assert revised["rss"].verdict == "leak"
    assert strategy_verdict("completed", revised).verdict == "leak"


def test_a_warm_up_of_the_memory_in_use_that_stopped_is_a_plateau_even_under_the_rss_floor():
    from leakhunt.analysis.garbage import with_stopped_warmup

    # A retracing tf.function that generalises: the heap climbs ~0.9 MiB over the first 1500 calls, then stays.
    x = np.arange(3000, dtype=float)
    climb = 0.9 * MIB * np.minimum(x / 1500, 1.0)
    rss = np.floor((700 * MIB + 1.8 * climb) / 4096) * 4096
    at = [0, 300, 600, 1200, 1800, 2400, 2999]
    rows = [(WARMUP + i, {"heap": (100 * MIB + climb[i], 100 * MIB + climb[i]),
                          "py_blocks": (300_000, 300_000)}) for i in at]
    estimates, judgements = _judged({"rss": rss, "heap": 100 * MIB + climb,
                                     "py_blocks": np.full(x.size, 300_000.0)}, _collections(rows), x)
    revised = with_stopped_warmup(judgements, estimates)
    assert (revised["rss"].verdict, revised["rss"].pattern) == ("plateau", "stopped"), revised["rss"].reason
    # A climb of a few allocator chunks (under four times the heap's granularity) stays flat.
    small = [(WARMUP + i, {"heap": (100 * MIB + climb[i] / 8, 100 * MIB + climb[i] / 8),
                           "py_blocks": (300_000, 300_000)}) for i in at]
    estimates, judgements = _judged({"rss": np.full(x.size, 700.0 * MIB), "heap": 100 * MIB + climb / 8,
                                     "py_blocks": np.full(x.size, 300_000.0)}, _collections(small), x)
    assert with_stopped_warmup(judgements, estimates)["rss"].verdict == "flat"


def test_a_warm_up_is_told_by_halves_of_the_span_wherever_the_requested_collections_fell():
    from leakhunt.analysis.post_collection import PostCollectionPoints, survival

    # The retracing warm-up's heap after collections in one run: looks requested two collections early (613, 620)
    # and one at 1117; split by count, the "late" half began at 1117 and still climbed (a ratio of 0.28).
    iterations = np.array([0, 603, 610, 1107, 1205, 1800, 2402, 2999], dtype=float)
    after = 112.52e6 + np.array([0, 487_168, 487_328, 649_440, 698_272, 806_880, 866_608, 867_232])
    points = PostCollectionPoints(iterations, after, after)
    result = survival("heap", 0, 2999, 300.0, 2e6, points)
    assert result.stopped_climbing(4 * 64 * 1024), (result.early_half_slope_per_iter, result.late_half_slope_per_iter)


def test_one_high_point_after_a_collection_is_not_a_warm_up():
    from leakhunt.analysis.post_collection import PostCollectionPoints, survival

    # A flat tf.data loop: one collection caught a prefetch buffer in flight (+375 KiB at call 400), the next ones
    # were back at the start: the level did not climb and stay.
    iterations = np.array([0, 200, 202, 258, 328, 400, 600, 800, 830, 999], dtype=float)
    after = 116.45e6 + np.array([0, -7_056, -6_896, -2_560, -1_440, 374_352, 29_744, 7_328, 7_808, 8_960])
    result = survival("heap", 0, 999, 100.0, 2e6, PostCollectionPoints(iterations, after, after))
    assert result.climb < 64 * 1024 and not result.stopped_climbing(4 * 64 * 1024)


def test_a_leak_under_a_sawtooth_of_garbage_is_found_from_the_level_after_each_collection():
    # predict() in a loop: ~10 KiB of cyclic garbage per call freed every ~700 calls, and 1 KiB per call kept.
    x = np.arange(3000, dtype=float)
    heap = 100 * MIB + 10_000.0 * (x % 700) + 1024.0 * x
    at = [0, 400, 800, 1200, 1600, 2000, 2400, 2999]
    rows = [(WARMUP + i, {"heap": (heap[i], 100 * MIB + 1024.0 * i)}) for i in at]
    judgement = judge_growth(estimate_growth("heap", x, heap, kind=HEAP_KIND,
                                             post_points=post_collection_points(_collections(rows), "heap", WARMUP)))
    assert (judgement.verdict, judgement.pattern) == ("leak", "persists"), judgement.reason
    assert "+1.00 KiB/iter" in judgement.reason


def test_points_that_rise_by_chance_where_no_collection_freed_anything_are_not_a_leak():
    # A persistent Session fed six images in turn: TF's allocator holds 163-209 MiB by image, so readings cycle;
    # the forced collections free nothing in it (before == after), and the six taken happened to rise.
    x = np.arange(330, dtype=float)
    levels = np.array([171.0, 171.0, 184.0, 163.0, 209.0, 171.0]) * MIB
    heap = levels[x.astype(int) % 6]
    at = [0, 81, 155, 237, 302, 326]
    chance = {0: 171.0, 81: 171.0, 155: 184.0, 237: 171.0, 302: 209.0, 326: 209.0}
    rows = [(WARMUP + i, {"heap": (chance[i] * MIB, chance[i] * MIB)}) for i in at]
    judgement = judge_growth(estimate_growth("heap", x, heap, kind=HEAP_KIND,
                                             post_points=post_collection_points(_collections(rows), "heap", WARMUP)))
    assert judgement.verdict != "leak", judgement.reason
