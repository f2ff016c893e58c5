"""The words a verdict is made of, as Literal types: mypy catches a misspelt verdict or pattern where one is
built or compared. The tuples list the same words for code that iterates over them."""

from __future__ import annotations

from typing import Literal, get_args

# What memory does: the verdict of one series, and of a strategy whose child ended normally.
MemoryVerdict = Literal["leak", "plateau", "flat", "inconclusive"]
# A strategy's verdict: a child that crashed or failed is that, whatever its memory did.
StrategyVerdict = Literal["leak", "plateau", "flat", "inconclusive", "crashed", "failed"]
# The shape behind a verdict (docs/verdicts.md describes each); "no-data" when a series has no readings.
Pattern = Literal["short", "persists", "collected", "sawtooth-rising", "sawtooth", "step", "none", "stopped",
                  "slowing", "linear", "bounded", "unclear-end", "noisy", "retained", "no-data"]

MEMORY_VERDICTS: tuple[MemoryVerdict, ...] = get_args(MemoryVerdict)
VERDICTS: tuple[StrategyVerdict, ...] = get_args(StrategyVerdict)
PATTERNS: tuple[Pattern, ...] = get_args(Pattern)
