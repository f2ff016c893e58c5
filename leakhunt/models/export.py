"""Build, cache and export the embedded model as a frozen .pb and a TF2 SavedModel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from leakhunt.models import cache
from leakhunt.models.presets import DEFAULT_PRESET, INPUT_NAME, OUTPUT_NAMES, get_preset

FROZEN_GRAPH_NAME = "frozen_inference_graph.pb"
SAVED_MODEL_DIR_NAME = "saved_model"


def write_frozen_graph(preset: str, seed: int, out_path: Path) -> None:
    from leakhunt.models.maskrcnn import build_graph_def_bytes

    out_path.write_bytes(build_graph_def_bytes(get_preset(preset), seed))


def get_frozen_graph_path(preset: str = DEFAULT_PRESET, seed: int = 0) -> Path:
    """The cached frozen GraphDef of the embedded model, built on first use."""
    get_preset(preset)  # BadInputError before touching the cache
    name = cache.entry_name(preset, seed, ".pb")
    return cache.cached_entry(name, lambda temp_path: write_frozen_graph(preset, seed, temp_path))


def saved_model_module(graph_def: Any, output_names: tuple[str, ...] = OUTPUT_NAMES) -> Any:
    """A tf.Module whose `serve` runs the frozen graph (wrap_function + prune) and returns `output_names`
    (a user's Faster R-CNN or SSD export has no detection_masks, so callers pass what the graph has)."""
    import tensorflow as tf

    def import_frozen() -> None:
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(import_frozen, [])
    graph = wrapped.graph
    pruned = wrapped.prune(
        feeds=graph.as_graph_element(f"{INPUT_NAME}:0"),
        fetches={name: graph.as_graph_element(f"{name}:0") for name in output_names},
    )

    class DetectionModule(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self._pruned = pruned

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="input_tensor")])
        def serve(self, input_tensor: Any) -> dict[str, Any]:
            return self._pruned(input_tensor)

    return DetectionModule()


def write_saved_model(frozen_path: Path, out_dir: Path) -> None:
    import tensorflow as tf

    from leakhunt.models.load import load_graph_def

    module = saved_model_module(load_graph_def(frozen_path))
    tf.saved_model.save(module, str(out_dir), signatures={"serving_default": module.serve})


def _eager_disabled() -> bool:
    tf = sys.modules.get("tensorflow")
    return tf is not None and not tf.executing_eagerly()


def _build_saved_model_in_subprocess(preset: str, seed: int) -> None:
    """tf.saved_model.save needs eager mode; a TF1-style process (eager disabled) builds it in a child."""
    code = (
        "import sys; from leakhunt.models.export import get_saved_model_path; "
        "get_saved_model_path(sys.argv[1], int(sys.argv[2]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, preset, str(seed)], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"building the SavedModel for preset {preset!r} failed: {last_line}")


def get_saved_model_path(preset: str = DEFAULT_PRESET, seed: int = 0) -> Path:
    """The cached SavedModel folder of the embedded model (serving_default), built on first use."""
    frozen_path = get_frozen_graph_path(preset, seed)
    name = cache.entry_name(preset, seed, "-saved_model")
    final_path = cache.models_dir() / name
    if not final_path.exists() and _eager_disabled():
        _build_saved_model_in_subprocess(preset, seed)
    return cache.cached_entry(name, lambda temp_path: write_saved_model(frozen_path, temp_path))


def export_model(preset: str, out_dir: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write frozen_inference_graph.pb and saved_model/ into out_dir (OD API export layout)."""
    import shutil

    out_dir.mkdir(parents=True, exist_ok=True)
    frozen_target = out_dir / FROZEN_GRAPH_NAME
    saved_target = out_dir / SAVED_MODEL_DIR_NAME
    shutil.copyfile(get_frozen_graph_path(preset, seed), frozen_target)
    if saved_target.exists():
        shutil.rmtree(saved_target)
    shutil.copytree(get_saved_model_path(preset, seed), saved_target)
    return frozen_target, saved_target
