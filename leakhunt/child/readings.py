"""The child's readings of itself at a reading step: cheap memory readings every time (TF allocator, RSS,
C heap, Python blocks), the expensive ones (the workload's evidence, gc objects) and the machine-speed
reference each on a time budget of its own."""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

from leakhunt.sampling.machine_speed import MachineSpeedReference
from leakhunt.sampling.self_memory import SelfMemoryReader

# Fraction of wall time the child may spend on expensive signals (gc.get_objects() walks every object:
# tens of ms with TensorFlow loaded). 0.5% keeps the profiler's own cost far below what it measures.
EXPENSIVE_SIGNAL_BUDGET = 0.005


class SignalReader:
    """Reads in-process signals at a reading step; knows which exist (TF loaded? workload evidence?)."""

    def __init__(self, workload: Any):
        self._workload = workload
        self._tf_memory_info = None
        self.memory = SelfMemoryReader()
        self.reference = MachineSpeedReference()
        tf = sys.modules.get("tensorflow")
        if tf is not None:
            try:
                tf.config.experimental.get_memory_info("CPU:0")
                self._tf_memory_info = tf.config.experimental.get_memory_info
                gpus = tf.config.list_logical_devices("GPU")
                self._tf_device = "GPU:0" if gpus else "CPU:0"
            except (ValueError, AttributeError, RuntimeError):
                self._tf_memory_info = None
        # Each expensive signal has its own budget clock: the workload's evidence (an op count, ~0.1 ms) must
        # not be read as rarely as gc.get_objects() (tens of ms with TensorFlow loaded).
        self._next_evidence_s = 0.0
        self._next_gc_s = 0.0

    def memory_values(self) -> tuple[int | None, int | None, int | None, int | None]:
        """(tf_current, rss, heap, py_blocks) as numbers: what a forced full collection reads before and after."""
        tf_current = None
        if self._tf_memory_info is not None:
            tf_current = int(self._tf_memory_info(self._tf_device)["current"])
        return tf_current, self.memory.rss_bytes(), self.memory.heap_bytes(), self.memory.python_blocks()

    def memory_cells(self) -> tuple[str, str]:
        """("tf_current,tf_peak", "rss,heap,py_blocks"): the cheap readings every reading step takes, as CSV cells."""
        tf_current = tf_peak = ""
        if self._tf_memory_info is not None:
            info = self._tf_memory_info(self._tf_device)
            tf_current, tf_peak = str(info["current"]), str(info["peak"])
        rss = self.memory.rss_bytes()
        heap = self.memory.heap_bytes()
        return (f"{tf_current},{tf_peak}", f"{'' if rss is None else rss},{'' if heap is None else heap},"
                f"{self.memory.python_blocks()}")

    def expensive(self, now_s: float) -> str:
        """graph_ops,tracing_count,gc_objects cells; each read only when its own time budget allows."""
        graph_ops = tracing_count = gc_objects = ""
        if now_s >= self._next_evidence_s:
            started_s = time.monotonic()
            evidence = self._workload.evidence()
            finished_s = time.monotonic()
            self._next_evidence_s = finished_s + (finished_s - started_s) / EXPENSIVE_SIGNAL_BUDGET
            if evidence.get("graph_ops") is not None:
                graph_ops = str(int(evidence["graph_ops"]))
            if evidence.get("tracing_count") is not None:
                tracing_count = str(int(evidence["tracing_count"]))
        if now_s >= self._next_gc_s:
            started_s = time.monotonic()
            gc_objects = str(len(gc.get_objects()))
            finished_s = time.monotonic()
            self._next_gc_s = finished_s + (finished_s - started_s) / EXPENSIVE_SIGNAL_BUDGET
        return f"{graph_ops},{tracing_count},{gc_objects}"

    def reference_cells(self, now_s: float) -> tuple[str, str]:
        """("reference_ms", "reference_mem_ms,runqueue_wait_s,threads_cpu_s,threads_runqueue_wait_s") cells:
        both kernels' durations and the scheduler's counters so far, when the budget allows a reading."""
        if not self.reference.due(now_s):
            return "", ",,,"
        reading = self.reference.measure()
        counters = ",".join("" if seconds is None else f"{seconds:.6f}" for seconds in
                            (reading.step_thread_wait_s, reading.threads_cpu_s, reading.threads_wait_s))
        return f"{reading.compute_ms:.4f}", f"{reading.memory_ms:.4f},{counters}"
