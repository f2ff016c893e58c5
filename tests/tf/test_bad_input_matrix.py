"""Bad input for the strategy matrix, images and models through `leakhunt soak` (in-process, CliRunner): one line,
exit 2, no run folder."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, invoke_cli


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--batch", "0"], ["--batch"]),
        (["--batch", "four"], ["--batch"]),
        (["--resize", "fixed:0x10"], ["--resize"]),
        (["--resize", "stretch"], ["--resize"]),
        (["--gpu-memory", "fraction:1.5"], ["--gpu-memory"]),
        (["--gpu-memory", "lots"], ["--gpu-memory"]),
        (["--strategy", "magic"], ["magic", "persistent"]),
        (["--strategy", "persistent", "--device", "tpu"], ["--device"]),
        (["--strategy", "persistent", "--preset", "huge"], ["huge"]),
        (["--strategy", "persistent", "--seed", "-1"], ["--seed"]),
    ],
)
def test_bad_axis_values(tmp_path, args, fragments):
    out = tmp_path / "run"
    result = invoke_cli("soak", *args, "--iterations", "3", "--out", str(out), "--no-progress")
    assert_one_line_error(result, *fragments)
    assert not out.exists()


def test_images_folder_missing_empty_or_broken(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "photo.jpg").write_bytes(b"not really a jpeg")
    (broken / "notes.txt").write_text("hello")
    for folder in (tmp_path / "missing", empty, broken):
        out = tmp_path / f"run-{folder.name}"
        result = invoke_cli("soak", "--strategy", "persistent", "--images", str(folder), "--iterations", "3",
                         "--out", str(out), "--no-progress")
        assert result.exit_code == 2, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.stderr
        assert "--images" in result.stderr or str(folder) in result.stderr
        assert not out.exists()


def test_bad_model_files(tmp_path):
    truncated = tmp_path / "truncated.pb"
    truncated.write_bytes(b"\x0a\xff\xff\xff\x0f garbage")
    not_saved_model = tmp_path / "folder"
    not_saved_model.mkdir()
    cases = [(tmp_path / "missing.pb", "missing.pb"), (truncated, "truncated.pb"), (not_saved_model, "folder")]
    for model, fragment in cases:
        out = tmp_path / f"run-{model.name}"
        result = invoke_cli("soak", "--strategy", "persistent", "--model", str(model), "--iterations", "3",
                         "--out", str(out), "--no-progress")
        assert_one_line_error(result, fragment)
        assert not out.exists()
