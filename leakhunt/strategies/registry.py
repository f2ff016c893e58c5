"""Names, descriptions and code patterns of the built-in strategies (no TensorFlow import)."""

from __future__ import annotations

from dataclasses import dataclass

TF1 = "tf1"
TF2 = "tf2"


@dataclass(frozen=True)
class StrategyInfo:
    """One built-in strategy as `leakhunt strategies` and the report show it."""

    name: str
    description: str
    code_pattern: str
    api: str  # TF1 (Session on a frozen GraphDef) or TF2 (SavedModel, eager / tf.function)


_TUTORIAL = StrategyInfo(
    name="tutorial",
    api=TF1,
    description=(
        "The old TF1 object_detection tutorial's run_inference_for_single_image, called per image: a new "
        "Session on the shared graph, an op listing, and the mask post-processing ops added to the shared "
        "graph on every call (the graph grows; the `with` block closes each session, as in the tutorial)."
    ),
    code_pattern="""\
def run_inference_for_single_image(image, graph):
    with graph.as_default():
        with tf.Session() as sess:
            names = {t.name for op in graph.get_operations() for t in op.outputs}
            tensors = {k: graph.get_tensor_by_name(k + ':0') for k in KEYS if k + ':0' in names}
            boxes = tf.squeeze(tensors['detection_boxes'], [0])           # new ops, every call
            masks = tf.squeeze(tensors['detection_masks'], [0])
            n = tf.cast(tensors['num_detections'][0], tf.int32)
            masks = reframe_box_masks_to_image_masks(masks[:n], boxes[:n], *image.shape[:2])
            tensors['detection_masks'] = tf.expand_dims(tf.cast(masks > 0.5, tf.uint8), 0)
            return sess.run(tensors, {'image_tensor:0': image[None]})
""",
)

_SESSION_PER_CALL = StrategyInfo(
    name="session-per-call",
    api=TF1,
    description=(
        "Post-processing built once on the imported graph, but a new Session opened (and closed) for "
        "every image: isolates the cost of session creation and its first run."
    ),
    code_pattern="""\
tensors = build_postprocessing(graph)          # once
for image in images:
    with tf.Session(graph=graph, config=config) as sess:
        out = sess.run(tensors, {'image_tensor:0': image[None]})
""",
)

_RESET_GRAPH = StrategyInfo(
    name="reset-graph",
    api=TF1,
    description=(
        "The 'free memory by resetting' advice: per call close the session, "
        "tf.compat.v1.reset_default_graph(), re-import the model, build the post-processing and open a "
        "new Session (bounded graph, but every call pays import + session creation)."
    ),
    code_pattern="""\
for image in images:
    sess.close()
    tf.reset_default_graph()
    tf.import_graph_def(graph_def, name='')
    tensors = build_postprocessing(tf.get_default_graph())
    sess = tf.Session(config=config)
    out = sess.run(tensors, {'image_tensor:0': image[None]})
""",
)

_PERSISTENT = StrategyInfo(
    name="persistent",
    api=TF1,
    description=(
        "The fix from tensorflow/models PR #6768: import once, build the post-processing once, "
        "graph.finalize(), one Session fed image after image."
    ),
    code_pattern="""\
with graph.as_default():
    tf.import_graph_def(graph_def, name='')
    tensors = build_postprocessing(graph)
graph.finalize()                                # adding an op now raises
sess = tf.Session(graph=graph, config=config)
for image in images:
    out = sess.run(tensors, {'image_tensor:0': image[None]})
""",
)

_SAVED_MODEL = StrategyInfo(
    name="saved-model",
    api=TF2,
    description=(
        "TF2: tf.saved_model.load once, call the serving_default signature eagerly; the mask reframing "
        "is a tf.function with a shape-generic input_signature, so it traces once."
    ),
    code_pattern="""\
model = tf.saved_model.load(path)
serve = model.signatures['serving_default']
for batch in batches:
    out = serve(input_tensor=tf.constant(batch))
    masks = reframe(out['detection_masks'][0], out['detection_boxes'][0], tf.shape(batch)[1:3])
""",
)

_TF_FUNCTION_RETRACE = StrategyInfo(
    name="tf-function-retrace",
    api=TF2,
    description=(
        "TF2 anti-pattern: a tf.function around the model called with a changing Python value (the frame "
        "number) and changing image shapes, so it retraces and caches a new graph on (almost) every call."
    ),
    code_pattern="""\
@tf.function
def detect(images, frame_index):               # frame_index is a Python int
    out = serve(input_tensor=images)
    out['frame'] = tf.fill(tf.shape(out['num_detections']), frame_index)
    return out
for frame_index, batch in enumerate(batches):
    detect(tf.constant(batch), frame_index)     # new trace per call
""",
)

STRATEGIES: dict[str, StrategyInfo] = {
    info.name: info
    for info in (_TUTORIAL, _SESSION_PER_CALL, _RESET_GRAPH, _PERSISTENT, _SAVED_MODEL, _TF_FUNCTION_RETRACE)
}

# The question people ask: does the tutorial leak, and which fix helps (PR #6768's, the brief's reset
# advice, or moving to TF2)?
DEFAULT_COMPARISON: tuple[str, ...] = ("tutorial", "persistent", "reset-graph", "saved-model")

TF1_STRATEGIES = tuple(name for name, info in STRATEGIES.items() if info.api == TF1)
TF2_STRATEGIES = tuple(name for name, info in STRATEGIES.items() if info.api == TF2)
