"""Turn a soak's options (SoakOptions) into a validated RunConfig, before any folder is created or child runs."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from leakhunt.errors import BadInputError
from leakhunt.rundir.config import ATTRIBUTE_MODES, BACKENDS, RunConfig, StrategySpec
from leakhunt.runner import values
from leakhunt.soak_options import SoakOptions
from leakhunt.workloads.custom import check_target_statically, default_label


def workload_specs(workloads: Sequence[str], labels: Sequence[str]) -> list[StrategySpec]:
    if labels and len(labels) != len(workloads):
        raise BadInputError(f"--label was given {len(labels)} time(s) for {len(workloads)} --workload(s); "
                            "give one label per workload or none")
    specs = []
    for position, target in enumerate(workloads):
        check_target_statically(target)
        factory = target
        source, _, func = target.rpartition(":")
        if source.endswith(".py"):
            # The child runs in the same cwd, but an absolute path keeps the run folder self-describing.
            factory = f"{Path(source).resolve()}:{func}"
        name = labels[position] if labels else default_label(target)
        specs.append(StrategySpec(name=name, factory=factory, description=f"custom workload {target}"))
    return specs


def builtin_specs(strategies: Sequence[str], preset: str | None, model: str | None, batches: Sequence[str],
                  resizes: Sequence[str], gpu_memories: Sequence[str], device: str | None, images: str | None,
                  seed: int, use_default_set: bool) -> list[StrategySpec]:
    if not strategies and not use_default_set:
        return []
    from leakhunt.strategies import matrix
    from leakhunt.strategies.registry import DEFAULT_COMPARISON

    names = matrix.parse_strategies(values.split_values(list(strategies))) if strategies else []
    if not names:
        names = list(DEFAULT_COMPARISON)
    if device not in (None, "cpu", "gpu"):
        raise BadInputError(f"--device must be cpu or gpu, got '{device}'")
    if images is not None:
        matrix.validate_images_dir(images)
    if model is not None:
        from leakhunt.models import validate_model_path

        validate_model_path(model)
    from leakhunt.models import DEFAULT_PRESET, PRESETS

    chosen_preset = preset or DEFAULT_PRESET
    if chosen_preset not in PRESETS:
        raise BadInputError(f"unknown --preset '{chosen_preset}'; choose one of {', '.join(PRESETS)}")
    return matrix.expand_matrix(
        names,
        matrix.parse_batch(values.split_values(list(batches)) or ["1"]),
        matrix.parse_resize(values.split_values(list(resizes)) or ["none"]),
        matrix.parse_gpu_memory(values.split_values(list(gpu_memories)) or ["default"]),
        device,
        chosen_preset,
        model,
        images,
        seed=seed,
    )


def parse_backend(backend: str, ray_address: str | None,
                  ray_cpus_per_strategy: str | None) -> tuple[str, int | None]:
    """(backend name, CPUs per CPU strategy or None) from --backend, --ray-address, --ray-cpus-per-strategy."""
    name = str(backend).strip().lower()
    if name not in BACKENDS:
        raise BadInputError(f"unknown --backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if name != "ray" and (ray_address is not None or ray_cpus_per_strategy is not None):
        given = "--ray-address" if ray_address is not None else "--ray-cpus-per-strategy"
        raise BadInputError(f"{given} only applies with --backend ray")
    if ray_address is not None and not ray_address.strip():
        raise BadInputError("--ray-address is empty; give host:port or auto")
    cpus = None if ray_cpus_per_strategy is None else values.parse_positive_int(ray_cpus_per_strategy,
                                                                                 "--ray-cpus-per-strategy")
    return name, cpus


def _strategies_and_notes(workloads, labels, strategies, preset, model, batches, resizes, gpu_memories, device,
                          images, seed_value: int) -> tuple[list[StrategySpec], list[str]]:
    """The strategies to run (custom workloads first) and the run's notes on the model they use."""
    specs = workload_specs(workloads, labels)
    specs += builtin_specs(strategies, preset, model, batches, resizes, gpu_memories, device, images, seed_value,
                           use_default_set=not workloads)
    if not specs:
        raise BadInputError("nothing to run: give --workload or --strategy")
    notes = []
    builtin = [spec for spec in specs if spec.factory.startswith("leakhunt.strategies")]
    if builtin and model is None:
        from leakhunt.models import DEFAULT_PRESET, PRESETS

        chosen = PRESETS[preset or DEFAULT_PRESET]
        why = "chosen with --preset" if preset else "the default: the OD API's 800/1365 `full` config is slow on CPUs"
        notes.append(f"embedded model preset '{chosen.name}' ({why}): {chosen.description}")
    elif builtin:
        notes.append(f"your model: {model}")
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BadInputError(f"two strategies share the name {duplicates[0]!r}; use --label to tell them apart")
    return specs, notes


def _text(value: object) -> str | None:
    """An option's value as the parsers read it (as typed on the command line); None stays None."""
    return None if value is None else str(value)


def _duration_text(duration: float | str | None) -> str | None:
    # A number of seconds from Python reads as the CLI's "<n>s".
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        return f"{duration}s"
    return _text(duration)


def build_run_config(options: SoakOptions) -> RunConfig:
    """The validated RunConfig for `options`; a bad value raises BadInputError with one line naming the option."""
    from leakhunt.runner import default_out_dir

    iterations_count = values.parse_positive_int(str(options.iterations), "--iterations")
    warmup_steps = values.parse_non_negative_int(str(options.warmup), "--warmup")
    duration = _duration_text(options.duration)
    duration_s = values.parse_duration_s(duration) if duration is not None else None
    sample_interval_s = values.parse_positive_float(str(options.sample_interval), "--sample-interval")
    signal_every = str(options.signal_every)
    signal_every_steps = (0 if signal_every.strip().lower() == "auto"
                          else values.parse_positive_int(signal_every, "--signal-every"))
    seed_value = values.parse_non_negative_int(str(options.seed), "--seed")
    leak_threshold = str(options.leak_threshold)
    try:
        leak_threshold_value = float(leak_threshold)
    except ValueError:
        raise BadInputError(f"--leak-threshold must be bytes per iteration, got '{leak_threshold}'") from None
    iteration_timeout, memory_limit = _text(options.iteration_timeout), _text(options.memory_limit)
    timeout_s = values.parse_positive_float(iteration_timeout, "--iteration-timeout") if iteration_timeout else None
    memory_limit_bytes = values.parse_size_bytes(memory_limit, "--memory-limit") if memory_limit else None
    backend_name, ray_cpus = parse_backend(str(options.backend), options.ray_address,
                                           _text(options.ray_cpus_per_strategy))
    attribute_mode = str(options.attribute).strip().lower()
    if attribute_mode not in ATTRIBUTE_MODES:
        raise BadInputError(f"unknown --attribute '{options.attribute}'; choose one of {', '.join(ATTRIBUTE_MODES)}")

    specs, notes = _strategies_and_notes(
        list(options.workloads), list(options.labels), list(options.strategies), options.preset,
        _text(options.model), list(options.batches), list(options.resizes), list(options.gpu_memories),
        options.device, _text(options.images), seed_value)
    return RunConfig(
        strategies=tuple(specs),
        out_dir=Path(options.out) if options.out is not None else default_out_dir(),
        iterations=iterations_count,
        duration_s=duration_s,
        warmup_steps=warmup_steps,
        sample_interval_s=sample_interval_s,
        signal_every_steps=signal_every_steps,
        force=bool(options.force),
        fail_on_leak=bool(options.fail_on_leak),
        leak_threshold_bytes_per_iter=leak_threshold_value,
        iteration_timeout_s=timeout_s,
        memory_limit_bytes=memory_limit_bytes,
        redact_paths=bool(options.redact_paths),
        show_progress=bool(options.show_progress),
        until_decided=bool(options.until_decided),
        backend=backend_name,
        ray_address=options.ray_address,
        ray_cpus_per_strategy=ray_cpus,
        command_line=tuple(options.command_line),
        notes=tuple(notes),
        attribute=attribute_mode,
    )
