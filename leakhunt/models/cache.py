"""The on-disk cache of built embedded models: one entry per (preset, seed, leakhunt version).

An entry appears only through an atomic os.rename of a fully written temp path, so a build killed
half-way leaves at most a `.tmp-*` leftover that is never read. A per-entry file lock makes concurrent
builders (two soak children) wait for one build instead of racing; the rename still guards a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from leakhunt._version import __version__

CACHE_DIR_ENV = "LEAKHUNT_CACHE_DIR"
TEMP_PREFIX = ".tmp-"
# Leftovers from killed builds older than this are removed; younger ones may belong to a live builder.
STALE_TEMP_AGE_S = 3600.0


def cache_root() -> Path:
    """$LEAKHUNT_CACHE_DIR, else $XDG_CACHE_HOME/leakhunt, else ~/.cache/leakhunt."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "leakhunt"


def models_dir() -> Path:
    return cache_root() / "models"


def entry_name(preset: str, seed: int, suffix: str) -> str:
    return f"mask_rcnn_inception_v2-{preset}-seed{seed}-v{__version__}{suffix}"


@contextlib.contextmanager
def _entry_lock(directory: Path, name: str) -> Iterator[None]:
    lock_path = directory / f".{name}.lock"
    with open(lock_path, "a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _remove_stale_temps(directory: Path) -> None:
    now = time.time()
    for leftover in directory.glob(f"{TEMP_PREFIX}*"):
        try:
            if now - leftover.stat().st_mtime < STALE_TEMP_AGE_S:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink()
        except FileNotFoundError:
            continue  # another process cleaned it first


def cached_entry(name: str, build: Callable[[Path], None]) -> Path:
    """Path of cache entry `name`, calling build(temp_path) to create it first if it is missing.

    `build` writes a file or a folder at temp_path; it is renamed into place only once complete.
    """
    directory = models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    final_path = directory / name
    if final_path.exists():
        return final_path
    with _entry_lock(directory, name):
        if final_path.exists():  # built by another process while we waited for the lock
            return final_path
        _remove_stale_temps(directory)
        temp_parent = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{name}-", dir=directory))
        try:
            temp_path = temp_parent / name
            build(temp_path)
            try:
                os.rename(temp_path, final_path)
            except OSError:
                # Only possible if the lock is unavailable (e.g. some network file systems) and a
                # concurrent builder won: its entry is complete, use it.
                if not final_path.exists():
                    raise
        finally:
            shutil.rmtree(temp_parent, ignore_errors=True)
    return final_path


