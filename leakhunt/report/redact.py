"""Replace the home folder and the user name in report text (for --redact-paths)."""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import Any

# A user name shorter than this would also match ordinary words and numbers; the home folder still goes.
MIN_USER_NAME_LENGTH = 2


def _home_folders() -> list[str]:
    folders = {str(Path.home()), os.path.expanduser("~")}
    for folder in list(folders):
        try:
            folders.add(os.path.realpath(folder))
        except OSError:
            continue
    return sorted((f.rstrip("/") for f in folders if f and f not in ("/", ".")), key=len, reverse=True)


def _user_names() -> list[str]:
    names = {os.environ.get("USER", ""), os.environ.get("LOGNAME", "")}
    try:
        names.add(getpass.getuser())
    except (KeyError, OSError):
        pass  # no passwd entry (containers): the environment names are all we have
    return sorted((n for n in names if len(n) >= MIN_USER_NAME_LENGTH), key=len, reverse=True)


def redact(text: str, home_folders: list[str] | None = None, user_names: list[str] | None = None) -> str:
    """Home folder -> "~", then the user name as a whole word -> "<user>"."""
    homes = _home_folders() if home_folders is None else home_folders
    users = _user_names() if user_names is None else user_names
    for home in homes:
        text = re.sub(re.escape(home) + r"(?=/|\\|\b|$)", "~", text)
    for user in users:
        text = re.sub(r"(?<![A-Za-z0-9_.-])" + re.escape(user) + r"(?![A-Za-z0-9_-])", "<user>", text)
    return text


def redact_obj(obj: Any, home_folders: list[str] | None = None, user_names: list[str] | None = None) -> Any:
    """redact() every string in a JSON-like structure (dict keys included)."""
    homes = _home_folders() if home_folders is None else home_folders
    users = _user_names() if user_names is None else user_names
    if isinstance(obj, str):
        return redact(obj, homes, users)
    if isinstance(obj, dict):
        return {redact_obj(key, homes, users): redact_obj(value, homes, users) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(value, homes, users) for value in obj]
    return obj
