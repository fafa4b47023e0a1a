"""Dynamic checks for single-image readers (a path in, one image out), run against probe images.

A single-image reader (`cv2.imread` and a conversion, `PIL.Image.open`, `torchvision.io.read_image`,
...) is called on each probe image (`probes.make_probe_images`: PNG and JPEG, 16:9, 9:16 and 4:3).
Each image is one frame of the frame code carrying its own index, red cells on a green grid of
square tiles, so what the reader returns says whether it is this image's pixels (the index reads
back), in which channel order (red must stay in channel 0) and with what aspect (the tiles must stay
square). Crops, aspect-keeping resizes, float output and mean/std normalisation all read back.

The findings reuse the loader rule ids: an image reader is a loader of one frame, with the same bugs
and the same fixes. TK616 color-order: red came back in channel 2 (BGR, as `cv2.imread` returns it
without `cv2.cvtColor`). TK617 aspect-distortion: the image came back stretched (its tiles are no
longer square) or with height and width swapped; for a reader that returns one channel (no colour
code to read) the returned H:W must equal the image's, unless its docstring says it resizes or crops.

A reader that fails on every probe image (raises, returns None, or returns something that is not
the image) is not audited: `UnusableCallable` says how, in one line. Failures on some images only are
added to the findings, or, when there are none, make the reader unusable with that reason.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, DynamicCheck
from temporalkit.validators.dynamic.clips import UnusableCallable, _looks_like_frame, short_repr
from temporalkit.validators.dynamic.frame_code import FrameReading, frame_to_hwc, read_frame, to_numpy
from temporalkit.validators.dynamic.loader_checks import ROUND_TOLERANCE
from temporalkit.validators.dynamic.probes import ProbeImage, make_probe_images
from temporalkit.validators.findings import Finding

# Category -> the loader check that reports it; findings carry the check's image-reader fix.
RULES: dict[str, DynamicCheck] = {check.category: check for check in (DYNAMIC_CHECKS["TK616"], DYNAMIC_CHECKS["TK617"])}
IMAGE_KEYS = ("image", "img", "pixels", "frame", "array", "data")
_DOCUMENTS_RESIZING = re.compile(r"resiz|rescal|crop|scale|thumbnail|\b\d+\s*[x\u00d7]\s*\d+\b", re.I)


class _NotAnImage(Exception):
    """What the reader returned is not one image; the message says what it was."""


@dataclass
class ImageOutcome:
    """What the reader did with one probe image."""

    image: ProbeImage
    failure: str | None = None  # "raised ...", "returned None", ...: the image was not read
    shape: tuple[int, int] | None = None  # (H, W) returned
    problems: dict[str, str] = field(default_factory=dict)  # category -> detail


def _as_image(output: object) -> np.ndarray:
    """The one image in `output` as an (H, W, 3) float32 array in 0..1."""
    if output is None:
        raise _NotAnImage("returned None instead of the pixels")
    if isinstance(output, dict):
        key = next((k for k in IMAGE_KEYS if k in output), None)
        if key is None:
            raise _NotAnImage(f"returned a dict without an image key (keys: {', '.join(map(str, output))})")
        output = output[key]
    elif isinstance(output, (tuple, list)):
        if not output:
            raise _NotAnImage(f"returned an empty {type(output).__name__}")
        if not _looks_like_frame(output[0]):
            raise _NotAnImage(f"returned a {type(output).__name__} whose first item is a {type(output[0]).__name__}")
        output = output[0]  # (image, metadata) or a one-frame list
    try:
        array = to_numpy(output)
    except Exception as error:  # an object numpy cannot take
        raise _NotAnImage(f"returned a {type(output).__name__} ({short_repr(error)})") from None
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim not in (2, 3) or array.dtype == object:
        raise _NotAnImage(f"returned {type(output).__name__} of shape {tuple(array.shape)}, not one image")
    try:
        image = frame_to_hwc(array.astype(np.float32) if array.dtype == bool else array)
    except ValueError as error:
        raise _NotAnImage(f"returned {type(output).__name__} of shape {tuple(array.shape)} ({error})") from None
    if min(image.shape[:2]) < 2:
        raise _NotAnImage(f"returned {type(output).__name__} of shape {tuple(array.shape)}, not one image")
    return image


def _is_single_channel(image: np.ndarray) -> bool:
    return float(np.abs(image - image.mean(axis=-1, keepdims=True)).max()) < 0.02


def _judge(fn: Callable, image: ProbeImage, name: str, documents_resizing: bool) -> ImageOutcome:
    outcome = ImageOutcome(image)
    call = f"`{name}({image.name!r})`"
    try:
        output = fn(str(image.path))
    except Exception as error:  # user code
        outcome.failure = f"raised {short_repr(error)}"
        return outcome
    try:
        pixels = _as_image(output)
    except _NotAnImage as reason:
        outcome.failure = str(reason)
        return outcome
    height, width = pixels.shape[:2]
    outcome.shape = (height, width)
    reading = read_frame(pixels)
    transposed = False
    if reading.index != image.index:
        swapped = read_frame(np.swapaxes(pixels, 0, 1))
        if swapped.index == image.index:
            reading, transposed = swapped, True
    if reading.index == image.index:
        _judge_pixels(outcome, reading, transposed, call)
    elif _is_single_channel(pixels):
        # One channel: no colour code to read, so only the returned shape can be judged.
        change = (width / height) / (image.width / image.height)
        if abs(math.log(change)) > math.log(ROUND_TOLERANCE) and not documents_resizing:
            outcome.problems["aspect-distortion"] = (
                f"{call} returned a {width}x{height} single-channel image for {image.describe()} "
                f"(width/height {change:.2f} of the image's)"
            )
    elif reading.index is not None:
        outcome.failure = f"returned the pixels of another image (they carry index {reading.index}, not {image.index})"
    else:
        outcome.failure = f"returned a {width}x{height} image in which the probe image's pixels are not found"
    return outcome


def _judge_pixels(outcome: ImageOutcome, reading: FrameReading, transposed: bool, call: str) -> None:
    image, (height, width) = outcome.image, outcome.shape
    where = f"for {image.describe()}"
    if reading.channel_order == "BGR":
        outcome.problems["color-order"] = f"{call} returned BGR pixels (red came out in channel 2) {where}"
    if transposed:
        outcome.problems["aspect-distortion"] = (
            f"{call} returned a {width}x{height} image with height and width swapped {where}"
        )
    elif reading.aspect_change and abs(math.log(reading.aspect_change)) > math.log(ROUND_TOLERANCE):
        outcome.problems["aspect-distortion"] = (
            f"{call} stretched the image by {reading.aspect_change:.2f} (width/height change) into a "
            f"{width}x{height} image {where}"
        )


def check_image_reader(
    fn: Callable,
    images: Sequence[ProbeImage] | None = None,
    *,
    name: str | None = None,
    probe_dir: str | None = None,
) -> list[Finding]:
    """Call the reader on every probe image and report what it got wrong (see the module docstring).

    `images` defaults to `make_probe_images()` (under `probe_dir/images` when `probe_dir` is given).

    Raises `UnusableCallable` when the reader reads none of the images, or only some and shows no
    other problem.
    """
    name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
    if images is None:
        images = make_probe_images(None if probe_dir is None else f"{probe_dir}/images")
    documents_resizing = bool(_DOCUMENTS_RESIZING.search(inspect.getdoc(fn) or ""))
    outcomes = [_judge(fn, image, name, documents_resizing) for image in images]
    failed = [o for o in outcomes if o.failure]
    if failed and len(failed) == len(outcomes):
        reasons = {o.failure for o in failed}
        if len(reasons) == 1:
            raise UnusableCallable(f"`{name}` {reasons.pop()} on every probe image (PNG and JPEG)")
        raise UnusableCallable(
            f"`{name}` read none of the probe images: "
            + "; ".join(f"{o.failure} on {o.image.name}" for o in failed[:2])
        )
    unread = "; ".join(f"{o.failure} on {o.image.name}" for o in failed)
    findings = []
    for category, check in RULES.items():
        showing = [o for o in outcomes if category in o.problems]
        if not showing:
            continue
        first = showing[0]
        tail = f" (and {len(showing) - 1} more of {len(outcomes)} probe images)" if len(showing) > 1 else ""
        findings.append(
            check.finding(
                first.problems[category] + tail + (f"; it also {unread}" if unread else ""),
                role="image",
                extra={
                    "probe_image": first.image.name,
                    "shape_returned": list(first.shape or ()),
                    "probes_failing": [o.image.name for o in showing],
                    "probes_unread": [o.image.name for o in failed],
                },
            )
        )
    if failed and not findings:
        raise UnusableCallable(
            f"`{name}` read {len(outcomes) - len(failed)} of {len(outcomes)} probe images but {unread}"
        )
    return findings
