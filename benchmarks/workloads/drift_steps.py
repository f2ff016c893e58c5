"""Workloads for benchmarks/latency_drift.py: flat latencies, and latencies that truly drift.

Each function is a factory (as in bench_steps.py): called once in the soak's child, it returns the step()
to repeat, or an object with step() / close() / evidence(). None of them sleeps: a sleeping step does not
slow down with the machine, and the drift benchmark is about CPU-bound steps that do.

Flat (latency must not be called drifting, whatever the machine's load does meanwhile):
- `numpy_flat`: ~0.5-1 ms of single-threaded numpy work (sort, cumulative sum, small matmuls).
- `keras_call_flat`: a tiny Keras model called eagerly, `model(x, training=False)` (bench_steps.py's).
- `tf_constant_flat`: `tf.constant` of a small array plus a small op on it, back to numpy.
- `tf1_finalized_flat`: a finalized TF1 graph in one persistent session (bench_steps.py's).
- `python_flat_long`: ~30 ms of pure-Python work per step: longer than a scheduler time slice, so CPU
  contention stretches the step itself (sub-millisecond steps mostly finish inside one slice and only
  wait between steps).
- `numpy_blas_flat`: a 160x160 float64 matmul chain that OpenBLAS runs on every core: with a busy
  neighbour its threads wait for each other and the step jumps from ~0.5 ms to tens of ms.

True drifts (latency rises over the run because of the workload itself):
- `tf1_graph_growth`: the old Object Detection API tutorial's inference function in one persistent
  session: every call lists `graph.get_operations()` to find its output tensors by name and adds its
  post-processing ops (cast, squeeze, slice and their constants: ~10 ops) to the graph, so each call
  walks a larger graph and the session builds an executor for new fetches. Measured (bare loop, TF 2.21,
  the shared 2-core CPU machine at a load average of ~3, 2026-11-29): 52 ms per call in the first fifth
  of 1,500 calls, 375 ms in the last (15,056 ops by then).
- `retracing_function`: a `tf.function` called with a new Python float every call, so every call is a
  new trace; dispatch walks the ever larger trace cache and the function library grows. Measured (same
  conditions): 9.5 ms per call in the first fifth of 600 calls, 16.1 ms in the last.
- `planted_slowdown`: pure-Python CPU work whose amount grows linearly, by `slowdown_fraction` (20%) over
  the planned `iterations`; memory stays flat.
"""

from __future__ import annotations

import itertools
import sys
import time

# By bare name: leakhunt's load_factory imports a workload file with its folder first on sys.path.
import bench_steps

# Which factories are flat and which truly drift: the benchmark reads this (by parsing, without importing).
TRUTH = {
    "numpy_flat": "flat",
    "keras_call_flat": "flat",
    "tf_constant_flat": "flat",
    "tf1_finalized_flat": "flat",
    "python_flat_long": "flat",
    "numpy_blas_flat": "flat",
    "tf1_graph_growth": "drift",
    "retracing_function": "drift",
    "planted_slowdown": "drift",
}


# ----------------------------------------------------------------------------------------------- flat
def numpy_flat(size: int = 20_000, matrix_size: int = 48, matmuls: int = 8):
    """~0.5-1 ms of numpy per step on a 2020s core, all of it single-threaded: sort `size` float64 values,
    their cumulative sum, and `matmuls` float64 products of matrix_size x matrix_size (48^3 stays below
    OpenBLAS's threading threshold of 64^3). `numpy_blas_flat` is the multi-threaded counterpart."""
    import numpy as np

    rng = np.random.default_rng(0)
    values = rng.standard_normal(size)
    matrix = rng.standard_normal((matrix_size, matrix_size)) / matrix_size

    def step():
        ordered = np.sort(values)
        total = float(np.cumsum(ordered)[-1])
        product = matrix
        for _ in range(matmuls):
            product = product @ matrix
        return total + float(product[0, 0])

    return step


def numpy_blas_flat(size: int = 160, repeats: int = 2):
    """~0.5 ms of numpy on an idle 2-core machine: `repeats` float64 size x size matmuls, each through a
    tanh, then a sum. OpenBLAS runs a 160^3 product on all cores, as numpy pre- and post-processing does
    by default; when another process holds a core, the BLAS threads wait for each other and a step can
    take tens of ms. Flat in itself: any drift is the neighbour's."""
    import numpy as np

    matrix = np.random.default_rng(0).standard_normal((size, size))

    def step():
        product = matrix
        for _ in range(repeats):
            product = np.tanh(product @ matrix * (1.0 / size))
        return float(product.sum())

    return step


def keras_call_flat(width: int = 16):
    """A tiny Keras model (Dense 32 -> Dense 4) called eagerly on the same input every step."""
    return bench_steps.keras_call_flat(pace_s=0.0, width=width)


def tf_constant_flat(size: int = 64):
    """`tf.constant` of a 64x64 float32 array, one small op on it (x * 2 summed), back to numpy."""
    import numpy as np
    import tensorflow as tf

    array = np.random.default_rng(0).standard_normal((size, size)).astype("float32")

    def step():
        tensor = tf.constant(array)
        tf.reduce_sum(tensor * 2.0).numpy()

    return step


def tf1_finalized_flat():
    """A small conv graph, finalized, in one persistent tf.compat.v1.Session (the fixed pattern)."""
    return bench_steps.tf_finalized_flat(pace_s=0.0)


def python_flat_long(step_ms: float = 30.0, spins_per_ms: int | None = None):
    """Pure-Python CPU work of about `step_ms` per step (bench_steps' spin loop, no sleep, nothing kept).
    `spins_per_ms`: loop count of 1 ms, calibrated once in the benchmark's parent (default: here)."""
    spins = int((spins_per_ms or calibrate_spins()) * step_ms)

    def step():
        bench_steps._spin(spins)

    return step


# --------------------------------------------------------------------------------------------- drifts
# The OD API tutorial's output names: run_inference_for_single_image() looks each of them up by name.
_OUTPUT_KEYS = ("num_detections", "detection_boxes", "detection_scores", "detection_classes")


class Tf1GraphGrowth:
    """The old OD API tutorial's `run_inference_for_single_image`, with one persistent session.

    Per call: `ops = graph.get_operations()`, `all_tensor_names = {o.name for op in ops for o in
    op.outputs}`, look the outputs up by name, then post-process inside the graph (tf.squeeze, tf.slice,
    tf.cast: a few new ops every call, as the tutorial's reframing of the masks did) and session.run the
    new fetches. The listing costs time proportional to the graph's op count, which grows every call;
    the session also extends its graph and builds a new executor for the new fetches.
    """

    images_per_step = 1

    def __init__(self, detections: int = 16):
        import numpy as np
        import tensorflow as tf

        tf1 = tf.compat.v1
        self.tf = tf
        self.graph = tf.Graph()
        with self.graph.as_default():
            images = tf1.placeholder(tf.float32, [1, 32, 32, 3], name="image_tensor")
            init = tf1.initializers.glorot_uniform(seed=0)
            kernel = tf1.get_variable("kernel", [3, 3, 3, 8], initializer=init)
            weights = tf1.get_variable("weights", [8, detections * 6], initializer=init)
            features = tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(images, kernel, 1, "VALID")), axis=[1, 2])
            raw = tf.reshape(tf.matmul(features, weights), [1, detections, 6])
            tf.identity(tf.sigmoid(raw[:, :, :4]), name="detection_boxes")
            tf.identity(tf.sigmoid(raw[:, :, 4]), name="detection_scores")
            tf.identity(tf.floor(tf.abs(raw[:, :, 5]) * 10.0), name="detection_classes")
            tf.identity(tf.constant([float(detections)]), name="num_detections")
            init_op = tf1.global_variables_initializer()
        self.images = images
        self.session = tf1.Session(graph=self.graph)
        self.session.run(init_op)
        self.feed = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")

    def step(self):
        tf = self.tf
        graph = self.graph
        with graph.as_default():
            ops = graph.get_operations()
            all_tensor_names = {output.name for op in ops for output in op.outputs}
            tensor_dict = {}
            for key in _OUTPUT_KEYS:
                tensor_name = key + ":0"
                if tensor_name in all_tensor_names:
                    tensor_dict[key] = graph.get_tensor_by_name(tensor_name)
            # The tutorial's post-processing, built anew every call: ~10 new ops with their constants.
            count = tf.cast(tensor_dict["num_detections"][0], tf.int32)
            boxes = tf.slice(tf.squeeze(tensor_dict["detection_boxes"], [0]), [0, 0], [count, -1])
            tensor_dict["detection_boxes"] = boxes
        self.session.run(tensor_dict, feed_dict={self.images: self.feed})

    def evidence(self):
        return {"graph_ops": len(self.graph.get_operations())}

    def close(self):
        self.session.close()


def tf1_graph_growth(detections: int = 16):
    return Tf1GraphGrowth(detections)


class RetracingFunction:
    """`@tf.function` (no input_signature, no reduce_retracing) called with a new Python float per call:
    a Python scalar is part of the trace key, so every call traces, and every trace stays cached."""

    images_per_step = 1

    def __init__(self, width: int = 16):
        import numpy as np
        import tensorflow as tf

        rng = np.random.default_rng(0)
        kernel = tf.constant(rng.standard_normal((width, 8)).astype("float32"))

        @tf.function
        def infer(batch, threshold):
            scores = tf.nn.sigmoid(tf.matmul(batch, kernel))
            return tf.reduce_sum(tf.cast(scores > threshold, tf.int32))

        self.infer = infer
        self.batch = tf.constant(rng.standard_normal((1, width)).astype("float32"))
        self.calls = itertools.count()

    def step(self):
        # A new Python float every call (1e-7 apart, so it never repeats): a new trace every call.
        self.infer(self.batch, 0.5 + next(self.calls) * 1e-7).numpy()

    def evidence(self):
        return {"tracing_count": int(self.infer.experimental_get_tracing_count())}

    def close(self):
        self.infer = None


def retracing_function(width: int = 16):
    return RetracingFunction(width)


def planted_slowdown(iterations: int, slowdown_fraction: float = 0.2, spins: int | None = None,
                     warmup_steps: int = 0):
    """Pure-Python CPU work (bench_steps' spin loop, ~1 ms) whose amount grows linearly from 1x at the
    first measured step to (1 + slowdown_fraction)x at the last planned one; no memory is kept.

    `iterations`: the measured iterations the soak will run (the plan); `warmup_steps`: steps the soak runs
    before measuring (they run at 1x). Past the plan the work keeps growing at the same rate. `spins`:
    loop count of the 1x step (default: calibrated here to ~1 ms; the benchmark calibrates it once in its
    parent so quiet and loaded runs do the very same work). The first-to-last-fifth change of the median
    is (1 + 0.9 f) / (1 + 0.1 f) - 1: +15.7% for f = 20%.
    """
    if iterations <= 0:
        raise ValueError(f"iterations must be > 0, got {iterations}")
    base_spins = spins or calibrate_spins()
    per_step_spins = base_spins * slowdown_fraction / iterations
    calls = itertools.count()

    def step():
        measured = max(0, next(calls) - warmup_steps)
        bench_steps._spin(int(base_spins + per_step_spins * measured))

    return step


# The spin loop's speed is measured on short probes (~0.1-0.2 ms each, inside one scheduler slice) and
# their median kept. One long timing (bench_steps' 20 ms) on a shared machine also counts the time the
# process waited for a core: with a busy neighbour it came out 2-3x slow, and every "1 ms" step then ran
# in ~0.4 ms.
PROBE_SPINS = 2000
PROBES = 51


def calibrate_spins(target_s: float = 0.001, probes: int = PROBES) -> int:
    """Spin-loop count of ~target_s of CPU time; call once in the benchmark's parent."""
    bench_steps._spin(PROBE_SPINS)  # let the interpreter specialise the loop first
    durations_s = []
    for _ in range(probes):
        started = time.perf_counter()
        bench_steps._spin(PROBE_SPINS)
        durations_s.append(time.perf_counter() - started)
    per_spin_s = sorted(durations_s)[len(durations_s) // 2] / PROBE_SPINS
    return max(1, round(target_s / per_spin_s))


if __name__ == "__main__":
    # Bare-loop latency probe, one factory at a time: python drift_steps.py NAME [STEPS]
    name = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    workload = globals()[name](**({"iterations": steps} if name == "planted_slowdown" else {}))
    step_fn = getattr(workload, "step", workload)
    latencies_ms = []
    started = time.perf_counter()
    for _ in range(steps):
        began = time.perf_counter()
        step_fn()
        latencies_ms.append((time.perf_counter() - began) * 1e3)
    total_s = time.perf_counter() - started
    fifth = max(1, steps // 5)
    first, last = sorted(latencies_ms[:fifth]), sorted(latencies_ms[-fifth:])
    print(f"{name}: {steps} steps in {total_s:.2f} s; first fifth p50 {first[len(first) // 2]:.3f} ms, "
          f"last fifth p50 {last[len(last) // 2]:.3f} ms")
    if hasattr(workload, "evidence"):
        print(f"  evidence: {workload.evidence()}")
    if hasattr(workload, "close"):
        workload.close()
