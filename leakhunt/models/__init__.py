"""The embedded Mask R-CNN Inception v2 model (seeded weights, built and cached) and user model loading.

Importing this package never imports TensorFlow; the functions import it when they run.

May import: errors, _version. (tf_import.py: TensorFlow imported quietly, by the functions that need it.)
"""

from leakhunt.models.export import export_model, get_frozen_graph_path, get_saved_model_path
from leakhunt.models.load import ModelSource, load_graph_def, validate_model_path
from leakhunt.models.presets import DEFAULT_PRESET, OUTPUT_NAMES, PRESETS, Preset, get_preset
from leakhunt.models.resolve import resolve_model

__all__ = [
    "DEFAULT_PRESET",
    "OUTPUT_NAMES",
    "PRESETS",
    "ModelSource",
    "Preset",
    "export_model",
    "get_frozen_graph_path",
    "get_preset",
    "get_saved_model_path",
    "load_graph_def",
    "resolve_model",
    "validate_model_path",
]
