"""GPU check: run once on a machine with an NVIDIA GPU the paths that cannot be tested without one.

    bash benchmarks/gpu_check.sh OUT_DIR          # the wrapper: picks the interpreter, makes this tree importable
                                                  # (on a lent GPU machine: carry .whl/, not .venv/; see gpu_check.sh)
    python benchmarks/gpu_check.py --out OUT_DIR  # where temporalkit already imports from this tree

Checks (each timed, in its own try/except, recorded as pass / fail / skip / cpu-only / info with its error):
  1      device      pick_device picks cuda; GPU name, torch / CUDA / cuDNN / NCCL versions
  2      models      every registry model: CPU vs CUDA logits on the same weights and clip (fp32, TF32 off)
                     at 8x112 (16x224 where 8x112 is unsupported); 16x224 batch 8 on CUDA: finite, and
                     clip 0 of the batch equal to it alone
  3a/3b  cost        `temporalkit cost --model all --frames 16 --size 224 --device cuda --latency`; the
                     CPU median of one model for a ratio (3b runs last, on a quiet machine)
  4a1    memory      the dynamic runner itself (`run_module`, default limit, TEMPORALKIT_MEMORY_LIMIT
                     unset = auto): which enforcement it picks (resident memory where an NVIDIA GPU is
                     present, RLIMIT_AS elsewhere); in the child, CUDA init + an allocation + a Conv3d and
                     its resident memory after; a memory hog killed with the limit's message; the object
                     after it checked by a fresh child
  4a2    rlimits     (info, CUDA only) raw probes: torch + CUDA under RLIMIT_AS and under RLIMIT_DATA at
                     the default limit, to show what an address-space limit does to CUDA
  4b     audit       `temporalkit audit --dynamic examples/pipelines`, default limit (auto) and --memory-mb 0
  4c     probe       `temporalkit check` of an identity transform with --family 3d_conv (layout check
                     TK621 + motion check TK701 in the sandboxed child), default limit (auto) and
                     --memory-mb 0, and without --family (motion check alone), with a log of whether the
                     child initialised CUDA, its RLIMIT_AS and its peak resident memory
  5a/5b  motion      `temporalkit train` r2plus1d on CUDA (the shipped checkpoint's recipe); the shipped
                     checkpoint evaluated on CUDA and CPU
  6a-6c  ddp         torchrun --nproc_per_node=1 train on CUDA; NCCL + DDP smoke worker (this file,
                     --ddp-worker); --nproc_per_node=2 on one GPU must fail at once with one line
                     naming the cause (more processes than GPUs)

Without CUDA every CUDA part says "no CUDA" and the CPU parts run (training runs become small CPU
smoke runs), so the script is tested here. The 4b/4c subprocesses run in the background while the
GPU checks run. Writes OUT_DIR/gpu_check.json and gpu_check.md after every check (a killed run
leaves what it had), audit_default.json / audit_mem0.json and logs.txt; prints a compact summary.

`--skip` takes id prefixes: `--skip 2,3,4b,5,6a,6b` runs only 1, 4a, 4c and 6c (the memory limit, the
layout check on CUDA, torchrun with more processes than GPUs). Not yet timed on a GPU; from the parts'
times in the last full H200 run (1: 9 s, 4c: 9-10 s each in the background, 6c: 9 s, a torch + CUDA
probe: 4-5 s) expect 1-2 minutes; `--budget-s 150` keeps later checks from starting past that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

# The checks live in benchmarks/gpu_checks/; gpu_check.sh runs this script with PYTHONSAFEPATH=1, which keeps
# the script's folder off sys.path, so put it there (torchrun runs this file too: 6b's --ddp-worker).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_checks.common import ROOT, Run  # noqa: E402
from gpu_checks.cost import check_cost_cpu, check_cost_cuda  # noqa: E402
from gpu_checks.ddp import check_ddp_smoke, check_torchrun_train, check_two_ranks_one_gpu, ddp_worker  # noqa: E402
from gpu_checks.device import check_device  # noqa: E402
from gpu_checks.memory_limit import (  # noqa: E402
    check_audit,
    check_memory_limit,
    check_probe,
    check_raw_rlimits,
    start_background,
)
from gpu_checks.models import check_models  # noqa: E402
from gpu_checks.motion import check_shipped_checkpoint, check_train  # noqa: E402
from gpu_checks.output import summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "outputs" / "gpu_check"), help="output directory (default: outputs/gpu_check)"
    )
    parser.add_argument(
        "--budget-s", type=float, default=330.0, help="overall time budget in seconds; later checks are skipped past it"
    )
    parser.add_argument("--skip", default="", help="comma-separated check ids (or prefixes) to skip, e.g. 4b,6c")
    parser.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="nccl", help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ddp_worker:
        return ddp_worker(args.backend, args.result)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    run = Run(out, args.budget_s, {s.strip() for s in args.skip.split(",") if s.strip()})
    print(f"gpu_check: tree {ROOT}, python {sys.executable}, out {out}, budget {args.budget_s:.0f} s", flush=True)
    run.check("1", "device selection", check_device, run, min_s=1)
    background = start_background(run)
    run.check("4a1", "runner memory limit (auto): CUDA, hog, next", check_memory_limit, run, min_s=20)
    run.check("4a2", "raw RLIMIT_AS / RLIMIT_DATA + CUDA (info)", check_raw_rlimits, run, min_s=15)
    run.check("2", "registry models: CPU vs CUDA, 16x224 b8", check_models, run, min_s=30)
    cost_cuda = run.check("3a", "temporalkit cost --device cuda --latency", check_cost_cuda, run, min_s=20)
    run.check("5a", "temporalkit train r2plus1d (motion)", check_train, run, min_s=30)
    run.check("5b", "shipped motion checkpoint on CUDA", check_shipped_checkpoint, run, min_s=10)
    run.check("6a", "torchrun --nproc_per_node=1 train", check_torchrun_train, run, min_s=30)
    run.check("6b", "NCCL + DDP smoke (torchrun, 1 rank)", check_ddp_smoke, run, min_s=20)
    run.check("6c", "torchrun --nproc_per_node=2 on 1 GPU: one line", check_two_ranks_one_gpu, run, min_s=30)
    # Collected last so that they ran meanwhile; a negative budget just means wait(5 s) then kill.
    run.check(
        "4b1",
        "audit --dynamic examples/pipelines (auto)",
        check_audit,
        run,
        "default",
        background.get("audit_default"),
        min_s=0,
    )
    run.check("4b2", "audit --dynamic --memory-mb 0", check_audit, run, "mem0", background.get("audit_mem0"), min_s=0)
    run.check(
        "4c1",
        "layout+motion probe, default limit (auto)",
        check_probe,
        run,
        "default",
        background.get("probe_default"),
        min_s=0,
    )
    run.check(
        "4c2", "layout+motion probe, --memory-mb 0", check_probe, run, "mem0", background.get("probe_mem0"), min_s=0
    )
    run.check(
        "4c3",
        "motion-only probe (no family), default",
        check_probe,
        run,
        "motion",
        background.get("probe_motion"),
        False,
        min_s=0,
    )
    run.check("3b", "cost --device cpu --latency, one model", check_cost_cpu, run, cost_cuda, min_s=15)
    for command in background.values():  # anything still running past the budget
        if command.process.poll() is None:
            command.wait(1)
    run.write()
    print(summary(run), flush=True)
    shutil.rmtree(run.tmp, ignore_errors=True)
    return 0 if all(r["status"] != "fail" for r in run.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
