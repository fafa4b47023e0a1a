"""Per-line cost of `temporalkit audit` where issue 16 found it out of line: one 50k-line file,
`--fix` over 1,500 small fixable files, `--diff` next to a plain audit; and the one-file audit.

    .venv/bin/python benchmarks/bench_scaling.py [--repeats 3] [--small-files 1500] [--big-lines 50000]

Every figure is a fresh `temporalkit audit ... --no-cache` process. Measured: wall time, and CPU
time (user + system of the auditor and its workers, from the kernel's child-process accounting),
which is what a file costs whatever else runs on the machine; peak resident memory of the largest
process. The baseline is a plain audit of the small files: ordinary files (the example pipelines,
56-125 lines each, every one of which the rules parse). The 50k-line file is those files
concatenated until it has --big-lines lines. Writes outputs/bench_scaling.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPORALKIT = str(Path(sys.executable).parent / "temporalkit")
EXAMPLES = sorted((REPO / "examples" / "pipelines").glob("*.py"))


def run(args: list[str], cwd: Path) -> dict:
    """One fresh audit process: wall s, CPU s and peak RSS MB of it and the workers it waited for."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [TEMPORALKIT, "audit", "--no-cache", "--exit-zero", *args],
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=dict(os.environ, NO_COLOR="1"),
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if process.returncode not in (0, 1) or "Traceback" in stderr:
        raise SystemExit(f"audit {' '.join(args)} failed: {stderr[-500:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}


def lines_in(paths) -> int:
    return sum(p.read_bytes().count(b"\n") for p in paths)


def make_small(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for i in range(n):
        source = EXAMPLES[i % len(EXAMPLES)]
        target = folder / f"f{i:04d}_{source.name}"
        shutil.copyfile(source, target)
        files.append(target)
    return files


def make_big(path: Path, n_lines: int) -> None:
    parts, lines = [], 0
    while lines < n_lines:
        for source in EXAMPLES:
            text = source.read_text()
            parts.append(text)
            lines += text.count("\n")
    path.write_text("".join(parts))


_IN_PROCESS = """
import gc, sys, time
from pathlib import Path
from temporalkit.validators.audit import _load_rule_classes
from temporalkit.validators.engine import lint_and_fix

rules = list(_load_rule_classes(None))
if sys.argv[1] == "every-rule":  # the trigger filter off: every rule reads every file, as in the big file
    for rule in rules:
        rule.applies_to = classmethod(lambda cls, text: True)
texts = [Path(p).read_text() for p in sys.argv[2:]]
start = time.process_time()
for i, text in enumerate(texts):
    gc.disable()  # as the audit's workers do while one file is linted
    lint_and_fix(text, f"f{i}.py", rules)
    gc.enable()
print(time.process_time() - start)
"""


def in_process_cpu(mode: str, paths: list[Path]) -> float:
    """CPU seconds of `lint_and_fix` over `paths` in one process, with the trigger filter ("triggers") or
    with every rule forced on every file ("every-rule")."""
    done = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, mode, *map(str, paths)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def median_of(runs: list[dict]) -> dict:
    return {
        "wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
        "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "max_rss_mb": round(max(r["max_rss_mb"] for r in runs)),
        "runs": len(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small-files", type=int, default=1500)
    parser.add_argument("--big-lines", type=int, default=50_000)
    parser.add_argument("--big-repeats", type=int, default=1, help="runs of the big file (each takes minutes)")
    parser.add_argument("--one-file-repeats", type=int, default=11)
    args = parser.parse_args()
    load = [round(x, 2) for x in os.getloadavg()]
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tk-scaling-") as scratch:
        scratch = Path(scratch)
        small = make_small(scratch / "small", args.small_files)
        small_lines = lines_in(small)
        plain, diff, fix = [], [], []
        for r in range(args.repeats):
            plain.append(run(["small"], scratch))
            diff.append(run(["small", "--diff"], scratch))
            fixed = scratch / f"fix{r}"
            shutil.copytree(scratch / "small", fixed)
            fix.append(run([fixed.name, "--fix"], scratch))
            shutil.rmtree(fixed)
        big = scratch / "big.py"
        make_big(big, args.big_lines)
        big_lines = lines_in([big])
        big_runs = [run(["big.py"], scratch) for _ in range(args.big_repeats)]
        # Like for like: the big file mentions every rule's trigger words, so every rule reads all of it, while
        # each small file is read only by the rules it triggers. The same texts in one process, per line.
        copies = [EXAMPLES[i % len(EXAMPLES)] for i in range(len(small))]
        like_for_like = {
            "small files, each read by the rules it triggers": in_process_cpu("triggers", copies),
            "small files, every rule on every file": in_process_cpu("every-rule", copies),
            "the big file": in_process_cpu("triggers", [big]),
        }
        one = REPO / "examples" / "pipelines" / "buggy_sampler.py"
        one_runs = [run([str(one)], REPO) for _ in range(args.one_file_repeats)]
    rows[f"plain audit, {args.small_files} small files (baseline)"] = dict(median_of(plain), lines=small_lines)
    rows[f"--diff, the same {args.small_files} files"] = dict(median_of(diff), lines=small_lines)
    rows[f"--fix, {args.small_files} small fixable files (copies)"] = dict(median_of(fix), lines=small_lines)
    rows[f"plain audit, one {big_lines:,}-line file"] = dict(median_of(big_runs), lines=big_lines)
    base = rows[f"plain audit, {args.small_files} small files (baseline)"]
    base_ms = 1000 * base["cpu_s"] / base["lines"]
    for row in rows.values():
        row["cpu_ms_per_line"] = round(1000 * row["cpu_s"] / row["lines"], 3)
        row["cpu_per_line_vs_baseline"] = round(row["cpu_ms_per_line"] / base_ms, 2)
    data = {
        "command": "python benchmarks/bench_scaling.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_at_start": load,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
        "in_process_cpu_s": {name: round(value, 2) for name, value in like_for_like.items()},
        "one_file": {
            "path": str(one.relative_to(REPO)),
            "wall_median_s": round(statistics.median(r["wall_s"] for r in one_runs), 3),
            "wall_min_s": round(min(r["wall_s"] for r in one_runs), 3),
            "cpu_median_s": round(statistics.median(r["cpu_s"] for r in one_runs), 3),
            "runs": len(one_runs),
        },
    }
    out = REPO / "outputs"
    (out / "bench_scaling.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        "# temporalkit audit: per-line cost (issue 16)",
        "",
        f"Made by `{data['command']}` on {data['machine']} ({data['date']}); load average {load} at the start, "
        f"{data['load_average_at_end']} at the end (1, 5, 15 min). Fresh processes, `--no-cache`; CPU is user + "
        "system time of the auditor and its workers (steady under load), wall time is what a user waits.",
        "",
        "| run | lines | wall (median) | CPU (median) | CPU ms / line | x baseline per line | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['lines']:,} | {row['wall_s']} s | {row['cpu_s']} s | {row['cpu_ms_per_line']} | "
            f"{row['cpu_per_line_vs_baseline']}x | {row['max_rss_mb']} MB |"
        )
    base_lines = small_lines
    lines += [
        "",
        "Like for like, in one process (`lint_and_fix`, CPU): the big file is the small files' text concatenated, "
        "but it holds every rule's trigger words, so every rule reads all of it.",
        "",
        "| in one process | CPU | CPU ms / line |",
        "|---|---|---|",
    ]
    for name, seconds in like_for_like.items():
        count = big_lines if name == "the big file" else base_lines
        lines.append(f"| {name} | {seconds:.2f} s | {1000 * seconds / count:.3f} |")
    one_row = data["one_file"]
    lines += [
        "",
        f"One file the way pre-commit calls it (`temporalkit audit --no-cache {one_row['path']}`, {one_row['runs']} "
        f"runs): median {one_row['wall_median_s']} s wall (fastest {one_row['wall_min_s']} s), "
        f"{one_row['cpu_median_s']} s CPU.",
        "",
    ]
    (out / "bench_scaling.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
