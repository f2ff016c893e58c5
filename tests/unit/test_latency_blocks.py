"""Long soaks: steps past the first ones are recorded as latency blocks (mergeable log-linear bucket counts), so a
run folder grows with time, not steps; percentiles, span quantiles and drift read from blocks stay within the
buckets' stated error; old folders and crash-truncated block files stay readable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.block_folder import drive_recorder, write_block_run
from helpers.run_folder import write_default_four
from leakhunt import rundir
from leakhunt.analysis.latency import history_latency_stats, latency_stats
from leakhunt.analysis.latency_history import latency_history, latency_quantiles, latency_sample
from leakhunt.analysis.series import iteration_series
from leakhunt.child.latency import BLOCK_S, EXACT_STEPS, MIN_BLOCKS_PER_RUN
from leakhunt.report.build import build_outputs
from leakhunt.rundir.latency_blocks import LATENCY_BLOCKS_FILE, read_latency_blocks
from leakhunt.rundir.latency_histogram import (
    RELATIVE_ERROR,
    bin_counts,
    bucket_bounds_ns,
    bucket_index,
    quantiles_from_counts,
)

RNG = np.random.default_rng(7)


def test_buckets_cover_every_nanosecond_and_are_never_wider_than_the_stated_error():
    values = np.concatenate([np.arange(0, 300_000), np.geomspace(3e5, 4e12, 20_000).astype(np.int64)])
    index = bucket_index(values)
    low, high = bucket_bounds_ns(index)
    assert np.all((low <= values) & (values <= high))
    assert np.all(np.diff(bucket_index(np.arange(0, 300_000))) <= 1)  # no value falls between buckets
    wide = low >= 256
    assert np.all((high[wide] - low[wide] + 1) / low[wide] <= 2 * RELATIVE_ERROR)


@pytest.mark.parametrize("latencies_ms", [
    RNG.lognormal(np.log(0.0003), 0.25, 200_000),  # a sub-microsecond step
    np.r_[RNG.normal(1.0, 0.02, 100_000), RNG.uniform(5, 50, 500)],  # 1 ms with rare stalls
    np.r_[RNG.normal(20, 1, 50_000), RNG.normal(60, 3, 50_000)],  # two modes
])
def test_percentiles_from_merged_bucket_counts_are_within_the_stated_error_of_numpy(latencies_ms):
    # GIVEN the counts of several blocks merged, WHEN percentiles are read from them, THEN within 0.39%.
    parts = [bin_counts(part) for part in np.array_split(latencies_ms, 7)]
    buckets = np.concatenate([b for b, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    fractions = [0.01, 0.5, 0.9, 0.99, 0.999]
    merged = quantiles_from_counts(buckets, counts, fractions)
    exact = np.percentile(latencies_ms, np.array(fractions) * 100)
    assert np.all(np.abs(merged / exact - 1) <= RELATIVE_ERROR + 1e-9)


def test_recorder_keeps_a_row_for_the_first_steps_and_a_block_per_second_after(tmp_path):
    steps, warmup, every = 60_000, 10, 100
    latencies = np.full(steps, 0.05)  # 50 us steps: 60k steps are ~3 s of synthetic loop (of an 8-hour plan)
    drive_recorder(tmp_path, latencies, warmup, every, planned_duration_s=8 * 3600, planned_steps=10**12)
    rows = pd.read_csv(tmp_path / rundir.ITERATIONS_FILE)
    readings = (steps + every - 1) // every
    exact_non_readings = EXACT_STEPS - EXACT_STEPS // every
    assert len(rows) == exact_non_readings + readings
    blocks = read_latency_blocks(tmp_path / LATENCY_BLOCKS_FILE)
    # Every step is counted once: a row, or a block.
    assert len(rows) + blocks.steps.sum() == steps
    assert blocks.first_step.min() == EXACT_STEPS + 1  # step 10000 is a reading: a row
    spans = blocks.end_s - blocks.start_s
    assert np.all(spans[:-1] >= BLOCK_S) and np.all(spans[:-1] < BLOCK_S + 0.05)
    assert len(blocks) == pytest.approx((steps - EXACT_STEPS) * 52e-6 / BLOCK_S, abs=1)


def test_a_short_run_gets_at_least_min_blocks_per_run_blocks_of_equal_span(tmp_path):
    # A 10-second soak of a 50 us step: 1-second blocks would leave the drift test ten lumps, not windows.
    drive_recorder(tmp_path, np.full(200_000, 0.05), 10, 100, planned_duration_s=10.0, planned_steps=10**12)
    blocks = read_latency_blocks(tmp_path / LATENCY_BLOCKS_FILE)
    assert len(blocks) >= 0.9 * MIN_BLOCKS_PER_RUN * (200_000 - EXACT_STEPS) / 200_000
    assert np.all(blocks.steps[:-1] <= 1.1 * 200_000 / MIN_BLOCKS_PER_RUN)


def test_a_long_warm_up_is_never_mixed_into_a_measured_block(tmp_path):
    warmup = EXACT_STEPS + 5000
    drive_recorder(tmp_path, np.full(EXACT_STEPS + 12_000, 0.05), warmup, reading_every=7000)
    blocks = read_latency_blocks(tmp_path / LATENCY_BLOCKS_FILE)
    assert np.all(blocks.last_step[~blocks.measured] < warmup)
    assert np.all(blocks.first_step[blocks.measured] >= warmup)
    assert blocks.measured.any() and (~blocks.measured).any()


def test_a_crash_truncated_block_file_keeps_every_complete_block(tmp_path):
    drive_recorder(tmp_path, RNG.gamma(20, 1 / 20, EXACT_STEPS + 90_000) * 0.05, 10, 100)
    path = tmp_path / LATENCY_BLOCKS_FILE
    whole = read_latency_blocks(path)
    lines = path.read_text().splitlines(keepends=True)
    # SIGKILL mid-write: half of the last line on disk.
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    truncated = read_latency_blocks(path)
    assert len(truncated) == len(whole) - 1
    assert np.array_equal(truncated.count, whole.count[: truncated.offsets[-1]])
    # A torn line in the middle (a bucket cell cut short) drops that block only.
    torn = lines[2][: lines[2].rindex(" ")] + "\n"
    path.write_text("".join(lines[:2] + [torn] + lines[3:]))
    assert len(read_latency_blocks(path)) == len(whole) - 1


def block_run(tmp_path, latencies: dict[str, np.ndarray], warmup: int = 10):
    run = write_block_run(tmp_path / "run", latencies, warmup)
    return run, rundir.read_run(run)


def test_a_run_with_blocks_gets_percentiles_within_the_stated_error_and_bounded_rows(tmp_path):
    latencies = RNG.gamma(30, 1 / 30, 120_000) * 0.2  # a 0.2 ms step
    run, data = block_run(tmp_path, {"fast": latencies})
    strategy = data.strategies[0]
    assert len(strategy.iterations) < EXACT_STEPS + len(latencies) // 50 + 1  # rows: first steps + readings
    history = latency_history(strategy.iterations, strategy.latency_blocks, 10)
    assert not history.exact and history.count == len(latencies) - 10
    stats = history_latency_stats(history)
    exact = np.percentile(latencies[10:], [50, 90, 99])
    assert np.allclose([stats.p50_ms, stats.p90_ms, stats.p99_ms], exact, rtol=RELATIVE_ERROR, atol=0)
    assert stats.mean_ms == pytest.approx(latencies[10:].mean(), rel=1e-5)
    assert stats.max_ms == pytest.approx(latencies[10:].max(), rel=1e-5)
    assert not stats.drift_significant
    summary = build_outputs(run, formats=("json", "md", "html"))
    entry = summary["strategies"][0]
    assert entry["latency_ms"]["p50"] == pytest.approx(exact[0], rel=RELATIVE_ERROR)
    assert entry["iterations_completed"] == len(latencies) - 10
    assert "us" in (run / "summary.md").read_text()  # 0.2 ms reads as 200 us, never "0 ms"


def test_drift_is_read_from_blocks_a_planted_slowdown_is_flagged_and_a_flat_run_is_not(tmp_path):
    steps = 200_000
    slowing = RNG.gamma(30, 1 / 30, steps) * 0.2 * (1 + 0.3 * np.arange(steps) / steps)
    flat = RNG.gamma(30, 1 / 30, steps) * 0.2
    _, data = block_run(tmp_path, {"slowing": slowing, "flat": flat})
    results = {}
    for strategy in data.strategies:
        history = latency_history(strategy.iterations, strategy.latency_blocks, 10)
        reference = iteration_series(strategy.iterations, "reference_ms", 10)  # a steady machine
        results[strategy.name] = history_latency_stats(history, 1.0, *reference)
    assert results["slowing"].drift_significant
    assert results["slowing"].drift.raw.change_first_to_last_fifth == pytest.approx(0.24, abs=0.03)
    assert not results["flat"].drift_significant
    assert abs(results["flat"].drift.raw.change_first_to_last_fifth) < 0.02


def test_latency_quantiles_over_an_iteration_span_see_only_that_span(tmp_path):
    steps, change_at = 150_000, 90_000
    latencies = np.where(np.arange(steps) < change_at + 10, 0.1, 0.3) * RNG.gamma(40, 1 / 40, steps)
    _, data = block_run(tmp_path, {"step": latencies})
    strategy = data.strategies[0]
    history = latency_history(strategy.iterations, strategy.latency_blocks, 10)
    before = latency_quantiles(history, 0, change_at - 5000)
    after = latency_quantiles(history, change_at + 5000, steps)
    assert not before.exact and not after.exact
    assert before.percentiles_ms[50] == pytest.approx(np.median(latencies[10:change_at - 4990]), rel=RELATIVE_ERROR)
    assert after.percentiles_ms[50] == pytest.approx(np.median(latencies[change_at + 5010:]), rel=RELATIVE_ERROR)
    # The rank tests' sample of a span stands for that span's distribution only.
    sample = latency_sample(history, 2000, change_at + 5000, steps)
    assert len(sample) == 2000 and np.median(sample) == pytest.approx(after.percentiles_ms[50], rel=0.01)
    # Before the first block the rows are every step: exact, as numpy says (of the rows' 4 decimals).
    early = latency_quantiles(history, 0, 5000)
    assert early.exact and early.percentiles_ms[99] == pytest.approx(np.percentile(latencies[10:5011].round(4), 99))


def test_an_old_folder_with_a_row_per_step_is_read_exactly_as_before(tmp_path):
    run = write_default_four(tmp_path / "run")
    for strategy in rundir.read_run(run).strategies:
        assert not (strategy.folder / LATENCY_BLOCKS_FILE).exists()
        history = latency_history(strategy.iterations, strategy.latency_blocks, 5)
        assert history.exact
        old = latency_stats(history.iteration, history.latency_ms, history.start_s)
        assert history_latency_stats(history) == old


def test_a_large_format_1_folder_is_read_in_chunks_into_blocks_with_the_same_figures(tmp_path, monkeypatch):
    # GIVEN an old iterations.csv with a row per step (readings every 500 steps), WHEN it counts as large,
    # THEN it is read in chunks: the first steps and the readings kept, the rest summarised into blocks.
    from leakhunt.rundir import legacy_rows

    steps, warmup = 60_000, 10
    latencies = RNG.gamma(30, 1 / 30, steps) * 0.2 * (1 + 0.3 * np.arange(steps) / steps)
    starts = 500.0 + np.cumsum(latencies + 0.002) / 1e3
    reading = np.arange(steps) % 500 == 0
    frame = pd.DataFrame({"step": np.arange(steps), "phase": np.where(np.arange(steps) < warmup, "warmup", "measure"),
                          "start_monotonic_s": starts.round(6), "latency_ms": latencies.round(4)})
    for column in rundir.ITERATION_COLUMNS[4:]:
        frame[column] = np.nan
    frame["rss_bytes"] = np.where(reading, 1000.0, np.nan)
    frame["reference_ms"] = np.where(reading, 0.3, np.nan)  # a steady machine: the slowdown is the workload's
    folder = tmp_path / "00-old"
    folder.mkdir()
    frame.to_csv(folder / rundir.ITERATIONS_FILE, index=False)
    whole = rundir.read_strategy(0, folder)
    monkeypatch.setattr(legacy_rows, "LARGE_ROWS_BYTES", 0)
    monkeypatch.setattr(legacy_rows, "CHUNK_ROWS", 20_000)
    chunked = rundir.read_strategy(0, folder)
    assert len(chunked.iterations) == legacy_rows.EXACT_STEPS + reading[legacy_rows.EXACT_STEPS:].sum()
    old = history_latency_stats(latency_history(whole.iterations, whole.latency_blocks, warmup), 1.0,
                                *iteration_series(whole.iterations, "reference_ms", warmup))
    new = history_latency_stats(latency_history(chunked.iterations, chunked.latency_blocks, warmup), 1.0,
                                *iteration_series(chunked.iterations, "reference_ms", warmup))
    assert new.count == old.count == steps - warmup
    assert np.allclose([new.p50_ms, new.p99_ms], [old.p50_ms, old.p99_ms], rtol=RELATIVE_ERROR, atol=0)
    assert new.mean_ms == pytest.approx(old.mean_ms, rel=1e-9) and new.max_ms == old.max_ms
    assert new.drift_significant and old.drift_significant


def test_a_long_block_file_is_held_merged_in_bounded_memory_with_the_same_counts(tmp_path, monkeypatch):
    # GIVEN ~60 blocks, WHEN the reader may hold only 8, THEN runs of 8 (a power of two) are merged as read:
    # every step and count is kept, so percentiles of the whole run do not move at all.
    from leakhunt.rundir import latency_blocks

    drive_recorder(tmp_path, RNG.gamma(20, 1 / 20, EXACT_STEPS + 130_000) * 0.5, 10, 1000)
    path = tmp_path / LATENCY_BLOCKS_FILE
    whole = read_latency_blocks(path)
    monkeypatch.setattr(latency_blocks, "MAX_BLOCKS_HELD", 8)
    monkeypatch.setattr(latency_blocks, "CHUNK_ROWS", 16)
    held = read_latency_blocks(path)
    assert len(whole) >= 50 and len(held) <= 2 * 8
    assert held.steps.sum() == whole.steps.sum() and held.count.sum() == whole.count.sum()
    assert held.first_step[0] == whole.first_step[0] and held.last_step[-1] == whole.last_step[-1]
    assert held.sum_ms.sum() == pytest.approx(whole.sum_ms.sum()) and held.max_ms.max() == whole.max_ms.max()
    fractions = [0.5, 0.99]
    assert np.array_equal(quantiles_from_counts(held.bucket, held.count, fractions),
                          quantiles_from_counts(whole.bucket, whole.count, fractions))
