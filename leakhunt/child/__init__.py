"""The child process, the only process that runs TensorFlow during a soak: build one strategy's workload, warm it
up, loop, and stream its per-iteration latency and its own memory readings into the strategy's folder.

entry.py (`python -m leakhunt.child TASK.json`, through __main__.py): load the workload, write child.json and
error.json, end with one of rundir's CHILD_EXIT_* codes. loop.py: the measured loop and its reading schedule.
readings.py: the child's readings of itself at a reading step. latency.py: the latency of the other steps.

The parent side never imports this package (it starts it as a process); this package knows the parent only
through the run folder. May import: rundir, sampling (the readings it takes of itself), workloads, errors.
Never runner, harness, analysis or report (tests/unit/test_import_graph.py).
"""
