"""Statistics tier: how often the estimators are right over hundreds of synthetic series (interval coverage,
false-leak rates). Pure like tests/unit (no TensorFlow, no subprocess), but Monte Carlo: ~10 s of fits, so
kept out of the seconds-long unit tier (pytest tests/stats, or -m stats)."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.stats)
