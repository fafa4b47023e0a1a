"""Speed of `temporalkit audit`: one file the way pre-commit calls it, and a large real tree next to Fixit.

    .venv/bin/python benchmarks/bench_audit.py [--repeats 11] [--skip-fixit] [--workdir DIR]

The large tree is the Python sources of pytorchvideo and mmaction2, fetched at benchmark time with
`pip download --no-deps` into a temporary directory (never committed). Every figure is wall time of
a fresh process, as a user would see it. Writes outputs/bench_audit.json and outputs/bench_audit.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEMPORALKIT = str(BIN / "temporalkit")
FIXIT = str(BIN / "fixit")
PACKAGES = ("pytorchvideo", "mmaction2")


def timed(
    cmd: list[str], env: dict | None = None, cwd: Path | None = None
) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    completed = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    return time.perf_counter() - start, completed


def fetch_tree(workdir: Path) -> Path:
    """Download the packages and extract their .py files into workdir/tree/<package>/."""
    downloads = workdir / "downloads"
    tree = workdir / "tree"
    if tree.is_dir() and any(tree.rglob("*.py")):
        return tree
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(downloads), *PACKAGES], check=True
    )
    for archive in sorted(downloads.iterdir()):
        package = archive.name.split("-")[0]
        target = tree / package
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    if name.endswith(".py"):
                        zf.extract(name, target)
        elif archive.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".py")]
                tf.extractall(target, members=members, filter="data")
    return tree


def visible_tree(tree: Path, workdir: Path) -> Path:
    """A copy of `tree` with hidden folders un-hidden (mmaction2's wheel keeps its `configs/` in `.mim/`).

    In the mmaction2 repository the configs are a plain `configs/` folder; temporalkit skips hidden
    folders and Fixit does not, so both are timed on this copy, where they lint the same files.
    """
    visible = workdir / "tree-visible"
    if not visible.is_dir():
        for source in tree.rglob("*.py"):
            relative = Path(*(part.lstrip(".") or part for part in source.relative_to(tree).parts))
            target = visible / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return visible


def tree_size(tree: Path) -> tuple[int, int]:
    files = sorted(tree.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def one_file(workdir: Path, repeats: int) -> dict:
    """Median wall time of `temporalkit audit FILE` in a fresh process (how pre-commit runs it).

    pre-commit installs the hook with pip, which byte-compiles the package, so the main figures are
    taken with bytecode in place (compileall first, PYTHONDONTWRITEBYTECODE removed); the
    no-bytecode column shows the cost of compiling our modules on every start as well.
    """
    packages = [REPO / "temporalkit", REPO / "validators", REPO / "reference_models"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TEMPORALKIT_CACHE_DIR=str(workdir / "cache-one"), NO_COLOR="1")
    no_bytecode_env = dict(env, PYTHONDONTWRITEBYTECODE="1")
    cases = {
        "example with findings": REPO / "examples" / "pipelines" / "buggy_sampler.py",
        "file no rule triggers on": REPO / "temporalkit" / "__init__.py",
    }
    results = {}
    for label, path in cases.items():
        shutil.rmtree(workdir / "cache-one", ignore_errors=True)
        command = [TEMPORALKIT, "audit", "--no-cache", "--exit-zero", str(path)]
        for package in packages:  # no bytecode of ours: every start compiles temporalkit's modules
            for cache_dir in package.rglob("__pycache__"):
                shutil.rmtree(cache_dir, ignore_errors=True)
        cold_no_bytecode = [timed(command, no_bytecode_env, REPO)[0] for _ in range(repeats)]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, packages)], check=True)
        cold = [timed(command, env, REPO)[0] for _ in range(repeats)]
        timed([TEMPORALKIT, "audit", "--exit-zero", str(path)], env, REPO)  # fill the cache
        warm = [timed([TEMPORALKIT, "audit", "--exit-zero", str(path)], env, REPO)[0] for _ in range(repeats)]
        results[label] = {
            "path": str(path.relative_to(REPO)),
            "no_cache_median_s": round(statistics.median(cold), 3),
            "no_cache_no_bytecode_median_s": round(statistics.median(cold_no_bytecode), 3),
            "cached_median_s": round(statistics.median(warm), 3),
            "repeats": repeats,
        }
    baseline = [timed([sys.executable, "-c", "pass"])[0] for _ in range(repeats)]
    results["python -c pass (process start alone)"] = {"median_s": round(statistics.median(baseline), 3)}
    return results


def large_tree(workdir: Path, tree: Path, skip_fixit: bool) -> dict:
    files, lines = tree_size(tree)
    env = dict(os.environ, TEMPORALKIT_CACHE_DIR=str(workdir / "cache-tree"), NO_COLOR="1")
    shutil.rmtree(workdir / "cache-tree", ignore_errors=True)
    audit = [TEMPORALKIT, "audit", "--exit-zero", "--format", "json", str(tree)]
    no_cache_s, completed = timed(audit[:2] + ["--no-cache"] + audit[2:], env)
    report = json.loads(completed.stdout)
    first_s, first = timed(audit, env)  # cold, and fills the cache
    warm_s, warm = timed(audit, env)
    # The cached run must report exactly what the run that filled the cache found.
    cache_agrees = json.loads(warm.stdout) == json.loads(first.stdout) and json.loads(first.stdout) == report
    rows = {
        "temporalkit audit, cold (--no-cache)": no_cache_s,
        "temporalkit audit, cold, filling the cache": first_s,
        "temporalkit audit, warm (cache, unchanged files)": warm_s,
    }
    fixit_note = "skipped"
    if not skip_fixit and Path(FIXIT).exists():
        fixit_s, fixit = timed([FIXIT, "lint", str(tree)])
        rows["fixit lint (Fixit 2.2.1 default rules)"] = fixit_s
        fixit_note = f"exit {fixit.returncode}"
    return {
        "files": files,
        "lines": lines,
        "findings": len(report["findings"]),
        "file_errors": len(report["errors"]),
        "runs": {name: {"seconds": round(s, 2), "files_per_s": round(files / s, 1)} for name, s in rows.items()},
        "fixit": fixit_note,
        "cached_equals_uncached": cache_agrees,
    }


def write_outputs(data: dict) -> None:
    out = REPO / "outputs"
    out.mkdir(exist_ok=True)
    (out / "bench_audit.json").write_text(json.dumps(data, indent=2) + "\n")
    one, tree = data["one_file"], data["large_tree"]
    lines = [
        "# temporalkit audit: speed",
        "",
        f"Made by `{data['command']}` on {data['machine']} ({data['date']}).",
        "",
        "## One file, the way pre-commit calls it (fresh process, median wall time)",
        "",
        "| file | --no-cache | --no-cache, no bytecode | cached |",
        "|---|---|---|---|",
    ]
    for label, row in one.items():
        if "path" in row:
            lines.append(
                f"| {label} (`{row['path']}`) | {row['no_cache_median_s']} s | "
                f"{row['no_cache_no_bytecode_median_s']} s | {row['cached_median_s']} s |"
            )
    lines += [
        "",
        f"Process start alone (`python -c pass`): {one['python -c pass (process start alone)']['median_s']} s. "
        "Bytecode in place as after a pip install (the way pre-commit installs the hook); the no-bytecode "
        "column runs with PYTHONDONTWRITEBYTECODE=1, compiling temporalkit's modules on every start.",
        "",
    ]
    lines += [
        f"## Large tree: {', '.join(data['packages'])} ({tree['files']} Python files, {tree['lines']} lines)",
        "",
        "| run | wall time | files/s | fixit lint time / this |",
        "|---|---|---|---|",
    ]
    fixit_s = next((row["seconds"] for name, row in tree["runs"].items() if name.startswith("fixit")), None)
    for name, row in tree["runs"].items():
        ratio = f"{fixit_s / row['seconds']:.1f}x" if fixit_s and not name.startswith("fixit") else ""
        lines.append(f"| {name} | {row['seconds']} s | {row['files_per_s']} | {ratio} |")
    lines += [
        "",
        f"temporalkit: {tree['findings']} findings, {tree['file_errors']} files that could not be audited; "
        f"cached run identical to uncached: {tree['cached_equals_uncached']}. Fixit: {tree['fixit']}.",
        "",
        f"Wall times on a 2-core machine with load average {data['load_average_at_start']} at the start "
        "(1, 5, 15 min); the tree is fetched with `pip download --no-deps pytorchvideo mmaction2` into a "
        "temporary directory and not kept. Both tools lint the same files: all the packages' Python files, "
        "with mmaction2's `.mim/configs` un-hidden as `mim/configs` (in its repository they are `configs/`).",
        "",
    ]
    (out / "bench_audit.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--workdir", default=None, help="reuse downloads here (default: a fresh temporary directory)")
    args = parser.parse_args()
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="tk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tree = visible_tree(fetch_tree(workdir), workdir)
    data = {
        "command": "python benchmarks/bench_audit.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d"),
        "packages": sorted(p.name for p in (workdir / "downloads").iterdir()),
        "one_file": one_file(workdir, args.repeats),
        "large_tree": large_tree(workdir, tree, args.skip_fixit),
    }
    write_outputs(data)
    print((REPO / "outputs" / "bench_audit.md").read_text())
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
