"""Leak: a `tf.compat.v1.train.Saver` created on every call (checkpointing inside the loop).

Reports:
- tensorflow/tensorflow#2654: Saver `.meta` files grow from 25 MB to 1.5 GB over a long run; the
  maintainers' diagnosis: new ops are being added to the graph every step.
- jakeret/tf_unet#290: the `.meta` file grew during training "because saver = tf.train.Saver() was used
  many times"; andrewliao11/gail-tf#11: `save_state` built a Saver inside the training loop.
- tensorflow/tensorflow#9154: consecutive `saver.restore()` calls slow down when a `tf.train.Saver()` is
  created in the function called per model.

Pattern: the persistent-session TF1 classifier of tf1_finalized_session.py (not finalized), where each
step runs one inference and then checkpoints it with a fresh `tf.compat.v1.train.Saver()` (`save(...,
write_meta_graph=False)` into a temporary folder, so the disk cost stays constant). Each Saver adds its
save/restore ops to the graph (`evidence()`: graph_ops, +17 per call), so both memory and the time per
call grow.

Truth on TF 2.21, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~213 KiB/iter (RSS) / ~133
KiB/iter (C heap): +218,166 / +216,991 B/iter RSS (first / second half), +136,371 / +136,145 B/iter heap,
+83 MiB RSS over 400 calls; graph_ops 889 -> 7,689 (+17 per call). The time per call grows with the graph
too, which is why N is fixed at 400.
"""

import shutil
import tempfile

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 217000
TRUTH_ITERATIONS = 400


def build_tiny_graph(graph: tf.Graph):
    """Conv(8) -> global average pool -> dense(10) -> softmax, with raw TF1 ops and variables."""
    with graph.as_default():
        images = tf1.placeholder(tf.float32, [None, 32, 32, 3], name="images")
        init = tf1.initializers.glorot_uniform(seed=0)
        kernel = tf1.get_variable("kernel", [3, 3, 3, 8], initializer=init)
        weights = tf1.get_variable("weights", [8, 10], initializer=init)
        bias = tf1.get_variable("bias", [10], initializer=tf1.zeros_initializer())
        features = tf.nn.relu(tf.nn.conv2d(images, kernel, strides=1, padding="VALID"))
        logits = tf.matmul(tf.reduce_mean(features, axis=[1, 2]), weights) + bias
        probabilities = tf.nn.softmax(logits)
        init_op = tf1.global_variables_initializer()
    return images, probabilities, init_op


class SaverPerCall:
    images_per_step = 1

    def __init__(self):
        self.graph = tf.Graph()
        self.images, self.probabilities, init_op = build_tiny_graph(self.graph)
        self.sess = tf1.Session(graph=self.graph)
        self.sess.run(init_op)
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")
        self.folder = tempfile.mkdtemp(prefix="tf_patterns_saver_")

    def step(self):
        self.sess.run(self.probabilities, feed_dict={self.images: self.x})
        with self.graph.as_default():
            saver = tf1.train.Saver()  # the bug: build the Saver once, outside the loop
            saver.save(self.sess, f"{self.folder}/model", write_meta_graph=False)

    def evidence(self):
        return {"graph_ops": len(self.graph.get_operations())}

    def close(self):
        self.sess.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def make():
    return SaverPerCall()
