"""Time `temporalkit cost --model all` at T in {8, 16, 32} x size in {112, 224}.

Each configuration runs the real console script in a fresh process (what a user waits for,
Python start-up and the torch import included), REPEATS times; the median is kept. Writes
outputs/bench_cost.json and outputs/bench_cost.md. Run: `.venv/bin/python benchmarks/bench_cost.py`.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

FRAMES = (8, 16, 32)
SIZES = (112, 224)
REPEATS = 3
TARGET_SECONDS = 10.0
ROOT = Path(__file__).resolve().parent.parent


def time_cost_command(frames: int, size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child); CPU time does not grow when the machine is shared."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        sys.executable,
        "-m",
        "temporalkit",
        "cost",
        "--model",
        "all",
        "--frames",
        str(frames),
        "--size",
        str(size),
        "--format",
        "json",
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows = json.loads(result.stdout)
    assert len(rows) == 15, f"expected 15 rows, got {len(rows)}"
    return elapsed, cpu


def main() -> int:
    results = []
    for frames in FRAMES:
        for size in SIZES:
            runs = [time_cost_command(frames, size) for _ in range(REPEATS)]
            times = [wall for wall, _ in runs]
            results.append(
                {
                    "frames": frames,
                    "size": size,
                    "median_s": statistics.median(times),
                    "runs_s": times,
                    "median_cpu_s": statistics.median(cpu for _, cpu in runs),
                }
            )
            print(
                f"T={frames:2d} size={size}: median {results[-1]['median_s']:.2f} s wall, "
                f"{results[-1]['median_cpu_s']:.2f} s CPU over {REPEATS} runs",
                flush=True,
            )
    document = {
        "command": "temporalkit cost --model all --frames T --size S --format json",
        "repeats": REPEATS,
        "target_s": TARGET_SECONDS,
        "cpu_count": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "load_average_1min_at_end": os.getloadavg()[0],
        "results": results,
    }
    out = ROOT / "outputs"
    out.mkdir(exist_ok=True)
    (out / "bench_cost.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# Benchmark: `temporalkit cost --model all`",
        "",
        "Wall time of the console script in a fresh process (Python start-up and torch import included),",
        f"median of {REPEATS} runs, {os.cpu_count()} CPU cores, meta device. Target: under {TARGET_SECONDS:.0f} s.",
        "Reproduce: `.venv/bin/python benchmarks/bench_cost.py`.",
        "",
        f"Machine load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared; CPU time is",
        "the figure that does not depend on the load).",
        "",
        "| frames | size | median wall s | median CPU s | runs wall s |",
        "|---:|---:|---:|---:|---|",
    ]
    for result in results:
        lines.append(
            f"| {result['frames']} | {result['size']} | {result['median_s']:.2f} | {result['median_cpu_s']:.2f} | {', '.join(f'{t:.2f}' for t in result['runs_s'])} |"
        )
    (out / "bench_cost.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
