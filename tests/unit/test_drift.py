"""Latency drift: a sustained, monotone slowdown that the machine-speed reference does not explain."""

from __future__ import annotations

import numpy as np
import pytest

from leakhunt.analysis.drift import analyse_drift
from leakhunt.sampling.machine_speed import REFERENCE_TIME_BUDGET, MachineSpeedReference

N = 3000
X = np.arange(N, dtype=float)
REFERENCE_X = np.arange(0, N, 50, dtype=float)


def noisy(level_ms, seed=0):
    rng = np.random.default_rng(seed)
    return level_ms * rng.gamma(40, 1 / 40, len(level_ms))


def quiet_reference(seed=1):
    """The fixed kernel on a quiet machine: ~3% jitter and an occasional slow outlier."""
    rng = np.random.default_rng(seed)
    reference = 0.3 * (1 + 0.03 * rng.standard_normal(REFERENCE_X.size))
    reference[rng.random(REFERENCE_X.size) < 0.05] *= 1.6
    return reference


@pytest.mark.parametrize("seed", range(3))
def test_a_planted_slowdown_is_drift(seed):
    latency = noisy(1.5 * (1 + 0.2 * X / N), seed)  # +20% over the run, machine steady
    drift = analyse_drift(X, latency, REFERENCE_X, quiet_reference(seed + 10))
    assert drift.slowing and not drift.faster
    assert drift.corrected.change_first_to_last_fifth == pytest.approx(0.16, abs=0.05)


@pytest.mark.parametrize("seed", range(3))
def test_a_u_shape_is_not_drift(seed):
    latency = noisy(1.5 * (1 + 0.3 * ((X / N - 0.5) * 2) ** 2), seed)
    assert not analyse_drift(X, latency, REFERENCE_X, quiet_reference(seed)).slowing


def test_a_temporary_hump_is_not_drift():
    latency = noisy(1.5 * (1 + 0.4 * np.exp(-(((X / N) - 0.5) / 0.12) ** 2)))
    assert not analyse_drift(X, latency, REFERENCE_X, quiet_reference()).slowing


def test_a_slow_start_is_not_drift_and_a_speed_up_is_reported_as_faster():
    warm = noisy(1.5 * (1 + 3 * np.exp(-X / 30)))
    assert not analyse_drift(X, warm, REFERENCE_X, quiet_reference()).slowing
    faster = noisy(1.5 * (1 - 0.3 * X / N))
    drift = analyse_drift(X, faster, REFERENCE_X, quiet_reference())
    assert drift.faster and not drift.slowing


@pytest.mark.parametrize("machine", ["hog_starts_midway", "ramp"])
def test_a_slowdown_the_reference_shares_is_the_machines(machine):
    # GIVEN a flat workload on a machine that gets busier (the reference slows just as much)
    shape = {"hog_starts_midway": lambda x: np.where(x > N / 2, 1.8, 1.0), "ramp": lambda x: 1 + x / N}[machine]
    latency = noisy(1.5 * shape(X))
    reference = quiet_reference(5) * shape(REFERENCE_X)
    drift = analyse_drift(X, latency, REFERENCE_X, reference)
    # THEN the raw latency slows, the corrected one does not, and no drift is flagged
    assert drift.raw.change_first_to_last_fifth > 0.5
    assert not drift.slowing
    assert drift.machine_change_first_to_last_fifth > 0.3


def test_a_workload_that_ignores_the_machine_is_not_flagged_when_a_hog_stops():
    # A sleep- or GPU-bound step stays flat while the reference speeds up: no drift from the correction.
    latency = noisy(np.full(N, 2.0))
    reference = quiet_reference(3) * np.where(REFERENCE_X > N / 2, 1.0, 2.0)
    assert not analyse_drift(X, latency, REFERENCE_X, reference).slowing


def test_a_real_slowdown_on_a_busier_machine_is_still_drift():
    latency = noisy(1.5 * (1 + 0.5 * X / N) * np.where(X > N / 2, 1.3, 1.0))
    reference = quiet_reference(4) * np.where(REFERENCE_X > N / 2, 1.3, 1.0)
    assert analyse_drift(X, latency, REFERENCE_X, reference).slowing


@pytest.mark.parametrize("reference_x", [np.empty(0), REFERENCE_X[REFERENCE_X < 0.5 * N]])
def test_a_trend_where_the_machine_was_not_read_is_not_judged(reference_x):
    # GIVEN a latency that rises 20% over the run, but no kernel readings at all, or none in the last fifth (a
    # loop of sub-ms steps over a few seconds: the kernel runs on a 0.5% budget)
    reference = quiet_reference()[: reference_x.size]
    drift = analyse_drift(X, noisy(1.5 * (1 + 0.2 * X / N)), reference_x, reference)
    # THEN no drift is flagged: the machine's transients cannot be told from the workload's trend
    assert not drift.judged and not drift.slowing


def test_the_reference_waits_its_cost_over_its_budget_before_the_next_reading(monkeypatch):
    # GIVEN a reading whose kernels and counters take 4 ms (a fake clock), finishing at monotonic 100 s
    from leakhunt.sampling import machine_speed

    clock = iter([10.000, 10.002, 10.003, 10.004])
    monkeypatch.setattr(machine_speed.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(machine_speed.time, "monotonic", lambda: 100.0)
    reference = MachineSpeedReference()
    try:
        reading = reference.measure()
    finally:
        reference.close()
    # THEN the next reading is due only after 4 ms / budget (0.8 s at 0.5%): the reference keeps to its share
    # of the loop whatever a reading costs (its real share: benchmarks/analysis_cost.py)
    wait_s = 0.004 / REFERENCE_TIME_BUDGET
    assert not reference.due(100.0 + wait_s * 0.99) and reference.due(100.0 + wait_s * 1.01)
    assert reading.compute_ms == pytest.approx(2.0) and reading.memory_ms == pytest.approx(1.0)


def cpu_readings(latency_ms, cpu_per_step_ms, every=10):
    """Readings every `every` steps: wall clock from the latencies, CPU time from the CPU each step used."""
    from leakhunt.analysis.drift_machine import CpuReadings

    wall = np.cumsum(latency_ms) / 1000
    cpu = np.cumsum(cpu_per_step_ms) / 1000
    index = np.arange(0, len(latency_ms), every)
    return CpuReadings(X[index], wall[index], cpu[index])


def test_a_starved_cpu_bound_step_is_the_machine_even_when_the_short_kernel_does_not_notice():
    # GIVEN a 30 ms CPU-bound step that takes 2.4x as long once hogs start (it gets 42% of a core), while the
    # 0.3 ms reference kernel fits between the hogs' time slices and does not slow down at all
    starved = np.where(X > N / 2, 2.4, 1.0)
    latency = noisy(30 * starved)
    cpu = cpu_readings(latency, noisy(np.full(N, 29.0), seed=7))
    drift = analyse_drift(X, latency, REFERENCE_X, quiet_reference(), cpu)
    # THEN the raw latency slows, the CPU share explains it, and no drift is flagged
    assert drift.raw.change_first_to_last_fifth > 1.0
    assert drift.machine_change_first_to_last_fifth > 1.0
    assert not drift.slowing


def test_a_real_cpu_slowdown_keeps_its_cpu_share_and_is_drift():
    latency = noisy(30 * (1 + 0.3 * X / N))
    cpu = cpu_readings(latency, latency * 0.97)  # the extra time is spent computing
    assert analyse_drift(X, latency, REFERENCE_X, quiet_reference(), cpu).slowing


def test_a_gpu_bound_slowdown_is_not_explained_away_by_its_low_cpu_share():
    latency = noisy(20 * (1 + 0.3 * X / N))
    cpu = cpu_readings(latency, np.full(N, 2.0))  # waits on the device: its CPU share falls as it slows
    assert analyse_drift(X, latency, REFERENCE_X, quiet_reference(), cpu).slowing


def test_a_slowdown_the_machine_bent_mid_run_is_still_drift():
    # GIVEN a workload 50% slower by the end, on a machine that was 35% slower through the middle of the run (a
    # busy spell): the raw windows rise, dip back and rise again, while the corrected ones rise steadily
    busy = np.where((X > 0.3 * N) & (X < 0.7 * N), 1.35, 1.0)
    latency = noisy(1.5 * (1 + 0.5 * X / N) * busy)
    reference = quiet_reference(6) * np.where((REFERENCE_X > 0.3 * N) & (REFERENCE_X < 0.7 * N), 1.35, 1.0)
    drift = analyse_drift(X, latency, REFERENCE_X, reference)
    # THEN the raw windows alone would not pass the monotone test, but they lean upward, and the workload's own
    # slowdown is drift
    assert 0.2 <= drift.raw.tau < 0.5 and drift.raw.change_first_to_last_fifth > 0.3
    assert drift.corrected.tau > 0.8
    assert drift.slowing


def test_raw_windows_that_lean_down_are_not_drift_whatever_the_correction_says():
    # GIVEN a raw latency whose windows fall through most of the run and jump at the end (+15% last fifth over
    # first), on a machine read as ever faster: the corrected windows rise steadily
    levels = np.array([1.0, 0.97, 0.94, 0.91, 0.88, 0.85, 0.82, 0.79, 1.2, 1.2])
    latency = noisy(1.5 * np.repeat(levels, N // 10))
    speed = np.repeat(np.linspace(1.0, 0.6, 10), N // 10)[REFERENCE_X.astype(int)]
    drift = analyse_drift(X, latency, REFERENCE_X, quiet_reference(8) * speed)
    assert drift.raw.change_first_to_last_fifth > 0.1 and drift.raw.tau < 0.2 and drift.corrected.slowing
    # THEN it is not drift: the raw latency did not move toward slower over the run
    assert not drift.slowing
