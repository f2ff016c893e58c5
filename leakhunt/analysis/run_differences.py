"""What differs between two runs besides the code under test: how they were asked to run (iterations,
stopping, warm-up), the software (TensorFlow, Python, NumPy), the host and its CPU, and per strategy the
factory and its arguments (a preset, a batch size). `leakhunt compare` lists these at the top: a latency
change between a TF 2.15 run and a TF 2.16 run is the upgrade's, not the fix's."""

from __future__ import annotations

from typing import Any

from leakhunt.rundir.config import RunConfigJson
from leakhunt.rundir.records import RunRecord

# (label, where in run.json: section and key); compared as written, missing on either side is not a difference.
_CONFIG_FIELDS = (("iterations", "iterations"), ("time limit (s)", "duration_s"), ("warm-up steps", "warmup_steps"),
                  ("reading period (steps, 0 = auto)", "signal_every_steps"),
                  ("parent sample interval (s)", "sample_interval_s"), ("backend", "backend"))
_ENVIRONMENT_FIELDS = (("TensorFlow", "tensorflow"), ("Python", "python"), ("NumPy", "numpy"), ("CPU", "cpu"),
                       ("logical CPUs", "cpu_count_logical"), ("OS", "os"), ("host", "host_id"))


def _stopping(config: RunConfigJson) -> str | None:
    value = config.get("until_decided")
    if not isinstance(value, bool):
        return None
    return "until decided" if value else "exact (every iteration)"


def _text(value: Any) -> str:
    return "none" if value is None else str(value)


def _difference(label: str, value_a: Any, value_b: Any) -> str | None:
    if value_a is None or value_b is None or value_a == value_b:
        return None
    return f"{label}: {_text(value_a)} → {_text(value_b)}"


def run_differences(run_a: RunRecord, run_b: RunRecord) -> list[str]:
    """Run-level differences, as "what: A → B" lines (empty when the runs were made alike)."""
    found = [_difference(label, run_a.config.get(key), run_b.config.get(key)) for label, key in _CONFIG_FIELDS]
    found.append(_difference("stopping", _stopping(run_a.config), _stopping(run_b.config)))
    found += [_difference(label, run_a.environment.get(key), run_b.environment.get(key))
              for label, key in _ENVIRONMENT_FIELDS]
    gpus_a = [gpu.get("name") for gpu in run_a.environment.get("gpus") or [] if isinstance(gpu, dict)]
    gpus_b = [gpu.get("name") for gpu in run_b.environment.get("gpus") or [] if isinstance(gpu, dict)]
    if gpus_a != gpus_b and "gpus" in run_a.environment and "gpus" in run_b.environment:
        found.append(f"GPUs: {', '.join(map(str, gpus_a)) or 'none'} → {', '.join(map(str, gpus_b)) or 'none'}")
    return [line for line in found if line]


def _kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    value = spec.get("factory_kwargs")
    return value if isinstance(value, dict) else {}


def strategy_differences(spec_a: dict[str, Any], spec_b: dict[str, Any], tf_version_a: str | None = None,
                         tf_version_b: str | None = None) -> list[str]:
    """How one matched strategy was built differently: its factory, each argument (preset, batch, ...), and
    the TensorFlow its child loaded."""
    found = [_difference("factory", spec_a.get("factory"), spec_b.get("factory"))]
    kwargs_a = _kwargs(spec_a)
    kwargs_b = _kwargs(spec_b)
    for key in sorted(set(kwargs_a) | set(kwargs_b), key=str):
        value_a, value_b = kwargs_a.get(key), kwargs_b.get(key)
        if value_a != value_b:
            found.append(f"{key}: {_text(value_a)} → {_text(value_b)}")
    found.append(_difference("TensorFlow in the child", tf_version_a, tf_version_b))
    return [line for line in found if line]
