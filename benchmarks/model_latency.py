"""Latency of the embedded Mask R-CNN presets in a persistent TF1 session, next to a big matmul's GFLOP/s.

Usage: python benchmarks/model_latency.py [--presets tiny,small,full] [--iterations N]
The table (printed last) goes into docs/model.md. Uses the normal model cache (LEAKHUNT_CACHE_DIR).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _harness import markdown_table

MATMUL_SIZE = 2048
DEFAULT_ITERATIONS = {"tiny": 30, "small": 10, "full": 5}
WARMUP_RUNS = 2


def matmul_gflops(size: int = MATMUL_SIZE, repeats: int = 10) -> float:
    """Achieved GFLOP/s of a float32 [size x size] @ [size x size] matmul in a TF1 session (median)."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        # Variables, not constants: grappler would fold a constant matmul away before the first run.
        a = tf.compat.v1.Variable(np.random.RandomState(0).standard_normal((size, size)).astype(np.float32))
        b = tf.compat.v1.Variable(np.random.RandomState(1).standard_normal((size, size)).astype(np.float32))
        # reduce_sum keeps the fetch tiny so the timing is the matmul, not the copy out.
        product = tf.reduce_sum(tf.matmul(a, b))
        initialize = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(initialize)
        for _ in range(WARMUP_RUNS):
            session.run(product)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(product)
            times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def preset_row(preset: str, iterations: int, image_hw: tuple[int, int]) -> dict:
    import tensorflow as tf

    from leakhunt.models import OUTPUT_NAMES, get_frozen_graph_path, load_graph_def
    from leakhunt.models.info import model_info

    build_start = time.perf_counter()
    frozen_path = get_frozen_graph_path(preset)
    build_s = time.perf_counter() - build_start
    info = model_info(None, preset, 0, image_hw)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(load_graph_def(frozen_path), name="")
    image = np.random.RandomState(0).randint(0, 256, (1, *image_hw, 3)).astype(np.uint8)
    fetches = [f"{name}:0" for name in OUTPUT_NAMES]
    with tf.compat.v1.Session(graph=graph) as session:
        for _ in range(WARMUP_RUNS):
            session.run(fetches, {"image_tensor:0": image})
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            session.run(fetches, {"image_tensor:0": image})
            times.append(time.perf_counter() - start)
    median_s = statistics.median(times)
    assert info.flops is not None, "a preset is a frozen graph: its FLOPs are always counted"
    row = {
        "preset": preset,
        "parameters": info.parameter_count,
        "nodes": info.graph_node_count,
        "gflops": info.flops / 1e9,
        "median_ms": median_s * 1e3,
        "gflops_per_s": info.flops / median_s / 1e9,
        "iterations": iterations,
        "build_or_cache_s": build_s,
    }
    print(f"{preset}: {row}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,small,full", help="comma-separated preset names")
    parser.add_argument("--iterations", type=int, default=None, help="timed runs per preset (default per preset)")
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=640)
    args = parser.parse_args()

    import os

    import tensorflow as tf

    presets = [name.strip() for name in args.presets.split(",") if name.strip()]
    matmul = matmul_gflops()
    rows = [
        preset_row(name, args.iterations or DEFAULT_ITERATIONS.get(name, 5), (args.height, args.width))
        for name in presets
    ]

    print()
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, batch 1, {args.height}x{args.width} uint8 input, "
        f"persistent tf.compat.v1.Session, {WARMUP_RUNS} warm-up runs excluded"
    )
    print(
        f"float32 {MATMUL_SIZE}x{MATMUL_SIZE} matmul in the same run: {matmul:.0f} GFLOP/s; "
        f"load average at the end {os.getloadavg()[0]:.2f} (other processes skew the latencies)"
    )
    print()
    header = ["preset", "parameters", "graph nodes", "GFLOPs / image", "median latency (ms)", "achieved GFLOP/s",
              "% of matmul", "runs"]
    cells = [[row["preset"], f"{row['parameters']:,}", f"{row['nodes']:,}", f"{row['gflops']:.1f}",
              f"{row['median_ms']:.0f}", f"{row['gflops_per_s']:.0f}", f"{100 * row['gflops_per_s'] / matmul:.0f}%",
              row["iterations"]] for row in rows]
    print("\n".join(markdown_table(header, "lrrrrrrr", cells)))


if __name__ == "__main__":
    main()
