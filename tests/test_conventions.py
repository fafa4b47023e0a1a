"""A project's own channel-order convention (validators/conventions.py): TK191 findings in a project
none of whose code makes RGB frames are held back; one file that makes RGB frames anywhere in the
project keeps them reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig

# OpenCV frames stacked into a tensor with no conversion: TK191.
BGR_READER = """\
import cv2
import numpy as np
import torch


def read_clip(path, indices):
    capture = cv2.VideoCapture(path)
    frames = []
    for index in indices:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        frames.append(frame)
    return torch.from_numpy(np.stack(frames))
"""
# Training data of an interpolation model read the same way, with a random channel flip as an
# augmentation: no RGB frames anywhere.
BGR_TRAINING = """\
import random

import cv2


def load_triplet(paths):
    images = [cv2.imread(p) for p in paths]
    if random.random() < 0.5:
        images = [image[:, :, ::-1] for image in images]
    return images
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def audit(root: Path, *paths: Path, **kwargs):
    return audit_paths(list(paths) or [root], config=AuditConfig(root=root), cache=False, **kwargs)


def rules_of(findings) -> list[tuple[str, str]]:
    return [(Path(f.path).name, f.rule) for f in findings]


def test_bgr_reader_in_a_bgr_only_project_is_held_back(tmp_path):
    write_tree(tmp_path, {"bench/read.py": BGR_READER, "train/dataset.py": BGR_TRAINING})
    result = audit(tmp_path)
    assert rules_of(result.findings) == []
    assert rules_of(result.bgr_project) == [("read.py", "TK191")]
    shown = audit(tmp_path, include_unused=True)
    assert rules_of(shown.findings) == [("read.py", "TK191")] and shown.bgr_project == []


@pytest.mark.parametrize(
    "rgb_code",
    [
        "import cv2\n\ndef load(p):\n    return cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)\n",
        "from PIL import Image\n\ndef load(p):\n    return Image.open(p).convert('RGB')\n",
        "import decord\n\ndef load(p):\n    return decord.VideoReader(p)\n",
        "from decord import VideoReader, cpu\n\ndef load(p):\n    return VideoReader(p, ctx=cpu(0))\n",
        "def frames(container):\n    return [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]\n",
        "from torchvision.io import read_video\n\ndef load(p):\n    return read_video(p)[0]\n",
        "pipeline = [dict(type='Normalize', mean=[123.675, 116.28, 103.53], to_rgb=True)]\n",
    ],
    ids=["cvtColor", "pil-convert", "decord", "decord-from", "pyav-rgb24", "read_video", "to_rgb"],
)
def test_one_file_making_rgb_frames_keeps_the_finding(tmp_path, rgb_code):
    write_tree(tmp_path, {"bench/read.py": BGR_READER, "train/dataset.py": BGR_TRAINING, "data/rgb.py": rgb_code})
    result = audit(tmp_path)
    assert rules_of(result.findings) == [("read.py", "TK191")] and result.bgr_project == []


def test_a_decord_import_nothing_reads_with_is_no_evidence(tmp_path):
    """A loader that imports decord beside its OpenCV reader and never calls it (a self-supervised
    project BGR from pretraining to evaluation, a held-out-17 false alarm) makes no RGB frames."""
    leftover = "from decord import VideoReader\n# vr = VideoReader(path)  the old reader\n" + BGR_READER
    write_tree(tmp_path, {"bench/read.py": leftover, "train/dataset.py": BGR_TRAINING})
    result = audit(tmp_path)
    assert rules_of(result.findings) == [] and rules_of(result.bgr_project) == [("read.py", "TK191")]


def test_rgb_frames_outside_the_audited_folder_count(tmp_path):
    """The project is the whole git work tree, not just the folder audited."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_tree(tmp_path, {"bench/read.py": BGR_READER, "data/rgb.py": "def f(im):\n    return im.convert('RGB')\n"})
    assert rules_of(audit(tmp_path, tmp_path / "bench").findings) == [("read.py", "TK191")]
    (tmp_path / "data" / "rgb.py").write_text("def f(im):\n    return im\n")
    assert rules_of(audit(tmp_path, tmp_path / "bench").bgr_project) == [("read.py", "TK191")]


def test_a_file_given_alone_is_judged_by_its_project(tmp_path):
    """The pre-commit hook passes files: the project around them decides as for a folder."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_tree(tmp_path, {"bench/read.py": BGR_READER, "train/dataset.py": BGR_TRAINING})
    assert rules_of(audit(tmp_path, tmp_path / "bench" / "read.py").bgr_project) == [("read.py", "TK191")]


def test_the_cli_summary_counts_them(tmp_path):
    write_tree(tmp_path, {"bench/read.py": BGR_READER, "train/dataset.py": BGR_TRAINING})
    run = subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--no-cache", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 TK191 finding was not reported: no code in the project makes RGB frames" in run.stdout
    json_run = subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--no-cache", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "1 TK191 finding was not reported" in json_run.stderr
