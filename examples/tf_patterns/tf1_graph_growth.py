"""Leak: TF1 graph growth: a new op is added to the graph on every `sess.run` of a persistent session.

Reports:
- tensorflow/tensorflow#7127: `sess.run(a[0])` adds a strided_slice op per call, RAM fills over time;
  maintainers: call `tf.get_default_graph().finalize()` to catch this.
- tensorflow/tensorflow#9646: `session.run(-var)` in a loop grows memory and slows down every call.
- lorserker/ben#15: "each call to `tf.nn.softmax` added a new node into the computation graph thus making
  it bigger and leaking memory"; fixed by `graph.finalize()`.

Pattern: a tiny conv classifier built once in its own `tf.Graph` with one persistent
`tf.compat.v1.Session`, but the post-processing (`tf.nn.softmax` on the logits) is written inside the
step, so every call adds an op to the graph and the session builds a new executor for the new fetch.
`evidence()` reports the graph's op count (one more per call). The fix is tf1_finalized_session.py.

Truth on TF 2.21, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~53 KiB/iter (RSS) / ~50 KiB/iter
(C heap): +54,791 / +54,634 B/iter RSS (first / second half), +51,264 / +51,206 B/iter heap, +193 MiB RSS
over 3,701 calls; graph_ops 88 -> 3,789 (exactly +1 per call). One tiny op costs ~53 KiB: creating the op
(and running a fixed fetch) holds ~3.9 KiB/iter of heap, running the new op as the fetch ~51 KiB/iter, so
~47 KiB per call is the session's state for the new fetch (its executor for that fetch/feed signature),
kept for the session's lifetime (1,500-call check).
"""

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 54700


def build_tiny_graph(graph: tf.Graph):
    """Conv(8) -> global average pool -> dense(10), with raw TF1 ops and variables."""
    with graph.as_default():
        images = tf1.placeholder(tf.float32, [None, 32, 32, 3], name="images")
        init = tf1.initializers.glorot_uniform(seed=0)
        kernel = tf1.get_variable("kernel", [3, 3, 3, 8], initializer=init)
        weights = tf1.get_variable("weights", [8, 10], initializer=init)
        bias = tf1.get_variable("bias", [10], initializer=tf1.zeros_initializer())
        features = tf.nn.relu(tf.nn.conv2d(images, kernel, strides=1, padding="VALID"))
        logits = tf.matmul(tf.reduce_mean(features, axis=[1, 2]), weights) + bias
        init_op = tf1.global_variables_initializer()
    return images, logits, init_op


class GraphGrowth:
    images_per_step = 1

    def __init__(self):
        self.graph = tf.Graph()
        self.images, self.logits, init_op = build_tiny_graph(self.graph)
        self.sess = tf1.Session(graph=self.graph)
        self.sess.run(init_op)
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")

    def step(self):
        with self.graph.as_default():
            probabilities = tf.nn.softmax(self.logits)  # the bug: a new op every call
        self.sess.run(probabilities, feed_dict={self.images: self.x})

    def evidence(self):
        return {"graph_ops": len(self.graph.get_operations())}

    def close(self):
        self.sess.close()


def make():
    return GraphGrowth()
