"""What every backend provides (see leakhunt/backends/__init__.py for the two there are)."""

from __future__ import annotations

from typing import Protocol

from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.records import StatusJson
from leakhunt.rundir.run_json import BackendJson

# One status.json dict per strategy that ran, keyed by its index in config.strategies (Ray finishes them out
# of order; a Ctrl-C leaves the ones that finished).
Statuses = dict[int, StatusJson]


class Backend(Protocol):
    name: str

    def connect(self) -> None:
        """Check the backend can run this config, before any folder is created (BadInputError if not)."""

    def run_strategies(self, config: RunConfig, display: ProgressDisplay, statuses: Statuses) -> None:
        """Run every strategy, filling `statuses` as each one ends; KeyboardInterrupt after stopping them."""

    def describe(self) -> BackendJson:
        """run.json's `backend` record: what ran where (`hosts_note` when that was several hosts)."""

    def close(self) -> None:
        """Release what connect() took (a local Ray instance)."""
