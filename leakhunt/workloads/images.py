"""Input images for the built-in strategies: the default sample image in a few sizes, or a user's folder,
resized with Pillow (the brief's Example 3) and grouped into batches of equal-sized images.

No TensorFlow import: the parent validates the folder with it, the child loads the pixels.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from leakhunt.errors import BadInputError
from leakhunt.workloads.resize import ResizeSpec

DEFAULT_IMAGE_NAME = "grace_hopper.jpg"
# The original 512x600 plus two smaller copies: a cycle of distinct input shapes, so that resizing
# choices and shape-driven retracing show up in a soak of the default images.
DEFAULT_IMAGE_SCALES = (1.0, 0.75, 0.5)
# A user folder of thousands of photos must not be held in memory: the loop cycles over this many.
MAX_IMAGES = 64
# Batches are stacked once at build time, so a step measures the model and not np.stack/Pillow; this
# caps how many images those ready-made batches hold in total.
MAX_BATCHED_IMAGES = 256
# Smaller images are rejected by the OD API's preprocessing (height and width must be >= 33).
MIN_SIDE_PX = 33


def default_image_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / DEFAULT_IMAGE_NAME


def _warn(message: str) -> None:
    print(f"leakhunt: warning: {message}", file=sys.stderr)


def _image_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))


def _open_rgb(path: Path) -> Image.Image | None:
    """The image as RGB, or None (with a warning) if Pillow cannot read it."""
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        _warn(f"skipping {path.name}: not a readable image ({type(error).__name__})")
        return None
    if min(image.size) < MIN_SIDE_PX:
        _warn(f"skipping {path.name}: {image.size[0]}x{image.size[1]} is smaller than {MIN_SIDE_PX} px a side")
        return None
    return image


def _check_folder(path: str | Path) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise BadInputError(f"--images folder not found: {folder}")
    if not folder.is_dir():
        raise BadInputError(f"--images must be a folder of images, but {folder} is a file")
    return folder


def validate_images_dir(path: str | Path) -> int:
    """How many usable images the folder holds; BadInputError if it is missing, empty or all broken.

    Only headers are read (Image.verify), so the parent stays fast on big folders.
    """
    folder = _check_folder(path)
    files = _image_files(folder)
    if not files:
        raise BadInputError(f"--images folder {folder} is empty; put .jpg or .png files in it")
    usable = 0
    for file in files:
        try:
            with Image.open(file) as opened:
                size = opened.size
                opened.verify()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue
        if min(size) >= MIN_SIDE_PX:
            usable += 1
    if usable == 0:
        raise BadInputError(
            f"--images folder {folder} has {len(files)} file(s) but none is a readable image of at least "
            f"{MIN_SIDE_PX}x{MIN_SIDE_PX} px"
        )
    return usable


def _default_images() -> list[Image.Image]:
    path = default_image_path()
    with Image.open(path) as opened:
        original = opened.convert("RGB")
    images = []
    for scale in DEFAULT_IMAGE_SCALES:
        if scale == 1.0:
            images.append(original)
        else:
            size = (round(original.width * scale), round(original.height * scale))
            images.append(original.resize(size, Image.Resampling.LANCZOS))
    return images


def _load_pil(images_dir: str | Path | None) -> list[Image.Image]:
    if images_dir is None:
        return _default_images()
    folder = _check_folder(images_dir)
    files = _image_files(folder)
    if len(files) > MAX_IMAGES:
        _warn(f"{folder} holds {len(files)} files; using the first {MAX_IMAGES} (sorted by name)")
        files = files[:MAX_IMAGES]
    images = [image for image in (_open_rgb(file) for file in files) if image is not None]
    if not images:
        raise BadInputError(f"--images folder {folder} holds no readable image (of {len(files)} file(s))")
    return images


def load_images(images_dir: str | Path | None) -> list[np.ndarray]:
    """The images as uint8 HxWx3 arrays: the default sample image in a few sizes, or the folder's images.

    Unreadable or non-image files are skipped with a warning on stderr; none left -> BadInputError.
    """
    return [np.asarray(image, dtype=np.uint8) for image in _load_pil(images_dir)]


def resize_image(image: np.ndarray, spec: ResizeSpec) -> np.ndarray:
    """Apply one --resize value with Pillow (LANCZOS filter; Image.ANTIALIAS no longer exists)."""
    if spec.mode == "none":
        return image
    pil = Image.fromarray(image)
    if spec.mode == "thumbnail":
        pil.thumbnail((spec.width, spec.height), Image.Resampling.LANCZOS)
    else:
        pil = pil.resize((spec.width, spec.height), Image.Resampling.LANCZOS)
    return np.asarray(pil, dtype=np.uint8)


def _to_size(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def make_batches(images: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """Stack the cycled images into [batch, H, W, 3] arrays, one size per batch.

    A batch takes the next `batch` images of the cycle and resizes each to the size of its first image
    (a model input is one dense tensor, so a batch's images must be equal-sized). The list covers one
    full period of the cycle when that fits in MAX_BATCHED_IMAGES, else as many batches as fit.
    """
    if not images:
        raise BadInputError("no images to feed")
    count = len(images)
    period = count // math.gcd(count, batch)
    batches_wanted = max(1, min(period, MAX_BATCHED_IMAGES // batch))
    batches = []
    for index in range(batches_wanted):
        members = [images[(index * batch + offset) % count] for offset in range(batch)]
        height, width = members[0].shape[:2]
        batches.append(np.stack([_to_size(member, height, width) for member in members]))
    return batches
