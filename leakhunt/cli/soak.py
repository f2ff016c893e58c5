"""`leakhunt soak`'s options (typer annotations, shared so the command's signature stays one line per option)
and the command's body: build the run, print the summary, return the exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from leakhunt.soak_options import SoakOptions

WorkloadOption = Annotated[Optional[list[str]], typer.Option(
    "--workload", "-w", help="Custom workload FILE.py:FUNC or package.module:FUNC (repeatable). "
    "FUNC() returns step() or an object with step() and close().")]
LabelOption = Annotated[Optional[list[str]], typer.Option(
    help="Name for each --workload, in order (default <file stem>:<FUNC>).")]
StrategyOption = Annotated[Optional[list[str]], typer.Option(
    "--strategy", "-s", help="Built-in strategies, repeatable or comma list (see `leakhunt strategies`). "
    "Default when no --workload is given: the default comparison set.")]
PresetOption = Annotated[Optional[str], typer.Option(help="Embedded model preset: tiny, small or full.")]
ModelOption = Annotated[Optional[str], typer.Option(help="Your own model: a frozen .pb or a SavedModel folder.")]
BatchOption = Annotated[Optional[list[str]], typer.Option(help="Batch sizes, e.g. 1,4,8.")]
ResizeOption = Annotated[Optional[list[str]], typer.Option(
    help="Resizing before the feed: none, thumbnail:600, fixed:640x640.")]
GpuMemoryOption = Annotated[Optional[list[str]], typer.Option(
    help="GPU memory settings: default, growth, fraction:0.7.")]
DeviceOption = Annotated[Optional[str], typer.Option(help="Explicit placement: cpu or gpu.")]
ImagesOption = Annotated[Optional[str], typer.Option(help="Folder of your own images (default: a bundled photo).")]
SeedOption = Annotated[str, typer.Option(help="Seed of the embedded model's random weights.")]
IterationsOption = Annotated[str, typer.Option("--iterations", "-n", help="Measured iterations per strategy.")]
DurationOption = Annotated[Optional[str], typer.Option(
    help="Time limit per strategy, e.g. 90s, 30m (whichever of this and --iterations comes first).")]
WarmupOption = Annotated[str, typer.Option(help="Iterations run before measuring starts (recorded separately).")]
OutOption = Annotated[Optional[Path], typer.Option(help="Run folder to create (default reports/<UTC timestamp>/).")]
ForceOption = Annotated[bool, typer.Option(help="Write into an existing non-empty --out folder.")]
SampleIntervalOption = Annotated[str, typer.Option(help="Seconds between parent memory samples.")]
SignalEveryOption = Annotated[str, typer.Option(
    help="The child reads its own memory (RSS, C heap, Python blocks, TF allocator) every K iterations; "
    "'auto' chooses K on a 1% time budget from the step time.")]
FailOnLeakOption = Annotated[bool, typer.Option(help="Exit 1 if any strategy is judged a leak.")]
LeakThresholdOption = Annotated[str, typer.Option(
    help="With --fail-on-leak: only leaks faster than this many bytes per iteration count.")]
IterationTimeoutOption = Annotated[Optional[str], typer.Option(
    help="Kill the child and report a hang if one iteration takes longer than this many seconds.")]
MemoryLimitOption = Annotated[Optional[str], typer.Option(
    help="Cap the child's memory (e.g. 4GiB): a memory cgroup where possible, else the parent kills it when "
    "its RSS passes the cap; reported as out of memory at iteration k.")]
RedactPathsOption = Annotated[bool, typer.Option(help="Replace home folders and user names in every output.")]
ProgressOption = Annotated[bool, typer.Option(help="Show the live progress bar.")]
UntilDecidedOption = Annotated[bool, typer.Option(
    "--until-decided/--exact",
    help="Stop each strategy as soon as its verdict is settled (the default; --iterations and --duration "
    "are then the maximum), or run exactly --iterations.")]
BackendOption = Annotated[str, typer.Option(
    help="Where strategies run: local (one after another on this machine) or ray (one Ray task per strategy, "
    "each alone on its device; needs Ray installed: the ray extra of leakhunt).")]
RayAddressOption = Annotated[Optional[str], typer.Option(
    help="With --backend ray: the cluster to join (host:port, or auto for the one `ray start` made here); "
    "default: start a local Ray instance.")]
RayCpusPerStrategyOption = Annotated[Optional[str], typer.Option(
    help="With --backend ray: CPUs each CPU strategy holds (default: a whole node's cores, so CPU strategies "
    "never share a host).")]
AttributeOption = Annotated[str, typer.Option(
    help="Where a leak is: auto (the default) runs, for each strategy judged leak, a short second pass with "
    "allocation tracking that names the source lines keeping the memory, with their rates; off skips it.")]


def run_soak_command(options: SoakOptions, report_error: Callable[[str], None]) -> int:
    """The body of `leakhunt soak`: the options in, summary lines out, the exit code back."""
    from leakhunt import runner
    from leakhunt.api import run_soak

    result = run_soak(options)
    for line in runner.summary_lines(result.summary):
        typer.echo(line)
    typer.echo(f"leakhunt: report {result.run_dir / 'report.html'}")
    for problem in result.bad_workload_errors:
        report_error(problem)
    return result.exit_code
