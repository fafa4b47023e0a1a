"""Discovery never hangs, never eats memory and never hides the readable files' findings (issue 16),
and anchored .gitignore patterns stay anchored outside git (issue 11, section 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from robust_helpers import GOOD, audit, audit_in_subprocess, write
from temporalkit.validators.config import AuditConfig


def names(result_or_files, root: Path) -> list[str]:
    return sorted(Path(os.path.abspath(p)).relative_to(root).as_posix() for p in result_or_files)


def test_a_fifo_named_py_does_not_hang_the_walk(tmp_path):
    write(tmp_path / "good.py", GOOD)
    os.mkfifo(tmp_path / "pipe.py")
    status, errors, findings, stderr = audit_in_subprocess(tmp_path, timeout=30)
    assert status == 0, stderr[-2000:]
    assert findings == ["good.py"]
    assert list(errors) == ["pipe.py"] and "not a regular file" in errors["pipe.py"]


def test_a_fifo_passed_explicitly_is_a_one_line_error(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    status, errors, _, stderr = audit_in_subprocess(tmp_path, tmp_path / "pipe.py", timeout=30)
    assert status == 0, stderr[-2000:]
    assert list(errors) == ["pipe.py"] and "not a regular file" in errors["pipe.py"]


@pytest.mark.parametrize("in_git", [False, True])
def test_a_symlink_to_dev_zero_is_not_read(tmp_path, in_git):
    if in_git:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / "good.py", GOOD)
    os.symlink("/dev/zero", tmp_path / "zero.py")
    status, errors, findings, stderr = audit_in_subprocess(tmp_path, timeout=30)
    assert status == 0, stderr[-2000:]
    assert findings == ["good.py"]
    assert list(errors) == ["zero.py"] and "not a regular file" in errors["zero.py"]


def test_a_file_above_the_size_cap_is_skipped_with_one_error(tmp_path):
    write(tmp_path / "good.py", GOOD)
    write(tmp_path / "huge.py", "flag_me(1)\n" + "x = 1\n" * 1_000_000)  # 6 MB
    result = audit(tmp_path, tmp_path)
    assert names([f.path for f in result.findings], tmp_path) == ["good.py"]
    (error,) = result.errors
    assert error.path.endswith("huge.py") and "too large" in error.message and "5 MB" in error.message


def test_an_unreadable_directory_outside_git_is_one_error_and_the_rest_is_audited(tmp_path, monkeypatch):
    write(tmp_path / "good.py", GOOD)
    write(tmp_path / "locked" / "secret.py", GOOD)
    write(tmp_path / "open" / "other.py", GOOD)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = audit(tmp_path, tmp_path)
    assert names([f.path for f in result.findings], tmp_path) == ["good.py", "open/other.py"]
    (error,) = result.errors
    assert (
        error.path.endswith("locked")
        and "cannot read directory" in error.message
        and "Permission denied" in error.message
    )


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_directory_for_real(tmp_path):
    write(tmp_path / "good.py", GOOD)
    locked = tmp_path / "locked"
    write(locked / "secret.py", GOOD)
    write(tmp_path / "unreadable.py", GOOD)
    os.chmod(locked, 0)
    os.chmod(tmp_path / "unreadable.py", 0)
    try:
        status, errors, findings, stderr = audit_in_subprocess(tmp_path, timeout=60)
    finally:
        os.chmod(locked, 0o755)
        os.chmod(tmp_path / "unreadable.py", 0o644)
    assert status == 0, stderr[-2000:]
    assert findings == ["good.py"] and set(errors) == {"locked", "unreadable.py"}


def test_anchored_gitignore_pattern_stays_anchored_outside_git(tmp_path):
    # mmaction2's `/data` in .gitignore silently skipped tools/data/ (every folder named data).
    write(tmp_path / ".gitignore", "/data\n/top_only.py\nlogs/\n*.tmp.py\ndocs/*.py\n**/gen/out\n")
    for rel in (
        "data/raw.py",
        "tools/data/build.py",
        "top_only.py",
        "sub/top_only.py",
        "logs/a.py",
        "sub/logs/b.py",
        "x.tmp.py",
        "sub/y.tmp.py",
        "docs/conf.py",
        "docs/api/ref.py",
        "a/gen/out/c.py",
        "gen/out/d.py",
        "keep.py",
    ):
        write(tmp_path / rel, GOOD)
    files, errors = _discover(tmp_path)
    assert errors == []
    assert names(files, tmp_path) == ["docs/api/ref.py", "keep.py", "sub/top_only.py", "tools/data/build.py"]


def test_nested_gitignore_is_relative_to_its_folder(tmp_path):
    write(tmp_path / "pkg" / ".gitignore", "/local.py\ncache/\n")
    for rel in ("local.py", "pkg/local.py", "pkg/deep/local.py", "pkg/cache/x.py", "cache/y.py"):
        write(tmp_path / rel, GOOD)
    files, _ = _discover(tmp_path)
    assert names(files, tmp_path) == ["cache/y.py", "local.py", "pkg/deep/local.py"]


@pytest.mark.parametrize("in_git", [False, True])
def test_a_file_passed_explicitly_is_audited_even_when_ignored(tmp_path, in_git):
    if in_git:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / ".gitignore", "/data\nscratch_*.py\n")
    ignored = [write(tmp_path / "data" / "raw.py", GOOD), write(tmp_path / "scratch_1.py", GOOD)]
    assert _discover(tmp_path)[0] == []
    result = audit(tmp_path, *ignored)
    assert names([f.path for f in result.findings], tmp_path) == ["data/raw.py", "scratch_1.py"]


def test_dynamic_discovery_uses_the_same_walker(tmp_path):
    # Issue 17: one walker; the dynamic auditor now also honours .gitignore and skips FIFOs.
    from temporalkit.validators.dynamic import _python_files

    write(tmp_path / ".gitignore", "/data\n")
    write(tmp_path / "data" / "raw.py", GOOD)
    write(tmp_path / "tools" / "data" / "build.py", GOOD)
    write(tmp_path / "stub.pyi", "x: int\n")
    write(tmp_path / "venv" / "lib" / "site.py", GOOD)
    write(tmp_path / ".tox" / "t.py", GOOD)
    os.mkfifo(tmp_path / "pipe.py")
    files, errors = _python_files([tmp_path])
    assert names(files, tmp_path) == ["tools/data/build.py"]
    assert [Path(e.path).name for e in errors] == ["pipe.py"]


def _discover(root: Path):
    from temporalkit.validators import discovery

    real = discovery._git_files
    discovery._git_files = lambda directory: None  # as outside a git work tree, wherever tmp is
    try:
        return discovery.discover_files([root], AuditConfig(root=root))
    finally:
        discovery._git_files = real
