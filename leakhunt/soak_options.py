"""What a soak is asked to do, as given: one frozen SoakOptions with every default stated here, once.

`leakhunt soak` builds one from its options (their defaults are these), `leakhunt.soak()` from its keyword
arguments (the same defaults), and runner/soak_setup.py checks it and turns it into the RunConfig the runner
runs. Values stay as the user gave them (a count may be "500" or 500, a size "4GiB" or bytes): parsing them,
and the one-line error for a bad one, is soak_setup's job. Imports nothing of leakhunt, so the CLI can read
the defaults for its --help at no cost.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SoakOptions:
    """A soak's options by their Python names; the CLI's `--name-with-dashes` are the same options."""

    # What runs: custom workloads ("FILE.py:FUNC" / "module:FUNC"), named by `labels`, and built-in strategies
    # (by default the comparison set, when no workload is given) on the embedded model or `model`.
    workloads: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    preset: str | None = None
    model: str | None = None
    batches: tuple[str, ...] = ()
    resizes: tuple[str, ...] = ()
    gpu_memories: tuple[str, ...] = ()
    device: str | None = None
    images: str | None = None
    seed: int | str = 0
    # How long: measured iterations per strategy (the most, when until_decided), an optional time limit per
    # strategy ("30m", or seconds), and the warm-up steps run before measuring (recorded separately).
    iterations: int | str = 500
    duration: float | str | None = None
    warmup: int | str = 10
    # Stop each strategy once its verdict is settled (False: run exactly `iterations`, the CLI's --exact).
    until_decided: bool = True
    # Where: the run folder (default reports/<UTC timestamp>/), written into even if not empty with `force`.
    out: Path | None = None
    force: bool = False
    # How it is measured: the parent's sampling interval (seconds; RunConfig's DEFAULT_SAMPLE_INTERVAL_S, which
    # also stands in for run folders that lack it: a unit test holds the two equal) and the child's own
    # readings every K iterations ("auto": K on a time budget).
    sample_interval: float | str = 0.1
    signal_every: int | str = "auto"
    # Exit code 1 when a leak faster than `leak_threshold` bytes per iteration is found.
    fail_on_leak: bool = False
    leak_threshold: float | str = 0
    # Limits: a step slower than `iteration_timeout` seconds is a hang; `memory_limit` ("4GiB", or bytes)
    # caps the child's memory.
    iteration_timeout: float | str | None = None
    memory_limit: int | str | None = None
    redact_paths: bool = False
    # The live progress bar: off for a library call; `leakhunt soak` turns it on unless --no-progress.
    show_progress: bool = False
    # Where strategies run: "local", or "ray" (a cluster at `ray_address`, or a local instance).
    backend: str = "local"
    ray_address: str | None = None
    ray_cpus_per_strategy: int | str | None = None
    # "auto": a second pass names the source lines of each leak; "off" skips it.
    attribute: str = "auto"
    # Recorded in run.json: how the soak was started.
    command_line: tuple[str, ...] = ("leakhunt.soak()",)


DEFAULT_SOAK_OPTIONS = SoakOptions()
SOAK_OPTION_NAMES = tuple(field.name for field in dataclasses.fields(SoakOptions))
