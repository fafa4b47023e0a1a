"""Probe videos: small clips whose every frame carries its own index (see `frame_code`).

The set spans what trips loaders: lengths around a typical T (shorter, equal, longer), fps 24,
30 and 60 plus a variable-frame-rate clip, aspects 16:9, 4:3, 9:16 and 1:1, an MPEG-4 Part 2
clip in Matroska (the container stores no frame count) and an H.264 MP4 cut short at a packet
boundary (its header still claims every frame it was written with: a wrong frame count).

After writing, every probe is decoded back and each frame's code read, so the manifest's
`frames` is what a decoder really yields, not what the writer intended, and `claimed_frames`
is what the container says. Probes are cached in a directory keyed by the content of the spec
list and the code version, so a second call costs only a manifest read.

    probes = make_probe_set()               # $XDG_CACHE_HOME/temporalkit/probes/<key>/
    probes = make_probe_set("tests/probes") # or a directory of your choice

Probe images, for single-image readers, are one coded frame each (a different index per image),
written as PNG and JPEG with PyAV at 16:9, 9:16 and 4:3, and read back the same way:

    images = make_probe_images()            # $XDG_CACHE_HOME/temporalkit/probe-images/<key>/
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from temporalkit.validators.dynamic.frame_code import encode_frame, read_frame

from temporalkit.fileio import atomic_output, write_atomic

# Bump when the frame code or the way probes are written changes: it is part of the cache key.
PROBE_FORMAT_VERSION = 1

ASPECT_SIZES: dict[str, tuple[int, int]] = {  # aspect -> (height, width); short side 144
    "16:9": (144, 256),
    "4:3": (144, 192),
    "9:16": (256, 144),
    "1:1": (144, 144),
}

# Milliseconds between frames of the variable-frame-rate probe, cycled.
VFR_STEPS_MS = (20, 50, 33, 17, 42)


@dataclass(frozen=True)
class ProbeSpec:
    """What to write. `kind` is "h264" (MP4), "mpeg4-mkv" (no frame count in the container) or
    "h264-truncated" (MP4 cut after `keep` of `length` frames: the header claims `length`)."""

    name: str
    length: int
    fps: int
    aspect: str
    kind: str = "h264"
    vfr: bool = False
    keep: int | None = None


PROBE_SPECS: tuple[ProbeSpec, ...] = (
    ProbeSpec("h264_16x9_24fps_5", 5, 24, "16:9"),
    ProbeSpec("h264_16x9_24fps_8", 8, 24, "16:9"),
    ProbeSpec("h264_16x9_24fps_16", 16, 24, "16:9"),
    ProbeSpec("h264_16x9_30fps_17", 17, 30, "16:9"),
    ProbeSpec("h264_16x9_30fps_64", 64, 30, "16:9"),
    ProbeSpec("h264_16x9_30fps_150", 150, 30, "16:9"),
    ProbeSpec("h264_4x3_30fps_16", 16, 30, "4:3"),
    ProbeSpec("h264_9x16_60fps_16", 16, 60, "9:16"),
    ProbeSpec("h264_1x1_60fps_17", 17, 60, "1:1"),
    ProbeSpec("h264_16x9_vfr_24", 24, 30, "16:9", vfr=True),
    ProbeSpec("mpeg4_16x9_30fps_40_nocount", 40, 30, "16:9", kind="mpeg4-mkv"),
    ProbeSpec("h264_16x9_30fps_23_claims32", 32, 30, "16:9", kind="h264-truncated", keep=23),
)


@dataclass(frozen=True)
class ProbeVideo:
    """One probe on disk, with what is true about it and what its container claims.

    `frames` is the number of frames a decoder yields and frame i carries index i.
    `claimed_frames` is the container's frame count (0: none stored); `claimed_duration_s` and
    `claimed_fps` are the container's duration and average rate. `timestamps_s` are the
    presentation times of the decoded frames.
    """

    name: str
    path: Path
    frames: int
    fps: float
    vfr: bool
    aspect: str
    height: int
    width: int
    codec: str
    container: str
    claimed_frames: int
    claimed_duration_s: float | None
    claimed_fps: float | None
    timestamps_s: tuple[float, ...] = field(default=(), repr=False)

    @property
    def metadata_is_wrong(self) -> bool:
        """True when the container's frame count is missing or differs from the decoded count."""
        return self.claimed_frames != self.frames

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = self.path.name
        data["timestamps_s"] = list(self.timestamps_s)
        data["metadata_is_wrong"] = self.metadata_is_wrong
        return data


def _cache_key(version: int, specs: tuple) -> str:
    """A key for a set of probes: what they are, how they are written, and the PyAV that wrote them."""
    import av

    payload = json.dumps(
        {"version": version, "av": av.__version__, "specs": [asdict(s) for s in specs]},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _cache_root() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache_home) / "temporalkit"


def default_probe_dir(specs: tuple[ProbeSpec, ...] = PROBE_SPECS) -> Path:
    """`$XDG_CACHE_HOME/temporalkit/probes/<content key>` (XDG default: ~/.cache)."""
    return _cache_root() / "probes" / _cache_key(PROBE_FORMAT_VERSION, specs)


def _presentation_times_ms(spec: ProbeSpec) -> list[int]:
    if spec.vfr:
        times, now = [], 0
        for i in range(spec.length):
            times.append(now)
            now += VFR_STEPS_MS[i % len(VFR_STEPS_MS)]
        return times
    return [round(1000 * i / spec.fps) for i in range(spec.length)]


def _write(spec: ProbeSpec, path: Path) -> None:
    import av

    height, width = ASPECT_SIZES[spec.aspect]
    is_mkv = spec.kind == "mpeg4-mkv"
    container_options = {} if is_mkv else {"movflags": "faststart"}  # header first, so a cut keeps it
    with av.open(str(path), "w", format="matroska" if is_mkv else "mp4", options=container_options) as container:
        if is_mkv:
            stream = container.add_stream("mpeg4", rate=spec.fps)
            stream.bit_rate = 8_000_000
            stream.codec_context.gop_size = 12
            stream.options = {"qmax": "4"}
        else:
            stream = container.add_stream("libx264", rate=spec.fps)
            # ultrafast: no B-frames, so decode order is display order and a cut drops only the tail
            stream.options = {"preset": "ultrafast", "crf": "14"}
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        time_base = Fraction(1, 1000)
        if spec.vfr:
            stream.codec_context.time_base = time_base
        for index, pts_ms in enumerate(_presentation_times_ms(spec)):
            frame = av.VideoFrame.from_ndarray(encode_frame(index, height, width), format="rgb24")
            if spec.vfr:
                frame.pts, frame.time_base = pts_ms, time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    if spec.kind == "h264-truncated":
        _cut_after_packets(path, spec.keep or 0)


def _cut_after_packets(path: Path, keep: int) -> None:
    """Truncate the file at the start of packet `keep`: the header still lists every frame."""
    import av

    with av.open(str(path)) as container:
        starts = sorted(p.pos for p in container.demux(container.streams.video[0]) if p.size and p.pos >= 0)
    if keep >= len(starts):
        return
    with open(path, "r+b") as handle:
        handle.truncate(starts[keep])


def _inspect(spec: ProbeSpec, path: Path) -> ProbeVideo:
    """Decode the written probe and check that frame i carries index i."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # temporalkit: ignore[frame-count-metadata] -- recorded to be compared with the decoded frames
        claimed_frames = int(stream.frames or 0)
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        claimed_fps = float(stream.average_rate) if stream.average_rate else None
        codec = stream.codec_context.name
        indices, times = [], []
        for frame in container.decode(stream):
            indices.append(read_frame(frame.to_ndarray(format="rgb24")).index)
            times.append(round(float(frame.time or 0.0), 6))
    if indices != list(range(len(indices))):
        raise RuntimeError(f"probe {spec.name}: frames decode as {indices}, expected 0..{len(indices) - 1}")
    height, width = ASPECT_SIZES[spec.aspect]
    return ProbeVideo(
        name=spec.name,
        path=path,
        frames=len(indices),
        fps=float(spec.fps),
        vfr=spec.vfr,
        aspect=spec.aspect,
        height=height,
        width=width,
        codec=codec,
        container="matroska" if spec.kind == "mpeg4-mkv" else "mp4",
        claimed_frames=claimed_frames,
        claimed_duration_s=duration,
        claimed_fps=claimed_fps,
        timestamps_s=tuple(times),
    )


def _file_name(spec: ProbeSpec) -> str:
    return spec.name + (".mkv" if spec.kind == "mpeg4-mkv" else ".mp4")


def _load_manifest(directory: Path, key: str) -> list[ProbeVideo] | None:
    manifest = directory / "manifest.json"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None
    probes = []
    for entry in data["probes"]:
        entry = dict(entry)
        entry.pop("metadata_is_wrong", None)
        entry["path"] = directory / entry["path"]
        entry["timestamps_s"] = tuple(entry["timestamps_s"])
        if not entry["path"].is_file():
            return None
        probes.append(ProbeVideo(**entry))
    return probes


def make_probe_set(
    directory: str | os.PathLike | None = None,
    specs: tuple[ProbeSpec, ...] = PROBE_SPECS,
) -> list[ProbeVideo]:
    """Write (or reuse) the probe videos and `manifest.json` in `directory`; return the probes.

    `directory` defaults to `default_probe_dir()`. A directory whose manifest carries the same
    content key is reused as is.
    """
    return list(iter_probe_set(directory, specs))


def iter_probe_set(
    directory: str | os.PathLike | None = None,
    specs: tuple[ProbeSpec, ...] = PROBE_SPECS,
) -> Iterator[ProbeVideo]:
    """`make_probe_set`, yielding each probe as it is ready (for progress display).

    Each file is written atomically (temporalkit.fileio: a temporary file beside it, then a
    replace), one by one, with the manifest last, so an interrupted run never leaves a manifest that lies. Consume the
    iterator to the end: the manifest is written after the last probe.
    """
    key = _cache_key(PROBE_FORMAT_VERSION, specs)
    target = Path(directory) if directory is not None else default_probe_dir(specs)
    cached = _load_manifest(target, key)
    if cached is not None:
        yield from cached
        return
    target.mkdir(parents=True, exist_ok=True)
    probes = []
    for spec in specs:
        final_path = target / _file_name(spec)
        with atomic_output(final_path) as scratch_path:
            _write(spec, scratch_path)
            probe = _inspect(spec, scratch_path)
        probe = replace(probe, path=final_path)
        probes.append(probe)
        yield probe
    manifest = {
        "key": key,
        "format_version": PROBE_FORMAT_VERSION,
        "description": "temporalkit probe videos: frame i of each file carries index i in the "
        "temporalkit frame code (temporalkit.validators.dynamic.frame_code.decode_frame_index).",
        "probes": [p.to_dict() for p in probes],
    }
    write_atomic(target / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def remove_probe_set(directory: str | os.PathLike) -> None:
    """Delete a probe directory written by `make_probe_set` (only if it has a probe manifest)."""
    directory = Path(directory)
    if (directory / "manifest.json").is_file():
        shutil.rmtree(directory)


# --- probe images (single-image readers) ---------------------------------------------------------

# Bump when the way probe images are written changes: it is part of their cache key.
PROBE_IMAGE_FORMAT_VERSION = 1

# Image format -> (PyAV encoder, pixel format it encodes). JPEG at qscale 2 keeps the 7 px cells
# of the frame code readable through 4:2:0 chroma.
_IMAGE_ENCODERS: dict[str, tuple[str, str]] = {
    "png": ("png", "rgb24"),
    "jpeg": ("mjpeg", "yuvj420p"),
}


@dataclass(frozen=True)
class ProbeImageSpec:
    """One still image to write, `name` being its file name: frame `index` of the frame code at
    `aspect`, as `format` (png | jpeg)."""

    name: str
    index: int
    aspect: str
    format: str


# Distinct indices (an image read back as another is caught) whose tiles decode neither transposed
# nor mirrored (a reader that swaps height and width is never read as returning the image itself).
PROBE_IMAGE_SPECS: tuple[ProbeImageSpec, ...] = (
    ProbeImageSpec("image_16x9.png", 41, "16:9", "png"),
    ProbeImageSpec("image_9x16.png", 74, "9:16", "png"),
    ProbeImageSpec("image_16x9.jpg", 111, "16:9", "jpeg"),
    ProbeImageSpec("image_4x3.jpg", 148, "4:3", "jpeg"),
)


@dataclass(frozen=True)
class ProbeImage:
    """One probe image on disk: `encode_frame(index, height, width)` (RGB) stored as `format`.

    Red data cells on a green grid: red must come back in channel 0, the tiles are square, and the
    index reads back only from this image's own pixels.
    """

    name: str
    path: Path
    index: int
    aspect: str
    format: str
    height: int
    width: int

    def describe(self) -> str:
        return f"{self.name} ({self.format.upper()}, {self.width}x{self.height}, {self.aspect})"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = self.path.name
        return data


def default_probe_image_dir(specs: tuple[ProbeImageSpec, ...] = PROBE_IMAGE_SPECS) -> Path:
    """`$XDG_CACHE_HOME/temporalkit/probe-images/<content key>` (XDG default: ~/.cache)."""
    return _cache_root() / "probe-images" / _cache_key(PROBE_IMAGE_FORMAT_VERSION, specs)


def _write_image(spec: ProbeImageSpec, path: Path) -> None:
    import av

    codec, pix_fmt = _IMAGE_ENCODERS[spec.format]
    height, width = ASPECT_SIZES[spec.aspect]
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, pix_fmt
    context.time_base = Fraction(1, 1)
    if codec == "mjpeg":
        context.options = {"qmin": "2", "qmax": "2"}
    frame = av.VideoFrame.from_ndarray(encode_frame(spec.index, height, width), format="rgb24").reformat(format=pix_fmt)
    packets = list(context.encode(frame)) + list(context.encode(None))
    path.write_bytes(b"".join(bytes(packet) for packet in packets))


def _inspect_image(spec: ProbeImageSpec, path: Path) -> ProbeImage:
    """Decode the written image and check that it carries its index, in RGB, with square tiles."""
    import av

    with av.open(str(path)) as container:
        pixels = next(container.decode(video=0)).to_ndarray(format="rgb24")
    reading = read_frame(pixels)
    height, width = ASPECT_SIZES[spec.aspect]
    if reading.index != spec.index or reading.channel_order != "RGB" or pixels.shape != (height, width, 3):
        raise RuntimeError(
            f"probe image {spec.name}: reads back as index {reading.index} ({reading.channel_order}, "
            f"shape {pixels.shape}), expected {spec.index} (RGB, {(height, width, 3)})"
        )
    return ProbeImage(spec.name, path, spec.index, spec.aspect, spec.format, height, width)


def make_probe_images(
    directory: str | os.PathLike | None = None,
    specs: tuple[ProbeImageSpec, ...] = PROBE_IMAGE_SPECS,
) -> list[ProbeImage]:
    """Write (or reuse) the probe images and `manifest.json` in `directory`; return them.

    `directory` defaults to `default_probe_image_dir()`; one whose manifest carries the same content
    key is reused as is. Each file is written atomically (temporalkit.fileio), manifest last.
    """
    key = _cache_key(PROBE_IMAGE_FORMAT_VERSION, specs)
    target = Path(directory) if directory is not None else default_probe_image_dir(specs)
    try:
        manifest = json.loads((target / "manifest.json").read_text())
        if manifest.get("key") == key:
            images = [ProbeImage(**{**entry, "path": target / entry["path"]}) for entry in manifest["images"]]
            if all(image.path.is_file() for image in images):
                return images
    except (OSError, ValueError, KeyError, TypeError):
        pass
    target.mkdir(parents=True, exist_ok=True)
    images = []
    for spec in specs:
        final_path = target / spec.name
        with atomic_output(final_path) as scratch_path:
            _write_image(spec, scratch_path)
            image = _inspect_image(spec, scratch_path)
        images.append(replace(image, path=final_path))
    manifest = {
        "key": key,
        "format_version": PROBE_IMAGE_FORMAT_VERSION,
        "description": "temporalkit probe images: each carries its `index` in the temporalkit frame code "
        "(temporalkit.validators.dynamic.frame_code.decode_frame_index), in RGB, with square tiles.",
        "images": [image.to_dict() for image in images],
    }
    write_atomic(target / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return images
