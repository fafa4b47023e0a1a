"""Dynamic sampler checks: each property with a buggy and a correct sampler, discovery, and the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from temporalkit.reference_models.sampling import (
    sample_dense_indices,
    sample_multi_clip_indices,
    sample_uniform_indices,
)
from temporalkit.validators.dynamic import check_object, run_dynamic
from temporalkit.validators.dynamic.discover import DynamicConfig, discover_source, dynamic_config_from_table
from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "pipelines"
# A smaller grid than the CLI's keeps these in-process tests fast; every planted bug shows within it.
SMALL_GRID = dict(lengths=list(range(0, 41)) + [97, 300], clip_lengths=list(range(1, 17)) + [32, 64])


def rules_of(fn, role="sampler", **kwargs):
    findings = []
    for sampler in build_samplers(fn, fn.__name__, role, **kwargs):
        findings += check_sampler(sampler, **SMALL_GRID)
    return {f.rule: f for f in findings}


# --- correct samplers: nothing reported ---------------------------------------------------------


def uniform(num_frames, T):
    return sample_uniform_indices(num_frames, T)


def uniform_linspace(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    return np.linspace(0, num_frames - 1, T).round().astype(int)


def dense(num_frames, T, rng):
    return sample_dense_indices(num_frames, T, rng=rng)


def dense_seed(num_frames, clip_len, seed):
    return sample_dense_indices(num_frames, clip_len, stride=2, rng=seed, short_clip="loop")


def sample_val_centre(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return np.minimum(np.arange(T), num_frames - 1)
    start = (num_frames - T) // 2
    return np.arange(start, start + T)


def multi(num_frames, T, num_clips):
    return sample_multi_clip_indices(num_frames, T, num_clips)


def subsample_ok(video, num_samples):
    index = sample_uniform_indices(video.shape[0], num_samples)
    return video[index]


@pytest.mark.parametrize(
    "fn,role",
    [
        (uniform, "sampler"),
        (uniform_linspace, "sampler"),
        (dense, "sampler"),
        (dense_seed, "sampler"),
        (sample_val_centre, "sampler"),
        (multi, "multiclip"),
        (subsample_ok, "subsample"),
    ],
)
def test_correct_samplers_pass(fn, role):
    assert rules_of(fn, role) == {}


# --- one buggy sampler per property ----------------------------------------------------------------


def off_by_one(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    return np.linspace(0, num_frames, T).astype(int)


def wrong_length(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    return sample_uniform_indices(num_frames, T)[: max(1, T - (num_frames % 3 == 0))]


def unsorted(num_frames, num_samples, seed):
    if num_frames == 0:
        raise ValueError("empty video")
    return np.random.default_rng(seed).permutation(sample_uniform_indices(num_frames, num_samples))


def short_crash(num_frames, T, rng):
    if num_frames == 0:
        raise ValueError("empty video")
    start = rng.integers(0, num_frames - T + 1)
    return np.arange(start, start + T)


def tail_dropped(total, num_segments):
    if total == 0:
        raise ValueError("empty video")
    return np.minimum(np.arange(num_segments) * max(total // num_segments, 1), total - 1)


def start_exclusive(num_frames, T, rng):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames <= T:
        return np.minimum(np.arange(T), num_frames - 1)
    start = rng.integers(0, num_frames - T)
    return start + np.arange(T)


def sample_val_random(num_frames, T):
    return sample_dense_indices(num_frames, T, rng=np.random.randint(1 << 30))


def ignores_seed(num_frames, T, seed):
    return sample_dense_indices(num_frames, T, rng=np.random.randint(1 << 30))


def empty_zero_division(vlen, clip_len):
    return [int(i * vlen / clip_len) for i in range(clip_len)] if vlen else [0 // vlen]


def multi_random(num_frames, T, num_clips):
    return [sample_dense_indices(num_frames, T, rng=np.random.randint(1 << 30)) for _ in range(num_clips)]


def subsample_off_by_one(video, num_samples):
    index = np.linspace(0, video.shape[0], num_samples).astype(int)
    return video[np.minimum(index, video.shape[0] - 1)][::-1].copy()


@pytest.mark.parametrize(
    "fn,role,rule,snippet",
    [
        (off_by_one, "sampler", "TK502", "`off_by_one(num_frames=1, T=2)` returned index 1 (valid 0..0)"),
        (wrong_length, "sampler", "TK501", "indices (expected T="),
        (unsorted, "sampler", "TK503", "must not decrease"),
        (short_crash, "sampler", "TK504", "num_frames=1, T=2"),
        (tail_dropped, "sampler", "TK505", "at the tail"),
        (start_exclusive, "sampler", "TK506", "never drew the last valid start"),
        (sample_val_random, "sampler", "TK507", "test-time"),
        (ignores_seed, "sampler", "TK508", "same seed"),
        (empty_zero_division, "sampler", "TK509", "ZeroDivisionError"),
        (multi_random, "multiclip", "TK507", "multi-clip"),
        (subsample_off_by_one, "subsample", "TK503", "must not decrease"),
    ],
)
def test_each_buggy_sampler_gets_its_finding_with_a_small_counterexample(fn, role, rule, snippet):
    findings = rules_of(fn, role)
    assert rule in findings, findings
    assert snippet in findings[rule].message
    assert findings[rule].source == "dynamic"
    counterexample = findings[rule].extra["counterexample"]
    assert counterexample["num_frames"] <= 16 and counterexample["T"] <= 10


def test_a_test_mode_flag_is_checked_both_ways():
    def sample_clip(num_frames, T, test_mode=False):
        if test_mode:
            return sample_val_centre(num_frames, T)
        return sample_dense_indices(num_frames, T)

    def sample_clip_bad(num_frames, T, test_mode=False):
        return sample_dense_indices(num_frames, T)

    assert rules_of(sample_clip) == {}
    assert "TK507" in rules_of(sample_clip_bad)


# --- discovery ----------------------------------------------------------------------------------


def test_discovery_finds_samplers_by_name_and_signature():
    source = textwrap.dedent(
        """
        def sample_indices(vlen, clip_len, seed=0): ...
        def choose(n, k): ...
        def unrelated(a, b): ...
        class ClipSampler:
            def __init__(self, clip_len, stride=1): ...
            def __call__(self, num_frames, rng): ...
        class Subsample:
            def __init__(self, num_samples): ...
            def __call__(self, x): ...
        def random_resized_crop(clip): ...
        def load_video(path): ...
        def sample_multi_clip(num_frames, T, num_clips): ...
        class Dataset:
            @staticmethod
            def sample_val(total, num_segments): ...
            def get(self, i):
                return self.items[i]
        """
    )
    found = {c.name: c.role for c in discover_source(source, "x.py")}
    assert found == {
        "sample_indices": "sampler",
        "ClipSampler": "sampler",
        "Subsample": "subsample",
        "random_resized_crop": "transform",
        "load_video": "loader",
        "sample_multi_clip": "multiclip",
        "Dataset.sample_val": "sampler",
    }


def test_pyproject_table_names_objects_and_maps_arguments(tmp_path):
    config = dynamic_config_from_table(
        {
            "timeout": 5,
            "objects": [{"target": "data.py:Loader.indices", "role": "sampler", "args": {"a": "num_frames", "b": "T"}}],
        },
        root=tmp_path,
    )
    assert config.timeout == 5.0
    assert config.objects[0].args == {"a": "num_frames", "b": "T"}
    assert isinstance(config, DynamicConfig)


# --- the sandbox (child processes) ---------------------------------------------------------------


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_check_object_maps_arguments_and_reports_the_def_line(tmp_path):
    path = write(
        tmp_path,
        "mine.py",
        """
        import numpy as np

        def pick(a, b, mode="train"):
            assert mode == "val"
            return np.linspace(0, a, b).astype(int)
        """,
    )
    findings, errors = check_object(path, "pick", "sampler", ["a=num_frames", "b=T", "mode='val'"], timeout=60)
    assert errors == []
    assert [f.rule for f in findings if f.rule == "TK502"] == ["TK502"]
    finding = next(f for f in findings if f.rule == "TK502")
    assert finding.line == 4 and finding.path == str(path)
    assert "`pick(a=1, b=2, mode='val')` returned index 1" in finding.message


def test_hang_import_failure_and_memory_hog_are_errors_and_the_run_goes_on(tmp_path):
    write(
        tmp_path,
        "broken.py",
        "raise RuntimeError('no GPU here')\n\ndef sample_never(num_frames, T):\n    return list(range(T))\n",
    )
    write(
        tmp_path,
        "hangs.py",
        """
        import numpy as np

        def sample_hang(num_frames, T):
            while True:
                pass

        def sample_fine(num_frames, T):
            if num_frames == 0:
                raise ValueError("empty video")
            return np.minimum(np.arange(T), num_frames - 1) if num_frames < T else (2 * np.arange(T) + 1) * num_frames // (2 * T)
        """,
    )
    write(
        tmp_path,
        "hog.py",
        """
        def sample_hog(num_frames, T):
            hog = bytearray(3 * 1024 ** 3)
            return list(range(T))
        """,
    )
    write(
        tmp_path,
        "off.py",
        """
        import numpy as np
        print("hello from user code")

        def sample_off(num_frames, T):
            if num_frames == 0:
                raise ValueError("empty video")
            return np.linspace(0, num_frames, T).astype(int)
        """,
    )
    before = sorted(p.name for p in tmp_path.rglob("*"))
    findings, errors = run_dynamic([tmp_path], timeout=4.0, memory_mb=1024)
    messages = {Path(e.path).name: e.message for e in errors}
    assert "no GPU here" in messages["broken.py"]
    assert any("sample_hang" in e.message and "time limit" in e.message for e in errors)
    assert any("sample_hog" in e.message and ("memory" in e.message or "MemoryError" in e.message) for e in errors)
    assert {(Path(f.path).name, f.rule) for f in findings} == {("off.py", "TK502")}
    assert not any("sample_fine" in e.message for e in errors)
    # Nothing was written next to the audited files (no __pycache__, no output of the user code).
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_examples_every_planted_bug_found_and_the_correct_file_is_quiet():
    findings, errors = run_dynamic([EXAMPLES / "dynamic_bugs.py", EXAMPLES / "dynamic_correct.py"], timeout=120)
    assert errors == []
    by_object = {}
    for finding in findings:
        by_object.setdefault(finding.extra["object"], set()).add(finding.category)
        assert finding.path.endswith("dynamic_bugs.py"), finding
    assert by_object == {
        "sample_uniform_off_by_one": {"index-out-of-range"},
        "RandomClipSampler": {"short-clip"},
        "sample_strided": {"short-clip", "uneven-coverage"},
        "sample_segments_tail_dropped": {"uneven-coverage"},
        "sample_dense_window": {"start-range"},
        "sample_random_frames": {"temporal-order"},
        "sample_val_clip": {"nondeterministic-eval"},
    }


def test_the_child_does_not_import_torch_for_numpy_samplers(tmp_path):
    path = write(
        tmp_path,
        "probe_torch.py",
        """
        import sys

        def sample_reports_torch(num_frames, T):
            if "torch" in sys.modules:
                raise RuntimeError("torch was imported")
            if num_frames == 0:
                raise ValueError("empty video")
            return [min(i, num_frames - 1) for i in range(T)] if num_frames < T else [(2 * i + 1) * num_frames // (2 * T) for i in range(T)]
        """,
    )
    findings, errors = check_object(path, "sample_reports_torch", "sampler", timeout=60)
    assert (findings, errors) == ([], [])


def test_check_command_exit_codes(tmp_path):
    command = [sys.executable, "-m", "temporalkit", "check"]
    env = dict(os.environ, NO_COLOR="1")
    bad = subprocess.run(
        command + [f"{EXAMPLES / 'dynamic_bugs.py'}:sample_uniform_off_by_one", "--role", "sampler"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 1, bad.stderr
    assert "TK502" in bad.stdout and "returned index 1 (valid 0..0)" in bad.stdout
    missing = subprocess.run(
        command + [f"{EXAMPLES / 'dynamic_bugs.py'}:no_such", "--role", "sampler"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 2 and "no_such" in missing.stdout + missing.stderr
