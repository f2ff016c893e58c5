"""Pure modules never import TensorFlow: each check runs in a fresh interpreter, so nothing imported earlier hides
it."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO_ROOT


def test_analysis_and_report_do_not_import_tensorflow():
    code = ("import sys; import leakhunt.analysis.summarize, leakhunt.report.build, leakhunt.report.compare, "
            "leakhunt.report.html, leakhunt.report.plots; "
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_pure_modules_do_not_import_tensorflow():
    code = ("import sys, leakhunt.strategies.matrix, leakhunt.strategies.registry, leakhunt.workloads.images;"
            "leakhunt.strategies.matrix.expand_matrix(['tutorial'], [1], ['none'], ['default'], None, 'tiny',"
            " None, None); leakhunt.strategies.matrix.load_images(None);"
            "sys.exit(1 if 'tensorflow' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_importing_models_does_not_import_tensorflow():
    code = "import sys, leakhunt.models, leakhunt.cli.model; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
