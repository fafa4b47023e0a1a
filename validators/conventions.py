"""Findings a project's own convention answers: held back, counted in the summary, shown with --include-unused.

TK191 (OpenCV frames never converted to RGB) is a bug against a model that expects RGB, which is
what a project expects once any of its code produces RGB frames: a `cv2.cvtColor(..., COLOR_BGR2RGB)`
elsewhere, PIL's `.convert("RGB")`, decord (imported and read with), PyAV's `rgb24`, `torchvision.io.read_video`, or a
pipeline asked to swap (`bgr2rgb=True`, `to_rgb=True`, `channel_order="rgb"`). A project none of
whose Python files does any of that reads, trains and evaluates on OpenCV's BGR throughout: its
models were trained on BGR frames (frame interpolation and restoration code, C3D-era recognition
code built around `cv2.imread`), and converting one reader would feed them swapped colours. Its
TK191 findings are held back.

    shown, held = hold_back_bgr_projects(findings, audited, paths, config_root)

The project is the git work tree holding each audited path (as for the unused-code pass), else the
folder of the pyproject.toml in use, else the path's folder. Its Python files are searched, as
bytes, only when there is a TK191 finding, and the search stops at the first file with RGB frames.
Random channel flips (`img[:, :, ::-1]` as an augmentation) and ImageNet means (a perceptual loss
has them) are not evidence of RGB frames; a channel-order convention kept outside Python (a YAML
config) is not seen, so such a project stays reported. Missed on purpose: a project that reads only
with OpenCV and loads weights pretrained on RGB (`pretrained=True`) has the bug and is held back, as
pretrained weights were no evidence either way in the benchmark (frame-interpolation code loads an
RGB VGG for its loss; C3D's Sports-1M weights are BGR). The summary says how many were held back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from temporalkit.validators.discovery import discover_files
from temporalkit.validators.unused import bytes_if_small, project_root

BGR_RULE = "TK191"
RGB_FRAMES = re.compile(
    rb"""COLOR_BGRA?2RGBA?\b|COLOR_YUV2RGB|\.convert\(\s*['"]RGB['"]|rgb24"""
    rb"""|\bread_video\(|\bbgr2rgb\s*=\s*True|\bto_rgb\s*=\s*True|channel_order\s*=\s*['"]rgb['"]""",
    re.MULTILINE,
)


def hold_back_bgr_projects(
    findings: Sequence, audited: Sequence[tuple[str, Path, str]], paths: Sequence[Path], config_root: Path | None
) -> tuple[list, list]:
    """(findings to report, TK191 findings held back because their project never makes RGB frames).

    audited: (path as reported, path, content hash) of every file the audit read; paths: what was audited."""
    if not any(f.rule == BGR_RULE for f in findings):
        return list(findings), []
    if _makes_rgb_frames(_project_python_files(audited, paths, config_root)):
        return list(findings), []
    shown = [f for f in findings if f.rule != BGR_RULE]
    return shown, [f for f in findings if f.rule == BGR_RULE]


def _project_python_files(
    audited: Sequence[tuple[str, Path, str]], paths: Sequence[Path], config_root: Path | None
) -> list[Path]:
    """The audited files first (most of the project, already in the page cache), then the rest of
    the projects' Python files."""
    files = [path for _, path, _ in audited]
    seen = {os.path.abspath(path) for path in files}
    roots: dict[str, Path] = {}
    for path in paths:
        root = project_root(path if path.is_dir() else path.parent, config_root)
        roots[os.path.abspath(root)] = root
    others, _ = discover_files(list(roots.values()), None)
    files += [path for path in others if os.path.abspath(path) not in seen]
    return files


# decord decodes to RGB, but only a file that imports it and reads with it makes frames: an import
# left over beside an OpenCV reader (`from decord import VideoReader`, never called) is no evidence.
DECORD_IMPORT = re.compile(rb"^\s*(?:import|from)\s+decord\b", re.MULTILINE)
DECORD_READS = re.compile(rb"^[^#\n]*(?:\bdecord\.\w+|\bVideoReader)\s*\(", re.MULTILINE)


def _makes_rgb_frames(files: Sequence[Path]) -> bool:
    return any(
        RGB_FRAMES.search(data) or (DECORD_IMPORT.search(data) and DECORD_READS.search(data))
        for data in map(bytes_if_small, files)
        if data is not None
    )
