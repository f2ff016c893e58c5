"""Model presets: input sizes and proposal/detection counts of the embedded Mask R-CNN (never its layers)."""

from __future__ import annotations

from dataclasses import dataclass

from leakhunt.errors import BadInputError

# The exported interface of the OD API's frozen_inference_graph.pb, in the order the OD API lists them.
OUTPUT_NAMES = (
    "num_detections",
    "detection_boxes",
    "detection_scores",
    "detection_classes",
    "detection_masks",
)
# A model without these cannot be used as a detector at all; masks are optional (Faster R-CNN, SSD).
REQUIRED_OUTPUT_NAMES = OUTPUT_NAMES[:4]
INPUT_NAME = "image_tensor"
MASK_HEIGHT = MASK_WIDTH = 15


@dataclass(frozen=True)
class Preset:
    """Sizes of one embedded-model variant.

    `max_mask_boxes` caps how many of the top-scoring detections go through the mask head (the rest
    get all-zero masks and no further cost). None means every detection slot, like the real export.
    It exists only so `tiny` stays fast on a CPU: one mask costs ~0.7 GMAC (15x15x1024 -> 3x3x256).
    """

    name: str
    min_dimension: int
    max_dimension: int
    max_proposals: int
    max_detections: int
    description: str
    max_mask_boxes: int | None = None

    @property
    def mask_boxes(self) -> int:
        """How many detection slots run through the mask head."""
        if self.max_mask_boxes is None:
            return self.max_detections
        return min(self.max_mask_boxes, self.max_detections)


PRESETS: dict[str, Preset] = {
    "full": Preset(
        name="full",
        min_dimension=800,
        max_dimension=1365,
        max_proposals=300,
        max_detections=100,
        description="the zoo config: 800/1365 resizer, 300 proposals, 100 detections (GPU-sized)",
    ),
    "small": Preset(
        name="small",
        min_dimension=320,
        max_dimension=512,
        max_proposals=100,
        max_detections=100,
        description="320/512 resizer, 100 proposals (the zoo export's count), 100 detections with masks",
    ),
    "tiny": Preset(
        name="tiny",
        min_dimension=128,
        max_dimension=224,
        max_proposals=16,
        max_detections=100,
        max_mask_boxes=4,
        description="128/224 resizer, 16 proposals, 100 detection slots (masks on the top 4): tests, CI",
    ),
}

# CPU machines cannot soak the full model in reasonable time; `small` keeps every stage at its real
# per-box cost (100 proposals, 100 masks) on a smaller image.
DEFAULT_PRESET = "small"


def get_preset(name: str) -> Preset:
    """The preset called `name`, or BadInputError listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise BadInputError(f"unknown model preset {name!r}; choose one of: {valid}") from None
