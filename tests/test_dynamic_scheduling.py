"""How the modules of one --dynamic run are shared out: longest first across the workers, results in the
order of the files, and a warm worker without torch never waits for the one importing torch."""

from __future__ import annotations

import threading

import pytest
from temporalkit.validators.config import Candidate
from temporalkit.validators.dynamic import _run_modules, runner, zygote


def _candidates(path: str, role: str, count: int) -> list[Candidate]:
    return [Candidate(path=path, name=f"f{i}", role=role, line=i + 1) for i in range(count)]


def test_longest_modules_start_first_and_results_keep_the_file_order(tmp_path, monkeypatch):
    files = {}
    for name, body in (
        ("small.py", "import numpy\n"),
        ("loaders.py", "import av\n"),
        ("samplers.py", "import torch\n"),
    ):
        (tmp_path / name).write_text(body)
        files[name] = str(tmp_path / name)
    by_file = {
        files["small.py"]: _candidates(files["small.py"], "transform", 1),
        files["loaders.py"]: _candidates(files["loaders.py"], "loader", 6),
        files["samplers.py"]: _candidates(files["samplers.py"], "sampler", 3),
    }
    started = []
    lock = threading.Lock()

    def fake_run_module(path, found, **kwargs):
        with lock:
            started.append(path)
        return runner.ModuleResult(path=path)

    monkeypatch.setattr(runner, "run_module", fake_run_module)
    monkeypatch.setattr(zygote, "prestart", lambda sandbox, kinds: [], raising=False)
    monkeypatch.setenv("TEMPORALKIT_DYNAMIC_JOBS", "1")
    results = _run_modules(by_file, timeout=10, memory_mb=0, probe_dir=None)
    assert started == list(by_file)  # one job: file order, nothing to share out
    started.clear()
    monkeypatch.setenv("TEMPORALKIT_DYNAMIC_JOBS", "2")
    monkeypatch.setattr(runner, "isolation_mode", lambda requested=None: ("process", ""))
    results = _run_modules(by_file, timeout=10, memory_mb=0, probe_dir=None)
    assert [r.path for r in results] == list(by_file)
    assert started[0] == files["loaders.py"]  # 6 loaders: the longest
    assert started[-1] == files["small.py"]


def test_the_warm_worker_without_torch_does_not_wait_for_the_torch_one(monkeypatch):
    release = threading.Event()

    class FakeZygote:
        def __init__(self, sandbox, torch):
            self.torch = torch
            if torch:
                assert release.wait(10), "never released"

        def close(self):
            pass

    monkeypatch.setattr(zygote, "Zygote", FakeZygote)
    monkeypatch.setattr(zygote, "_zygotes", {})
    monkeypatch.setattr(zygote, "_starting", {}, raising=False)
    monkeypatch.delenv("TEMPORALKIT_WORKER", raising=False)
    if not zygote.sys.platform.startswith("linux"):
        pytest.skip("the warm worker is Linux only")
    torch_thread = threading.Thread(target=zygote.get, args=("process", True))
    torch_thread.start()
    try:
        result: list = []
        plain = threading.Thread(target=lambda: result.append(zygote.get("process", False)))
        plain.start()
        plain.join(5)
        assert result and result[0] is not None and result[0].torch is False
    finally:
        release.set()
        torch_thread.join(10)
    assert zygote.get("process", True).torch is True
