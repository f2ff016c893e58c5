"""`leakhunt model ...`: inspect and export models. Thin typer layer over leakhunt.models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leakhunt.errors import LeakhuntError
from leakhunt.models.presets import DEFAULT_PRESET, PRESETS

model_app = typer.Typer(
    help="Inspect or export the embedded Mask R-CNN Inception v2 model, or check a model file.",
    no_args_is_help=True,
)

_PRESET_HELP = f"Embedded model preset: {', '.join(PRESETS)} (default {DEFAULT_PRESET})."


def _fail(error: LeakhuntError) -> typer.Exit:
    typer.echo(f"leakhunt: error: {error}", err=True)
    return typer.Exit(error.exit_code)


@model_app.command("info")
def info_command(
    model: Annotated[
        str | None, typer.Option(help="A frozen .pb or SavedModel folder; omit for the embedded model.")
    ] = None,
    preset: Annotated[str, typer.Option(help=_PRESET_HELP)] = DEFAULT_PRESET,
    seed: Annotated[int, typer.Option(help="Seed of the embedded model's random weights.")] = 0,
    height: Annotated[int, typer.Option(help="Height of the image used to count FLOPs.")] = 480,
    width: Annotated[int, typer.Option(help="Width of the image used to count FLOPs.")] = 640,
) -> None:
    """Parameters, graph nodes, inputs/outputs and FLOPs of a model."""
    from leakhunt.models.info import format_model_info, model_info
    from leakhunt.models.tf_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    try:
        info = model_info(model, preset, seed, (height, width))
    except LeakhuntError as error:
        raise _fail(error) from None
    typer.echo(format_model_info(info))


@model_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="Folder to write frozen_inference_graph.pb and saved_model/ into.")],
    preset: Annotated[str, typer.Option(help=_PRESET_HELP)] = DEFAULT_PRESET,
    seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0,
) -> None:
    """Write the embedded model as a frozen .pb and a TF2 SavedModel (OD API export layout)."""
    from leakhunt.models.export import export_model
    from leakhunt.models.tf_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    try:
        frozen_path, saved_model_path = export_model(preset, out, seed)
    except LeakhuntError as error:
        raise _fail(error) from None
    typer.echo(f"frozen graph: {frozen_path}")
    typer.echo(f"saved model:  {saved_model_path}")
