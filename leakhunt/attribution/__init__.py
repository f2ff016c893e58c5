"""The attribution pass: where a leak is, line by line, measured in a second child of its own.

Only for a strategy whose verdict pass judged `leak`, and only after that pass was analysed: a fresh child
of the same strategy (same factory, same options) runs a short, fixed number of steps with allocation
tracking on (memray; tracemalloc where memray cannot run), a C-heap witness per source line, and
TensorFlow's own evidence (graph ops and tf.function traces), reading every site's live bytes at several
checkpoints after full collections. The verdict pass is never touched and never waits for this one.

Parent side: run_pass.py (decide, launch, watch, write attribution-status.json). Child side: child_pass.py
(`python -m leakhunt.attribution.child_pass TASK.json`) with its trackers (memray_capture.py,
python_capture.py, heap_witness.py, tf_evidence.py) writing attribution.json. Pure: frames.py (which frame
of a stack is "the user's line"). Per-site slopes, caches and shares are judged by leakhunt.analysis.attribution
from the files, so `leakhunt report` rebuilds them.

May import: rundir, harness (launching, the progress display), sampling, analysis (parent side only), child
(the child side's start-up), workloads (child side only), errors.
"""
