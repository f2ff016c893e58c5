"""leakhunt: a memory-leak and latency diagnostic profiler for TensorFlow inference.

`leakhunt.soak(...)` is the Python API (leakhunt/api.py; its options and their defaults are SoakOptions',
leakhunt/soak_options.py). Both import nothing heavy, so `import leakhunt` stays cheap (the pytest plugin
imports this package in every test session); the runner is imported when a soak starts.
"""

from leakhunt._version import __version__
from leakhunt.api import SoakResult, StrategyResult, run_soak, soak
from leakhunt.errors import BadInputError, LeakhuntError
from leakhunt.soak_options import SoakOptions

__all__ = ["soak", "run_soak", "SoakOptions", "SoakResult", "StrategyResult", "LeakhuntError", "BadInputError",
           "__version__"]
