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

from leakhunt.errors import BadInputError, LeakhuntError

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
        raise typer.Exit(3) from None


@app.command()
def soak(
    workload: Annotated[Optional[list[str]], typer.Option(
        "--workload", "-w", help="Custom workload FILE.py:FUNC or package.module:FUNC (repeatable). "
        "FUNC() returns step() or an object with step() and close().")] = None,
    label: Annotated[Optional[list[str]], typer.Option(
        help="Name for each --workload, in order (default <file stem>:<FUNC>).")] = None,
    strategy: Annotated[Optional[list[str]], typer.Option(
        "--strategy", "-s", help="Built-in strategies, repeatable or comma list (see `leakhunt strategies`). "
        "Default when no --workload is given: the default comparison set.")] = None,
    preset: Annotated[Optional[str], typer.Option(help="Embedded model preset: tiny, small or full.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Your own model: a frozen .pb or a SavedModel folder.")] = None,
    batch: Annotated[Optional[list[str]], typer.Option(help="Batch sizes, e.g. 1,4,8.")] = None,
    resize: Annotated[Optional[list[str]], typer.Option(
        help="Resizing before the feed: none, thumbnail:600, fixed:640x640.")] = None,
    gpu_memory: Annotated[Optional[list[str]], typer.Option(
        help="GPU memory settings: default, growth, fraction:0.7.")] = None,
    device: Annotated[Optional[str], typer.Option(help="Explicit placement: cpu or gpu.")] = None,
    images: Annotated[Optional[str], typer.Option(help="Folder of your own images (default: a bundled photo).")] = None,
    seed: Annotated[str, typer.Option(help="Seed of the embedded model's random weights.")] = "0",
    iterations: Annotated[str, typer.Option("--iterations", "-n", help="Measured iterations per strategy.")] = "500",
    duration: Annotated[Optional[str], typer.Option(
        help="Time limit per strategy, e.g. 90s, 30m (whichever of this and --iterations comes first).")] = None,
    warmup: Annotated[str, typer.Option(help="Iterations run before measuring starts (recorded separately).")] = "10",
    out: Annotated[Optional[Path],
                   typer.Option(help="Run folder to create (default reports/<UTC timestamp>/).")] = None,
    force: Annotated[bool, typer.Option(help="Write into an existing non-empty --out folder.")] = False,
    sample_interval: Annotated[str, typer.Option(help="Seconds between parent memory samples.")] = "0.1",
    signal_every: Annotated[str, typer.Option(
        help="The child reads its own memory (RSS, C heap, Python blocks, TF allocator) every K iterations; "
        "'auto' chooses K on a 1% time budget from the step time.")] = "auto",
    fail_on_leak: Annotated[bool, typer.Option(help="Exit 1 if any strategy is judged a leak.")] = False,
    leak_threshold: Annotated[str, typer.Option(
        help="With --fail-on-leak: only leaks faster than this many bytes per iteration count.")] = "0",
    iteration_timeout: Annotated[Optional[str], typer.Option(
        help="Kill the child and report a hang if one iteration takes longer than this many seconds.")] = None,
    memory_limit: Annotated[Optional[str], typer.Option(
        help="Cap the child's memory (e.g. 4GiB): a memory cgroup where possible, else the parent kills it when "
        "its RSS passes the cap; reported as out of memory at iteration k.")] = None,
    redact_paths: Annotated[bool, typer.Option(help="Replace home folders and user names in every output.")] = False,
    progress: Annotated[bool, typer.Option(help="Show the live progress bar.")] = True,
    until_decided: Annotated[bool, typer.Option(
        "--until-decided/--exact",
        help="Stop each strategy as soon as its verdict is settled (the default; --iterations and --duration "
        "are then the maximum), or run exactly --iterations.")] = True,
) -> None:
    """Run each strategy in its own child process, sample its memory, judge it, and write a report."""
    from leakhunt.api import soak as run_soak

    with cli_errors():
        result = run_soak(
            *(workload or []), strategies=strategy or [], iterations=iterations, out=out, labels=label or [],
            preset=preset, model=model, batches=batch or [], resizes=resize or [], gpu_memories=gpu_memory or [],
            device=device, images=images, seed=seed, duration=duration, warmup=warmup, force=force,
            sample_interval=sample_interval, signal_every=signal_every, fail_on_leak=fail_on_leak,
            leak_threshold=leak_threshold, iteration_timeout=iteration_timeout, memory_limit=memory_limit,
            redact_paths=redact_paths, show_progress=progress, until_decided=until_decided,
            # argv[0] is a path to the script or to __main__.py; the user typed `leakhunt`.
            command_line=("leakhunt", *sys.argv[1:]),
        )
        from leakhunt import runner

        for line in runner.summary_lines(result.summary):
            typer.echo(line)
        typer.echo(f"leakhunt: report {result.run_dir / 'report.html'}")
        for problem in result.bad_workload_errors:
            _err(problem)
    raise typer.Exit(result.exit_code)


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
    from leakhunt.options import split_values

    formats = split_values(values) or ["json", "md", "html"]
    for name in formats:
        if name not in ("json", "md", "html"):
            raise BadInputError(f"--format must be html, md or json, got '{name}'")
    return tuple(dict.fromkeys(formats))


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="The 'before' run folder.")],
    run_b: Annotated[Path, typer.Argument(help="The 'after' run folder.")],
    out: Annotated[Optional[Path], typer.Option(help="Folder for compare.md/compare.html (default RUN_B).")] = None,
) -> None:
    """Per-strategy deltas of slope and latency between two runs, and which differences are significant."""
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
        from leakhunt.doctor import render_json, render_table, run_doctor

        findings = run_doctor(check_gpu=gpu_probe)
        typer.echo(render_json(findings) if json_output else render_table(findings))


def _mount_model_commands() -> None:
    try:
        from leakhunt.cli_model import model_app
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
