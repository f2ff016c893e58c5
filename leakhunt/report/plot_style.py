"""The shared look of every panel: colors of what is not a strategy, axis styling, legends below the data."""

from __future__ import annotations

NEUTRAL = "#555555"  # series that are not the strategy itself (USS, secondary axis, reference)
FIT_COLOR = "#000000"
WARMUP_COLOR = "#999999"
DETECTED_WARMUP_COLOR = "#e8d9a8"
BOUNDS_COLOR = "#333333"


def legend_below(axis, handles, labels, columns: int = 3) -> None:
    if handles:
        # Below the axes, from its left edge: never over the data, never off the figure's left side.
        axis.legend(handles, labels, loc="upper left", bbox_to_anchor=(-0.02, -0.2), ncol=columns, fontsize=7,
                    frameon=False, handlelength=1.6, columnspacing=1.0)


def style_axis(axis) -> None:
    axis.tick_params(labelsize=7)
    axis.grid(True, color="#eeeeee", linewidth=0.6)
    axis.set_axisbelow(True)
