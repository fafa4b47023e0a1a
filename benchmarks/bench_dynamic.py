"""Time the dynamic sampler checks over the whole grid (issue 4 target: under 2 s per sampler).

The grid is the one `temporalkit check` / `audit --dynamic` uses: num_frames 0..300 plus 11 larger
lengths, every T in 1..64, three seeds (the extra seeds on num_frames <= 100), plus the same-seed,
test-time and start-reachability checks. Timed in-process (the child process adds its start-up,
measured separately as `child_process_s`). Writes outputs/bench_dynamic.json.

    .venv/bin/python benchmarks/bench_dynamic.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "outputs" / "bench_dynamic.json"))
    args = parser.parse_args()
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
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "command": ".venv/bin/python benchmarks/bench_dynamic.py",
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    for name, row in results.items():
        print(
            f"{name:32s} median {row['median_s']:.2f} s  (min {row['min_s']:.2f}, max {row['max_s']:.2f}; {row['sampler_calls']} calls)"
        )
    print(f"{'one sampler through the child':32s} {child_s:.2f} s")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
