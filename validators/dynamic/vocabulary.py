"""The names the dynamic auditor reads roles from, shared by discovery (parent) and the adapters (child).

Standard library only: the child process imports this, not `discover` (which needs libcst, a second
of start-up the child does not need).
"""

from __future__ import annotations

import ast
import re

FRAME_COUNT_NAMES: tuple[str, ...] = (
    "num_frames",
    "total",
    "n",
    "vlen",
    "video_len",
    "length",
    "total_frames",
    "n_frames",
    "num_total_frames",
    "video_length",
    "frame_count",
    "nframes",
    "num_video_frames",
    "num_frames_total",
    "seg_len",
    "video_size",
)
CLIP_LENGTH_NAMES: tuple[str, ...] = (
    "T",
    "t",
    "num_samples",
    "clip_len",
    "num_segments",
    "k",
    "clip_length",
    "n_samples",
    "frames_per_clip",
    "num_frames_per_clip",
    "seq_len",
    "sample_count",
    "n_segments",
    "num_sampled",
    "new_length",
    "clip_size",
)
SEED_NAMES: tuple[str, ...] = ("rng", "seed", "generator", "random_state", "gen")
NUM_CLIPS_NAMES: tuple[str, ...] = ("num_clips", "n_clips", "num_views", "num_windows", "clips_per_video")
VIDEO_NAMES: tuple[str, ...] = (
    "video",
    "frames",
    "clip",
    "x",
    "vid",
    "tensor",
    "video_tensor",
    "imgs",
    "images",
    "buffer",
    "inputs",
    "img",
)
PATH_NAMES: tuple[str, ...] = (
    "path",
    "video_path",
    "filename",
    "fname",
    "file",
    "filepath",
    "uri",
    "src",
    "video_file",
    "path_to_vid",
    "path_to_video",
)
VIDEO_PATH_NAMES: tuple[str, ...] = ("video_path", "video_file", "path_to_vid", "path_to_video")
IMAGE_PATH_NAMES: tuple[str, ...] = (
    "image_path",
    "img_path",
    "image_file",
    "img_file",
    "image_filename",
    "img_filename",
    "frame_path",
    "frame_file",
    "im_path",
)
# Qualified names (after the module's imports are applied) of calls that read one still image, and
# of calls that open a video.
IMAGE_READ_CALLS: frozenset[str] = frozenset(
    {
        "cv2.imread",
        "cv2.imdecode",
        "PIL.Image.open",
        "torchvision.io.read_image",
        "torchvision.io.decode_image",
        "torchvision.io.decode_jpeg",
        "torchvision.io.decode_png",
        "torchvision.io.image.read_image",
        "torchvision.io.image.decode_image",
        "torchvision.datasets.folder.pil_loader",
        "torchvision.datasets.folder.default_loader",
        "imageio.imread",
        "imageio.v2.imread",
        "imageio.v3.imread",
        "skimage.io.imread",
        "matplotlib.pyplot.imread",
        "matplotlib.image.imread",
        "tifffile.imread",
    }
)
VIDEO_READ_CALLS: frozenset[str] = frozenset(
    {
        "av.open",
        "cv2.VideoCapture",
        "torchvision.io.read_video",
        "torchvision.io.VideoReader",
        "torchvision.io.video.read_video",
        "decord.VideoReader",
        "decord.VideoLoader",
        "torchcodec.decoders.VideoDecoder",
        "imageio.get_reader",
        "imageio.v2.get_reader",
        "imageio.mimread",
        "imageio.v2.mimread",
        "imageio.v3.imiter",
        "skvideo.io.vread",
        "skvideo.io.vreader",
        "moviepy.editor.VideoFileClip",
        "moviepy.VideoFileClip",
    }
)
# Parameters that switch a sampler into its test-time behaviour, and the value that does it.
TEST_MODE_FLAGS: dict[str, object] = {
    "test_mode": True,
    "is_test": True,
    "eval_mode": True,
    "deterministic": True,
    "training": False,
    "train": False,
    "is_train": False,
    "is_training": False,
    "random": False,
}
ROLE_TOKENS: tuple[str, ...] = (
    "num_frames",
    "T",
    "seed",
    "num_clips",
    "video",
    "clip",
    "path",
    "duration",
    "clip_duration",
)
# Seconds-based samplers (pytorchvideo clip samplers): the video's length and the clip's, in seconds,
# and where the previous clip ended; converted from frames at `SECONDS_FPS`.
DURATION_NAMES: tuple[str, ...] = ("video_duration", "duration", "video_length_sec", "duration_sec")
CLIP_DURATION_NAMES: tuple[str, ...] = ("clip_duration", "clip_duration_sec", "clip_length_sec")
LAST_END_NAMES: tuple[str, ...] = ("last_clip_end_time", "last_clip_time", "last_end_time")
SECONDS_FPS = 30
# Dict pipelines (OpenMMLab `transform(results) -> results`): the one parameter that carries the dict.
RESULTS_NAMES: tuple[str, ...] = ("results", "result", "sample_dict")
# Parameters whose value names the time axis of the input tensor (pytorchvideo's `temporal_dim`).
TEMPORAL_DIM_NAMES: tuple[str, ...] = ("temporal_dim", "time_dim", "t_dim", "frame_dim")

_TEST_TIME_NAME = re.compile(
    r"(^|_|\.)(test|val|valid|validation|eval|evaluation|inference|infer)(_|$|\.)|(Test|Val|Eval)[A-Z_]", re.I
)


def argument_value(text: str) -> object:
    """The value of one `--args` entry that is not a role token: a Python literal, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def looks_test_time(name: str) -> bool:
    return bool(_TEST_TIME_NAME.search(name))


def definition_lines(source: str) -> dict[str, tuple[int, int]]:
    """Line and column of the `def`/`class` keyword (not the decorators) of every module-level
    function and class and of their methods."""
    lines: dict[str, tuple[int, int]] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines[node.name] = (node.lineno, node.col_offset)
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines[f"{node.name}.{child.name}"] = (child.lineno, child.col_offset)
    return lines
