"""Rows of words for the renderers: the summary table and the recommendation, formatted once and shared by
report.html, summary.md and the terminal (each renderer only escapes and lays them out)."""

from __future__ import annotations

from typing import Any

from leakhunt.analysis.plateau_levels import Levels, levels_from_summary
from leakhunt.analysis.recommendation import Recommendation, recommend
from leakhunt.analysis.summary_types import StrategySummary, Summary
from leakhunt.report.formatting import (
    MISSING,
    change_text,
    fmt_bytes,
    fmt_ms,
    fmt_number,
    iterations_text,
    memory_text,
    versus_text,
)
from leakhunt.report.view_types import RecommendationView, SummaryRow, VersusItem

# One color per strategy (by its position in the run), the same in every chart and table swatch.
STRATEGY_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                   "#bcbd22", "#7f7f7f")


def strategy_color(index: int) -> str:
    return STRATEGY_COLORS[index % len(STRATEGY_COLORS)]


def all_levels(summary: Summary, levels: list[Levels | None] | None) -> list[Levels | None]:
    """The report's bounds where it computed them from the data, else what summary.json alone allows."""
    entries = summary.get("strategies", [])
    levels = list(levels or [])
    levels += [None] * (len(entries) - len(levels))
    return [given if given is not None else levels_from_summary(entry)
            for entry, given in zip(entries, levels, strict=False)]


def max_iterations(summary: Summary) -> Any:
    return ((summary.get("run") or {}).get("config") or {}).get("iterations")


def summary_row(entry: StrategySummary, levels: Levels | None, maximum: Any, rank: int | None,
                position: int | None = None) -> SummaryRow:
    latency = entry.get("latency_ms") or {}
    hints = entry.get("hints") or []
    return {
        "rank": rank,
        "index": int(entry.get("index", 0) or 0),
        "name": str(entry.get("name")),
        "verdict": str(entry.get("verdict")),
        "memory": memory_text(entry, levels),
        "bounded": levels is not None,
        "peak_rss": fmt_bytes(entry.get("peak_rss_bytes")),
        "peak_gpu": fmt_bytes(entry.get("peak_gpu_bytes")),
        "p50": fmt_ms(latency.get("p50")),
        "p99": fmt_ms(latency.get("p99")),
        "images_per_s": fmt_number(entry.get("images_per_s")),
        "iterations": iterations_text(entry, maximum),
        "hint": hints[0]["kind"].replace("_", " ") if hints else "",
        "color": strategy_color(int(entry.get("index", 0) or 0) if position is None else position),
    }


def summary_rows(summary: Summary, levels: list[Levels | None],
                 recommendation: Recommendation) -> list[SummaryRow]:
    """The summary table in ranking order (best first)."""
    entries = summary.get("strategies", [])
    maximum = max_iterations(summary)
    ranks = {ranked.index: ranked.rank for ranked in recommendation.ranking}
    rows = [summary_row(entry, levels[i], maximum, ranks.get(i), i) for i, entry in enumerate(entries)]
    return sorted(rows, key=lambda row: (row["rank"] is None, row["rank"] or 0))


def recommendation_view(summary: Summary, levels: list[Levels | None],
                        recommendation: Recommendation | None = None) -> RecommendationView:
    """Headline, one item per other strategy (figures, the code change) and the recommended code."""
    recommendation = recommendation or recommend(summary)
    entries = summary.get("strategies", [])
    best = recommendation.recommended
    if best is None:
        return {"recommended": None, "why_none": recommendation.why_none, "others": [], "headline": "",
                "headline_rest": "",
                "code": "", "custom": False, "ranking": [r.name for r in recommendation.ranking]}
    entry = entries[best.index]
    latency = entry.get("latency_ms") or {}
    facts = [best.verdict, f"{fmt_number(best.images_per_s)} images/s" if best.images_per_s else "",
             f"p50 {fmt_ms(latency.get('p50'))}" if latency.get("p50") is not None else "",
             f"peak RSS {fmt_bytes(best.peak_rss_bytes)}" if best.peak_rss_bytes is not None else ""]
    items: list[VersusItem] = []
    for versus in recommendation.versus:
        other = entries[versus.other.index]
        change = versus.change
        items.append({
            "name": versus.other.name,
            "verdict": versus.other.verdict,
            "memory": memory_text(other, levels[versus.other.index]),
            "figures": versus_text(versus, named=False),
            "change": change_text(change) if change is not None else "",
            "before_code": change.before_code if change is not None and change.advice else "",
            "color": strategy_color(versus.other.index),
        })
    # Against the last-ranked strategy: usually the pattern people came with (a leak, or the slowest).
    headline_rest = best.verdict
    if recommendation.versus:
        headline_rest += ", " + versus_text(recommendation.versus[-1], named=True)
    return {
        "recommended": best.name,
        "color": strategy_color(best.index),
        "facts": ", ".join(fact for fact in facts if fact),
        "headline": f"{best.name}: {headline_rest}",
        "headline_rest": headline_rest,
        "others": items,
        "code": str((entry.get("strategy") or {}).get("code_pattern") or "") if best.builtin else "",
        "custom": best.builtin is None,
        "any_change": any(item["change"] for item in items),
        "why_none": "",
        "ranking": [r.name for r in recommendation.ranking],
    }


__all__ = ["MISSING", "STRATEGY_COLORS", "all_levels", "max_iterations", "recommendation_view", "strategy_color",
           "summary_row", "summary_rows"]
