"""The model cache in-process: a failed build leaves no entry; the cache root follows the environment."""

from __future__ import annotations

import pytest

from leakhunt.models import cache


def test_a_failed_build_in_process_leaves_no_entry(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path))

    def failing_build(temp_path):
        temp_path.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        cache.cached_entry("entry.bin", failing_build)
    assert [path.name for path in (tmp_path / "models").iterdir() if not path.name.endswith(".lock")] == []


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_root() == tmp_path / "leakhunt"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "override"))
    assert cache.cache_root() == tmp_path / "override"
