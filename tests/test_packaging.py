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
def built(tmp_path_factory) -> tuple[Path, str]:
    """The wheel, and everything the build printed (-v: setuptools' warnings included)."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = out.glob("temporalkit-*.whl")
    return wheel, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(built) -> Path:
    return built[0]


def test_build_has_no_package_configuration_warning(built):
    _, log = built
    assert "Building wheel for temporalkit" in log
    assert "absent from the `packages` configuration" not in log, [
        line for line in log.splitlines() if "absent from" in line
    ]


def test_core_requirements_have_no_torch_and_the_extras_keep_the_pins(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert not any(r.startswith(("torch", "torchvision", "av", "numpy")) for r in core), core
    assert {r.split(">")[0].split("=")[0].split(" ")[0] for r in core} == {"jinja2", "pydantic", "libcst", "pyyaml"}
    for extra in ("dynamic", "models"):
        pinned = [r for r in requires if f'extra == "{extra}"' in r]
        assert any(r.startswith("torch==2.14.1") for r in pinned) and any(
            r.startswith("torchvision==0.29.1") for r in pinned
        ), (extra, pinned)
    assert any(r.startswith("mcp") and 'extra == "mcp"' in r for r in requires)


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
        "temporalkit/skills/video-architecture-picker/SKILL.md.j2",
        "temporalkit/picker/cost_snapshot.json",
        "temporalkit/extras.py",
        "temporalkit/mcp_server.py",
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
