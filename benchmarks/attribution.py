"""Attribution benchmark: is the top site of every leak the true line, what share of the growth do the listed
sites explain, and what does the second pass cost next to the verdict pass?

Each case is soaked the way a user would (`leakhunt.soak`, until decided, attribution on by default): the
verdict pass, then, for a leak, the attribution pass. Per case it prints the verdict, the top site and whether
it is the true line (the line whose code the case names, found in the file at run time), the kind, its rate
and share, the share all listed sites explain, the attribution pass's wall time and peak RSS next to the
verdict pass's, and the tracked step's slowdown; then a Markdown table for docs/benchmarks.md.

Leaking cases (the issue's eight): a Python list, a native malloc through ctypes, TF1 ops added per call, a
retracing tf.function, tensors kept in a list, a TF resource created per call, a Keras model built per call,
the built-in tutorial strategy. Flat cases (no second pass, no site): a Keras model called in a loop, one
concrete function, a finalized TF1 session.

    python benchmarks/attribution.py                       # all eleven: ~15-25 min on 2 cores
    python benchmarks/attribution.py --cases python_list,ctypes_malloc
    python benchmarks/attribution.py --json /tmp/attribution.json --keep-runs /tmp/attribution-runs
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    PATTERNS,
    REPO,
    WORKLOADS,
    Strategy,
    builtin,
    markdown_table,
    runs_folder,
    soak,
    workload,
    write_json,
)

STEPS = WORKLOADS / "attribution_steps.py"
TF1 = REPO / "leakhunt" / "strategies" / "tf1.py"


@dataclass(frozen=True)
class Case:
    name: str
    workload: str | None  # "file.py:func"; None for a built-in strategy
    strategy: str | None
    truth: str
    iterations: int
    true_file: Path | None = None
    true_code: str = ""  # a unique piece of the true line's code
    via_code: str = ""  # the site's stack must pass through this line too (the call that builds a model)


CASES = [
    Case("python_list", f"{STEPS}:python_list", None, "leak", 3000, STEPS, "log.append(bytes(size))  # LEAK"),
    Case("ctypes_malloc", f"{STEPS}:ctypes_malloc", None, "leak", 3000, STEPS,
         "address = _libc.malloc(size)  # LEAK"),
    Case("tf1_ops_per_call", f"{PATTERNS}/tf1_graph_growth.py:make", None, "leak", 2000,
         PATTERNS / "tf1_graph_growth.py", "probabilities = tf.nn.softmax(self.logits)"),
    Case("retracing_function", f"{PATTERNS}/retrace_new_shapes.py:make", None, "leak", 1000,
         PATTERNS / "retrace_new_shapes.py", "self.serve(self.fixed, 0.5 + i * 1e-7)"),
    Case("tensors_kept", f"{PATTERNS}/keep_outputs.py:make", None, "leak", 2000, PATTERNS / "keep_outputs.py",
         "self.history.append(self.model(self.x, training=False))"),
    Case("tf_resource_per_call", f"{STEPS}:tf_variable_per_request", None, "leak", 2000, STEPS,
         'self.tf.Variable(self.tf.fill((64, 64), float(self.counter)), name="request_state")  # LEAK'),
    Case("keras_model_per_call", f"{PATTERNS}/keras_model_per_call.py:make", None, "leak", 2000,
         PATTERNS / "keras_model_per_call.py", "return tf.keras.Sequential(", "model = tiny_classifier()"),
    Case("tutorial", None, "tutorial", "leak", 300, TF1, "fetches = add_postprocessing(tensor_dict,"),
    Case("flat_model_call_loop", f"{PATTERNS}/model_call_loop.py:make", None, "flat", 3000),
    Case("flat_concrete_function", f"{PATTERNS}/concrete_function.py:make", None, "flat", 3000),
    Case("flat_tf1_finalized_session", f"{PATTERNS}/tf1_finalized_session.py:make", None, "flat", 3000),
]


def true_line(case: Case) -> int | None:
    if case.true_file is None:
        return None
    lines = [number for number, text in enumerate(case.true_file.read_text().splitlines(), 1)
             if case.true_code in text]
    if len(lines) != 1:
        raise SystemExit(f"{case.name}: the true line's code must occur once in {case.true_file}, found {lines}")
    return lines[0]


def soak_case(case: Case, out: Path) -> dict[str, Any]:
    """The case soaked as a user would: until decided, attribution on (its second pass is what is measured)."""
    strategy: Strategy = builtin(case.name, case.strategy) if case.strategy else workload(case.name, str(case.workload))
    run = soak([strategy], out, iterations=case.iterations, until_decided=True, attribute="auto",
               preset="tiny" if case.strategy else None)
    return {"entry": run.entries[case.name], "total_s": run.wall_s}


def judge(case: Case, entry: dict[str, Any]) -> dict[str, Any]:
    attribution = entry.get("attribution") or {}
    sites = attribution.get("sites") or []
    top = sites[0] if sites else None
    expected = true_line(case)
    correct = None
    if case.truth == "leak":
        true_file = case.true_file
        correct = bool(top and true_file is not None and Path(top["file"]).resolve() == true_file.resolve()
                       and top["line"] == expected)
        if correct and case.via_code and top is not None:
            correct = any(case.via_code in str(frame.get("code")) for frame in top.get("stack") or [])
    else:
        correct = not sites
    cost = attribution.get("cost") or {}
    return {
        "case": case.name, "truth": case.truth, "verdict": entry.get("verdict"), "status": attribution.get("status"),
        "top": None if top is None else f"{Path(top['file']).name}:{top['line']}",
        "expected": None if expected is None or case.true_file is None else f"{case.true_file.name}:{expected}",
        "correct": correct,
        "kind": None if top is None else top.get("kind"),
        "top_bytes_per_iter": None if top is None else top.get("bytes_per_iter"),
        "top_share": None if top is None else top.get("share"),
        "explained_share": attribution.get("explained_share"), "sites": len(sites),
        "strategy_growth_bytes_per_iter": entry.get("deciding_slope_bytes_per_iter"),
        "attribution_iterations": attribution.get("iterations"),
        "attribution_wall_s": cost.get("wall_s"), "verdict_wall_s": entry.get("wall_time_s"),
        "attribution_peak_rss_bytes": cost.get("peak_rss_bytes"), "verdict_peak_rss_bytes": entry.get("peak_rss_bytes"),
        "tracked_step_slowdown": cost.get("slowdown"), "phases_s": cost.get("phases_s"),
        "detail": None if top is None else top.get("detail"),
    }


def _fmt(value: Any, kind: str = "") -> str:
    from leakhunt.units import human_bytes, human_rate

    if value is None:
        return "-"
    if kind == "rate":
        return human_rate(value)
    if kind == "bytes":
        return human_bytes(value)
    if kind == "share":
        return f"{value:.0%}"
    if kind == "s":
        return f"{value:.0f} s"
    if kind == "x":
        return f"{value:.1f}x"
    return str(value)


def results_table(rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows:
        top = "no site (no second pass)" if row["truth"] == "flat" and row["correct"] else (
            f"{row['top']} {'**true**' if row['correct'] else 'WRONG, expected ' + str(row['expected'])}")
        cells.append([
            row["case"], row["verdict"], top, row["kind"] or "-", _fmt(row["top_bytes_per_iter"], "rate"),
            _fmt(row["explained_share"], "share"),
            f"{_fmt(row['attribution_wall_s'], 's')} ({_fmt(row['verdict_wall_s'], 's')})",
            f"{_fmt(row['attribution_peak_rss_bytes'], 'bytes')} ({_fmt(row['verdict_peak_rss_bytes'], 'bytes')})",
            _fmt(row["tracked_step_slowdown"], "x")])
    header = ["case", "verdict", "top site (true line)", "kind", "top site rate", "explained",
              "attribution pass (verdict pass)", "peak RSS (verdict pass)", "tracked step"]
    return "\n".join(markdown_table(header, "l" * 9, cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args(argv)
    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [case for case in CASES if wanted is None or case.name in wanted]
    rows = []
    with runs_folder(args.keep_runs, "attribution-bench", fresh=False) as root:
        for case in cases:
            print(f"== {case.name} ({case.truth})", flush=True)
            outcome = soak_case(case, root / case.name)
            row = judge(case, outcome["entry"])
            rows.append(row)
            print(json.dumps({key: row[key] for key in ("verdict", "status", "top", "expected", "correct", "kind",
                                                         "explained_share", "attribution_wall_s", "verdict_wall_s")}),
                  flush=True)
            print(f"   {row['detail']}", flush=True)
    print()
    print(results_table(rows))
    correct = sum(1 for row in rows if row["correct"])
    print(f"\n{correct} of {len(rows)} cases correct (leaks: top site is the true line; flat: no site)")
    write_json(args.json, rows, indent=2)
    return 0 if correct == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
