"""Number formatting shared by the Markdown and HTML renderers (no judgement happens here)."""

from __future__ import annotations

from typing import Any

MISSING = "–"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fmt_bytes(value: Any, signed: bool = False) -> str:
    if not is_number(value):
        return MISSING
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(float(value))
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{sign}{size / scale:.1f} {unit}"
    return f"{sign}{size:.0f} B"


def fmt_rate(value: Any) -> str:
    """Bytes per iteration, in B or KiB so small and large leaks both read well."""
    if not is_number(value):
        return MISSING
    if abs(value) >= 10 * 1024:
        return f"{value / 1024:+.1f} KiB/iter"
    return f"{value:+.0f} B/iter"


def fmt_interval(pair: Any, scale: float = 1.0, digits: int = 0) -> str:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(is_number(v) for v in pair):
        return ""
    return f"[{pair[0] / scale:+.{digits}f}, {pair[1] / scale:+.{digits}f}]"


def fmt_slope_with_ci(slope: Any, ci: Any) -> str:
    if not is_number(slope):
        return MISSING
    interval = fmt_interval(ci)
    return f"{slope:+.0f} B/iter" + (f" {interval}" if interval else "")


def fmt_ms(value: Any) -> str:
    if not is_number(value):
        return MISSING
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def fmt_number(value: Any, digits: int = 3) -> str:
    if not is_number(value):
        return MISSING
    return f"{value:.{digits}g}"


def fmt_duration(seconds: Any) -> str:
    if not is_number(seconds):
        return MISSING
    for unit, scale in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds:.0f} s"


def fmt_count(value: Any) -> str:
    if not is_number(value):
        return MISSING
    return f"{int(value):,}"


def environment_line(environment: dict[str, Any]) -> str:
    """One line for a ticket: Python, TF, NumPy, CPU, RAM, OS, GPUs, driver."""
    parts = []
    for label, key in (("Python", "python"), ("TensorFlow", "tensorflow"), ("NumPy", "numpy")):
        if environment.get(key):
            parts.append(f"{label} {environment[key]}")
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


def iterations_text(entry: dict[str, Any]) -> str:
    """'5,000' for a full run; 'stopped at 212 of 5,000: settled' for one stopped by --until-decided."""
    done = fmt_count(entry.get("iterations_completed"))
    if not entry.get("stopped_early"):
        return done
    return f"stopped at {done}: settled"
