"""SettleTracker (--until-decided): when a verdict counts as settled; pure, no child process."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from leakhunt.analysis.rules import MemoryJudgement
from leakhunt.analysis.settle import MIN_ITERATIONS_BEFORE_STOP, Look, SettleTracker, take_look


def _look(iterations, settles, slope=1000.0, series="rss", leak_slopes=None, confirmed=None):
    """A look; its leaking series survived forced full collections unless `confirmed` says otherwise."""
    if leak_slopes is None:
        leak_slopes = {series: slope} if settles == "leak" else {}
    confirmed = frozenset(leak_slopes) if confirmed is None else frozenset(confirmed)
    return Look(iterations, "leak" if settles == "leak" else "flat", "linear", series, settles, "why", slope,
                leak_slopes, confirmed)


def _iterations(measured: int, warmup: int = 10, rss_slope: float = 0.0, heap_slope: float = 0.0) -> pd.DataFrame:
    """A child's iterations.csv, one reading per step: RSS in whole pages, the heap byte-precise, with noise."""
    rng = np.random.default_rng(7)
    steps = np.arange(warmup + measured)
    rss = 500e6 + rss_slope * steps + rng.normal(0, 20e3, steps.size)
    return pd.DataFrame({
        "step": steps, "phase": np.where(steps < warmup, "warmup", "measure"),
        "start_monotonic_s": steps * 0.1, "latency_ms": 10 + rng.normal(0, 0.3, steps.size),
        "rss_bytes": (rss // 4096) * 4096, "heap_bytes": 80e6 + heap_slope * steps + rng.normal(0, 2e3, steps.size),
        "py_blocks": 300_000 + rng.integers(-50, 50, steps.size), "tf_current_bytes": np.zeros(steps.size),
        # the machine-speed kernel every 5th step, as a child's budget reads it on 0.1 s steps
        "reference_ms": np.where(steps % 5 == 0, 0.3 + rng.normal(0, 0.005, steps.size), np.nan),
    })


def test_a_verdict_must_hold_at_two_looks_in_a_row():
    tracker = SettleTracker(max_iterations=5000)
    assert not tracker.due(MIN_ITERATIONS_BEFORE_STOP - 1)
    assert tracker.record(None, 100) is None  # before the minimum run length: no look at all
    assert tracker.record(_look(130, "leak"), 130) is None
    assert tracker.record(_look(160, "flat"), 160) is None  # a different verdict resets
    assert tracker.record(_look(200, None), 200) is None
    assert tracker.record(_look(250, "flat"), 250) is None
    reason = tracker.record(_look(310, "flat"), 310)
    assert reason and reason.startswith("settled after 310 of 5000")


def test_a_leak_whose_rate_falls_between_looks_is_not_settled():
    # A warm-up still settling looks like a leak at first, but its rate falls as the window grows.
    tracker = SettleTracker(max_iterations=5000)
    assert tracker.record(_look(130, "leak", slope=900.0), 130) is None
    assert tracker.record(_look(170, "leak", slope=500.0), 170) is None
    assert tracker.record(_look(220, "leak", slope=480.0), 220) is not None  # steady now


def test_a_leak_settles_when_one_series_leaks_steadily_even_if_the_deciding_series_changes():
    # A Session per call: RSS decides one look, the C heap the next; the heap leaked steadily at both.
    tracker = SettleTracker(max_iterations=5000)
    assert tracker.record(_look(100, "leak", series="rss", leak_slopes={"rss": 6e5, "heap": 1.65e5}), 100) is None
    assert tracker.record(_look(125, "leak", series="heap", leak_slopes={"heap": 1.66e5}), 125) is not None


def test_a_leak_is_not_settled_when_no_series_leaks_at_both_looks():
    tracker = SettleTracker(max_iterations=5000)
    assert tracker.record(_look(100, "leak", series="rss", leak_slopes={"rss": 6e5}), 100) is None
    assert tracker.record(_look(125, "leak", series="heap", leak_slopes={"heap": 1.66e5}), 125) is None


def test_the_first_look_counts_at_exactly_the_minimum_run_length():
    frame = _iterations(MIN_ITERATIONS_BEFORE_STOP, heap_slope=50_000.0)
    look = take_look(frame, warmup_steps=10, max_iterations=5000)
    assert look is not None and look.measured_iterations == MIN_ITERATIONS_BEFORE_STOP
    assert look.settles == "leak" and "heap" in look.leak_slopes_per_iter
    assert take_look(frame[frame["step"] < 10 + MIN_ITERATIONS_BEFORE_STOP - 1], 10, 5000) is None


def test_a_sawtooth_settles_on_the_series_that_releases_every_tooth():
    # reset-graph: glibc keeps freed pages, so RSS releases every third tooth while the C heap releases each.
    frame = _iterations(200)
    steps = frame["step"].to_numpy()
    frame["rss_bytes"] = 500e6 + (steps % 90) * 2e6 // 4096 * 4096
    frame["heap_bytes"] = 80e6 + (steps % 30) * 6e6
    look = take_look(frame, warmup_steps=10, max_iterations=5000)
    assert look is not None and (look.verdict, look.pattern) == ("plateau", "sawtooth"), look
    assert look.settles == "plateau", look.why


def test_a_leak_not_yet_checked_against_a_full_collection_does_not_settle():
    # Garbage awaiting collection grows like a leak until a full collection runs: no settle before one did.
    tracker = SettleTracker(max_iterations=5000)
    assert tracker.record(_look(130, "leak", confirmed=()), 130) is None
    assert tracker.record(_look(150, "leak", confirmed=()), 150) is None
    assert tracker.record(_look(172, "leak"), 172) is not None  # confirmed now, steady across the looks


def test_a_look_settles_only_when_the_latency_trend_is_decided_too():
    frame = _iterations(300, heap_slope=50_000.0)
    creeping = frame.copy()
    # +8% so far and still climbing: not yet a drift by the margin, and held four times as long it would be one.
    creeping["latency_ms"] = 10 * (1 + 0.08 * frame["step"] / 310) + np.random.default_rng(1).normal(0, 0.05, 310)
    look = take_look(creeping, 10, 5000)
    assert look is not None and look.drift == "undecided" and look.settles is None
    assert "latency trend" in look.why
    steady = take_look(frame, 10, 5000)
    assert steady is not None and steady.drift == "none"


def test_drift_states():
    from leakhunt.analysis.drift import analyse_drift, drift_state

    x = np.arange(400, dtype=float)
    rng = np.random.default_rng(0)
    reference_x = x[::10]
    reference = 0.3 + rng.normal(0, 0.005, reference_x.size)
    flat = analyse_drift(x, 10 + rng.normal(0, 0.3, x.size), reference_x, reference)
    assert drift_state(flat, 399, 5000) == "none"
    doubling = analyse_drift(x, 10 * (1 + x / 400) + rng.normal(0, 0.3, x.size), reference_x, reference)
    assert drift_state(doubling, 399, 5000) == "drift"
    assert drift_state(None, 399, 5000) == "undecided"
    # a step that does not slow with the machine (a sleep) on a machine that speeds up 20%: its corrected trend
    # rises, its raw trend is flat, and the flag needs both: decided, no drift (it kept a 1 ms sleep loop going
    # to its maximum)
    speeding_up = 0.3 * (1 - 0.2 * reference_x / 400) + rng.normal(0, 0.002, reference_x.size)
    sleeping = analyse_drift(x, 10 + rng.normal(0, 0.05, x.size), reference_x, speeding_up)
    assert sleeping.corrected is not None and sleeping.corrected.change_first_to_last_fifth > 0.1
    assert drift_state(sleeping, 399, 5000) == "none"
    # a step that slows with the machine, on a machine that speeds up 35%: its raw latency falls with the machine
    # while its corrected latency rises, and the machine may slow again: undecided, the run goes on (it stopped a
    # retracing function at 226 of 2000 iterations as "no drift", and the full run flags its drift)
    speeding_more = 0.3 * (1 - 0.35 * reference_x / 400) + rng.normal(0, 0.002, reference_x.size)
    following = analyse_drift(x, 10 * (1 + 0.2 * x / 400) * (1 - 0.35 * x / 400) + rng.normal(0, 0.3, x.size),
                              reference_x, speeding_more)
    assert following.raw is not None and following.raw.change_first_to_last_fifth < -0.1
    assert drift_state(following, 399, 5000) == "undecided"
    # a trend the machine was not read for at both ends stays undecided: the run goes on
    unread = analyse_drift(x, 10 + rng.normal(0, 0.3, x.size), reference_x[:10], reference[:10])
    assert drift_state(unread, 399, 5000) == "undecided"


def test_a_look_that_could_stop_the_run_settles_only_if_the_95_percent_verdict_agrees(monkeypatch):
    # The reported verdict is computed at 95% on the iterations the settling look read: they must agree.
    from leakhunt.analysis import settle

    frame = _iterations(300, heap_slope=50_000.0)
    judge = settle._judge

    def judged_differently_at_95(iterations, collections, warmup_steps, confidence):
        estimates, judgements, verdict = judge(iterations, collections, warmup_steps, confidence)
        if confidence != settle.INTERIM_CONFIDENCE:
            verdict = dataclasses.replace(verdict, verdict="inconclusive", pattern="unclear-end")
        return estimates, judgements, verdict

    monkeypatch.setattr(settle, "_judge", judged_differently_at_95)
    first = take_look(frame, 10, 5000)
    assert first is not None and first.settles == "leak"  # the first settling look stops nothing: not checked
    second = take_look(frame, 10, 5000, previous=first)
    assert second is not None and second.settles is None and "at 95%" in second.why


def test_a_run_that_would_end_within_a_minute_anyway_runs_to_its_end():
    frame = _iterations(300, heap_slope=50_000.0)  # 0.1 s a step: 470 s to the maximum of 5000
    assert take_look(frame, 10, 5000).settles == "leak"
    fast = frame.assign(start_monotonic_s=frame["step"] * 0.001)  # 4.7 s to the maximum
    look = take_look(fast, 10, 5000)
    assert look is not None and look.verdict == "leak" and look.settles is None and "s away" in look.why
    assert take_look(frame, 10, 5000, max_duration_s=40.0).settles is None  # --duration 40s: 10 s left


def test_a_bounded_sawtooth_does_not_settle_while_another_series_climbs_under_it():
    # GIVEN RSS releasing teeth (bounded) while the C heap climbs 1.4 KiB/iter, judged undecided at this look
    # (a Keras model rebuilt per call settled on `plateau` at 297 iterations; its full run is a heap leak)
    from leakhunt.analysis.leak import estimate_growth
    from leakhunt.analysis.settle import INTERIM_CONFIDENCE, SETTLE_SERIES
    from leakhunt.analysis.settle_conditions import _another_series_grows

    x = np.arange(300, dtype=float)
    rng = np.random.default_rng(3)
    kind = SETTLE_SERIES["heap"][1]
    heap = estimate_growth("heap", x, 80e6 + 1400 * x + rng.normal(0, 20e3, x.size), kind=kind,
                           confidence=INTERIM_CONFIDENCE)
    flat_heap = estimate_growth("heap", x, 80e6 + rng.normal(0, 20e3, x.size), kind=kind,
                                confidence=INTERIM_CONFIDENCE)
    undecided = MemoryJudgement("inconclusive", "unclear-end", "why")
    # THEN the climbing heap holds the plateau open; a level heap, or garbage that collections free, does not
    assert _another_series_grows({"heap": heap}, {"heap": undecided}, max_iterations=1000)
    assert not _another_series_grows({"heap": flat_heap}, {"heap": undecided}, max_iterations=1000)
    garbage = MemoryJudgement("inconclusive", "unclear-end", "why", survival="garbage")
    assert not _another_series_grows({"heap": heap}, {"heap": garbage}, max_iterations=1000)


def _heap_with_post_points(post_rise_per_iter: float, post_iterations, span: int = 600):
    """A C heap that piles up garbage at 1.6 KiB/iter and drops at each forced collection (teeth), whose level right
    after each collection rises `post_rise_per_iter`."""
    from leakhunt.analysis.leak import estimate_growth
    from leakhunt.analysis.post_collection import PostCollectionPoints
    from leakhunt.analysis.settle import INTERIM_CONFIDENCE, SETTLE_SERIES

    x = np.arange(span, dtype=float)
    cuts = np.asarray(post_iterations, dtype=float)
    last_cut = np.array([cuts[cuts <= value].max(initial=0.0) for value in x])
    base = 100e6 + post_rise_per_iter * x
    heap = base + 1600 * (x - last_cut) + np.random.default_rng(5).normal(0, 2e3, x.size)
    after = 100e6 + post_rise_per_iter * cuts
    points = PostCollectionPoints(cuts, after, after + 1600 * np.diff(cuts, prepend=0.0))
    return estimate_growth("heap", x, heap, kind=SETTLE_SERIES["heap"][1], confidence=INTERIM_CONFIDENCE,
                           post_points=points)


def test_a_plateau_does_not_settle_while_the_memory_in_use_after_collections_climbs():
    # GIVEN a heap cut into teeth by forced collections, whose level after each collection rises 1 KiB/iter
    # (model.predict() in a loop settled `plateau (sawtooth)` at 341-517 of 3000; its full run is a leak)
    from leakhunt.analysis.settle_conditions import _in_use_climbs

    climbing = _heap_with_post_points(1024.0, [100, 250, 400, 550])
    level = _heap_with_post_points(0.0, [100, 250, 400, 550])
    # THEN held to the maximum the climbing level reaches the floor and holds the plateau open; a level one does not
    assert _in_use_climbs({"heap": climbing}, max_iterations=3000) == "heap"
    assert _in_use_climbs({"heap": level}, max_iterations=3000) is None
    # ...nor one so slow (16 B/iter) that it stays under the heap's floor up to the maximum
    assert _in_use_climbs({"heap": _heap_with_post_points(16.0, [100, 250, 400, 550])}, max_iterations=3000) is None


def test_a_leak_read_from_the_level_after_collections_settles_only_with_a_margin():
    # GIVEN a leak read from the post-collection level alone ("persists"), which rose 150 KiB (a Keras clone per
    # call: one jump of the heap after collections by ~4000 calls, level to 8000), or 1.5 MiB
    from leakhunt.analysis.settle_conditions import persists_with_margin, settled_verdict
    from leakhunt.analysis.verdict import Verdict

    small = _heap_with_post_points(256.0, [0, 150, 300, 450, 599])
    large = _heap_with_post_points(2560.0, [0, 150, 300, 450, 599])
    assert not persists_with_margin(small) and persists_with_margin(large)
    verdict = Verdict("leak", "why", "leak", "heap", "persists", None)
    judgement = MemoryJudgement("leak", "persists", "why", survival="confirmed")
    # THEN only the climb of four granularities or more settles; the small one runs on
    assert settled_verdict(verdict, {"heap": small}, {"heap": judgement}, 8000)[0] is None
    assert settled_verdict(verdict, {"heap": large}, {"heap": judgement}, 8000)[0] == "leak"
