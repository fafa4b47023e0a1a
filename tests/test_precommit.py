"""The pre-commit hook, for real: a scratch git repository, pre-commit, a buggy file and a clean one.

The fast test declares the hook from .pre-commit-hooks.yaml as a `repo: local` hook run with this
interpreter (pre-commit, git and our CLI all real; no virtualenv build). The slow test runs
`pre-commit try-repo <this checkout>`, which builds the hook's own virtualenv by pip-installing
this package's core (no torch; a minute or two on a loaded machine): it runs only with
TEMPORALKIT_SLOW_TESTS=1. benchmarks/bench_footprint.py measures that environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
BUGGY = "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
CLEAN = "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames - 1, T).astype(int)\n"

pytestmark = pytest.mark.skipif(
    not PRE_COMMIT.exists() or shutil.which("git") is None, reason="pre-commit or git not installed"
)


def hook_definition() -> dict:
    (hook,) = [
        h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "temporalkit-audit"
    ]
    return hook


def test_hook_definition_is_static_and_python_only():
    hook = hook_definition()
    assert hook["types"] == ["python"]
    assert hook["entry"].split() == ["temporalkit", "audit"]
    assert "--dynamic" not in hook["entry"] and "--dynamic" not in hook.get("args", [])


def scratch_repo(tmp_path: Path) -> tuple[Path, dict]:
    project = tmp_path / "project"
    project.mkdir()
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        TEMPORALKIT_CACHE_DIR=str(tmp_path / "tk-cache"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
        NO_COLOR="1",
    )
    env.pop("GIT_DIR", None)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, env=env)
    return project, env


def git(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project, env=env, capture_output=True, text=True)


def test_commit_with_a_sampling_bug_is_refused_and_a_clean_one_passes(tmp_path):
    project, env = scratch_repo(tmp_path)
    hook = hook_definition()
    local_hook = {
        "id": hook["id"],
        "name": hook["name"],
        "entry": f"{sys.executable} -m temporalkit audit",
        "language": "system",
        "types": hook["types"],
    }
    (project / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local_hook]}]})
    )
    (project / "README.md").write_text("not python: the hook must not see it\n")
    subprocess.run([str(PRE_COMMIT), "install"], cwd=project, env=env, check=True, capture_output=True)
    git(project, env, "add", ".pre-commit-config.yaml", "README.md")
    assert git(project, env, "commit", "-q", "-m", "config").returncode == 0  # no Python file: hook skipped

    (project / "sampler.py").write_text(BUGGY)
    git(project, env, "add", "sampler.py")
    refused = git(project, env, "commit", "-q", "-m", "buggy sampler")
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "sampler.py:5:" in output and "TK101" in output, output

    (project / "sampler.py").write_text(CLEAN)
    git(project, env, "add", "sampler.py")
    accepted = git(project, env, "commit", "-q", "-m", "fixed sampler")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TEMPORALKIT_SLOW_TESTS") != "1",
    reason="builds the hook's virtualenv (pip install of this checkout); set TEMPORALKIT_SLOW_TESTS=1",
)
def test_try_repo_with_this_checkout(tmp_path):
    project, env = scratch_repo(tmp_path)
    (project / "buggy.py").write_text(BUGGY)
    (project / "clean.py").write_text(CLEAN)
    git(project, env, "add", ".")
    try_repo = [str(PRE_COMMIT), "try-repo", str(REPO), "temporalkit-audit", "--files"]
    failed = subprocess.run([*try_repo, "buggy.py"], cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "TK101" in failed.stdout
    passed = subprocess.run([*try_repo, "clean.py"], cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    assert passed.returncode == 0, passed.stdout + passed.stderr
