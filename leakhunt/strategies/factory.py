"""The child's entry point for built-in strategies: build(**factory_kwargs) -> a workload object.

The returned object has step(), close(), evidence(), images_per_step and notes (see workloads.custom).
Order matters: devices and the GPU memory policy are set before anything touches the TF runtime.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from leakhunt.errors import BadInputError
from leakhunt.strategies import options
from leakhunt.strategies.registry import STRATEGIES, TF1
from leakhunt.workloads.images import load_images, make_batches, resize_image


def build(
    strategy: str,
    preset: str | None = None,
    model_path: str | None = None,
    seed: int = 0,
    batch: int = options.DEFAULT_BATCH,
    resize: str = options.DEFAULT_RESIZE,
    gpu_memory: str = options.DEFAULT_GPU_MEMORY,
    device: str | None = None,
    images: str | None = None,
) -> Any:
    """Build the named strategy on the preset (or the user's model) with the given axes."""
    from leakhunt.models import DEFAULT_PRESET

    info = STRATEGIES.get(strategy)
    if info is None:
        raise BadInputError(f"unknown strategy '{strategy}'; known strategies: {', '.join(STRATEGIES)}")
    batch_size = options.parse_batch_value(batch)
    resize_spec = options.parse_resize_value(resize)
    gpu_spec = options.parse_gpu_memory_value(gpu_memory)
    device_value = options.parse_device_value(device)

    from leakhunt.strategies.runtime import configure_runtime

    runtime = configure_runtime(device_value, gpu_spec)
    notes = list(runtime.notes)
    batches = make_batches([resize_image(image, resize_spec) for image in load_images(images)], batch_size)
    chosen_preset = preset or DEFAULT_PRESET
    if info.api == TF1:
        return _build_tf1(strategy, chosen_preset, model_path, seed, batches, runtime, notes)
    return _build_tf2(strategy, chosen_preset, model_path, seed, batches, runtime, notes)


def _build_tf1(strategy: str, preset: str, model_path: str | None, seed: int, batches: list, runtime: Any,
               notes: list[str]) -> Any:
    from leakhunt.models import load_graph_def, resolve_model
    from leakhunt.strategies.tf1 import TF1_CLASSES

    source = resolve_model(model_path, preset, seed)
    if source.kind == "saved_model":
        from leakhunt.strategies.convert import graph_def_from_saved_model

        graph_def = graph_def_from_saved_model(source.path)
        notes.append(f"{strategy}: the SavedModel was frozen into a GraphDef "
                     "(convert_variables_to_constants_v2) to run this TF1 strategy")
    else:
        graph_def = load_graph_def(source.path)
    return TF1_CLASSES[strategy](graph_def, batches, runtime, notes)


class _TempSavedModel:
    """Wraps a TF2 strategy that runs on a temporary SavedModel made from a .pb; removes it on close()."""

    def __init__(self, inner: Any, folder: Path):
        self._inner = inner
        self._folder = folder
        self.images_per_step = inner.images_per_step
        self.notes = inner.notes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def step(self) -> None:
        self._inner.step()

    def evidence(self) -> dict[str, int]:
        return self._inner.evidence()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def _build_tf2(strategy: str, preset: str, model_path: str | None, seed: int, batches: list, runtime: Any,
               notes: list[str]) -> Any:
    from leakhunt.models import get_saved_model_path, load_graph_def, resolve_model
    from leakhunt.strategies.tf2 import TF2_CLASSES

    strategy_class = TF2_CLASSES[strategy]
    if model_path is None:
        return strategy_class(get_saved_model_path(preset, seed), batches, runtime, notes)
    source = resolve_model(model_path, preset, seed)
    if source.kind == "saved_model":
        return strategy_class(source.path, batches, runtime, notes)
    from leakhunt.strategies.convert import saved_model_from_graph_def

    folder = Path(tempfile.mkdtemp(prefix="leakhunt-saved-model-"))
    try:
        saved = saved_model_from_graph_def(load_graph_def(source.path), folder / "saved_model")
        notes.append(f"{strategy}: the frozen .pb was wrapped (wrap_function + prune) into a temporary "
                     "SavedModel, then loaded with tf.saved_model.load")
        return _TempSavedModel(strategy_class(saved, batches, runtime, notes), folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
