"""The default path never imports Ray: `leakhunt --help` and a whole local soak run in a fresh interpreter whose
import system refuses (and records) any attempt to import ray, so the check holds whether Ray is installed or not."""

from __future__ import annotations

import subprocess
import sys

from helpers import FAULTS, REPO_ROOT

_RECORD_RAY_IMPORTS = '''
import sys
attempts = []

class RefuseRay:
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            attempts.append(name)
            raise ImportError("ray import refused by the test")
        return None

sys.meta_path.insert(0, RefuseRay())
'''


def test_help_and_a_local_soak_never_import_ray(tmp_path):
    code = _RECORD_RAY_IMPORTS + f'''
from leakhunt.cli.app import app
try:
    app(["--help"])
except SystemExit:
    pass
try:
    app(["soak", "--help"])
except SystemExit:
    pass
import leakhunt
result = leakhunt.soak("{FAULTS}:flat", iterations=30, warmup=0, out={str(tmp_path / "run")!r})
assert result.strategies[0].verdict in ("flat", "inconclusive"), result.strategies[0]
print("RAY_IMPORTS", attempts)
'''
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert "RAY_IMPORTS []" in result.stdout, result.stdout[-2000:]
    assert (tmp_path / "run" / "report.html").is_file()


def test_the_refusal_does_catch_a_ray_import():
    # The same guard around the Ray backend's door must see the attempt (else the test above proves nothing).
    code = _RECORD_RAY_IMPORTS + '''
from leakhunt.backends.ray_backend import import_ray
from leakhunt.errors import BadInputError
try:
    import_ray()
except BadInputError:
    pass
print("RAY_IMPORTS", attempts)
'''
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert "RAY_IMPORTS ['ray']" in result.stdout, result.stdout + result.stderr
