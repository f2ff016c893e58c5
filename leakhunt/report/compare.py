"""Render the comparison of two run folders (analysis/comparison.py decides what differs) as md/html/json."""

from __future__ import annotations

import pathlib

from leakhunt import rundir
from leakhunt.analysis.comparison import compare_strategy
from leakhunt.analysis.comparison_types import Comparison, ComparisonRow, ConditionsRow, RunInfo
from leakhunt.analysis.latency_change import SINGLE_RUN_PROCESS_SPREAD
from leakhunt.analysis.machine_difference import LATENCY_MIN_CHANGE
from leakhunt.analysis.memory_change import MIN_RELATIVE_SLOPE_CHANGE
from leakhunt.analysis.repeated_comparison import RunOfSide, compare_repeated_strategy
from leakhunt.analysis.repeated_latency import REPEATS_MIN_CHANGE
from leakhunt.analysis.run_differences import run_differences
from leakhunt.analysis.summarize import analyze_run
from leakhunt.report.build import write_text_atomic
from leakhunt.report.formatting import fmt_ms
from leakhunt.report.json_out import render_json, to_jsonable
from leakhunt.report.markdown import md_escape
from leakhunt.rundir.records import RunRecord

COMPARE_FILES = {"md": "compare.md", "html": "compare.html", "json": "compare.json"}
# The table's one-word outcomes, as a reader of a ticket scans them.
MEMORY_LABELS = {"more": "grows faster in B", "less": "grows slower in B", "same": "alike", "mixed": "mixed",
                 "unknown": "too few readings"}
LATENCY_LABELS = {"slower": "B slower", "faster": "B faster", "same": "no change", "unclear": "unclear",
                  "not comparable": "not comparable", "unknown": "no latencies"}
METHOD_TEXT = (
    "Each strategy is compared over the iterations both runs measured: from the later of the two warm-up ends "
    "to the end of the shorter run. Memory: each run's growth re-estimated on its readings inside that span; "
    "B grows faster or slower when the two 95% slope intervals do not overlap, the difference is above both "
    f"noise floors and at least {MIN_RELATIVE_SLOPE_CHANGE:.0%} of the faster slope. Latency, net of the "
    "machine: between consecutive machine-speed readings, the step time (wall clock minus the time the step "
    "thread waited for a CPU) and, for a CPU-bound child, the CPU time per iteration, each in units of the "
    "reference kernel there, paired with the other run at the same iterations; a change is called when every "
    f"view passes the tolerance ({LATENCY_MIN_CHANGE:.0%}, more when the two machines were crowded or fast "
    "differently) and its 95% interval excludes no change; \"not comparable\" when the machines differ beyond "
    "what the correction carries. Verdicts A → B are each run's own, over its whole run. With several runs per "
    "side (a folder of run folders), memory differs only when every pairing of an A run with a B run says so, "
    f"and latency compares each run's level net of the machine side against side: the change must pass "
    f"{REPEATS_MIN_CHANGE:.0%} (more on a crowded machine) and its 95% interval, from the spread between the runs "
    "of each side, must exclude no change; an interval that cannot rule out a 20% change either way is "
    "\"unclear\". Two processes of the same code differ by up to ~25% on a shared host: with one run per side a "
    f"change under {SINGLE_RUN_PROCESS_SPREAD:.0%} is \"unclear\".")


def _is_moved(row: ComparisonRow) -> tuple[bool, bool]:
    return row.get("memory_outcome") in ("more", "less", "mixed"), row.get("latency_outcome") in ("slower", "faster")


def _conditions_text(conditions: ConditionsRow | None) -> str:
    if not conditions:
        return "–"
    parts = []
    if conditions.get("cpu_share") is not None:
        parts.append(f"{conditions['cpu_share']:.0%} of a CPU")
    if conditions.get("runqueue_wait_share") is not None:
        parts.append(f"waited for a CPU {conditions['runqueue_wait_share']:.0%} of the time")
    if conditions.get("threads_wait_fraction") is not None:
        parts.append(f"all threads waited {conditions['threads_wait_fraction']:.0%} of their runnable time")
    if conditions.get("cpu_ms_per_iteration") is not None:
        parts.append(f"{fmt_ms(conditions['cpu_ms_per_iteration'])} CPU per iteration")
    if conditions.get("reference_ms") is not None:
        parts.append(f"reference kernel {fmt_ms(conditions['reference_ms'])}")
    if conditions.get("reference_mem_ms") is not None:
        parts.append(f"memory kernel {fmt_ms(conditions['reference_mem_ms'])}")
    return ", ".join(parts) or "no machine readings"


def detail_lines(row: ComparisonRow) -> list[tuple[str, str]]:
    """(label, text) lines under a strategy's table row."""
    lines = [("Compared over", row.get("span_words") or "–"),
             ("Memory", row.get("memory_in_words") or "–"),
             ("Latency", row.get("latency_in_words") or "–"),
             ("Machine", f"A: {_conditions_text(row.get('conditions_a'))}; "
                         f"B: {_conditions_text(row.get('conditions_b'))}")]
    if row.get("runs_a") or row.get("runs_b"):
        lines.insert(1, ("Runs", f"A: {', '.join(row.get('runs_a', []))}; B: {', '.join(row.get('runs_b', []))} "
                                 "(the machine lines are the medians over each side's runs)"))
    if row.get("differences"):
        lines.append(("Built differently", "; ".join(row["differences"])))
    return lines


def render_compare_markdown(comparison: Comparison) -> str:
    lines = ["## leakhunt comparison", "",
             f"A: {md_escape(comparison['run_a']['label'])}, B: {md_escape(comparison['run_b']['label'])}", ""]
    if comparison["run_differences"]:
        lines += ["**The runs differ in:** " + md_escape("; ".join(comparison["run_differences"])), ""]
    else:
        lines += ["The runs were made alike (iterations, stopping, warm-up, software, CPU and host).", ""]
    lines += ["| Strategy | Compared over | Verdict A → B | Memory | Latency |", "|---|---|---|---|---|"]
    for row in comparison["strategies"]:
        memory_moved, latency_moved = _is_moved(row)
        span = row.get("span")
        memory = MEMORY_LABELS.get(row.get("memory_outcome", ""), "–")
        latency = LATENCY_LABELS.get(row.get("latency_outcome", ""), "–")
        lines.append("| " + " | ".join([
            md_escape(row["name"]),
            f"iterations {span['first_iteration']}–{span['last_iteration']}" if span else "–",
            md_escape(f"{row['verdict_a']} → {row['verdict_b']}"),
            f"**{memory}**" if memory_moved else memory,
            f"**{latency}**" if latency_moved else latency,
        ]) + " |")
    for row in comparison["strategies"]:
        lines += ["", f"### {md_escape(row['name'])}", ""]
        lines += [f"- {label}: {md_escape(text)}" for label, text in detail_lines(row)]
    for names, label in ((comparison["only_in_a"], "Only in A"), (comparison["only_in_b"], "Only in B")):
        if names:
            lines += ["", f"{label}: " + ", ".join(md_escape(name) for name in names)]
    lines += ["", METHOD_TEXT, ""]
    return "\n".join(lines)


def render_compare_html(comparison: Comparison) -> str:
    from leakhunt.report.html import _environment

    rows = []
    for row in comparison["strategies"]:
        memory_moved, latency_moved = _is_moved(row)
        span = row.get("span")
        rows.append({
            "name": row["name"], "verdicts": f"{row['verdict_a']} → {row['verdict_b']}",
            "span": f"{span['first_iteration']}–{span['last_iteration']}" if span else "–",
            "memory": MEMORY_LABELS.get(row.get("memory_outcome", ""), "–"), "memory_moved": memory_moved,
            "latency": LATENCY_LABELS.get(row.get("latency_outcome", ""), "–"), "latency_moved": latency_moved,
            "details": detail_lines(row),
        })
    return _environment().get_template("compare.html.j2").render(
        rows=rows, run_a=comparison["run_a"], run_b=comparison["run_b"],
        run_differences=comparison["run_differences"], only_in_a=comparison["only_in_a"],
        only_in_b=comparison["only_in_b"], method=METHOD_TEXT)


def _run_info(run: rundir.RunData) -> RunInfo:
    record = RunRecord.from_json(run.meta)
    return {"label": run.folder.name, "started_utc": record.started_utc, "command_line": list(record.command_line)}


def _side_info(side: pathlib.Path, runs: list[rundir.RunData]) -> RunInfo:
    """The side as the top line names it: its run folder, or its folder of runs with their count."""
    if len(runs) == 1:
        return _run_info(runs[0])
    return {**_run_info(runs[0]), "label": f"{pathlib.Path(side).name} ({len(runs)} runs)"}


def _analysed(runs: list[rundir.RunData]) -> list[dict[str, RunOfSide]]:
    """Per run: strategy name -> that run's view of it."""
    result = []
    for run in runs:
        _, analyses = analyze_run(run)
        record = RunRecord.from_json(run.meta)
        result.append({analysis.name: RunOfSide(run.folder.name, analysis, strategy, record)
                       for analysis, strategy in zip(analyses, run.strategies, strict=True)})
    return result


def _in_every(runs: list[dict[str, RunOfSide]]) -> list[str]:
    return [name for name in runs[0] if all(name in run for run in runs[1:])]


def _differences(runs_a: list[rundir.RunData], runs_b: list[rundir.RunData]) -> list[str]:
    """A against B (first runs), then how the runs within a side were made differently."""
    records_a = [RunRecord.from_json(run.meta) for run in runs_a]
    records_b = [RunRecord.from_json(run.meta) for run in runs_b]
    found = run_differences(records_a[0], records_b[0])
    for side, records, runs in (("A", records_a, runs_a), ("B", records_b, runs_b)):
        for record, run in zip(records[1:], runs[1:], strict=True):
            found += [f"within {side}, {run.folder.name}: {line}" for line in run_differences(records[0], record)]
    return found


def compare_runs(run_a: pathlib.Path, run_b: pathlib.Path, out_dir: pathlib.Path | None = None,
                 formats=("md", "html")) -> Comparison:
    """Match strategies by name, compare them over their common span, write compare.md/.html to out_dir
    (default run_b). Each side is a run folder, or a folder of run folders (repeats of its code: latency is
    then judged against the spread between runs, analysis/repeated_latency.py)."""
    data_a = [rundir.read_run(folder) for folder in rundir.runs_of_side(pathlib.Path(run_a))]
    data_b = [rundir.read_run(folder) for folder in rundir.runs_of_side(pathlib.Path(run_b))]
    sides_a, sides_b = _analysed(data_a), _analysed(data_b)
    names_a, names_b = _in_every(sides_a), _in_every(sides_b)
    matched = [name for name in names_b if name in names_a]
    repeated = len(data_a) > 1 or len(data_b) > 1
    rows = []
    for name in matched:
        a_runs, b_runs = [runs[name] for runs in sides_a], [runs[name] for runs in sides_b]
        if repeated:
            rows.append(compare_repeated_strategy(a_runs, b_runs))
        else:
            rows.append(compare_strategy(a_runs[0].analysis, b_runs[0].analysis, a_runs[0].strategy,
                                         b_runs[0].strategy, a_runs[0].record, b_runs[0].record))
    built: Comparison = {
        "run_a": _side_info(run_a, data_a),
        "run_b": _side_info(run_b, data_b),
        "run_differences": _differences(data_a, data_b),
        "strategies": rows,
        "only_in_a": [name for name in names_a if name not in names_b],
        "only_in_b": [name for name in names_b if name not in names_a],
        "runs_a": [_run_info(run) for run in data_a],
        "runs_b": [_run_info(run) for run in data_b],
    }
    comparison: Comparison = to_jsonable(built)  # the same keys; numpy numbers and tuples made plain
    target = pathlib.Path(out_dir) if out_dir is not None else pathlib.Path(run_b)
    target.mkdir(parents=True, exist_ok=True)
    renderers = {"md": render_compare_markdown, "html": render_compare_html, "json": render_json}
    for name in formats:
        if name not in renderers:
            raise ValueError(f"unknown comparison format: {name}")
        write_text_atomic(target / COMPARE_FILES[name], renderers[name](comparison))
    return comparison
