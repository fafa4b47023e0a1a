"""Coverage of random and multi-clip samplers, and the policies the sampler checks respect.

The samplers below are copies, in our own words, of the shapes real repositories have (TSN/TSM
`_sample_indices`, SlowFast `get_start_end_idx` + `temporal_sampling`, VideoMAE's training loader,
mmaction2 `SampleFrames`); each was missed or falsely flagged before these checks existed.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from temporalkit.reference_models.sampling import sample_multi_clip_indices, short_clip_indices
from temporalkit.validators.dynamic import coverage, policy
from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

SMALL_GRID = dict(lengths=list(range(0, 41)) + [97, 300], clip_lengths=list(range(1, 17)) + [32, 64])


def rules_of(fn, role="sampler", **kwargs):
    findings = []
    for sampler in build_samplers(fn, fn.__name__, role, **kwargs):
        findings += check_sampler(sampler, **SMALL_GRID)
    return {f.rule: f for f in findings}


def short_or_empty(num_frames, T):
    """What every copy below does outside its own shape: a clear error, or every frame repeated."""
    if num_frames == 0:
        raise ValueError("empty video")
    return short_clip_indices(num_frames, T) if num_frames < T else None


# --- random samplers: the union over seeds must reach frame 0 and frame n - 1 ------------------------


def tsn_segments_floor(num_frames, T, seed):  # avg = (n - L + 1) // T with L = 1: the tail is never sampled
    short = short_or_empty(num_frames, T)
    if short is not None:
        return short
    rng = np.random.RandomState(seed)
    average = num_frames // T
    return np.arange(T) * average + rng.randint(average, size=T)


def tsn_segments_float(num_frames, T, seed):  # mmaction2's float segment length: reaches the end
    short = short_or_empty(num_frames, T)
    if short is not None:
        return short
    rng = np.random.RandomState(seed)
    average = num_frames / T
    return (np.arange(T) * average + rng.uniform(0, average, size=T)).astype(int)


def slowfast_rate_2(num_frames, T, seed):  # start = uniform(0, delta); linspace(start, start + 2T - 1).long()
    short = short_or_empty(num_frames, T)
    if short is not None:
        return short
    clip_size = 2 * T
    delta = max(num_frames - clip_size, 0)
    start = random.Random(seed).uniform(0, delta)
    return np.clip(np.linspace(start, start + clip_size - 1, T), 0, num_frames - 1).astype(int)


def slowfast_rate_2_inclusive(num_frames, T, seed):  # an integer start from 0..delta inclusive: correct
    short = short_or_empty(num_frames, T)
    if short is not None:
        return short
    clip_size = 2 * (T - 1) + 1
    delta = max(num_frames - clip_size, 0)
    start = random.Random(seed).randint(0, delta)
    return np.clip(np.linspace(start, start + clip_size - 1, T), 0, num_frames - 1).round().astype(int)


def videomae_end_draw(num_frames, T, seed):  # end = randint(converted_len, seg_len), clipped to end - 1
    short = short_or_empty(num_frames, T)
    if short is not None:
        return short
    converted_len = 2 * T
    if num_frames <= converted_len:
        return np.linspace(0, num_frames - 1, T).round().astype(int)
    end = np.random.RandomState(seed).randint(converted_len, num_frames)
    start = end - converted_len
    return np.clip(np.linspace(start, end, T), start, end - 1).astype(np.int64)


def test_tsn_floor_segments_never_reach_the_tail():
    draw = lambda n, T, s: [tsn_segments_floor(n, T, s)]  # noqa: E731
    assert max(int(tsn_segments_floor(300, 64, s).max()) for s in range(200)) == 255  # the real-code symptom
    findings = rules_of(tsn_segments_floor)
    assert set(findings) == {"TK505"}, {r: f.message for r, f in findings.items()}
    assert "never sampled the last frame" in findings["TK505"].message
    assert "seed=s" in findings["TK505"].message and "probability <= 1e-06" in findings["TK505"].message
    assert coverage.random_coverage(draw) is not None
    assert rules_of(tsn_segments_float) == {}


def test_slowfast_rate_2_and_videomae_end_draws_never_reach_the_last_frame():
    for fn in (slowfast_rate_2, videomae_end_draw):
        findings = rules_of(fn)
        assert set(findings) == {"TK506"}, (fn.__name__, {r: f.message for r, f in findings.items()})
        assert "never sampled the last frame" in findings["TK506"].message
    assert rules_of(slowfast_rate_2_inclusive) == {}


# --- multi-clip samplers: the K clips together reach both ends -----------------------------------------


def slowfast_test_views(num_frames, T, num_clips):  # start = delta * k / K: the last delta / K frames never seen
    short = short_or_empty(num_frames, T)
    if short is not None:
        return [short] * num_clips
    delta = num_frames - T
    return [np.arange(T) + int(delta * k / num_clips) for k in range(num_clips)]


def mmaction_test_views(num_frames, T, num_clips):  # clips centred in K equal segments: half a spacing each end
    short = short_or_empty(num_frames, T)
    if short is not None:
        return [short] * num_clips
    average = (num_frames - T + 1) / num_clips
    offsets = (np.arange(num_clips) * average + average / 2.0).astype(int)
    return [offset + np.arange(T) for offset in offsets]


def reference_views(num_frames, T, num_clips):
    return sample_multi_clip_indices(num_frames, T, num_clips)


def test_multi_clip_views_that_never_reach_the_tail():
    assert max(int(c.max()) for c in slowfast_test_views(300, 8, 3)) < 205  # 3 views of 300 frames stop at 201
    findings = rules_of(slowfast_test_views, "multiclip")
    assert set(findings) == {"TK505"}, {r: f.message for r, f in findings.items()}
    assert "at the tail" in findings["TK505"].message and "largest unsampled stretch" in findings["TK505"].message
    assert rules_of(mmaction_test_views, "multiclip") == {}
    assert rules_of(reference_views, "multiclip") == {}


# --- policies ---------------------------------------------------------------------------------------


def sample_train_clips(num_frames, T, num_clips, seed):  # random training clips (mmaction2 SampleFrames, train)
    short = short_or_empty(num_frames, T)
    if short is not None:
        return [short] * num_clips
    rng = np.random.default_rng(seed)
    return [start + np.arange(T) for start in np.sort(rng.integers(0, num_frames - T + 1, size=num_clips))]


def sample_train_views(num_frames, T, num_clips):  # the same from the global random state
    return sample_train_clips(num_frames, T, num_clips, np.random.randint(1 << 30))


def multi_clip_random(num_frames, T, num_clips):  # the same, with no training in its name
    return sample_train_clips(num_frames, T, num_clips, np.random.randint(1 << 30))


def test_random_training_multi_clip_samplers_are_not_held_to_test_time_determinism():
    assert rules_of(sample_train_clips, "multiclip") == {}
    assert rules_of(sample_train_views, "multiclip") == {}
    assert "TK507" in rules_of(multi_clip_random, "multiclip")
    with policy.use({"multiclip": "train"}):
        assert rules_of(multi_clip_random, "multiclip") == {}
    with policy.use({"multiclip": "test"}):
        assert "TK507" in rules_of(sample_train_views, "multiclip")


class RandomClipsSampler:  # a class named Random... draws on purpose (pytorchvideo's RandomMultiClipSampler shape)
    def __init__(self, T, num_clips=3):
        self.T, self.num_clips = T, num_clips

    def __call__(self, num_frames):
        return multi_clip_random(num_frames, self.T, self.num_clips)


def test_a_class_named_random_is_a_training_multi_clip_sampler():
    assert "TK507" not in rules_of(RandomClipsSampler, "multiclip", args={"T": "T"})
    with policy.use({"multiclip": "test"}):
        assert "TK507" in rules_of(RandomClipsSampler, "multiclip", args={"T": "T"})


class SampleFrames:  # mmaction2-style: random clips in training, evenly spread ones with test_mode=True
    def __init__(self, clip_len, num_clips=3, test_mode=False):
        self.clip_len, self.num_clips, self.test_mode = clip_len, num_clips, test_mode

    def __call__(self, num_frames):
        if self.test_mode:
            return reference_views(num_frames, self.clip_len, self.num_clips)
        return sample_train_views(num_frames, self.clip_len, self.num_clips)


def test_the_training_side_of_a_test_mode_switched_multi_clip_sampler_may_be_random():
    assert rules_of(SampleFrames, "multiclip", args={"clip_len": "T"}) == {}


class SeededWindowSampler:  # the generator is made once, in __init__, from the seed
    def __init__(self, clip_len, seed):
        self.clip_len, self.rng = clip_len, np.random.default_rng(seed)

    def __call__(self, num_frames):
        if num_frames == 0:
            raise ValueError("empty video")
        if num_frames < self.clip_len:
            return short_clip_indices(num_frames, self.clip_len)
        start = self.rng.integers(0, num_frames - self.clip_len + 1)
        return start + np.arange(self.clip_len)


class ValWindowSampler:  # test-time views from a fixed-seed generator: the same views in every run
    def __init__(self, clip_len):
        self.clip_len, self.rng = clip_len, np.random.default_rng(0)

    def __call__(self, num_frames):
        if num_frames == 0:
            raise ValueError("empty video")
        if num_frames < self.clip_len:
            return short_clip_indices(num_frames, self.clip_len)
        return self.rng.integers(0, num_frames - self.clip_len + 1) + np.arange(self.clip_len)


def test_a_stateful_sampler_gets_a_fresh_instance_per_seed():
    assert rules_of(SeededWindowSampler, args={"clip_len": "T"}) == {}
    assert "TK507" not in rules_of(ValWindowSampler, args={"clip_len": "T"}, test_time=True)


def loop_short_clips(num_frames, T):  # a short video played again: [0, 1, 2, 0, 1, 2, 0, 1]
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return np.arange(T) % num_frames
    return np.linspace(0, num_frames - 1, T).round().astype(int)


def sample_clip_interval_2_loop(num_frames, T):  # mmaction2 SampleFrames(frame_interval=2, out_of_bound_opt='loop')
    if num_frames == 0:
        raise ValueError("empty video")
    start = max(num_frames - ((T - 1) * 2 + 1), 0) // 2
    return (start + 2 * np.arange(T)) % num_frames


def refuse_short_clips(num_frames, T):
    if num_frames < T:
        raise ValueError(f"video of {num_frames} frames is shorter than the clip ({T})")
    return np.linspace(0, num_frames - 1, T).round().astype(int)


def empty_sentinel(num_frames, T):  # documented: an empty video gives an empty clip
    if num_frames == 0:
        return np.zeros(0, dtype=int)
    return (
        short_clip_indices(num_frames, T) if num_frames < T else np.linspace(0, num_frames - 1, T).round().astype(int)
    )


def test_short_clip_policy_loop_and_error_and_empty_video_sentinel():
    assert rules_of(loop_short_clips) == {}
    assert "TK503" not in rules_of(sample_clip_interval_2_loop)  # [0, 2, 1] on 3 frames: a loop, not disorder
    with policy.use({"short-clip": "repeat_last"}):
        assert set(rules_of(loop_short_clips)) == {"TK503"}
    assert set(rules_of(refuse_short_clips)) == {"TK504"}
    with policy.use({"short-clip": "error"}):
        assert rules_of(refuse_short_clips) == {}
    assert set(rules_of(empty_sentinel)) == {"TK509"}
    with policy.use({"empty-video": "sentinel"}):
        assert rules_of(empty_sentinel) == {}


def views_per_minute(num_frames, T):  # as many test views as the video has 64-frame stretches
    short = short_or_empty(num_frames, T)
    count = max(1, num_frames // 64)
    if short is not None:
        return [short] * count
    return list(sample_multi_clip_indices(num_frames, T, count))


def test_a_variable_clip_count_is_allowed_unless_num_clips_is_passed():
    assert rules_of(views_per_minute, "multiclip") == {}
    with policy.use({"num-clips": "fixed"}):
        assert set(rules_of(views_per_minute, "multiclip")) == {"TK501"}


def test_unknown_policy_keys_and_values_are_usage_errors():
    with pytest.raises(policy.PolicyError, match="unknown policy 'short_clips'"):
        policy.Policy.from_mapping({"short_clips": "loop"})
    with pytest.raises(policy.PolicyError, match="short-clip = 'wrap' is not one of"):
        policy.Policy.from_mapping({"short-clip": "wrap"})


# --- through the child process: the pyproject's policies and selectors, and inline suppressions ---------

POLICY_PROJECT = """
import numpy as np


def _uniform(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        raise ValueError("shorter than the clip")
    return np.linspace(0, num_frames - 1, T).round().astype(int)


def sample_refusing_short(num_frames, T):
    return _uniform(num_frames, T)


def _tail_dropped(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return np.minimum(np.arange(T), num_frames - 1)
    return np.arange(T) * (num_frames // T)


# temporalkit: ignore[TK505] -- the tail is the credits
def sample_tail_ignored_above(num_frames, T):
    return _tail_dropped(num_frames, T)


def sample_tail_ignored_on_def(num_frames, T):  # temporalkit: ignore[uneven-coverage]
    return _tail_dropped(num_frames, T)


def sample_tail_reported(num_frames, T):
    return _tail_dropped(num_frames, T)
"""


@pytest.mark.slow
def test_policies_and_suppressions_reach_dynamic_findings(tmp_path):
    from temporalkit.validators.config import load_config
    from temporalkit.validators.dynamic import run_dynamic

    (tmp_path / "samplers.py").write_text(POLICY_PROJECT)
    (tmp_path / "pyproject.toml").write_text('[tool.temporalkit.dynamic]\nshort-clip = "error"\n')
    findings, errors = run_dynamic([tmp_path / "samplers.py"], timeout=120)
    assert errors == []
    assert {(f.extra["object"], f.rule) for f in findings} == {("sample_tail_reported", "TK505")}
    (tmp_path / "pyproject.toml").write_text('[tool.temporalkit]\nignore = ["TK505"]\n')
    findings, errors = run_dynamic([tmp_path / "samplers.py"], timeout=120, config=load_config(tmp_path))
    assert {(f.extra["object"], f.rule) for f in findings} == {("sample_refusing_short", "TK504")}
