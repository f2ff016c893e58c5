"""Expand strategies x batch x resize x gpu-memory into StrategySpecs for the runner (no TensorFlow import)."""

from __future__ import annotations

import itertools
from typing import Any, Iterable

from leakhunt.errors import BadInputError
from leakhunt.rundir.config import StrategySpec
from leakhunt.strategies import options
from leakhunt.strategies.registry import STRATEGIES
from leakhunt.workloads.images import load_images, validate_images_dir

FACTORY = "leakhunt.strategies.factory:build"

__all__ = [
    "FACTORY",
    "expand_matrix",
    "load_images",
    "parse_batch",
    "parse_gpu_memory",
    "parse_resize",
    "parse_strategies",
    "spec_name",
    "validate_images_dir",
]


def _unique(values: Iterable) -> list:
    """Order-preserving de-duplication: `--batch 1,1` runs batch 1 once, not twice under one name."""
    seen: list = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _split(values: Iterable[str] | None) -> list[str]:
    parts: list[str] = []
    for value in values or []:
        parts.extend(part.strip() for part in str(value).split(",") if part.strip())
    return parts


def parse_batch(values: list[str]) -> list[int]:
    """['1', '4,8'] -> [1, 4, 8]; BadInputError for 0, negatives or non-numbers."""
    return _unique(options.parse_batch_value(value) for value in _split(values)) or [options.DEFAULT_BATCH]


def parse_resize(values: list[str]) -> list[str]:
    """Canonical resize values, e.g. ['none', 'thumbnail:600', 'fixed:640x640']."""
    return _unique(options.parse_resize_value(value).text for value in _split(values)) or [options.DEFAULT_RESIZE]


def parse_gpu_memory(values: list[str]) -> list[str]:
    """Canonical gpu-memory values, e.g. ['default', 'growth', 'fraction:0.7']."""
    parsed = (options.parse_gpu_memory_value(value).text for value in _split(values))
    return _unique(parsed) or [options.DEFAULT_GPU_MEMORY]


def parse_strategies(values: list[str]) -> list[str]:
    """Known strategy names in the order given; BadInputError naming the known ones otherwise."""
    names = _unique(value.strip().lower() for value in _split(values))
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise BadInputError(
            f"unknown strategy '{unknown[0]}'; known strategies: {', '.join(STRATEGIES)}"
        )
    return names


def spec_name(strategy: str, axes: dict[str, str]) -> str:
    """'persistent' or 'persistent[batch=4,resize=thumbnail:600]'."""
    if not axes:
        return strategy
    return f"{strategy}[{','.join(f'{key}={value}' for key, value in axes.items())}]"


def _strategy_spec(strategy: str, axes: dict[str, str], factory_kwargs: dict[str, Any]) -> StrategySpec:
    """One combination as the child's factory.build receives it."""
    info = STRATEGIES[strategy]
    return StrategySpec(name=spec_name(strategy, axes), factory=FACTORY,
                        factory_kwargs={"strategy": strategy, **factory_kwargs},
                        description=info.description, code_pattern=info.code_pattern)


def expand_matrix(
    strategies: list[str],
    batches: list[int],
    resizes: list[str],
    gpu_memories: list[str],
    device: str | None,
    preset: str,
    model_path: str | None,
    images: str | None,
    seed: int = 0,
) -> list[StrategySpec]:
    """The cross product, one StrategySpec per combination, for the child's factory.build.

    A name shows an axis only when that axis has several values or a non-default one, so the plain
    comparison keeps plain names. Values are re-validated here, so callers may pass raw strings.
    """
    names = parse_strategies(list(strategies))
    if not names:
        raise BadInputError("no strategy to run; known strategies: " + ", ".join(STRATEGIES))
    batch_values = _unique(options.parse_batch_value(value) for value in batches) or [options.DEFAULT_BATCH]
    resize_values = parse_resize(list(resizes))
    gpu_values = parse_gpu_memory(list(gpu_memories))
    device_value = options.parse_device_value(device)

    def shown(values: list, default: object) -> bool:
        return len(values) > 1 or values[0] != default

    show_batch = shown(batch_values, options.DEFAULT_BATCH)
    show_resize = shown(resize_values, options.DEFAULT_RESIZE)
    show_gpu = shown(gpu_values, options.DEFAULT_GPU_MEMORY)

    specs = []
    for strategy, batch, resize, gpu_memory in itertools.product(names, batch_values, resize_values, gpu_values):
        axes: dict[str, str] = {}
        if show_batch:
            axes["batch"] = str(batch)
        if show_resize:
            axes["resize"] = resize
        if show_gpu:
            axes["gpu-memory"] = gpu_memory
        if device_value is not None:
            axes["device"] = device_value
        specs.append(_strategy_spec(strategy, axes, {
            "preset": preset,
            "model_path": None if model_path is None else str(model_path),
            "seed": int(seed),
            "batch": batch,
            "resize": resize,
            "gpu_memory": gpu_memory,
            "device": device_value,
            "images": None if images is None else str(images),
        }))
    return specs
