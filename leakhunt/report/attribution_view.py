"""The attribution field of a strategy, formatted for the outputs: a "Where it grows" table (report.html),
the top sites as `file:line` and their code (summary.md, the terminal). Formats only: the numbers and the
details were decided in leakhunt/analysis/attribution.py."""

from __future__ import annotations

import os
from typing import Any

from leakhunt.analysis.attribution_types import AttributionSummary, CacheSummary, SiteSummary
from leakhunt.analysis.summary_types import StrategySummary
from leakhunt.report.formatting import fmt_bytes, fmt_duration, fmt_factor, fmt_rate, fmt_slope_with_ci, is_number
from leakhunt.report.view_types import AttributionView, FrameRow, SiteRow
from leakhunt.rundir.attribution_records import StackFrame

MAX_STACK_FRAMES_SHOWN = 12  # the user's frames first; library frames below them up to this many in all
MD_SITES = 3  # summary.md is a ticket comment: the top sites only (report.html lists them all)


def where(site: SiteSummary | CacheSummary) -> str:
    """'serve.py:41' (the file's name only: the full path is in report.html's stack)."""
    return f"{os.path.basename(str(site.get('file') or '?'))}:{site.get('line')}"


def share_text(share: Any) -> str:
    return f"{share:.0%}" if is_number(share) else "-"


def _frame_row(frame: StackFrame) -> FrameRow:
    return {"where": f"{frame.get('file')}:{frame.get('line')}", "function": str(frame.get("function") or ""),
            "code": str(frame.get("code") or ""), "user": bool(frame.get("user"))}


def _stack_rows(site: SiteSummary) -> list[FrameRow]:
    frames = [frame for frame in site.get("stack") or [] if isinstance(frame, dict)]
    return [_frame_row(frame) for frame in frames[:MAX_STACK_FRAMES_SHOWN]]


def _site_row(site: SiteSummary) -> SiteRow:
    return {"where": where(site), "path": f"{site.get('file')}:{site.get('line')}",
            "function": str(site.get("function") or ""), "code": str(site.get("code") or ""),
            "kind": str(site.get("kind") or ""),
            "rate": fmt_slope_with_ci(site.get("bytes_per_iter"), site.get("ci95_bytes_per_iter")),
            "share": share_text(site.get("share")), "detail": str(site.get("detail") or ""),
            "stack": _stack_rows(site)}


def cost_text(attribution: AttributionSummary) -> str:
    """'second pass (memray): 31 s, peak RSS 812 MiB; verdict pass: 3.2 min, peak RSS 790 MiB; ...'."""
    cost = attribution.get("cost")
    if cost is None:
        return f"second pass ({attribution.get('tracker')}): {fmt_duration(None)}, peak RSS {fmt_bytes(None)}"
    parts = [f"second pass ({attribution.get('tracker')}): {fmt_duration(cost.get('wall_s'))}, "
             f"peak RSS {fmt_bytes(cost.get('peak_rss_bytes'))}"]
    if is_number(cost.get("verdict_pass_wall_s")):
        parts.append(f"verdict pass: {fmt_duration(cost.get('verdict_pass_wall_s'))}, "
                     f"peak RSS {fmt_bytes(cost.get('verdict_pass_peak_rss_bytes'))}")
    if is_number(cost.get("slowdown")):
        parts.append(f"a tracked step took {fmt_factor(cost.get('slowdown'))} an untracked one (checkpoints included)")
    return "; ".join(parts)


def attribution_view(entry: StrategySummary) -> AttributionView | None:
    """What report.html shows under a strategy; None when there is nothing to say (no leak, attribution off)."""
    attribution = entry.get("attribution") or {}
    status = str(attribution.get("status") or "")
    if not status or (status.startswith("skipped") and entry.get("memory_verdict") != "leak"):
        return None
    done = status == "done"
    unexplained = attribution.get("not_attributable")
    return {
        "status": status, "done": done, "sites": [_site_row(site) for site in attribution.get("sites") or []],
        "explained": share_text(attribution.get("explained_share")),
        "not_attributable": "" if not unexplained else str(unexplained.get("detail") or ""),
        "not_attributable_share": share_text(None if not unexplained else unexplained.get("share")),
        "caches": [f"{where(cache)} {cache.get('code') or ''}: {cache.get('detail')}"
                   for cache in attribution.get("caches") or []],
        "cost": cost_text(attribution) if done else "",
        "length": str(attribution.get("length_reason") or ""),
        "tracker_note": str(attribution.get("tracker_note") or ""),
    }


def site_line(site: SiteSummary) -> str:
    """One line per site for text outputs: 'serve.py:41 (94%, native) +72.0 KiB/iter: <code>'."""
    code = str(site.get("code") or "").strip()
    return (f"{where(site)} ({share_text(site.get('share'))}, {site.get('kind')}) "
            f"{fmt_rate(site.get('bytes_per_iter'))}" + (f": {code}" if code else ""))


def where_lines(entry: StrategySummary, limit: int = MD_SITES) -> list[str]:
    """The top sites of a leaking strategy as text lines, or its attribution status when there are none."""
    attribution = entry.get("attribution") or {}
    if entry.get("memory_verdict") != "leak" or not attribution:
        return []
    sites = attribution.get("sites") or []
    if attribution.get("status") != "done":
        return [f"where: {attribution.get('status')}"]
    lines = [f"where: {site_line(site)}" for site in sites[:limit]]
    unexplained = attribution.get("not_attributable")
    if unexplained:
        lines.append(f"not attributable: {fmt_rate(unexplained.get('bytes_per_iter'))} "
                     f"({share_text(unexplained.get('share'))})")
    return lines or ["where: no line of your code keeps a growing share of it"]
