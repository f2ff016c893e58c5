"""`leakhunt doctor`: what this machine can measure, and why not, before a long soak.

Each check is a Finding (name, status ok/warn/missing, detail). The GPU checks run TensorFlow in a short
child process (the doctor's own process never imports it), and that child allocates on the GPU so NVML's
per-process attribution is tested for real: inside a container NVML reports host PIDs and a soak would
see the child's GPU memory as zero. Nothing here raises for a missing GPU, NVML or cgroup: they are findings.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

OK, WARN, MISSING = "ok", "warn", "missing"
# The GPU probe child: import TF, list GPUs, allocate ~256 MiB on the first one and hold it while the
# parent asks NVML who owns memory; it prints one JSON line and waits for the parent to close stdin.
_GPU_PROBE = r"""
import json, os, sys
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
info = {"pid": os.getpid(), "tf": tf.__version__, "tf_gpus": [g.name for g in gpus]}
if gpus:
    with tf.device("/GPU:0"):
        held = tf.ones((64, 1024, 1024), tf.float32)
    info["allocator_bytes"] = tf.config.experimental.get_memory_info("GPU:0")["current"]
else:
    info["allocator_bytes"] = tf.config.experimental.get_memory_info("CPU:0")["current"]
print(json.dumps(info), flush=True)
sys.stdin.read()
"""
GPU_PROBE_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Finding:
    name: str
    status: str
    detail: str


def _versions() -> list[Finding]:
    from importlib import metadata

    findings = [Finding("python", OK, f"{platform.python_version()} ({sys.executable})")]
    for package in ("tensorflow", "numpy", "psutil", "nvidia-ml-py"):
        try:
            findings.append(Finding(package, OK, metadata.version(package)))
        except metadata.PackageNotFoundError:
            status = WARN if package in ("tensorflow", "nvidia-ml-py") else MISSING
            findings.append(Finding(package, status, "not installed"))
    return findings


def _nvml_findings(nvml_module: Any = None) -> tuple[list[Finding], Any]:
    from leakhunt.sampling.nvml import NvmlSampler

    sampler = NvmlSampler(nvml_module)
    probe = sampler.probe()
    if not probe.available:
        return [Finding("nvml", MISSING, probe.reason)], None
    devices = sampler.describe_devices()
    text = "; ".join(f"{d.get('index')}: {d.get('name')} {d.get('uuid', '')}".strip() for d in devices)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    detail = f"driver {sampler.driver_version()}; {text}"
    if visible is not None:
        detail += f" (CUDA_VISIBLE_DEVICES={visible})"
    return [Finding("nvml", OK, detail)], sampler


def _sampler_cost_us(function, repeats: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats * 1e6


def _gpu_probe(nvml_sampler: Any) -> list[Finding]:
    """Spawn a TF child that allocates on the GPU; check that NVML attributes memory to its PID."""
    try:
        child = subprocess.Popen([sys.executable, "-c", _GPU_PROBE], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        return [Finding("tensorflow devices", MISSING, f"cannot start a child: {error}")]
    try:
        line = child.stdout.readline() if child.stdout else ""
        if not line:
            child.wait(timeout=GPU_PROBE_TIMEOUT_S)
            tail = (child.stderr.read() if child.stderr else "").strip().splitlines()[-1:] or ["no output"]
            return [Finding("tensorflow devices", MISSING, f"TensorFlow could not start: {tail[0]}")]
        info = json.loads(line)
        findings = [Finding("tensorflow devices", OK if info["tf_gpus"] else WARN,
                            f"TF {info['tf']} sees {', '.join(info['tf_gpus']) or 'no GPU'}"),
                    Finding("tf allocator", OK, f"get_memory_info reads {info['allocator_bytes'] / 2**20:.0f} MiB "
                            f"in use on {'GPU:0' if info['tf_gpus'] else 'CPU:0'}")]
        if nvml_sampler is not None and info["tf_gpus"]:
            nvml_sampler.start_watch(info["pid"])
            for _ in range(3):
                row = nvml_sampler.sample(info["pid"])
                time.sleep(0.2)
            attribution = nvml_sampler.attribution()
            status = OK if attribution == "available" else WARN
            detail = (f"NVML attributes {row['gpu_process_bytes'] / 2**20:.0f} MiB to the child"
                      if status == OK else f"{attribution}; soaks judge GPU memory on the TF allocator and the "
                                           "device's used memory instead")
            findings.append(Finding("gpu process attribution", status, detail))
            findings.append(Finding("nvml sample cost", OK,
                                    f"{_sampler_cost_us(lambda: nvml_sampler.sample(info['pid']), 50):.0f} us"))
        elif info["tf_gpus"]:
            findings.append(Finding("gpu process attribution", WARN, "TF sees a GPU but NVML does not"))
        return findings
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _host_findings() -> list[Finding]:
    from leakhunt.sampling.machine_speed import MachineSpeedReference
    from leakhunt.sampling.memcap import MemoryCgroup
    from leakhunt.sampling.rss import RssSampler, read_uss_bytes
    from leakhunt.sampling.self_memory import SelfMemoryReader

    reader = SelfMemoryReader()
    heap_missing = reader.unavailable.get("heap")
    heap_bytes = None if heap_missing else reader.heap_bytes()
    heap_text = heap_missing or ("mallinfo2(): no reading" if heap_bytes is None
                                 else f"mallinfo2(): {heap_bytes / 2**20:.1f} MiB in use in this process")
    findings = [Finding("c heap counters", MISSING if heap_missing else OK, heap_text)]
    cost = _sampler_cost_us(lambda: (reader.rss_bytes(), reader.heap_bytes(), reader.python_blocks()), 500)
    findings.append(Finding("in-child reading cost", OK, f"{cost:.1f} us per reading (RSS, C heap, Python blocks)"))
    reader.close()
    cgroup = MemoryCgroup.create(256 * 2**20)
    if cgroup is None:
        findings.append(Finding("memory cgroup", WARN, "cannot create one here: --memory-limit falls back to the "
                                                        "parent killing the child when its RSS passes the cap"))
    else:
        findings.append(Finding("memory cgroup", OK, f"--memory-limit uses {cgroup.describe()}"))
        cgroup.remove()
    rss = RssSampler()
    pid = os.getpid()
    findings.append(Finding("rss sample cost", OK, f"{_sampler_cost_us(lambda: rss.sample(pid)):.0f} us"))
    uss_cost = _sampler_cost_us(lambda: read_uss_bytes(pid), 20)
    findings.append(Finding("uss sample cost", OK if read_uss_bytes(pid) is not None else WARN,
                            f"{uss_cost:.0f} us for this process (grows with the child's mappings)"))
    reference = MachineSpeedReference()
    readings = [reference.measure() for _ in range(9)]
    compute_ms = sorted(reading.compute_ms for reading in readings)[4]
    memory_ms = sorted(reading.memory_ms for reading in readings)[4]
    findings.append(Finding("machine-speed reference", OK,
                            f"compute kernel {compute_ms:.3f} ms, memory kernel {memory_ms:.3f} ms (medians of 9)"))
    return findings


def run_doctor(check_gpu: bool = True, nvml_module: Any = None) -> list[Finding]:
    """All findings; `nvml_module` replaces pynvml (tests use a fake where no GPU exists)."""
    findings = _versions()
    nvml_findings, sampler = _nvml_findings(nvml_module)
    findings += nvml_findings
    if check_gpu:
        findings += _gpu_probe(sampler)
    findings += _host_findings()
    if sampler is not None:
        sampler.close()
    return findings


def render_table(findings: list[Finding]) -> str:
    width = max(len(finding.name) for finding in findings)
    return "\n".join(f"{finding.name:<{width}}  {finding.status:<7}  {finding.detail}" for finding in findings)


def render_json(findings: list[Finding]) -> str:
    return json.dumps({"findings": [asdict(finding) for finding in findings]}, indent=2)
