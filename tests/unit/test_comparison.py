"""Comparing two runs: latency net of each run's machine-speed reference; machines too different say so."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from leakhunt.analysis.comparison import compare_latency, machines_comparable
from leakhunt.records import RunRecord


def run_of(p50_ms: float, reference_ms: float | None, seed: int):
    latency = p50_ms * np.random.default_rng(seed).gamma(50, 1 / 50, 400)
    drift = SimpleNamespace(reference_p50_ms=reference_ms)
    stats = SimpleNamespace(p50_ms=float(np.median(latency)), p99_ms=float(np.percentile(latency, 99)), drift=drift)
    return SimpleNamespace(latency=stats, latency_ms=latency)


def test_a_busier_machine_is_not_a_slower_workload():
    # GIVEN the same workload, run B on a machine 15% slower (its reference kernel says so)
    a, b = run_of(1112, 0.30, 0), run_of(1281, 0.345, 1)
    row = compare_latency(a, b, comparable=True)
    # THEN the raw medians differ, net of machine speed they do not
    assert row["latency_p50_relative_change"] > 0.10
    assert abs(row["latency_p50_corrected_relative_change"]) < 0.05
    assert not row["latency_significant"]


def test_a_real_slowdown_on_the_same_machine_is_significant():
    a, b = run_of(1112, 0.30, 0), run_of(1281, 0.30, 1)
    assert compare_latency(a, b, comparable=True)["latency_significant"]


def test_machines_too_different_are_not_compared():
    ok, why = machines_comparable(RunRecord(), RunRecord(), 0.30, 0.45)
    assert not ok and "very different speeds" in why
    ok, why = machines_comparable(RunRecord(environment={"cpu": "A"}), RunRecord(environment={"cpu": "B"}), 0.3, 0.3)
    assert not ok and "different CPUs" in why
    assert machines_comparable(RunRecord(), RunRecord(), 0.30, 0.33) == (True, "")
    a, b = run_of(1000, 0.30, 0), run_of(2000, 0.30, 1)
    assert not compare_latency(a, b, comparable=False)["latency_significant"]
