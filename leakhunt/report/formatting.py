"""Words and numbers shared by the HTML, Markdown and terminal renderers (no judgement happens here).

Everything a person reads goes through leakhunt.units: binary prefixes with three significant digits,
milliseconds with sensible precision, never scientific notation. summary.json keeps raw bytes.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from leakhunt.analysis.summary_types import StrategySummary

if TYPE_CHECKING:  # rundir's package imports pandas
    from leakhunt.rundir.run_json import EnvironmentJson
from leakhunt.units import (
    human_amount,
    human_bytes,
    human_count,
    human_duration,
    human_factor,
    human_interval,
    human_ms,
    human_number,
    human_rate,
    three_digits,
)

MISSING = "–"
RANGE_DASH = "–"
SLOWER_AS_PERCENT_ABOVE = 0.5  # "23% fewer images/s" down to half the speed, then "9.83x fewer images/s"
SERIES_LABELS = {"rss": "RSS", "heap": "C heap", "py_blocks": "Python blocks", "tf_current": "TF allocator",
                 "rss_parent": "RSS (parent samples)", "uss": "USS", "gpu_process": "GPU (process)",
                 "gpu_used": "GPU (device)"}
# A float written in scientific notation (1.2e+03, 4E-05) inside analysis text.
_SCIENTIFIC = re.compile(r"(?<![\w.])([+-]?)(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fmt_bytes(value: Any, signed: bool = False) -> str:
    return human_bytes(float(value), signed) if is_number(value) else MISSING


def fmt_amount(value: Any, unit: str = "bytes", signed: bool = False) -> str:
    """Bytes in binary prefixes; counts (Python blocks) with thousands separated: '+112,955 blocks'."""
    if not is_number(value):
        return MISSING
    if unit == "bytes":
        return human_amount(float(value), unit, signed)
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{human_number(float(value))} {unit}"


def fmt_rate(value: Any, unit: str = "bytes") -> str:
    """Per iteration: '+392 KiB/iter', '+87.0 B/iter', '+1.00 blocks/iter', '+1,234 blocks/iter'."""
    if not is_number(value):
        return MISSING
    return human_rate(float(value), unit) if unit == "bytes" else f"{fmt_amount(value, unit, signed=True)}/iter"


def fmt_interval(pair: Any, unit: str = "bytes") -> str:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(is_number(v) for v in pair):
        return ""
    return human_interval(float(pair[0]), float(pair[1]), unit)


def fmt_slope_with_ci(slope: Any, ci: Any, unit: str = "bytes") -> str:
    """'+392 KiB/iter [+377, +405 KiB]'."""
    if not is_number(slope):
        return MISSING
    interval = fmt_interval(ci, unit)
    return fmt_rate(slope, unit) + (f" {interval}" if interval else "")


def fmt_ms(value: Any) -> str:
    return human_ms(float(value)) if is_number(value) else MISSING


def fmt_number(value: Any, digits: int = 3) -> str:
    """Three significant digits, thousands separated, no scientific notation (`digits` is kept for callers)."""
    return human_number(float(value)) if is_number(value) else MISSING


def fmt_factor(value: Any) -> str:
    return human_factor(float(value)) if is_number(value) else MISSING


def fmt_duration(seconds: Any) -> str:
    return human_duration(float(seconds)) if is_number(seconds) else MISSING


def fmt_count(value: Any) -> str:
    return human_count(float(value)) if is_number(value) else MISSING


def plain_numbers(text: Any) -> str:
    """Analysis text with any float in scientific notation rewritten plainly (1.2e+03 -> 1,200)."""
    def plain(match: re.Match) -> str:
        sign, mantissa, exponent = match.groups()
        return sign + human_number(float(f"{mantissa}e{exponent}"))

    return _SCIENTIFIC.sub(plain, str(text))


def environment_line(environment: EnvironmentJson) -> str:
    """One line for a ticket: Python, TF, NumPy, CPU, RAM, OS, GPUs, driver."""
    parts = []
    for label, version in (("Python", environment.get("python")), ("TensorFlow", environment.get("tensorflow")),
                           ("NumPy", environment.get("numpy"))):
        if version:
            parts.append(f"{label} {version}")
    if environment.get("cpu"):
        cores = environment.get("cpu_count_logical")
        parts.append(f"CPU {environment['cpu']}" + (f" ({cores} threads)" if cores else ""))
    ram = environment.get("ram_total_bytes") or environment.get("ram_bytes")
    if is_number(ram):
        parts.append(f"RAM {fmt_bytes(ram)}")
    if environment.get("os"):
        parts.append(str(environment["os"]))
    gpus = environment.get("gpus") or []
    names = [str(g.get("name", "GPU")) if isinstance(g, dict) else str(g) for g in gpus]
    parts.append("GPU " + ", ".join(names) if names else "no GPU")
    if environment.get("driver_version") or environment.get("driver"):
        parts.append(f"driver {environment.get('driver_version') or environment.get('driver')}")
    if environment.get("cuda"):
        parts.append(f"CUDA {environment['cuda']}")
    return "; ".join(parts)


def iterations_text(entry: StrategySummary, max_iterations: Any = None) -> str:
    """'ran to 5,000'; 'stopped at 212 of 5,000: settled' (--until-decided); 'ended at 40 of 5,000'."""
    done = fmt_count(entry.get("iterations_completed"))
    of_max = f" of {fmt_count(max_iterations)}" if is_number(max_iterations) and max_iterations > 0 else ""
    if entry.get("stopped_early"):
        return f"stopped at {done}{of_max}: settled"
    completed = entry.get("iterations_completed")
    reached = not of_max or (is_number(completed) and completed >= max_iterations)
    if reached and entry.get("verdict") not in ("crashed", "failed"):
        return f"ran to {done}"
    return f"ended at {done}{of_max}"


def levels_range(levels) -> str:
    """'2.31–3.07 GiB': both ends in the unit the larger one needs ('peak 3.13 GiB' when only that is known)."""
    if getattr(levels, "peak_only", False):
        return f"peak {fmt_amount(levels.high, levels.unit)}"
    if levels.unit != "bytes":
        return f"{human_number(levels.low)}{RANGE_DASH}{human_number(levels.high)} {levels.unit}"
    unit = human_bytes(levels.high).split(" ")[1]
    scale = {"GiB": 2**30, "MiB": 2**20, "KiB": 2**10}.get(unit, 1)
    low_value, high_value = three_digits(levels.low / scale), three_digits(levels.high / scale)
    for decimals in (1, 2, 3):  # a narrow band: more decimals until its two ends differ
        if low_value != high_value:
            break
        low_value, high_value = f"{levels.low / scale:.{decimals}f}", f"{levels.high / scale:.{decimals}f}"
    return f"{low_value}{RANGE_DASH}{high_value} {unit}"


def levels_detail(levels) -> str:
    """What the band looks like: 'releases up to 777 MiB every ~18 iterations', 'grew, then stopped'."""
    if levels.pattern.startswith("sawtooth") and levels.releases:
        size = "" if levels.release_size is None else f" ~{fmt_amount(levels.release_size, levels.unit)}"
        if levels.releases >= 2 and is_number(levels.period_iterations):
            return f"releases{size} every ~{fmt_count(levels.period_iterations)} iterations"
        return f"released{size} once"
    if levels.pattern == "stopped":
        return "grew, then stopped"
    if levels.pattern == "step":
        return "one step, level before and after"
    return "bounded"


def levels_text(levels, with_series: bool = True) -> str:
    """'2.31–3.07 GiB, releases ~650 MiB every ~18 iterations' (prefixed with the series if not RSS)."""
    series = "" if levels.series == "rss" or not with_series else f"{SERIES_LABELS.get(levels.series, levels.series)} "
    detail = levels_detail(levels)
    if detail == "bounded":
        return f"{series}bounded, {levels_range(levels)}"
    return f"{series}{levels_range(levels)}, {detail}"


def memory_text(entry: StrategySummary, levels=None) -> str:
    """The summary table's memory cell: a leak's slope, a plateau's bounds, a flat series' slope and floor."""
    memory_verdict = entry.get("memory_verdict", entry.get("verdict"))
    if memory_verdict == "plateau" and levels is not None:
        return levels_text(levels)
    deciding = entry.get("deciding_series")
    memory = entry.get("memory") or {}
    if memory_verdict == "leak" and deciding and deciding != "rss" and deciding in memory:
        values = memory[deciding]
        unit = str(values.get("unit") or "bytes")
        label = SERIES_LABELS.get(deciding, deciding)
        slope = fmt_slope_with_ci(values.get("slope_bytes_per_iter"), values.get("slope_ci95_bytes_per_iter"), unit)
        return f"{label} {slope}"
    rss_slope = entry.get("rss_slope_bytes_per_iter")
    if memory_verdict == "flat" and is_number(rss_slope):
        return f"{fmt_rate(rss_slope)}, within noise"
    return fmt_slope_with_ci(rss_slope, entry.get("rss_slope_ci95_bytes_per_iter"))


def speed_phrase(versus, named: bool = True) -> str:
    """'14.7x the images/s of tutorial', '12% fewer images/s than saved-model', 'about the same images/s'."""
    name = versus.other.name
    of, than = (f" of {name}", f" than {name}") if named else ("", "")
    if versus.speed_factor is None:
        return ""
    if versus.same_speed:
        return f"about the images/s{of}" if named else "about the same images/s"
    if versus.speed_factor >= 1:
        return f"{fmt_factor(versus.speed_factor)} the images/s{of}"
    if versus.speed_factor > SLOWER_AS_PERCENT_ABOVE:
        return f"{1 - versus.speed_factor:.0%} fewer images/s{than}"
    return f"{fmt_factor(1 / versus.speed_factor)} fewer images/s{than}"


def peak_phrase(versus) -> str:
    """'1.2 GiB less peak RSS', '45 MiB more peak RSS', 'the same peak RSS'."""
    saved = versus.peak_rss_saved_bytes
    if saved is None:
        return ""
    if versus.same_peak:
        return "the same peak RSS"
    return f"{fmt_bytes(abs(saved))} {'less' if saved > 0 else 'more'} peak RSS"


def versus_text(versus, named: bool = True) -> str:
    """'14.7x the images/s of tutorial, 1.2 GiB less peak RSS'."""
    parts = [part for part in (speed_phrase(versus, named), peak_phrase(versus)) if part]
    return ", ".join(parts) or "no figures to compare"


def axis_changes_text(change) -> str:
    """'batch size 1 → 8, resize none → fixed:640x640'."""
    return ", ".join(f"{label} {before} → {after}" for label, before, after in change.axis_changes)


def change_text(change) -> str:
    """The words of a code change, with the axes to change."""
    parts = [change.advice] if change.advice else []
    axes = axis_changes_text(change)
    if axes:
        parts.append(f"Settings: {axes}.")
    return " ".join(parts)
