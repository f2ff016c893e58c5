"""leakhunt: a memory-leak and latency diagnostic profiler for TensorFlow inference.

`leakhunt.soak(...)` is the Python API (leakhunt/api.py); it is imported lazily so `import leakhunt` stays
cheap (the pytest plugin imports this package in every test session).
"""

from typing import Any

from leakhunt._version import __version__
from leakhunt.errors import BadInputError, LeakhuntError

__all__ = ["soak", "LeakhuntError", "BadInputError", "__version__"]


def soak(*workloads: Any, **kwargs: Any):
    """See leakhunt.api.soak."""
    from leakhunt.api import soak as run_soak

    return run_soak(*workloads, **kwargs)
