"""TF1 strategies: Session patterns on a frozen OD API GraphDef (tutorial, session-per-call, reset-graph,
persistent). Each records the op count of the graph in use as evidence.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import numpy as np

from leakhunt.strategies.postprocess import add_postprocessing, to_numpy_outputs
from leakhunt.strategies.runtime import Runtime

INPUT_TENSOR = "image_tensor:0"
DETECTION_KEYS = ("num_detections", "detection_boxes", "detection_scores", "detection_classes", "detection_masks")


class _Tf1Strategy:
    """Shared plumbing: the image cycle, the session config, device pinning and evidence."""

    def __init__(self, graph_def: Any, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        import tensorflow as tf

        self._tf = tf
        self._graph_def = graph_def
        self._batches = itertools.cycle(batches)
        self._runtime = runtime
        self._config = runtime.session_config()
        self.images_per_step = int(batches[0].shape[0])
        self.notes = notes
        self.last_outputs: dict[str, Any] | None = None
        self.last_input_shape: tuple[int, ...] | None = None
        self.graph: Any = None
        self._finalized_op_count: int | None = None

    def _next_batch(self) -> np.ndarray:
        batch = next(self._batches)
        self.last_input_shape = tuple(batch.shape)
        return batch

    def _device_scope(self) -> Any:
        name = self._runtime.device_name
        return self._tf.device(name) if name else contextlib.nullcontext()

    def _import_model(self) -> None:
        """Import the GraphDef into the current default graph (pinned when --device asks)."""
        with self._device_scope():
            self._tf.compat.v1.import_graph_def(self._graph_def, name="")

    def _build_fetches(self, graph: Any) -> dict[str, Any]:
        """Output tensors plus post-processing built once, for any image size (dynamic H and W)."""
        tensors = {key: graph.get_tensor_by_name(f"{key}:0") for key in DETECTION_KEYS
                   if _has_tensor(graph, f"{key}:0")}
        image_shape = self._tf.shape(graph.get_tensor_by_name(INPUT_TENSOR))
        return add_postprocessing(tensors, self.images_per_step, image_shape[1], image_shape[2])

    def _build_finalized_graph(self) -> None:
        """Import the model and build the post-processing once, then finalize: the fixed pattern."""
        self.graph = self._tf.Graph()
        with self.graph.as_default():
            self._import_model()
            self._fetches = self._build_fetches(self.graph)
            self._image_tensor = self.graph.get_tensor_by_name(INPUT_TENSOR)
        self._finalize()

    def evidence(self) -> dict[str, int]:
        if self._finalized_op_count is not None:
            return {"graph_ops": self._finalized_op_count}
        if self.graph is None:
            return {}
        return {"graph_ops": len(self.graph.get_operations())}

    def _finalize(self) -> None:
        self.graph.finalize()
        # A finalized graph can never change, so its op count is read once.
        self._finalized_op_count = len(self.graph.get_operations())


def _has_tensor(graph: Any, name: str) -> bool:
    try:
        graph.get_tensor_by_name(name)
    except KeyError:
        return False
    return True


class TutorialStrategy(_Tf1Strategy):
    """run_inference_for_single_image from the old OD API tutorial, once per image (or batch)."""

    def __init__(self, graph_def: Any, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(graph_def, batches, runtime, notes)
        self.graph = self._tf.Graph()
        with self.graph.as_default():
            self._import_model()
        if not _has_tensor(self.graph, "detection_masks:0"):
            notes.append("tutorial: the model has no detection_masks, so the tutorial adds no ops per call "
                         "and its graph does not grow")

    def step(self) -> None:
        tf = self._tf
        batch = self._next_batch()
        graph = self.graph
        with graph.as_default():
            # The tutorial's `with tf.Session() as sess:` closes each session; the leak is the graph.
            with tf.compat.v1.Session(config=self._config) as sess:
                ops = tf.compat.v1.get_default_graph().get_operations()
                all_tensor_names = {output.name for op in ops for output in op.outputs}
                tensor_dict = {key: graph.get_tensor_by_name(f"{key}:0") for key in DETECTION_KEYS
                               if f"{key}:0" in all_tensor_names}
                # New ops on the shared graph on every call, with this image's size baked in as constants.
                fetches = add_postprocessing(tensor_dict, self.images_per_step, batch.shape[1], batch.shape[2])
                image_tensor = graph.get_tensor_by_name(INPUT_TENSOR)
                outputs = sess.run(fetches, feed_dict={image_tensor: batch})
        self.last_outputs = to_numpy_outputs(outputs)

    def close(self) -> None:
        self.graph = None


class SessionPerCallStrategy(_Tf1Strategy):
    """Graph and post-processing built once (and finalized); a new Session per image."""

    def __init__(self, graph_def: Any, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(graph_def, batches, runtime, notes)
        self._build_finalized_graph()

    def step(self) -> None:
        batch = self._next_batch()
        with self._tf.compat.v1.Session(graph=self.graph, config=self._config) as sess:
            outputs = sess.run(self._fetches, feed_dict={self._image_tensor: batch})
        self.last_outputs = to_numpy_outputs(outputs)

    def close(self) -> None:
        self.graph = None


class ResetGraphStrategy(_Tf1Strategy):
    """The brief's Example 1: close the session, reset the default graph, re-import, new Session, per call.

    Example 1 closes and resets at the end of a call; here that happens at the start of the next call
    (same operations, same order between two runs) so the graph in use can be counted between steps.
    """

    def __init__(self, graph_def: Any, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(graph_def, batches, runtime, notes)
        self._session: Any = None

    def _release(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self.graph = None
        self._tf.compat.v1.reset_default_graph()

    def step(self) -> None:
        tf = self._tf
        batch = self._next_batch()
        self._release()
        graph = tf.compat.v1.get_default_graph()
        with graph.as_default():
            self._import_model()
            fetches = self._build_fetches(graph)
            image_tensor = graph.get_tensor_by_name(INPUT_TENSOR)
        self.graph = graph
        self._session = tf.compat.v1.Session(graph=graph, config=self._config)
        outputs = self._session.run(fetches, feed_dict={image_tensor: batch})
        self.last_outputs = to_numpy_outputs(outputs)

    def close(self) -> None:
        self._release()


class PersistentStrategy(_Tf1Strategy):
    """Import once, post-processing once, graph.finalize(), one Session fed image after image."""

    def __init__(self, graph_def: Any, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(graph_def, batches, runtime, notes)
        self._build_finalized_graph()
        self._session = self._tf.compat.v1.Session(graph=self.graph, config=self._config)

    def step(self) -> None:
        batch = self._next_batch()
        outputs = self._session.run(self._fetches, feed_dict={self._image_tensor: batch})
        self.last_outputs = to_numpy_outputs(outputs)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


TF1_CLASSES = {
    "tutorial": TutorialStrategy,
    "session-per-call": SessionPerCallStrategy,
    "reset-graph": ResetGraphStrategy,
    "persistent": PersistentStrategy,
}
