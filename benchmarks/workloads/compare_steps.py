"""Workloads for benchmarks/compare_noise.py: the leaking TF1 loop and its fix, and planted changes around any
workload factory.

- `tf1_ops_per_call(fixed=False)`: the old Object Detection API tutorial's inference function in one
  persistent session (drift_steps.Tf1GraphGrowth: every call lists the graph's ops and adds its
  post-processing ops, so memory and latency grow with the iteration). `fixed=True` is the fix a user
  would make: the same graph and post-processing, built once before the loop and finalized, the same
  fetches run every call. Soaked under one label, compare must find the fix (memory and latency).
- `planted(target, slower_fraction, leak_bytes_per_step, **kwargs)`: builds `target` (a factory
  "file.py:func" or "package.module:func" with **kwargs) and plants a change in its step:
  `slower_fraction` adds busy work worth that share of each call's own duration after it (+20%: every step
  takes 1.2x as long as it would have), `leak_bytes_per_step` keeps that many bytes (touched) per step.
  Everything else (evidence, close, images_per_step, notes) is the target's.
"""

from __future__ import annotations

import time

# By bare name: leakhunt's load_factory imports a workload file with its folder first on sys.path.
import drift_steps


class Tf1OpsPerCall(drift_steps.Tf1GraphGrowth):
    """drift_steps' op-per-call loop, or (fixed) the same inference with its post-processing built once."""

    def __init__(self, fixed: bool = False, detections: int = 16):
        super().__init__(detections)
        self.fixed_fetches = None
        if fixed:
            tf = self.tf
            with self.graph.as_default():
                count = tf.cast(self.graph.get_tensor_by_name("num_detections:0")[0], tf.int32)
                boxes = self.graph.get_tensor_by_name("detection_boxes:0")
                self.fixed_fetches = {
                    key: self.graph.get_tensor_by_name(f"{key}:0") for key in drift_steps._OUTPUT_KEYS}
                self.fixed_fetches["detection_boxes"] = tf.slice(tf.squeeze(boxes, [0]), [0, 0], [count, -1])
            self.graph.finalize()

    def step(self):
        if self.fixed_fetches is None:
            super().step()
            return
        self.session.run(self.fixed_fetches, feed_dict={self.images: self.feed})


def tf1_ops_per_call(fixed: bool = False, detections: int = 16):
    return Tf1OpsPerCall(fixed, detections)


def _spin_for(seconds: float) -> None:
    """Busy work (no sleep: a sleeping step would not compete for the CPU like real work does)."""
    deadline = time.perf_counter() + seconds
    spin = 0
    while time.perf_counter() < deadline:
        spin = (spin * 1103515245 + 12345) & 0xFFFFFFFF


class Planted:
    """A workload with a planted change: slower steps, a leak, or both."""

    def __init__(self, inner, slower_fraction: float, leak_bytes_per_step: int):
        self._inner_step = inner.step if hasattr(inner, "step") else inner
        self._inner = inner
        self.slower_fraction = float(slower_fraction)
        self.leak_bytes_per_step = int(leak_bytes_per_step)
        self.kept: list[bytearray] = []
        self.images_per_step = getattr(inner, "images_per_step", 1)
        self.notes = list(getattr(inner, "notes", []) or [])

    def step(self):
        started = time.perf_counter()
        self._inner_step()
        if self.slower_fraction:
            _spin_for((time.perf_counter() - started) * self.slower_fraction)
        if self.leak_bytes_per_step:
            self.kept.append(bytearray(b"\x01" * self.leak_bytes_per_step))  # touched: resident at once

    def evidence(self):
        evidence = getattr(self._inner, "evidence", None)
        return dict(evidence()) if evidence is not None else {}

    def close(self):
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def planted(target: str, slower_fraction: float = 0.0, leak_bytes_per_step: int = 0, **target_kwargs):
    from leakhunt.workloads.custom import load_factory

    return Planted(load_factory(target)(**target_kwargs), slower_fraction, leak_bytes_per_step)
