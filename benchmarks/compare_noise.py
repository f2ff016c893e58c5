"""`leakhunt compare` under noise: the same code on a quiet and a busy machine must never "differ", and a
planted change must always be found.

Per workload, one soak after another (default mode: --until-decided, so two runs stop at different
iterations and compare must match their spans):

- `base`: quiet; `base2`: quiet again; `cpu`: with `cpu_hogs(os.cpu_count())` busy-looping alongside;
  `mem`: with `memory_hogs(os.cpu_count())` streaming memory alongside (cores + memory bandwidth + cache);
  each hog in a session of its own (independent neighbours: see hog.py on CFS autogroup);
- `slower`: quiet, every step +20% slower (planted busy work worth 20% of each call, compare_steps.planted);
- `leak`: quiet, every step keeps LEAK_BYTES_PER_STEP (touched);
- `fixed` (the leaking TF1 loop only): quiet, the same inference with its post-processing built once.

Every soak of a workload runs under one strategy label, so compare matches them. Then compare:

| pair | what it is | target |
|---|---|---|
| base -> base2 | same code, quiet vs quiet | nothing differs |
| base -> cpu | same code, quiet vs CPU hog | nothing differs ("not comparable" allowed) |
| base -> mem | same code, quiet vs memory-bandwidth hog | nothing differs ("not comparable" allowed) |
| base -> slower | +20% slower step | latency slower |
| base -> leak | a leak added | memory grows faster |
| leak -> base | a leak fixed | memory grows slower |
| base -> fixed | the real fix of the TF1 loop | memory grows slower |

Workloads: `numpy_flat` and `keras_call` (drift_steps.py, sub-millisecond), `tf1_leak`
(compare_steps.tf1_ops_per_call: memory and latency grow with the iteration) and `maskrcnn_tiny` (the
built-in `persistent` strategy on the `tiny` preset, ~50 ms steps). Run it under the quiet lock:

    /work/tools/machine quiet python benchmarks/compare_noise.py                 # 1 repeat: ~25 soaks
    /work/tools/machine quiet python benchmarks/compare_noise.py --quick         # shorter soaks, fewer pairs
    python benchmarks/compare_noise.py --compare-only /tmp/cmp-runs              # re-judge kept run folders
    ... --cases numpy_flat,tf1_leak --repeats 2 --keep-runs /tmp/cmp-runs --json /tmp/cmp.json

It prints one Markdown table row per pair (what compare said about latency and memory, the common span,
the conditions) and a last line: false "differs" of the same code, planted changes found.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # hog.py

WORKLOADS = HERE / "workloads"
DRIFT_STEPS = WORKLOADS / "drift_steps.py"
COMPARE_STEPS = WORKLOADS / "compare_steps.py"
LABEL = "workload"  # every soak of a case runs under this one label
WARMUP_STEPS = 10  # the CLI's default
SLOWER_FRACTION = 0.2
LEAK_BYTES_PER_STEP = 16 * 1024


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    target: str  # factory for compare_steps.planted
    kwargs: dict[str, Any]
    iterations: int  # --iterations: the maximum (until-decided stops earlier once settled)
    duration_s: float  # --duration: the time cap, warm-up included
    quick_iterations: int
    quick_duration_s: float


def _maskrcnn_target() -> tuple[str, dict[str, Any]]:
    from leakhunt.runner.soak_setup import builtin_specs

    (spec,) = builtin_specs(["persistent"], "tiny", None, [], [], [], None, None, 0, use_default_set=False)
    return spec.factory, dict(spec.factory_kwargs)


def make_cases() -> dict[str, Case]:
    maskrcnn_target, maskrcnn_kwargs = _maskrcnn_target()
    cases = [
        Case("numpy_flat", f"{DRIFT_STEPS}:numpy_flat", {}, 40_000, 30.0, 10_000, 10.0),
        Case("keras_call", f"{DRIFT_STEPS}:keras_call_flat", {}, 40_000, 30.0, 10_000, 10.0),
        Case("tf1_leak", f"{COMPARE_STEPS}:tf1_ops_per_call", {}, 600, 40.0, 300, 20.0),
        Case("maskrcnn_tiny", maskrcnn_target, maskrcnn_kwargs, 800, 60.0, 300, 40.0),
    ]
    return {case.name: case for case in cases}


# soak name -> (load, planted kwargs, extra target kwargs)
SOAKS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "base": ("quiet", {}, {}),
    "cpu": ("cpu", {}, {}),
    "base2": ("quiet", {}, {}),
    "mem": ("mem", {}, {}),
    "slower": ("quiet", {"slower_fraction": SLOWER_FRACTION}, {}),
    "leak": ("quiet", {"leak_bytes_per_step": LEAK_BYTES_PER_STEP}, {}),
    "fixed": ("quiet", {}, {"fixed": True}),
}
# (A, B, kind, what B is, expected latency, expected memory); expected None: must not differ.
PAIRS = (
    ("base", "base2", "same", "quiet vs quiet", None, None),
    ("base", "cpu", "same", "quiet vs CPU hog", None, None),
    ("base", "mem", "same", "quiet vs memory hog", None, None),
    ("base", "slower", "planted", "+20% slower step", "slower", None),
    ("base", "leak", "planted", "leak added", None, "more"),
    ("leak", "base", "planted", "leak fixed", None, "less"),
    ("base", "fixed", "planted", "real fix (ops built once)", "any", "less"),
)
QUICK_SOAKS = ("base", "cpu", "base2", "mem", "slower", "leak", "fixed")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _load_average_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def soaks_of(case: Case, only: list[str] | None = None) -> list[str]:
    return [name for name in SOAKS if (name != "fixed" or case.name == "tf1_leak") and (not only or name in only)]


def soak_one(case: Case, soak: str, out_dir: Path, hogs: int, quick: bool) -> dict[str, Any]:
    """One soak of one case, under its load; returns facts about it."""
    import contextlib

    from hog import cpu_hogs, memory_hogs

    from leakhunt import runner
    from leakhunt.rundir.config import RunConfig, StrategySpec

    load, planted, extra = SOAKS[soak]
    kwargs = {"target": case.target, **planted, **case.kwargs, **extra}
    spec = StrategySpec(LABEL, f"{COMPARE_STEPS}:planted", kwargs, description=f"compare_noise {case.name} {soak}")
    config = RunConfig(strategies=(spec,), out_dir=out_dir, warmup_steps=WARMUP_STEPS, show_progress=False,
                       iterations=case.quick_iterations if quick else case.iterations,
                       duration_s=case.quick_duration_s if quick else case.duration_s, until_decided=True,
                       command_line=("compare_noise", case.name, soak))
    # Each hog in a session of its own, like independent neighbour jobs: hogs in this benchmark's session
    # would share one CPU-fairness group and leave the child (in its own session) a whole core (hog.py).
    hog_contexts: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {
        "quiet": contextlib.nullcontext, "cpu": lambda: cpu_hogs(hogs, own_session=True),
        "mem": lambda: memory_hogs(hogs, own_session=True)}
    hog_context = hog_contexts[load]
    facts: dict[str, Any] = {"load_average_1m_before": _load_average_1m()}
    started = time.monotonic()
    with hog_context():
        result = runner.run(config)
    facts["soak_wall_s"] = round(time.monotonic() - started, 1)
    facts["load_average_1m_after"] = _load_average_1m()
    if result.interrupted:
        raise KeyboardInterrupt
    (entry,) = result.summary["strategies"]
    facts.update(iterations=entry.get("iterations_completed"), verdict=entry.get("verdict"),
                 stop_reason=entry.get("stop_reason"))
    return facts


def run_soaks(cases: list[Case], repeats: int, runs_dir: Path, hogs: int, quick: bool,
              only: list[str] | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    plan = [(repeat, case, soak) for repeat in range(repeats) for case in cases for soak in soaks_of(case, only)]
    started = time.monotonic()
    for index, (repeat, case, soak) in enumerate(plan, 1):
        folder = runs_dir / f"r{repeat}" / case.name / soak
        if folder.exists():
            shutil.rmtree(folder)
        _progress(f"soak {index}/{len(plan)}: {case.name} {soak} ({SOAKS[soak][0]}), repeat {repeat + 1}")
        try:
            facts[str(folder)] = soak_one(case, soak, folder, hogs, quick)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # noqa: BLE001 - one failed soak is recorded, the others still run
            traceback.print_exc()
            facts[str(folder)] = {"error": f"{type(error).__name__}: {error}"}
        _progress(f"    {facts[str(folder)]}")
        elapsed = time.monotonic() - started
        _progress(f"    {elapsed / 60:.1f} min so far, ~{elapsed / index * (len(plan) - index) / 60:.0f} min left")
    return facts


# ------------------------------------------------------------------------------------------ comparing
def _latency_outcome(row: dict[str, Any]) -> str:
    return str(row.get("latency_outcome") or "same")


def _memory_outcome(row: dict[str, Any]) -> str:
    return str(row.get("memory_outcome") or "same")


def judge_pair(folder_a: Path, folder_b: Path, pair: tuple, out_dir: Path) -> dict[str, Any]:
    from leakhunt.report.compare import compare_runs

    name_a, name_b, kind, what, want_latency, want_memory = pair
    comparison: Any = compare_runs(folder_a, folder_b, out_dir=out_dir, formats=("md", "html", "json"))
    (row,) = comparison["strategies"]
    latency, memory = _latency_outcome(row), _memory_outcome(row)
    false_differs = []
    if latency in ("slower", "faster") and want_latency is None:
        false_differs.append(f"latency {latency}")
    if memory in ("more", "less") and want_memory is None:
        false_differs.append(f"memory {memory}")
    found = None
    if kind == "planted":
        found = ((want_latency is None or want_latency == "any" or latency == want_latency)
                 and (want_memory is None or memory == want_memory))
    views = row.get("latency_views") or []
    deciding = [view for view in views if view.get("decides")]
    conditions_a, conditions_b = row.get("conditions_a") or {}, row.get("conditions_b") or {}
    return {
        "pair": f"{name_a} -> {name_b}", "kind": kind, "what": what, "latency": latency, "memory": memory,
        "latency_net_change": row.get("latency_net_change"),
        "latency_raw_change": row.get("latency_p50_relative_change"),
        "latency_tolerance": deciding[0]["tolerance"] if deciding else None,
        "wait_share_a": conditions_a.get("runqueue_wait_share"),
        "wait_share_b": conditions_b.get("runqueue_wait_share"),
        "reference_ratio": _ratio(conditions_a.get("reference_ms"), conditions_b.get("reference_ms")),
        "rss_slope_a": row.get("rss_slope_a_bytes_per_iter"), "rss_slope_b": row.get("rss_slope_b_bytes_per_iter"),
        "span": (row.get("span") or {}).get("last_iteration"),
        "latency_words": row.get("latency_in_words"), "memory_words": row.get("memory_in_words"),
        "span_words": row.get("span_words"),
        "false_differs": false_differs, "found": found, "compare_md": str(out_dir / "compare.md"),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b else None


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _bytes(value: float | None) -> str:
    from leakhunt.units import human_rate

    return "-" if value is None else human_rate(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def compare_all(runs_dir: Path, cases: list[str], repeats: int) -> list[dict[str, Any]]:
    records = []
    for repeat in range(repeats):
        for case in cases:
            root = runs_dir / f"r{repeat}" / case
            for pair in PAIRS:
                folder_a, folder_b = root / pair[0], root / pair[1]
                if not (folder_a / "run.json").exists() or not (folder_b / "run.json").exists():
                    continue
                try:
                    record = judge_pair(folder_a, folder_b, pair, root / "compare" / f"{pair[0]}-{pair[1]}")
                except Exception as error:  # noqa: BLE001 - one broken pair is recorded, the others still count
                    traceback.print_exc()
                    record = {"pair": f"{pair[0]} -> {pair[1]}", "kind": pair[2], "what": pair[3],
                              "error": f"{type(error).__name__}: {error}", "false_differs": [], "found": False}
                records.append({"case": case, "repeat": repeat, **record})
    return records


def print_table(records: list[dict[str, Any]]) -> dict[str, Any]:
    print("| case | pair | B is | span (iterations) | latency | median step raw | net of the machine (tolerance) "
          "| reference B/A | run-queue wait A / B | memory | RSS slope A → B | target met |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|---|---|---|")
    for record in records:
        met = ("error" if record.get("error") else
               "**no**" if record["false_differs"] or record["found"] is False else "yes")
        waits = (f"{record['wait_share_a']:.0%} / {record['wait_share_b']:.0%}"
                 if record.get("wait_share_a") is not None and record.get("wait_share_b") is not None else "-")
        slopes = (f"{_bytes(record.get('rss_slope_a'))} → {_bytes(record.get('rss_slope_b'))}"
                  if record.get("rss_slope_a") is not None else "-")
        print(f"| {record['case']} | {record['pair']} | {record['what']} | {record.get('span', '-')} "
              f"| {record.get('latency', '-')} | {_pct(record.get('latency_raw_change'))} "
              f"| {_pct(record.get('latency_net_change'))} (±{_pct(record.get('latency_tolerance'))[1:]}) "
              f"| {_num(record.get('reference_ratio'))} | {waits} | {record.get('memory', '-')} | {slopes} | {met} |")
    same = [record for record in records if record["kind"] == "same"]
    planted = [record for record in records if record["kind"] == "planted"]
    false_same = sum(bool(record["false_differs"]) for record in same)
    false_planted = sum(bool(record["false_differs"]) for record in planted)
    not_comparable = sum(record.get("latency") == "not comparable" for record in same)
    totals = {"same_code_pairs": len(same), "same_code_false_differs": false_same,
              "same_code_not_comparable": not_comparable, "planted_pairs": len(planted),
              "planted_found": sum(bool(record["found"]) for record in planted),
              "planted_extra_false_differs": false_planted,
              "errors": sum(bool(record.get("error")) for record in records)}
    print()
    errors = f"; errors: {totals['errors']}" if totals["errors"] else ""
    print(f"same code: {false_same} false \"differs\" in {len(same)} pairs (target 0; latency \"not comparable\" "
          f"in {not_comparable}); planted changes found: {totals['planted_found']} of {len(planted)} (target all; "
          f"{false_planted} with a false \"differs\" besides){errors}")
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", help="comma-separated: numpy_flat, keras_call, tf1_leak, maskrcnn_tiny")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--soaks", help=f"comma-separated soaks to run (default all: {', '.join(SOAKS)})")
    parser.add_argument("--quick", action="store_true", help="shorter soaks (smoke test)")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes in a loaded soak")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a temporary folder)")
    parser.add_argument("--compare-only", type=Path, help="no soaks: compare the run folders kept in this folder")
    parser.add_argument("--json", type=Path, help="write every pair's record and the totals here")
    args = parser.parse_args()
    cases = make_cases()
    chosen = [name.strip() for name in (args.cases or ",".join(cases)).split(",") if name.strip()]
    unknown = [name for name in chosen if name not in cases]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(cases)}")
    soak_facts: dict[str, Any] = {}
    temporary = None
    if args.compare_only:
        runs_dir = args.compare_only
    else:
        runs_dir = args.keep_runs or Path(temporary := tempfile.mkdtemp(prefix="compare-noise-"))
        runs_dir.mkdir(parents=True, exist_ok=True)
        only = [name.strip() for name in args.soaks.split(",")] if args.soaks else None
        soak_facts = run_soaks([cases[name] for name in chosen], args.repeats, runs_dir, args.hogs, args.quick, only)
        (runs_dir / "soaks.json").write_text(json.dumps(soak_facts, indent=1), encoding="utf-8")
    try:
        print(f"\ncompare_noise: {os.cpu_count()} CPU(s), {args.hogs} hog(s) in a loaded soak, default mode "
              f"(until-decided){', --quick' if args.quick else ''}; run folders {runs_dir}\n")
        records = compare_all(runs_dir, chosen, args.repeats)
        totals = print_table(records)
        if args.json:
            args.json.write_text(json.dumps({"records": records, "totals": totals, "soaks": soak_facts}, indent=1,
                                            default=str), encoding="utf-8")
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    ok = totals["same_code_false_differs"] == 0 and totals["planted_found"] == totals["planted_pairs"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
