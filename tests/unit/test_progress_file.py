"""The shared progress and stop files: a reader in another process never sees a half-written word."""

from __future__ import annotations

import os
import time

from leakhunt.rundir.progress_file import NOT_STARTED, ProgressFile, StopFlag

WRITER_STEPS = 3_000_000


def test_a_reader_never_sees_the_progress_go_back_while_a_fast_child_publishes_it(tmp_path):
    # struct.pack_into zeroed the struct before writing it: ~2% of reads during a fast writer saw 0 steps.
    path = tmp_path / "progress.bin"
    reader = ProgressFile(path, create=True)
    pid = os.fork()
    if pid == 0:  # the writer: publish steps as fast as a sub-microsecond workload would
        writer = ProgressFile(path)
        for step in range(1, WRITER_STEPS + 1):
            writer.mark_step_start(step, float(step))
        os._exit(0)
    highest, reads, went_back, mismatched = NOT_STARTED, 0, 0, 0
    while True:
        steps_done, start_s = reader.read()
        reads += 1
        went_back += steps_done < highest
        # The start is stored first: it belongs to this step or to a later one, never to an earlier one.
        mismatched += steps_done > 0 and start_s < steps_done
        highest = max(highest, steps_done)
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
    assert reads > 1000
    assert (went_back, mismatched) == (0, 0)
    assert reader.read() == (WRITER_STEPS, float(WRITER_STEPS))
    reader.close()


def test_the_progress_file_starts_not_started_and_survives_its_writer(tmp_path):
    path = tmp_path / "progress.bin"
    parent = ProgressFile(path, create=True)
    assert parent.read() == (NOT_STARTED, 0.0)
    child = ProgressFile(path)
    child.mark_step_start(145, time.monotonic())
    child.close()
    assert parent.read()[0] == 145
    parent.close()


def test_the_stop_flag_carries_a_stop_and_a_count_of_requested_collections(tmp_path):
    parent = StopFlag(tmp_path / "stop.bin", create=True)
    child = StopFlag(tmp_path / "stop.bin")
    assert not child.stop_requested() and child.collections_requested() == 0
    parent.request_collection()
    parent.request_collection()
    assert child.collections_requested() == 2 and not child.stop_requested()
    parent.request_stop()
    assert child.stop_requested() and child.collections_requested() == 2
    parent.close()
    child.close()
