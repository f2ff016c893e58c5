"""What each Ray task asks for, decided without importing Ray: the cluster's shape in, one TaskOptions per
strategy out. Ray's defaults work against a profiler, so every option that matters is set on purpose here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

from leakhunt.errors import BadInputError
from leakhunt.rundir.config import StrategySpec
from leakhunt.rundir.run_json import NodeShapeJson, TaskOptionsJson

# Ray re-runs a task whose worker died up to 3 times by default: a profiler would then report a silent rerun
# instead of the `crashed` finding. Never retry, not even on an exception.
MAX_RETRIES = 0
# A fresh worker process per task (Ray's default is 1 only for GPU tasks): a worker that already ran a strategy
# holds its imports and heap, and a strategy's readings must not start from someone else's.
MAX_CALLS = 1
# TensorFlow maps the whole device, so a strategy owns a whole GPU; a fraction would end in an OOM.
GPUS_PER_GPU_STRATEGY = 1
# A GPU strategy's host side (pre/post-processing, the sampler in its worker) holds this many CPUs unless
# --ray-cpus-per-strategy says otherwise.
DEFAULT_CPUS_PER_GPU_STRATEGY = 1


@dataclass(frozen=True)
class NodeShape:
    node_id: str
    host_name: str
    ip: str
    cpus: float
    gpus: float

    def to_json(self) -> NodeShapeJson:
        return {"node_id": self.node_id, "host_name": self.host_name, "ip": self.ip, "cpus": self.cpus,
                "gpus": self.gpus}


@dataclass(frozen=True)
class ClusterShape:
    nodes: tuple[NodeShape, ...]

    @property
    def largest_node_cpus(self) -> int:
        return int(max((node.cpus for node in self.nodes), default=0))

    @property
    def total_cpus(self) -> float:
        return sum(node.cpus for node in self.nodes)

    @property
    def total_gpus(self) -> float:
        return sum(node.gpus for node in self.nodes)

    def describe(self) -> str:
        return (f"{len(self.nodes)} node{'s' if len(self.nodes) != 1 else ''}, {self.total_cpus:g} CPUs, "
                f"{self.total_gpus:g} GPUs")


def cluster_shape(ray_nodes: list[dict[str, Any]]) -> ClusterShape:
    """The alive nodes of `ray.nodes()`, with the CPUs and GPUs each one offers."""
    nodes = []
    for node in ray_nodes:
        if not node.get("Alive", False):
            continue
        resources = node.get("Resources") or {}
        nodes.append(NodeShape(node_id=str(node.get("NodeID", "")), host_name=str(node.get("NodeManagerHostname", "")),
                               ip=str(node.get("NodeManagerAddress", "")), cpus=float(resources.get("CPU", 0)),
                               gpus=float(resources.get("GPU", 0))))
    return ClusterShape(tuple(nodes))


class RemoteKwargs(TypedDict):
    """ray.remote()'s keyword arguments for a strategy's task."""

    max_calls: int
    max_retries: int
    retry_exceptions: bool


class OptionsKwargs(TypedDict):
    """.options()'s keyword arguments for one strategy's call."""

    num_cpus: int
    num_gpus: int
    max_retries: int
    retry_exceptions: bool


@dataclass(frozen=True)
class TaskOptions:
    """How one strategy's task is declared: `ray.remote(**remote_kwargs())(...).options(**options_kwargs())`
    (Ray takes max_calls only in ray.remote, the rest per call)."""

    num_cpus: int
    num_gpus: int
    max_retries: int = MAX_RETRIES
    max_calls: int = MAX_CALLS
    retry_exceptions: bool = False

    def remote_kwargs(self) -> RemoteKwargs:
        return {"max_calls": self.max_calls, "max_retries": self.max_retries,
                "retry_exceptions": self.retry_exceptions}

    def options_kwargs(self) -> OptionsKwargs:
        return {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus, "max_retries": self.max_retries,
                "retry_exceptions": self.retry_exceptions}

    def to_json(self) -> TaskOptionsJson:
        return {**self.remote_kwargs(), **self.options_kwargs()}


def is_gpu_strategy(spec: StrategySpec, cluster: ClusterShape) -> bool:
    """An explicit --device decides; otherwise TensorFlow takes every GPU it sees, so on a cluster with GPUs the
    strategy (a custom workload too) gets a whole GPU of its own rather than sharing one unasked."""
    device = spec.factory_kwargs.get("device")
    if device in ("gpu", "cpu"):
        return device == "gpu"
    return cluster.total_gpus > 0


def task_options(spec: StrategySpec, cluster: ClusterShape, cpus_per_strategy: int | None) -> TaskOptions:
    """One strategy's resources; BadInputError when no node of the cluster could ever run it."""
    if not cluster.nodes:
        raise BadInputError("the Ray cluster has no alive node")
    largest = cluster.largest_node_cpus
    if cpus_per_strategy is not None and cpus_per_strategy > largest:
        raise BadInputError(f"--ray-cpus-per-strategy {cpus_per_strategy} is more than the largest Ray node's "
                            f"{largest} CPUs; the task could never be placed")
    if is_gpu_strategy(spec, cluster):
        if cluster.total_gpus < GPUS_PER_GPU_STRATEGY:
            raise BadInputError(f"strategy {spec.name!r} runs on a GPU but the Ray cluster "
                                f"({cluster.describe()}) has none; use --device cpu")
        cpus = DEFAULT_CPUS_PER_GPU_STRATEGY if cpus_per_strategy is None else cpus_per_strategy
        return TaskOptions(num_cpus=cpus, num_gpus=GPUS_PER_GPU_STRATEGY)
    # Default: a whole node's cores, so two CPU strategies never share a host (and its memory bus) unasked.
    cpus = largest if cpus_per_strategy is None else cpus_per_strategy
    return TaskOptions(num_cpus=max(int(math.floor(cpus)), 1), num_gpus=0)
