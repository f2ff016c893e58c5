"""The terminal summary after a soak: one line per strategy in human units, then the recommendation.

    leak         tutorial: +392 KiB/iter [+377, +405 KiB], ran to 150, p50 1,022 ms, 0.934 images/s
    plateau      reset-graph: 2.31–3.07 GiB, releases up to 777 MiB every ~18 iterations, ran to 150, ...
  recommended: persistent (flat, 20.4 images/s, p50 49.0 ms, peak RSS 1.02 GiB)
    vs tutorial (leak): 21.8x the images/s, 1.02 GiB less peak RSS
"""

from __future__ import annotations

from leakhunt.analysis.plateau_levels import Levels
from leakhunt.analysis.recommendation import recommend
from leakhunt.analysis.summary_types import Summary
from leakhunt.report.attribution_view import where_lines
from leakhunt.report.formatting import fmt_count, fmt_ms, fmt_number, iterations_text, memory_text
from leakhunt.report.views import all_levels, max_iterations, recommendation_view

TERMINAL_SITES = 2  # the attribution's top sites under a leaking strategy; the report has the rest


def terminal_summary_lines(summary: Summary, levels: list[Levels | None] | None = None) -> list[str]:
    """A compact text summary (the report has the full picture). `levels` are the bounds the report
    computed from the readings; without them, plateau bounds come from summary.json's levels."""
    entries = summary.get("strategies", [])
    levels = all_levels(summary, levels)
    maximum = max_iterations(summary)
    lines = []
    for entry, level in zip(entries, levels, strict=False):
        latency = entry.get("latency_ms") or {}
        parts = [memory_text(entry, level), iterations_text(entry, maximum), f"p50 {fmt_ms(latency.get('p50'))}"]
        if entry.get("images_per_s") is not None:
            parts.append(f"{fmt_number(entry.get('images_per_s'))} images/s")
        line = f"  {str(entry.get('verdict', '?')):<12} {entry.get('name')}: " + ", ".join(parts)
        if entry.get("verdict") == "inconclusive" and entry.get("more_iterations_needed"):
            line += f" (roughly {fmt_count(entry['more_iterations_needed'])} more iterations would decide)"
        lines.append(line)
        lines += [f"  {'':<12} {where}" for where in where_lines(entry, TERMINAL_SITES)]
    if len(entries) > 1:
        view = recommendation_view(summary, levels, recommend(summary))
        if view["recommended"] is None:
            lines.append(f"  no recommendation: {view['why_none']}")
        else:
            lines.append(f"  recommended: {view['recommended']} ({view['facts']})")
            lines += [f"    vs {item['name']} ({item['verdict']}): {item['figures']}" for item in view["others"]]
    return lines
