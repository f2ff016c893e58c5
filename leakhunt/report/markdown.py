"""summary.md: a short Markdown summary to paste into a GitHub issue."""

from __future__ import annotations

import html
import re
from typing import Any

from leakhunt.report.formatting import (environment_line, fmt_bytes, fmt_count, fmt_ms, fmt_number,
                                        fmt_slope_with_ci, iterations_text)


def md_escape(text: Any) -> str:
    """Safe inside a Markdown table cell: HTML escaped, pipes escaped, one line."""
    value = html.escape(str(text), quote=False)
    value = value.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    value = value.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")
    return re.sub(r"\s+", " ", value).strip()


def code_block(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _shell_join(parts: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(str(part)) for part in parts)


def render_markdown(summary: dict[str, Any]) -> str:
    strategies = summary.get("strategies", [])
    run = summary.get("run", {})
    lines = ["## leakhunt summary", ""]
    leaks = [s for s in strategies if s.get("memory_verdict") == "leak"]
    if leaks:
        lines.append(f"**Leak found** in {len(leaks)} of {len(strategies)} strategies.")
    else:
        lines.append(f"No leak found in {len(strategies)} strategies.")
    if run.get("interrupted"):
        lines.append("")
        lines.append("_The run was interrupted; results cover what was measured._")
    lines += ["", "| Strategy | Verdict | RSS slope [95% CI] | RSS growth | p50 / p99 | images/s | Peak RSS | "
              "Peak GPU | Iterations |", "|---|---|---|---|---|---|---|---|---|"]
    for entry in strategies:
        latency = entry.get("latency_ms") or {}
        lines.append("| " + " | ".join([
            md_escape(entry.get("name")),
            f"**{md_escape(entry.get('verdict'))}**",
            md_escape(fmt_slope_with_ci(entry.get("rss_slope_bytes_per_iter"),
                                        entry.get("rss_slope_ci95_bytes_per_iter"))),
            md_escape(fmt_bytes(entry.get("rss_growth_bytes"), signed=True)),
            md_escape(f"{fmt_ms(latency.get('p50'))} / {fmt_ms(latency.get('p99'))}"),
            md_escape(fmt_number(entry.get("images_per_s"))),
            md_escape(fmt_bytes(entry.get("peak_rss_bytes"))),
            md_escape(fmt_bytes(entry.get("peak_gpu_bytes"))),
            md_escape(iterations_text(entry)),
        ]) + " |")
    lines.append("")
    details = []
    for entry in strategies:
        name = md_escape(entry.get("name"))
        details.append(f"- **{name}**: {md_escape(entry.get('verdict_reason'))}")
        if entry.get("stopped_early"):
            details.append(f"  - {md_escape(entry.get('stop_reason'))}; the verdict covers "
                           f"{md_escape(entry.get('verdict_covers'))}")
        if entry.get("verdict") in ("crashed", "failed"):
            details.append(f"  - {md_escape(entry.get('outcome'))}: {md_escape(entry.get('description'))}")
            if entry.get("error_text"):
                details.append(f"  - error: {md_escape(entry.get('error_text'))}")
        for note in (entry.get("child") or {}).get("notes") or []:
            details.append(f"  - note: {md_escape(note)}")
        for hint in entry.get("hints", []):
            details.append(f"  - hint ({md_escape(hint.get('kind'))}): {md_escape(hint.get('evidence'))}. "
                           f"{md_escape(hint.get('advice'))}")
        if entry.get("more_iterations_needed"):
            details.append(f"  - roughly {fmt_count(entry['more_iterations_needed'])} more iterations would decide")
    if details:
        lines += ["### Details", ""] + details + [""]
    lines.append(f"**Environment:** {md_escape(environment_line(run.get('environment') or {}))}")
    command = run.get("command_line") or []
    if command:
        lines += ["", "**Command:**", "", code_block(_shell_join(command))]
    lines.append("")
    return "\n".join(lines)
