"""summary.md: a short Markdown summary to paste into a GitHub issue, the recommendation first.

It stays under MAX_BYTES for a 4-strategy run: when the full text is longer, the least needed parts go
first (hint advice, the recommended code, the details), never the recommendation or the table.
"""

from __future__ import annotations

import html
import re
from typing import Any

from leakhunt.analysis.attribution_types import SiteSummary
from leakhunt.analysis.plateau_levels import Levels
from leakhunt.analysis.recommendation import recommend
from leakhunt.analysis.summary_types import StrategySummary, Summary
from leakhunt.report.attribution_view import MD_SITES, share_text, where, where_lines
from leakhunt.report.formatting import environment_line, fmt_count, fmt_rate, plain_numbers
from leakhunt.report.view_types import RecommendationView
from leakhunt.report.views import all_levels, recommendation_view, summary_rows

MAX_BYTES = 4000  # a ticket comment, not a report: report.html has the rest


def md_escape(text: Any) -> str:
    """Safe inside a Markdown table cell: HTML escaped, pipes escaped, one line."""
    value = html.escape(str(text), quote=False)
    value = value.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    value = value.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")
    return re.sub(r"\s+", " ", value).strip()


def code_block(text: str, language: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _shell_join(parts: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(str(part)) for part in parts)


def _recommendation_lines(view: RecommendationView, with_code: bool) -> list[str]:
    if view["recommended"] is None:
        ranking = ", ".join(md_escape(name) for name in view["ranking"])
        return [f"**No recommendation:** {md_escape(view['why_none'])}." + (f" Ranking: {ranking}." if ranking else "")]
    lines = [f"**Use {md_escape(view['recommended'])}** ({md_escape(view['facts'])})."]
    for item in view["others"]:
        line = f"- vs {md_escape(item['name'])} ({md_escape(item['verdict'])}): {md_escape(item['figures'])}."
        if item["change"]:
            line += f" Change: {md_escape(item['change'])}"
        lines.append(line)
    if with_code and view["code"]:
        lines += ["", code_block(view["code"], "python")]
    if view["custom"] and view["others"]:
        lines += ["", "_Custom workloads: ranking and figures only, no code advice._"]
    return lines


def _detail_lines(entry: StrategySummary, with_advice: bool) -> list[str]:
    name = md_escape(entry.get("name"))
    lines = [f"- **{name}**: {md_escape(plain_numbers(entry.get('verdict_reason')))}"]
    if entry.get("verdict") in ("crashed", "failed"):
        lines.append(f"  - {md_escape(entry.get('outcome'))}: {md_escape(entry.get('description'))}")
        if entry.get("error_text"):
            lines.append(f"  - error: {md_escape(entry.get('error_text'))}")
    for note in (entry.get("child") or {}).get("notes") or []:
        lines.append(f"  - note: {md_escape(note)}")
    collections = entry.get("full_collections")
    collections_note = collections.get("note") if collections else None
    if collections_note:
        lines.append(f"  - note: {md_escape(collections_note)}")
    for hint in entry.get("hints", []):
        line = f"  - hint ({md_escape(hint.get('kind'))}): {md_escape(plain_numbers(hint.get('evidence')))}."
        if with_advice:
            line += f" {md_escape(hint.get('advice'))}"
        lines.append(line)
    if entry.get("more_iterations_needed"):
        lines.append(f"  - roughly {fmt_count(entry['more_iterations_needed'])} more iterations would decide")
    return lines


def _md_site(site: SiteSummary) -> str:
    """'  - `serve.py:41` +72.0 KiB/iter (94%, native): `x = tf.image.random_flip_left_right(x)`'."""
    code = str(site.get("code") or "").strip().replace("`", "'")
    line = (f"  - `{where(site)}` {fmt_rate(site.get('bytes_per_iter'))} "
            f"({share_text(site.get('share'))}, {md_escape(site.get('kind'))})")
    return line + (f": `{code}`" if code else "")


def _where_lines(strategies: list[StrategySummary], sites: int, with_detail: bool) -> list[str]:
    """Under each leaking strategy, the lines that keep the memory (the attribution pass), the top one's
    detail (what grows there, and the fix for a retracing function) when there is room."""
    lines = []
    for entry in strategies:
        found = where_lines(entry, sites)
        if not found:
            continue
        attribution = entry.get("attribution") or {}
        listed = (attribution.get("sites") or [])[:sites]
        lines.append(f"- **{md_escape(entry.get('name'))}**")
        lines += [_md_site(site) for site in listed]
        if with_detail and listed and listed[0].get("detail"):
            lines.append(f"    - {md_escape(listed[0]['detail'])}")
        if not listed or attribution.get("not_attributable"):
            lines.append(f"  - {md_escape(found[-1])}")
    return ["### Where it grows", ""] + lines + [""] if lines else []


def _render(summary: Summary, levels: list[Levels | None], with_code: bool, with_advice: bool,
            with_details: bool) -> str:
    strategies = summary.get("strategies", [])
    run = summary.get("run", {})
    recommendation = recommend(summary)
    view = recommendation_view(summary, levels, recommendation)
    lines = ["## leakhunt summary", ""]
    lines += _recommendation_lines(view, with_code) + [""]
    leaks = [s for s in strategies if s.get("memory_verdict") == "leak"]
    if leaks:
        lines.append(f"**Leak found** in {len(leaks)} of {len(strategies)} strategies.")
    else:
        lines.append(f"No leak found in {len(strategies)} strategies.")
    if run.get("interrupted"):
        lines += ["", "_The run was interrupted; results cover what was measured._"]
    if run.get("hosts_note"):
        lines += ["", f"**Several hosts:** {md_escape(run['hosts_note'])}."]
    gpu = any(entry.get("peak_gpu_bytes") is not None for entry in strategies)
    lines += ["", "| # | Strategy | Verdict | Memory | p50 / p99 | images/s | Peak RSS | "
              + ("Peak GPU | " if gpu else "") + "Iterations |", "|---" * (9 if gpu else 8) + "|"]
    for row in summary_rows(summary, levels, recommendation):
        cells = [str(row["rank"] or ""), md_escape(row["name"]), f"**{md_escape(row['verdict'])}**",
                 md_escape(row["memory"]), md_escape(f"{row['p50']} / {row['p99']}"),
                 md_escape(row["images_per_s"]), md_escape(row["peak_rss"])]
        cells += [md_escape(row["peak_gpu"])] if gpu else []
        lines.append("| " + " | ".join(cells + [md_escape(row["iterations"])]) + " |")
    lines.append("")
    lines += _where_lines(strategies, MD_SITES if with_details else 1, with_advice)
    if with_details:
        details = [line for entry in strategies for line in _detail_lines(entry, with_advice)]
        if details:
            lines += ["### Details", ""] + details + [""]
    lines.append(f"**Environment:** {md_escape(environment_line(run.get('environment') or {}))}")
    command = run.get("command_line") or []
    if command:
        lines += ["", "**Command:**", "", code_block(_shell_join(command))]
    lines += ["", "_Full report with plots: report.html in the run folder._", ""]
    return "\n".join(lines)


def render_markdown(summary: Summary, levels: list[Levels | None] | None = None) -> str:
    levels = all_levels(summary, levels)
    text = ""
    # Most to least complete; the first that fits wins (the last one is returned whatever its size).
    for with_advice, with_code, with_details in ((True, True, True), (False, True, True), (False, False, True),
                                                 (False, False, False)):
        text = _render(summary, levels, with_code, with_advice, with_details)
        if len(text.encode("utf-8")) <= MAX_BYTES:
            return text
    return text
