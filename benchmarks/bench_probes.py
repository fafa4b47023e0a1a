"""Probe-video generation time: the whole set cold (fresh directory) and cached.

Target (issue 4): all probes generated in under 5 s on the 2-core CI machine, cached afterwards.
Writes outputs/bench_probes.json.

    .venv/bin/python benchmarks/bench_probes.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from temporalkit.validators.dynamic.probes import PROBE_SPECS, make_probe_set

OUTPUT = Path(__file__).resolve().parents[1] / "outputs" / "bench_probes.json"
TARGET_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cold, cached = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            probes = make_probe_set(directory)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            make_probe_set(directory)
            cached.append(time.perf_counter() - started)
            total_bytes = sum(p.path.stat().st_size for p in probes)
            total_frames = sum(p.frames for p in probes)
    result = {
        "benchmark": "probe video generation (write + decode-back verification of every frame code)",
        "probes": len(PROBE_SPECS),
        "frames": total_frames,
        "bytes": total_bytes,
        "repeats": args.repeats,
        "cold_seconds": [round(s, 3) for s in cold],
        "cold_seconds_median": round(statistics.median(cold), 3),
        "cached_seconds_median": round(statistics.median(cached), 5),
        "target_seconds": TARGET_SECONDS,
        "meets_target": statistics.median(cold) < TARGET_SECONDS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
