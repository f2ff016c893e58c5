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
    ... --soaks base,base2,slower --repeats 3 --per-side 3   # each side 3 runs (a folder of run folders)

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
import traceback
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from _compare_noise_pairs import compare_all, print_table
from _harness import (
    WORKLOADS,
    Progress,
    builtin_target,
    hog_load,
    load_average_1m,
    runs_folder,
    soak,
    workload,
    write_json,
)

DRIFT_STEPS = WORKLOADS / "drift_steps.py"
COMPARE_STEPS = WORKLOADS / "compare_steps.py"
LABEL = "workload"  # every soak of a case runs under this one label
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


def make_cases() -> dict[str, Case]:
    maskrcnn_target, maskrcnn_kwargs = builtin_target("persistent", "tiny")
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
QUICK_SOAKS = ("base", "cpu", "base2", "mem", "slower", "leak", "fixed")


def soaks_of(case: Case, only: list[str] | None = None) -> list[str]:
    return [name for name in SOAKS if (name != "fixed" or case.name == "tf1_leak") and (not only or name in only)]


def soak_one(case: Case, soak_name: str, out_dir: Path, hogs: int, quick: bool) -> dict[str, Any]:
    """One soak of one case, under its load; returns facts about it."""
    load, planted, extra = SOAKS[soak_name]
    strategy = workload(LABEL, f"{COMPARE_STEPS}:planted", target=case.target, **planted, **case.kwargs, **extra)
    facts: dict[str, Any] = {"load_average_1m_before": load_average_1m()}
    # Each hog in a session of its own, like independent neighbour jobs: hogs in this benchmark's session
    # would share one CPU-fairness group and leave the child (in its own session) a whole core (hog.py).
    run = soak([strategy], out_dir, iterations=case.quick_iterations if quick else case.iterations,
               duration_s=case.quick_duration_s if quick else case.duration_s, until_decided=True, attribute="auto",
               load=hog_load(load, hogs, own_session=True), command_line=("compare_noise", case.name, soak_name))
    facts["soak_wall_s"] = round(run.wall_s, 1)
    facts["load_average_1m_after"] = load_average_1m()
    entry = run.entries[LABEL]
    facts.update(iterations=entry.get("iterations_completed"), verdict=entry.get("verdict"),
                 stop_reason=entry.get("stop_reason"))
    return facts


def run_soaks(cases: list[Case], repeats: int, runs_dir: Path, hogs: int, quick: bool,
              only: list[str] | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    plan = [(repeat, case, name) for repeat in range(repeats) for case in cases for name in soaks_of(case, only)]
    progress = Progress(len(plan))
    for index, (repeat, case, name) in enumerate(plan, 1):
        folder = runs_dir / f"r{repeat}" / case.name / name
        if folder.exists():
            shutil.rmtree(folder)
        progress.say(f"soak {index}/{len(plan)}: {case.name} {name} ({SOAKS[name][0]}), repeat {repeat + 1}")
        try:
            facts[str(folder)] = soak_one(case, name, folder, hogs, quick)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # noqa: BLE001 - one failed soak is recorded, the others still run
            traceback.print_exc()
            facts[str(folder)] = {"error": f"{type(error).__name__}: {error}"}
        progress.say(f"    {facts[str(folder)]}")
        progress.finished_one()
    return facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", help="comma-separated: numpy_flat, keras_call, tf1_leak, maskrcnn_tiny")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--per-side", type=int, default=1,
                        help="judge each pair with this many repeats per side (a folder of run folders); "
                             "--repeats a multiple of it")
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
    if args.per_side < 1 or args.repeats % args.per_side:
        parser.error(f"--repeats ({args.repeats}) must be a multiple of --per-side ({args.per_side})")
    soak_facts: dict[str, Any] = {}
    folder = nullcontext(args.compare_only) if args.compare_only else runs_folder(args.keep_runs, "compare-noise",
                                                                                    fresh=False)
    with folder as runs_dir:
        if not args.compare_only:
            only = [name.strip() for name in args.soaks.split(",")] if args.soaks else None
            soak_facts = run_soaks([cases[name] for name in chosen], args.repeats, runs_dir, args.hogs, args.quick,
                                   only)
            (runs_dir / "soaks.json").write_text(json.dumps(soak_facts, indent=1), encoding="utf-8")
        print(f"\ncompare_noise: {os.cpu_count()} CPU(s), {args.hogs} hog(s) in a loaded soak, {args.per_side} run(s) "
              f"per side, default mode "
              f"(until-decided){', --quick' if args.quick else ''}; run folders {runs_dir}\n")
        records = compare_all(runs_dir, chosen, args.repeats, args.per_side)
        totals = print_table(records)
        write_json(args.json, {"records": records, "totals": totals, "soaks": soak_facts})
    ok = totals["same_code_false_differs"] == 0 and totals["planted_found"] == totals["planted_pairs"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
