"""The warm worker (`zygote`): the per-module child forked from a process that imported numpy (and torch)
once gets the same sandbox as a fresh interpreter: limits, environment, working folder, session,
namespaces, read-only tree; and a module that does not import torch does not find it imported."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from temporalkit.validators.dynamic import run_dynamic_modules, runner, zygote

REPORT = """
import ctypes, os, resource, sys
_report = {
    "as": resource.getrlimit(resource.RLIMIT_AS)[0],
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "nproc_capped": resource.getrlimit(resource.RLIMIT_NPROC)[0] != resource.RLIM_INFINITY,
    "env": sorted(k for k in os.environ if not k.startswith("TK_TEST")),
    "secret": os.environ.get("TK_SECRET_TOKEN"),
    "cwd_is_tmpdir": os.path.realpath(os.getcwd()) == os.path.realpath(os.environ["TMPDIR"]),
    "own_session": os.getsid(0) == os.getpid(),
    "torch_loaded": "torch" in sys.modules,
    "pid_namespace_small": os.getpid() < 10,
    "uid_map": open("/proc/self/uid_map").read().split(),
}
_here = os.path.dirname(os.path.abspath(__file__))
ctypes.CDLL(None).umount2(_here.encode(), 2)
try:
    open(os.path.join(_here, "written.txt"), "w").close()
    _report["tree"] = "written"
except OSError as exc:
    _report["tree"] = f"refused {exc.errno}"
raise RuntimeError(repr(_report))

def sample(num_frames, T):
    return list(range(T))
"""


def report(tmp_path: Path, monkeypatch, worker: str) -> tuple[dict, str]:
    monkeypatch.setenv(zygote.WORKER_ENV, worker)
    monkeypatch.setenv("TK_SECRET_TOKEN", "do-not-pass")
    root = tmp_path / worker
    root.mkdir()
    path = root / "pipeline.py"
    path.write_text(textwrap.dedent(REPORT))
    results, errors = run_dynamic_modules([path], timeout=60, memory_mb=1024)
    assert len(errors) == 1 and "import failed: RuntimeError: " in errors[0].message, errors
    assert not (root / "written.txt").exists() or runner.isolation_mode()[0] == "process"
    return ast.literal_eval(errors[0].message.split("RuntimeError: ", 1)[1]), results[0].isolation


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["auto", "process"])
def test_forked_child_gets_the_sandbox_of_a_fresh_one(tmp_path, monkeypatch, isolation):
    monkeypatch.setenv(runner.ISOLATION_ENV, isolation)
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "address-space")
    forked, forked_isolation = report(tmp_path, monkeypatch, "fork")
    fresh, fresh_isolation = report(tmp_path, monkeypatch, "fresh")
    assert forked_isolation.endswith("; forked from the warm worker"), forked_isolation
    assert fresh_isolation.endswith("; fresh interpreter"), fresh_isolation
    assert forked == fresh
    assert forked["as"] == 1024 * 2**20 and forked["fsize"] == runner.FILE_SIZE_LIMIT_MB * 2**20
    assert forked["secret"] is None and forked["cwd_is_tmpdir"] and forked["own_session"]
    assert forked["torch_loaded"] is False  # this module does not import torch: forked from a worker without it
    if runner.isolation_mode()[0] == "namespaces":
        assert forked["pid_namespace_small"] and forked["tree"].startswith("refused")


def test_wants_torch_reads_import_statements(tmp_path):
    cases = {
        "a.py": ("import numpy as np\n", False),
        "b.py": ("import torch\n", True),
        "c.py": ("def f():\n    from torchvision.io import read_video\n", True),
        "d.py": ("# torch is not needed here\nx = 'import torch'\n", False),
    }
    for name, (source, expected) in cases.items():
        (tmp_path / name).write_text(source)
        assert zygote.wants_torch(str(tmp_path / name)) is expected, name
