"""The calling-convention adapters: real code's shapes reached with at most one config entry each.

Written after the shapes of real repositories (not copies): an OpenMMLab-style dict-pipeline sampler
class, a pytorchvideo-style nn.Module subsampler with `temporal_dim`, a seconds-based clip sampler, a
transform with a required size, and a dataset method whose sampler reads `self.clip_len`.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from temporalkit.validators.config import ConfigError, dynamic_config, parse_args, parse_convention
from temporalkit.validators.dynamic import with_dynamic_summary
from temporalkit.validators.dynamic.adapters import AdapterError, MethodOf, build_samplers
from temporalkit.validators.dynamic.adapters.seconds import to_frames
from temporalkit.validators.dynamic.adapters.single import wrap
from temporalkit.validators.dynamic.sampler_checks import check_sampler

GRID = dict(lengths=list(range(0, 33)) + [300], clip_lengths=[1, 2, 3, 8, 16], seeds=[0, 1])

SHAPES = '''
import random

import numpy as np


class SegmentFrames:
    """Dict pipeline: results["total_frames"] in, results["frame_inds"] out (OpenMMLab's shape)."""

    def __init__(self, clip_len, frame_interval=1, num_clips=1, test_mode=False):
        self.clip_len, self.frame_interval = clip_len, frame_interval
        self.num_clips, self.test_mode = num_clips, test_mode

    def transform(self, results):
        total = results["total_frames"]
        if total == 0:
            raise ValueError("empty video")
        span = (self.clip_len - 1) * self.frame_interval + 1
        last = max(total - span, 0)
        start = last // 2 if self.test_mode else random.randint(0, last)
        inds = start + np.arange(self.clip_len) * self.frame_interval
        results["frame_inds"] = np.minimum(inds, total - 1) + results["start_index"]
        return results


class RandomSeconds:
    """Seconds-based: (last_clip_end_time, video_duration, annotation) -> (start, end, ...)."""

    def __init__(self, clip_duration):
        self.clip_duration = clip_duration

    def __call__(self, last_clip_end_time, video_duration, annotation):
        if video_duration <= 0:
            raise ValueError("empty video")
        start = random.uniform(0, max(video_duration - self.clip_duration, 0))
        return start, start + self.clip_duration, 0, 0, True


def short_side_scale(clip, size):
    assert isinstance(size, int)
    return clip


class ShortSideScale:
    def __init__(self, size, interpolation="bilinear"):
        self.size = size

    def __call__(self, clip):
        return clip


class FrameDataset:
    def __init__(self, root, clip_len):
        self.root, self.clip_len = root, clip_len

    def sample_indices(self, num_frames):
        if num_frames == 0:
            raise ValueError("empty video")
        return [int(i * num_frames / self.clip_len) for i in range(self.clip_len)]
'''


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    path = tmp_path_factory.mktemp("shapes") / "shapes.py"
    path.write_text(textwrap.dedent(SHAPES))
    spec = importlib.util.spec_from_file_location("tk_adapter_shapes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def findings_of(samplers):
    return sorted({f.rule for sampler in samplers for f in check_sampler(sampler, **GRID)})


# --- dict pipelines ----------------------------------------------------------------------------------


def test_dict_pipeline_sampler_class_is_exercised_with_no_config(shapes):
    samplers = build_samplers(shapes.SegmentFrames, "SegmentFrames", "sampler")
    assert [s.convention for s in samplers] == ["dict", "dict"]  # training and test_mode=True
    assert "results['frame_inds']" in samplers[0].mapping
    assert samplers[0].describe(7, 8, 0) == (
        "SegmentFrames(clip_len=8).transform(results={'total_frames': 7, 'start_index': 0})['frame_inds']"
    )
    assert findings_of(samplers) == []


def test_dict_pipeline_inputs_and_output_come_from_config(shapes):
    class Renamed:
        def __init__(self, clip_len):
            self.clip_len = clip_len

        def __call__(self, results):
            n = results["num_frames"]
            return {"inds": [min(i, n - 1) for i in range(self.clip_len)]}

    convention = parse_convention({"inputs": {"num_frames": "num_frames"}, "output": "inds"})
    (sampler,) = build_samplers(Renamed, "Renamed", "sampler", convention=convention)
    assert sampler.invoke(3, 4, 0).tolist() == [0, 1, 2, 2]


def test_dict_pipeline_without_the_frame_count_key_is_an_adapter_error(shapes):
    with pytest.raises(AdapterError, match="which key holds the frame count"):
        build_samplers(shapes.SegmentFrames, "SegmentFrames", "sampler", convention={"inputs": {"start_index": 0}})


# --- seconds-based samplers --------------------------------------------------------------------------


def test_seconds_sampler_is_converted_to_frames(shapes):
    (sampler,) = build_samplers(shapes.RandomSeconds, "RandomSeconds", "sampler")
    assert sampler.convention == "seconds"
    assert "RandomSeconds(clip_duration=8/30)(video_duration=300/30" in sampler.describe(300, 8, 0)
    row = sampler.invoke(300, 8, 0)
    assert len(row) == 8 and list(np.diff(row)) == [1] * 7
    assert to_frames(0.0, 8 / 30, 8).tolist() == list(range(8))


def test_seconds_sampler_clip_past_the_end_of_a_short_video_is_reported(shapes):
    (sampler,) = build_samplers(shapes.RandomSeconds, "RandomSeconds", "sampler")
    assert "TK502" in findings_of([sampler])  # a 2-frame clip of a 1-frame video ends past it


# --- nn.Module with temporal_dim ---------------------------------------------------------------------


@pytest.mark.slow
def test_module_subsampler_takes_its_time_axis_from_temporal_dim():
    torch = pytest.importorskip("torch")

    class TemporalSubsample(torch.nn.Module):
        def __init__(self, num_samples, temporal_dim=-3):
            super().__init__()
            self.num_samples, self.temporal_dim = num_samples, temporal_dim

        def forward(self, x):
            t = x.shape[self.temporal_dim]
            if t == 0:
                raise ValueError("empty video")
            idx = torch.linspace(0, t - 1, self.num_samples).round().long()
            return torch.index_select(x, self.temporal_dim, idx)

    (sampler,) = build_samplers(TemporalSubsample, "TemporalSubsample", "subsample")
    assert (sampler.convention, sampler.layout) == ("nn.Module", "CTHW")
    assert "temporal_dim=-3" in sampler.mapping
    assert findings_of([sampler]) == []


def test_layout_argument_is_used_to_read_the_output_back():
    def subsample_cthw(video, T):
        frames = video.shape[1]
        if frames == 0:
            raise ValueError("empty video")
        return video[:, np.linspace(0, frames - 1, T).round().astype(int)]

    (sampler,) = build_samplers(subsample_cthw, "subsample_cthw", "subsample", {"layout": "CTHW"})
    assert sampler.layout == "CTHW"
    assert findings_of([sampler]) == []  # read back as TCHW, the channel axis looked like 3 frames


# --- transforms, loaders: --args and --init reach them ----------------------------------------------


def test_args_reach_a_transform_with_a_required_size(shapes):
    called, how = wrap(shapes.short_side_scale, "short_side_scale", "transform", {"size": "112"})
    clip = np.zeros((4, 8, 8, 3))
    assert called(clip) is clip and how == "called with size=112"


def test_init_builds_a_transform_class(shapes):
    called, how = wrap(shapes.ShortSideScale, "ShortSideScale", "transform", {}, {"init": {"size": "112"}})
    assert how.startswith("built as ShortSideScale(size=112)")
    clip = np.zeros((4, 8, 8, 3))
    assert called(clip) is clip
    with pytest.raises(AdapterError, match="--init size="):
        wrap(shapes.ShortSideScale, "ShortSideScale", "transform", {})


def test_unknown_args_name_for_a_transform_is_an_adapter_error(shapes):
    with pytest.raises(AdapterError, match="has no parameter 'sise'"):
        wrap(shapes.short_side_scale, "short_side_scale", "transform", {"sise": "112"})


# --- methods that need __init__ ----------------------------------------------------------------------


def test_method_with_init_is_built_per_clip_length(shapes):
    init = parse_convention({"init": {"root": "'data'", "clip_len": "T"}})
    (sampler,) = build_samplers(
        MethodOf(shapes.FrameDataset, "sample_indices"), "FrameDataset.sample_indices", "sampler", convention=init
    )
    assert sampler.describe(10, 4, 0) == "FrameDataset(clip_len=4, root='data').sample_indices(num_frames=10)"
    assert list(sampler.invoke(10, 4, 0)) == [0, 2, 5, 7]


def test_method_whose_self_was_never_initialised_needs_init(shapes):
    from temporalkit.validators.dynamic import child

    method = child._resolve(shapes, "FrameDataset.sample_indices")
    findings, notes, error = child.check_one(
        method, "FrameDataset.sample_indices", "sampler", {"num_frames": "num_frames", "T": "T"}, None, None
    )
    assert findings == [] and error is not None and "needs --init" in error
    method = child._resolve(shapes, "FrameDataset.sample_indices")
    findings, notes, error = child.check_one(method, "FrameDataset.sample_indices", "sampler", {}, None, None)
    assert findings == [] and "needs --init" in error


# --- configuration and usage errors ------------------------------------------------------------------


def test_unknown_object_key_is_a_config_error():
    table = {"objects": [{"target": "a.py:f", "role": "sampler", "inits": {"x": 1}}]}
    with pytest.raises(ConfigError, match="unknown key 'inits'"):
        dynamic_config(table)
    table = {"objects": [{"target": "a.py:f", "role": "sampler", "init": {"clip_len": "T"}, "preset": "openmmlab"}]}
    (candidate,) = dynamic_config(table).objects
    assert candidate.convention == {"init": {"clip_len": "T"}, "preset": "openmmlab"}


@pytest.mark.parametrize("pairs", [["size"], ["size="], ["1x=2"]])
def test_bad_args_entries_are_config_errors(pairs):
    with pytest.raises(ConfigError):
        parse_args(pairs)


def test_bad_init_on_the_command_line_is_a_usage_error(tmp_path):
    (tmp_path / "m.py").write_text("def f(num_frames, T):\n    return list(range(T))\n")
    done = subprocess.run(
        [sys.executable, "-m", "temporalkit", "check", f"{tmp_path / 'm.py'}:f", "--role", "sampler", "--init", "size"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "--init 'size'" in done.stderr


# --- the summary ---------------------------------------------------------------------------------------


def test_summary_never_says_no_problems_when_nothing_was_exercised():
    from temporalkit.validators.config import Candidate
    from temporalkit.validators.dynamic.runner import ModuleResult, ObjectResult

    failed = ModuleResult("a.py", [ObjectResult(Candidate("a.py", "f", "sampler", 1), error="needs --init")])
    text = with_dynamic_summary("No problems found in 1 file audited.\n", [failed])
    assert not text.startswith("No problems found")
    assert "exercised 0 objects in 0 files; 1 could not be audited" in text.lower()
    ok = ModuleResult("a.py", [ObjectResult(Candidate("a.py", "f", "sampler", 1))])
    text = with_dynamic_summary("No problems found in 1 file audited.\n", [ok])
    assert text.startswith("No problems found") and "exercised 1 object in 1 file; 0 could not be audited" in text


def test_seed_globals_seeds_torch_without_torch_manual_seed(monkeypatch):
    torch = sys.modules.get("torch")
    if torch is None:
        pytest.skip("torch not imported in this process")
    from temporalkit.validators.dynamic.adapters import seed_globals

    monkeypatch.setattr(torch, "manual_seed", lambda seed: (_ for _ in ()).throw(AssertionError("slow path")))
    seed_globals(3)
    first = torch.rand(2)
    seed_globals(3)
    assert torch.equal(first, torch.rand(2)) and random.random() == random.Random(3).random()


# --- failures the sandbox causes -----------------------------------------------------------------------


def test_eagain_from_the_decoder_is_a_harness_problem_not_a_finding():
    pytest.importorskip("av")
    from temporalkit.validators.dynamic import child

    def load_video(path, num_frames=8):
        raise OSError(11, "Resource temporarily unavailable")

    findings, notes, error = child.check_one(load_video, "load_video", "loader", {}, None, None)
    assert findings == []
    assert error.startswith("harness problem, not a finding") and "EAGAIN" in error and "--memory-mb" in error


def test_an_ordinary_loader_error_is_not_blamed_on_the_sandbox():
    from temporalkit.validators.dynamic.child import sandbox_cause

    assert sandbox_cause("ValueError: bad frame count") is None
    assert "ENOMEM" in sandbox_cause("OSError: [Errno 12] Cannot allocate memory")


# --- discovery: the real shapes are found, and what cannot be called is said --------------------------


def test_discovery_finds_dict_pipeline_and_seconds_samplers_and_says_what_it_skips():
    from temporalkit.validators.dynamic.discover import discover_source

    skipped: list = []
    found = {c.name: (c.role, c.reason) for c in discover_source(textwrap.dedent(SHAPES), "shapes.py", skipped)}
    assert found["SegmentFrames"][0] == "sampler" and "dict pipeline" in found["SegmentFrames"][1]
    assert found["RandomSeconds"][0] == "sampler" and "seconds" in found["RandomSeconds"][1]
    reasons = {name.split(" ")[0]: why for name, why in skipped}
    assert "init = {size = ...}" in reasons["ShortSideScale"]
    assert "args = {size = ...}" in reasons["short_side_scale"]
    assert "reads self" in reasons["FrameDataset.sample_indices"]


def test_function_subsampler_takes_its_layout_from_its_temporal_dim_default():
    def subsample(x, num_samples, temporal_dim=-3):
        frames = x.shape[temporal_dim]
        if frames == 0:
            raise ValueError("empty video")
        return np.take(x, np.linspace(0, frames - 1, num_samples).round().astype(int), axis=temporal_dim)

    (sampler,) = build_samplers(subsample, "subsample", "subsample")
    assert sampler.layout == "CTHW" and "temporal_dim=-3" in sampler.mapping
    assert findings_of([sampler]) == []


def test_abstract_class_is_not_exercised():
    import abc

    class Sampler(abc.ABC):
        def __init__(self, clip_duration):
            self.clip_duration = clip_duration

        @abc.abstractmethod
        def __call__(self, last_clip_end_time, video_duration, annotation): ...

    with pytest.raises(AdapterError, match="abstract class"):
        build_samplers(Sampler, "Sampler", "sampler")


def test_seconds_multi_clip_sampler_gives_one_row_per_clip():
    class Clips:
        def __init__(self, clip_duration, num_clips):
            self.clip_duration, self.num_clips = clip_duration, num_clips

        def __call__(self, last_clip_end_time, video_duration, annotation):
            starts = [
                k * (video_duration - self.clip_duration) / max(self.num_clips - 1, 1) for k in range(self.num_clips)
            ]
            return starts, [s + self.clip_duration for s in starts]

    (sampler,) = build_samplers(Clips, "Clips", "multiclip")
    assert sampler.invoke(30, 4, 0).tolist() == [[0, 1, 2, 3], [13, 14, 15, 16], [26, 27, 28, 29]]


# --- end to end: one config entry, through the child ---------------------------------------------------


@pytest.mark.slow
def test_one_config_entry_reaches_a_method_that_needs_init(tmp_path):
    from temporalkit.validators.dynamic import run_dynamic

    (tmp_path / "data.py").write_text(textwrap.dedent(SHAPES))
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.temporalkit.dynamic]
            discover = false
            [[tool.temporalkit.dynamic.objects]]
            target = "data.py:FrameDataset.sample_indices"
            role = "sampler"
            init = { root = "'data'", clip_len = "T" }
            """
        )
    )
    results: list = []
    findings, errors = run_dynamic([tmp_path], results_out=results, timeout=120)
    assert errors == [], errors
    (obj,) = results[0].objects
    assert any("exercised as sampler (instance)" in note for note in obj.notes), obj.notes
    assert {f.rule for f in findings} <= {"TK505"}  # int(i * n / T) is spread; nothing else to report


def test_a_subsampler_gets_the_video_type_its_annotation_declares():
    seen = []

    def pad_frames(frames: list[np.ndarray], clip_len: int) -> np.ndarray:
        seen.append(type(frames))
        if not frames:
            raise ValueError("empty video")
        frames = frames[:clip_len]
        while len(frames) < clip_len:
            frames.append(frames[-1])  # repeat the last frame
        return np.stack(frames)

    (sampler,) = build_samplers(pad_frames, "pad_frames", "subsample")
    assert findings_of([sampler]) == [] and set(seen) == {list}
