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
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

MIB = 2**20


def _slope(entry: dict, field: str) -> str:
    value = entry.get(field)
    return "-" if value is None else f"{value / 1024:+.1f} KiB/it"


def _memory_peak(entry: dict, series: str) -> str:
    value = (entry.get("memory") or {}).get(series, {}).get("peak_bytes")
    return "-" if value is None else f"{value / MIB:.0f} MiB"


def _soak(out: Path, strategies: list[str], preset: str, iterations: int, gpu_memory: list[str]) -> dict:
    import leakhunt

    result = leakhunt.soak(strategies=strategies, preset=preset, iterations=iterations, out=out, device="gpu",
                           gpu_memories=gpu_memory, warmup=5, until_decided=False, force=True)
    return {entry.name: entry.entry for entry in result.strategies}


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
    out = args.out or Path(tempfile.mkdtemp(prefix="leakhunt-gpu-check-"))
    iterations = 30 if args.quick else args.iterations
    presets = ["tiny"] if args.quick else ["tiny", "small"]
    print("## strategies on the GPU\n")
    print("| preset | strategy | verdict | deciding | RSS slope | GPU process slope | TF allocator slope | "
          "GPU device peak | attribution | p50 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in presets:
        started = time.monotonic()
        entries = _soak(out / f"strategies-{preset}", ["persistent", "tutorial"], preset, iterations, [])
        for name, entry in entries.items():
            p50 = (entry.get("latency_ms") or {}).get("p50")
            print(f"| {preset} | {name} | {entry['verdict']} | {entry.get('deciding_series')} | "
                  f"{_slope(entry, 'rss_slope_bytes_per_iter')} | "
                  f"{_slope(entry, 'gpu_process_slope_bytes_per_iter')} | "
                  f"{_slope(entry, 'tf_current_slope_bytes_per_iter')} | {_memory_peak(entry, 'gpu_used')} | "
                  f"{entry.get('gpu_process_attribution')} | {'-' if p50 is None else f'{p50:.1f} ms'} |")
        print(f"<!-- {preset}: {time.monotonic() - started:.0f} s -->")
        sys.stdout.flush()
    print("\n## --gpu-memory settings (persistent, tiny)\n")
    print("| gpu-memory | device used peak | TF allocator peak | verdict |")
    print("|---|---|---|---|")
    entries = _soak(out / "gpu-memory", ["persistent"], "tiny", max(iterations // 2, 20),
                    ["default", "growth", "fraction:0.7"])
    for name, entry in entries.items():
        print(f"| {name} | {_memory_peak(entry, 'gpu_used')} | {_memory_peak(entry, 'tf_current')} | "
              f"{entry['verdict']} |")
    cost = nvml_cost_us()
    print(f"\nNVML cost per sample: {'-' if cost is None else f'{cost:.0f} us'}")
    (out / "gpu_check.json").write_text(json.dumps({"findings": [f.__dict__ for f in findings]}, indent=2))
    print(f"\nrun folders: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
