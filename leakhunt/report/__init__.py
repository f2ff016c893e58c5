"""Renderers of a run's summary: summary.json, summary.md, report.html, and run comparisons.

Renderers only format: every number comes from leakhunt.analysis before rendering starts.

May import: analysis, rundir (reading a run folder), strategies (the built-in strategies' descriptions), units.
"""
