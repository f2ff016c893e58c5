"""leakhunt: a memory-leak and latency diagnostic profiler for TensorFlow inference."""

__version__ = "0.1.0"
