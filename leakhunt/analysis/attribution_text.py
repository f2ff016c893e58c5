"""The words of an attribution site: its kind ("python", "native", "tf-graph", "tf-function") and the one-line
detail a reader acts on (how much of it is Python or native, the ops it adds, the argument that retraces)."""

from __future__ import annotations

import os

from leakhunt.analysis.attribution_sites import OPS_FLOOR_PER_ITER, Site
from leakhunt.analysis.attribution_types import PassSlopes
from leakhunt.analysis.attribution_witness import UnseenGrowth
from leakhunt.rundir.attribution_records import RetracingRecord, VaryingArgument
from leakhunt.units import human_bytes, human_rate

MAX_OP_TYPES_SHOWN = 3


def site_kind(site: Site, python: float, native: float) -> str:
    if site.retracing is not None:
        return "tf-function"
    if site.ops is not None and site.ops.slope_bytes_per_iter >= OPS_FLOOR_PER_ITER:
        return "tf-graph"
    return "native" if native >= python else "python"


def _where(file: str, line: int) -> str:
    return f"{os.path.basename(file)}:{line}"


def _per_call(count: float, noun: str) -> str:
    return f"+{count:.3g} {noun}{'' if abs(count - 1) < 0.005 else 's'} per call"


def _ops_text(site: Site) -> str:
    assert site.ops is not None
    total = sum(site.op_types.values()) or 1
    rate = site.ops.slope_bytes_per_iter
    types = sorted(site.op_types.items(), key=lambda item: -item[1])[:MAX_OP_TYPES_SHOWN]
    shown = ", ".join(f"{rate * count / total:.3g} {name}" for name, count in types)
    more = ", ..." if len(site.op_types) > MAX_OP_TYPES_SHOWN else ""
    return f"{_per_call(rate, 'graph op')} ({shown}{more}) created here: build them once, outside the step"


def _varying_text(varying: list[VaryingArgument]) -> str:
    if not varying:
        return "its signatures do not show which argument differs"
    parts = []
    for argument in varying[:2]:
        if argument.get("kind") == "tensor":
            parts.append(f"`{argument['argument']}` has a new shape or dtype ({', '.join(argument['examples'])})")
        else:
            parts.append(f"`{argument['argument']}` is a new Python {argument.get('kind')} each trace "
                         f"({', '.join(argument['examples'])})")
    return "; ".join(parts)


def _retracing_text(retracing: RetracingRecord) -> str:
    rate = retracing.get("traces_per_iter")
    traced = _per_call(rate, "trace") if rate else f"{retracing.get('tracing_count')} traces"
    advice = ("pass tensors instead of Python values, or give the tf.function an input_signature "
              "(or reduce_retracing=True)")
    return (f"tf.function {retracing.get('name')}: {traced}, {retracing.get('concrete_functions')} concrete "
            f"functions kept; {_varying_text(list(retracing.get('varying') or []))}: {advice}")


def _bytes_split(python: float, native: float, unseen: float) -> str:
    parts = []
    if python >= 1:
        parts.append(f"Python {human_rate(python)}")
    if native - unseen >= 1:
        parts.append(f"native {human_rate(native - unseen)}")
    if unseen >= 1:
        parts.append(f"native {human_rate(unseen)} that no allocation tracker saw (the C heap grew while this "
                     "line ran: malloc through ctypes or an allocator of its own)")
    return ", ".join(parts)


def site_detail(site: Site, python: float, native: float) -> str:
    parts = []
    if site.retracing is not None:
        parts.append(_retracing_text(site.retracing))
    if site.ops is not None and site.ops.slope_bytes_per_iter >= OPS_FLOOR_PER_ITER:
        parts.append(_ops_text(site))
    split = _bytes_split(python, native, site.unseen_bytes_per_iter)
    if split:
        parts.append(split)
    for other, rate in site.merged:
        parts.append(f"incl. {human_rate(rate)} that Session.run keeps for the new ops "
                     f"({_where(other.file, other.line)}: {other.code})")
    if site.traced_code:
        parts.append(f"allocated while tracing {_where(site.traced_code['file'], site.traced_code['line'])}")
    return "; ".join(parts)


def cache_detail(site: Site) -> str:
    grew = 0.0 if site.growth is None else site.growth.growth_bytes
    return f"grew by {human_bytes(grew)} early in the pass, then stopped: a cache or a warm-up, not a leak"


def unattributed_detail(rate: float, unseen: UnseenGrowth, no_user_frame: float,
                        pass_slopes: PassSlopes) -> str:
    parts = [f"native, not attributable: {human_rate(rate)} of the growth is not tied to a line of your code"]
    if unseen.total_bytes_per_iter >= 1 and not unseen.by_line:
        lines = ", ".join(_where(file, line) for file, line in unseen.candidates[:3])
        parts.append(f"the C heap grew by {human_rate(unseen.total_bytes_per_iter)} more than the tracker saw "
                     + (f"(lines that may hold it: {lines})" if lines else "(no single line holds it)"))
    if no_user_frame >= 1:
        parts.append(f"{human_rate(no_user_frame)} was allocated with no frame of your code on the stack "
                     "(TensorFlow's own threads or caches)")
    rss, heap = pass_slopes.get("rss_slope_bytes_per_iter"), pass_slopes.get("heap_slope_bytes_per_iter")
    if rss is not None and heap is not None and rss > 2 * max(heap, 1.0):
        parts.append(f"in this pass RSS grew {human_rate(rss)} but the C heap in use only {human_rate(heap)}: "
                     "free memory the allocator keeps (fragmentation) is not held by any line")
    return "; ".join(parts)
