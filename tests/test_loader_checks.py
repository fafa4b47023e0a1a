"""Each loader check catches its buggy loader on the probe videos and stays quiet on correct ones."""

import importlib.util
from pathlib import Path

import av
import numpy as np
import pytest
from temporalkit.validators.dynamic.clips import UnusableCallable
from temporalkit.validators.dynamic.loader_checks import check_loader, count_parameter
from temporalkit.validators.dynamic.probes import make_probe_set

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "pipelines"


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    return make_probe_set(tmp_path_factory.mktemp("probes"))


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def categories(findings):
    return sorted(f.category for f in findings)


def decode(path, fmt="rgb24"):
    with av.open(path) as container:
        return [frame.to_ndarray(format=fmt) for frame in container.decode(video=0)]


def reversed_clip(path, T):
    frames = decode(path)
    indices = np.linspace(0, len(frames) - 1, T).round().astype(int)[::-1]
    return np.stack([frames[i] for i in indices])


def zero_padded_clip(path, clip_len):
    frames = decode(path)[:clip_len]
    while len(frames) < clip_len:
        frames.append(np.zeros_like(frames[0]))
    return np.stack(frames)


def duplicating_loader(path):
    frames = decode(path)
    return frames[:2] + frames[1:]


def window_clip(path, num_frames):  # consecutive frames from a fixed start: a valid window sampler
    frames = decode(path)
    if len(frames) < num_frames:
        return np.stack([frames[i] for i in np.linspace(0, len(frames) - 1, num_frames).round().astype(int)])
    start = (len(frames) - num_frames) // 2
    return np.stack(frames[start : start + num_frames])


def test_count_parameter_is_found_by_name():
    assert count_parameter(reversed_clip) == "T"
    assert count_parameter(zero_padded_clip) == "clip_len"
    assert count_parameter(duplicating_loader) is None


def test_temporal_order_zero_padding_and_duplicates(probes):
    findings = check_loader(reversed_clip, probes)
    assert categories(findings) == ["temporal-order"]
    assert "T=8" in findings[0].message and "out of order" in findings[0].message
    assert "zero-padding" in categories(check_loader(zero_padded_clip, probes))
    assert categories(check_loader(duplicating_loader, probes)) == ["clip-length"]
    assert check_loader(window_clip, probes) == []


def test_bundled_loader_examples(probes):
    buggy = load(EXAMPLES / "dynamic_loaders.py")
    expected = {
        "load_clip_trusting_metadata": ["frame-count-metadata"],
        "load_clip_strided": ["uneven-coverage"],
        "load_video_bgr": ["color-order"],
        "load_video_from_one": ["uneven-coverage"],
        "load_video_square": ["aspect-distortion"],
    }
    for name, wanted in expected.items():
        findings = check_loader(getattr(buggy, name), probes)
        assert categories(findings) == wanted, (name, [f.message for f in findings])
    first = check_loader(buggy.load_clip_trusting_metadata, probes)[0]
    assert "container claims" in first.message and first.source == "dynamic" and first.rule == "TK613"
    correct = load(EXAMPLES / "dynamic_loaders_correct.py")
    for name in ("load_video", "load_clip", "load_video_short_side"):
        assert check_loader(getattr(correct, name), probes) == [], name


def test_a_loader_failing_everywhere_is_unusable(probes):
    def needs_two(path, mode):
        raise TypeError("missing mode")

    with pytest.raises(UnusableCallable, match="every probe"):
        check_loader(lambda path: needs_two(path), probes)


def test_probes_come_from_probe_dir_when_not_given(probes):
    directory = probes[0].path.parent
    assert categories(check_loader(reversed_clip, probe_dir=str(directory), name="reversed_clip")) == ["temporal-order"]


# --- several calls, seeds and T; findings only when they reproduce; short-clip policies ------------


def load_window_trusting_stream_frames(path, num_frames=8):  # the container's count picks the start
    import random

    frames = decode(path)
    with av.open(path) as container:
        total = container.streams.video[0].frames or len(frames)
    if total < num_frames:
        return np.stack([frames[i] for i in np.linspace(0, len(frames) - 1, num_frames).round().astype(int)])
    start = random.randint(0, total - num_frames)
    return np.stack([frames[i] for i in range(start, start + num_frames)])


def load_window(path, num_frames=8):  # the same, counting decoded frames: correct
    import random

    frames = decode(path)
    if len(frames) < num_frames:
        return np.stack([frames[i] for i in np.linspace(0, len(frames) - 1, num_frames).round().astype(int)])
    start = random.randint(0, len(frames) - num_frames)
    return np.stack(frames[start : start + num_frames])


@pytest.mark.slow
def test_a_loader_trusting_the_container_count_on_some_draws_only_is_caught(probes):
    import random

    random.seed(0)  # one call per probe under this state used to pass (it fails on ~1 draw in 3)
    findings = check_loader(load_window_trusting_stream_frames, probes)
    assert [f.rule for f in findings] == ["TK613"], [f.message for f in findings]
    assert "claims32" in findings[0].message and "random state seeded with" in findings[0].message
    assert findings[0].extra["calls"] > 1
    assert check_loader(load_window, probes) == []


def test_a_failure_that_does_not_reproduce_is_not_reported(probes):
    calls = []

    def load_video_flaky_decoder(path):  # the 3rd call fails whatever the input: not the loader's fault
        calls.append(path)
        if len(calls) == 3:
            raise OSError("Resource temporarily unavailable")
        return decode(path)

    assert check_loader(load_video_flaky_decoder, probes) == []


def loop_padding(path, num_frames=8):  # plays a short video again: [0, 1, 2, 3, 4, 0, 1, 2]
    frames = decode(path)
    return np.stack([frames[i % len(frames)] for i in range(num_frames)])


def every_frame_at_least_16(path):  # repeats the last frame of short videos up to 16
    frames = decode(path)
    return np.stack([frames[min(i, len(frames) - 1)] for i in range(max(16, len(frames)))])


def test_deliberate_loop_and_repeat_last_padding_are_not_order_or_length_bugs(probes):
    from temporalkit.validators.dynamic import policy

    assert check_loader(loop_padding, probes, clip_lengths=(8,)) == []
    assert check_loader(every_frame_at_least_16, probes) == []
    with policy.use({"short-clip": "repeat_last"}):  # declared: only repeat_last is deliberate
        assert categories(check_loader(loop_padding, probes, clip_lengths=(8,))) == ["temporal-order"]
