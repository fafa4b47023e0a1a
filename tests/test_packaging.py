"""A normal (non-editable) wheel carries every subpackage, the templates and the motion checkpoint, and works."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("temporalkit-*.whl")
    return built


def test_wheel_ships_packages_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "temporalkit/cli.py",
        "temporalkit/commands/audit.py",
        "temporalkit/picker/answer.py",
        "temporalkit/validators/rules/__init__.py",
        "temporalkit/validators/dynamic/child.py",
        "temporalkit/reference_models/sampling.py",
        "temporalkit/prompts/architecture_picker.md.j2",
        "temporalkit/skills/frame-sampler-auditor/SKILL.md.j2",
        "temporalkit/skills/frame-sampler-auditor/summarize_findings.py",
        "temporalkit/reference_models/weights/motion_r2plus1d.pt",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("validators/", "prompts/", "reference_models/")) for n in names), (
        "bare top-level names leaked"
    )


def test_installed_wheel_renders_and_audits_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import temporalkit, temporalkit.validators.rules as r;"
        "assert temporalkit.__file__.startswith(%r), temporalkit.__file__;"
        "from temporalkit.render import render_skill_files; assert 'SKILL.md' in render_skill_files();"
        "print(len(r.all_rules()))" % str(target)
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 13
    buggy = tmp_path / "sampler.py"
    buggy.write_text("import numpy as np\n\ndef f(n, T):\n    return np.linspace(0, n, T).astype(int)\n")
    audit = subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--no-cache", str(buggy)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert audit.returncode == 1 and "TK101" in audit.stdout, audit.stdout + audit.stderr
