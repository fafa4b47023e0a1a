"""Install footprint: the pre-commit hook's environment and the core install (no torch).

    .venv/bin/python benchmarks/bench_footprint.py [--workdir DIR]

1. The pre-commit hook, as a user's first commit builds it: a scratch git repository whose
   .pre-commit-config.yaml names this repository at its HEAD commit (committed files only) and
   the temporalkit-audit hook; `pre-commit install-hooks` with an empty PRE_COMMIT_HOME makes the
   hook's virtualenv and pip-installs temporalkit into it, then `pre-commit run` runs it on a file
   with a sampling bug. It runs twice, each time with a new PRE_COMMIT_HOME: the first fills pip's
   cache, the second (warm pip cache, the case the target is for) is the figure. Size: the
   environment pre-commit built.
2. The core install: a new virtualenv (no pip in it) and `pip --python VENV install` of this
   checkout's wheel with its dependencies, from the warm cache: time and size of the virtualenv.
3. For reference, the size of torch, torchvision and the NVIDIA wheels in this checkout's .venv
   (what the hook environment held when they were core dependencies).

Targets (issue 15): hook environment under 100 MB, built in under 1 minute from a warm cache.
Times are wall clock and CPU (user + system of every process the step ran): on a shared machine
the wall time says as much about the other load (the 1-minute load average is recorded) as about
the install. Writes outputs/bench_footprint.json and outputs/bench_footprint.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUTPUTS = REPO / "outputs"
BUGGY = "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
HOOK_TARGET_MB = 100
HOOK_TARGET_S = 60


def size_mb(path: Path) -> float:
    """Bytes of the regular files under `path` (links not followed), in MB (10^6)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(folder, name)):
                total += stat.st_size
    return total / 1e6


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], **kwargs) -> tuple[dict, subprocess.CompletedProcess]:
    """Run `cmd`; its wall and CPU seconds (the CPU of every descendant it waited for)."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    seconds = {"wall_s": round(time.perf_counter() - start, 1), "cpu_s": round(_children_cpu() - cpu, 1)}
    return seconds, done


def hook_environment(work: Path, attempt: int) -> dict:
    """The hook built from an empty PRE_COMMIT_HOME, then run; its times, exit code and environment size."""
    home = work / f"pre-commit-home-{attempt}"
    project = work / f"project-{attempt}"
    project.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "TEMPORALKIT_CACHE_DIR": str(work / "tk-cache"),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    env.pop("GIT_DIR", None)
    subprocess.run(["git", "init", "-q"], cwd=project, env=env, check=True)
    (project / "buggy.py").write_text(BUGGY)
    config = f"repos:\n  - repo: {REPO}\n    rev: {head_commit()}\n    hooks:\n      - id: temporalkit-audit\n"
    (project / ".pre-commit-config.yaml").write_text(config)
    subprocess.run(["git", "add", "buggy.py", ".pre-commit-config.yaml"], cwd=project, env=env, check=True)
    pre_commit = str(BIN / "pre-commit")
    build, built = run([pre_commit, "install-hooks"], cwd=project, env=env)
    if built.returncode != 0:
        raise SystemExit(f"pre-commit install-hooks failed: {(built.stdout + built.stderr).strip()[-600:]}")
    hook, done = run([pre_commit, "run", "--files", "buggy.py"], cwd=project, env=env)
    environments = sorted(home.glob("repo*/py_env-*"))
    torch_visible = None
    if environments:
        python = environments[0] / "bin" / "python"
        probe = "import importlib.util as u; print(bool(u.find_spec('torch')))"
        torch_visible = subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout.strip()
    return {
        "build": build,
        "hook_run": hook,
        "exit_code": done.returncode,
        "found_TK101": "TK101" in done.stdout,
        "environment_mb": round(sum(size_mb(e) for e in environments), 1) if environments else None,
        "torch_importable": torch_visible == "True",
        "output_tail": (done.stdout + done.stderr)[-600:],
    }


def head_commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def core_install(work: Path) -> dict:
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("temporalkit-*.whl")
    venv = work / "core-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    seconds, done = run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)]
    )
    if done.returncode != 0:
        raise SystemExit(f"core install failed: {done.stderr.strip()[-400:]}")
    site = next((venv / "lib").glob("python*/site-packages"))
    packages = {}
    for child in site.iterdir():
        if child.is_dir() and not child.name.endswith((".dist-info", "__pycache__")):
            packages[child.name] = round(size_mb(child), 1)
    return {
        "install": seconds,
        "venv_mb": round(size_mb(venv), 1),
        "site_packages_mb": round(size_mb(site), 1),
        "largest_packages_mb": dict(sorted(packages.items(), key=lambda item: -item[1])[:8]),
    }


def torch_reference() -> dict:
    site = next((REPO / ".venv" / "lib").glob("python*/site-packages"), None)
    if site is None:
        return {}
    names = ["torch", "torchvision", "nvidia", "triton"]
    sizes = {name: round(size_mb(site / name), 1) for name in names if (site / name).exists()}
    return {"packages_mb": sizes, "total_mb": round(sum(sizes.values()), 1)}


def markdown(result: dict) -> str:
    hook, cold, core = result["hook_warm"], result["hook_cold"], result["core"]

    def took(step: dict) -> str:
        return f"{step['wall_s']} s wall, {step['cpu_s']} s CPU"

    lines = [
        "# Install footprint",
        "",
        f"Measured by `{result['command']}` on {result['machine']} (Python {result['python']}), "
        f"temporalkit at commit {result['commit'][:10]}; 1-minute load average at the start: {result['load_average']}.",
        "",
        "| what | measured | target |",
        "|---|---:|---:|",
        f"| pre-commit hook environment (built by `pre-commit install-hooks`) | "
        f"{hook['environment_mb']} MB | < {HOOK_TARGET_MB} MB |",
        f"| building it from a warm pip cache | {took(hook['build'])} | < {HOOK_TARGET_S} s |",
        f"| building it with this benchmark's first (colder) cache | {took(cold['build'])} | |",
        f"| running the hook on one file (`pre-commit run`) | {took(hook['hook_run'])} | |",
        f"| core install (`pip install temporalkit` into a new venv without pip) | {core['venv_mb']} MB, "
        f"{took(core['install'])} | |",
        f"| torch, torchvision, NVIDIA and triton wheels in a full install (the hook's environment before) | "
        f"{result['torch_reference'].get('total_mb', 'n/a')} MB | |",
        "",
        f"The hook run exited {hook['exit_code']} on a file with a sampling bug (TK101 reported: "
        f"{hook['found_TK101']}); torch importable in the hook environment: {hook['torch_importable']}.",
        "",
        "Largest packages of the core install (MB): "
        + ", ".join(f"{name} {mb}" for name, mb in core["largest_packages_mb"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out-dir", type=Path, default=OUTPUTS)
    args = parser.parse_args(argv)
    if not (BIN / "pre-commit").exists():
        raise SystemExit(f"{BIN / 'pre-commit'} not found: install the test extra (pip install -e '.[all,test]')")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-footprint-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        cold = hook_environment(work, 1)
        warm = hook_environment(work, 2)
        result = {
            "command": "python benchmarks/bench_footprint.py",
            "commit": head_commit(),
            "load_average": round(os.getloadavg()[0], 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "python": platform.python_version(),
            "hook_cold": cold,
            "hook_warm": warm,
            "core": core_install(work),
            "torch_reference": torch_reference(),
            "targets": {"hook_environment_mb": HOOK_TARGET_MB, "hook_build_seconds": HOOK_TARGET_S},
        }
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "bench_footprint.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out_dir / "bench_footprint.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
