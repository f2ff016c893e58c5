"""Memory and speed readings. The parent's samplers read a child from outside on a steady clock (rss.py,
nvml.py; memcap.py and oom.py, the child's memory cgroup); the child's readings of itself live here too
(self_memory.py, machine_speed.py, full_collection.py, and schedule.py: when it reads).

May import: nothing else in leakhunt (both sides of the process boundary use it).
"""

from leakhunt.sampling.base import Probe, Sampler
from leakhunt.sampling.nvml import NvmlSampler
from leakhunt.sampling.rss import RssSampler

__all__ = ["Probe", "Sampler", "RssSampler", "NvmlSampler"]
