"""build_outputs / compare_runs on synthetic run folders written by hand in the on-disk format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from leakhunt.errors import NotARunFolderError
from leakhunt.report.build import build_outputs, leak_found
from leakhunt.report.compare import compare_runs
from leakhunt.report.markdown import md_escape
from leakhunt.report.redact import redact, redact_obj

MIB = 2**20
XSS = "<script>alert(1)</script>"
WARMUP_STEPS = 5
ITERATION_HEADER = ("step,phase,start_monotonic_s,latency_ms,tf_current_bytes,tf_peak_bytes,graph_ops,tracing_count,"
                    "gc_objects")
SAMPLE_HEADER = ("t_monotonic_s,steps_done,rss_bytes,uss_bytes,gpu_process_bytes,gpu_used_bytes,gpu_total_bytes,"
                 "nvml_error")


def write_run(root: Path, command_line: list[str] | None = None) -> Path:
    (root / "strategies").mkdir(parents=True, exist_ok=True)
    meta = {
        "config": {"warmup_steps": WARMUP_STEPS, "iterations": 1500, "out_dir": str(root)},
        "command_line": command_line or ["leakhunt", "soak", "--model", f"/models/{XSS}.pb"],
        "environment": {"python": "3.11.9", "tensorflow": "2.16.1", "numpy": "1.26.4", "cpu": "Test CPU",
                        "ram_total_bytes": 16 * 2**30, "os": "Linux 6.1", "gpus": []},
        "samplers": {"rss": "available", "nvml": "unavailable: no NVIDIA driver"},
        "host": {"available_memory_bytes": 8 * 2**30, "gpu_total_bytes": None},
        "started_utc": "2024-05-01T10:00:00Z", "finished_utc": "2024-05-01T10:05:00Z",
        "interrupted": False, "notes": [],
    }
    (root / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


def write_strategy(root: Path, index: int, name: str, slope_bytes_per_iter: float = 0.0, iterations: int = 1500,
                   outcome: str = "completed", seed: int = 0, error: dict | None = None,
                   latency_ms: float = 20.0, partial_last_line: bool = False, gpu: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    folder = root / "strategies" / f"{index:02d}-s{index}"
    folder.mkdir(parents=True)
    spec = {"name": name, "factory": "leakhunt.strategies.tf2:make", "factory_kwargs": {"pattern": name},
            "description": f"calls the model ({name})",
            "code_pattern": f"for image in images:\n    out = {name}(image)"}
    (folder / "strategy.json").write_text(json.dumps(spec), encoding="utf-8")
    (folder / "child.json").write_text(json.dumps({"pid": 4242, "images_per_step": 2, "build_time_s": 1.25}),
                                       encoding="utf-8")
    total = WARMUP_STEPS + iterations
    latencies = latency_ms + rng.gamma(4, 0.5, total)
    starts = 50.0 + np.cumsum(np.r_[0.0, latencies[:-1]]) / 1000
    rows = [ITERATION_HEADER]
    for step in range(total):
        phase = "warmup" if step < WARMUP_STEPS else "measure"
        if step % 10 == 0:
            rows.append(f"{step},{phase},{starts[step]:.6f},{latencies[step]:.4f},1000,2000,500,1,"
                        f"{40000 + int(rng.integers(0, 200))}")
        else:
            rows.append(f"{step},{phase},{starts[step]:.6f},{latencies[step]:.4f},,,,,")
    iterations_text = "\n".join(rows) + "\n"
    samples = [SAMPLE_HEADER, "49.9,-1,104857600,94371840,,,,"]
    for step in range(total):
        measured = max(step - WARMUP_STEPS, 0)
        rss = 500 * MIB + slope_bytes_per_iter * measured + rng.normal(0, 64 * 1024)
        rss = int(rss // 4096 * 4096)
        gpu_cells = f"{300 * MIB},{1200 * MIB},{16 * 2**30}" if gpu else ",,"
        samples.append(f"{starts[step]:.3f},{step},{rss},{rss - 40 * MIB},{gpu_cells},")
    samples_text = "\n".join(samples) + "\n"
    if partial_last_line:
        iterations_text += f"{total},measure,99.5,12."
        samples_text += "99.9,17"
    (folder / "iterations.csv").write_text(iterations_text, encoding="utf-8")
    (folder / "samples.csv").write_text(samples_text, encoding="utf-8")
    description = {"completed": "completed", "crashed": "killed by SIGKILL (likely out of memory)",
                   "failed": "raised ValueError: boom"}[outcome]
    status = {"outcome": outcome, "exit_code": {"completed": 0, "crashed": -9, "failed": 3}[outcome],
              "signal": 9 if outcome == "crashed" else None,
              "signal_name": "SIGKILL" if outcome == "crashed" else None, "description": description,
              "steps_completed": total, "iterations_completed": iterations, "warmup_completed": WARMUP_STEPS,
              "wall_time_s": 31.5, "memory_limit_hit": False}
    (folder / "status.json").write_text(json.dumps(status), encoding="utf-8")
    if error is not None:
        (folder / "error.json").write_text(json.dumps(error), encoding="utf-8")
    return folder


CHILD_NOTE = "gpu-memory axis (growth) had no effect: no GPU visible <b>x</b>"


def write_run_folder(root: Path) -> Path:
    """Five strategies: a leak with a script in its name, a flat one with a pipe and a GPU, a crash with a
    half-written last row, a workload that raised, and one that wrote nothing; the first has a child note."""
    root = write_run(root)
    write_strategy(root, 0, f"leaky{XSS}", slope_bytes_per_iter=16 * 1024, seed=1)
    write_strategy(root, 1, "flat | piped", seed=2, gpu=True)
    write_strategy(root, 2, "crashy", slope_bytes_per_iter=16 * 1024, outcome="crashed", seed=3,
                   partial_last_line=True)
    write_strategy(root, 3, "raiser", outcome="failed", seed=4, iterations=40,
                   error={"type": "ValueError", "message": "boom <b>bad</b>",
                          "traceback": "Traceback...\nValueError: boom"})
    empty = root / "strategies" / "04-empty"
    empty.mkdir()
    (empty / "strategy.json").write_text(json.dumps({"name": "empty"}), encoding="utf-8")
    (empty / "iterations.csv").write_text(ITERATION_HEADER + "\n", encoding="utf-8")
    (empty / "samples.csv").write_text(SAMPLE_HEADER + "\n49.9,-1,,,,,,nvml gone\n", encoding="utf-8")
    child_json = next((root / "strategies").iterdir()) / "child.json"
    info = json.loads(child_json.read_text())
    info["notes"] = [CHILD_NOTE]
    child_json.write_text(json.dumps(info))
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """The run folder with all three outputs built once (rendering the plots is what costs); tests only read it."""
    root = write_run_folder(tmp_path_factory.mktemp("report") / "run")
    return root, build_outputs(root)


def by_name(summary: dict) -> dict:
    return {entry["name"]: entry for entry in summary["strategies"]}


def test_build_outputs_writes_all_three_files_with_the_promised_fields(built):
    run_folder, summary = built
    for name in ("summary.json", "summary.md", "report.html"):
        assert (run_folder / name).stat().st_size > 0
    on_disk = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    required = ("name", "verdict", "iterations_completed", "rss_slope_bytes_per_iter",
                "rss_slope_ci95_bytes_per_iter", "rss_growth_bytes", "latency_ms", "latency_drift_ms_per_1k_iter")
    for entry in summary["strategies"]:
        for field in required:
            assert field in entry, field
        assert set(entry["latency_ms"]) >= {"p50", "p90", "p99", "max"}
    entries = by_name(summary)
    leaky = entries[f"leaky{XSS}"]
    assert leaky["verdict"] == "leak"
    low, high = leaky["rss_slope_ci95_bytes_per_iter"]
    assert low <= 16 * 1024 <= high
    assert leaky["images_per_s"] > 0 and leaky["projection"]["host_memory"]["iterations_to_exhaust"] > 0
    assert entries["flat | piped"]["verdict"] == "flat"
    assert entries["flat | piped"]["peak_gpu_bytes"] == 300 * MIB
    assert summary["leak_found"] is True and leak_found(summary)
    assert summary["run"]["command_line"][0] == "leakhunt"


def test_crashed_and_failed_strategies_keep_their_data_and_verdict(built):
    run_folder, summary = built
    entries = by_name(summary)
    crashy = entries["crashy"]
    assert crashy["verdict"] == "crashed" and crashy["memory_verdict"] == "leak"
    assert crashy["rss_slope_bytes_per_iter"] == pytest.approx(16 * 1024, rel=0.05)
    assert crashy["rss_growth_bytes"] > 10 * MIB
    assert "out_of_memory" in [hint["kind"] for hint in crashy["hints"]]
    raiser = entries["raiser"]
    assert raiser["verdict"] == "failed"
    text = (run_folder / "summary.json").read_text(encoding="utf-8")
    assert "boom <b>bad</b>" in text and raiser["error_text"] == "ValueError: boom <b>bad</b>"
    empty = entries["empty"]
    assert empty["verdict"] == "inconclusive" and empty["rss_slope_bytes_per_iter"] is None
    assert empty["latency_ms"]["p50"] is None


def test_partial_last_line_is_tolerated(built):
    entry = by_name(built[1])["crashy"]
    assert entry["latency_count"] == 1500  # the half-written row is dropped, the rest kept


def test_user_strings_are_escaped_in_html_and_markdown(built):
    run_folder, _ = built
    html = (run_folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "boom &lt;b&gt;bad&lt;/b&gt;" in html
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in html
    assert "@media print" in html
    assert 'src="http' not in html and "<link" not in html
    assert html.count('class="plot"') >= 5 and "data:image/png" not in html  # inline SVG plots
    markdown = (run_folder / "summary.md").read_text(encoding="utf-8")
    prose, command_block = markdown.split("**Command:**")
    assert "<script" not in prose and "flat \\| piped" in prose
    assert "```" in command_block  # the exact command stays literal, inside a fenced block only


def test_summary_json_is_deterministic_and_independent_of_the_folder(built, tmp_path: Path):
    first = (built[0] / "summary.json").read_bytes()
    copy = tmp_path / "elsewhere" / "copied-run"
    shutil.copytree(built[0], copy)
    (copy / "summary.json").unlink()
    build_outputs(copy, formats=("json",))
    assert (copy / "summary.json").read_bytes() == first  # another folder, the same bytes
    build_outputs(copy, formats=("json",))
    assert (copy / "summary.json").read_bytes() == first  # and again: nothing left over from the last build


def test_not_a_run_folder(tmp_path: Path):
    with pytest.raises(NotARunFolderError):
        build_outputs(tmp_path)


def test_redaction_removes_home_and_user(tmp_path: Path):
    home = str(Path.home())
    if home in ("/", ""):
        pytest.skip("no home folder to redact")
    root = write_run(tmp_path / "run", command_line=["leakhunt", "soak", "--model", f"{home}/models/m.pb"])
    write_strategy(root, 0, "plain", seed=5, iterations=200)
    summary = build_outputs(root, redact_paths=True)
    for name in ("summary.json", "summary.md", "report.html"):
        assert f"{home}/models" not in (root / name).read_text(encoding="utf-8")
    assert "~/models/m.pb" in summary["run"]["command_line"][-1]
    assert redact("/home/alice/x and alice@host", ["/home/alice"], ["alice"]) == "~/x and <user>@host"
    assert redact("/home/alicebob/x malice", ["/home/alice"], ["alice"]) == "/home/alicebob/x malice"
    assert redact_obj({"k": ["/home/alice/a"]}, ["/home/alice"], []) == {"k": ["~/a"]}


def test_compare_runs_flags_a_clearly_different_slope_only(tmp_path: Path):
    run_a = write_run(tmp_path / "a")
    run_b = write_run(tmp_path / "b")
    write_strategy(run_a, 0, "same", slope_bytes_per_iter=4096, seed=1)
    write_strategy(run_b, 0, "same", slope_bytes_per_iter=4096, seed=2)
    write_strategy(run_a, 1, "changed", slope_bytes_per_iter=4096, seed=3)
    write_strategy(run_b, 1, "changed", slope_bytes_per_iter=32768, seed=4, latency_ms=40.0)
    write_strategy(run_a, 2, "gone", seed=5, iterations=100)
    out = tmp_path / "cmp"
    comparison = compare_runs(run_a, run_b, out_dir=out)
    rows = {row["name"]: row for row in comparison["strategies"]}
    assert not rows["same"]["rss_slope_significant"] and not rows["same"]["latency_significant"]
    assert rows["changed"]["rss_slope_significant"] and rows["changed"]["memory_outcome"] == "more"
    # These folders predate the machine-speed readings: a doubled median cannot be told from a busier machine.
    assert rows["changed"]["latency_outcome"] == "unclear" and not rows["changed"]["latency_significant"]
    assert "too few machine-speed readings" in rows["changed"]["latency_in_words"]
    assert comparison["only_in_a"] == ["gone"]
    assert (out / "compare.md").exists() and (out / "compare.html").exists()
    compare_runs(run_a, run_b)  # default out_dir is run_b
    assert (run_b / "compare.md").exists()


def test_markdown_cell_escape():
    assert md_escape("a|b <i>") == "a\\|b &lt;i&gt;"


def test_child_notes_reach_html_and_markdown_escaped(built):
    run_folder, summary = built
    assert summary["strategies"][0]["child"]["notes"] == [CHILD_NOTE]
    html = (run_folder / "report.html").read_text()
    assert "gpu-memory axis (growth) had no effect: no GPU visible &lt;b&gt;x&lt;/b&gt;" in html
    assert "had no effect: no GPU visible" in (run_folder / "summary.md").read_text()
