"""One-command GPU check for a lent GPU machine (under 5 minutes on one GPU).

    python benchmarks/gpu_check.py [--out DIR] [--iterations 60] [--quick]

Prints, as Markdown tables:
1. `leakhunt doctor`'s findings (TF vs NVML devices with UUIDs, per-process attribution, costs);
2. the tiny and small presets on the GPU with the `persistent` and `tutorial` strategies: verdict, deciding
   series, slopes of RSS, GPU process memory, GPU device memory and the TF GPU allocator, p50 latency;
3. `--gpu-memory default` vs `growth` vs `fraction:0.7` (persistent, tiny): what each does to the device's
   used memory (peak) and to the TF allocator;
4. NVML's cost per sample (median of 200 samples of this process).
On a machine without a GPU it says so after the doctor's table and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import builtin, markdown_table, soak, write_json

MIB = 2**20


def _slope(entry: dict, field: str) -> str:
    value = entry.get(field)
    return "-" if value is None else f"{value / 1024:+.1f} KiB/it"


def _memory_peak(entry: dict, series: str) -> str:
    value = (entry.get("memory") or {}).get(series, {}).get("peak_bytes")
    return "-" if value is None else f"{value / MIB:.0f} MiB"


def _soak(out: Path, strategies: list[str], preset: str, iterations: int, gpu_memory: list[str]) -> dict:
    # Every iteration (no early stop), attribution as a user gets it: what the soak on a GPU does end to end.
    run = soak([builtin(name) for name in strategies], out, preset=preset, iterations=iterations, device="gpu",
               gpu_memories=tuple(gpu_memory), warmup=5, attribute="auto")
    return run.entries


def nvml_cost_us() -> float | None:
    import os

    from leakhunt.sampling.nvml import NvmlSampler

    sampler = NvmlSampler()
    if not sampler.probe().available:
        return None
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        sampler.sample(os.getpid())
        timings.append(time.perf_counter() - started)
    sampler.close()
    return statistics.median(timings) * 1e6


STRATEGY_HEADER = ["preset", "strategy", "verdict", "deciding", "RSS slope", "GPU process slope", "TF allocator slope",
                   "GPU device peak", "attribution", "p50"]


def print_strategies(out: Path, presets: list[str], iterations: int) -> None:
    print("## strategies on the GPU\n")
    print("\n".join(markdown_table(STRATEGY_HEADER, "l" * len(STRATEGY_HEADER), [])))
    for preset in presets:
        started = time.monotonic()
        rows = []
        for name, entry in _soak(out / f"strategies-{preset}", ["persistent", "tutorial"], preset, iterations,
                                 []).items():
            p50 = (entry.get("latency_ms") or {}).get("p50")
            rows.append([preset, name, entry["verdict"], entry.get("deciding_series"),
                         _slope(entry, "rss_slope_bytes_per_iter"), _slope(entry, "gpu_process_slope_bytes_per_iter"),
                         _slope(entry, "tf_current_slope_bytes_per_iter"), _memory_peak(entry, "gpu_used"),
                         entry.get("gpu_process_attribution"), "-" if p50 is None else f"{p50:.1f} ms"])
        print("\n".join(markdown_table(STRATEGY_HEADER, "l" * len(STRATEGY_HEADER), rows)[2:]))
        print(f"<!-- {preset}: {time.monotonic() - started:.0f} s -->")
        sys.stdout.flush()


def print_gpu_memory_settings(out: Path, iterations: int) -> None:
    print("\n## --gpu-memory settings (persistent, tiny)\n")
    entries = _soak(out / "gpu-memory", ["persistent"], "tiny", max(iterations // 2, 20),
                    ["default", "growth", "fraction:0.7"])
    rows = [[name, _memory_peak(entry, "gpu_used"), _memory_peak(entry, "tf_current"), entry["verdict"]]
            for name, entry in entries.items()]
    print("\n".join(markdown_table(["gpu-memory", "device used peak", "TF allocator peak", "verdict"], "llll", rows)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep run folders here (default: a temp folder)")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="tiny preset only, fewer iterations")
    args = parser.parse_args()
    from leakhunt.runner.doctor import render_table, run_doctor

    findings = run_doctor(check_gpu=True)
    print("## doctor\n")
    print("```\n" + render_table(findings) + "\n```\n")
    sys.stdout.flush()
    by_name = {finding.name: finding for finding in findings}
    if by_name.get("nvml") is None or by_name["nvml"].status != "ok" or \
            by_name.get("tensorflow devices") is None or by_name["tensorflow devices"].status != "ok":
        print("No GPU that both TensorFlow and NVML see: nothing more to check here.")
        return 0
    # The run folders are kept (their path is the last line): a lent GPU machine's results outlive it.
    out = args.out or Path(tempfile.mkdtemp(prefix="leakhunt-gpu-check-"))
    iterations = 30 if args.quick else args.iterations
    print_strategies(out, ["tiny"] if args.quick else ["tiny", "small"], iterations)
    print_gpu_memory_settings(out, iterations)
    cost = nvml_cost_us()
    print(f"\nNVML cost per sample: {'-' if cost is None else f'{cost:.0f} us'}")
    write_json(out / "gpu_check.json", {"findings": [f.__dict__ for f in findings]}, indent=2)
    print(f"\nrun folders: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
