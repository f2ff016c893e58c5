"""Inception v2 layers as data (MODEL.md's block table) and a builder of raw TF ops for them.

Batch norm is folded: every conv is weights + bias + ReLU. Weights come from a seeded `WeightSource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Conv:
    """One conv + folded BN + ReLU: kernel k x k, `depth` outputs."""

    kernel: int
    depth: int
    stride: int = 1


@dataclass(frozen=True)
class Pool:
    """A 3x3 pool ("avg" or "max"), SAME padding."""

    kind: str
    stride: int = 1


Branch = tuple  # a sequence of Conv / Pool applied in order

# Mixed blocks: name -> branches (concatenated on channels in this order). Straight from MODEL.md.
MIXED_BLOCKS: dict[str, tuple[Branch, ...]] = {
    "Mixed_3b": (
        (Conv(1, 64),),
        (Conv(1, 64), Conv(3, 64)),
        (Conv(1, 64), Conv(3, 96), Conv(3, 96)),
        (Pool("avg"), Conv(1, 32)),
    ),
    "Mixed_3c": (
        (Conv(1, 64),),
        (Conv(1, 64), Conv(3, 96)),
        (Conv(1, 64), Conv(3, 96), Conv(3, 96)),
        (Pool("avg"), Conv(1, 64)),
    ),
    "Mixed_4a": (
        (Conv(1, 128), Conv(3, 160, 2)),
        (Conv(1, 64), Conv(3, 96), Conv(3, 96, 2)),
        (Pool("max", 2),),
    ),
    "Mixed_4b": (
        (Conv(1, 224),),
        (Conv(1, 64), Conv(3, 96)),
        (Conv(1, 96), Conv(3, 128), Conv(3, 128)),
        (Pool("avg"), Conv(1, 128)),
    ),
    "Mixed_4c": (
        (Conv(1, 192),),
        (Conv(1, 96), Conv(3, 128)),
        (Conv(1, 96), Conv(3, 128), Conv(3, 128)),
        (Pool("avg"), Conv(1, 128)),
    ),
    "Mixed_4d": (
        (Conv(1, 160),),
        (Conv(1, 128), Conv(3, 160)),
        (Conv(1, 128), Conv(3, 160), Conv(3, 160)),
        (Pool("avg"), Conv(1, 96)),
    ),
    "Mixed_4e": (
        (Conv(1, 96),),
        (Conv(1, 128), Conv(3, 192)),
        (Conv(1, 160), Conv(3, 192), Conv(3, 192)),
        (Pool("avg"), Conv(1, 96)),
    ),
    "Mixed_5a": (
        (Conv(1, 128), Conv(3, 192, 2)),
        (Conv(1, 192), Conv(3, 256), Conv(3, 256, 2)),
        (Pool("max", 2),),
    ),
    "Mixed_5b": (
        (Conv(1, 352),),
        (Conv(1, 192), Conv(3, 320)),
        (Conv(1, 160), Conv(3, 224), Conv(3, 224)),
        (Pool("avg"), Conv(1, 128)),
    ),
    "Mixed_5c": (
        (Conv(1, 352),),
        (Conv(1, 192), Conv(3, 320)),
        (Conv(1, 192), Conv(3, 224), Conv(3, 224)),
        (Pool("max"), Conv(1, 128)),
    ),
}

FIRST_STAGE_BLOCKS = ("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e")
SECOND_STAGE_BLOCKS = ("Mixed_5a", "Mixed_5b", "Mixed_5c")
CONV1_DEPTHWISE_MULTIPLIER = 8
FIRST_STAGE_STRIDE = 16
FIRST_STAGE_DEPTH = 576
SECOND_STAGE_DEPTH = 1024


class WeightSource:
    """Seeded weights, drawn in build order, cached by name so a reused layer shares its constants.

    He-style scaling (std = sqrt(2 / fan_in)) keeps ReLU activations at roughly unit scale through
    the ~40 layers, so random weights give finite, non-degenerate outputs.
    """

    def __init__(self, seed: int) -> None:
        self._random = np.random.RandomState(seed)
        self._cache: dict[str, Any] = {}
        self.parameter_count = 0

    def constant(self, name: str, shape: tuple[int, ...], std: float) -> Any:
        import tensorflow as tf

        if name not in self._cache:
            values = (self._random.standard_normal(shape) * std).astype(np.float32)
            self.parameter_count += values.size
            self._cache[name] = tf.constant(values, name=name)
        return self._cache[name]

    def conv(self, name: str, kernel: int, in_depth: int, out_depth: int, gain: float = 2.0) -> tuple:
        fan_in = kernel * kernel * in_depth
        weights = self.constant(f"{name}/weights", (kernel, kernel, in_depth, out_depth), (gain / fan_in) ** 0.5)
        # A folded BN bias: small, so it shifts activations without dominating them.
        biases = self.constant(f"{name}/biases", (out_depth,), 0.01)
        return weights, biases


def conv2d(
    x: Any,
    weights_source: WeightSource,
    name: str,
    kernel: int,
    depth: int,
    stride: int = 1,
    relu: bool = True,
    gain: float = 2.0,
) -> Any:
    """Conv (SAME) + bias (+ ReLU), the folded form of slim's conv + BN + ReLU."""
    import tensorflow as tf

    in_depth = int(x.shape[-1])
    weights, biases = weights_source.conv(name, kernel, in_depth, depth, gain)
    with tf.name_scope(name):
        y = tf.nn.conv2d(x, weights, strides=[1, stride, stride, 1], padding="SAME")
        y = tf.nn.bias_add(y, biases)
        return tf.nn.relu(y) if relu else y


def pool(x: Any, spec: Pool, name: str) -> Any:
    import tensorflow as tf

    fn = tf.nn.avg_pool2d if spec.kind == "avg" else tf.nn.max_pool2d
    return fn(x, ksize=3, strides=spec.stride, padding="SAME", name=name)


def mixed_block(x: Any, weights_source: WeightSource, scope: str, block: str) -> Any:
    import tensorflow as tf

    outputs = []
    for branch_index, branch in enumerate(MIXED_BLOCKS[block]):
        y = x
        for layer_index, layer in enumerate(branch):
            name = f"{scope}/{block}/Branch_{branch_index}/L{layer_index}"
            if isinstance(layer, Conv):
                y = conv2d(y, weights_source, name, layer.kernel, layer.depth, layer.stride)
            else:
                y = pool(y, layer, name)
        outputs.append(y)
    return tf.concat(outputs, axis=3, name=f"{scope}/{block}/concat")


def first_stage_features(images: Any, weights_source: WeightSource, scope: str) -> Any:
    """Preprocessed float images [B,H,W,3] -> Mixed_4e features [B,H/16,W/16,576]."""
    import tensorflow as tf

    name = f"{scope}/Conv2d_1a_7x7"
    depthwise = weights_source.constant(
        f"{name}/depthwise_weights", (7, 7, 3, CONV1_DEPTHWISE_MULTIPLIER), (2.0 / 49) ** 0.5
    )
    pointwise = weights_source.constant(
        f"{name}/pointwise_weights", (1, 1, 3 * CONV1_DEPTHWISE_MULTIPLIER, 64), (2.0 / 24) ** 0.5
    )
    biases = weights_source.constant(f"{name}/biases", (64,), 0.01)
    with tf.name_scope(name):
        x = tf.nn.separable_conv2d(images, depthwise, pointwise, strides=[1, 2, 2, 1], padding="SAME")
        x = tf.nn.relu(tf.nn.bias_add(x, biases))
    x = tf.nn.max_pool2d(x, 3, 2, "SAME", name=f"{scope}/MaxPool_2a_3x3")
    x = conv2d(x, weights_source, f"{scope}/Conv2d_2b_1x1", 1, 64)
    x = conv2d(x, weights_source, f"{scope}/Conv2d_2c_3x3", 3, 192)
    x = tf.nn.max_pool2d(x, 3, 2, "SAME", name=f"{scope}/MaxPool_3a_3x3")
    for block in FIRST_STAGE_BLOCKS:
        x = mixed_block(x, weights_source, scope, block)
    return x


def second_stage_features(crops: Any, weights_source: WeightSource, scope: str) -> Any:
    """ROI crops [N,7,7,576] -> Mixed_5c features [N,4,4,1024]."""
    x = crops
    for block in SECOND_STAGE_BLOCKS:
        x = mixed_block(x, weights_source, scope, block)
    return x
