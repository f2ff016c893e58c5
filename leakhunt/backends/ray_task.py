"""The Ray task: one strategy run by today's harness on the worker node, its folder sent back as bytes.

Runs inside a fresh Ray worker process (max_calls=1). The child, the parent-side sampling and the fault
handling all stay on the worker, next to the child; the driver only receives the finished folder. The worker
needs nothing from the driver's filesystem except a custom workload's file, at the same path.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tarfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from leakhunt import rundir
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.harness.strategy import StrategyRun
from leakhunt.rundir.config import RunConfig, RunConfigJson
from leakhunt.rundir.records import RunRecord, StatusJson
from leakhunt.rundir.run_json import GpuDevice, PlacementJson
from leakhunt.sampling import NvmlSampler, RssSampler

# Next to a strategy's folder on the worker, written before its child starts: if the worker dies, whoever
# finds the folder still knows where and on what it ran.
PLACEMENT_SUFFIX = ".placement.json"


@dataclass(frozen=True)
class WorkerPayload:
    """What the driver ships to the task: JSON-able values only."""

    index: int
    count: int
    config_json: RunConfigJson  # the run's RunConfig with this one strategy
    folder_name: str  # NN-<slug>, the same as in the run folder
    worker_root: str  # where the worker keeps the folder while the strategy runs
    num_cpus: int
    num_gpus: int
    # The driver's own OMP_NUM_THREADS (None: unset). Ray sets it to the task's CPU count in the worker; the
    # child gets the driver's value back so its threading matches a local run.
    driver_omp_num_threads: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where one strategy ran: strategy.json's `placement` and run.json's backend record."""

    node_id: str
    host_name: str
    node_ip: str
    worker_pid: int
    num_cpus: int
    num_gpus: int
    device: str  # "gpu" (a whole GPU of its own) or "cpu"
    # As Ray set it for the task: an index (or UUID) into the node's GPUs, mapped by UUID for NVML.
    cuda_visible_devices: str | None
    gpus: tuple[GpuDevice, ...]  # the NVML devices the child could see (index, name, uuid, memory)

    def to_json(self) -> PlacementJson:
        return {"node_id": self.node_id, "host_name": self.host_name, "node_ip": self.node_ip,
                "worker_pid": self.worker_pid, "num_cpus": self.num_cpus, "num_gpus": self.num_gpus,
                "device": self.device, "cuda_visible_devices": self.cuda_visible_devices, "gpus": list(self.gpus)}


@dataclass(frozen=True)
class WorkerResult:
    index: int
    status: StatusJson
    placement: Placement
    folder_tar_gz: bytes
    worker_wall_s: float
    # Wall-clock times on the worker (time.time(): the driver compares them with its own, same host or NTP):
    # when the task body began and when its result was ready, for Ray's start and return cost.
    started_unix_s: float = 0.0
    finished_unix_s: float = 0.0


def pack_folder(folder: Path) -> bytes:
    """The folder's regular files (a strategy folder is flat) as a gzipped tar in memory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                archive.add(path, arcname=path.name, recursive=False)
    return buffer.getvalue()


def unpack_folder(data: bytes, folder: Path) -> None:
    """Write a pack_folder() archive into `folder`: plain files with plain names only, nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or member.name != Path(member.name).name or member.name in ("", ".", ".."):
                continue  # never write outside the folder, whatever came over the wire
            source = archive.extractfile(member)
            if source is not None:
                (folder / member.name).write_bytes(source.read())


def visible_gpus(nvml: NvmlSampler | None) -> tuple[GpuDevice, ...]:
    """The GPUs this process may use, after NvmlSampler mapped CUDA_VISIBLE_DEVICES to NVML devices by UUID."""
    return () if nvml is None else tuple(nvml.describe_devices())


def probe_worker_samplers() -> tuple[RssSampler, NvmlSampler | None]:
    """The worker's own samplers: probed after Ray set CUDA_VISIBLE_DEVICES, so NVML reads the task's card."""
    rss = RssSampler()
    probe = rss.probe()
    if not probe.available:
        raise RuntimeError(f"cannot sample process memory on this worker: {probe.reason}")
    nvml = NvmlSampler()
    return rss, (nvml if nvml.probe().available else None)


def prepare_worker_environment(payload: WorkerPayload) -> None:
    """Undo what Ray's worker environment would change in the child (this worker runs one task, then exits)."""
    if payload.num_gpus == 0:
        # Since Ray 2.47 a task without GPUs sees them all; a CPU strategy must not touch a GPU another holds.
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    if payload.driver_omp_num_threads is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = payload.driver_omp_num_threads


def current_placement(payload: WorkerPayload, nvml: NvmlSampler | None) -> Placement:
    import ray  # only ever called inside a Ray worker

    context = ray.get_runtime_context()
    return Placement(node_id=context.get_node_id(), host_name=socket.gethostname(),
                     node_ip=ray.util.get_node_ip_address(), worker_pid=os.getpid(), num_cpus=payload.num_cpus,
                     num_gpus=payload.num_gpus, device="gpu" if payload.num_gpus else "cpu",
                     cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
                     gpus=visible_gpus(nvml))


def add_placement(strategy_json: Path, placement: PlacementJson) -> None:
    spec = rundir.read_json(strategy_json) if strategy_json.is_file() else {}
    rundir.write_json_atomic(strategy_json, {**spec, "placement": placement})


def run_strategy_on_worker(payload: WorkerPayload) -> WorkerResult:
    """The task body: today's StrategyRun for one strategy in a folder on this node, returned as bytes."""
    started_s, started_unix_s = time.monotonic(), time.time()
    prepare_worker_environment(payload)
    config = RunConfig.from_json(payload.config_json)
    root = Path(payload.worker_root)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / payload.folder_name
    if folder.exists():
        shutil.rmtree(folder)  # a leftover of an earlier worker with this very name: not this run's data
    rss, nvml = probe_worker_samplers()
    placement = current_placement(payload, nvml)
    rundir.write_json_atomic(root / (payload.folder_name + PLACEMENT_SUFFIX), placement.to_json())
    display = ProgressDisplay(enabled=False)
    try:
        status = StrategyRun(payload.index, payload.count, config.strategies[0], replace(config, out_dir=root),
                             folder, rss, nvml, display).run()
        if config.attribute == "auto":
            from leakhunt.attribution.run_pass import attribute_strategy

            run = RunRecord.from_json({"config": config.to_json()})
            attribute_strategy(config, config.strategies[0], payload.index, folder, run, display)
    finally:
        if nvml is not None:
            nvml.close()
    add_placement(folder / rundir.STRATEGY_FILE, placement.to_json())
    data = pack_folder(folder)
    shutil.rmtree(folder, ignore_errors=True)
    (root / (payload.folder_name + PLACEMENT_SUFFIX)).unlink(missing_ok=True)
    try:
        root.rmdir()  # the last strategy on this node leaves nothing behind
    except OSError:
        pass  # other strategies of the run still use it
    return WorkerResult(payload.index, status, placement, data, time.monotonic() - started_s, started_unix_s,
                        time.time())
