"""The mask post-processing every strategy runs after the detector (TensorFlow ops, imported lazily).

The OD API's frozen graph returns box-relative 15x15 mask probabilities; user code "reframes" each into
an image-sized mask (crop_and_resize of the box mask into an HxW canvas), thresholds at 0.5 and casts
to uint8. Written here from that description: the TF1 strategies add these ops to a graph, the TF2 ones
run them eagerly or inside a tf.function.
"""

from __future__ import annotations

from typing import Any

MASK_THRESHOLD = 0.5
# A degenerate (zero-height or zero-width) box would divide by zero in the coordinate transform.
_MIN_BOX_SIDE = 1e-6


def reframe_box_masks_to_image_masks(box_masks: Any, boxes: Any, image_height: Any, image_width: Any) -> Any:
    """[N, mh, mw] box-relative masks + [N, 4] normalized boxes -> [N, image_height, image_width] masks.

    crop_and_resize samples a crop box given in the *mask's* normalized coordinates; the whole image,
    seen from a box (ymin, xmin, ymax, xmax), spans [-ymin/h, -xmin/w, (1-ymin)/h, (1-xmin)/w] there.
    Pixels outside the box sample outside the mask and get the extrapolation value 0.
    """
    import tensorflow as tf

    boxes = tf.cast(boxes, tf.float32)
    ymin, xmin, ymax, xmax = tf.unstack(boxes, num=4, axis=1)
    box_height = tf.maximum(ymax - ymin, _MIN_BOX_SIDE)
    box_width = tf.maximum(xmax - xmin, _MIN_BOX_SIDE)
    image_in_box = tf.stack(
        [-ymin / box_height, -xmin / box_width, (1.0 - ymin) / box_height, (1.0 - xmin) / box_width], axis=1
    )
    canvas_size = tf.stack([tf.cast(image_height, tf.int32), tf.cast(image_width, tf.int32)])
    reframed = tf.image.crop_and_resize(
        tf.expand_dims(tf.cast(box_masks, tf.float32), axis=3),
        image_in_box,
        tf.range(tf.shape(boxes)[0], dtype=tf.int32),
        canvas_size,
        extrapolation_value=0.0,
    )
    return tf.squeeze(reframed, axis=3)


def image_masks_for_one_image(
    masks: Any, boxes: Any, num_detections: Any, image_height: Any, image_width: Any, squeeze: bool
) -> Any:
    """One image's detections -> [1, N, H, W] uint8 masks, N = num_detections (the tutorial's ops).

    `squeeze` True means masks/boxes still carry the batch axis of 1 (the tutorial's tf.squeeze).
    """
    import tensorflow as tf

    if squeeze:
        boxes = tf.squeeze(boxes, [0])
        masks = tf.squeeze(masks, [0])
    real_count = tf.cast(num_detections, tf.int32)
    boxes = tf.slice(boxes, [0, 0], [real_count, -1])
    masks = tf.slice(masks, [0, 0, 0], [real_count, -1, -1])
    reframed = reframe_box_masks_to_image_masks(masks, boxes, image_height, image_width)
    reframed = tf.cast(tf.greater(reframed, MASK_THRESHOLD), tf.uint8)
    return tf.expand_dims(reframed, 0)


def add_postprocessing(tensors: dict[str, Any], batch: int, image_height: Any, image_width: Any) -> dict[str, Any]:
    """Fetches with the detection_masks replaced by per-image reframed masks (a list of [1, N, H, W]).

    Adds ops to the current default graph (TF1) or runs them (eager / inside a tf.function).
    Models without detection_masks get no post-processing, like in the tutorial.
    """
    if "detection_masks" not in tensors:
        return dict(tensors)
    fetches = dict(tensors)
    if batch == 1:
        fetches["detection_masks"] = [
            image_masks_for_one_image(
                tensors["detection_masks"], tensors["detection_boxes"], tensors["num_detections"][0],
                image_height, image_width, squeeze=True,
            )
        ]
    else:
        fetches["detection_masks"] = [
            image_masks_for_one_image(
                tensors["detection_masks"][index], tensors["detection_boxes"][index],
                tensors["num_detections"][index], image_height, image_width, squeeze=False,
            )
            for index in range(batch)
        ]
    return fetches


def to_numpy_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Session/eager results -> numpy; detection_masks becomes a list of [N, H, W] uint8 arrays."""
    import numpy as np

    result: dict[str, Any] = {}
    for key, value in outputs.items():
        if key == "detection_masks" and isinstance(value, (list, tuple)):
            result[key] = [np.asarray(mask)[0] for mask in value]
        else:
            result[key] = np.asarray(value)
    return result
