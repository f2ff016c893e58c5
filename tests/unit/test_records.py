"""child.json, error.json and status.json as typed records: what is written reads back the same, and old or
broken files read as defaults instead of failing the report."""

from __future__ import annotations

import json

from leakhunt.harness.exit_status import StrategyStatus
from leakhunt.rundir.records import ChildInfo, ErrorRecord, RunRecord, StatusRecord

# As a TensorFlow child writes it at the end of a completed loop (from a real run folder).
COMPLETED_TF_CHILD = {
    "pid": 24427, "images_per_step": 1, "build_time_s": 8.1018, "tensorflow_loaded": True, "notes": [],
    "tf_version": "2.21.0", "cuda_version": "12.5.1", "cudnn_version": "9", "tf_gpus": [], "unavailable": {},
    "reading_every_steps_last": 1, "stopped_early": False, "close_started_monotonic_s": 33190.124049598,
}
# A child without TensorFlow that died in its loop: only what it wrote once the workload was built.
BUILT_PLAIN_CHILD = {"pid": 24334, "images_per_step": 4, "build_time_s": 0.0007, "tensorflow_loaded": False,
                     "notes": ["uses a cache"], "unavailable": {"heap": "no mallinfo2 in this libc"}}


def test_child_info_reads_back_what_the_child_writes_in_the_same_field_order():
    for written in (COMPLETED_TF_CHILD, BUILT_PLAIN_CHILD):
        record = ChildInfo.from_json(json.loads(json.dumps(written)))
        assert record.to_json() == written
        assert list(record.to_json()) == list(written)


def test_child_info_fields_the_analysis_reads():
    completed = ChildInfo.from_json(COMPLETED_TF_CHILD)
    assert completed.close_started_monotonic_s == 33190.124049598 and completed.tf_version == "2.21.0"
    built = ChildInfo.from_json(BUILT_PLAIN_CHILD)
    assert built.images_per_step == 4.0 and built.notes == ("uses a cache",)
    assert built.close_started_monotonic_s is None and built.stopped_early is None and built.tf_version is None


def test_child_info_from_an_old_or_broken_file_reads_as_defaults():
    assert ChildInfo.from_json({}) == ChildInfo(pid=None)
    broken = ChildInfo.from_json({"images_per_step": 0, "build_time_s": "fast", "notes": "not a list",
                                  "tf_version": 2, "stopped_early": "no", "close_started_monotonic_s": None})
    assert broken.images_per_step == 1.0  # throughput is per image: an unusable count means one per step
    assert broken.build_time_s is None and broken.notes == () and broken.tf_version is None
    assert broken.stopped_early is None and broken.close_started_monotonic_s is None
    assert ChildInfo.from_json({"images_per_step": True}).images_per_step == 1.0


def test_error_record_of_a_raised_exception_round_trips():
    try:
        raise ValueError("boom at 300")
    except ValueError as error:
        record = ErrorRecord.from_exception(error, "step", 300)
    written = record.to_json()
    assert list(written) == ["type", "message", "phase", "step", "traceback"]
    assert written["type"] == "ValueError" and written["step"] == 300
    assert "boom at 300" in written["traceback"]
    assert ErrorRecord.from_json(json.loads(json.dumps(written))) == record
    assert record.text == "ValueError: boom at 300"


def test_error_record_with_missing_fields_still_has_a_text():
    record = ErrorRecord.from_json({"message": "no type"})
    assert record.type is None and record.step is None
    assert record.text == "Error: no type"
    assert ErrorRecord.from_json({}).text == "Error: "


def test_status_record_reads_what_the_parent_writes():
    written = StrategyStatus(
        outcome="completed", exit_code=0, signal=None, signal_name=None, description="completed",
        steps_completed=160, iterations_completed=150, warmup_completed=10, wall_time_s=41.5, memory_limit_hit=False,
        hung=False, bad_workload=False, cgroup_oom_kills=None, memory_limit_method=None,
        gpu_process_attribution="unavailable: host PIDs", stopped_early=True, stop_reason="settled after 150",
    ).to_json()
    status = StatusRecord.from_json(json.loads(json.dumps(written)))
    assert (status.outcome, status.exit_code, status.iterations_completed, status.wall_time_s) == (
        "completed", 0, 150, 41.5)
    assert status.stopped_early and status.stop_reason == "settled after 150"
    assert status.gpu_process_attribution == "unavailable: host PIDs" and not status.memory_limit_hit


def test_status_record_from_a_missing_or_broken_file():
    assert StatusRecord.from_json({}) == StatusRecord()
    broken = StatusRecord.from_json({"outcome": "exploded", "exit_code": "9", "iterations_completed": 12.0,
                                     "wall_time_s": True, "description": None, "stop_reason": 3})
    assert broken.outcome == "unknown" and broken.exit_code is None and broken.iterations_completed == 12
    assert broken.wall_time_s is None and broken.description is None and broken.stop_reason is None


def test_run_record_reads_run_json_as_the_runner_writes_it():
    written = {
        "leakhunt_run_format": 1, "config": {"warmup_steps": 10, "sample_interval_s": 0.1, "iterations": 500},
        "command_line": ["leakhunt", "soak", "-n", "500"], "environment": {"cpu": "Test CPU"},
        "samplers": {"rss": "available"}, "host": {"available_memory_bytes": 8 * 2**30, "gpu_total_bytes": None},
        "started_utc": "2026-11-29T10:00:00Z", "finished_utc": None, "interrupted": True, "notes": ["a note"],
        "backend": {"name": "ray", "hosts_note": "ran on 2 hosts"},
    }
    run = RunRecord.from_json(json.loads(json.dumps(written)))
    assert (run.warmup_steps, run.sample_interval_s, run.cpu, run.backend_name) == (10, 0.1, "Test CPU", "ray")
    assert run.command_line == ("leakhunt", "soak", "-n", "500") and run.interrupted and run.finished_utc is None
    assert run.host["available_memory_bytes"] == 8 * 2**30 and run.notes == ("a note",)


def test_run_record_from_an_old_or_broken_run_json():
    assert RunRecord.from_json({}) == RunRecord() and RunRecord().backend_name == "local"
    broken = RunRecord.from_json({"config": {"warmup_steps": -1, "command_line": ["leakhunt"]}, "host": "?",
                                  "environment": None, "notes": "not a list"})
    assert broken.warmup_steps is None and broken.host == {} and broken.environment == {} and broken.notes == ()
    assert broken.command_line == ("leakhunt",)  # very old folders kept it inside config
