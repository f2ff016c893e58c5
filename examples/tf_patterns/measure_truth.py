"""Measure the ground truth of the TensorFlow leak / no-leak patterns in this folder with a bare loop.

No leakhunt involved: each pattern's factory `make()` runs in a fresh child process (one at a time), is
warmed up, then called N times in a plain `for` loop. Every few iterations the child records

- RSS: resident pages from /proc/self/statm times the page size, and
- the glibc heap in use: `mallinfo2()` via ctypes, uordblks + hblkhd (all arenas, mmapped chunks
  included), which is where TensorFlow's CPU tensors, graphs and Python objects end up.

It then fits least-squares slopes (bytes per iteration) over the first and the second half of the
measured iterations and prints one table row per pattern next to the pattern's declared `TRUTH`.

    python examples/tf_patterns/measure_truth.py                      # every pattern, ~30 s each
    python examples/tf_patterns/measure_truth.py keep_outputs         # one pattern (file stem or path)
    python examples/tf_patterns/measure_truth.py --seconds 60 --json /tmp/truth.json

N: `--iterations` if given, else the module's `TRUTH_ITERATIONS` (the count its docstring's truth was
measured with), else as many iterations as fit in `--seconds` at the warm-up's pace (200 at least).

The child also records, through `gc.callbacks`, every generation-2 (full) collection Python ran during the
measured loop: the iteration it ran at, what it collected, and RSS / heap right after it (the troughs of a
garbage sawtooth). `--detail` prints them, with the RSS / heap levels at each tenth of the run, below the
table; `--json` keeps them.

The "measured" column is a rule of thumb, not leakhunt's statistics: `leak` if the second half still
grows by more than 256 B/iter and by more than 2 MiB in RSS or in heap, or if the heap grows by more
than 256 B/iter in both halves at rates within a factor of 2 and by more than 1 MiB in all (a slow but
steady leak); `plateau` if the first half grew like a leak but the second half does not; `flat`
otherwise. Latency is printed for orientation only: on
a shared 2-core machine it is not a measurement.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_PATTERNS = {"measure_truth"}

LEAK_SLOPE_B = 256
LEAK_GROWTH_B = 2 * 1024 * 1024
DETAIL_MAX_COLLECTIONS = 20


# ----------------------------------------------------------------------------------------------- child
class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


def _heap_reader():
    """Return a function giving the glibc heap bytes in use, or None where mallinfo2 is missing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    mallinfo2.argtypes = []

    def heap_in_use() -> int:
        info = mallinfo2()
        return int(info.uordblks + info.hblkhd)

    return heap_in_use


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"tf_pattern_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return module


def _evidence(workload) -> dict:
    getter = getattr(workload, "evidence", None)
    return dict(getter()) if callable(getter) else {}


class _FullCollectionLog:
    """Records each generation-2 collection of the measured loop: when it ran and what it left behind."""

    def __init__(self, heap):
        self.heap = heap
        self.iteration = 0  # set by the loop; read when a collection ends
        self.collections = []  # (iteration, objects collected, rss after, heap after)
        self.active = False

    def __call__(self, phase, info):
        if self.active and phase == "stop" and info.get("generation") == 2:
            self.collections.append(
                (self.iteration, info.get("collected", 0), _rss(), self.heap() if self.heap else None))


def child_main(args) -> None:
    heap = _heap_reader()
    full_collections = _FullCollectionLog(heap)
    gc.callbacks.append(full_collections)
    path = Path(args.child)
    rss_start = _rss()
    started = time.monotonic()
    module = _load(path)
    workload = module.make()
    step = workload if callable(workload) and not hasattr(workload, "step") else workload.step
    build_s = time.monotonic() - started
    rss_built = _rss()

    warm_started = time.monotonic()
    for _ in range(args.warmup):
        step()
    warm_s = time.monotonic() - warm_started
    per_iter_s = warm_s / max(args.warmup, 1)

    if args.iterations:
        n = args.iterations
    elif getattr(module, "TRUTH_ITERATIONS", None):
        n = int(module.TRUTH_ITERATIONS)
    else:
        n = max(200, int(args.seconds / max(per_iter_s, 1e-6)))
    every = max(1, n // args.samples)

    evidence_before = _evidence(workload)
    rows = []  # (iteration, rss, heap)
    rows.append((0, _rss(), heap() if heap else None))
    loop_started = time.monotonic()
    full_collections.active = True
    for i in range(1, n + 1):
        full_collections.iteration = i
        step()
        if i % every == 0 or i == n:
            rows.append((i, _rss(), heap() if heap else None))
    loop_s = time.monotonic() - loop_started
    full_collections.active = False
    evidence_after = _evidence(workload)
    close = getattr(workload, "close", None)
    if callable(close):
        close()
    gc.collect()

    result = {
        "pattern": path.stem,
        "truth": getattr(module, "TRUTH", "?"),
        "truth_bytes_per_iter": getattr(module, "TRUTH_BYTES_PER_ITER", None),
        "iterations": n,
        "warmup": args.warmup,
        "sample_every": every,
        "build_s": round(build_s, 2),
        "loop_s": round(loop_s, 2),
        "ms_per_iter": round(1000 * loop_s / n, 3),
        "rss_start": rss_start,
        "rss_after_build": rss_built,
        "rss_after_warmup": rows[0][1],
        "heap_available": heap is not None,
        "evidence_before": evidence_before,
        "evidence_after": evidence_after,
        "samples": rows,
        # (iteration, objects collected, rss after, heap after) for each automatic full collection
        "full_collections": full_collections.collections,
    }
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------- parent
def _slope(xs, ys) -> float | None:
    """Least-squares slope of ys over xs (bytes per iteration)."""
    if len(xs) < 3:
        return None
    n = len(xs)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def analyse(result: dict) -> dict:
    rows = result["samples"]
    n = result["iterations"]
    half = n / 2
    first = [r for r in rows if r[0] <= half]
    second = [r for r in rows if r[0] >= half]

    def slopes(idx):
        if idx == 2 and not result["heap_available"]:
            return None, None, None
        s1 = _slope([r[0] for r in first], [r[idx] for r in first])
        s2 = _slope([r[0] for r in second], [r[idx] for r in second])
        growth = rows[-1][idx] - rows[0][idx]
        return s1, s2, growth

    rss1, rss2, rss_growth = slopes(1)
    heap1, heap2, heap_growth = slopes(2)

    def grows(slope, span):
        return slope is not None and slope > LEAK_SLOPE_B and slope * span > LEAK_GROWTH_B

    def steady(first_slope, second_slope, growth):
        """A slower leak the C heap shows cleanly: both halves grow alike and the total passes 1 MiB."""
        return (first_slope is not None and second_slope is not None and growth is not None
                and min(first_slope, second_slope) > LEAK_SLOPE_B
                and max(first_slope, second_slope) < 2 * min(first_slope, second_slope)
                and growth > LEAK_GROWTH_B / 2)

    span = n / 2
    if grows(rss2, span) or grows(heap2, span) or steady(heap1, heap2, heap_growth):
        measured = "leak"
    elif grows(rss1, span) or grows(heap1, span):
        measured = "plateau"
    else:
        measured = "flat"
    return {
        "rss_slope_first": rss1, "rss_slope_second": rss2, "rss_growth": rss_growth,
        "heap_slope_first": heap1, "heap_slope_second": heap2, "heap_growth": heap_growth,
        "measured": measured,
    }


def discover() -> list[Path]:
    return sorted(p for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem not in NOT_PATTERNS)


def resolve(name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix == ".py" and candidate.is_file():
        return candidate.resolve()
    candidate = HERE / f"{Path(name).stem}.py"
    if candidate.is_file():
        return candidate
    raise SystemExit(f"no pattern named {name!r} in {HERE}")


def run_child(path: Path, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path),
           "--warmup", str(args.warmup), "--seconds", str(args.seconds), "--samples", str(args.samples)]
    if args.iterations:
        cmd += ["--iterations", str(args.iterations)]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=args.timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout)[-2000:]
    raise RuntimeError(f"{path.stem}: child exited {proc.returncode} without a result:\n{tail}")


def _fmt(value, unit="") -> str:
    if value is None:
        return "-"
    return f"{value:+,.0f}{unit}"


def _mib(value) -> str:
    return "-" if value is None else f"{value / 2**20:+.1f} MiB"


def print_detail(result: dict) -> None:
    """RSS / heap levels at each tenth of the run, and the full collections with their troughs."""
    rows = result["samples"]
    base_rss, base_heap = rows[0][1], rows[0][2]
    n = result["iterations"]
    marks = [round(n * k / 10) for k in range(1, 11)]
    levels = []
    for mark in marks:
        row = min(rows, key=lambda r: abs(r[0] - mark))
        heap = "-" if base_heap is None else f"{(row[2] - base_heap) / 2**20:+.1f}"
        levels.append(f"{row[0]}: {(row[1] - base_rss) / 2**20:+.1f}/{heap}")
    print(f"  {result['pattern']}: RSS/heap MiB over the warm-up level at each tenth: " + ", ".join(levels))
    collections = result.get("full_collections", [])
    if not collections:
        print(f"  {result['pattern']}: no automatic generation-2 collection during the {n} measured calls")
        return
    troughs = []
    # A workload that collects on its own (gc.collect() per call) would print thousands: show the first few.
    shown = collections if len(collections) <= DETAIL_MAX_COLLECTIONS else collections[:DETAIL_MAX_COLLECTIONS]
    for iteration, collected, rss, heap in shown:
        heap_text = "-" if heap is None or base_heap is None else f"{(heap - base_heap) / 2**20:+.1f}"
        troughs.append(f"{iteration} ({collected} obj): {(rss - base_rss) / 2**20:+.1f}/{heap_text}")
    more = "" if shown is collections else f", ... ({len(collections) - len(shown)} more)"
    print(f"  {result['pattern']}: {len(collections)} generation-2 collections, at call (objects freed): "
          "RSS/heap MiB right after: " + ", ".join(troughs) + more)


def parent_main(args) -> int:
    paths = [resolve(name) for name in args.patterns] if args.patterns else discover()
    header = ("| pattern | declared | measured | N | RSS B/iter (1st half, 2nd half) | heap B/iter (1st, 2nd) "
              "| RSS growth | heap growth | evidence | ms/iter* |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    results = []
    mismatches = 0
    for path in paths:
        try:
            result = run_child(path, args)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"| {path.stem} | ? | failed | - | - | - | - | - | - | - |")
            print(str(error), file=sys.stderr)
            mismatches += 1
            continue
        result.update(analyse(result))
        results.append(result)
        evidence = ""
        for key in ("graph_ops", "tracing_count"):
            if key in result["evidence_after"]:
                before = result["evidence_before"].get(key)
                evidence += f"{key} {before}->{result['evidence_after'][key]} "
        flag = "" if result["measured"] == result["truth"] else " (!)"
        mismatches += bool(flag)
        print(
            f"| {result['pattern']} | {result['truth']} | {result['measured']}{flag} | {result['iterations']} "
            f"| {_fmt(result['rss_slope_first'])}, {_fmt(result['rss_slope_second'])} "
            f"| {_fmt(result['heap_slope_first'])}, {_fmt(result['heap_slope_second'])} "
            f"| {_mib(result['rss_growth'])} | {_mib(result['heap_growth'])} | {evidence.strip() or '-'} "
            f"| {result['ms_per_iter']:.1f} |",
            flush=True,
        )
    print("\n* latency on a shared machine: orientation only. (!) = measured differs from declared TRUTH.")
    if args.detail:
        for result in results:
            print_detail(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"raw samples written to {args.json}")
    return 1 if mismatches and args.strict else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="file stems or paths (default: every pattern here)")
    parser.add_argument("--seconds", type=float, default=30.0, help="target loop time when N is not fixed")
    parser.add_argument("--iterations", type=int, default=0, help="fix N for every pattern")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200, help="about this many memory samples per run")
    parser.add_argument("--timeout", type=float, default=3600.0, help="kill a child after this many seconds")
    parser.add_argument("--json", help="write the raw samples and slopes to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a measured verdict differs")
    parser.add_argument("--detail", action="store_true",
                        help="print levels at each tenth of the run and every generation-2 collection")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
