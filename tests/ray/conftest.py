"""Ray tier: soaks through a real local Ray instance (2 CPUs, started by the tests). Each module here starts
with `pytest.importorskip("ray")`, so the folder skips cleanly where Ray is not installed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
RAY_TEST_CPUS = 2


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray instance for one test module; the CLI under test joins it with --ray-address."""
    import ray

    ray.init(num_cpus=RAY_TEST_CPUS, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
