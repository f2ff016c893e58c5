"""Two real TensorFlow leaks in one step, for the attribution test with a real child (one TF import for both):
a TF1 op created per call on a persistent session, and a tf.function retraced per call by a new Python float.
The lines the attribution must name carry `# OP LEAK` and `# RETRACE LEAK`."""

import itertools

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1


class TwoTfLeaks:
    images_per_step = 1

    def __init__(self):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images = tf1.placeholder(tf.float32, [None, 8], name="images")
            self.logits = tf.matmul(self.images, tf.ones((8, 4)))
        self.sess = tf1.Session(graph=self.graph)
        self.x = np.ones((1, 8), dtype="float32")

        @tf.function
        def scale(values, factor):
            return values * factor

        self.scale = scale
        self.fixed = tf.ones((4, 4))
        self.counter = itertools.count()

    def step(self):
        with self.graph.as_default():
            probabilities = tf.nn.softmax(self.logits)  # OP LEAK
        self.sess.run(probabilities, feed_dict={self.images: self.x})
        self.scale(self.fixed, 1.0 + next(self.counter) * 1e-6).numpy()  # RETRACE LEAK

    def close(self):
        self.sess.close()


def make():
    return TwoTfLeaks()
