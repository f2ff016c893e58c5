"""How each image is resized before the feed: the one type the strategies' resize axis and the image loader
share (it lives here, with the images, so workloads/ never imports strategies/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResizeSpec:
    """How Pillow resizes each image before the feed.

    mode "none": as loaded; "thumbnail": PIL's Image.thumbnail((width, height)), which keeps the aspect
    ratio and never enlarges; "fixed": Image.resize((width, height)), aspect ratio not kept.
    """

    mode: str
    width: int = 0
    height: int = 0

    @property
    def text(self) -> str:
        if self.mode == "none":
            return "none"
        if self.mode == "thumbnail" and self.width == self.height:
            return f"thumbnail:{self.width}"
        return f"{self.mode}:{self.width}x{self.height}"
