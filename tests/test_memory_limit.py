"""The dynamic auditor's memory limit: RLIMIT_AS, or a resident-memory watchdog where an NVIDIA GPU is
present (RLIMIT_AS keeps CUDA from initialising); what --memory-mb 0 and the pyproject's memory-mb mean;
and the layout check (TK621) when CUDA is unusable or fails."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from temporalkit.validators.dynamic import child, run_dynamic_modules, runner
from temporalkit.validators.dynamic.child import nvidia_gpu_visible
from temporalkit.validators.dynamic.runner import memory_limit_mode

from temporalkit.cli import main

# Every module below logs the RLIMIT_AS its child runs under (MB, None for unlimited) when imported.
LOG_RLIMIT = """
import json, os, resource
_soft = resource.getrlimit(resource.RLIMIT_AS)[0]
with open(os.environ["TK_TEST_RLIMIT_LOG"], "a") as _log:
    _log.write(json.dumps(None if _soft == resource.RLIM_INFINITY else _soft // 2**20) + "\\n")
"""

CORRECT_SAMPLER = """
def sample_centres(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return [min(i, num_frames - 1) for i in range(T)]
    return [(2 * i + 1) * num_frames // (2 * T) for i in range(T)]
"""


@pytest.fixture()
def rlimit_log(tmp_path, monkeypatch):
    log = tmp_path / "rlimit.log"
    monkeypatch.setenv("TK_TEST_RLIMIT_LOG", str(log))
    monkeypatch.setenv("TEMPORALKIT_DYNAMIC_ENV", "TK_TEST_RLIMIT_LOG")  # the child's environment is allow-listed
    return log


def child_limits(log: Path) -> list:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def write_project(root: Path, pyproject: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    path = root / "pipeline.py"
    path.write_text(LOG_RLIMIT + CORRECT_SAMPLER)
    return path


# --- which limit: command line, then pyproject, then the default; 0 is none ----------------------


@pytest.mark.parametrize(
    "pyproject, option, expected",
    [
        (
            "[tool.temporalkit.dynamic]\nmemory-mb = 1536\n",
            ["--memory-mb", "0"],
            None,
        ),  # 0: no limit, even over the pyproject
        ("[tool.temporalkit.dynamic]\nmemory-mb = 1536\n", [], 1536),  # the pyproject's value
        ("[tool.temporalkit.dynamic]\nmemory-mb = 1536\n", ["--memory-mb", "2048"], 2048),  # the option wins
        ("[tool.temporalkit.dynamic]\ntimeout = 60\n", [], runner.DEFAULT_MEMORY_MB),  # neither: the default
    ],
)
def test_check_memory_mb_option_over_pyproject_over_default(
    tmp_path, monkeypatch, rlimit_log, pyproject, option, expected
):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "address-space")
    path = write_project(tmp_path / "project", pyproject)
    assert main(["check", f"{path}:sample_centres", "--role", "sampler", *option]) == 0
    assert child_limits(rlimit_log) == [expected]


@pytest.mark.parametrize("option, expected", [([], 1536), (["--memory-mb", "0"], None)])
def test_audit_dynamic_memory_mb_option_over_pyproject(tmp_path, monkeypatch, rlimit_log, option, expected):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "address-space")
    path = write_project(tmp_path / "project", "[tool.temporalkit.dynamic]\nmemory-mb = 1536\n")
    assert main(["audit", str(path.parent), "--dynamic", "--no-cache", "--format", "json", *option]) == 0
    assert child_limits(rlimit_log) == [expected]


@pytest.mark.parametrize("command", ["check", "audit"])
def test_bad_memory_settings_are_usage_errors(tmp_path, monkeypatch, capsys, rlimit_log, command):
    path = write_project(tmp_path / "project", None)
    argv = (
        ["check", f"{path}:sample_centres", "--role", "sampler"]
        if command == "check"
        else ["audit", str(path), "--dynamic"]
    )
    assert main([*argv, "--memory-mb", "-1"]) == 2
    assert "--memory-mb must be 0 (no limit) or more" in capsys.readouterr().err
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "rss")
    assert main(argv) == 2
    assert "TEMPORALKIT_MEMORY_LIMIT must be one of auto, address-space, resident, got 'rss'" in capsys.readouterr().err
    assert child_limits(rlimit_log) == []  # nothing ran


# --- how it is enforced: auto picks resident memory where an NVIDIA GPU is visible ----------------


def test_nvidia_gpu_visible_needs_the_driver_and_a_visible_device(tmp_path):
    driver = tmp_path / "nvidiactl"
    driver.touch()
    present = (str(driver), str(tmp_path / "absent"))
    assert nvidia_gpu_visible(present, environ={})
    assert nvidia_gpu_visible(present, environ={"CUDA_VISIBLE_DEVICES": "0"})
    assert nvidia_gpu_visible(present, environ={"CUDA_VISIBLE_DEVICES": "GPU-5f0c1a2b,1"})
    assert not nvidia_gpu_visible(present, environ={"CUDA_VISIBLE_DEVICES": ""})
    assert not nvidia_gpu_visible(present, environ={"CUDA_VISIBLE_DEVICES": "-1"})
    assert not nvidia_gpu_visible(present, environ={"CUDA_VISIBLE_DEVICES": " -1,0"})
    assert not nvidia_gpu_visible((str(tmp_path / "absent"),), environ={})


def test_memory_limit_mode_auto_follows_the_gpu(monkeypatch):
    monkeypatch.delenv(runner.MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.setattr(runner, "nvidia_gpu_visible", lambda: True)
    assert memory_limit_mode() == "resident"
    assert memory_limit_mode("address-space") == "address-space"
    monkeypatch.setattr(runner, "nvidia_gpu_visible", lambda: False)
    assert memory_limit_mode() == "address-space"
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "resident")
    assert memory_limit_mode() == "resident"
    with pytest.raises(ValueError, match="must be one of"):
        memory_limit_mode("rss")


HOGS = """
import numpy as np

_kept = []


def sample_hog(num_frames, T):
    _kept.append(np.ones(2 * 1024 ** 3, dtype=np.uint8))  # 2 GB, every page touched
    return list(range(T))


def sample_off_by_one(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    return np.linspace(0, num_frames, T).astype(int)


def sample_spawns_a_hog(num_frames, T):
    import subprocess, sys
    subprocess.run([sys.executable, "-c", "import time; hog = b'1' * (2 * 1024 ** 3); time.sleep(60)"])
    return list(range(T))
"""


def test_resident_limit_kills_a_hog_and_the_run_goes_on(tmp_path, monkeypatch, rlimit_log):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "resident")
    path = tmp_path / "src" / "hogs.py"  # the log sits outside the audited folder, which the child sees read-only
    path.parent.mkdir()
    path.write_text(LOG_RLIMIT + HOGS + CORRECT_SAMPLER)
    results, errors = run_dynamic_modules([path], timeout=60, memory_mb=500)
    objects = {o.candidate.name: o for o in results[0].objects}
    assert list(objects) == ["sample_hog", "sample_off_by_one", "sample_spawns_a_hog", "sample_centres"]
    hog = objects["sample_hog"].error
    assert hog.startswith("ran out of memory: resident memory reached ") and "over the limit of 500 MB" in hog, hog
    assert "enforced on resident memory" in hog and "TEMPORALKIT_MEMORY_LIMIT=resident" in hog, hog
    assert "started by the checked code" not in hog, hog
    spawned = objects["sample_spawns_a_hog"].error
    assert "started by the checked code" in spawned and "over the limit of 500 MB" in spawned, spawned
    # the objects after each kill were checked by a fresh child, as usual
    assert [f.rule for f in objects["sample_off_by_one"].findings] == ["TK502"] and objects[
        "sample_off_by_one"
    ].error is None
    assert objects["sample_centres"].findings == [] and objects["sample_centres"].error is None
    assert len(errors) == 2
    # three children (the first two killed), none under RLIMIT_AS
    assert child_limits(rlimit_log) == [None, None, None]


def test_resident_limit_at_import_is_an_import_error(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "resident")
    path = tmp_path / "import_hog.py"
    path.write_text("import numpy as np\n_hog = np.ones(2 * 1024 ** 3, dtype=np.uint8)\n" + CORRECT_SAMPLER)
    results, errors = run_dynamic_modules([path], timeout=60, memory_mb=500)
    assert len(errors) == 1 and errors[0].message.startswith("import ran out of memory: resident memory reached "), (
        errors
    )


def test_address_space_limit_is_unchanged_where_no_gpu(tmp_path, monkeypatch, rlimit_log):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "auto")
    monkeypatch.setattr(runner, "nvidia_gpu_visible", lambda: False)
    path = tmp_path / "src" / "hogs.py"  # the log sits outside the audited folder, which the child sees read-only
    path.parent.mkdir()
    path.write_text(LOG_RLIMIT + HOGS.split("def sample_spawns_a_hog")[0])
    results, errors = run_dynamic_modules([path], timeout=60, memory_mb=500)
    objects = {o.candidate.name: o for o in results[0].objects}
    assert objects["sample_hog"].error == "ran out of memory (limit 500 MB)"
    assert [f.rule for f in objects["sample_off_by_one"].findings] == ["TK502"]
    assert child_limits(rlimit_log) == [500]


# --- the layout check when CUDA is unusable or fails ---------------------------------------------

torch = pytest.importorskip("torch")


def coded_clip(frames: int, layout: str, size: int = 64) -> np.ndarray:
    from temporalkit.validators.dynamic.frame_code import encode_frame

    thwc = np.stack([encode_frame(i, size, size) for i in range(frames)]).astype(np.float32) / 255.0
    tchw = thwc.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(tchw if layout == "TCHW" else tchw.transpose(1, 0, 2, 3))


def test_layout_notes_cpu_when_a_gpu_is_present_but_cuda_is_unusable(monkeypatch):
    from temporalkit.validators.dynamic.layout_checks import check_layout_with_notes

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    findings, notes = check_layout_with_notes(coded_clip(8, "TCHW"), "3d_conv", expect_cuda=True)
    assert [f.rule for f in findings] == ["TK621"] and findings[0].extra["device"] == "cpu"
    assert len(notes) == 1 and "ran on CPU although an NVIDIA GPU is present: CUDA is unusable here" in notes[0]
    assert check_layout_with_notes(coded_clip(8, "CTHW"), "3d_conv", expect_cuda=False) == ([], [])


def test_layout_falls_back_to_cpu_when_moving_to_cuda_raises(monkeypatch):
    from temporalkit.validators.dynamic.layout_checks import check_layout_with_notes

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # but no driver: .to("cuda") raises
    findings, notes = check_layout_with_notes(coded_clip(8, "TCHW"), "3d_conv")
    assert [f.rule for f in findings] == ["TK621"] and "expected input" in findings[0].message
    assert findings[0].extra["device"] == "cpu"
    assert len(notes) == 1 and "ran on CPU: on CUDA it raised" in notes[0]
    findings, notes = check_layout_with_notes(coded_clip(8, "CTHW"), "3d_conv")
    assert findings == [] and len(notes) == 1


class OutOfMemoryOnCuda(torch.nn.Module):
    """The tiny I3D, but its first forward pass (the one on "CUDA") raises CUDA out of memory."""

    input_layout = "NCTHW"

    def __init__(self) -> None:
        super().__init__()
        from temporalkit.reference_models.registry import build_tiny

        self.inner = build_tiny("i3d", num_classes=4, frames=8, size=64)
        self.calls = 0

    def to(self, *args, **kwargs):
        return self

    def forward(self, x):
        self.calls += 1
        if self.calls == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.inner(x)


@pytest.mark.parametrize("layout, rules", [("CTHW", []), ("TCHW", ["TK621"])])
def test_cuda_out_of_memory_is_not_taken_for_a_rejected_layout(monkeypatch, layout, rules):
    from temporalkit.validators.dynamic.layout_checks import check_layout_with_notes

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    real_to = torch.Tensor.to
    monkeypatch.setattr(
        torch.Tensor, "to", lambda self, *a, **k: self if a and str(a[0]).startswith("cuda") else real_to(self, *a, **k)
    )
    findings, notes = check_layout_with_notes(coded_clip(8, layout), "3d_conv", model=OutOfMemoryOnCuda())
    assert [f.rule for f in findings] == rules
    assert not any("out of memory" in f.message for f in findings)
    assert len(notes) == 1 and "on CUDA it raised OutOfMemoryError: CUDA out of memory" in notes[0]


TRANSFORMS = textwrap.dedent(
    """
    import torch

    def crop_each_frame(clip):
        # a (T, C, H, W) tensor; a different random crop per frame (TK601); the result stays (T, C, H, W)
        if clip.ndim != 4 or clip.shape[1] != 3:
            raise TypeError("wants a (T, C, H, W) tensor")
        frames = []
        for frame in clip:
            top = int(torch.randint(0, 9, ()))
            frames.append(frame[:, top:top + 64, :64])
        return torch.stack(frames).float()
    """
)


def test_a_failing_layout_check_costs_only_that_check(tmp_path, monkeypatch):
    from temporalkit.validators.dynamic import layout_checks

    path = tmp_path / "transforms.py"
    path.write_text(TRANSFORMS)
    module = child._import_module(str(path))

    def cuda_fails(*args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    real_peer = child._peer
    monkeypatch.setattr(layout_checks, "check_layout_with_notes", cuda_fails)
    # the motion check (100 clips through the motion model) is not what this is about: skip it
    monkeypatch.setattr(
        child, "_peer", lambda name, function: None if name == "motion_checks" else real_peer(name, function)
    )
    findings, notes, error = child.check_one(
        module.crop_each_frame, "crop_each_frame", "transform", {}, None, None, "3d_conv"
    )
    assert "TK601" in {f.rule for f in findings}
    assert (
        error
        == "layout check (TK621) for family '3d_conv' failed: RuntimeError: CUDA error: an illegal memory access was encountered"
    )


def test_the_child_notes_a_cpu_layout_check_where_a_gpu_is_present(tmp_path, monkeypatch):
    path = tmp_path / "transforms.py"
    path.write_text(TRANSFORMS)
    module = child._import_module(str(path))
    monkeypatch.setattr(child, "nvidia_gpu_visible", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    findings, notes, error = child._layout_findings(
        module.crop_each_frame, "crop_each_frame", "transform", "3d_conv", None
    )
    assert [f.rule for f in findings] == ["TK621"] and error is None
    assert notes and notes[0].startswith("crop_each_frame: layout check of the clip crop_each_frame returned")
    assert "ran on CPU although an NVIDIA GPU is present" in notes[0]


# --- the time limit follows the same order: command line, then pyproject, then 60 s -------------

SLOW_SAMPLER = """
import time


def sample_centres(num_frames, T):
    time.sleep(30)
    return [0] * T
"""


@pytest.mark.parametrize("command", ["check", "audit"])
def test_pyproject_timeout_applies_when_no_option_is_given(tmp_path, capsys, command):
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.temporalkit.dynamic]\ntimeout = 1\n")
    path = root / "pipeline.py"
    path.write_text(SLOW_SAMPLER)
    argv = (
        ["check", f"{path}:sample_centres", "--role", "sampler", "--format", "json"]
        if command == "check"
        else ["audit", str(root), "--dynamic", "--no-cache", "--format", "json"]
    )
    main(argv)
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert any("time limit of 1 s" in e["message"] for e in errors), errors  # the pyproject's, not 60 s
