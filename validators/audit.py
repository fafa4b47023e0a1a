"""The static audit driver: find Python files, run the rules, cache, fix.

    from temporalkit.validators.audit import audit_paths
    result = audit_paths(["src/"], select=["TK1"], fix=False)
    for finding in result.findings: ...
    for error in result.errors: ...          # files that could not be read or parsed

The costly parts are avoided where they cannot matter, in this order:
1. a file whose content hash is in the cache is not read further (not even decoded);
2. a file whose text contains none of a rule's TRIGGERS is not parsed; when no file needs
   parsing, libcst and the rules are not even imported (the rule index comes from the cache);
3. files that do need parsing and metadata are spread over processes when there are many.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from temporalkit.validators.cache import ResultCache, content_key, default_cache_dir
from temporalkit.validators.config import AuditConfig, glob_matches, load_config, read_config, selector_matches
from temporalkit.validators.findings import FileError, Finding

if TYPE_CHECKING:
    from temporalkit.validators.rule import Rule

PYTHON_SUFFIXES = (".py", ".pyi")
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)  # path -> unified diff of its fixes
    fixed_files: list[str] = field(default_factory=list)
    files_audited: int = 0
    fail_on: str = "warning"

    def failing_findings(self) -> list[Finding]:
        if self.fail_on == "error":
            return [f for f in self.findings if f.severity == "error"]
        return list(self.findings)

    @property
    def exit_code(self) -> int:
        """0 nothing at or above the threshold, 1 findings (or files that could not be audited)."""
        return 1 if self.failing_findings() or self.errors else 0


@dataclass(frozen=True)
class _Work:
    display_path: str
    path: str
    text: str
    bom: bool
    rule_ids: tuple[str, ...]
    fix: bool  # compute the fixed text (for --fix or --diff)


def audit_paths(
    paths: Iterable[str | os.PathLike] = (".",),
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    fix: bool = False,
    diff: bool = False,
    config: AuditConfig | str | os.PathLike | None = None,
    jobs: int | None = None,
    cache: bool = True,
    rules: Sequence[type["Rule"]] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> AuditResult:
    """Audit Python files under `paths` with the static rules.

    select / ignore: rule ids, id prefixes (`TK1`) or categories; `select` replaces the config's
    list, `ignore` adds to it. fix: write the safe mechanical fixes (atomically). diff: compute
    the fixes' unified diffs without writing. config: an `AuditConfig`, a pyproject.toml path,
    or None for the nearest pyproject.toml. jobs: worker processes (None: all cores, used only
    when many files need parsing). rules: override the rule registry (tests, plugins).
    """
    paths = [Path(p) for p in paths] or [Path(".")]
    if config is None:
        config = load_config(paths[0])
    elif not isinstance(config, AuditConfig):
        config = read_config(Path(config))
    result = AuditResult(fail_on=config.fail_on)

    files, result.errors = discover_files(paths, config)
    result.files_audited = len(files)

    # With cache=False nothing is written (no cache folder is created); the rule index (ids,
    # categories, triggers), keyed by the rules' source hash, is still read when present: it only
    # spares importing libcst, it never changes a result.
    cache_store = ResultCache(Path(cache_dir) if cache_dir else default_cache_dir(config.root), writable=cache)
    index = _rule_index(rules, cache_store)
    store = cache_store if cache else None
    wanted_select = tuple(select) if select else config.select
    wanted_ignore = tuple(config.ignore) + tuple(ignore or ())
    active = [rid for rid, info in index.items() if _is_active(rid, info["category"], wanted_select, wanted_ignore)]

    work: list[_Work] = []
    work_keys: dict[str, str] = {}
    for path in files:
        display = display_path(path)
        file_ignores = config.ignored_for(path)
        rule_ids = tuple(
            rid for rid in active if not any(selector_matches(s, rid, index[rid]["category"]) for s in file_ignores)
        )
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.errors.append(FileError(display, f"cannot read file: {exc.strerror or exc}"))
            continue
        key = content_key(data, rule_ids)
        cached = store.get(key) if store is not None else None
        if cached is not None and (not (fix or diff) or not cached["findings"]):
            _collect_cached(result, display, cached)
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8 or exclude it"
            result.errors.append(FileError(display, message))
            if store is not None:
                store.put(key, [], message)
            continue
        bom = text.startswith("\ufeff")
        if bom:
            text = text[1:]
        triggered = _triggered_rules(rule_ids, index, text)
        if not triggered:
            # No rule can match, so no libcst parse; the builtin parser still reports broken files.
            error = _builtin_syntax_error(text)
            if error:
                result.errors.append(FileError(display, error))
            if store is not None:
                store.put(key, [], error)
            continue
        work.append(_Work(display, str(path), text, bom, triggered, fix or diff))
        work_keys[display] = key

    if work:
        rule_classes = _load_rule_classes(rules)
        for item, (new_text, before, after, error) in zip(work, _run_work(work, rule_classes, jobs)):
            if error is not None:
                result.errors.append(FileError(item.display_path, error))
                if store is not None:
                    store.put(work_keys[item.display_path], [], error)
                continue
            changed = new_text is not None and new_text != item.text
            if store is not None:
                store.put(work_keys[item.display_path], before)  # findings of the content as read
            if changed and diff:
                result.diffs[item.display_path] = unified_diff(item.text, new_text, item.display_path)
            if changed and fix:
                original = (("\ufeff" if item.bom else "") + item.text).encode("utf-8")  # the bytes read
                write_error = write_atomic(Path(item.path), ("\ufeff" if item.bom else "") + new_text, expected=original)
                if write_error:
                    result.errors.append(FileError(item.display_path, write_error))
                    result.findings.extend(_with_path(before, item.display_path))
                    continue
                result.fixed_files.append(item.display_path)
                result.findings.extend(_with_path(after, item.display_path))
            else:
                result.findings.extend(_with_path(before, item.display_path))
    if store is not None:
        store.save()

    result.findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
    result.errors.sort(key=lambda e: e.path)
    return result


def _collect_cached(result: AuditResult, display: str, cached: dict) -> None:
    if cached.get("error"):
        result.errors.append(FileError(display, cached["error"]))
    result.findings.extend(_with_path(cached["findings"], display))


def _with_path(findings: list[dict], path: str) -> list[Finding]:
    return [Finding(path=path, **{k: v for k, v in f.items() if k != "path"}) for f in findings]


def _triggers_of(rule: type["Rule"]) -> list[str]:
    return list(rule.TRIGGERS)


# Comments and string literals, in one left-to-right scan so that a '#' inside a string or a
# quote inside a comment is read correctly.
_COMMENT_OR_STRING = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|#[^\n]*'
)


def code_only(text: str) -> str:
    """`text` with comments and string literals blanked out (line structure kept approximately)."""
    return _COMMENT_OR_STRING.sub(" ", text)


def _triggered_rules(rule_ids: Sequence[str], index: dict[str, dict], text: str) -> tuple[str, ...]:
    """Rules whose TRIGGERS occur in the file's code.

    A trigger is looked for in the code with comments and string literals blanked out, so that
    `//` in a URL or `{` in an f-string does not send a file to the parser; a trigger that itself
    contains a quote (`"'Resize'"`) is about string content and is looked for in the raw text.
    Rules without triggers always run.
    """
    raw_hits = [rid for rid in rule_ids if not index[rid]["triggers"] or any(t in text for t in index[rid]["triggers"])]
    if not raw_hits:
        return ()
    code = None
    hits = []
    for rid in raw_hits:
        triggers = index[rid]["triggers"]
        if not triggers:
            hits.append(rid)
            continue
        for trigger in triggers:
            if "'" in trigger or '"' in trigger:
                found = trigger in text
            else:
                if code is None:
                    code = code_only(text)
                found = trigger in code
            if found:
                hits.append(rid)
                break
    return tuple(hits)


def _is_active(rule_id: str, category: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    if select and not any(selector_matches(s, rule_id, category) for s in select):
        return False
    return not any(selector_matches(s, rule_id, category) for s in ignore)


def _rule_index(rules: Sequence[type["Rule"]] | None, store: ResultCache | None) -> dict[str, dict]:
    """id -> {category, severity, triggers}; from the cache when possible, so libcst stays unimported."""
    if rules is None and store is not None:
        index = store.load_rule_index()
        if index is not None:
            return index
    classes = _load_rule_classes(rules)
    index = {r.ID: {"category": r.CATEGORY, "severity": r.SEVERITY, "triggers": _triggers_of(r)} for r in classes}
    if rules is None and store is not None:
        store.save_rule_index(index)
    return index


def _load_rule_classes(rules: Sequence[type["Rule"]] | None) -> tuple[type["Rule"], ...]:
    if rules is not None:
        return tuple(rules)
    from temporalkit.validators.rules import all_rules

    return all_rules()


# -- the work that needs libcst ---------------------------------------------------------
def _analyse(item: _Work, rule_classes: tuple[type["Rule"], ...]):
    """(fixed text or None, findings before and after fixing as dicts without path, error or None)."""
    import libcst as cst

    from temporalkit.validators.engine import lint_and_fix

    rules = [r for r in rule_classes if r.ID in item.rule_ids]
    try:
        new_text, before, after = lint_and_fix(item.text, item.display_path, rules, fix=item.fix)
    except cst.ParserSyntaxError as exc:
        return None, [], [], f"cannot parse: {_syntax_error_line(exc)}"
    except RecursionError:
        return None, [], [], "cannot parse: nesting too deep for the parser"
    except Exception as exc:  # one broken rule or odd file must not stop the run
        return None, [], [], f"internal error while auditing ({type(exc).__name__}: {exc}); please report it"
    return (new_text if item.fix else None), _as_dicts(before), _as_dicts(after), None


def _as_dicts(findings: list[Finding]) -> list[dict]:
    dicts = []
    for f in findings:
        d = f.to_dict()
        d.pop("path")
        d["end_line"], d["end_column"] = f.end_line, f.end_column
        dicts.append(d)
    return dicts


def _builtin_syntax_error(text: str) -> str | None:
    try:
        compile(text, "<audit>", "exec", 0x400, dont_inherit=True)  # 0x400: ast.PyCF_ONLY_AST
    except SyntaxError as exc:
        where = f" near line {exc.lineno}, column {exc.offset}" if exc.lineno and exc.offset else ""
        return f"cannot parse: syntax error{where} ({exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return f"cannot parse: {exc}"
    return None


def _syntax_error_line(exc: Exception) -> str:
    message = (getattr(exc, "message", None) or str(exc).splitlines()[0]).strip()
    message = message.removeprefix("parser error: ")
    line, column = getattr(exc, "raw_line", None), getattr(exc, "raw_column", None)
    where = f" near line {line}, column {column + 1}" if line is not None and column is not None else ""
    return f"syntax error{where} ({message})"


def _analyse_chunk(items: list[_Work], rule_classes: tuple[type["Rule"], ...]):
    return [_analyse(item, rule_classes) for item in items]


def _run_work(work: list[_Work], rule_classes: tuple[type["Rule"], ...], jobs: int | None):
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    workers = min(workers, len(work) // (PARALLEL_THRESHOLD // 2) or 1)
    if workers <= 1 or len(work) < PARALLEL_THRESHOLD:
        return [_analyse(item, rule_classes) for item in work]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers inherit the already imported libcst and rules instead of importing them again.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Interleaved chunks: big and small files spread evenly without per-file round trips.
    chunks = [work[i::workers * 4] for i in range(workers * 4)]
    order = [i for c in range(workers * 4) for i in range(c, len(work), workers * 4)]
    results: list = [None] * len(work)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        chunk_results = pool.map(_analyse_chunk, chunks, [rule_classes] * len(chunks))
        flat = [r for chunk in chunk_results for r in chunk]
    for position, value in zip(order, flat):
        results[position] = value
    return results


# -- files ------------------------------------------------------------------------------
def display_path(path: Path) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    return Path(absolute).as_posix() if relative.startswith("..") else Path(relative).as_posix()


def is_python_file(path: Path) -> bool:
    if path.suffix in PYTHON_SUFFIXES:
        return True
    if path.suffix:
        return False
    try:
        with open(path, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def discover_files(paths: Sequence[Path], config: AuditConfig) -> tuple[list[Path], list[FileError]]:
    """Python files under `paths` (files as given, directories walked respecting .gitignore)."""
    found: dict[str, Path] = {}
    errors: list[FileError] = []
    for path in paths:
        if path.is_dir():
            candidates = _git_files(path)
            if candidates is None:
                candidates = _walk(path)
            for candidate in candidates:
                if candidate.suffix in PYTHON_SUFFIXES and not config.is_excluded(candidate):
                    found.setdefault(os.path.abspath(candidate), candidate)
        elif path.is_file():
            if is_python_file(path) and not config.is_excluded(path):
                found.setdefault(os.path.abspath(path), path)
        elif os.path.lexists(path):
            errors.append(FileError(display_path(path), "not a regular file or directory; skipped"))
        else:
            errors.append(FileError(display_path(path), "no such file or directory"))
    return [found[k] for k in sorted(found)], errors


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
    # Deleted-but-still-tracked files are listed too: keep what exists.
    return [p for p in (directory / n for n in names if n) if p.is_file()]


def _walk(top: Path) -> list[Path]:
    """Outside git: skip hidden dirs, virtual environments, caches and .gitignore'd names."""
    files: list[Path] = []
    ignore_stack: list[tuple[Path, list[str]]] = []
    for dirpath, dirnames, filenames in os.walk(top):
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
                    if pattern.endswith("/") and not is_dir:
                        continue
                    if glob_matches(rel, pattern.lstrip("/") if "/" in pattern.rstrip("/") else pattern.rstrip("/")):
                        return True
            return False

        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not (directory / d / "pyvenv.cfg").exists()
            and not ignored(d, True)
        )
        files.extend(directory / f for f in sorted(filenames) if not ignored(f, False))
    return files


def _read_gitignore(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    # Negations (!pattern) are rare in source trees and are not supported: they are skipped.
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "!"))]


# -- writing ------------------------------------------------------------------------------
def write_atomic(path: Path, text: str, *, expected: bytes | None = None, force: bool = False) -> str | None:
    """Write a fix into `path` (see temporalkit.fileio.write_atomic: atomic, mode and owner kept,
    symlinks followed). `expected`: the bytes the fix was computed from; if the file no longer
    holds them (edited while the audit ran), nothing is written. Returns a one-line error or None."""
    from temporalkit.fileio import FileChangedError, ForeignOwnerError, ReadOnlyFileError
    from temporalkit.fileio import write_atomic as write_file

    try:
        write_file(path, text, expected=expected, force=force)
    except FileChangedError:
        try:
            if path.read_bytes() == text.encode("utf-8"):
                return None  # it already holds this fix (the same file reached by a symlink too)
        except OSError:
            pass
        return "changed while auditing; fix not written (run again to fix the new content)"
    except ReadOnlyFileError:
        return "file is read-only; fix not written (make it writable to fix it)"
    except ForeignOwnerError:
        return "file belongs to another user; fix not written (replacing it would change its owner)"
    except OSError as exc:
        return f"cannot write the fix: {exc.strerror or exc}; file left unchanged"
    return None


def unified_diff(before: str, after: str, path: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
