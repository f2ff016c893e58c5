"""The default backend: each strategy in its own child on this machine, one after another (children sharing
a host would pollute each other's memory readings and latencies)."""

from __future__ import annotations

import time

from leakhunt import rundir
from leakhunt.backends.base import Statuses
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.harness.strategy import StrategyRun
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.records import RunRecord
from leakhunt.rundir.run_json import BackendJson
from leakhunt.sampling import NvmlSampler, RssSampler


class LocalBackend:
    name = "local"

    def __init__(self, rss: RssSampler, nvml: NvmlSampler | None):
        self.rss = rss
        self.nvml = nvml

    def connect(self) -> None:
        pass  # this machine was probed by the runner already

    def run_strategies(self, config: RunConfig, display: ProgressDisplay, statuses: Statuses) -> None:
        strategy_wall_s: list[float] = []
        count = len(config.strategies)
        for index, spec in enumerate(config.strategies):
            if strategy_wall_s:
                remaining_s = (sum(strategy_wall_s) / len(strategy_wall_s)) * (count - index)
                display.message(f"leakhunt: about {remaining_s / 60:.1f} min left for {count - index} "
                                f"more strateg{'y' if count - index == 1 else 'ies'}")
            strategy_dir = config.out_dir / rundir.STRATEGIES_DIR / rundir.strategy_dir_name(index, spec.name)
            started_s = time.monotonic()
            statuses[index] = StrategyRun(index, count, spec, config, strategy_dir, self.rss, self.nvml,
                                          display).run()
            if config.attribute == "auto":
                from leakhunt.attribution.run_pass import attribute_strategy

                run = RunRecord.from_json(rundir.read_json(config.out_dir / rundir.RUN_META_FILE))
                attribute_strategy(config, spec, index, strategy_dir, run, display)
            strategy_wall_s.append(time.monotonic() - started_s)

    def describe(self) -> BackendJson:
        return {"name": self.name}

    def close(self) -> None:
        pass
