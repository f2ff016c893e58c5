"""Apply the --device and --gpu-memory axes in the child, before TensorFlow initialises its devices.

Where an axis cannot take effect (no GPU visible, runtime already initialised) this says so in notes
for the report instead of pretending.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from leakhunt.strategies.options import GpuMemorySpec

_NVML_MIB = 1024 * 1024


@dataclass
class Runtime:
    """What was applied: the device to pin ops to (None: TF's default placement) and the GPU policy."""

    device_name: str | None
    gpu_memory: GpuMemorySpec
    gpu_visible: bool
    notes: list[str] = field(default_factory=list)

    def session_config(self) -> Any:
        """ConfigProto for TF1 sessions (the brief's Example 2) with the --gpu-memory policy."""
        import tensorflow as tf

        # Soft placement: some detector ops (e.g. NMS variants) have no GPU kernel.
        config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
        if self.gpu_memory.mode == "growth":
            config.gpu_options.allow_growth = True
        elif self.gpu_memory.mode == "fraction":
            config.gpu_options.per_process_gpu_memory_fraction = self.gpu_memory.fraction
        return config


def _gpu_total_mib() -> int | None:
    """Total memory of the first visible GPU via NVML, or None if NVML cannot tell."""
    try:
        import pynvml
    except ImportError:
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    try:
        pynvml.nvmlInit()
        try:
            if visible.isdigit():
                handle = pynvml.nvmlDeviceGetHandleByIndex(int(visible))
            elif visible.startswith("GPU-"):
                handle = pynvml.nvmlDeviceGetHandleByUUID(visible)
            else:
                handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            return int(pynvml.nvmlDeviceGetMemoryInfo(handle).total // _NVML_MIB)
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        return None


def _apply_gpu_memory(tf: Any, gpus: list, spec: GpuMemorySpec, notes: list[str]) -> None:
    if spec.mode == "default":
        return
    if not gpus:
        notes.append(f"gpu-memory axis ({spec.text}) had no effect: no GPU visible to TensorFlow")
        return
    try:
        if spec.mode == "growth":
            for gpu in gpus:
                tf.config.experimental.set_memory_growth(gpu, True)
            notes.append("gpu-memory growth: tf.config.experimental.set_memory_growth(True) and "
                         "ConfigProto.gpu_options.allow_growth=True for sessions")
            return
        total_mib = _gpu_total_mib()
        if total_mib is None:
            notes.append(f"gpu-memory {spec.text}: applied to TF1 sessions only "
                         "(per_process_gpu_memory_fraction); NVML could not tell the card's size for TF2")
            return
        limit_mib = int(total_mib * spec.fraction)
        tf.config.set_logical_device_configuration(
            gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=limit_mib)]
        )
        notes.append(f"gpu-memory {spec.text}: TF2 logical device limited to {limit_mib} MiB of {total_mib} MiB; "
                     "ConfigProto per_process_gpu_memory_fraction for sessions")
    except (RuntimeError, ValueError) as error:
        notes.append(f"gpu-memory {spec.text} could not be applied to the TF2 runtime ({error}); "
                     "only TF1 session ConfigProto carries it")


def configure_runtime(device: str | None, gpu_memory: GpuMemorySpec) -> Runtime:
    """Hide/pin devices and set the GPU memory policy; call before any model is loaded."""
    notes: list[str] = []
    if device == "cpu" and "tensorflow" not in sys.modules:
        # The one reliable way to keep TF off the GPU: it never initialises CUDA devices at all.
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device_name = None
    if device == "cpu":
        device_name = "/device:CPU:0"
        if gpus:
            try:
                tf.config.set_visible_devices([], "GPU")
                gpus = []
            except RuntimeError:
                notes.append("device cpu: GPUs could not be hidden (TensorFlow already initialised); "
                             "ops are pinned with tf.device('/device:CPU:0') instead")
    elif device == "gpu":
        if gpus:
            device_name = "/device:GPU:0"
        else:
            notes.append("device gpu had no effect: no GPU visible to TensorFlow, ran on CPU")
    _apply_gpu_memory(tf, gpus, gpu_memory, notes)
    return Runtime(device_name=device_name, gpu_memory=gpu_memory, gpu_visible=bool(gpus), notes=notes)
