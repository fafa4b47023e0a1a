"""Time the dynamic sampler checks over the whole grid (issue 4 target: under 2 s per sampler), one
`temporalkit check` end to end, the per-call seeding cost, a subsampler's grid, and (--demo) `make
demo`'s dynamic step (issue 12 targets: check under 2 s, demo step under 30 s on 2 cores).

The grid is the one `temporalkit check` / `audit --dynamic` uses: num_frames 0..300 plus 11 larger
lengths, every T in 1..64, three seeds (the extra seeds on num_frames <= 100), plus the same-seed,
test-time and start-reachability checks. Timed in-process (the child process adds its start-up,
measured separately as `child_process_s`). Writes outputs/bench_dynamic.json.

    .venv/bin/python benchmarks/bench_dynamic.py [--repeats 5] [--demo]
    .venv/bin/python benchmarks/bench_dynamic.py --modules [--baseline DIR]   # per module, serially
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from temporalkit.reference_models.sampling import (
    sample_dense_indices,
    sample_multi_clip_indices,
    sample_uniform_indices,
)
from temporalkit.validators.dynamic import check_object_results
from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

ROOT = Path(__file__).resolve().parents[1]


def uniform_sampler(num_frames, T):
    return sample_uniform_indices(num_frames, T)


def dense_sampler(num_frames, T, rng):
    return sample_dense_indices(num_frames, T, rng=rng)


def multi_clip_sampler(num_frames, T, num_clips):
    return sample_multi_clip_indices(num_frames, T, num_clips)


CASES = {
    "uniform (deterministic)": (uniform_sampler, "sampler"),
    "dense (random window, seeded)": (dense_sampler, "sampler"),
    "multi-clip (3 clips)": (multi_clip_sampler, "multiclip"),
}


def time_case(fn, role: str, repeats: int) -> dict:
    seconds = []
    calls = 0
    for _ in range(repeats):
        (sampler,) = build_samplers(fn, fn.__name__, role)
        started = time.perf_counter()
        findings = check_sampler(sampler)
        seconds.append(time.perf_counter() - started)
        assert findings == [], findings
        calls = int(sampler.notes[-1].split("; ")[1].split()[0])
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "repeats": repeats,
        "sampler_calls": calls,
    }


def _env(worker: str | None) -> dict[str, str] | None:
    if worker is None:
        return None
    return {**os.environ, "TEMPORALKIT_WORKER": worker}


def _side_by_side(timer, repeats: int) -> dict:
    """`timer(worker)` for the warm worker ("fork") and fresh interpreters ("fresh"), alternated so both
    see the same load; medians and their ratio."""
    seconds: dict[str, list[float]] = {"fork": [], "fresh": []}
    for _ in range(repeats):
        for worker in ("fresh", "fork"):
            seconds[worker].append(timer(worker))
    row = {f"{w}_median_s": round(statistics.median(v), 2) for w, v in seconds.items()}
    row.update({f"{w}_all_s": [round(x, 2) for x in v] for w, v in seconds.items()})
    row["fresh_over_fork"] = round(row["fresh_median_s"] / row["fork_median_s"], 2) if row["fork_median_s"] else None
    row["repeats"] = repeats
    return row


def time_check_cli(repeats: int, worker: str | None = None) -> dict:
    """`temporalkit check` on one sampler, end to end (the CLI's start, the child's, the grid)."""
    command = [
        sys.executable,
        "-m",
        "temporalkit",
        "check",
        "examples/pipelines/dynamic_correct.py:sample_segment_centres",
        "--role",
        "sampler",
    ]
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=_env(worker))
        seconds.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3), "repeats": repeats}


def time_seeding(calls: int = 2000) -> dict:
    """Per-call cost of seeding the global random state before an unseeded sampler's call: the
    adapters' `seed_globals` (torch's CPU generator directly) against `torch.manual_seed`."""
    from temporalkit.validators.dynamic.adapters import seed_globals

    row = {}
    try:
        import torch
    except ImportError:
        return {"torch": "not installed"}
    for name, seed in (("torch.manual_seed", torch.manual_seed), ("seed_globals", seed_globals)):
        started = time.perf_counter()
        for index in range(calls):
            seed(index)
        row[f"{name}_us"] = round((time.perf_counter() - started) / calls * 1e6, 1)
    return row


def time_subsampler_grid() -> dict:
    """The examples' pad_short_clip (a subsampler that walks its input frame by frame): its grid, in-process."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_buggy_transforms", ROOT / "examples/pipelines/buggy_transforms.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as in the child: the adapters read the module's imports (torch)
    spec.loader.exec_module(module)
    (sampler,) = build_samplers(module.pad_short_clip, "pad_short_clip", "subsample")
    started = time.perf_counter()
    check_sampler(sampler)
    return {"grid_s": round(time.perf_counter() - started, 3), "note": sampler.notes[-1]}


def time_demo(worker: str | None = None) -> dict:
    """`make demo`'s dynamic step: `temporalkit audit --dynamic examples/pipelines --no-cache`, wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--dynamic", "examples/pipelines", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=_env(worker),
    )
    summary = [line for line in done.stdout.splitlines() if line.startswith(("Found", "Dynamic", "Exercised", "No "))]
    return {"wall_s": round(time.perf_counter() - started, 1), "summary": summary}


def _audit_seconds(target: str, jobs: str | None, baseline: str | None) -> float:
    """Wall time of `temporalkit audit --dynamic TARGET --no-cache`, by this tree or by `baseline` (a
    folder holding another checkout's `temporalkit` package, run from there with it on PYTHONPATH)."""
    env = {**os.environ}
    if jobs is not None:
        env["TEMPORALKIT_DYNAMIC_JOBS"] = jobs
    cwd = ROOT
    if baseline:
        env["PYTHONPATH"] = baseline
        cwd = Path(baseline)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--dynamic", target, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        check=False,
        env=env,
    )
    return time.perf_counter() - started


def time_modules_serial(baseline: str | None, repeats: int) -> dict:
    """Each example module on its own, one module at a time (TEMPORALKIT_DYNAMIC_JOBS=1), and the whole
    demo step with the default jobs; with `baseline`, the baseline and this tree alternated (same load),
    minimum of `repeats` runs each."""
    files = sorted((ROOT / "examples" / "pipelines").glob("*.py"))
    targets = [(f.name, str(f), "1") for f in files] + [("demo step (all, default jobs)", str(files[0].parent), None)]
    rows = {}
    for label, target, jobs in targets:
        after, before = [], []
        for _ in range(repeats):
            if baseline:
                before.append(_audit_seconds(target, jobs, baseline))
            after.append(_audit_seconds(target, jobs, None))
        rows[label] = {"after_min_s": round(min(after), 2), "after_all_s": [round(x, 2) for x in after]}
        if baseline:
            rows[label].update({"before_min_s": round(min(before), 2), "before_all_s": [round(x, 2) for x in before]})
        print(f"{label:40s} " + (f"before {min(before):6.2f} s  " if baseline else "") + f"after {min(after):6.2f} s")
    modules = [r for label, r in rows.items() if label.endswith(".py")]
    rows["sum of modules"] = {"after_min_s": round(sum(r["after_min_s"] for r in modules), 2)}
    if baseline:
        rows["sum of modules"]["before_min_s"] = round(sum(r["before_min_s"] for r in modules), 2)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "outputs" / "bench_dynamic.json"))
    parser.add_argument("--demo", action="store_true", help="also time make demo's dynamic step (minutes)")
    parser.add_argument("--worker-repeats", type=int, default=3, help="runs of each worker mode, side by side")
    parser.add_argument("--only-worker", action="store_true", help="only the fork/fresh comparison")
    parser.add_argument(
        "--modules", action="store_true", help="only: each example module serially (JOBS=1), and the demo step"
    )
    parser.add_argument(
        "--baseline",
        help="with --modules: a folder holding an older checkout's temporalkit package, timed alternately",
    )
    parser.add_argument("--module-repeats", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()
    if args.modules:  # update the modules_serial rows of an existing report, keep the rest
        output = Path(args.output)
        report = json.loads(output.read_text()) if output.exists() else {}
        report["modules_serial"] = time_modules_serial(args.baseline, max(1, args.module_repeats))
        report["modules_serial"]["load_average"] = [
            [round(x, 1) for x in load_before],
            [round(x, 1) for x in os.getloadavg()],
        ]
        output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.output}")
        return 0
    if args.only_worker:  # update the fork/fresh rows of an existing report, keep the rest
        output = Path(args.output)
        report = json.loads(output.read_text()) if output.exists() else {}
        report["worker_check_cli_s"] = _side_by_side(lambda w: time_check_cli(1, w)["median_s"], args.worker_repeats)
        if args.demo:
            report["worker_demo_dynamic_step_s"] = _side_by_side(lambda w: time_demo(w)["wall_s"], args.worker_repeats)
        report["worker_load_average"] = [[round(x, 1) for x in load_before], [round(x, 1) for x in os.getloadavg()]]
        output.write_text(json.dumps(report, indent=2) + "\n")
        for key in ("worker_check_cli_s", "worker_demo_dynamic_step_s"):
            if key in report:
                print(key, json.dumps(report[key]))
        return 0
    results = {name: time_case(fn, role, args.repeats) for name, (fn, role) in CASES.items()}
    started = time.perf_counter()
    findings, errors = check_object_results(
        ROOT / "examples" / "pipelines" / "dynamic_correct.py", "sample_segment_centres", "sampler"
    )
    child_s = time.perf_counter() - started
    report = {
        "what": "dynamic sampler checks over the whole grid, in-process, median of repeats",
        "target_s": 2.0,
        "cases": results,
        "child_process_s": {"check_object(dynamic_correct.py:sample_segment_centres)": round(child_s, 3)},
        "check_cli_s": time_check_cli(max(1, args.repeats // 2)),
        "seeding_per_call": time_seeding(),
        "subsampler_grid": time_subsampler_grid(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 1) for x in load_before],
            "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        },
        "command": ".venv/bin/python benchmarks/bench_dynamic.py" + (" --demo" if args.demo else ""),
    }
    # Warm worker (issue 12): the same end-to-end runs with the per-module child forked from a process
    # that imported numpy/torch once ("fork", the default) and with fresh interpreters ("fresh").
    report["worker_check_cli_s"] = _side_by_side(
        lambda w: time_check_cli(1, w)["median_s"], max(1, args.worker_repeats)
    )
    if args.demo:
        report["demo_dynamic_step"] = time_demo()
        report["worker_demo_dynamic_step_s"] = _side_by_side(
            lambda w: time_demo(w)["wall_s"], max(1, args.worker_repeats // 2)
        )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if Path(args.output).exists():  # the --modules rows are kept until --modules runs again
        previous = json.loads(Path(args.output).read_text())
        if "modules_serial" in previous:
            report["modules_serial"] = previous["modules_serial"]
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    for name, row in results.items():
        print(
            f"{name:32s} median {row['median_s']:.2f} s  (min {row['min_s']:.2f}, max {row['max_s']:.2f}; {row['sampler_calls']} calls)"
        )
    print(f"{'one sampler through the child':32s} {child_s:.2f} s")
    print(f"{'temporalkit check (end to end)':32s} {report['check_cli_s']['median_s']:.2f} s")
    print(f"{'seeding per call':32s} {report['seeding_per_call']}")
    print(f"{'pad_short_clip grid':32s} {report['subsampler_grid']['grid_s']:.2f} s")
    if args.demo:
        print(f"{'demo dynamic step':32s} {report['demo_dynamic_step']['wall_s']:.1f} s")
    for key in ("worker_check_cli_s", "worker_demo_dynamic_step_s"):
        if key in report:
            row = report[key]
            print(
                f"{key:32s} fork {row['fork_median_s']} s, fresh {row['fresh_median_s']} s (x{row['fresh_over_fork']})"
            )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
