"""Cost table: torchvision's published `_ops`, unsupported configurations, CLI output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from temporalkit.reference_models.cost import CostRow, cost_table, format_table, measure_cost
from temporalkit.reference_models.registry import MODELS, OURS, TORCHVISION

from temporalkit.cli import main

torch.set_num_threads(1)

DECLARED_SIZE = {"r3d_18": 112, "mc3_18": 112, "r2plus1d_18": 112}


@pytest.mark.parametrize("model_id", TORCHVISION)
def test_torchvision_published_ops_are_reproduced(model_id):
    size = DECLARED_SIZE.get(model_id, 224)
    row = measure_cost(model_id, 16, size)
    published = MODELS[model_id].published
    assert row.error is None
    assert row.gmacs == pytest.approx(published["gmacs"], rel=0.005)
    assert row.gflops == pytest.approx(2 * row.gmacs)
    assert row.params == published["params"]
    assert 50 < published["acc1"] < 100 and published["source"].startswith("https://")


def test_our_r2plus1d_costs_the_same_as_torchvision():
    ours = measure_cost("r2plus1d_r18", 16, 112)
    theirs = measure_cost("r2plus1d_18", 16, 112)
    assert ours.params == theirs.params == 31_505_325
    assert ours.gmacs == theirs.gmacs


def test_gmacs_scale_with_frames_and_pixels_for_a_convnet():
    small = measure_cost("r3d_18", 8, 112)
    assert measure_cost("r3d_18", 16, 112).gmacs == pytest.approx(2 * small.gmacs, rel=0.01)
    assert measure_cost("r3d_18", 8, 224).gmacs == pytest.approx(4 * small.gmacs, rel=0.01)


@pytest.mark.parametrize(
    ("model_id", "frames", "size", "reason"),
    [
        ("s3d", 8, 224, "at least 13 frames"),
        ("s3d", 16, 112, "at least 209 px"),
        ("mvit_v1_b", 8, 224, "exactly 16 frames at 224 px"),
        ("mvit_v2_s", 16, 112, "exactly 16 frames at 224 px"),
        ("timesformer_divided", 8, 100, "not divisible by the 16px patch"),
        ("no_such_model", 8, 112, "unknown model"),
    ],
)
def test_unsupported_configurations_give_a_reason_not_a_traceback(model_id, frames, size, reason):
    row = measure_cost(model_id, frames, size)
    assert reason in row.error
    assert row.gmacs is None and row.params is None
    assert reason in format_table([row])


@pytest.mark.parametrize(("frames", "size"), [(12, 224), (13, 224), (16, 208), (16, 209)])
def test_s3d_limits_agree_with_a_real_forward_pass(frames, size):
    import torchvision

    with torch.device("meta"):
        model = torchvision.models.video.s3d()
        try:
            model(torch.empty(1, 3, frames, size, size))
            runs = True
        except RuntimeError:
            runs = False
    assert (MODELS["s3d"].unsupported(frames, size) is None) == runs


def test_every_model_at_a_small_input_and_row_fields():
    rows = cost_table("all", 8, 112)
    assert [row.model for row in rows] == list(MODELS)
    for row in rows:
        assert set(row.to_dict()) >= {
            "model",
            "family",
            "frames",
            "size",
            "gmacs",
            "gflops",
            "params",
            "latency_ms",
            "error",
        }
        assert row.family in ("2d_pool", "3d_conv", "2plus1d", "transformer")
        if row.model in ("s3d", "mvit_v1_b", "mvit_v2_s"):
            assert row.error
        else:
            assert row.error is None and row.gmacs > 0 and row.params > 0 and row.latency_ms is None
    assert set(OURS) == {
        "framepool_r18",
        "i3d_r18",
        "r2plus1d_r18",
        "timesformer_divided",
        "timesformer_joint",
        "timesformer_space_only",
    }


def test_divided_attention_is_cheaper_than_joint_at_many_frames():
    joint = measure_cost("timesformer_joint", 32, 224)
    divided = measure_cost("timesformer_divided", 32, 224)
    space_only = measure_cost("timesformer_space_only", 32, 224)
    assert space_only.gmacs < divided.gmacs < joint.gmacs


def test_latency_is_measured_on_cpu():
    row = measure_cost("framepool_r18", 2, 32, device="cpu", latency=True)
    assert row.error is None and row.latency_ms > 0 and row.latency_device == "cpu"


def test_cli_json_is_one_object_per_model(capsys):
    assert main(["cost", "--model", "r3d_18", "--frames", "8", "--size", "112", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["model"] == "r3d_18" and rows[0]["gmacs"] == pytest.approx(40.697 / 2, rel=0.005)


def test_cli_table_and_unknown_model(capsys):
    assert main(["cost", "--model", "mvit_v1_b", "--frames", "8", "--size", "224"]) == 0
    assert "exactly 16 frames" in capsys.readouterr().out
    assert main(["cost", "--model", "resnet9000"]) == 2
    assert "unknown model 'resnet9000'" in capsys.readouterr().err


def test_cost_command_module_does_not_import_torch():
    code = "import sys, temporalkit.commands.cost; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cost_row_to_dict_round_trips():
    row = CostRow("x", "3d_conv", 8, 112, gmacs=1.0, gflops=2.0, params=3)
    assert CostRow(**row.to_dict()) == row
