"""Which model a run uses: the user's file, or the embedded preset built and cached on first use.

Its own module so load.py (reading and validating model files) and export.py (building the embedded model) never
import each other.
"""

from __future__ import annotations

from leakhunt.models.export import get_frozen_graph_path
from leakhunt.models.load import ModelSource, validate_model_path
from leakhunt.models.presets import DEFAULT_PRESET, OUTPUT_NAMES, get_preset


def resolve_model(model_path: str | None, preset: str = DEFAULT_PRESET, seed: int = 0) -> ModelSource:
    """The user's model if given, else the embedded preset (built and cached on first use)."""
    if model_path is not None:
        return validate_model_path(model_path)
    get_preset(preset)
    path = get_frozen_graph_path(preset, seed)
    return ModelSource("frozen", path, preset, True, OUTPUT_NAMES)
