"""temporalkit.fileio (the one atomic-write helper) and the safety it gives `audit --fix`.

The --fix tests are regressions of issue 16's data-loss list: a file edited while the audit ran
was silently reverted, a symlink was replaced by a regular file (its target left unfixed), a
read-only file was rewritten, and a root run handed fixed files to root.
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import libcst as cst
import pytest
from temporalkit.validators import audit as audit_module
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig
from temporalkit.validators.rule import Rule

from temporalkit.commands import audit as audit_command
from temporalkit.fileio import (
    FileChangedError,
    ForeignOwnerError,
    ReadOnlyFileError,
    atomic_output,
    write_atomic,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def leftovers(directory: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- the helper ----------------------------------------------------------------------------
def test_new_file_gets_the_mode_open_would_give(tmp_path):
    target = tmp_path / "new.txt"
    written = write_atomic(target, "héllo\r\n")
    assert written == target and target.read_bytes() == "héllo\r\n".encode()  # newlines untouched
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~current_umask()
    assert leftovers(tmp_path) == ["new.txt"]


def test_existing_file_keeps_its_mode_and_an_explicit_mode_wins(tmp_path):
    target = tmp_path / "script.py"
    target.write_text("old\n")
    os.chmod(target, 0o754)
    write_atomic(target, b"new\n")
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o754
    write_atomic(target, b"newer\n", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real" / "data.txt"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(Path("real") / "data.txt")
    assert write_atomic(link, "new\n") == real.resolve()
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "data.txt")
    assert real.read_text() == "new\n"
    assert leftovers(real.parent) == ["data.txt"]


def test_read_only_file_is_refused_unless_forced(tmp_path):
    target = tmp_path / "frozen.txt"
    target.write_text("keep me\n")
    os.chmod(target, 0o444)
    with pytest.raises(ReadOnlyFileError):
        write_atomic(target, "overwritten\n")
    assert target.read_text() == "keep me\n" and leftovers(tmp_path) == ["frozen.txt"]
    write_atomic(target, "forced\n", force=True)
    assert target.read_text() == "forced\n" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_expected_bytes_are_checked_right_before_the_replace(tmp_path):
    target = tmp_path / "a.txt"
    target.write_bytes(b"original\n")
    write_atomic(target, "first\n", expected=b"original\n")
    assert target.read_text() == "first\n"
    with pytest.raises(FileChangedError):
        write_atomic(target, "second\n", expected=b"original\n")
    assert target.read_text() == "first\n" and leftovers(tmp_path) == ["a.txt"]
    target.unlink()
    with pytest.raises(FileChangedError):  # deleted meanwhile: not recreated
        write_atomic(target, "third\n", expected=b"first\n")
    assert leftovers(tmp_path) == []


def test_a_change_made_while_the_caller_writes_is_detected(tmp_path):
    target = tmp_path / "a.txt"
    target.write_bytes(b"v1\n")
    with pytest.raises(FileChangedError):
        with atomic_output(target, expected=b"v1\n") as temporary:
            temporary.write_bytes(b"fixed\n")
            target.write_bytes(b"v2 saved by an editor\n")
    assert target.read_bytes() == b"v2 saved by an editor\n" and leftovers(tmp_path) == ["a.txt"]


@pytest.mark.skipif(not IS_ROOT, reason="changing a file's owner needs root")
def test_owner_and_group_kept_when_running_as_root(tmp_path):
    target = tmp_path / "owned.txt"
    target.write_text("old\n")
    os.chown(target, 4321, 8765)
    write_atomic(target, "new\n")
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 8765)


def test_file_of_another_user_is_refused_when_not_root(tmp_path, monkeypatch):
    target = tmp_path / "theirs.txt"
    target.write_text("theirs\n")
    monkeypatch.setattr(os, "geteuid", lambda: target.stat().st_uid + 1, raising=False)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    with pytest.raises(ForeignOwnerError):
        write_atomic(target, "mine\n")
    assert target.read_text() == "theirs\n"


def test_atomic_output_keeps_the_suffix_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    seen = []
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            seen.append(temporary)
            temporary.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert seen[0].suffix == ".png" and seen[0].parent == tmp_path and seen[0].name.startswith(".plot.png.")
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == ["plot.png"]


def test_failed_replace_leaves_target_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old\n")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n" and leftovers(tmp_path) == ["a.txt"]


def test_every_former_copy_calls_the_helper():
    """Issue 17: one home for atomic writes. No module hand-rolls temp file + os.replace again."""
    repo = Path(__file__).resolve().parents[1]
    writers = [
        "validators/audit.py",
        "validators/cache.py",
        "temporalkit/render.py",
        "validators/dynamic/probes.py",
        "reference_models/training.py",
        "reference_models/cost.py",
        "reference_models/motion_compare.py",
    ]
    for name in writers:
        source = (repo / name).read_text()
        assert "os.replace(" not in source and "mkstemp(" not in source, name
        assert "temporalkit.fileio import" in source, name


def test_fileio_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, temporalkit.fileio\n"
        "bad = [m for m in ('torch', 'libcst', 'numpy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


# -- audit --fix ---------------------------------------------------------------------------
class FixStopRule(Rule):
    """Test rule: `fake_linspace(0, n, T)` -> `fake_linspace(0, n - 1, T)`."""

    ID = "TK900"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "fake stop is a frame count"
    FIX = "use n - 1"
    TRIGGERS = ("fake_linspace",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "fake_linspace" and len(node.args) == 3:
            stop = node.args[1]
            if isinstance(stop.value, cst.Name):
                new_stop = stop.with_changes(value=cst.BinaryOperation(stop.value, cst.Subtract(), cst.Integer("1")))
                self.report(node, replacement=node.with_changes(args=[node.args[0], new_stop, node.args[2]]))


BUGGY = "def sample(n, T):\n    return fake_linspace(0, n, T)\n"
FIXED = "def sample(n, T):\n    return fake_linspace(0, n - 1, T)\n"
# Fixed by the real rule TK101 (linspace stop is a frame count), for the command-level test.
REAL_BUGGY = "import numpy as np\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"


def fix(tmp_path: Path, *paths: Path):
    return audit_paths(
        [str(p) for p in paths], rules=(FixStopRule,), config=AuditConfig(root=tmp_path), fix=True, cache=False
    )


def test_fix_skips_a_file_edited_while_the_audit_ran(tmp_path, monkeypatch):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    edited = BUGGY + "# saved by the user during the audit\n"
    real_run_work = audit_module._run_work

    def run_work_then_user_saves(*args, **kwargs):
        results = real_run_work(*args, **kwargs)
        path.write_text(edited)  # the editor saves while the fixes are being computed
        return results

    monkeypatch.setattr(audit_module, "_run_work", run_work_then_user_saves)
    result = fix(tmp_path, path)
    assert path.read_text() == edited  # the user's edit is not reverted
    assert result.fixed_files == []
    (error,) = result.errors
    assert error.path.endswith("sampler.py") and "changed while auditing" in error.message
    assert "\n" not in error.message
    assert leftovers(tmp_path) == ["sampler.py"]


def test_fix_through_a_symlink_fixes_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "src" / "sampler.py"
    real.parent.mkdir()
    real.write_text(BUGGY)
    project = tmp_path / "project"
    project.mkdir()
    link = project / "sampler.py"
    link.symlink_to(real)
    result = fix(project, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == FIXED
    assert len(result.fixed_files) == 1 and result.errors == []


def test_fix_of_a_file_and_a_symlink_to_it_in_the_same_tree(tmp_path):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    (tmp_path / "alias.py").symlink_to("sampler.py")
    result = fix(tmp_path, tmp_path)
    assert path.read_text() == FIXED and (tmp_path / "alias.py").is_symlink()
    assert result.errors == [] and len(result.fixed_files) == 2


def test_fix_refuses_a_read_only_file(tmp_path):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    os.chmod(path, 0o444)
    result = fix(tmp_path, path)
    assert path.read_text() == BUGGY and stat.S_IMODE(path.stat().st_mode) == 0o444
    (error,) = result.errors
    assert "read-only" in error.message and result.fixed_files == [] and len(result.findings) == 1


def test_fix_command_reports_a_read_only_file_in_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "real_sampler.py"
    path.write_text(REAL_BUGGY)
    os.chmod(path, 0o444)
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    audit_command.add_arguments(parser)
    assert audit_command.run(parser.parse_args(["real_sampler.py", "--fix", "--no-cache"])) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "read-only" in line]
    assert len(lines) == 1 and lines[0].startswith("real_sampler.py") and "[file error]" in lines[0]
    assert path.read_text() == REAL_BUGGY


@pytest.mark.skipif(not IS_ROOT, reason="changing a file's owner needs root")
def test_fix_as_root_keeps_owner_and_mode(tmp_path):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    os.chown(path, 4321, 8765)
    os.chmod(path, 0o664)
    result = fix(tmp_path, path)
    assert path.read_text() == FIXED and len(result.fixed_files) == 1
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 8765, 0o664)
