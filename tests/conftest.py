"""Fixtures shared by every tier; plain helpers live in helpers.py."""

from __future__ import annotations

import pytest

from helpers import FAULTS, run_cli
from leakhunt.models import cache

MODEL_PRESET = "tiny"


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def faults_path() -> str:
    return str(FAULTS)


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory):
    """A fresh model cache for this session's model tests: they prove the build-on-first-use path."""
    return tmp_path_factory.mktemp("leakhunt_cache")


@pytest.fixture
def use_model_cache(model_cache_dir, monkeypatch):
    """Point LEAKHUNT_CACHE_DIR at the session's model cache for one test (undone after it)."""
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(model_cache_dir))
    return model_cache_dir


@pytest.fixture(scope="session")
def frozen_path(model_cache_dir):
    """The tiny preset's frozen graph, built once per session in the session's model cache."""
    from leakhunt.models import get_frozen_graph_path

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cache.CACHE_DIR_ENV, str(model_cache_dir))
        return get_frozen_graph_path(MODEL_PRESET, seed=0)
