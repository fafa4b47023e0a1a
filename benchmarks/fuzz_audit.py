"""Fuzz the static auditor with hostile and real-world files: no traceback, no hang, no file changed
except by --fix, and --fix never breaks a file (issue 16, "The figures to reach").

    .venv/bin/python benchmarks/fuzz_audit.py --n 400 [--seed 0] [--batch 40] [--file-timeout 30]
        [--stdlib DIR] [--keep DIR] [--json FILE]

Inputs (deterministic for a seed), in rotation:
- files of CPython's own library and test suite (`--stdlib`, default: this interpreter's), as is;
- the same files mutated: truncated at a random point, lines dropped, duplicated or shuffled,
  random bytes flipped, re-encoded (latin-1 with a coding cookie, UTF-8 BOM, CRLF, tabs);
- generated hostile files: deep nesting of every bracket and operator kind, 100k-term chains,
  null bytes, invalid UTF-8, lone surrogates, very long lines, files just under and over the size
  cap, empty files; and in each batch a FIFO, a symlink to /dev/zero and a dangling symlink, all
  named `*.py`.

Each batch of `--batch` files is copied twice: `temporalkit audit DIR --no-cache --format json`
runs on the first copy (which must come out byte-identical), `temporalkit audit DIR --fix
--no-cache` on the second. Counted: runs that print a traceback or exit with a status other than
0/1 (tracebacks), runs killed by the batch time limit (hangs: the per-file budget did not hold),
files changed by the plain audit (must be 0), files changed by --fix, fixed files that no longer
compile while they compiled before (must be 0), and file errors reported (one line each).
Not part of CI: it takes minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# -- inputs -------------------------------------------------------------------------------
def hostile_texts(rng: random.Random) -> list[tuple[str, bytes]]:
    """(name, content) of generated files that once crashed, hung or fooled the auditor, and kin."""
    trigger = b"import numpy as np\nidx = np.linspace(0, n, T)\n"  # so libcst would be asked to parse
    nest = lambda open_, close, n: b"x = " + open_ * n + b"1" + close * n + b"\n"  # noqa: E731
    depth = rng.choice([150, 199, 200, 250, 1000, 3000, 5000])
    chain = rng.choice([100, 199, 300, 2000, 20000, 100000])
    cases = [
        ("parens", trigger + nest(b"(", b")", depth)),
        ("brackets", trigger + nest(b"[", b"]", depth)),
        ("braces", trigger + nest(b"{", b"}", depth)),
        ("attributes", trigger + b"x = a" + b".b" * chain + b"\n"),
        ("subscripts", trigger + b"x = a" + b"[0]" * min(chain, 20000) + b"\n"),
        ("calls", trigger + b"x = f" + b"()" * min(chain, 20000) + b"\n"),
        ("sum", trigger + b"x = " + b"+".join([b"1"] * chain) + b"\n"),
        ("boolean", trigger + b"x = " + b" or ".join([b"a"] * chain) + b"\n"),
        ("compare", trigger + b"x = " + b" < ".join([b"a"] * chain) + b"\n"),
        ("unary", trigger + b"x = " + b"-" * chain + b"a\n"),
        ("not", trigger + b"x = " + b"not " * min(chain, 5000) + b"a\n"),
        ("strings", trigger + b"x = " + b" ".join([b"'a'"] * chain) + b"\n"),
        ("lambdas", trigger + b"x = " + b"lambda: " * depth + b"1\n"),
        ("ternary", trigger + b"x = " + b"a if b else " * min(depth, 2000) + b"c\n"),
        ("indent", trigger + b"".join(b" " * i + b"if x:\n" for i in range(min(depth, 120))) + b" " * 120 + b"pass\n"),
        ("fstring", trigger + b"x = " + b"f'{" * 3 + b"1" + b"}'" * 3 + b"\n"),
        ("tuple", trigger + b"x = (" + b",".join([b"1"] * chain) + b")\n"),
        ("nulls", trigger + b"x = 1\x00\x00\n"),
        ("bad_utf8", trigger + b"x = '\xff\xfe'\n"),
        ("latin1_cookie", b"# -*- coding: latin-1 -*-\n" + trigger + "s = 'café'\n".encode("latin-1")),
        ("bad_cookie", b"# -*- coding: klingon -*-\n" + trigger + b"s = '\xe9'\n"),
        ("bom", b"\xef\xbb\xbf" + trigger),
        ("surrogate", trigger + "x = '\\ud800'\n".encode()),
        ("long_line", trigger + b"x = '" + b"a" * 1_000_000 + b"'\n"),
        ("near_cap", trigger + b"# " + b"a" * 4_900_000 + b"\n"),  # just under the 5 MB cap: audited
        ("over_cap", trigger + b"# " + b"a" * 5_300_000 + b"\n"),  # just over: skipped with one error
        ("empty", b""),
        ("only_comment", b"# np.linspace(0, n, T)\n"),
        ("syntax_error", trigger + b"def f(:\n"),
        ("tabs_spaces", trigger + b"if x:\n\tif y:\n        pass\n"),
        ("random_bytes", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))),
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


def inputs(n: int, rng: random.Random, stdlib: Path, extra: list[Path] = ()) -> list[tuple[str, bytes]]:
    library = sorted(p for p in stdlib.rglob("*.py") if p.is_file() and "site-packages" not in p.parts)
    rng.shuffle(library)
    # Sampler code (examples/, a corpus checkout) first, so --fix has findings to fix.
    library = [p for d in extra for p in sorted(Path(d).rglob("*.py")) if p.is_file()] + library
    hostile = hostile_texts(rng)
    out: list[tuple[str, bytes]] = []
    i = 0
    while len(out) < n:
        slot = len(out) % 4
        if slot == 3 or not library:
            name, content = hostile[i % len(hostile)]
            if i >= len(hostile):
                name, content = hostile_texts(rng)[i % len(hostile)]
            out.append((f"{len(out):05d}_{name}", content))
            i += 1
            continue
        source = library[len(out) % len(library)]
        try:
            data = source.read_bytes()
        except OSError:
            continue
        if slot == 0:
            out.append((f"{len(out):05d}_lib_{source.name}", data))
        else:
            kind, mutated = mutate(rng, data)
            out.append((f"{len(out):05d}_{kind}_{source.name}", mutated))
    return out


# -- running -----------------------------------------------------------------------------
def tree_hashes(root: Path) -> dict[str, str]:
    hashes = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def compiles(data: bytes) -> bool:
    try:
        compile(data, "<fuzz>", "exec", 0x400, dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False


def write_batch(directory: Path, batch: list[tuple[str, bytes]], specials: bool) -> None:
    directory.mkdir(parents=True)
    for name, content in batch:
        (directory / name).write_bytes(content)
    if specials:  # things that are not regular files, named like Python
        os.mkfifo(directory / "special_fifo.py")
        os.symlink("/dev/zero", directory / "special_dev_zero.py")
        os.symlink(directory / "missing_target.py", directory / "special_dangling.py")


def run_audit(directory: Path, extra: list[str], timeout: float, env: dict) -> tuple[int | None, str, str, float]:
    command = [sys.executable, "-m", "temporalkit", "audit", str(directory), "--no-cache", *extra]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env, cwd=directory.parent)
    except subprocess.TimeoutExpired as exc:
        return None, (exc.stdout or b"").decode(errors="replace"), (exc.stderr or b"").decode(errors="replace"), timeout
    return (
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        time.monotonic() - started,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="number of input files (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=40, help="files per audit run (default 40)")
    parser.add_argument("--file-timeout", type=float, default=30.0, help="per-file time budget given to the auditor, s")
    parser.add_argument(
        "--stdlib",
        type=Path,
        default=Path(sysconfig.get_paths()["stdlib"]),
        help="folder of real Python files to use and mutate (default: this interpreter's stdlib)",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="also use (and mutate) the .py files under this folder, first (e.g. examples/)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the batches that failed here")
    parser.add_argument("--json", type=Path, default=None, help="write the counts as JSON here")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    files = inputs(args.n, rng, args.stdlib, args.extra)
    env = dict(os.environ, TEMPORALKIT_FILE_TIMEOUT=str(args.file_timeout), PYTHONPATH=str(REPO))
    counts = {
        "inputs": len(files),
        "runs": 0,
        "tracebacks": 0,
        "hangs": 0,
        "changed_by_audit": 0,
        "changed_by_fix": 0,
        "broken_by_fix": 0,
        "file_errors": 0,
        "multi_line_errors": 0,
        "findings": 0,
        "budget_kills": 0,
        "crashes_contained": 0,
    }
    failures: list[str] = []
    notes: list[str] = []  # files killed by their time budget or whose worker crashed: contained, worth a look
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tk-fuzz-") as scratch:
        for b in range(0, len(files), args.batch):
            batch = files[b : b + args.batch]
            for mode in ("audit", "fix"):
                directory = Path(scratch) / f"batch{b:05d}_{mode}"
                write_batch(directory, batch, specials=True)
                before = tree_hashes(directory)
                extra = ["--format", "json", "--exit-zero"] if mode == "audit" else ["--fix", "--exit-zero"]
                # The batch limit: every file's budget, were they all to hang one after another, plus slack.
                limit = 120 + args.file_timeout * 2 + 3 * len(batch)
                status, out, err, took = run_audit(directory, extra, limit, env)
                counts["runs"] += 1
                problem = None
                if status is None:
                    counts["hangs"] += 1
                    problem = f"hang (> {limit:.0f} s)"
                elif status not in (0, 1) or "Traceback" in err:
                    counts["tracebacks"] += 1
                    problem = f"exit {status}: {err.strip().splitlines()[-1] if err.strip() else ''}"
                after = tree_hashes(directory)
                changed = [name for name in before if after.get(name) != before[name]]
                if mode == "audit":
                    counts["changed_by_audit"] += len(changed)
                    if changed:
                        problem = (problem or "") + f" changed {changed[:3]}"
                    if status is not None and out.strip():
                        try:
                            report = json.loads(out)
                            counts["file_errors"] += len(report["errors"])
                            counts["multi_line_errors"] += sum("\n" in e["message"] for e in report["errors"])
                            counts["findings"] += len(report["findings"])
                            for e in report["errors"]:
                                if "took longer than" in e["message"] or "crashed" in e["message"]:
                                    counts[
                                        "budget_kills" if "took longer" in e["message"] else "crashes_contained"
                                    ] += 1
                                    notes.append(f"batch {b}: {Path(e['path']).name}: {e['message']}")
                        except (json.JSONDecodeError, KeyError):
                            counts["tracebacks"] += 1
                            problem = (problem or "") + " unreadable JSON"
                else:
                    counts["changed_by_fix"] += len(changed)
                    originals = dict(batch)
                    broken = [
                        n
                        for n in changed
                        if compiles(originals.get(n, b"")) and not compiles((directory / n).read_bytes())
                    ]
                    counts["broken_by_fix"] += len(broken)
                    if broken:
                        problem = (problem or "") + f" --fix broke {broken[:3]}"
                if problem:
                    failures.append(f"batch {b} {mode}: {problem}")
                    if args.keep:
                        shutil.copytree(
                            directory,
                            args.keep / directory.name,
                            symlinks=True,
                            dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if n.startswith("special_")],
                        )
                print(
                    f"batch {b // args.batch + 1}/{(len(files) + args.batch - 1) // args.batch} {mode}: "
                    f"{took:.0f} s{' ' + problem if problem else ''}",
                    file=sys.stderr,
                    flush=True,
                )
                _remove(directory)
    counts["seconds"] = round(time.monotonic() - started)
    print(json.dumps(counts, indent=2))
    for failure in failures:
        print(failure)
    for note in notes:
        print("contained:", note)
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "failures": failures, "contained": notes}, indent=2) + "\n")
    bad = (
        counts["tracebacks"]
        + counts["hangs"]
        + counts["changed_by_audit"]
        + counts["broken_by_fix"]
        + counts["multi_line_errors"]
    )
    return 1 if bad else 0


def _remove(directory: Path) -> None:
    for special in ("special_fifo.py", "special_dev_zero.py", "special_dangling.py"):
        try:
            os.unlink(directory / special)
        except OSError:
            pass
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
