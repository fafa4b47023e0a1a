"""The loader checks do not call a loader twice for the same probe, clip length and seed: the costliest
call (the longest probe) of the first pass is reused when telling a random loader from a fixed one."""

from __future__ import annotations

from pathlib import Path

from temporalkit.validators.dynamic import loader_checks
from temporalkit.validators.dynamic.frame_code import encode_frame
from temporalkit.validators.dynamic.probes import ProbeVideo


def _probe(name: str, frames: int) -> ProbeVideo:
    return ProbeVideo(
        name, Path(f"/nowhere/{name}.mp4"), frames, 30.0, False, "16:9", 72, 128, "h264", "mp4", frames, None, None
    )


def test_each_probe_clip_length_and_seed_is_called_once(monkeypatch):
    calls = []

    def first_frames(path, num_frames):
        calls.append((Path(path).stem, num_frames, loader_checks.np.random.get_state()[1][0]))
        return [encode_frame(index, 72, 128) for index in range(num_frames)]

    probes = [_probe("short", 5), _probe("long", 150)]
    loader_checks.check_loader(first_frames, probes, clip_lengths=(8,), name="first_frames")
    assert sum(1 for name, T, _ in calls if name == "long" and T == 8) == 2  # seed 0 (first pass) and seed 1
    assert len(set(calls)) == len(calls)
