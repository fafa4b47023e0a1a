"""Fuzz the static auditor and the picker's validator with hostile and real-world inputs: no traceback,
no hang past the per-file budget, no file changed except by --fix, every bad input one line and the
run going on (issue 16, "The figures to reach").

    .venv/bin/python benchmarks/fuzz_audit.py --n 10000 --pick 2000 [--seed 0] [--batch 250]
        [--stdlib DIR] [--cpython-tests DIR] [--extra DIR] [--keep DIR] [--json FILE] [--md FILE]

Python inputs (`--n`, deterministic for a seed), in rotation:
- every file of CPython's own test suite (`--cpython-tests`, default: /usr/lib/python3.11/test and
  this interpreter's Lib/test, whichever exist) as is, then the rest of its library (`--stdlib`);
- the same files mutated: truncated at a random point, lines dropped, duplicated or shuffled,
  random bytes flipped, re-encoded (latin-1 with a coding cookie, UTF-8 BOM, CRLF, tabs);
- generated hostile files: every case of issue 16 (5,000 nested parentheses, 3,000 nested
  brackets, a 20,000-long attribute chain, a 100,000-term sum, a latin-1 file with a PEP 263
  cookie, a CutMix box centre --fix must leave alone, ...) and kin: deep nesting of every bracket
  and operator kind, long chains, null bytes, invalid UTF-8, lone surrogates, very long lines,
  files just under and over the size cap, empty files;
- in every batch, things that are not plain files, named `*.py`: a FIFO, a symlink to /dev/zero, a
  dangling symlink, a folder, an unreadable folder; a symlink to and a read-only copy of a fixable
  file, and a fixable file whose name is not UTF-8.

Each batch of `--batch` files is written twice. `temporalkit audit DIR --format json` (with a cache
in a private folder) runs on the first copy, which must come out byte-identical; `temporalkit audit
DIR --fix --format json` (the same cache) on the second. Every 8th batch also runs `--no-cache
--format sarif` and `--diff` on the first copy, and the JSON audit again after every cache entry has
been corrupted (truncated, emptied, wrong shape, random bytes): it must report what it reported.
Each file's outcome is checked against the JSON report: an input CPython's parser refuses (or that
is not a readable regular file) must be exactly one one-line error; a file CPython accepts may be
an error only when the parser gate or the per-file time budget turned it away (counted); no file
gets two errors; "internal error" is a failure.

Picker inputs (`--pick`): `temporalkit pick validate --spec S --answer A --format json` through the
CLI entry point in this process (torch is imported once), every 100th also as a fresh process
(half of those reading the answer from stdin, `-`): replies mutated from a valid answer (keys
dropped, values of the wrong type, truncated, bytes flipped), deeply nested JSON, 160,000 `{}`,
replies over the 4 MB cap, binary and non-UTF-8 replies, ints of 10,000 digits, NaN; and specs:
YAML alias bombs, deep nesting, wrong types, unknown keys, binary, over 1 MB, TOML and JSON.
Counted: exceptions out of the CLI (tracebacks), inputs over 60 s (hangs), exit statuses other than
0/1/2, usage errors (exit 2) that are not short (more than 10 lines or 2,000 characters: the 351 MB
error message of the alias bomb), and JSON reports that do not parse.

Not part of CI: 10,000 + 2,000 inputs take about an hour on two busy cores.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_FILE_BYTES = 5_000_000  # validators/discovery.py's cap (not imported: this script runs the CLI)
FIXABLE = (REPO / "examples" / "pipelines" / "buggy_sampler.py").read_bytes()
CUTMIX = (
    b"import numpy as np\n\n\n"
    b"def cutmix_box(h, w, margin):\n"
    b"    cy = np.random.randint(margin, h - margin)\n"
    b"    cx = np.random.randint(margin, w - margin)\n"
    b"    return cy, cx\n"
)


# -- Python inputs ---------------------------------------------------------------------------
def issue_cases() -> list[tuple[str, bytes]]:
    """The static-auditor inputs issue 16 lists, exactly as it gives them."""
    trigger = b"import numpy as np\nidx = np.linspace(0, n, T)\n"  # so that libcst would be asked to parse
    return [
        ("issue_parens_5000.py", trigger + b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n"),
        ("issue_brackets_3000.py", trigger + b"x = " + b"[" * 3000 + b"1" + b"]" * 3000 + b"\n"),
        ("issue_attributes_20000.py", trigger + b"x = a" + b".b" * 20000 + b"\n"),
        ("issue_sum_100000.py", trigger + b"x = " + b"+".join([b"1"] * 100000) + b"\n"),
        ("issue_latin1_cookie.py", b"# -*- coding: latin-1 -*-\n" + trigger + "s = 'café'\n".encode("latin-1")),
        ("issue_cutmix_centre.py", CUTMIX),
    ]


def hostile_texts(rng: random.Random) -> list[tuple[str, bytes]]:
    """(name, content) of generated files that once crashed, hung or fooled the auditor, and kin."""
    trigger = b"import numpy as np\nidx = np.linspace(0, n, T)\n"
    nest = lambda open_, close, n: b"x = " + open_ * n + b"1" + close * n + b"\n"  # noqa: E731
    depth = rng.choice([150, 199, 200, 250, 999, 1000, 1001, 3000, 5000])
    chain = rng.choice([100, 199, 300, 2000, 20000, 100000])
    cases = [
        ("parens", trigger + nest(b"(", b")", depth)),
        ("brackets", trigger + nest(b"[", b"]", depth)),
        ("braces", trigger + nest(b"{", b"}", depth)),
        ("dicts", trigger + b"x = " + b"{1: " * depth + b"1" + b"}" * depth + b"\n"),
        ("attributes", trigger + b"x = a" + b".b" * chain + b"\n"),
        ("subscripts", trigger + b"x = a" + b"[0]" * min(chain, 20000) + b"\n"),
        ("calls", trigger + b"x = f" + b"()" * min(chain, 20000) + b"\n"),
        ("sum", trigger + b"x = " + b"+".join([b"1"] * chain) + b"\n"),
        ("power", trigger + b"x = " + b"**".join([b"2"] * min(chain, 20000)) + b"\n"),
        ("boolean", trigger + b"x = " + b" or ".join([b"a"] * chain) + b"\n"),
        ("compare", trigger + b"x = " + b" < ".join([b"a"] * chain) + b"\n"),
        ("unary", trigger + b"x = " + b"-" * chain + b"a\n"),
        ("not", trigger + b"x = " + b"not " * min(chain, 5000) + b"a\n"),
        ("strings", trigger + b"x = " + b" ".join([b"'a'"] * chain) + b"\n"),
        ("lambdas", trigger + b"x = " + b"lambda: " * depth + b"1\n"),
        ("ternary", trigger + b"x = " + b"a if b else " * min(depth, 2000) + b"c\n"),
        ("indent", trigger + b"".join(b" " * i + b"if x:\n" for i in range(min(depth, 120))) + b" " * 120 + b"pass\n"),
        ("defs", trigger + b"".join(b" " * i + b"def f():\n" for i in range(min(depth, 99))) + b" " * 99 + b"pass\n"),
        ("fstring", trigger + b"x = " + b"f'{" * 3 + b"1" + b"}'" * 3 + b"\n"),
        ("tuple", trigger + b"x = (" + b",".join([b"1"] * chain) + b")\n"),
        ("many_defs", trigger + b"".join(b"def f%d(n):\n    return np.linspace(0, n, 8)\n" % i for i in range(2000))),
        ("many_imports", b"".join(b"import numpy as np\nx%d = np.linspace(0, n, 8)\n" % i for i in range(2000))),
        ("nulls", trigger + b"x = 1\x00\x00\n"),
        ("bad_utf8", trigger + b"x = '\xff\xfe'\n"),
        ("latin1_cookie", b"# -*- coding: latin-1 -*-\n" + trigger + "s = 'café'\n".encode("latin-1")),
        ("bad_cookie", b"# -*- coding: klingon -*-\n" + trigger + b"s = '\xe9'\n"),
        ("bom", b"\xef\xbb\xbf" + trigger),
        ("bom_latin1_cookie", b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + trigger),
        ("surrogate", trigger + "x = '\\ud800'\n".encode()),
        ("long_line", trigger + b"x = '" + b"a" * 1_000_000 + b"'\n"),
        ("near_cap", trigger + b"# " + b"a" * 4_900_000 + b"\n"),  # just under the 5 MB cap: audited
        ("over_cap", trigger + b"# " + b"a" * 5_300_000 + b"\n"),  # just over: skipped with one error
        ("empty", b""),
        ("only_comment", b"# np.linspace(0, n, T)\n"),
        ("suppressions", trigger + b"y = np.linspace(0, n, T)  # temporalkit: ignore[TK101, nonsense, \n"),
        ("syntax_error", trigger + b"def f(:\n"),
        ("tabs_spaces", trigger + b"if x:\n\tif y:\n        pass\n"),
        ("form_feed", trigger + b"\x0cdef f():\n\x0c    return 1\n"),
        ("cr_only", trigger.replace(b"\n", b"\r") + b"x = 1\r"),
        ("random_bytes", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))),
        ("fixable", FIXABLE),
        ("fixable_crlf", FIXABLE.replace(b"\n", b"\r\n")),
        ("fixable_bom", b"\xef\xbb\xbf" + FIXABLE),
        ("cutmix", CUTMIX),
    ]
    return [(f"hostile_{name}.py", content) for name, content in cases]


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    lines = data.splitlines(keepends=True) or [b""]
    kind = rng.choice(["truncate", "drop", "duplicate", "shuffle", "flip", "latin1", "bom", "crlf", "tabs"])
    if kind == "truncate":
        return kind, data[: rng.randrange(len(data) + 1)]
    if kind == "drop":
        keep = [line for line in lines if rng.random() > 0.05]
        return kind, b"".join(keep)
    if kind == "duplicate":
        i = rng.randrange(len(lines))
        return kind, b"".join(lines[:i] + lines[i : i + 20] * 2 + lines[i + 20 :])
    if kind == "shuffle":
        i = rng.randrange(len(lines))
        chunk = lines[i : i + 10]
        rng.shuffle(chunk)
        return kind, b"".join(lines[:i] + chunk + lines[i + 10 :])
    if kind == "flip":
        buf = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        return kind, bytes(buf)
    if kind == "latin1":
        try:
            text = data.decode("utf-8")
            return kind, b"# -*- coding: latin-1 -*-\n" + text.encode("latin-1", errors="replace")
        except UnicodeDecodeError:
            return kind, data
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + data
    if kind == "crlf":
        return kind, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return kind, data.replace(b"    ", b"\t")


def cpython_test_dirs() -> list[Path]:
    candidates = [Path("/usr/lib/python3.11/test"), Path(sysconfig.get_paths()["stdlib"]) / "test"]
    return [d for d in dict.fromkeys(candidates) if d.is_dir()]


def fragment(rng: random.Random, data: bytes) -> bytes:
    """A window of whole top-level statements (so usually valid Python) of 5 to 150 lines."""
    lines = data.splitlines(keepends=True)
    tops = [i for i, line in enumerate(lines) if line[:1] not in (b" ", b"\t", b"\n", b"\r", b"#", b")", b"]", b"}")]
    if len(tops) < 2:
        return data
    start = rng.choice(tops)
    ends = [i for i in tops if start + 5 <= i <= start + 150] or [min(len(lines), start + 150)]
    return b"".join(lines[start : rng.choice(ends)])


def inputs(
    n: int, rng: random.Random, stdlib: Path, tests: list[Path], extra: list[Path] = ()
) -> list[tuple[str, bytes]]:
    """`n` (name, content) pairs, in a cycle of 16: one CPython test-suite file as is (then library
    files under 400 lines), one hostile file, and 14 fragments of library and test files (whole
    top-level statements, 5-150 lines), half of them mutated. Fragments keep 10,000 inputs within
    an hour on two busy cores; whole files of thousands of lines cost seconds each."""
    suite = [p for d in tests for p in sorted(d.rglob("*.py")) if p.is_file()]
    rng.shuffle(suite)
    seen = {p.resolve() for p in suite}
    library = sorted(
        p for p in stdlib.rglob("*.py") if p.is_file() and "site-packages" not in p.parts and p.resolve() not in seen
    )
    rng.shuffle(library)
    # Sampler code (examples/, a corpus checkout) first, so --fix has something to fix.
    sampler = [p for d in extra for p in sorted(Path(d).rglob("*.py")) if p.is_file()]
    small = [p for p in library if p.stat().st_size < 16_000]
    whole = sampler + suite + small
    pool = sampler + suite + library
    cases = issue_cases()
    out: list[tuple[str, bytes]] = [(f"{i:05d}_{name}", content) for i, (name, content) in enumerate(cases)]
    hostile = hostile_texts(rng)
    w = h = 0
    while len(out) < n:
        slot = len(out) % 16
        if slot == 15 or not pool:
            if h and h % len(hostile) == 0:
                hostile = hostile_texts(rng)  # new depths and chain lengths
            name, content = hostile[h % len(hostile)]
            out.append((f"{len(out):05d}_{name}", content))
            h += 1
            continue
        source = whole[w % len(whole)] if slot == 0 else pool[rng.randrange(len(pool))]
        w += slot == 0
        try:
            data = source.read_bytes()
        except OSError:
            continue
        if slot == 0:
            out.append((f"{len(out):05d}_lib_{source.name}", data))
            continue
        data = fragment(rng, data)
        if slot % 2:
            kind, data = mutate(rng, data)
        else:
            kind = "fragment"
        out.append((f"{len(out):05d}_{kind}_{source.name}", data))
    return out


def compiles(data: bytes) -> bool:
    try:
        compile(data, "<fuzz>", "exec", 0x400, dont_inherit=True)  # 0x400: ast.PyCF_ONLY_AST
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False


# -- running the auditor ---------------------------------------------------------------------
NON_UTF8_NAME = b"special_caf\xe9.py"
SPECIALS_ERROR = {"special_fifo.py", "special_dev_zero.py"}  # must each be exactly one error


def write_batch(directory: Path, batch: list[tuple[str, bytes]]) -> None:
    directory.mkdir(parents=True)
    for name, content in batch:
        (directory / name).write_bytes(content)
    # Things that are not plain files, named like Python, and files --fix must treat with care.
    os.mkfifo(directory / "special_fifo.py")
    os.symlink("/dev/zero", directory / "special_dev_zero.py")
    os.symlink(directory / "missing_target.py", directory / "special_dangling.py")
    (directory / "special_folder.py").mkdir()
    (directory / "special_folder.py" / "inside.py").write_bytes(b"x = 1\n")
    (directory / "special_unreadable").mkdir()
    (directory / "special_unreadable" / "hidden.py").write_bytes(FIXABLE)
    os.chmod(directory / "special_unreadable", 0)  # (root reads it anyway)
    (directory / "special_target.py").write_bytes(FIXABLE)
    os.symlink("special_target.py", directory / "special_link.py")
    (directory / "special_readonly.py").write_bytes(FIXABLE)
    os.chmod(directory / "special_readonly.py", 0o444)
    with open(os.path.join(os.fsencode(directory), NON_UTF8_NAME), "wb") as stream:
        stream.write(FIXABLE)


def remove_batch(directory: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(directory / "special_unreadable", 0o755)
    shutil.rmtree(directory, ignore_errors=True)


def tree_hashes(root: Path) -> dict[str, str]:
    hashes = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def run_cli(args: list[str], timeout: float, env: dict, cwd: Path) -> tuple[int | None, str, str, float]:
    command = [sys.executable, "-m", "temporalkit", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        return None, (exc.stdout or b"").decode(errors="replace"), (exc.stderr or b"").decode(errors="replace"), timeout
    return (
        done.returncode,
        done.stdout.decode(errors="surrogateescape"),
        done.stderr.decode(errors="replace"),
        time.monotonic() - started,
    )


def file_budget(content: bytes, override: float | None) -> float:
    return override if override else 60.0 + 0.01 * content.count(b"\n")  # validators/audit.py's budget


def check_report(
    report: dict, batch: list[tuple[str, bytes]], counts: dict, problems: list[str], notes: list[str], tag: str
) -> None:
    """Each file's outcome in one JSON report (see the module docstring)."""
    errors: dict[str, list[str]] = {}
    for e in report["errors"]:
        errors.setdefault(Path(e["path"]).name, []).append(e["message"])
    counts["file_errors"] += len(report["errors"])
    counts["findings"] += len(report["findings"])
    for e in report["errors"]:
        message = e["message"]
        if "\n" in message or "\r" in message:
            counts["multi_line_errors"] += 1
            problems.append(f"{tag}: multi-line error for {e['path']}")
        if message.startswith("internal error"):
            counts["internal_errors"] += 1
            problems.append(f"{tag}: {Path(e['path']).name}: {message}")
    for name, messages in errors.items():
        if len(messages) > 1:
            counts["duplicate_errors"] += 1
            problems.append(f"{tag}: {name}: {len(messages)} errors: {messages[:2]}")
    for name in SPECIALS_ERROR:
        if len(errors.get(name, ())) != 1:
            counts["unreported_bad_inputs"] += 1
            problems.append(f"{tag}: {name}: not one error ({errors.get(name)})")
    for name, content in batch:
        got = errors.get(name, [])
        bad = len(content) > MAX_FILE_BYTES or not compiles(content)
        if bad:
            counts["bad_inputs"] += 1
            if len(got) != 1:
                counts["unreported_bad_inputs"] += 1
                problems.append(f"{tag}: {name}: CPython refuses it but the audit said {got}")
        elif got:
            message = got[0]
            if "took longer than" in message:
                counts["budget_kills"] += 1
                notes.append(f"{tag}: {name}: {message}")
            elif "nested more than" in message or "nesting too deep" in message:
                counts["gated"] += 1
            elif "crashed" in message:
                counts["crashes_contained"] += 1
                notes.append(f"{tag}: {name}: {message}")
            elif not message.startswith("internal error"):
                counts["other_errors_on_valid_python"] += 1
                notes.append(f"{tag}: {name}: {message}")


def corrupt_cache(cache: Path, rng: random.Random) -> int:
    """Spoil every JSON file of the cache folder in one of several ways; returns how many."""
    spoiled = 0
    for path in sorted(cache.rglob("*.json")):
        data = path.read_bytes()
        kind = rng.randrange(6)
        if kind == 0:
            new = data[: len(data) // 2]
        elif kind == 1:
            new = b""
        elif kind == 2:
            new = b"[]"
        elif kind == 3:
            new = bytes(rng.randrange(256) for _ in range(200))
        elif kind == 4:  # valid JSON of the wrong shape in every entry
            try:
                whole = json.loads(data)
                whole = {
                    k: ({"findings": {"x": 1}, "error": 3} if isinstance(v, dict) else [v]) for k, v in whole.items()
                }
                new = json.dumps(whole).encode()
            except (ValueError, AttributeError):
                new = b"{}"
        else:
            new = b'{"entries": {"a": ' * 3000 + b"1" + b"}" * 6000
        path.write_bytes(new)
        spoiled += 1
    return spoiled


def summary_of(report: dict) -> tuple:
    return (
        sorted((Path(f["path"]).name, f["rule"], f["line"], f["column"]) for f in report["findings"]),
        sorted((Path(e["path"]).name, e["message"]) for e in report["errors"]),
    )


def fuzz_audit(files, args, counts, problems, notes, rng) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    if args.file_timeout:
        env["TEMPORALKIT_FILE_TIMEOUT"] = str(args.file_timeout)
    n_batches = (len(files) + args.batch - 1) // args.batch
    with tempfile.TemporaryDirectory(prefix="tk-fuzz-") as scratch:
        for number, b in enumerate(range(0, len(files), args.batch)):
            batch = files[b : b + args.batch]
            budgets = [file_budget(content, args.file_timeout) for _, content in batch]
            # A hang: the run outlived two of its largest file budgets plus 3 s a file of slack.
            limit = 120 + 2 * max(budgets) + 3 * len(batch)
            cache = Path(scratch) / f"cache{number}"
            cache_env = dict(env, TEMPORALKIT_CACHE_DIR=str(cache))
            runs = [("audit", ["--format", "json"]), ("fix", ["--fix", "--format", "json"])]
            if number % 8 == 0:
                runs += [("sarif", ["--no-cache", "--format", "sarif"]), ("diff", ["--diff"]), ("spoiled", None)]
            first_report = None
            for mode, extra in runs:
                directory = Path(scratch) / f"b{number:04d}_{'fix' if mode == 'fix' else 'audit'}"
                if not directory.exists():
                    write_batch(directory, batch)
                before = tree_hashes(directory)
                tag = f"batch {number + 1} {mode}"
                if extra is None:  # the JSON audit again, on a spoiled cache
                    counts["cache_files_spoiled"] += corrupt_cache(cache, rng)
                    extra = ["--format", "json"]
                status, out, err, took = run_cli(
                    # every rule, the opt-in ones too: a crash in any of them is a crash
                    ["audit", str(directory), "--exit-zero", "--select", "ALL", *extra],
                    limit,
                    cache_env,
                    directory.parent,
                )
                counts["runs"] += 1
                counts["run_seconds"] += took
                problem = None
                if status is None:
                    counts["hangs"] += 1
                    problem = f"hang (> {limit:.0f} s)"
                elif status not in (0, 1) or "Traceback" in err or "Traceback" in out:
                    counts["tracebacks"] += 1
                    problem = f"exit {status}: {err.strip().splitlines()[-1] if err.strip() else ''}"
                if problem:
                    problems.append(f"{tag}: {problem}")
                after = tree_hashes(directory)
                changed = [name for name in before if after.get(name) != before[name]]
                if status is not None and mode in ("audit", "fix", "spoiled"):
                    try:
                        report = json.loads(out)
                    except ValueError:
                        counts["tracebacks"] += 1
                        problems.append(f"{tag}: unreadable JSON report")
                        report = None
                    if report is not None and mode != "spoiled":
                        check_report(report, batch, counts, problems, notes, tag)
                    if mode == "audit":
                        first_report = report
                        counts["inputs_audited"] += len(batch)
                    elif mode == "fix":
                        counts["inputs_fixed_on_copies"] += len(batch)
                    elif report is not None and first_report is not None:
                        if summary_of(report) != summary_of(first_report):
                            counts["spoiled_cache_disagreements"] += 1
                            problems.append(f"{tag}: a spoiled cache changed the report")
                if mode == "fix":
                    counts["changed_by_fix"] += len(changed)
                    originals = dict(batch)
                    originals.update(
                        {
                            "special_target.py": FIXABLE,
                            "special_readonly.py": FIXABLE,
                            os.fsdecode(NON_UTF8_NAME): FIXABLE,
                        }
                    )
                    broken = [
                        name
                        for name in changed
                        if compiles(originals.get(name, b"")) and not compiles((directory / name).read_bytes())
                    ]
                    counts["broken_by_fix"] += len(broken)
                    if broken:
                        problems.append(f"{tag}: --fix broke {broken[:3]}")
                    wrong = []
                    if not (directory / "special_link.py").is_symlink():
                        wrong.append("special_link.py is no longer a symlink")
                    if "special_target.py" not in changed:
                        wrong.append("special_target.py (reached by a symlink too) was not fixed")
                    if "special_readonly.py" in changed:
                        wrong.append("the read-only file was rewritten")
                    if stat.S_IMODE(os.stat(directory / "special_readonly.py").st_mode) != 0o444:
                        wrong.append("the read-only file's mode changed")
                    for name, _ in batch:
                        if "cutmix" in name and name in changed:
                            wrong.append(f"{name}: a symmetric-margin box centre was 'fixed'")
                    counts["fix_mistakes"] += len(wrong)
                    problems.extend(f"{tag}: {w}" for w in wrong)
                else:
                    counts["changed_by_audit"] += len(changed)
                    if changed:
                        problems.append(f"{tag}: changed {changed[:3]}")
                print(
                    f"batch {number + 1}/{n_batches} {mode}: {took:.0f} s{' ' + problem if problem else ''}",
                    file=sys.stderr,
                    flush=True,
                )
                if problem and args.keep:
                    shutil.copytree(
                        directory,
                        args.keep / directory.name,
                        symlinks=True,
                        dirs_exist_ok=True,
                        ignore=lambda d, names: [n for n in names if n.startswith("special_")],
                    )
            for mode in ("audit", "fix"):
                remove_batch(Path(scratch) / f"b{number:04d}_{mode}")
            shutil.rmtree(cache, ignore_errors=True)
            args.checkpoint()


# -- the picker ------------------------------------------------------------------------------
def valid_answer() -> dict:
    from temporalkit import picker
    from temporalkit.picker.schema import read_spec_mapping, spec_from_mapping

    spec_path = REPO / "examples" / "spec.yaml"
    spec = spec_from_mapping(read_spec_mapping(spec_path), str(spec_path))
    return json.loads(picker.recommend(spec).model_dump_json())


def wrong_value(rng: random.Random):
    return rng.choice(
        [
            None,
            [],
            {},
            "",
            "x" * 5000,
            -1,
            0,
            1e308,
            True,
            [[[[[]]]]],
            {"a": {"b": {"c": 1}}},
            "\ud800",
            "nan",
            12345678901234567890,
        ]
    )


def pick_answers(rng: random.Random, answer: dict) -> list[tuple[str, bytes]]:
    text = json.dumps(answer)
    cases = [
        ("valid", text.encode()),
        ("prose", b"Here is my pick:\n```json\n" + json.dumps(answer, indent=2).encode() + b"\n```\nThanks.\n"),
    ]
    for _ in range(4):
        broken = dict(answer)
        del broken[rng.choice(sorted(broken))]
        cases.append(("missing_key", json.dumps(broken).encode()))
    for _ in range(6):
        broken = dict(answer)
        broken[rng.choice(sorted(broken))] = wrong_value(rng)
        cases.append(("wrong_type", json.dumps(broken).encode("utf-8", "surrogatepass")))
    cases.append(("extra_keys", json.dumps({**answer, **{f"k{i}": i for i in range(1000)}}).encode()))
    cases.append(("truncated", text.encode()[: rng.randrange(len(text))]))
    data = bytearray(text.encode())
    for _ in range(rng.randrange(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    cases.append(("flipped", bytes(data)))
    k = rng.choice([100, 999, 1000, 5000, 100_000])
    cases += [
        ("deep_lists", b"[" * k + b"]" * k),
        ("deep_objects", b'{"a": ' * k + b"1" + b"}" * k),
        ("deep_unclosed", b"[" * k),
        ("deep_in_prose", b"answer: " + b'{"family": ' * k + b"1"),
        ("many_empty_objects", b"{}\n" * rng.choice([1000, 50_000, 160_000])),
        ("many_braces", b"{" * 200_000),
        ("over_cap", b" " * 4_100_000 + text.encode()),
        ("binary", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))),
        ("nulls", text.encode().replace(b",", b",\x00", 3)),
        ("latin1", ("é" + text).encode("latin-1", errors="replace")),
        ("big_int", text.replace('"frames": 16', '"frames": ' + "9" * 10_000).encode()),
        ("nan", text.replace('"frames": 16', '"frames": NaN').encode()),
        ("infinity", text.replace('"estimated_gmacs": ', '"estimated_gmacs": 1e999, "x": ').encode()),
        ("duplicate_keys", text[:-1].encode() + b', "model": "other", "model": 3}'),
        ("array_of_answers", json.dumps([answer] * 50).encode()),
        ("two_objects", (text + "\n" + text).encode()),
        ("string", b'"just a string"'),
        ("empty", b""),
        ("whitespace", b" \n\t" * 1000),
        ("bom", b"\xef\xbb\xbf" + text.encode()),
        ("lone_surrogate_escape", text.replace('"rationale": "', '"rationale": "\\ud800').encode()),
    ]
    return [(f"answer_{name}", content) for name, content in cases]


def pick_specs(rng: random.Random) -> list[tuple[str, bytes]]:
    good = (REPO / "examples" / "spec.yaml").read_bytes()
    bomb = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        bomb += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n".encode()
    k = rng.choice([100, 1000, 10_000])
    cases = [
        ("good.yaml", good),
        ("alias_bomb.yaml", bomb),
        ("alias_in_field.yaml", good + b"x: &x 1\ny: *x\n"),
        ("deep_flow.yaml", b"task: " + b"[" * k + b"]" * k + b"\n"),
        ("deep_block.yaml", b"".join(b"  " * i + b"a:\n" for i in range(min(k, 2000)))),
        (
            "wrong_types.yaml",
            good.replace(b"train_clips: 20000", b"train_clips: many").replace(b"frames: 16", b"frames: -1"),
        ),
        ("huge_number.yaml", good.replace(b"budget_gmacs: 50", b"budget_gmacs: 1e999")),
        ("list_motion.yaml", good.replace(b"motion: motion", b"motion: [1, 2]")),
        ("unknown_keys.yaml", good + b"".join(b"k%d: 1\n" % i for i in range(500))),
        ("python_tag.yaml", b"task: !!python/object/apply:os.system ['true']\n"),
        ("not_a_mapping.yaml", b"- 1\n- 2\n"),
        ("binary.yaml", bytes(rng.randrange(256) for _ in range(2000))),
        ("latin1.yaml", good.replace(b"Classify", "Classifié".encode("latin-1"))),
        ("over_cap.yaml", good + b"#" + b"a" * 1_100_000 + b"\n"),
        ("empty.yaml", b""),
        ("tabs.yaml", good.replace(b"  ", b"\t")),
        ("deep.json", b'{"task": ' * k + b"1" + b"}" * k),
        ("wrong.json", b'{"task": 3, "motion": null, "train_clips": "x"}'),
        ("broken.json", b'{"task": "a", '),
        ("big_int.json", b'{"task": "t", "motion": "motion", "train_clips": ' + b"9" * 10_000 + b"}"),
        ("good.toml", b'task = "t"\nmotion = "motion"\ntrain_clips = 100\n'),
        ("broken.toml", b'task = "t\nmotion = \n'),
        ("deep.toml", b"a = " + b"[" * k + b"]" * k + b"\n"),
    ]
    return [(f"spec_{name}", content) for name, content in cases]


class _Hang(Exception):
    pass


def fuzz_pick(n: int, rng: random.Random, counts: dict, problems: list[str], checkpoint=lambda: None) -> None:
    from temporalkit import cli

    answer = valid_answer()
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    good_spec = REPO / "examples" / "spec.yaml"

    def on_alarm(signum, frame):
        raise _Hang

    signal.signal(signal.SIGALRM, on_alarm)
    with tempfile.TemporaryDirectory(prefix="tk-fuzz-pick-") as scratch:
        scratch = Path(scratch)
        answers, specs = pick_answers(rng, answer), pick_specs(rng)
        for i in range(n):
            if i % len(answers) == 0:
                answers = pick_answers(rng, answer)
            if i % 5 == 4:  # a hostile spec with a valid answer
                spec_name, spec_data = specs[(i // 5) % len(specs)]
                answer_name, answer_data = answers[0]
            else:
                spec_name, spec_data = "good.yaml", None
                answer_name, answer_data = answers[i % len(answers)]
            spec_path = good_spec
            if spec_data is not None:
                spec_path = scratch / spec_name.removeprefix("spec_")
                spec_path.write_bytes(spec_data)
            answer_path = scratch / "reply.md"
            answer_path.write_bytes(answer_data)
            argv = ["pick", "validate", "--spec", str(spec_path), "--answer", str(answer_path), "--format", "json"]
            tag = f"pick {i}: {spec_name} + {answer_name}"
            out, err = io.StringIO(), io.StringIO()
            status = None
            started = time.monotonic()
            signal.alarm(60)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    status = cli.main(argv)
            except _Hang:
                counts["pick_hangs"] += 1
                problems.append(f"{tag}: over 60 s")
            except SystemExit as exc:  # argparse
                status = exc.code
            except BaseException as exc:  # noqa: BLE001 - a traceback the user would see
                counts["pick_tracebacks"] += 1
                problems.append(f"{tag}: {type(exc).__name__}: {str(exc)[:200]}")
            finally:
                signal.alarm(0)
            counts["pick_seconds"] += time.monotonic() - started
            counts["pick_inputs"] += 1
            if i % 100 == 99:
                checkpoint()
            check_pick_outcome(status, out.getvalue(), err.getvalue(), tag, counts, problems)
            if i % 250 == 0:  # the same through a fresh process, half of them reading the answer from stdin
                stdin = i % 200 == 0
                command = [sys.executable, "-m", "temporalkit", *argv]
                if stdin:
                    command[command.index(str(answer_path))] = "-"
                try:
                    done = subprocess.run(
                        command,
                        input=answer_data if stdin else None,
                        capture_output=True,
                        timeout=600,
                        env=env,
                        cwd=scratch,
                    )
                except subprocess.TimeoutExpired:
                    counts["pick_hangs"] += 1
                    problems.append(f"{tag} (process): over 600 s")
                    continue
                counts["pick_processes"] += 1
                if b"Traceback" in done.stderr or done.returncode not in (0, 1, 2):
                    counts["pick_tracebacks"] += 1
                    problems.append(f"{tag} (process): exit {done.returncode}: {done.stderr[-300:]!r}")
                elif not stdin and done.returncode != status:
                    problems.append(f"{tag} (process): exit {done.returncode}, in-process {status}")
                    counts["pick_process_disagreements"] += 1


def check_pick_outcome(status, out: str, err: str, tag: str, counts: dict, problems: list[str]) -> None:
    if status is None:
        return
    counts[f"pick_exit_{status}"] = counts.get(f"pick_exit_{status}", 0) + 1
    if status not in (0, 1, 2):
        counts["pick_bad_exit"] += 1
        problems.append(f"{tag}: exit {status}")
        return
    if status == 2:
        lines = err.strip().splitlines()
        if not lines or len(lines) > 10 or len(err) > 2000 or "Traceback" in err:
            counts["pick_long_errors"] += 1
            problems.append(f"{tag}: usage error of {len(lines)} lines / {len(err)} characters")
        return
    try:
        report = json.loads(out)
    except ValueError:
        counts["pick_unreadable_reports"] += 1
        problems.append(f"{tag}: report is not JSON")
        return
    for finding in report["findings"]:
        if "\n" in finding["message"] or len(finding["message"]) > 2000:
            counts["pick_long_errors"] += 1
            problems.append(f"{tag}: a finding of {len(finding['message'])} characters / several lines")
            return


# -- the report ------------------------------------------------------------------------------
FAILURE_KEYS = (
    "tracebacks",
    "hangs",
    "changed_by_audit",
    "broken_by_fix",
    "fix_mistakes",
    "multi_line_errors",
    "duplicate_errors",
    "unreported_bad_inputs",
    "internal_errors",
    "spoiled_cache_disagreements",
    "pick_tracebacks",
    "pick_hangs",
    "pick_bad_exit",
    "pick_long_errors",
    "pick_unreadable_reports",
    "pick_process_disagreements",
)


def write_markdown(path: Path, data: dict) -> None:
    counts = data["counts"]
    lines = [
        "# Fuzzing the auditor and the picker's validator (issue 16)",
        "",
        f"Made by `{data['command']}` on {data['machine']} ({data['date']}, {counts['seconds']} s wall, load average "
        f"{data['load_average_at_start']} at the start)"
        + ("." if data["finished"] else ": STOPPED BEFORE THE END, the counts are those of the inputs done so far."),
        "",
        f"- Python inputs: {counts['inputs_audited']} of {counts['inputs']} ({data['sources']}); each through `temporalkit audit --format json` and "
        f"`temporalkit audit --fix --format json` on a copy (both with `--select ALL`: every rule, opt-in ones too), in {counts['runs']} runs of up to {data['batch']} files "
        "plus the special entries of every batch (FIFO, /dev/zero and dangling symlinks, a folder and an "
        "unreadable folder named like Python, a symlinked, a read-only and a non-UTF-8-named fixable file); "
        "every 8th batch also `--no-cache --format sarif`, `--diff` and a rerun on a spoiled cache.",
        f"- Picker inputs: {counts['pick_inputs']} `temporalkit pick validate` runs (specs and replies), "
        f"{counts['pick_processes']} of them also as a fresh process.",
        f"- Total inputs run: {counts['inputs_audited'] + counts['pick_inputs']}.",
        "",
        "| must be 0 | count |",
        "|---|---|",
    ]
    lines += [f"| {key} | {counts[key]} |" for key in FAILURE_KEYS]
    lines += [
        "",
        "| counted | count |",
        "|---|---|",
    ]
    shown = set(FAILURE_KEYS) | {"seconds", "inputs_audited_so_far"}
    lines += [
        f"| {key} | {round(value, 1) if isinstance(value, float) else value} |"
        for key, value in counts.items()
        if key not in shown
    ]
    lines += [
        "",
        "bad_inputs: inputs CPython's parser refuses or over the 5 MB cap, each reported as exactly one one-line "
        "error; gated: valid Python the parser gate turns away (nesting past what libcst parses safely); "
        "budget_kills / crashes_contained: files cut by the per-file time budget or whose worker crashed, "
        "the run going on; other_errors_on_valid_python: files CPython accepts that the audit refused for "
        "another reason (listed below).",
        "",
    ]
    if data["failures"]:
        lines += ["## Failures", "", *[f"- {f}" for f in data["failures"][:200]], ""]
    if data["contained"]:
        lines += ["## Contained (not failures)", "", *[f"- {n}" for n in data["contained"][:200]], ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="number of Python input files (default 400)")
    parser.add_argument("--pick", type=int, default=100, help="number of pick validate inputs (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=250, help="files per audit run (default 250)")
    parser.add_argument(
        "--file-timeout", type=float, default=None, help="per-file time budget (default: the auditor's own)"
    )
    parser.add_argument(
        "--stdlib",
        type=Path,
        default=Path(sysconfig.get_paths()["stdlib"]),
        help="folder of real Python files to use and mutate (default: this interpreter's stdlib)",
    )
    parser.add_argument(
        "--cpython-tests",
        type=Path,
        action="append",
        default=None,
        help="CPython test-suite folders, used first (default: /usr/lib/python3.11/test and the stdlib's test/)",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="also use (and mutate) the .py files under this folder, first (e.g. examples/)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the batches that failed here")
    parser.add_argument("--json", type=Path, default=None, help="write counts, failures and notes as JSON here")
    parser.add_argument("--md", type=Path, default=None, help="write a Markdown summary here")
    args = parser.parse_args(argv)

    import platform

    rng = random.Random(args.seed)
    tests = args.cpython_tests if args.cpython_tests is not None else cpython_test_dirs()
    files = inputs(args.n, rng, args.stdlib, tests, args.extra) if args.n > 0 else []
    counts = {key: 0 for key in FAILURE_KEYS}
    counts.update(
        dict.fromkeys(
            (
                "inputs",
                "inputs_audited",
                "inputs_fixed_on_copies",
                "runs",
                "run_seconds",
                "bad_inputs",
                "file_errors",
                "findings",
                "changed_by_fix",
                "gated",
                "budget_kills",
                "crashes_contained",
                "other_errors_on_valid_python",
                "cache_files_spoiled",
                "pick_inputs",
                "pick_processes",
                "pick_seconds",
            ),
            0,
        )
    )
    counts["inputs"] = len(files)
    problems: list[str] = []
    notes: list[str] = []
    started = time.monotonic()
    load = [round(x, 2) for x in os.getloadavg()]
    suite = sum(1 for d in tests for p in d.rglob("*.py") if p.is_file())

    def save(done: bool = False) -> dict:
        """The report so far (written after every batch, so a run stopped early still says what it did)."""
        snapshot = dict(counts)
        snapshot["inputs_audited_so_far"] = snapshot["inputs_audited"]
        snapshot["seconds"] = round(time.monotonic() - started)
        for key in ("run_seconds", "pick_seconds"):
            snapshot[key] = round(snapshot[key])
        data = {
            "command": "python benchmarks/fuzz_audit.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "finished": done,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_at_start": load,
            "batch": args.batch,
            "sources": (
                f"CPython's test suite ({suite} files under {', '.join(map(str, tests)) or 'none found'}) and "
                f"library ({args.stdlib}): whole files and fragments, as is and mutated; {len(issue_cases())} "
                "issue-16 cases; generated hostile files"
                + (f"; {', '.join(map(str, args.extra))}" if args.extra else "")
            ),
            "counts": snapshot,
            "failures": problems,
            "contained": notes,
        }
        if args.json:
            args.json.write_text(json.dumps(data, indent=2) + "\n")
        if args.md:
            write_markdown(args.md, data)
        return data

    args.checkpoint = save
    if files:
        fuzz_audit(files, args, counts, problems, notes, rng)
    if args.pick:
        fuzz_pick(args.pick, rng, counts, problems, save)
    data = save(done=True)
    print(json.dumps(data["counts"], indent=2))
    for line in problems:
        print("FAIL", line)
    for line in notes:
        print("contained:", line)
    return 1 if any(counts[key] for key in FAILURE_KEYS) else 0


if __name__ == "__main__":
    sys.exit(main())
