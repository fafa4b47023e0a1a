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

import gc
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from temporalkit.validators.cache import ResultCache, content_key, default_cache_dir
from temporalkit.validators.config import (
    AuditConfig,
    ConfigError,
    check_selectors,
    load_config,
    read_config,
    selector_matches,
    selects_opt_in,
)

# Discovery lives in validators/discovery.py (one walker for the static and dynamic auditors).
from temporalkit.validators.discovery import MAX_FILE_BYTES, discover_files, display_path, is_python_file  # noqa: F401
from temporalkit.validators.findings import CATEGORIES, META_CATEGORIES, FileError, Finding
from temporalkit.validators.suppressions import UNKNOWN_SUPPRESSION, unknown_suppressions
from temporalkit.validators.triggers import SourceText, matches

if TYPE_CHECKING:
    from temporalkit.validators.rule import Rule

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)  # path -> unified diff of its fixes
    fixed_files: list[str] = field(default_factory=list)
    files_audited: int = 0
    fail_on: str = "warning"
    # Findings in code nothing in the audited tree uses, not reported (validators/unused.py).
    unused: list[Finding] = field(default_factory=list)
    # TK191 findings in a project none of whose code makes RGB frames (validators/conventions.py).
    bgr_project: list[Finding] = field(default_factory=list)

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
    after: bool = True  # and the findings left in it (--fix reports them, --diff does not)
    before: bool = True  # the findings in the text as read even when a fix applies (for the cache, --diff)


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
    include_unused: bool | None = None,
) -> AuditResult:
    """Audit Python files under `paths` with the static rules.

    select / ignore: rule ids, id prefixes (`TK1`) or categories; `select` replaces the config's
    list, `ignore` adds to it. fix: write the safe mechanical fixes (atomically). diff: compute
    the fixes' unified diffs without writing. config: an `AuditConfig`, a pyproject.toml path,
    or None for the nearest pyproject.toml. jobs: worker processes (None: all cores, used only
    when many files need parsing). rules: override the rule registry (tests, plugins).
    include_unused: also report findings in code nothing in the audited tree uses (None: the
    config's `include-unused`); they are held back only when every path is a directory.
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
    # The dynamic checks' ids (TK5xx-TK7xx) are valid selectors too; their registry is imported only
    # when a selector or a suppression comment is not a static id (the pre-commit path stays lean).
    known_ids, categories = known_selectors(index, dynamic=False)
    try:
        check_config_selectors(config, known_ids, categories, select=select, ignore=ignore)
    except ConfigError:
        known_ids, categories = known_selectors(index)
        check_config_selectors(config, known_ids, categories, select=select, ignore=ignore)
    all_ids: list[str] = []  # every id, dynamic ones included, once a suppression comment needs it
    wanted_select = tuple(select) if select else config.select
    wanted_ignore = tuple(config.ignore) + tuple(ignore or ())
    active = [
        rid
        for rid, info in index.items()
        if _is_active(rid, info["category"], wanted_select, wanted_ignore, opt_in=info["opt_in"])
    ]
    meta_id, meta_category = UNKNOWN_SUPPRESSION["id"], UNKNOWN_SUPPRESSION["category"]
    check_comments = _is_active(meta_id, meta_category, wanted_select, wanted_ignore)

    work: list[_Work] = []
    work_keys: dict[str, str] = {}
    read: list[tuple[str, Path, str]] = []  # every file read: display path, path, content hash
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
        if (
            check_comments
            and b"temporalkit:" in data
            and not any(selector_matches(s, meta_id, meta_category) for s in file_ignores)
        ):
            text, _, _ = decode_source(data)
            if text is not None:
                all_ids = all_ids or known_selectors(index)[0]
                result.findings.extend(unknown_suppressions(text, display, all_ids, categories))
        key = content_key(data, rule_ids)
        read.append((display, path, key.sha256))
        cached = store.get(key) if store is not None else None
        if cached is not None and (not (fix or diff) or not cached["findings"]):
            _collect_cached(result, display, cached)
            continue
        text, encoding, message = decode_source(data)
        if text is None:
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
        # Fixes are written as UTF-8, so a file in another PEP 263 encoding is audited, not fixed.
        # --fix reports what is left after fixing: what was there is needed only when no fix applies,
        # or when --diff reports it, or when writing the fix fails (then it is computed again).
        fixing = (fix or diff) and encoding == "utf-8"
        work.append(
            _Work(display, str(path), text, bom, triggered, fixing, fix, before=not (fixing and fix and not diff))
        )
        work_keys[display] = key

    if work:
        rule_classes = _load_rule_classes(rules)
        for item, (new_text, before, after, error) in zip(work, _run_work(work, rule_classes, jobs)):
            if error is not None:
                result.errors.append(FileError(item.display_path, error))
                if store is not None and not error.startswith("could not be audited"):  # not a crash or timeout
                    store.put(work_keys[item.display_path], [], error)
                continue
            changed = new_text is not None and new_text != item.text
            if store is not None and before is not None:
                store.put(work_keys[item.display_path], before)  # findings of the content as read
            if changed and diff:
                result.diffs[item.display_path] = unified_diff(item.text, new_text, item.display_path)
            if changed and fix:
                original = (("\ufeff" if item.bom else "") + item.text).encode("utf-8")  # the bytes read
                write_error = write_atomic(
                    Path(item.path), ("\ufeff" if item.bom else "") + new_text, expected=original
                )
                if write_error:
                    result.errors.append(FileError(item.display_path, write_error))
                    if before is None:  # not computed (a fix applied): the findings of the text as read
                        _, before, _, error = _analyse(replace(item, fix=False), rule_classes)
                        if error is not None:
                            result.errors.append(FileError(item.display_path, error))
                    result.findings.extend(_with_path(before, item.display_path))
                    continue
                result.fixed_files.append(item.display_path)
                result.findings.extend(_with_path(after, item.display_path))
            else:
                result.findings.extend(_with_path(before, item.display_path))
    if include_unused is None:
        include_unused = config.include_unused
    if result.findings and not include_unused and all(path.is_dir() for path in paths):
        from temporalkit.validators.unused import hold_back_unused

        result.findings, result.unused = hold_back_unused(result.findings, read, paths, config.root, store)
    if result.findings and not include_unused:
        from temporalkit.validators.conventions import hold_back_bgr_projects

        result.findings, result.bgr_project = hold_back_bgr_projects(result.findings, read, paths, config.root)
    if store is not None:
        store.save()

    result.findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
    result.errors.sort(key=lambda e: e.path)
    return result


_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)  # PEP 263


def decode_source(data: bytes) -> tuple[str | None, str, str | None]:
    """(text, encoding, None), or (None, encoding, one-line reason) when `data` cannot be decoded.

    UTF-8 unless a PEP 263 coding cookie says otherwise (`# -*- coding: latin-1 -*-`), as Python
    itself reads source files: a cookie naming an unknown encoding, or another encoding than a
    UTF-8 BOM's, is refused as Python refuses it, even when the bytes are valid UTF-8."""
    if b"coding" in data[:2048]:  # a cookie may be on line 1 or 2: read it the way Python does
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            return None, "utf-8", f"cannot decode: {' '.join(str(exc).split())}"
        if encoding not in ("utf-8", "utf-8-sig"):
            try:
                return data.decode(encoding), encoding, None
            except (UnicodeDecodeError, LookupError) as exc:
                return (
                    None,
                    encoding,
                    f"not valid {encoding} as its coding cookie declares ({' '.join(str(exc).split())})",
                )
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as exc:
        utf8_error = exc
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # no cookie and not UTF-8, or an unknown or conflicting cookie
        encoding = "utf-8" if not _CODING_COOKIE.search(data[:400]) else ""
        if encoding != "utf-8":
            return None, "utf-8", f"cannot decode: {' '.join(str(exc).split())}"
    if encoding in ("utf-8", "utf-8-sig"):
        start = utf8_error.start
        return (
            None,
            "utf-8",
            (
                f"not valid UTF-8 (byte 0x{data[start]:02x} at offset {start}); "
                "save it as UTF-8, declare its encoding (PEP 263) or exclude it"
            ),
        )
    try:
        return data.decode(encoding), encoding, None
    except (UnicodeDecodeError, LookupError) as exc:
        return None, encoding, f"not valid {encoding} as its coding cookie declares ({' '.join(str(exc).split())})"


def _collect_cached(result: AuditResult, display: str, cached: dict) -> None:
    if cached.get("error"):
        result.errors.append(FileError(display, cached["error"]))
    result.findings.extend(_with_path(cached["findings"], display))


def _with_path(findings: list[dict], path: str) -> list[Finding]:
    return [Finding(path=path, **{k: v for k, v in f.items() if k != "path"}) for f in findings]


def _triggers_of(rule: type["Rule"]) -> list[str]:
    return list(rule.TRIGGERS)


def _triggered_rules(rule_ids: Sequence[str], index: dict[str, dict], text: str) -> tuple[str, ...]:
    """Rules whose TRIGGERS occur in the file's code, as `triggers.matches` reads them (the same
    reading `Rule.applies_to` uses), from the rule index: no libcst or rule import needed."""
    source = SourceText(text)  # the code-only view is computed at most once for all rules
    return tuple(rid for rid in rule_ids if matches(index[rid]["triggers"], source))


def known_selectors(index: dict[str, dict] | None = None, *, dynamic: bool = True) -> tuple[list[str], list[str]]:
    """(every rule id: static rules, TK001 and, with `dynamic`, the dynamic checks; every category)
    that `--select`, `--ignore`, the config and suppression comments may name. `index`: the static
    rule index (None: read from the rule registry)."""
    static = index if index is not None else _rule_index(None, None)
    rule_ids = [*static, UNKNOWN_SUPPRESSION["id"]]
    if dynamic:
        from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS

        rule_ids += list(DYNAMIC_CHECKS)
    return rule_ids, [*CATEGORIES, *META_CATEGORIES]


def check_config_selectors(
    config: AuditConfig,
    rule_ids: Sequence[str],
    categories: Sequence[str],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> None:
    """ConfigError for the first unknown id, prefix or category in `--select` / `--ignore` or in the
    config's select / ignore / per-file-ignores: a typo there must not turn a check off silently."""
    origin = f"{config.source}: [tool.temporalkit] " if config.source else ""
    check_selectors(select or (), "--select", rule_ids, categories)
    check_selectors(ignore or (), "--ignore", rule_ids, categories)
    check_selectors(config.select, f"{origin}select", rule_ids, categories)
    check_selectors(config.ignore, f"{origin}ignore", rule_ids, categories)
    for pattern, selectors in config.per_file_ignores.items():
        check_selectors(selectors, f"{origin}per-file-ignores[{pattern!r}]", rule_ids, categories)


def _is_active(
    rule_id: str, category: str, select: Sequence[str], ignore: Sequence[str], *, opt_in: bool = False
) -> bool:
    if select and not any(selector_matches(s, rule_id, category) for s in select):
        return False
    if opt_in and not any(selects_opt_in(s, rule_id, category) for s in select):
        return False
    return not any(selector_matches(s, rule_id, category) for s in ignore)


def _rule_index(rules: Sequence[type["Rule"]] | None, store: ResultCache | None) -> dict[str, dict]:
    """id -> {category, severity, triggers}; from the cache when possible, so libcst stays unimported."""
    if rules is None and store is not None:
        index = store.load_rule_index()
        if index is not None:
            return index
    classes = _load_rule_classes(rules)
    index = {
        r.ID: {"category": r.CATEGORY, "severity": r.SEVERITY, "triggers": _triggers_of(r), "opt_in": r.OPT_IN}
        for r in classes
    }
    if rules is None and store is not None:
        store.save_rule_index(index)
    return index


def _load_rule_classes(rules: Sequence[type["Rule"]] | None) -> tuple[type["Rule"], ...]:
    if rules is not None:
        return tuple(rules)
    from temporalkit.validators.rules import all_rules

    return all_rules()


# -- the work that needs libcst ---------------------------------------------------------
# libcst's parser is not safe on every input CPython accepts: deep nesting segfaults it, and long
# left-nested chains (`a[0][0]...`, `1+1+...`, `f()()...`) take time that grows faster than
# quadratically. CPython's own parser is the gate (it rejects absurd nesting in milliseconds),
# then the syntax tree's depth is bounded. The deepest file in twelve video-ML repositories and
# CPython's standard library is 87 levels deep; generated sympy files reach 569 (libcst parses them
# in 15 s); at 1,000 levels the slowest chain seen parses in about 6 s, beyond it crashes begin.
MAX_SYNTAX_DEPTH = 1000
# Seconds one file may take (parse, metadata, rules, fix): FILE_TIME_BUDGET plus LINE_TIME_BUDGET
# per line (a dense 50k-line file needs about 150 s of CPU); past it the worker is killed and the
# file is "could not be audited". TEMPORALKIT_FILE_TIMEOUT (seconds, any file) overrides both.
FILE_TIME_BUDGET = 60.0
LINE_TIME_BUDGET = 0.01


def _analyse(item: _Work, rule_classes: tuple[type["Rule"], ...]):
    """(fixed text or None, findings before and after fixing as dicts without path, error or None)."""
    gate = _builtin_syntax_error(item.text, check_depth=True)
    if gate is not None:
        return None, [], [], gate
    import libcst as cst
    from temporalkit.validators.engine import lint_and_fix

    rules = [r for r in rule_classes if r.ID in item.rule_ids]
    # The cyclic collector walks every live object each time it runs, and a file's syntax tree and
    # analysis are most of them: on one 50k-line file that was the cost above linear. Little of what
    # a file's lint makes is cyclic garbage before the lint ends, so it runs after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        new_text, before, after = lint_and_fix(
            item.text, item.display_path, rules, fix=item.fix, findings_after=item.after, findings_before=item.before
        )
    except cst.ParserSyntaxError as exc:  # Python's parser accepted it (the gate): a limit of libcst's
        return None, [], [], f"cannot parse: libcst refuses what Python accepts: {_syntax_error_line(exc)}"
    except RecursionError:
        return None, [], [], "cannot parse: nesting too deep for the parser"
    except Exception as exc:  # one broken rule or odd file must not stop the run
        message = " ".join(str(exc).split())[:300]
        return None, [], [], f"internal error while auditing ({type(exc).__name__}: {message}); please report it"
    finally:
        if collecting:
            gc.enable()
    return (new_text if item.fix else None), (None if before is None else _as_dicts(before)), _as_dicts(after), None


def _as_dicts(findings: list[Finding]) -> list[dict]:
    dicts = []
    for f in findings:
        d = f.to_dict()
        d.pop("path")
        d["end_line"], d["end_column"] = f.end_line, f.end_column
        dicts.append(d)
    return dicts


def _builtin_syntax_error(text: str, *, check_depth: bool = False) -> str | None:
    """One-line reason CPython's parser refuses `text` (or, with check_depth, that its syntax tree
    is deeper than MAX_SYNTAX_DEPTH), else None. Positions are 1-based line and column."""
    try:
        tree = compile(text, "<audit>", "exec", 0x400, dont_inherit=True)  # 0x400: ast.PyCF_ONLY_AST
    except SyntaxError as exc:
        where = f" at line {exc.lineno}, column {exc.offset}" if exc.lineno and exc.offset else ""
        return f"cannot parse: syntax error{where} ({exc.msg})"
    except (RecursionError, MemoryError):
        return "cannot parse: nesting too deep for Python's parser"
    except ValueError as exc:  # null bytes
        return f"cannot parse: {' '.join(str(exc).split())}"
    if check_depth:
        depth = _syntax_depth(tree, MAX_SYNTAX_DEPTH)
        if depth > MAX_SYNTAX_DEPTH:
            return (
                f"cannot parse: expressions nested more than {MAX_SYNTAX_DEPTH} levels deep, beyond what "
                "libcst parses safely (a generated file? exclude it in [tool.temporalkit] exclude)"
            )
    return None


def _syntax_depth(tree, limit: int) -> int:
    """Depth of an `ast` tree as libcst will nest it, stopping as soon as it passes `limit`
    (iterative: no recursion). `a or b or c ...` is one flat node for CPython but a left-nested
    chain for libcst (20,000 terms segfault it; 5,000 parse in 0.3 s): it counts one level per
    ten terms."""
    from ast import BoolOp, iter_child_nodes

    deepest = 0
    stack = [(tree, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > deepest:
            deepest = depth
            if depth > limit:
                return depth
        step = 1 + len(node.values) // 10 if type(node) is BoolOp else 1
        for child in iter_child_nodes(node):
            push((child, depth + step))
    return deepest


def _syntax_error_line(exc: Exception) -> str:
    """libcst's error as one line naming one place (its message embeds another, 0-based one)."""
    message = (getattr(exc, "message", None) or str(exc).splitlines()[0]).strip()
    message = message.removeprefix("parser error: ")
    message = re.sub(r"^error at \d+:\d+: ", "", message)
    line, column = getattr(exc, "raw_line", None), getattr(exc, "raw_column", None)
    where = f" at line {line}, column {column + 1}" if line is not None and column is not None else ""
    return f"syntax error{where} ({message})"


def _analyse_chunk(items: list[_Work], rule_classes: tuple[type["Rule"], ...]):
    return [_analyse(item, rule_classes) for item in items]


def _file_time_budget(item: _Work) -> float:
    raw = os.environ.get("TEMPORALKIT_FILE_TIMEOUT")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0 and value == value and value != float("inf"):
            return value
    return FILE_TIME_BUDGET + LINE_TIME_BUDGET * item.text.count("\n")


def _run_work(work: list[_Work], rule_classes: tuple[type["Rule"], ...], jobs: int | None):
    """_analyse over `work`, in forked worker processes so that a file which crashes the parser
    (segfault), exhausts memory or runs past its time budget costs only that file."""
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    workers = min(workers, len(work) // (PARALLEL_THRESHOLD // 2) or 1)
    if len(work) < PARALLEL_THRESHOLD:
        workers = 1
    import multiprocessing

    import temporalkit.validators.engine  # noqa: F401  (imported once here, inherited by the workers)

    if "fork" not in multiprocessing.get_all_start_methods():
        # No fork (Windows): in this process; the parser gate still keeps known crashers out.
        return [_analyse(item, rule_classes) for item in work]
    # Interleaved chunks: big and small files spread evenly without per-file round trips.
    n_chunks = workers * 4 if workers > 1 else 1
    chunks = [list(range(i, len(work), n_chunks)) for i in range(n_chunks)]
    budgets = [_file_time_budget(item) for item in work]
    return _run_forked(work, rule_classes, [c for c in chunks if c], workers, budgets)


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this worker when the auditor dies (killed, or SIGTERM), so
    that it does not go on through its chunk as an orphan for minutes."""
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
        except (OSError, AttributeError):
            return
    if os.getppid() != parent:  # the auditor died before the request took effect
        os._exit(1)


def _worker_main(connection, work: list[_Work], indices: list[int], rule_classes, parent: int | None = None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it kills us)
    if parent is not None:
        _die_with_parent(parent)
    for index in indices:
        value = _analyse(work[index], rule_classes)
        try:
            connection.send((index, value))
        except (OSError, EOFError):  # the parent is gone
            return
        except Exception as exc:  # a finding that cannot be pickled
            connection.send(
                (
                    index,
                    (
                        None,
                        [],
                        [],
                        f"internal error while auditing (result not transferable: {type(exc).__name__}); please report it",
                    ),
                )
            )
    connection.close()


def _run_forked(work: list[_Work], rule_classes, chunks: list[list[int]], workers: int, budgets: list[float]) -> list:
    """Run `chunks` of `work` in up to `workers` forked processes at once.

    A worker sends each file's result as soon as it has it, in its chunk's order, so the parent
    always knows which file a worker is on: when a worker dies (segfault, out of memory) or its
    current file passes its budget in seconds (then it is killed), that file gets an error and the
    rest of its chunk goes to a new worker.
    """
    import multiprocessing
    import time
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")  # workers inherit libcst and the rules, no re-import
    results: list = [None] * len(work)
    pending = [list(chunk) for chunk in chunks]
    running: dict = {}  # connection -> [process, remaining indices, start time of the current file]

    def start(indices: list[int]) -> None:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker_main, args=(sender, work, indices, rule_classes, os.getpid()), daemon=True
        )
        process.start()
        sender.close()
        running[receiver] = [process, list(indices), time.monotonic()]

    def retire(connection, error: str | None) -> None:
        process, remaining, _ = running.pop(connection)
        if process.is_alive():
            process.kill()
        process.join()
        connection.close()
        if remaining and error is not None:
            code = process.exitcode
            if error == "died":
                error = f"could not be audited: the analysis crashed ({_exit_reason(code)}); please report it"
            results[remaining[0]] = (None, [], [], error)
            remaining = remaining[1:]
        if remaining:
            pending.insert(0, remaining)

    try:
        while pending or running:
            while pending and len(running) < workers:
                start(pending.pop(0))
            now = time.monotonic()
            deadlines = [started + budgets[remaining[0]] for _, remaining, started in running.values() if remaining]
            wait_for = max(0.0, min(deadlines) - now) + 0.05 if deadlines else None
            ready = wait(list(running), timeout=wait_for)
            for connection in ready:
                try:
                    index, value = connection.recv()
                except (EOFError, OSError):  # the worker exited: done, or died on its current file
                    retire(connection, "died")
                    continue
                except Exception as exc:  # a result that cannot be unpickled
                    retire(
                        connection, f"could not be audited: its result could not be read back ({type(exc).__name__})"
                    )
                    continue
                state = running[connection]
                results[index] = value
                state[1].remove(index)
                state[2] = time.monotonic()
            now = time.monotonic()
            for connection, (process, remaining, started) in list(running.items()):
                if remaining and now - started > budgets[remaining[0]]:
                    budget = budgets[remaining[0]]
                    retire(
                        connection, f"could not be audited: took longer than {budget:.0f} s (the per-file time budget)"
                    )
    finally:
        for connection in list(running):
            process = running.pop(connection)[0]
            process.kill()
            process.join()
            connection.close()
    return results


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"{name}, likely out of memory" if name == "SIGKILL" else name
    return f"exit status {code}"


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
