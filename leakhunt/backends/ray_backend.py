"""`--backend ray`: one Ray task per strategy, spread over a cluster, each alone on its device.

Ray places the tasks, isolates their worker processes and carries the folders back; this module only asks
for the right resources (ray_options.py), ships each strategy to a worker (ray_task.py), writes what comes
back into the run folder, and turns a task that returned nothing into a `crashed` finding (ray_failures.py).
Ray is imported here, lazily, and only when this backend was chosen.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from leakhunt import rundir
from leakhunt.backends.base import Statuses
from leakhunt.backends.ray_failures import RayFailure, describe_ray_failure, failure_status
from leakhunt.backends.ray_options import ClusterShape, TaskOptions, cluster_shape, task_options
from leakhunt.backends.ray_placement import hosts_note
from leakhunt.backends.ray_task import (
    PLACEMENT_SUFFIX,
    WorkerPayload,
    add_placement,
    run_strategy_on_worker,
    unpack_folder,
)
from leakhunt.errors import BadInputError
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.records import StatusJson
from leakhunt.rundir.run_json import BackendJson, PlacementJson
from leakhunt.sampling.oom import oom_kill_count

# ray.init() retries an address where nothing listens for ever, printing a warning every few seconds: the
# address is tried first with a plain TCP connect that gives up after this long.
ADDRESS_PROBE_TIMEOUT_S = 5.0
# After Ctrl-C, how long cancelled tasks get to be reported as cancelled before the run stops waiting.
CANCEL_WAIT_S = 10.0
WAIT_TICK_S = 1.0


def import_ray() -> Any:
    """Ray, or one clear line (exit 2) when it is not installed."""
    try:
        import ray
    except ImportError:
        raise BadInputError("--backend ray needs Ray, which is not installed; "
                            "pip install 'leakhunt[ray]' (or pip install ray)") from None
    return ray


def probe_address(address: str | None, timeout_s: float = ADDRESS_PROBE_TIMEOUT_S) -> None:
    """BadInputError unless something listens at a host:port (or ray://host:port) address; `auto` and None
    are Ray's to resolve."""
    if address is None or address.strip().lower() in ("auto", "local"):
        return
    host, _, port = address.strip().removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise BadInputError(f"--ray-address must be host:port, ray://host:port or auto, got '{address}'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BadInputError(f"no Ray cluster answers at {address} ({reason}); start one with `ray start --head` "
                            "or check the address") from None


class RayBackend:
    name = "ray"

    def __init__(self, config: RunConfig):
        self.config = config
        self.ray: Any = None
        self.owns_connection = False
        self.cluster = ClusterShape(())
        self.options: dict[int, TaskOptions] = {}
        self.placements: dict[int, PlacementJson] = {}
        self.task_wall_s: dict[int, float] = {}
        # index -> {submitted, started, finished, collected} (time.time()): Ray's own cost per strategy.
        self.timeline: dict[int, dict[str, float]] = {}
        # Folders live here on the worker while a strategy runs; on this host the driver can salvage them.
        self.worker_root = Path(tempfile.gettempdir()) / f"leakhunt-ray-{uuid.uuid4().hex[:12]}"
        self._oom_kills_before: int | None = None

    def connect(self) -> None:
        ray = self.ray = import_ray()
        if ray.is_initialized():
            self.owns_connection = False  # an API caller's own ray.init(): use it, leave it running
        else:
            address = self.config.ray_address
            probe_address(address)
            try:
                # No dashboard and quiet logs: a profiler's terminal is for its findings.
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
            except Exception as error:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError from Ray
                where = f"at {address}" if address else "locally"
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise BadInputError(f"cannot start or reach a Ray cluster {where}: {first}") from None
            self.owns_connection = True
        self.cluster = cluster_shape(ray.nodes())
        self.options = {index: task_options(spec, self.cluster, self.config.ray_cpus_per_strategy)
                        for index, spec in enumerate(self.config.strategies)}
        self._oom_kills_before = oom_kill_count(os.getpid())

    def _payload(self, index: int) -> WorkerPayload:
        spec = self.config.strategies[index]
        options = self.options[index]
        one = dataclasses.replace(self.config, strategies=(spec,), show_progress=False)
        return WorkerPayload(index=index, count=len(self.config.strategies), config_json=one.to_json(),
                             folder_name=rundir.strategy_dir_name(index, spec.name),
                             worker_root=str(self.worker_root), num_cpus=options.num_cpus,
                             num_gpus=options.num_gpus, driver_omp_num_threads=os.environ.get("OMP_NUM_THREADS"))

    def run_strategies(self, config: RunConfig, display: ProgressDisplay, statuses: Statuses) -> None:
        ray = self.ray
        # Every task shares max_calls/max_retries (TaskOptions.remote_kwargs); resources differ per strategy.
        remote = ray.remote(**self.options[0].remote_kwargs())(run_strategy_on_worker)
        submitted_s: dict[int, float] = {}
        pending: dict[Any, int] = {}
        try:
            for index in range(len(config.strategies)):
                submitted_s[index] = time.monotonic()
                self.timeline[index] = {"submitted": time.time()}
                options = self.options[index].options_kwargs()
                pending[remote.options(**options).remote(self._payload(index))] = index
            cpu_options = [o.num_cpus for o in self.options.values() if o.num_gpus == 0]
            display.message(f"leakhunt: {len(pending)} strategies queued on Ray ({self.cluster.describe()}); each "
                            f"CPU strategy holds {max(cpu_options, default=0)} CPUs, each GPU strategy a whole GPU")
            while pending:
                # A timeout keeps the driver's Python code running, so a Ctrl-C is seen within a second.
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_TICK_S)
                for ref in ready:
                    index = pending.pop(ref)
                    statuses[index] = self._collect(ref, index, time.monotonic() - submitted_s[index], display)
        except KeyboardInterrupt:
            self._cancel(pending, submitted_s, display, statuses)
            raise

    def _collect(self, ref: Any, index: int, wall_s: float, display: ProgressDisplay) -> StatusJson:
        """One finished task: its folder into the run folder, or a status saying why nothing came back."""
        ray, config = self.ray, self.config
        spec = config.strategies[index]
        folder = config.out_dir / rundir.STRATEGIES_DIR / rundir.strategy_dir_name(index, spec.name)
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as error:
            status = self._salvage(index, folder, describe_ray_failure(error, self._oom_kills_since_start()), wall_s)
        else:
            unpack_folder(result.folder_tar_gz, folder)
            self.placements[index] = result.placement.to_json()
            self.task_wall_s[index] = round(result.worker_wall_s, 3)
            self.timeline[index].update(started=result.started_unix_s, finished=result.finished_unix_s,
                                        collected=time.time())
            status = result.status
        placement = self.placements.get(index)
        host = placement.get("host_name", "an unknown host") if placement else "an unknown host"
        display.message(f"leakhunt: [{index + 1}/{len(config.strategies)}] {spec.name} on {host}: "
                        f"{status['outcome']}: {status['description']} ({status['iterations_completed']} "
                        f"iterations, {wall_s:.1f} s since queued)")
        return status

    def _salvage(self, index: int, folder: Path, failure: RayFailure, wall_s: float) -> StatusJson:
        """No result came back: keep what the worker left on this host (a local cluster), then say why."""
        worker_folder = self.worker_root / folder.name
        placement_path = self.worker_root / (folder.name + PLACEMENT_SUFFIX)
        placement: PlacementJson | None = rundir.read_json(placement_path) if placement_path.is_file() else None
        description = failure.description
        if worker_folder.is_dir():
            shutil.copytree(worker_folder, folder, dirs_exist_ok=True)
            shutil.rmtree(worker_folder, ignore_errors=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            where = f" on {placement['host_name']}" if placement else ""
            description += f"; no data came back (the worker's folder{where} was {worker_folder})"
        spec = self.config.strategies[index]
        if not (folder / rundir.STRATEGY_FILE).is_file():
            rundir.write_json_atomic(folder / rundir.STRATEGY_FILE, spec.to_json())
        if placement is not None:
            add_placement(folder / rundir.STRATEGY_FILE, placement)
            self.placements[index] = placement
            placement_path.unlink(missing_ok=True)
        status = failure_status(dataclasses.replace(failure, description=description), folder,
                                self.config.warmup_steps, wall_s).to_json()
        rundir.write_json_atomic(folder / rundir.STATUS_FILE, status)
        return status

    def _cancel(self, pending: dict[Any, int], submitted_s: dict[int, float], display: ProgressDisplay,
                statuses: Statuses) -> None:
        """Ctrl-C: cancel what is outstanding; a task that had started keeps its data as `interrupted`."""
        ray = self.ray
        if not pending:
            return
        display.message(f"leakhunt: cancelling {len(pending)} outstanding Ray task(s)")
        for ref in pending:
            ray.cancel(ref, force=True)
        ray.wait(list(pending), num_returns=len(pending), timeout=CANCEL_WAIT_S)
        for ref, index in sorted(pending.items(), key=lambda item: item[1]):
            name = rundir.strategy_dir_name(index, self.config.strategies[index].name)
            if (self.worker_root / name).is_dir():  # it had started: report it like a local interrupted child
                statuses[index] = self._collect(ref, index, time.monotonic() - submitted_s[index], display)

    def _oom_kills_since_start(self) -> int | None:
        after = oom_kill_count(os.getpid())
        if after is None or self._oom_kills_before is None:
            return None
        return after - self._oom_kills_before

    def describe(self) -> BackendJson:
        ray_version = getattr(self.ray, "__version__", None)
        return {
            "name": self.name, "ray_version": ray_version, "address": self.config.ray_address,
            "cluster": [node.to_json() for node in self.cluster.nodes],
            "task_options": {str(index): options.to_json() for index, options in self.options.items()},
            "placements": {str(index): placement for index, placement in sorted(self.placements.items())},
            "worker_wall_s": {str(index): wall for index, wall in sorted(self.task_wall_s.items())},
            "timeline_unix_s": {str(index): times for index, times in sorted(self.timeline.items())},
            # The report says so when strategies ran on several hosts: latencies are then not comparable.
            "hosts_note": hosts_note(self.config.strategies, self.placements),
        }

    def close(self) -> None:
        if self.ray is not None and self.owns_connection and self.ray.is_initialized():
            self.ray.shutdown()
        shutil.rmtree(self.worker_root, ignore_errors=True)
