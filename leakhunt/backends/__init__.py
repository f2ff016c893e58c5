"""Where a run's strategies execute: `local` (one child after another on this machine, the default) or `ray`
(one Ray task per strategy, spread over a cluster). runner.run owns the run folder and the outputs; a backend
only runs the strategies and leaves each one's folder under <run>/strategies/.

Nothing here imports Ray: ray_backend.py imports it lazily, only when `--backend ray` was asked for.

May import: harness, attribution, sampling, rundir, errors.
"""

from __future__ import annotations

from leakhunt.backends.base import Backend, Statuses
from leakhunt.rundir.config import RunConfig
from leakhunt.sampling import NvmlSampler, RssSampler

__all__ = ["Backend", "Statuses", "make_backend"]


def make_backend(config: RunConfig, rss: RssSampler, nvml: NvmlSampler | None) -> Backend:
    if config.backend == "ray":
        from leakhunt.backends.ray_backend import RayBackend

        return RayBackend(config)
    from leakhunt.backends.local import LocalBackend

    return LocalBackend(rss, nvml)
