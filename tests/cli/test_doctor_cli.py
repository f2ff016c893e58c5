"""`leakhunt doctor --json` in a subprocess: it tests TensorFlow in a child of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_doctor_cli_json_exits_0_and_tests_tensorflow_in_a_child():
    result = subprocess.run([sys.executable, "-m", "leakhunt", "doctor", "--json"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    findings = {f["name"]: f for f in json.loads(result.stdout)["findings"]}
    assert findings["tensorflow devices"]["status"] in ("ok", "warn")  # the CPU machine: "sees no GPU"
    assert "tf allocator" in findings
