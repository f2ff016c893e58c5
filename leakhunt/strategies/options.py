"""The axes that combine with any strategy (batch, resize, gpu-memory, device): parsing and meaning.

Each axis value travels to the child as a canonical string ("thumbnail:600", "fraction:0.7"); this
module turns it into a small frozen object, in the parent (to validate) and in the child (to apply).
No TensorFlow import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leakhunt.errors import BadInputError
from leakhunt.workloads.resize import ResizeSpec

# ResizeSpec lives with the images it resizes (workloads/); it is re-exported as part of this module's axes.
__all__ = ["DEFAULT_BATCH", "DEFAULT_GPU_MEMORY", "DEFAULT_RESIZE", "DEVICES", "GpuMemorySpec", "ResizeSpec",
           "parse_batch_value", "parse_device_value", "parse_gpu_memory_value", "parse_resize_value"]

DEFAULT_BATCH = 1
DEFAULT_RESIZE = "none"
DEFAULT_GPU_MEMORY = "default"
DEVICES = ("cpu", "gpu")

_SIZE = re.compile(r"^(\d+)x(\d+)$")


@dataclass(frozen=True)
class GpuMemorySpec:
    """GPU memory policy: "default" (TF grabs nearly all), "growth", or a fraction of the card."""

    mode: str
    fraction: float = 0.0

    @property
    def text(self) -> str:
        return f"fraction:{self.fraction:g}" if self.mode == "fraction" else self.mode


def parse_batch_value(text: str | int) -> int:
    """A batch size from the command line (text) or from code (an int); at least 1."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise BadInputError(f"--batch must be a whole number of images greater than 0, got '{text}'") from None
    if value <= 0:
        raise BadInputError(f"--batch must be a whole number of images greater than 0, got {value}")
    return value


def _positive_size(text: str, option_value: str) -> tuple[int, int]:
    match = _SIZE.match(text)
    if match is None:
        raise BadInputError(
            f"--resize '{option_value}': the size must look like 640x480 (width x height in pixels)"
        )
    width, height = int(match.group(1)), int(match.group(2))
    if width <= 0 or height <= 0:
        raise BadInputError(f"--resize '{option_value}': width and height must be greater than 0")
    return width, height


def parse_resize_value(text: str) -> ResizeSpec:
    """'none', 'thumbnail:600', 'thumbnail:600x400', 'fixed:640x640' (case-insensitive)."""
    cleaned = str(text).strip().lower()
    usage = "use none, thumbnail:N, thumbnail:WxH or fixed:WxH"
    if cleaned == "none":
        return ResizeSpec("none")
    mode, sep, size = cleaned.partition(":")
    if not sep or mode not in ("thumbnail", "fixed"):
        raise BadInputError(f"--resize '{text}' is not a resize mode; {usage}")
    if mode == "thumbnail" and size.isdigit():
        side = int(size)
        if side <= 0:
            raise BadInputError(f"--resize '{text}': the thumbnail size must be greater than 0")
        return ResizeSpec("thumbnail", side, side)
    width, height = _positive_size(size, text)
    return ResizeSpec(mode, width, height)


def parse_gpu_memory_value(text: str) -> GpuMemorySpec:
    """'default', 'growth' or 'fraction:F' with 0 < F <= 1."""
    cleaned = str(text).strip().lower()
    if cleaned in ("default", "growth"):
        return GpuMemorySpec(cleaned)
    mode, sep, number = cleaned.partition(":")
    if mode != "fraction" or not sep:
        raise BadInputError(f"--gpu-memory '{text}' is not a policy; use default, growth or fraction:F (0 < F <= 1)")
    try:
        fraction = float(number)
    except ValueError:
        raise BadInputError(
            f"--gpu-memory '{text}': the fraction must be a number in (0, 1], e.g. fraction:0.7"
        ) from None
    if not 0.0 < fraction <= 1.0:
        raise BadInputError(f"--gpu-memory '{text}': the fraction must be in (0, 1], e.g. fraction:0.7")
    return GpuMemorySpec("fraction", fraction)


def parse_device_value(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = str(text).strip().lower()
    if cleaned not in DEVICES:
        raise BadInputError(f"--device must be cpu or gpu, got '{text}'")
    return cleaned
