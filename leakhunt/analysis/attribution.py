"""The summary's `attribution` field of one strategy: where its leak is (docs/summary-schema.md).

From the attribution pass's files (attribution.json written by its child, attribution-status.json by the
parent) and the verdict pass's judgement. Pure: dicts in, a plain dict out; `leakhunt report` rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from leakhunt.analysis.attribution_fit import fit_site, site_floor
from leakhunt.analysis.attribution_sites import Site, judge_sites, kind_rates
from leakhunt.analysis.attribution_text import cache_detail, site_detail, site_kind, unattributed_detail
from leakhunt.analysis.attribution_types import (
    AttributionCost,
    AttributionFindings,
    AttributionSummary,
    NotAttributable,
    PassSlopes,
    RetracingSummary,
    SiteSummary,
)
from leakhunt.rundir.attribution_records import RetracingRecord

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import (
        AttributionJson,
        AttributionStatusJson,
        CheckpointRecord,
        PassTiming,
        PlanJson,
    )

MAX_SITES = 8  # the report lists the largest sites; the rest is summed in the share they leave unexplained
MAX_CACHES = 5


@dataclass(frozen=True)
class AttributionContext:
    """What the verdict pass decided, for this strategy's attribution entry."""

    attribute: str  # the run's --attribute: "auto" or "off"
    memory_verdict: str | None
    strategy_growth_bytes_per_iter: float | None  # the deciding series' slope (bytes) of the verdict pass
    verdict_wall_s: float | None
    verdict_peak_rss_bytes: float | None


def _skipped(context: AttributionContext) -> str:
    if context.attribute == "off":
        return "skipped: --attribute off"
    if context.memory_verdict != "leak":
        return f"skipped: the verdict is {context.memory_verdict or 'unknown'}, not a leak"
    return "skipped: no attribution pass in this run folder"


def _status(raw: AttributionJson | None, status: AttributionStatusJson | None, context: AttributionContext) -> str:
    if status is None and raw is None:
        return _skipped(context)
    if raw is not None and raw.get("error"):
        return f"failed: {raw['error']}"
    if status is not None and status.get("outcome") not in (None, "done"):
        return f"failed: {status.get('reason') or status.get('outcome')}"
    if raw is None:
        return "failed: the attribution child wrote no attribution.json"
    return "done"


def _iterations(raw: AttributionJson) -> list[float]:
    return [float(reading.get("iteration", 0)) for reading in raw.get("checkpoints") or []]


def _site_entry(site: Site, iterations: list[float], growth: float | None) -> SiteSummary:
    rate = site.bytes_per_iter()
    python, native = kind_rates(site, iterations)
    fit = site.growth
    # Conservative: the tracked bytes' and the witness's intervals added (they are measured separately).
    tracked_half = 0.0 if fit is None else (fit.ci95_bytes_per_iter[1] - fit.ci95_bytes_per_iter[0]) / 2
    half = site.unseen_half_width + tracked_half
    return {
        "kind": site_kind(site, python, native), "file": site.file, "line": site.line, "function": site.function,
        "code": site.code, "bytes_per_iter": rate, "ci95_bytes_per_iter": [rate - half, rate + half],
        "share": rate / growth if growth and growth > 0 else None, "detail": site_detail(site, python, native),
        "python_bytes_per_iter": python, "native_bytes_per_iter": native,
        "unseen_native_bytes_per_iter": site.unseen_bytes_per_iter or None,
        "ops_per_iter": None if site.ops is None else site.ops.slope_bytes_per_iter,
        "op_types": dict(sorted(site.op_types.items(), key=lambda item: -item[1])) or None,
        "retracing": _retracing_entry(site.retracing),
        "merged_from": [{"file": other.file, "line": other.line, "code": other.code, "bytes_per_iter": merged_rate}
                        for other, merged_rate in site.merged] or None,
        "stack": site.stack, "traced_code": site.traced_code,
    }


def _retracing_entry(retracing: RetracingRecord | None) -> RetracingSummary | None:
    if retracing is None:
        return None
    return {"name": retracing.get("name"), "def_file": retracing.get("def_file"),
            "def_line": retracing.get("def_line"), "traces_per_iter": retracing.get("traces_per_iter"),
            "tracing_count": retracing.get("tracing_count"), "concrete_functions": retracing.get("concrete_functions"),
            "varying": retracing.get("varying")}


def _pass_slope(readings: list[CheckpointRecord], iterations: list[float],
                series: Literal["rss_bytes", "heap_bytes"]) -> float | None:
    fit = fit_site(iterations, [reading.get(series) for reading in readings])
    return None if fit is None else fit.slope_bytes_per_iter


def _pass_slopes(raw: AttributionJson, iterations: list[float]) -> PassSlopes:
    readings = raw.get("checkpoints") or []
    return {"rss_slope_bytes_per_iter": _pass_slope(readings, iterations, "rss_bytes"),
            "heap_slope_bytes_per_iter": _pass_slope(readings, iterations, "heap_bytes")}


def _plan(status: AttributionStatusJson | None) -> PlanJson | None:
    return None if status is None else status.get("plan")


def _plan_why(status: AttributionStatusJson | None) -> str | None:
    plan = _plan(status)
    return plan.get("why") if plan else None


def _cost(raw: AttributionJson, status: AttributionStatusJson | None, context: AttributionContext) -> AttributionCost:
    timing: PassTiming = raw.get("timing_s") or {}
    plan = _plan(status)
    step_ms = plan.get("step_ms") if plan else None
    tracked_steps = max(int(raw.get("iterations") or 0), 1)
    tracked_ms = 1e3 * float(timing.get("tracked") or 0.0) / tracked_steps
    return {"wall_s": None if status is None else status.get("wall_s"),
            "peak_rss_bytes": None if status is None else status.get("peak_rss_bytes"),
            "verdict_pass_wall_s": context.verdict_wall_s,
            "verdict_pass_peak_rss_bytes": context.verdict_peak_rss_bytes,
            "tracked_step_ms": tracked_ms, "untracked_step_ms": step_ms,
            "slowdown": tracked_ms / step_ms if step_ms else None, "phases_s": timing}


def _done_fields(raw: AttributionJson, status: AttributionStatusJson | None,
                 context: AttributionContext) -> tuple[list[SiteSummary], AttributionFindings]:
    iterations = _iterations(raw)
    growth = context.strategy_growth_bytes_per_iter
    judged = judge_sites(raw, iterations, growth)
    sites = [_site_entry(site, iterations, growth) for site in judged.leaks[:MAX_SITES]]
    explained = sum(site["bytes_per_iter"] for site in sites)
    left = (growth - explained) if growth else None
    floor = site_floor(growth)
    not_attributable: NotAttributable | None = None
    if left is not None and left >= floor:
        not_attributable = {"bytes_per_iter": left, "share": left / growth if growth else None,
                            "detail": unattributed_detail(left, judged.unseen, judged.no_user_frame_bytes_per_iter,
                                                          _pass_slopes(raw, iterations))}
    return sites, {
        "explained_share": explained / growth if growth and growth > 0 else None,
        "not_attributable": not_attributable,
        "caches": [{"file": site.file, "line": site.line, "function": site.function, "code": site.code,
                    "grew_bytes": None if site.growth is None else site.growth.growth_bytes,
                    "detail": cache_detail(site)} for site in judged.caches[:MAX_CACHES]],
        "tracker": raw.get("tracker"), "tracker_note": raw.get("tracker_note"), "witness": raw.get("witness"),
        "checkpoints": len(iterations), "warmup_steps": raw.get("warmup_steps"),
        "stop_reason": raw.get("stop_reason"), "pass": _pass_slopes(raw, iterations),
        "length_reason": _plan_why(status), "cost": _cost(raw, status, context),
    }


def attribution_entry(raw: AttributionJson | None, status: AttributionStatusJson | None,
                      context: AttributionContext) -> AttributionSummary:
    """summary.json's `attribution` of one strategy (fields in the order docs/summary-schema.md lists them)."""
    state = _status(raw, status, context)
    cost_s = None if status is None else status.get("wall_s")
    if state != "done" or raw is None:
        return {"status": state, "iterations": None, "cost_s": cost_s, "sites": []}
    sites, found = _done_fields(raw, status, context)
    return {"status": state, "iterations": raw.get("iterations"), "cost_s": cost_s, "sites": sites, **found}
