"""Property tests of the reference samplers, through the same property checks the dynamic auditor uses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalkit.reference_models.sampling import (
    sample_dense_indices,
    sample_multi_clip_indices,
    sample_uniform_indices,
    window_span,
)
from temporalkit.validators import sampler_properties as props

num_frames_st = st.integers(min_value=1, max_value=5000)
T_st = st.integers(min_value=1, max_value=64)
policy_st = st.sampled_from(["repeat_last", "loop"])
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def assert_valid_clip(indices: np.ndarray, num_frames: int, T: int) -> None:
    assert indices.dtype == np.int64
    for violation in (
        props.length_violation(indices, T),
        props.range_violation(indices, num_frames),
        props.order_violation(indices),
        props.short_clip_violation(indices, num_frames),
    ):
        assert violation is None, violation


@PROPERTY_SETTINGS
@given(num_frames=num_frames_st, T=T_st, variant=st.sampled_from(["centre", "start"]), policy=policy_st)
def test_uniform_is_a_valid_clip_with_even_coverage(num_frames, T, variant, policy):
    indices = sample_uniform_indices(num_frames, T, variant=variant, short_clip=policy)
    assert_valid_clip(indices, num_frames, T)
    assert props.coverage_violation(indices, num_frames) is None
    if num_frames >= T:
        assert len(set(indices.tolist())) == T, "uniform sampling of a long enough video repeats a frame"


@PROPERTY_SETTINGS
@given(num_frames=num_frames_st, T=T_st, stride=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), policy=policy_st)
def test_dense_is_a_contiguous_valid_clip_and_reproducible(num_frames, T, stride, seed, policy):
    indices = sample_dense_indices(num_frames, T, stride=stride, rng=seed, short_clip=policy)
    assert_valid_clip(indices, num_frames, T)
    assert (
        props.determinism_violation(
            indices, sample_dense_indices(num_frames, T, stride=stride, rng=seed, short_clip=policy)
        )
        is None
    )
    if num_frames >= T:
        steps = np.diff(indices)
        assert (steps == steps[0]).all() if T > 1 else True
        if window_span(T, stride) <= num_frames and T > 1:
            assert steps[0] == stride


@PROPERTY_SETTINGS
@given(num_frames=num_frames_st, T=T_st, num_clips=st.integers(1, 10), stride=st.integers(1, 3), policy=policy_st)
def test_multi_clip_is_deterministic_and_spans_the_video(num_frames, T, num_clips, stride, policy):
    clips = sample_multi_clip_indices(num_frames, T, num_clips, stride=stride, short_clip=policy)
    assert len(clips) == num_clips
    for clip in clips:
        assert_valid_clip(clip, num_frames, T)
    again = sample_multi_clip_indices(num_frames, T, num_clips, stride=stride, short_clip=policy)
    for clip, clip_again in zip(clips, again):
        assert props.determinism_violation(clip, clip_again) is None
    starts = [int(c[0]) for c in clips]
    assert starts == sorted(starts)
    if num_frames >= T and num_clips > 1:
        assert starts[0] == 0
        assert int(clips[-1][-1]) == num_frames - 1


@pytest.mark.parametrize("T", range(1, 65))
def test_every_T_over_a_sweep_of_lengths(T):
    # temporalkit: ignore[TK153] -- a set of video lengths to test, not the frame indices of a clip
    lengths = np.unique(np.concatenate([np.arange(1, 130), np.geomspace(130, 5000, 40).astype(np.int64)]))
    for variant in ("centre", "start"):
        rows = [sample_uniform_indices(int(n), T, variant=variant) for n in lengths]
        matrix = np.stack(rows)
        assert not props.out_of_range_rows(matrix, lengths).any()
        assert not props.unsorted_rows(matrix).any()
        assert not props.missing_frame_rows(matrix, lengths).any()
        assert not props.uneven_coverage_rows(matrix, lengths).any()


@pytest.mark.parametrize("T", range(1, 65))
def test_every_dense_start_is_reachable_including_the_last(T):
    # Small videos keep the number of valid starts low, so the draws needed stay small.
    for extra in (0, 1, 3):
        num_frames = T + extra
        last_start = num_frames - T
        draws = props.draws_for_reachability(last_start + 1)
        rng = np.random.default_rng(T * 7 + extra)
        starts = np.array([sample_dense_indices(num_frames, T, rng=rng)[0] for _ in range(draws)])
        assert props.start_reachability_violation(starts, last_start) is None
        assert set(starts.tolist()) == set(range(last_start + 1))


@PROPERTY_SETTINGS
@given(num_frames=num_frames_st, T=T_st, stride=st.integers(1, 4))
def test_dense_window_at_the_top_draw_ends_on_the_last_reachable_frame(num_frames, T, stride):
    # For every (num_frames, T, stride), not only the small ones the statistical test above can afford:
    # the largest value the generator may return must put the window on the last valid start.
    span = window_span(T, stride)
    if span > num_frames:
        return
    indices = sample_dense_indices(num_frames, T, stride=stride, rng=_Top(np.random.default_rng(0)))
    assert int(indices[0]) == num_frames - span
    assert int(indices[-1]) == num_frames - 1


class _Top(np.random.Generator):
    """A Generator whose `integers` returns its largest allowed value: the window at the last start."""

    def __init__(self, parent: np.random.Generator) -> None:
        super().__init__(parent.bit_generator)

    def integers(self, low, high=None, *args, **kwargs):
        if high is None:
            low, high = 0, low
        return high - 1


@pytest.mark.parametrize(
    "sampler",
    [
        lambda n, T, policy: sample_uniform_indices(n, T, short_clip=policy),
        lambda n, T, policy: sample_dense_indices(n, T, rng=0, short_clip=policy),
        lambda n, T, policy: sample_multi_clip_indices(n, T, 2, short_clip=policy),
    ],
    ids=["uniform", "dense", "multi_clip"],
)
def test_empty_video_and_error_policy_raise_clear_value_errors(sampler):
    for policy in ("repeat_last", "loop", "error"):
        with pytest.raises(ValueError, match="empty video"):
            sampler(0, 8, policy)
    with pytest.raises(ValueError, match="too short"):
        sampler(5, 8, "error")
    with pytest.raises(ValueError, match="short_clip"):
        sampler(5, 8, "pad_zeros")


def test_short_clip_policies_differ_as_documented():
    assert sample_uniform_indices(3, 7, short_clip="repeat_last").tolist() == [0, 1, 2, 2, 2, 2, 2]
    assert sample_uniform_indices(3, 7, short_clip="loop").tolist() == [0, 0, 0, 1, 1, 2, 2]


def test_the_property_checks_flag_the_bugs_they_describe():
    # Each check must be able to fail, or the tests above prove nothing.
    assert props.length_violation([0, 1], 3) == "returned 2 indices (expected T=3)"
    assert props.range_violation([0, 3, 7], 7) == "returned index 7 (valid 0..6)"
    assert props.order_violation([0, 4, 2]) is not None
    assert props.short_clip_violation([0, 0, 0, 0], 3) is not None
    assert props.coverage_violation(np.arange(8), 15) is not None
    assert props.determinism_violation([0, 1], [1, 2]) is not None
    assert props.start_reachability_violation([0, 1, 2, 1, 0], 3) is not None
    assert props.start_reachability_violation([0, 1, 2, 3], 3) is None
