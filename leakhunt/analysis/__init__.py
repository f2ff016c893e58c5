"""Pure analysis of a run folder's data: memory growth, latency, verdicts, hints, projections.

Nothing here imports TensorFlow or touches the disk; functions take arrays/DataFrames and return frozen
results, so `leakhunt report` can rebuild every judgement from the files alone.

May import: rundir (the typed records and latency formats, as data), units, strategies (the registry's names
and code patterns, for the recommendation). Never report (renderers read
analysis, not the other way round) and nothing that runs a process.
"""
