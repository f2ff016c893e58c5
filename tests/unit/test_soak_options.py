"""One set of soak defaults: SoakOptions states them; `leakhunt soak`, `leakhunt.soak()` and the RunConfig the
runner gets agree with it (they disagreed before: RunConfig said until_decided False and warm-up 0)."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

from helpers import FAULTS
from leakhunt.api import SOAK_KEYWORDS, soak
from leakhunt.cli.app import soak as soak_command
from leakhunt.rundir.config import DEFAULT_SAMPLE_INTERVAL_S, RunConfig
from leakhunt.runner.soak_setup import build_run_config
from leakhunt.soak_options import DEFAULT_SOAK_OPTIONS, SoakOptions

DEFAULTS = {field.name: getattr(DEFAULT_SOAK_OPTIONS, field.name) for field in dataclasses.fields(SoakOptions)}
# The CLI's name for an option where it is not SoakOptions' (a repeatable --workload is one workload each).
CLI_NAMES = {"workloads": "workload", "labels": "label", "strategies": "strategy", "batches": "batch",
             "resizes": "resize", "gpu_memories": "gpu_memory", "show_progress": "progress"}
# Options whose "not given" the CLI spells None (typer's way for repeatable and optional-valued options).
CLI_NONE_MEANS_DEFAULT = {"workloads", "labels", "strategies", "batches", "resizes", "gpu_memories", "duration",
                          "iteration_timeout", "memory_limit", "ray_cpus_per_strategy"}


def test_the_api_takes_every_option_with_soak_options_defaults():
    parameters = inspect.signature(soak).parameters
    assert set(SOAK_KEYWORDS) == set(DEFAULTS) - {"workloads"}  # workloads are positional
    mismatched = {name: parameters[name].default for name in SOAK_KEYWORDS
                  if name != "command_line" and parameters[name].default != DEFAULTS[name]}
    assert not mismatched, mismatched


def test_the_cli_states_no_default_of_its_own_but_the_progress_bar():
    parameters = inspect.signature(soak_command).parameters
    mismatched = {}
    for name, default in DEFAULTS.items():
        if name == "command_line":
            continue
        cli_default = parameters[CLI_NAMES.get(name, name)].default
        if name in CLI_NONE_MEANS_DEFAULT and cli_default is None:
            continue
        expected = str(default) if isinstance(cli_default, str) else default
        if cli_default != expected:
            mismatched[name] = (cli_default, default)
    # A terminal command shows the bar; a library call does not.
    assert mismatched == {"show_progress": (True, False)}


def test_soak_options_sample_interval_is_the_run_folders():
    assert DEFAULT_SOAK_OPTIONS.sample_interval == DEFAULT_SAMPLE_INTERVAL_S
    assert {field.name: field.default for field in dataclasses.fields(RunConfig)}["sample_interval_s"] == \
        DEFAULT_SAMPLE_INTERVAL_S


def test_the_runner_gets_the_defaults_of_soak_options(tmp_path):
    config = build_run_config(SoakOptions(workloads=(f"{FAULTS}:flat",), out=tmp_path / "run"))
    assert (config.iterations, config.warmup_steps, config.until_decided) == (500, 10, True)
    assert (config.sample_interval_s, config.signal_every_steps, config.attribute) == (0.1, 0, "auto")
    assert config.command_line == ("leakhunt.soak()",) and not config.show_progress
    exact = build_run_config(SoakOptions(workloads=(f"{FAULTS}:flat",), out=tmp_path / "run", until_decided=False,
                                         warmup="0", iterations="20", duration=90))
    assert (exact.until_decided, exact.warmup_steps, exact.iterations, exact.duration_s) == (False, 0, 20, 90.0)


def test_run_config_has_no_soak_defaults_but_reads_old_folders():
    fields = {field.name: field for field in dataclasses.fields(RunConfig)}
    assert fields["warmup_steps"].default is dataclasses.MISSING
    assert fields["until_decided"].default is dataclasses.MISSING
    written = RunConfig(strategies=(), out_dir=Path("run"), iterations=5, warmup_steps=3, until_decided=True)
    old = {key: value for key, value in written.to_json().items() if key not in ("warmup_steps", "until_decided")}
    read = RunConfig.from_json(old)
    assert (read.warmup_steps, read.until_decided) == (0, False)  # what folders before until-decided meant



def test_the_pytest_fixture_names_an_unknown_option_in_one_line(tmp_path):
    import pytest

    from leakhunt.pytest_plugin import LeakCheck

    with pytest.raises(pytest.fail.Exception, match="leakhunt: unknown soak option 'warm_up'; known: .*warmup"):
        LeakCheck(tmp_path, "test_x")(f"{FAULTS}:flat", warm_up=5)
