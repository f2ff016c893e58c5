"""Per-sample cost of each parent-side sampler, against a plain Python child and a TensorFlow child.

psutil RSS+USS (memory_full_info, reads /proc/<pid>/smaps_rollup), psutil RSS only (memory_info), and
NVML (process list + device memory) when a GPU is visible; otherwise NVML is reported as unavailable.

    python benchmarks/sampler_cost.py [--samples 500]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import time

import psutil
from _harness import text_table

from leakhunt.sampling import NvmlSampler, RssSampler
from leakhunt.sampling.rss import read_uss_bytes

CHILDREN = {
    "python child": "import time; time.sleep(600)",
    "tensorflow child": "import tensorflow as tf; tf.constant(1.0) + 1; import time; time.sleep(600)",
}


def time_calls(function, samples: int) -> float:
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    nvml = NvmlSampler()
    nvml_probe = nvml.probe()
    rows = []
    for label, code in CHILDREN.items():
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(8 if "tensorflow" in label else 0.5)
            rss = RssSampler()
            rss.probe()
            process = psutil.Process(child.pid)
            maps = len(process.memory_maps(grouped=False))
            # Bound methods and partials, not lambdas: each call reads this child, whatever the loop does next.
            pid = child.pid
            calls = {"USS (smaps_rollup) alone": functools.partial(read_uss_bytes, pid),
                     "RssSampler (default)": functools.partial(rss.sample, pid),
                     "RSS only (memory_info)": process.memory_info}
            if nvml_probe.available:
                calls["NVML process + device"] = functools.partial(nvml.sample, pid)
            rows += [(label, name, time_calls(call, args.samples), maps) for name, call in calls.items()]
        finally:
            child.kill()
            child.wait()
    nvml.close()
    print()
    print("\n".join(text_table([("child", "<18"), ("sampler", "<26"), ("median us/sample", ">17.1f"),
                                 ("mappings", ">9")], rows)))
    if not nvml_probe.available:
        print(f"NVML: {nvml_probe.describe()}")
    from leakhunt.rundir.config import DEFAULT_SAMPLE_INTERVAL_S
    from leakhunt.sampling.rss import USS_TIME_BUDGET

    for label in CHILDREN:
        costs = {sampler: micros for row_label, sampler, micros, _ in rows if row_label == label}
        uss_s = costs["USS (smaps_rollup) alone"] / 1e6
        uss_fraction = min(1.0, DEFAULT_SAMPLE_INTERVAL_S / (uss_s / USS_TIME_BUDGET))
        amortised_us = costs["RSS only (memory_info)"] + uss_s * 1e6 * uss_fraction
        core_share = amortised_us / 1e6 / DEFAULT_SAMPLE_INTERVAL_S
        print(f"{label}: RssSampler at {1 / DEFAULT_SAMPLE_INTERVAL_S:.0f} Hz reads USS on {uss_fraction:.0%} of "
              f"samples, amortised {amortised_us:.0f} us/sample = {core_share:.2%} of a core")


if __name__ == "__main__":
    main()
