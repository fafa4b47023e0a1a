"""When the names do not say which parameter is the frame count and which the clip length, both ways are
tried and the one that behaves like a sampler is kept (and -v says so)."""

from __future__ import annotations

import numpy as np
from temporalkit.validators.dynamic.adapters import build_samplers, roles
from temporalkit.validators.dynamic.discover import discover_source
from temporalkit.validators.dynamic.sampler_checks import check_sampler

GRID = dict(lengths=list(range(0, 41)) + [97, 300], clip_lengths=list(range(1, 17)) + [32, 64])


def videomae_style(vlen, num_frames):
    """`num_frames` is how many frames to take here; the video's length is `vlen`."""
    if vlen <= 0:
        raise ValueError("empty video")
    return np.linspace(0, vlen - 1, num_frames).round().astype(np.int64)


def count_second(n, total):
    """`n` frames out of `total`: the signature order would guess the other way round."""
    if total <= 0:
        raise ValueError("empty video")
    return np.linspace(0, total - 1, n).round().astype(np.int64)


def plain_names(a, b):
    if a <= 0:
        raise ValueError("empty video")
    return np.linspace(0, a - 1, b).round().astype(np.int64)


def named_clearly(num_frames, clip_len):
    return np.linspace(0, max(num_frames - 1, 0), clip_len).round().astype(np.int64)


def test_which_pairs_are_ambiguous():
    assert roles.ambiguous_pair(videomae_style, {}) == ("vlen", "num_frames")
    assert roles.ambiguous_pair(count_second, {}) == ("n", "total")
    assert roles.ambiguous_pair(plain_names, {}) == ("a", "b")
    assert roles.ambiguous_pair(named_clearly, {}) is None
    assert roles.ambiguous_pair(videomae_style, {"num_frames": "T"}) is None  # given with --args: not second-guessed


def test_the_assignment_that_behaves_like_a_sampler_is_kept_and_named():
    for fn, kept in (
        (videomae_style, "kept vlen=num_frames, num_frames=T"),
        (count_second, "kept n=T, total=num_frames"),
        (plain_names, "kept a=num_frames, b=T"),
    ):
        (sampler,) = build_samplers(fn, fn.__name__, "sampler", {}, None)
        assert kept in sampler.mapping, sampler.mapping
        assert "on 6," in sampler.mapping and "on 0;" in sampler.mapping
        assert check_sampler(sampler, **GRID) == []  # a correct sampler, read the right way round


def test_a_method_on_a_class_is_resolved_without_self():
    class Frames:
        def sample_indices(self, video_length, num_frames):
            return np.linspace(0, video_length - 1, num_frames).round().astype(np.int64)

    (sampler,) = build_samplers(Frames().sample_indices, "Frames.sample_indices", "sampler", {}, None)
    assert "kept video_length=num_frames, num_frames=T" in sampler.mapping


def test_discovery_finds_a_sampler_with_two_frame_count_names():
    source = (
        "import numpy as np\n"
        "def sample_frame_indices(vlen, num_frames):\n"
        "    return np.linspace(0, vlen - 1, num_frames).astype(int)\n"
        "def total_of(total, n):\n"
        "    return total + n\n"
    )
    found = {c.name: c for c in discover_source(source, "m.py")}
    assert found["sample_frame_indices"].role == "sampler"
    assert "tried both ways" in found["sample_frame_indices"].reason
    assert "total_of" not in found  # the name does not say sampler: two counts alone are not enough
