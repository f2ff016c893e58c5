"""Environment capture for bug tickets: an allow-list of facts, never the whole os.environ.

Everything here is safe to paste into a public issue: versions, CPU, RAM, OS, GPU names. Environment
variables are read only from ENV_VARS_ALLOWED (knobs that change TensorFlow's behaviour).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from importlib import metadata

import psutil

from leakhunt.rundir.run_json import EnvironmentJson, GpuDevice

PACKAGES_REPORTED = (
    "leakhunt", "tensorflow", "tensorflow-cpu", "keras", "numpy", "pandas", "scipy", "pillow",
    "psutil", "nvidia-ml-py", "matplotlib", "jinja2", "typer", "protobuf",
)
# Only variables that change how TensorFlow allocates or runs; values of anything else (tokens,
# credentials, paths) never enter a report.
ENV_VARS_ALLOWED = (
    "CUDA_VISIBLE_DEVICES", "TF_CPP_MIN_LOG_LEVEL", "TF_FORCE_GPU_ALLOW_GROWTH", "TF_GPU_ALLOCATOR",
    "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTEROP_THREADS", "TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS",
    "MALLOC_ARENA_MAX", "LD_PRELOAD_IS_SET",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux: fall through to platform's answer
    return platform.processor() or platform.machine()


def host_id() -> str:
    """A fingerprint of this host's name: `leakhunt compare` can tell two hosts apart without a report ever
    naming the machine (reports are pasted into public tickets)."""
    return hashlib.sha256(platform.node().encode("utf-8", "replace")).hexdigest()[:12]


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES_REPORTED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def capture_environment(gpu_devices: list[GpuDevice] | None = None,
                        driver_version: str | None = None) -> EnvironmentJson:
    memory = psutil.virtual_memory()
    env_vars = {name: os.environ[name] for name in ENV_VARS_ALLOWED if name in os.environ}
    if "LD_PRELOAD" in os.environ:
        env_vars["LD_PRELOAD_IS_SET"] = "yes"  # an allocator swap (jemalloc/tcmalloc) changes RSS behaviour
    return {
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host_id": host_id(),
        "cpu": _cpu_model(),
        "cpu_count_logical": psutil.cpu_count(logical=True),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "ram_total_bytes": int(memory.total),
        "packages": package_versions(),
        "tensorflow": package_versions().get("tensorflow") or package_versions().get("tensorflow-cpu"),
        "numpy": package_versions().get("numpy"),
        "gpus": gpu_devices or [],
        "driver_version": driver_version,
        "env_vars": env_vars,
    }
