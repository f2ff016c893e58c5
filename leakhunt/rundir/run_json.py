"""Sections of run.json (the runner writes them, RunRecord reads them) as TypedDicts. total=False: a run
folder outlives the version that wrote it, so a reader finds only the keys its writer knew."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from leakhunt.rundir.config import RunConfigJson


class GpuDevice(TypedDict, total=False):
    """One GPU NVML saw (run.json's environment, a Ray placement); `error` instead of name and total when
    NVML failed to read them. The same keys as sampling.base.GpuDevice, which writes it."""

    index: int
    name: str
    memory_total_bytes: int
    error: str
    uuid: str


class EnvironmentJson(TypedDict, total=False):
    """run.json's `environment`: the software and machine the run had (runner/env.capture_environment)."""

    python: str
    python_implementation: str
    os: str
    platform: str
    machine: str
    host_id: str | None
    cpu: str | None
    cpu_count_logical: int | None
    cpu_count_physical: int | None
    ram_total_bytes: int
    packages: dict[str, str]
    tensorflow: str | None
    numpy: str | None
    gpus: list[GpuDevice]
    driver_version: str | None
    env_vars: dict[str, str]
    ram_bytes: int  # run folders written before ram_total_bytes
    driver: str  # ... and before driver_version
    cuda: str  # a CUDA version, where an older writer recorded one


class HostJson(TypedDict, total=False):
    """run.json's `host`: what the projections divide by."""

    available_memory_bytes: int
    gpu_total_bytes: int | None


class PlacementJson(TypedDict):
    """Where one strategy ran on Ray (backends/ray_task.Placement): strategy.json's `placement`, run.json's
    backend `placements` and the summary entry's `placement`."""

    node_id: str
    host_name: str
    node_ip: str
    worker_pid: int
    num_cpus: int
    num_gpus: int
    device: str  # "gpu" (a whole GPU of its own) or "cpu"
    cuda_visible_devices: str | None
    gpus: list[GpuDevice]


class NodeShapeJson(TypedDict):
    """One alive Ray node and what it offers (backends/ray_options.NodeShape)."""

    node_id: str
    host_name: str
    ip: str
    cpus: float
    gpus: float


class TaskOptionsJson(TypedDict):
    """How one strategy's Ray task was declared (backends/ray_options.TaskOptions)."""

    max_calls: int
    max_retries: int
    retry_exceptions: bool
    num_cpus: int
    num_gpus: int


class BackendJson(TypedDict, total=False):
    """run.json's `backend`: what ran where. A local run has only `name`; a Ray run all of them."""

    name: str  # "local" or "ray"
    ray_version: str | None
    address: str | None
    cluster: list[NodeShapeJson]
    task_options: dict[str, TaskOptionsJson]  # by strategy index
    placements: dict[str, PlacementJson]  # by strategy index
    worker_wall_s: dict[str, float]
    timeline_unix_s: dict[str, dict[str, float]]  # submitted, started, finished, collected (time.time())
    hosts_note: str | None  # when strategies ran on several hosts


class RunJson(TypedDict, total=False):
    """run.json as the runner writes it (runner._start_run, then finished_utc, interrupted and backend when the
    strategies are done); rundir.records.RunRecord reads it. total=False: `backend` comes only at the end."""

    leakhunt_run_format: int
    config: RunConfigJson
    command_line: list[str]
    environment: EnvironmentJson
    samplers: dict[str, str]  # sampler name -> "available" or "unavailable: why"
    host: HostJson
    started_utc: str
    finished_utc: str | None
    interrupted: bool
    notes: list[str]
    backend: BackendJson
