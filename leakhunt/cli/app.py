"""The typer app: options in, one core call out, LeakhuntError -> one line on stderr and its exit code."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from leakhunt.cli import soak as opts
from leakhunt.errors import EXIT_INTERNAL_ERROR, BadInputError, LeakhuntError
from leakhunt.soak_options import DEFAULT_SOAK_OPTIONS as _D
from leakhunt.soak_options import SoakOptions

app = typer.Typer(
    help="leakhunt: find memory leaks and latency drift in TensorFlow inference, one strategy per child process.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _err(message: str) -> None:
    typer.echo(f"leakhunt: error: {message}", err=True)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn LeakhuntError into one line + exit code; an unexpected bug into one line + a saved traceback."""
    try:
        yield
    except LeakhuntError as error:
        _err(str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise typer.Exit(error.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - last resort: a bug must not spill a traceback at the user
        with tempfile.NamedTemporaryFile("w", prefix="leakhunt-crash-", suffix=".txt", delete=False) as handle:
            handle.write(traceback.format_exc())
        _err(f"internal error {type(error).__name__}: {error} (traceback saved to {handle.name}; please report it)")
        raise typer.Exit(EXIT_INTERNAL_ERROR) from None


@app.command()
def soak(
    workload: opts.WorkloadOption = None,
    label: opts.LabelOption = None,
    strategy: opts.StrategyOption = None,
    preset: opts.PresetOption = _D.preset,
    model: opts.ModelOption = _D.model,
    batch: opts.BatchOption = None,
    resize: opts.ResizeOption = None,
    gpu_memory: opts.GpuMemoryOption = None,
    device: opts.DeviceOption = _D.device,
    images: opts.ImagesOption = _D.images,
    seed: opts.SeedOption = str(_D.seed),
    iterations: opts.IterationsOption = str(_D.iterations),
    duration: opts.DurationOption = None,
    warmup: opts.WarmupOption = str(_D.warmup),
    out: opts.OutOption = _D.out,
    force: opts.ForceOption = _D.force,
    sample_interval: opts.SampleIntervalOption = str(_D.sample_interval),
    signal_every: opts.SignalEveryOption = str(_D.signal_every),
    fail_on_leak: opts.FailOnLeakOption = _D.fail_on_leak,
    leak_threshold: opts.LeakThresholdOption = str(_D.leak_threshold),
    iteration_timeout: opts.IterationTimeoutOption = None,
    memory_limit: opts.MemoryLimitOption = None,
    redact_paths: opts.RedactPathsOption = _D.redact_paths,
    # The one default the command states itself: a terminal shows the bar; a library call (SoakOptions) does not.
    progress: opts.ProgressOption = True,
    until_decided: opts.UntilDecidedOption = _D.until_decided,
    backend: opts.BackendOption = _D.backend,
    ray_address: opts.RayAddressOption = _D.ray_address,
    ray_cpus_per_strategy: opts.RayCpusPerStrategyOption = None,
    attribute: opts.AttributeOption = _D.attribute,
) -> None:
    """Run each strategy in its own child process, sample its memory, judge it, and write a report."""
    options = SoakOptions(
        workloads=tuple(workload or ()), labels=tuple(label or ()), strategies=tuple(strategy or ()), preset=preset,
        model=model, batches=tuple(batch or ()), resizes=tuple(resize or ()), gpu_memories=tuple(gpu_memory or ()),
        device=device, images=images, seed=seed, iterations=iterations, duration=duration, warmup=warmup, out=out,
        force=force, sample_interval=sample_interval, signal_every=signal_every, fail_on_leak=fail_on_leak,
        leak_threshold=leak_threshold, iteration_timeout=iteration_timeout, memory_limit=memory_limit,
        redact_paths=redact_paths, show_progress=progress, until_decided=until_decided, backend=backend,
        ray_address=ray_address, ray_cpus_per_strategy=ray_cpus_per_strategy, attribute=attribute,
        # argv[0] is a path to the script or to __main__.py; the user typed `leakhunt`.
        command_line=("leakhunt", *sys.argv[1:]))
    with cli_errors():
        exit_code = opts.run_soak_command(options, _err)
    raise typer.Exit(exit_code)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `leakhunt soak`.")],
    format: Annotated[Optional[list[str]], typer.Option(
        "--format", "-f", help="html, md or json (repeatable; default all three).")] = None,
    redact_paths: Annotated[bool, typer.Option(help="Replace home folders and user names in every output.")] = False,
) -> None:
    """Rebuild summary.json, summary.md and report.html from a run folder on disk (no TensorFlow needed)."""
    with cli_errors():
        from leakhunt.rundir import require_run_folder

        formats = _parse_formats(format)
        require_run_folder(run_dir)
        from leakhunt.report.build import build_outputs

        build_outputs(run_dir, formats=formats, redact_paths=redact_paths)
        for name in formats:
            typer.echo(str(run_dir / {"json": "summary.json", "md": "summary.md", "html": "report.html"}[name]))


def _parse_formats(values: Optional[list[str]]) -> tuple[str, ...]:
    from leakhunt.runner.values import split_values

    formats = split_values(values) or ["json", "md", "html"]
    for name in formats:
        if name not in ("json", "md", "html"):
            raise BadInputError(f"--format must be html, md or json, got '{name}'")
    return tuple(dict.fromkeys(formats))


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="The 'before' run folder, or a folder of several (repeats).")],
    run_b: Annotated[Path, typer.Argument(help="The 'after' run folder, or a folder of several (repeats).")],
    out: Annotated[Optional[Path], typer.Option(help="Folder for compare.md/compare.html (default RUN_B).")] = None,
) -> None:
    """Per-strategy deltas of slope and latency between two runs, and which differences are significant.
    Give each side as a folder of 3-5 run folders of its code (repeats) to tell a change under ~25% from the
    spread between two processes of the same code."""
    with cli_errors():
        from leakhunt.report.compare import compare_runs

        comparison = compare_runs(run_a, run_b, out_dir=out)
        target = out or run_b
        typer.echo(str(target / "compare.md"))
        typer.echo(str(target / "compare.html"))
        del comparison


@app.command("strategies")
def list_strategies() -> None:
    """List the built-in strategies, what they stand for, and the code pattern each one runs."""
    with cli_errors():
        from leakhunt.strategies.registry import DEFAULT_COMPARISON, STRATEGIES

        for name, info in STRATEGIES.items():
            marker = " (default set)" if name in DEFAULT_COMPARISON else ""
            typer.echo(f"{name} [{info.api}]{marker}\n    {info.description}")
            for line in info.code_pattern.strip().splitlines():
                typer.echo(f"      | {line}")
            typer.echo("")


@app.command()
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    gpu_probe: Annotated[bool, typer.Option(
        help="Start a short TensorFlow child that allocates on the GPU to test NVML attribution.")] = True,
) -> None:
    """What this machine can measure before a long soak: versions, GPUs (TF vs NVML), per-process GPU
    attribution, allocator and heap counters, memory cgroups, sampler costs. Exits 0 unless leakhunt is broken."""
    with cli_errors():
        from leakhunt.runner.doctor import render_json, render_table, run_doctor

        findings = run_doctor(check_gpu=gpu_probe)
        typer.echo(render_json(findings) if json_output else render_table(findings))


def _mount_model_commands() -> None:
    try:
        from leakhunt.cli.model import model_app
    except ImportError:
        return  # the model sub-commands are optional until leakhunt.models is installed
    app.add_typer(model_app, name="model", help="Inspect or export the embedded Mask R-CNN model.")


_mount_model_commands()


def main() -> None:
    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) would bury leakhunt's own lines; errors still
    # show. A user's explicit setting wins, and run.json records the value the children ran with.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
