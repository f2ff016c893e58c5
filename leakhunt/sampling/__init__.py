"""Parent-side samplers: read a child's memory from outside, on the parent's steady clock."""

from leakhunt.sampling.base import Probe, Sampler
from leakhunt.sampling.nvml import NvmlSampler
from leakhunt.sampling.rss import RssSampler

__all__ = ["Probe", "Sampler", "RssSampler", "NvmlSampler"]
