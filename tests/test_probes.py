"""Frame code round trips (resize, crop, aspect change, BGR, normalisation, H.264) and the probe set."""

import json

import numpy as np
import pytest
from PIL import Image
from temporalkit.validators.dynamic.frame_code import (
    decode_frame_index,
    encode_frame,
    min_readable_side,
    read_frame,
)
from temporalkit.validators.dynamic.probes import PROBE_SPECS, make_probe_set

SIZES = [(144, 256), (144, 192), (256, 144), (144, 144)]


def resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR))


@pytest.mark.parametrize("height,width", SIZES)
def test_every_index_reads_back_from_a_clean_frame(height, width):
    for index in (0, 1, 2, 7, 64, 149, 255):
        assert decode_frame_index(encode_frame(index, height, width)) == index


def test_index_survives_random_crops_down_to_half_resizes_and_aspect_changes():
    rng = np.random.default_rng(0)
    for trial in range(60):
        height, width = SIZES[trial % 4]
        index = int(rng.integers(0, 256))
        frame = encode_frame(index, height, width)
        crop_h = int(rng.integers(height // 2, height + 1))
        crop_w = int(rng.integers(width // 2, width + 1))
        top = int(rng.integers(0, height - crop_h + 1))
        left = int(rng.integers(0, width - crop_w + 1))
        out_h, out_w = [(112, 112), (64, 64), (224, 224), (56, 100)][trial % 4]
        out = resize(frame[top : top + crop_h, left : left + crop_w], out_h, out_w)
        reading = read_frame(out)
        assert reading.index == index, (trial, reading)
        expected_aspect = (out_w / crop_w) / (out_h / crop_h)
        assert reading.aspect_change == pytest.approx(expected_aspect, rel=0.1)


def test_channel_order_layout_and_normalisation_are_read():
    frame = resize(encode_frame(42, 144, 256), 112, 112)
    assert read_frame(frame).channel_order == "RGB"
    bgr = frame[..., ::-1]
    assert read_frame(bgr).index == 42 and read_frame(bgr).channel_order == "BGR"
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    normalised_chw = ((frame / 255.0 - mean) / std).transpose(2, 0, 1).astype(np.float32)
    assert read_frame(normalised_chw).index == 42
    assert read_frame(frame[:, ::-1]).mirrored and read_frame(frame[:, ::-1]).index == 42


def test_a_frame_without_the_code_reads_as_none():
    assert decode_frame_index(np.zeros((64, 64, 3), np.uint8)) is None
    noise = np.random.default_rng(1).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    assert decode_frame_index(noise) is None
    smaller_than_a_tile = encode_frame(3, 144, 256)[: min_readable_side() // 3, : min_readable_side() // 3]
    assert decode_frame_index(smaller_than_a_tile) is None


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("probes")
    return directory, make_probe_set(directory)


def test_probe_set_covers_lengths_rates_aspects_and_bad_metadata(probe_dir):
    directory, probes = probe_dir
    assert len(probes) == len(PROBE_SPECS)
    lengths = {p.frames for p in probes}
    assert {5, 8, 16, 17, 64, 150} <= lengths
    assert {24.0, 30.0, 60.0} <= {p.fps for p in probes}
    assert any(p.vfr for p in probes)
    assert {"16:9", "4:3", "9:16", "1:1"} <= {p.aspect for p in probes}
    no_count = [p for p in probes if p.container == "matroska"]
    assert no_count and no_count[0].codec == "mpeg4" and no_count[0].claimed_frames == 0
    wrong = [p for p in probes if p.claimed_frames > p.frames > 0]
    assert wrong, "expected a probe whose container claims more frames than decode"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert [entry["frames"] for entry in manifest["probes"]] == [p.frames for p in probes]


def test_probe_frames_decode_to_their_own_index_after_h264(probe_dir):
    import av

    _, probes = probe_dir
    probe = next(p for p in probes if p.aspect == "9:16")
    with av.open(str(probe.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == probe.frames
    assert [decode_frame_index(resize(f[40:200, 20:120], 90, 60)) for f in frames] == list(range(probe.frames))


def test_probe_set_is_reused_when_cached(probe_dir):
    directory, probes = probe_dir
    before = {p.path: p.path.stat().st_mtime_ns for p in probes}
    again = make_probe_set(directory)
    assert [p.name for p in again] == [p.name for p in probes]
    assert {p.path: p.path.stat().st_mtime_ns for p in again} == before


def test_probe_make_command_writes_the_set(tmp_path, capsys):
    import argparse

    from temporalkit.commands import probe

    parser = argparse.ArgumentParser()
    probe.add_arguments(parser)
    assert probe.run(parser.parse_args(["make", str(tmp_path / "set")])) == 0
    out = capsys.readouterr().out
    assert "12 probes" in out or f"{len(PROBE_SPECS)} probes" in out
    assert (tmp_path / "set" / "manifest.json").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert probe.run(parser.parse_args(["make", str(blocker / "sub")])) == 1
    assert str(blocker) in capsys.readouterr().err


def test_dynamic_check_modules_do_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import temporalkit.validators.dynamic.probes, temporalkit.validators.dynamic.loader_checks\n"
        "import temporalkit.validators.dynamic.transform_checks, temporalkit.validators.dynamic.layout_checks\n"
        "import temporalkit.commands.probe\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
