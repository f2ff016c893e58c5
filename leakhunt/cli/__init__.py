"""The command line, and nothing but: typer options in, one call into the core out, a LeakhuntError turned into
one line on stderr and its exit code. app.py (the typer app and its small commands), soak.py (`leakhunt soak`'s
options and body, over leakhunt.api.soak), model.py (`leakhunt model ...`).

May import: api, soak_options, runner, report, rundir, strategies, models, errors (heavy ones inside the commands,
so `leakhunt --help` stays fast and never imports TensorFlow).
"""

# The console script's entry point is `leakhunt.cli:main` (pyproject.toml).
from leakhunt.cli.app import main as main

__all__ = ["main"]
