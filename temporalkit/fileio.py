"""Atomic file writes: the one helper every writer in temporalkit uses (audit --fix, the cache,
`render`, probe files, checkpoints, cost and motion tables).

    from temporalkit.fileio import write_atomic, atomic_output

    write_atomic(path, text)                          # str (UTF-8) or bytes
    write_atomic(path, fixed, expected=original)      # --fix: skip if the file changed meanwhile
    with atomic_output(path) as temporary:            # for writers that want a path
        torch.save(checkpoint, temporary)

What a write guarantees:
- Readers see the old file or the new one, never half of one: the data goes to a temporary file
  in the target's own directory, is fsync'ed, and replaces the target with `os.replace`. On any
  failure (or Ctrl-C) the temporary file is removed and the target is left as it was.
- A symlink is followed: the file it points to is replaced and the link stays a link.
- An existing file keeps its permission bits and, when running as root, its owner and group
  (as another user, a group we belong to is kept too).
- A read-only file (no write bit, or not writable by us) is refused with `ReadOnlyFileError`, and
  a file owned by another user (which a replace would hand to us) with `ForeignOwnerError`,
  unless `force=True`.
- `expected`: the bytes the caller's new content was computed from. The target is read again just
  before the replace; if it differs (an editor saved it meanwhile, or it was deleted), nothing is
  written and `FileChangedError` is raised.
- A new file gets the mode `open()` would give it (0o666 less the umask) unless `mode` is given;
  `mode` always wins, for new and existing files.

Not kept: hard links (the other names keep the old content), extended attributes and ACLs.
Importing this module is cheap (no torch, no libcst).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "FileChangedError",
    "ForeignOwnerError",
    "ReadOnlyFileError",
    "atomic_output",
    "write_atomic",
]


class FileChangedError(OSError):
    """The target's bytes are no longer the `expected` ones: somebody changed it meanwhile."""


class ReadOnlyFileError(PermissionError):
    """The target is read-only; it is not replaced unless forced."""


class ForeignOwnerError(PermissionError):
    """The target belongs to another user, and replacing it would make it ours."""


def write_atomic(
    path: str | os.PathLike,
    data: str | bytes,
    *,
    expected: bytes | None = None,
    force: bool = False,
    mode: int | None = None,
    fsync: bool = True,
) -> Path:
    """Replace `path` with `data` (str is written as UTF-8, newlines untouched). Returns the path
    actually written (the symlink's target when `path` is a link). Raises OSError (including
    the three errors of this module) and leaves the target untouched on failure."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with atomic_output(path, expected=expected, force=force, mode=mode, fsync=fsync) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(payload)
    return resolve_target(path)


@contextmanager
def atomic_output(
    path: str | os.PathLike,
    *,
    expected: bytes | None = None,
    force: bool = False,
    mode: int | None = None,
    fsync: bool = True,
) -> Iterator[Path]:
    """Yield a temporary path next to `path` (same suffix, so writers that pick a format from the
    name still work); when the block ends normally it replaces `path` as `write_atomic` does.
    When the block raises, the temporary file is removed and `path` is left as it was."""
    target = resolve_target(path)
    existing = _stat_or_none(target)
    if existing is not None:
        _check_replaceable(target, existing, force)
    temporary = _create_temporary(target)
    try:
        yield temporary
        _finish(temporary, target, existing, expected=expected, mode=mode, fsync=fsync)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` should replace: symlinks followed (to where they point, even
    when that does not exist yet), so the link itself stays a link."""
    path = Path(path)
    if not os.path.islink(path):
        return path
    return Path(os.path.realpath(path))


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _check_replaceable(target: Path, existing: os.stat_result, force: bool) -> None:
    if not stat.S_ISREG(existing.st_mode):
        raise OSError(22, "not a regular file", str(target))
    if force:
        return
    # Root may write anything (os.access says yes), so the mode's write bits are checked too.
    if not existing.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise ReadOnlyFileError(13, "file is read-only", str(target))
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid not in (None, 0) and existing.st_uid != euid:
        raise ForeignOwnerError(1, "file belongs to another user (replacing it would change its owner)", str(target))


def _create_temporary(target: Path) -> Path:
    """An empty new file in the target's directory, created with 0o666 less the umask (the mode a
    plain open() gives), named `.<name>.<random>.tmp<suffix>`."""
    stem = target.name[:80]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = target.parent / f".{stem}.{os.urandom(4).hex()}.tmp{target.suffix}"
        try:
            fd = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temporary
    raise FileExistsError(17, "could not create a temporary file", str(target.parent))


def _finish(
    temporary: Path,
    target: Path,
    existing: os.stat_result | None,
    *,
    expected: bytes | None,
    mode: int | None,
    fsync: bool,
) -> None:
    if fsync:
        fd = os.open(temporary, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    if existing is not None:
        _keep_owner(temporary, existing)
    if mode is not None:
        os.chmod(temporary, mode)
    elif existing is not None:
        os.chmod(temporary, stat.S_IMODE(existing.st_mode))  # after chown, which clears set-id bits
    if expected is not None:
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            current = None
        if current != expected:
            raise FileChangedError(16, "file changed since it was read; not written", str(target))
    os.replace(temporary, target)
    if fsync:
        _fsync_directory(target.parent)


def _keep_owner(temporary: Path, existing: os.stat_result) -> None:
    if not hasattr(os, "chown"):
        return
    created = os.stat(temporary)
    if (created.st_uid, created.st_gid) == (existing.st_uid, existing.st_gid):
        return
    if os.geteuid() == 0:
        os.chown(temporary, existing.st_uid, existing.st_gid)
        return
    try:  # not root: keeping the group works when we belong to it
        os.chown(temporary, -1, existing.st_gid)
    except OSError:
        pass


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the data itself is already synced
    finally:
        os.close(fd)
