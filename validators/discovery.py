"""Which files to audit: one walker for the static auditor and the dynamic one.

    files, errors = discover_files(["src/", "tools/run.py"], config)

A directory inside a git work tree is listed by git (tracked and untracked-but-not-ignored
files); outside git it is walked, skipping hidden folders, virtual environments, caches and
what the `.gitignore` files on the way ignore (anchored patterns stay anchored: `/data` is only
the top-level `data`). A file named explicitly is audited even when ignored.

Only regular files of at most MAX_FILE_BYTES are returned: a FIFO or a device named `*.py`
(or a symlink to one) would hang or exhaust the reader. Such a file, an unreadable directory
and a file above the size cap each become a one-line `FileError`, and the walk goes on.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from temporalkit.validators.findings import FileError

if TYPE_CHECKING:
    from temporalkit.validators.config import AuditConfig

PYTHON_SUFFIXES = (".py", ".pyi")
MAX_FILE_BYTES = 5 * 1024 * 1024
# Besides hidden folders (".git", ".venv", ".tox"...) and any folder holding a pyvenv.cfg.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist", "venv"})


def display_path(path: Path | str) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    return Path(absolute).as_posix() if relative.startswith("..") else Path(relative).as_posix()


def is_python_file(path: Path, suffixes: Sequence[str] = PYTHON_SUFFIXES) -> bool:
    """A name ending in one of `suffixes`, or an extensionless regular file with a python shebang."""
    if path.suffix in suffixes:
        return True
    if path.suffix:
        return False
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO or a device
            return False
        with open(path, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def discover_files(
    paths: Sequence[str | os.PathLike],
    config: "AuditConfig | None" = None,
    *,
    suffixes: Sequence[str] = PYTHON_SUFFIXES,
) -> tuple[list[Path], list[FileError]]:
    """Files to audit under `paths` (sorted, each once) and one error per path that cannot be used.

    Directories contribute the files whose name ends in one of `suffixes`; a file given
    explicitly is used when its suffix is one of them or it has a python shebang.
    `config.exclude` applies to both.
    """
    found: dict[str, Path] = {}
    errors: list[FileError] = []

    def consider(candidate: Path, explicit: bool) -> None:
        if config is not None and config.is_excluded(candidate):
            return
        problem = _not_auditable(candidate)
        if problem is _GONE:
            if explicit:
                errors.append(FileError(display_path(candidate), "no such file or directory"))
            return  # listed by git but deleted, or a dangling symlink in a walked tree
        if problem:
            errors.append(FileError(display_path(candidate), problem))
            return
        found.setdefault(os.path.abspath(candidate), candidate)

    for raw in paths:
        path = Path(raw)
        try:
            is_dir = path.is_dir()
        except OSError as exc:
            errors.append(FileError(display_path(path), f"cannot read: {exc.strerror or exc}"))
            continue
        if is_dir:
            candidates = _git_files(path)
            if candidates is None:
                candidates = _walk(path, errors)
            for candidate in candidates:
                if candidate.suffix in suffixes:
                    consider(candidate, explicit=False)
        elif not os.path.lexists(path):
            errors.append(FileError(display_path(path), "no such file or directory"))
        elif not os.path.exists(path):
            errors.append(FileError(display_path(path), "broken symbolic link; skipped"))
        elif not path.is_file():
            errors.append(FileError(display_path(path), "not a regular file or directory; skipped"))
        elif is_python_file(path, suffixes):
            consider(path, explicit=True)
    # A walk error can name a folder twice (two overlapping paths given): say it once.
    unique_errors = list(dict.fromkeys(errors))
    return [found[k] for k in sorted(found)], unique_errors


_GONE = "gone"


def _not_auditable(path: Path) -> str | None:
    """Why `path` cannot be read as a source file (one line), _GONE when it does not exist, else None."""
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except FileNotFoundError:
        return _GONE
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a FIFO, device, socket or folder); skipped"
    if info.st_size > MAX_FILE_BYTES:
        return (
            f"file too large to audit ({info.st_size / 1e6:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB); skipped"
        )
    return None


def _git_files(directory: Path) -> list[Path] | None:
    """Tracked and untracked-but-not-ignored files under `directory`; None when not in a git work tree."""
    import subprocess  # here, not at the top: a one-file run (pre-commit) never needs it

    try:
        completed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "."],
            cwd=directory,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    names = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
    # Deleted-but-still-tracked files are listed too: discover_files drops what does not exist.
    return [directory / n for n in names if n]


def _walk(top: Path, errors: list[FileError]) -> list[Path]:
    """Outside git: skip hidden dirs, virtual environments, caches and .gitignore'd names.

    A directory that cannot be listed is one error in `errors`; the walk goes on.
    """
    files: list[Path] = []
    ignore_stack: list[tuple[Path, list[_Pattern]]] = []

    def on_error(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else top
        errors.append(FileError(display_path(where), f"cannot read directory: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error):
        directory = Path(dirpath)
        ignore_stack = [(d, p) for d, p in ignore_stack if directory == d or d in directory.parents]
        patterns = _read_gitignore(directory / ".gitignore")
        if patterns:
            ignore_stack.append((directory, patterns))

        def ignored(name: str, is_dir: bool) -> bool:
            full = directory / name
            for base, base_patterns in ignore_stack:
                rel = full.relative_to(base).as_posix()
                for pattern in base_patterns:
                    if pattern.matches(rel, is_dir):
                        return True
            return False

        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))  # False, not an error, if unreadable
            and not ignored(d, True)
        )
        files.extend(directory / f for f in sorted(filenames) if not ignored(f, False))
    return files


class _Pattern:
    """One .gitignore line, matched as git does for the paths a walk meets (relative to its .gitignore).

    A pattern with a slash at the start or in the middle is anchored to the .gitignore's folder;
    one without matches a name at any depth; a trailing slash matches folders only. `*` and `?`
    do not cross `/`; `**/`, `/**/` and a trailing `/**` span folders.
    """

    __slots__ = ("dir_only", "regex")

    def __init__(self, line: str) -> None:
        self.dir_only = line.endswith("/")
        body = line.rstrip("/")
        anchored = "/" in body
        body = body.lstrip("/")
        core = _glob_to_regex(body)
        self.regex = re.compile(core if anchored else r"(?:.*/)?" + core)

    def matches(self, relative_path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        return self.regex.fullmatch(relative_path) is not None


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        if glob.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(r".*")
            i += 2
        elif glob[i] == "*":
            out.append(r"[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append(r"[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            content = glob[i + 1 : end]
            if content.startswith("!"):
                content = "^" + content[1:]
            out.append("[" + content.replace("\\", "\\\\") + "]")
            i = end + 1
        elif glob[i] == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def _read_gitignore(path: Path) -> list[_Pattern]:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:  # a FIFO would hang the walk
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    # Negations (!pattern) are rare in source trees and are not supported: they are skipped.
    patterns = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "!")) and line != "/":
            try:
                patterns.append(_Pattern(line))
            except re.error:
                continue
    return patterns
