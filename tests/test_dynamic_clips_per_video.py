"""A seconds-based sampler that hands out a video's clips one call at a time and flags the last one (the
shape of pytorchvideo's ConstantClipsPerVideoSampler, written here in our own words) is read as a
multi-clip sampler whose clips are those of one walk through the video, not as one clip per call."""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np
from temporalkit.validators.dynamic.adapters import build_samplers
from temporalkit.validators.dynamic.discover import discover_source
from temporalkit.validators.dynamic.sampler_checks import check_sampler

GRID = dict(lengths=list(range(0, 41)) + [97, 300], clip_lengths=list(range(1, 17)) + [32, 64])


class Window(NamedTuple):
    clip_start_sec: Fraction
    clip_end_sec: Fraction
    clip_index: int
    aug_index: int
    is_last_clip: bool


class EvenClipsPerVideo:
    """`clips_per_video` windows of `clip_duration` seconds spread evenly over the video, one per call,
    each handed out `augs_per_clip` times in a row; the last call of a video says so and starts over."""

    def __init__(self, clip_duration, clips_per_video, augs_per_clip=1):
        self.clip_duration = Fraction(clip_duration)
        self.clips_per_video = clips_per_video
        self.augs_per_clip = augs_per_clip
        self.clip = 0
        self.aug = 0

    def __call__(self, last_clip_end_time, video_duration, annotation):
        latest = Fraction(max(video_duration - self.clip_duration, 0))
        step = latest / max(self.clips_per_video - 1, 1)
        start = step * self.clip
        window = (self.clip, self.aug)
        self.aug += 1
        if self.aug >= self.augs_per_clip:
            self.aug, self.clip = 0, self.clip + 1
        last = self.clip >= self.clips_per_video or step * self.clip > latest
        if last:
            self.clip, self.aug = 0, 0
        return Window(start, start + self.clip_duration, *window, last)


def _sampler(init=None):
    convention = {"init": init} if init else None
    (sampler,) = build_samplers(EvenClipsPerVideo, "EvenClipsPerVideo", "multiclip", {}, None, convention=convention)
    return sampler


def test_one_walk_through_the_video_is_one_multi_clip_call():
    sampler = _sampler()
    assert "called until it flags is_last_clip" in sampler.mapping  # what -v shows
    clips = sampler.invoke(300, 8, 0)  # 10 s at 30 fps, clips of 8 frames
    assert len(clips) == sampler.num_clips
    starts = [int(row[0]) for row in clips]
    assert starts[0] == 0 and starts[-1] == 300 - 8  # the last window ends at the video's end
    assert starts == sorted(starts)
    again = sampler.invoke(300, 8, 1)  # the walk started over: same clips, whatever the random state
    assert np.array_equal(np.asarray(clips), np.asarray(again))


def test_repeated_augmentations_of_a_clip_count_once():
    sampler = _sampler(init={"augs_per_clip": "2"})
    assert len(sampler.invoke(300, 8, 0)) == sampler.num_clips


def test_the_grid_finds_no_clip_count_problem_and_no_randomness():
    sampler = _sampler()
    findings = check_sampler(sampler, **GRID)
    rules = {f.rule for f in findings}
    assert "TK501" not in rules and "TK507" not in rules
    assert not sampler.random
    assert all("global random state seeded" not in f.message for f in findings)


def test_discovery_takes_it_for_a_multi_clip_seconds_sampler():
    source = (
        "class EvenClipsPerVideo:\n"
        "    def __init__(self, clip_duration, clips_per_video, augs_per_clip=1):\n"
        "        self.clip_duration = clip_duration\n"
        "    def __call__(self, last_clip_end_time, video_duration, annotation):\n"
        "        return (0, self.clip_duration, 0, 0, True)\n"
    )
    (found,) = discover_source(source, "m.py")
    assert found.role == "multiclip"
