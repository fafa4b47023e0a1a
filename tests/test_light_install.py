"""The core install has no torch: the static auditor, the picker and the skills work without it, and
commands that need an extra say which one in one line (exit 2).

The fast tests hide the extras' modules from `temporalkit.extras` in this interpreter. The slow
test builds a real virtualenv with the wheel and only its core dependencies (no torch anywhere on
its path) and runs the CLI there; it runs with TEMPORALKIT_SLOW_TESTS=1 (CI sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import temporalkit.extras as extras
from temporalkit.cli import main

REPO = Path(__file__).resolve().parents[1]
BUGGY = "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
HIDDEN = {"torch", "torchvision", "numpy", "av", "mcp"}
INSTALL_HINT = {
    "dynamic": "pip install 'temporalkit[dynamic]'",
    "models": "pip install 'temporalkit[models]'",
    "mcp": "pip install 'temporalkit[mcp]'",
}


@pytest.fixture
def no_extras(monkeypatch):
    """`temporalkit.extras` sees none of the extras' modules (what the core install looks like)."""
    real = extras._installed
    monkeypatch.setattr(extras, "_installed", lambda module: module not in HIDDEN and real(module))
    from temporalkit.picker import costs

    costs.measured_cost.cache_clear()
    yield
    costs.measured_cost.cache_clear()


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["check", "{file}:sample", "--role", "sampler"], "dynamic"),
        (["audit", "--dynamic", "--no-cache", "{file}"], "dynamic"),
        (["probe", "make", "{dir}/probes"], "dynamic"),
        (["cost", "--model", "r3d_18"], "models"),
        (["train", "--model", "r2plus1d"], "models"),
        (["mcp"], "mcp"),
    ],
)
def test_a_command_that_needs_a_missing_extra_says_which_in_one_line(tmp_path, capsys, no_extras, argv, extra):
    buggy = tmp_path / "sampler.py"
    buggy.write_text(BUGGY)
    argv = [arg.format(file=buggy, dir=tmp_path) for arg in argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(INSTALL_HINT[extra]), err
    assert not (tmp_path / "probes").exists()


def test_reference_models_name_the_extra_they_need(no_extras):
    import temporalkit.reference_models as reference_models

    from temporalkit.extras import MissingExtra

    reference_models.__dict__.pop("FramePool", None)
    with pytest.raises(MissingExtra, match=r"reference_models.FramePool needs .*pip install 'temporalkit\[models\]'"):
        reference_models.FramePool
    with pytest.raises(ImportError):  # code that catches a missing module catches it too
        reference_models.FramePool


def test_static_audit_and_rule_need_no_extra(tmp_path, capsys, no_extras):
    buggy = tmp_path / "sampler.py"
    buggy.write_text(BUGGY)
    assert main(["audit", "--no-cache", str(buggy)]) == 1
    assert "TK101" in capsys.readouterr().out
    assert main(["rule", "TK101"]) == 0


def test_picker_reads_the_shipped_cost_snapshot_without_torch(no_extras):
    from temporalkit.extras import MissingExtra
    from temporalkit.picker import costs
    from temporalkit.picker.cost_snapshot import GRID_FRAMES, GRID_SIZES, load_snapshot

    row = costs.measured_cost("r3d_18", 16, 112)
    assert row.error is None and row.gmacs == pytest.approx(40.697, abs=0.01)  # torchvision publishes _ops=40.697
    with pytest.raises(MissingExtra, match=r"temporalkit\[models\]"):
        costs.measured_cost("r3d_18", 12, 112)  # off the snapshot's grid: measuring needs torch
    with pytest.raises(MissingExtra, match=r"temporalkit\[models\]"):
        costs.measured_cost("r3d_18", 16, 112, "cpu", True)  # latency is always measured
    assert costs.torchvision_published_rows() == load_snapshot()["torchvision_published"]
    # every registry model is in the snapshot at every grid clip and its native one (regenerate it when
    # a model is added)
    from temporalkit.picker import catalogue

    held = {(r["model"], r["frames"], r["size"]) for r in load_snapshot()["rows"]}
    wanted = {(m, f, s) for m in costs.model_ids() for f in GRID_FRAMES for s in GRID_SIZES}
    wanted |= {(m, *catalogue.entry(m).native) for m in costs.model_ids() if catalogue.entry(m) is not None}
    assert wanted <= held, f"run `python -m temporalkit.picker.cost_snapshot --write`: missing {sorted(wanted - held)}"


def test_snapshot_rows_match_a_fresh_measurement():
    pytest.importorskip("torch")
    from temporalkit.reference_models.cost import measure_cost

    from temporalkit.picker.cost_snapshot import snapshot_cost

    for model_id, frames, size in (("r3d_18", 8, 112), ("framepool_r18", 16, 160), ("mvit_v2_s", 8, 224)):
        measured, shipped = measure_cost(model_id, frames, size), snapshot_cost(model_id, frames, size)
        assert shipped is not None
        assert (shipped.gmacs, shipped.params, shipped.error) == (measured.gmacs, measured.params, measured.error)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TEMPORALKIT_SLOW_TESTS") != "1",
    reason="builds a virtualenv with the core dependencies (about a minute); set TEMPORALKIT_SLOW_TESTS=1",
)
def test_core_install_in_a_virtualenv_without_torch(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("temporalkit-*.whl")
    venv = tmp_path / "core"
    # No --system-site-packages: nothing of the environment running this test is visible in there.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr

    def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["TEMPORALKIT_CACHE_DIR"] = str(tmp_path / "cache")
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, input=stdin)

    probe = "import importlib.util as u; print([m for m in ('torch', 'torchvision', 'av', 'numpy') if u.find_spec(m)])"
    assert run(str(python), "-c", probe).stdout.strip() == "[]"

    temporalkit = str(venv / "bin" / "temporalkit")
    (tmp_path / "sampler.py").write_text(BUGGY)
    audit = run(temporalkit, "audit", "sampler.py")
    assert audit.returncode == 1 and "sampler.py:5:" in audit.stdout and "TK101" in audit.stdout, audit.stderr

    # The spec fixes the clip to one the shipped cost snapshot holds (16 x 224): the search needs no other.
    (tmp_path / "spec.yaml").write_text(
        textwrap.dedent(
            """\
            task: tell pushing left from pushing right
            motion: motion
            train_clips: 20000
            pretraining: kinetics
            frames: 16
            size: 224
            budget_gmacs: 50
            """
        )
    )
    recommended = run(temporalkit, "pick", "recommend", "--spec", "spec.yaml", "--format", "json")
    assert recommended.returncode == 0, recommended.stderr
    (tmp_path / "answer.json").write_text(recommended.stdout)
    validated = run(
        temporalkit, "pick", "validate", "--spec", "spec.yaml", "--answer", "answer.json", "--format", "json"
    )
    assert validated.returncode == 0 and json.loads(validated.stdout)["accepted"] is True, validated.stderr
    wrong = {**json.loads(recommended.stdout), "estimated_gmacs": 1.0}
    rejected = run(temporalkit, "pick", "validate", "--spec", "spec.yaml", "--answer", "-", stdin=json.dumps(wrong))
    assert rejected.returncode == 1 and "invented-cost" in rejected.stdout, rejected.stdout + rejected.stderr
    assert run(temporalkit, "pick", "render", "--spec", "spec.yaml").returncode == 0

    assert run(temporalkit, "skill", "install", "--target", "skills").returncode == 0
    assert (tmp_path / "skills" / "frame-sampler-auditor" / "SKILL.md").is_file()

    check = run(temporalkit, "check", "sampler.py:sample", "--role", "sampler")
    assert check.returncode == 2, check.stdout + check.stderr
    assert check.stderr.strip().splitlines() == [
        "temporalkit check needs torch, torchvision, numpy, av (not installed): pip install 'temporalkit[dynamic]'"
    ]
    for argv, extra in ((("audit", "--dynamic", "sampler.py"), "dynamic"), (("mcp",), "mcp"), (("cost",), "models")):
        needs = run(temporalkit, *argv)
        assert needs.returncode == 2 and needs.stdout == "", argv
        (line,) = needs.stderr.strip().splitlines()
        assert line.endswith(f"pip install 'temporalkit[{extra}]'"), line
