"""The model cache across processes (a builder killed half-way, two builders at once) and the installed CLI on a
bad model file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import REPO_ROOT
from helpers.model_files import make_random_bytes
from leakhunt.models import cache

CACHE_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from leakhunt.models import cache

    mode = sys.argv[1]

    def build(temp_path):
        with open(Path(os.environ["BUILD_LOG"]), "a") as log:
            log.write(f"{os.getpid()}\\n")
        temp_path.write_bytes(b"half")
        if mode == "killed":
            os.kill(os.getpid(), 9)  # a build killed half-way
        time.sleep(0.5)
        temp_path.write_bytes(b"complete")

    print(cache.cached_entry("entry.bin", build))
    """
)


def _cache_child(mode, cache_dir, build_log):
    env = {**os.environ, cache.CACHE_DIR_ENV: str(cache_dir), "BUILD_LOG": str(build_log)}
    return subprocess.Popen(
        [sys.executable, "-c", CACHE_CHILD, mode], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )


def test_a_build_killed_half_way_leaves_no_loadable_entry(tmp_path):
    cache_dir, build_log = tmp_path / "cache", tmp_path / "builds.log"
    killed = _cache_child("killed", cache_dir, build_log)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    entry = cache_dir / "models" / "entry.bin"
    assert not entry.exists()
    leftovers = [path for path in (cache_dir / "models").iterdir() if path.name.startswith(cache.TEMP_PREFIX)]
    assert leftovers  # the half-built temp is there, under a name no reader looks up

    rebuilt = _cache_child("ok", cache_dir, build_log)
    output, _ = rebuilt.communicate(timeout=60)
    assert Path(output.strip()) == entry and entry.read_bytes() == b"complete"


def test_concurrent_builders_build_once_and_agree(tmp_path):
    cache_dir, build_log = tmp_path / "cache", tmp_path / "builds.log"
    children = [_cache_child("ok", cache_dir, build_log) for _ in range(2)]
    outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert outputs[0] == outputs[1]
    assert Path(outputs[0]).read_bytes() == b"complete"
    assert len(build_log.read_text().split()) == 1


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_the_installed_cli_reports_a_bad_model_in_one_line(tmp_path, frozen_path):
    bad_path = make_random_bytes(tmp_path, frozen_path)
    result = subprocess.run(
        [sys.executable, "-m", "leakhunt", "model", "info", "--model", str(bad_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert f"leakhunt: error: {bad_path}" in result.stderr
