"""The benchmarks' shared harness: one way to run a case, repeat it under load, load its results, print a table
and write the JSON results file. Every script in benchmarks/ uses it; none starts a soak its own way.

- `soak(strategies, out, ...)` (soak.py): one soak through the public API (`leakhunt.run_soak`, what
  `leakhunt.soak()` runs), under an optional load; `run_cli(...)` for the benchmarks that measure the
  `leakhunt` command itself (its process, its start-up), which say why where they use it.
- `conditions`, `hog_load`, `Progress`, `runs_folder`, `interruptible` (repeats.py): quiet / CPU-hog repeats
  (benchmarks/hog.py), progress lines on stderr, the run folders kept or deleted, Ctrl-C keeping what ran.
- `read_summary`, `strategy_folder`, `measured_steps`, ... (results.py): a run folder's results.
- `markdown_table`, `text_table`, `write_json` (table.py): the printed tables and the results file.
- `module_constants`, `workload_function`, `builtin_target` (workloads.py): cases read without TensorFlow.

Scripts import it by its bare name: `python benchmarks/X.py` puts benchmarks/ first on sys.path, as it does
for `hog` (mypy finds both through mypy_path in pyproject.toml). Imports nothing heavy: TensorFlow stays in
the soak's child.
"""

from _harness.repeats import Progress, conditions, hog_load, interruptible, load_average_1m, runs_folder
from _harness.results import (
    entries_by_name,
    measured_loop,
    measured_steps,
    read_json,
    read_summary,
    strategy_folder,
    strategy_folder_named,
)
from _harness.soak import WARMUP_STEPS, SoakRun, Strategy, builtin, leakhunt_command, run_cli, soak, workload
from _harness.table import markdown_table, text_table, write_json
from _harness.workloads import (
    BENCHMARKS,
    PATTERNS,
    REPO,
    WORKLOADS,
    builtin_target,
    module_constants,
    workload_function,
)

__all__ = [
    "BENCHMARKS", "PATTERNS", "REPO", "WARMUP_STEPS", "WORKLOADS", "Progress", "SoakRun", "Strategy", "builtin",
    "builtin_target", "conditions", "entries_by_name", "hog_load", "interruptible", "leakhunt_command",
    "load_average_1m", "markdown_table", "measured_loop", "measured_steps", "module_constants", "read_json",
    "read_summary", "run_cli", "runs_folder", "soak", "strategy_folder", "strategy_folder_named", "text_table",
    "workload", "workload_function", "write_json",
]
