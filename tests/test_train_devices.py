"""`temporalkit train` under torchrun: one GPU per process, or one clear line before any process group."""

from __future__ import annotations

import pytest

from temporalkit.cli import main

torch = pytest.importorskip("torch")
import torch.distributed  # noqa: E402, F811
from temporalkit.reference_models.training import check_one_gpu_per_process  # noqa: E402

ARGS = ["train", "--device", "cuda", "--epochs", "1", "--train-videos", "8", "--val-videos", "4"]


@pytest.fixture()
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)

    def no_process_group(*args, **kwargs):
        raise AssertionError("a process group was made")

    monkeypatch.setattr(torch.distributed, "init_process_group", no_process_group)
    monkeypatch.setattr(torch.cuda, "set_device", no_process_group)


@pytest.mark.parametrize("rank", [0, 1])
def test_two_processes_on_one_gpu_fail_early_with_one_line(monkeypatch, capsys, one_gpu, rank):
    # what torchrun --standalone --nproc_per_node=2 sets for each of its two processes
    for name, value in {"WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)
    assert main(ARGS) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"temporalkit train: 2 processes on this node (torchrun --nproc_per_node, this one LOCAL_RANK {rank}) but only "
        "1 CUDA device visible, and each process needs its own GPU; use --nproc_per_node <= 1, or --device cpu (Gloo)"
    ]


def test_one_gpu_per_process_passes_and_local_rank_alone_is_enough(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_one_gpu_per_process(1, 2)
    check_one_gpu_per_process(0, 1)
    with pytest.raises(ValueError, match="3 processes on this node .* only 2 CUDA devices visible"):
        check_one_gpu_per_process(2, 2)  # LOCAL_WORLD_SIZE unset or wrong: LOCAL_RANK still counts
