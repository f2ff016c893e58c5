"""Mask R-CNN Inception v2 (TF OD API v1 layout) as a frozen GraphDef: raw TF ops, seeded constant weights.

Stages follow MODEL.md: keep-aspect-ratio resize + preprocessing, Inception v2 to Mixed_4e, RPN over
12 grid anchors per location, first-stage NMS, crop_and_resize 14x14 + max pool -> Mixed_5a-c box
classifier, per-class NMS, and the mask head on the final boxes. Batches of equal-sized images use
batched ops throughout (combined NMS, crop_and_resize with box indices).
"""

from __future__ import annotations

import math
from typing import Any

from leakhunt.models import inception_v2
from leakhunt.models.inception_v2 import WeightSource
from leakhunt.models.presets import INPUT_NAME, MASK_HEIGHT, MASK_WIDTH, Preset

NUM_CLASSES = 90
ANCHOR_SCALES = (0.25, 0.5, 1.0, 2.0)
ANCHOR_ASPECT_RATIOS = (0.5, 1.0, 2.0)
ANCHORS_PER_LOCATION = len(ANCHOR_SCALES) * len(ANCHOR_ASPECT_RATIOS)
BASE_ANCHOR_SIZE = 256.0
RPN_DEPTH = 512
FIRST_STAGE_IOU = 0.7
FIRST_STAGE_SCORE_THRESHOLD = 0.0
SECOND_STAGE_IOU = 0.6
SECOND_STAGE_SCORE_THRESHOLD = 0.0
INITIAL_CROP_SIZE = 14
BOX_CODER_SCALES = (10.0, 10.0, 5.0, 5.0)
# 2^round((2*log2(1024) + 3*log2(90)) / 5), the OD API's automatic mask conv depth.
MASK_CONV_DEPTH = 2 ** round((2 * math.log2(1024) + 3 * math.log2(NUM_CLASSES)) / 5)
# Random box-regression weights are scaled down so decoded boxes stay near their anchors/proposals
# (exp(th / 5) of a unit-scale code would make boxes many images wide).
BOX_ENCODING_GAIN = 0.01
FIRST_STAGE_SCOPE = "FirstStageFeatureExtractor/InceptionV2"
SECOND_STAGE_SCOPE = "SecondStageFeatureExtractor/InceptionV2"


def _keep_aspect_ratio_resize(images: Any, preset: Preset) -> tuple[Any, Any, Any]:
    """Resize so the short side is min_dimension unless the long side would exceed max_dimension."""
    import tensorflow as tf

    shape = tf.shape(images)
    height = tf.cast(shape[1], tf.float32)
    width = tf.cast(shape[2], tf.float32)
    short_side = tf.minimum(height, width)
    long_side = tf.maximum(height, width)
    scale = preset.min_dimension / short_side
    scale = tf.where(long_side * scale > preset.max_dimension, preset.max_dimension / long_side, scale)
    new_height = tf.cast(tf.round(height * scale), tf.int32)
    new_width = tf.cast(tf.round(width * scale), tf.int32)
    resized = tf.image.resize(tf.cast(images, tf.float32), tf.stack([new_height, new_width]))
    return resized, new_height, new_width


def _grid_anchors(feature_height: Any, feature_width: Any, image_height: Any, image_width: Any) -> Any:
    """Normalized [ymin, xmin, ymax, xmax] anchors, [Hf*Wf*12, 4], location-major like the OD API."""
    import tensorflow as tf

    scales, ratios = [], []
    for scale in ANCHOR_SCALES:
        for ratio in ANCHOR_ASPECT_RATIOS:
            scales.append(scale)
            ratios.append(ratio)
    scales_t = tf.constant(scales, tf.float32)
    ratios_sqrt = tf.sqrt(tf.constant(ratios, tf.float32))
    anchor_heights = scales_t / ratios_sqrt * BASE_ANCHOR_SIZE
    anchor_widths = scales_t * ratios_sqrt * BASE_ANCHOR_SIZE
    stride = float(inception_v2.FIRST_STAGE_STRIDE)
    y_centers = tf.cast(tf.range(feature_height), tf.float32) * stride
    x_centers = tf.cast(tf.range(feature_width), tf.float32) * stride
    y_grid, x_grid = tf.meshgrid(y_centers, x_centers, indexing="ij")  # [Hf, Wf]
    y_c = y_grid[:, :, None] + tf.zeros_like(anchor_heights)  # [Hf, Wf, 12]
    x_c = x_grid[:, :, None] + tf.zeros_like(anchor_widths)
    h = tf.zeros_like(y_grid)[:, :, None] + anchor_heights
    w = tf.zeros_like(x_grid)[:, :, None] + anchor_widths
    anchors = tf.stack([y_c - h / 2, x_c - w / 2, y_c + h / 2, x_c + w / 2], axis=-1)
    anchors = tf.reshape(anchors, [-1, 4])
    image_hw = tf.cast(tf.stack([image_height, image_width, image_height, image_width]), tf.float32)
    return anchors / image_hw


def _decode_boxes(codes: Any, reference: Any) -> Any:
    """Faster R-CNN box coder: (ty, tx, th, tw) relative to reference boxes -> [ymin, xmin, ymax, xmax]."""
    import tensorflow as tf

    ty, tx, th, tw = tf.unstack(codes, axis=-1)
    ymin, xmin, ymax, xmax = tf.unstack(reference, axis=-1)
    ref_h, ref_w = ymax - ymin, xmax - xmin
    ref_yc, ref_xc = ymin + ref_h / 2, xmin + ref_w / 2
    sy, sx, sh, sw = BOX_CODER_SCALES
    h = tf.exp(th / sh) * ref_h
    w = tf.exp(tw / sw) * ref_w
    yc = ty / sy * ref_h + ref_yc
    xc = tx / sx * ref_w + ref_xc
    return tf.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=-1)


def _crop_rois(features: Any, boxes: Any, boxes_per_image: int, scope: str) -> Any:
    """[B, N, 4] normalized boxes -> [B*N, 7, 7, C]: crop_and_resize 14x14 then max pool 2/2."""
    import tensorflow as tf

    with tf.name_scope(scope):
        batch = tf.shape(boxes)[0]
        flat_boxes = tf.reshape(boxes, [-1, 4])
        box_indices = tf.reshape(tf.tile(tf.range(batch)[:, None], [1, boxes_per_image]), [-1])
        crops = tf.image.crop_and_resize(features, flat_boxes, box_indices, [INITIAL_CROP_SIZE, INITIAL_CROP_SIZE])
        return tf.nn.max_pool2d(crops, 2, 2, "VALID")


def _region_proposals(features: Any, weights: WeightSource, batch: Any, image_height: Any, image_width: Any,
                      num_proposals: int) -> tuple[Any, Any]:
    """First stage: the RPN's box encodings and objectness, decoded and suppressed to (proposals, valid count)."""
    import tensorflow as tf

    rpn = inception_v2.conv2d(features, weights, "FirstStageBoxPredictor/Conv", 3, RPN_DEPTH)
    rpn_codes = inception_v2.conv2d(
        rpn,
        weights,
        "FirstStageBoxPredictor/BoxEncodingPredictor",
        1,
        ANCHORS_PER_LOCATION * 4,
        relu=False,
        gain=BOX_ENCODING_GAIN,
    )
    rpn_logits = inception_v2.conv2d(
        rpn,
        weights,
        "FirstStageBoxPredictor/ClassPredictor",
        1,
        ANCHORS_PER_LOCATION * 2,
        relu=False,
        gain=1.0,
    )
    with tf.name_scope("FirstStagePostprocessor"):
        feature_shape = tf.shape(features)
        anchors = _grid_anchors(feature_shape[1], feature_shape[2], image_height, image_width)
        rpn_codes = tf.reshape(rpn_codes, [batch, -1, 4])
        objectness = tf.nn.softmax(tf.reshape(rpn_logits, [batch, -1, 2]))[:, :, 1]
        rpn_boxes = _decode_boxes(rpn_codes, anchors[None, :, :])
        proposals, _, _, valid_proposals = tf.image.combined_non_max_suppression(
            rpn_boxes[:, :, None, :],
            objectness[:, :, None],
            max_output_size_per_class=num_proposals,
            max_total_size=num_proposals,
            iou_threshold=FIRST_STAGE_IOU,
            score_threshold=FIRST_STAGE_SCORE_THRESHOLD,
            clip_boxes=True,
        )
        return tf.stop_gradient(proposals), valid_proposals


def _box_classifier(features: Any, weights: WeightSource, batch: Any, proposals: Any, valid_proposals: Any,
                    num_proposals: int, num_detections: int) -> tuple[Any, Any, Any, Any]:
    """Second stage: each proposal classified and refined, then suppressed to
    (boxes, scores, classes, valid count) of the final detections."""
    import tensorflow as tf

    rois = _crop_rois(features, proposals, num_proposals, "CropAndResize")
    box_features = inception_v2.second_stage_features(rois, weights, SECOND_STAGE_SCOPE)
    pooled = tf.reduce_mean(box_features, axis=[1, 2], name="SecondStageBoxPredictor/AvgPool")
    fc_class_w = weights.constant(
        "SecondStageBoxPredictor/ClassPredictor/weights", (1024, NUM_CLASSES + 1), (1.0 / 1024) ** 0.5
    )
    fc_class_b = weights.constant("SecondStageBoxPredictor/ClassPredictor/biases", (NUM_CLASSES + 1,), 0.01)
    fc_box_w = weights.constant(
        "SecondStageBoxPredictor/BoxEncodingPredictor/weights",
        (1024, NUM_CLASSES * 4),
        (BOX_ENCODING_GAIN / 1024) ** 0.5,
    )
    fc_box_b = weights.constant("SecondStageBoxPredictor/BoxEncodingPredictor/biases", (NUM_CLASSES * 4,), 0.01)
    class_logits = tf.matmul(pooled, fc_class_w) + fc_class_b
    box_codes = tf.matmul(pooled, fc_box_w) + fc_box_b

    with tf.name_scope("SecondStagePostprocessor"):
        scores = tf.nn.softmax(tf.reshape(class_logits, [batch, num_proposals, NUM_CLASSES + 1]))
        # Padded proposal slots (beyond the valid count) must not produce detections.
        valid_mask = tf.sequence_mask(valid_proposals, num_proposals, dtype=tf.float32)
        scores = scores[:, :, 1:] * valid_mask[:, :, None]
        box_codes = tf.reshape(box_codes, [batch, num_proposals, NUM_CLASSES, 4])
        class_boxes = _decode_boxes(box_codes, proposals[:, :, None, :])
        return tf.image.combined_non_max_suppression(
            class_boxes,
            scores,
            max_output_size_per_class=num_detections,
            max_total_size=num_detections,
            iou_threshold=SECOND_STAGE_IOU,
            score_threshold=SECOND_STAGE_SCORE_THRESHOLD,
            clip_boxes=True,
        )


def _mask_head(features: Any, weights: WeightSource, batch: Any, boxes: Any, det_classes: Any, mask_boxes: int,
               num_detections: int) -> Any:
    """Masks of the final boxes (sorted by score, so the first slots are the best), padded to every detection."""
    import tensorflow as tf

    mask_source_boxes = tf.stop_gradient(boxes[:, :mask_boxes, :])
    mask_rois = _crop_rois(features, mask_source_boxes, mask_boxes, "MaskCropAndResize")
    mask_features = inception_v2.second_stage_features(mask_rois, weights, SECOND_STAGE_SCOPE)
    with tf.name_scope("MaskHead"):
        upsampled = tf.image.resize(mask_features, [MASK_HEIGHT, MASK_WIDTH])
    mask_hidden = inception_v2.conv2d(upsampled, weights, "SecondStageBoxPredictor/MaskConv", 3, MASK_CONV_DEPTH)
    mask_logits = inception_v2.conv2d(
        mask_hidden, weights, "SecondStageBoxPredictor/MaskPredictor", 3, NUM_CLASSES, relu=False, gain=1.0
    )
    with tf.name_scope("MaskPostprocessor"):
        per_class = tf.transpose(mask_logits, [0, 3, 1, 2])  # [B*K, 90, 15, 15]
        mask_classes = tf.reshape(tf.cast(det_classes[:, :mask_boxes], tf.int32), [-1])
        picked = tf.gather(per_class, mask_classes, axis=1, batch_dims=1)
        masks = tf.reshape(tf.sigmoid(picked), [batch, mask_boxes, MASK_HEIGHT, MASK_WIDTH])
        if mask_boxes < num_detections:
            masks = tf.pad(masks, [[0, 0], [0, num_detections - mask_boxes], [0, 0], [0, 0]])
        return masks


def build_detection_graph(preset: Preset, seed: int) -> tuple[Any, int]:
    """Build the whole model in a fresh tf.Graph; returns (graph, parameter count).

    The stages are built in this order on purpose: weights are drawn in creation order, so the same
    preset and seed give the same bytes (the model cache relies on it).
    """
    import tensorflow as tf

    graph = tf.Graph()
    weights = WeightSource(seed)
    with graph.as_default():
        image_tensor = tf.compat.v1.placeholder(tf.uint8, [None, None, None, 3], name=INPUT_NAME)
        with tf.name_scope("Preprocessor"):
            resized, image_height, image_width = _keep_aspect_ratio_resize(image_tensor, preset)
            preprocessed = resized * (2.0 / 255.0) - 1.0

        features = inception_v2.first_stage_features(preprocessed, weights, FIRST_STAGE_SCOPE)
        batch = tf.shape(features)[0]
        proposals, valid_proposals = _region_proposals(features, weights, batch, image_height, image_width,
                                                       preset.max_proposals)
        boxes, det_scores, det_classes, valid_detections = _box_classifier(
            features, weights, batch, proposals, valid_proposals, preset.max_proposals, preset.max_detections)
        masks = _mask_head(features, weights, batch, boxes, det_classes, preset.mask_boxes, preset.max_detections)

        tf.identity(tf.cast(valid_detections, tf.float32), name="num_detections")
        tf.identity(boxes, name="detection_boxes")
        tf.identity(det_scores, name="detection_scores")
        tf.identity(det_classes + 1.0, name="detection_classes")
        tf.identity(masks, name="detection_masks")
    return graph, weights.parameter_count


def build_graph_def_bytes(preset: Preset, seed: int) -> bytes:
    """The frozen GraphDef, serialized deterministically (same preset + seed -> same bytes)."""
    graph, _ = build_detection_graph(preset, seed)
    return graph.as_graph_def().SerializeToString(deterministic=True)
