"""The rows the renderers lay out (report.html's templates, summary.md, the terminal), as TypedDicts: words
formatted once by views.py, html.py and attribution_view.py. Dicts because the Jinja2 templates read them."""

from __future__ import annotations

from typing import TypedDict

from markupsafe import Markup


class SummaryRow(TypedDict):
    """One strategy's line of the summary table."""

    rank: int | None
    index: int
    name: str
    verdict: str
    memory: str
    bounded: bool
    peak_rss: str
    peak_gpu: str
    p50: str
    p99: str
    images_per_s: str
    iterations: str
    hint: str
    color: str


class VersusItem(TypedDict):
    """The recommended strategy against one other: figures and the code change."""

    name: str
    verdict: str
    memory: str
    figures: str
    change: str
    before_code: str
    color: str


class _RecommendationBase(TypedDict):
    recommended: str | None
    why_none: str
    others: list[VersusItem]
    headline: str
    headline_rest: str
    code: str
    custom: bool
    ranking: list[str]


class RecommendationView(_RecommendationBase, total=False):
    """The recommendation's words; color, facts and any_change only when a strategy is recommended."""

    color: str
    facts: str
    any_change: bool


class FrameRow(TypedDict):
    where: str
    function: str
    code: str
    user: bool


class SiteRow(TypedDict):
    """One line of report.html's "Where it grows" table."""

    where: str
    path: str
    function: str
    code: str
    kind: str
    rate: str
    share: str
    detail: str
    stack: list[FrameRow]


class AttributionView(TypedDict):
    status: str
    done: bool
    sites: list[SiteRow]
    explained: str
    not_attributable: str
    not_attributable_share: str
    caches: list[str]
    cost: str
    length: str
    tracker_note: str


class MemoryRow(TypedDict):
    """One memory series' line of a strategy's table in report.html."""

    series: str
    verdict: str
    pattern: str
    slope: str
    early: str
    recent: str
    growth: str
    after_collections: str
    peak: str
    warmup_end: str


class HintRow(TypedDict):
    kind: str
    evidence: str
    advice: str


class StrategyView(TypedDict):
    """One strategy's section of report.html."""

    anchor: str
    name: str
    verdict: str
    verdict_reason: str
    color: str
    outcome: str
    description_outcome: str
    error_text: str | None
    traceback: str | None
    p50: str
    p90: str
    p99: str
    max: str
    images_per_s: str
    peak_rss: str
    peak_gpu: str
    iterations: str
    stop_line: str
    collections_line: str
    warmup_end: str
    drift: str
    drift_significant: bool
    hints: list[HintRow]
    more_iterations_needed: str
    projection: list[str]
    strategy_description: str
    code_pattern: str
    factory: str
    factory_kwargs: str
    memory_rows: list[MemoryRow]
    plot: Markup | None
    child_notes: list[str]
    attribution: AttributionView | None


class RunPlots(TypedDict):
    """report.html's inline SVG figures: one per strategy (None where it has no readings) and the overlay."""

    strategies: list[str | None]
    overlay: str | None
