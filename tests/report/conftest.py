"""Report tier: whole reports rendered from synthetic run folders written in the on-disk format (analysis, then
summary.json/md and report.html with its matplotlib SVG plots). Pure like tests/unit (no TensorFlow, no
subprocess), but each report.html costs a second or two of plotting, so kept out of the seconds-long unit tier
(pytest tests/report, or -m report). A render that several tests only read is built once per session here."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.run_folder import write_default_four
from leakhunt.report.build import build_outputs

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.report)


@pytest.fixture(scope="session")
def default_four_built(tmp_path_factory) -> tuple[Path, dict]:
    """The four default strategies (helpers.run_folder.write_default_four) with all three outputs built once.

    Read-only: tests that read it must not change the folder or the summary (copy the folder to render again).
    """
    root = write_default_four(tmp_path_factory.mktemp("default_four") / "run")
    return root, build_outputs(root)
