"""The attribution pass's raw series (attribution.json) -> its sites: one per user line, with Python, native,
unseen-native, graph-op and retracing evidence combined, each judged a leak site, a cache, or neither.

Pure: dicts in, dicts out (the summary's plain values). How a site's kind and detail read is decided here;
the renderers only format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from leakhunt.analysis.attribution_fit import SiteGrowth, fit_site, site_floor, total_series
from leakhunt.analysis.attribution_witness import UnseenGrowth, unseen_growth
from leakhunt.rundir.attribution_records import RetracingRecord, StackFrame, TfFunctionRecord

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import AttributionJson, GraphSiteRecord, SiteRecord, WitnessLineRecord

PYTHON_KINDS = ("python", "python_small")
NATIVE_KINDS = ("native", "native_mmap")
HEAP_KINDS = ("native", "python")  # what glibc's heap holds (small Python objects live in pymalloc's arenas)
OPS_FLOOR_PER_ITER = 0.01  # an op (or a trace) every hundred calls is still growth without end
SESSION_RUN_FILE = "client/session.py"  # memory Session.run keeps for a fetch it has not seen


@dataclass
class Site:
    """One user line while it is assembled."""

    file: str
    line: int
    function: str | None
    code: str
    bytes_by_kind: dict[str, list[float | None]] = field(default_factory=dict)
    stack: list[StackFrame] = field(default_factory=list)
    traced_code: StackFrame | None = None
    growth: SiteGrowth | None = None
    unseen_bytes_per_iter: float = 0.0
    unseen_half_width: float = 0.0
    ops: SiteGrowth | None = None
    op_types: dict[str, int] = field(default_factory=dict)
    retracing: RetracingRecord | None = None
    merged: list[tuple["Site", float]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.line)

    def bytes_per_iter(self) -> float:
        own = 0.0 if self.growth is None else self.growth.slope_bytes_per_iter
        return own + self.unseen_bytes_per_iter + sum(rate for _, rate in self.merged)


def _site_of(entry: SiteRecord | WitnessLineRecord | GraphSiteRecord | TfFunctionRecord,
             key: tuple[str, int] | None = None) -> Site:
    """The Site of an attribution.json record's line (or of `key`, where the record's own line is not it)."""
    file, line = (str(entry.get("file")), int(entry.get("line") or 0)) if key is None else key
    return Site(file, line, entry.get("function"), str(entry.get("code") or ""))


def _slope(iterations: Sequence[float], series: Sequence[float | None]) -> float:
    fit = fit_site(iterations, series)
    return 0.0 if fit is None else fit.slope_bytes_per_iter


def _tracked_sites(raw: AttributionJson, iterations: list[float]) -> dict[tuple[str, int], Site]:
    sites: dict[tuple[str, int], Site] = {}
    for entry in raw.get("sites") or []:
        site = _site_of(entry)
        site.bytes_by_kind = {kind: list(values) for kind, values in (entry.get("bytes") or {}).items()}
        site.stack = list(entry.get("stack") or [])
        site.traced_code = entry.get("traced_code")
        site.growth = fit_site(iterations, total_series(list(site.bytes_by_kind.values())))
        sites[site.key] = site
    return sites


def _add_unseen(sites: dict[tuple[str, int], Site], raw: AttributionJson, iterations: list[float],
                floor: float) -> UnseenGrowth:
    heap = {key: total_series([site.bytes_by_kind[kind] for kind in HEAP_KINDS if kind in site.bytes_by_kind])
            for key, site in sites.items()}
    witness = list(raw.get("witness_lines") or [])
    heap_slope = _slope(iterations, [reading.get("heap_bytes") for reading in raw.get("checkpoints") or []])
    tracked_slope = sum(_slope(iterations, series) for series in heap.values())
    unseen = unseen_growth(witness, heap, iterations, floor, heap_slope - tracked_slope)
    described = {(str(line.get("file")), int(line.get("line") or 0)): line for line in witness}
    for key, rate in unseen.by_line.items():
        if key not in sites:
            sites[key] = _site_of(described[key])
        sites[key].unseen_bytes_per_iter = rate
        sites[key].unseen_half_width = unseen.half_widths.get(key, 0.0)
    return unseen


def _add_graph_ops(sites: dict[tuple[str, int], Site], raw: AttributionJson, iterations: list[float]) -> None:
    for entry in raw.get("tf_graph") or []:
        site = sites.get((str(entry.get("file")), int(entry.get("line") or 0)))
        if site is None:
            site = sites.setdefault((str(entry.get("file")), int(entry.get("line") or 0)), _site_of(entry))
        site.ops = fit_site(iterations, entry.get("ops") or [])
        site.op_types = dict(entry.get("op_types") or {})


def _add_retracing(sites: dict[tuple[str, int], Site], raw: AttributionJson, iterations: list[float]) -> None:
    functions: list[TfFunctionRecord] = raw.get("tf_functions") or []  # as the attribution child wrote them
    for entry in functions:
        key = (str(entry.get("file")), int(entry.get("line") or 0))
        if key[1] == 0:
            key = (str(entry.get("def_file")), int(entry.get("def_line") or 0))
        site = sites.setdefault(key, _site_of(entry, key))
        traces = entry.get("traces")
        fit = fit_site(iterations, traces) if traces else None
        site.retracing = {**entry, "traces_per_iter": None if fit is None else fit.slope_bytes_per_iter}


def _evidence_grows(fit: SiteGrowth | None) -> bool:
    return fit is not None and fit.is_leak(OPS_FLOOR_PER_ITER)


def _is_leak_site(site: Site, floor: float) -> bool:
    if site.line == 0:
        return False
    grows = site.growth is not None and site.growth.is_leak(floor)
    retraces = site.retracing is not None and (site.retracing.get("traces_per_iter") or 0) >= OPS_FLOOR_PER_ITER
    return grows or site.unseen_bytes_per_iter >= floor or _evidence_grows(site.ops) or retraces


def _merge_session_state(leaks: list[Site]) -> list[Site]:
    """Memory Session.run keeps for fetches it has not seen is charged to the line that made the new ops."""
    graph_sites = [site for site in leaks if _evidence_grows(site.ops)]
    if not graph_sites:
        return leaks
    owner = max(graph_sites, key=lambda site: site.ops.slope_bytes_per_iter if site.ops else 0.0)
    kept = []
    for site in leaks:
        runs_session = any(str(frame.get("file", "")).endswith(SESSION_RUN_FILE) for frame in site.stack)
        if site is not owner and runs_session and site.ops is None and site.retracing is None:
            owner.merged.append((site, site.bytes_per_iter()))
        else:
            kept.append(site)
    return kept


@dataclass(frozen=True)
class SiteJudgement:
    leaks: list[Site]
    caches: list[Site]
    unseen: UnseenGrowth
    no_user_frame_bytes_per_iter: float


def judge_sites(raw: AttributionJson, iterations: list[float], strategy_growth: float | None) -> SiteJudgement:
    """Every site of the pass: leak sites (largest first), caches, and the growth no line can be given."""
    floor = site_floor(strategy_growth)
    sites = _tracked_sites(raw, iterations)
    unseen = _add_unseen(sites, raw, iterations, floor)
    _add_graph_ops(sites, raw, iterations)
    _add_retracing(sites, raw, iterations)
    leaks = [site for site in sites.values() if _is_leak_site(site, floor)]
    leaks = _merge_session_state(leaks)
    leaks.sort(key=lambda site: -site.bytes_per_iter())
    caches = [site for site in sites.values() if site.line > 0 and site not in leaks
              and not any(site is merged for owner in leaks for merged, _ in owner.merged)
              and site.growth is not None and site.growth.is_cache(floor, max(iterations[-1], 1.0))]
    nowhere = next((site for site in sites.values() if site.line == 0), None)
    nowhere_rate = 0.0 if nowhere is None or nowhere.growth is None else nowhere.growth.slope_bytes_per_iter
    return SiteJudgement(leaks, caches, unseen, nowhere_rate)


def kind_rates(site: Site, iterations: list[float]) -> tuple[float, float]:
    """(python bytes/iter, native bytes/iter incl. unseen) of a site."""
    python = sum(_slope(iterations, site.bytes_by_kind[kind]) for kind in PYTHON_KINDS if kind in site.bytes_by_kind)
    native = sum(_slope(iterations, site.bytes_by_kind[kind]) for kind in NATIVE_KINDS if kind in site.bytes_by_kind)
    native += site.unseen_bytes_per_iter
    return python, native
