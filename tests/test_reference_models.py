"""Reference models: inflation property, R(2+1)D parity with torchvision, transformer, FramePool, weights."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from temporalkit.reference_models.blocks import ResNet2d
from temporalkit.reference_models.framepool import FramePool, framepool_r18
from temporalkit.reference_models.inflate import I3DResNet, i3d_r18, inflate_conv2d, inflate_resnet2d
from temporalkit.reference_models.r2plus1d import r2plus1d_r18
from temporalkit.reference_models.registry import build_tiny
from temporalkit.reference_models.transformer import DividedSpaceTimeBlock, TransformerConfig, timesformer
from temporalkit.reference_models.weights import WeightsNotFoundError, find_checkpoint, load_state_dict_file

torch.set_num_threads(1)
TINY = (8, 16, 32, 64)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomise_batchnorm(model: torch.nn.Module) -> None:
    """Non-trivial BN statistics, so a test cannot pass just because BN is the identity."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.1)


def identical_frame_clip(frame: torch.Tensor, frames: int) -> torch.Tensor:
    return frame.unsqueeze(2).expand(-1, -1, frames, -1, -1).contiguous()  # (N, 3, H, W) -> (N, 3, T, H, W)


@pytest.fixture(scope="module")
def resnet2d() -> ResNet2d:
    torch.manual_seed(0)
    model = ResNet2d(num_classes=5, widths=TINY)
    randomise_batchnorm(model)
    return model.eval()


# ---------------------------------------------------------------- inflation


def test_inflated_conv_equals_2d_conv_on_identical_frames():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=True)
    frame = torch.randn(2, 3, 9, 9)
    expected = conv(frame)
    clip = identical_frame_clip(frame, 5)
    replicate = inflate_conv2d(conv, 3, temporal_padding="replicate")(clip)
    zeros = inflate_conv2d(conv, 3, temporal_padding="zeros")(clip)
    for t in range(5):
        torch.testing.assert_close(replicate[:, :, t], expected, rtol=1e-5, atol=1e-5)
    for t in (1, 2, 3):
        torch.testing.assert_close(zeros[:, :, t], expected, rtol=1e-5, atol=1e-5)
    # Zero padding: the boundary frames see a zero frame in one of their 3 taps.
    assert not torch.allclose(zeros[:, :, 0], expected, atol=1e-3)
    assert not torch.allclose(zeros[:, :, 4], expected, atol=1e-3)


def test_i3d_with_replicate_padding_equals_2d_network_on_every_frame(resnet2d):
    frame = torch.randn(2, 3, 32, 32)
    i3d = inflate_resnet2d(resnet2d, time_kernel=3, temporal_padding="replicate").eval()
    with torch.no_grad():
        features_2d = resnet2d.forward_features(frame)  # (N, C, h, w)
        features_3d = i3d.forward_features(identical_frame_clip(frame, 4))  # (N, C, T, h, w)
        for t in range(4):
            torch.testing.assert_close(features_3d[:, :, t], features_2d, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(i3d(identical_frame_clip(frame, 4)), resnet2d(frame), rtol=1e-4, atol=1e-4)


def test_i3d_with_zero_padding_equals_2d_network_only_away_from_the_clip_ends(resnet2d):
    # 17 inflated 3-tap convs, no temporal stride: frames >= 17 from both ends are unaffected.
    frames = 35
    frame = torch.randn(1, 3, 32, 32)
    i3d = inflate_resnet2d(resnet2d, time_kernel=3, temporal_padding="zeros").eval()
    with torch.no_grad():
        features_2d = resnet2d.forward_features(frame)
        features_3d = i3d.forward_features(identical_frame_clip(frame, frames))
    torch.testing.assert_close(features_3d[:, :, 17], features_2d, rtol=1e-4, atol=1e-4)
    error = [(features_3d[:, :, t] - features_2d).abs().max().item() for t in range(frames)]
    assert error[0] > 1e-2 and error[-1] > 1e-2  # the end frames are visibly off
    # Each conv gives the padded tap 1/3 of the weight, so the error shrinks towards the centre.
    assert error[0] > error[1] > error[2] > error[3]
    assert error[-1] > error[-2] > error[-3] > error[-4]


def test_i3d_is_an_inflated_torchvision_resnet18_and_loads_its_checkpoint():
    with torch.device("meta"):
        resnet18 = torchvision.models.resnet18()
        i3d = I3DResNet(num_classes=1000)
    assert {k: v.shape[:2] + v.shape[-2:] for k, v in i3d.state_dict().items()} == {
        k: v.shape[:2] + v.shape[-2:] for k, v in resnet18.state_dict().items()
    }
    assert i3d.conv1.weight.shape == (64, 3, 3, 7, 7)
    assert i3d.layer1[0].conv1.weight.shape == (64, 64, 3, 3, 3)
    assert i3d.layer2[0].downsample[0].weight.shape == (128, 64, 1, 1, 1)
    torch.manual_seed(0)
    inflated = inflate_resnet2d(torchvision.models.resnet18(), time_kernel=5)
    assert inflated.conv1.weight.shape == (64, 3, 5, 7, 7)
    assert inflated(torch.randn(1, 3, 2, 32, 32)).shape == (1, 1000)


# ---------------------------------------------------------------- R(2+1)D


def test_r2plus1d_matches_torchvision_parameter_count_and_layout():
    with torch.device("meta"):
        ours = r2plus1d_r18(num_classes=400)
        theirs = torchvision.models.video.r2plus1d_18(num_classes=400)
    assert count_parameters(ours) == 31_505_325 == count_parameters(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def test_r2plus1d_output_equals_torchvision_with_the_same_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.video.r2plus1d_18(num_classes=3).eval()
    ours = r2plus1d_r18(num_classes=3).eval()
    ours.load_state_dict(theirs.state_dict())
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(clip), theirs(clip))


# ---------------------------------------------------------------- transformer


def expected_transformer_parameters(c: TransformerConfig) -> int:
    d = c.dim
    hidden = int(d * c.mlp_ratio)
    attention = 4 * d * d + 4 * d
    block = 2 * (2 * d) + attention + (d * hidden + hidden + hidden * d + d)
    if c.attention == "divided":
        block += 2 * d + attention + d * d + d  # time norm, time attention, time projection
    embedding = 3 * c.tubelet * c.patch * c.patch * d + d
    positions = d + (1 + c.space_tokens) * d + c.time_tokens * d  # class token, space, time
    return embedding + positions + c.depth * block + 2 * d + d * c.num_classes + c.num_classes


@pytest.mark.parametrize("attention", ["joint", "divided", "space_only"])
def test_transformer_shapes_and_parameter_counts(attention):
    torch.manual_seed(0)
    model = timesformer(
        num_classes=7, attention=attention, frames=4, size=32, patch=8, tubelet=2, dim=32, depth=2, heads=4
    )
    assert model.input_layout == "NCTHW"
    assert model(torch.randn(2, 3, 4, 32, 32)).shape == (2, 7)
    assert count_parameters(model) == expected_transformer_parameters(model.config)


@pytest.mark.parametrize(
    ("attention", "published_millions"), [("divided", 121.4), ("joint", 85.9), ("space_only", 85.9)]
)
def test_timesformer_base_parameters_match_the_paper(attention, published_millions):
    # Bertasius et al. 2021, Table 1 (ViT-B/16, 8 x 224^2).
    with torch.device("meta"):
        model = timesformer(attention=attention, frames=8, size=224, dim=768, depth=12, heads=12)
    assert count_parameters(model) / 1e6 == pytest.approx(published_millions, rel=0.005)


def test_divided_time_step_mixes_frames_only_at_the_same_patch_position():
    torch.manual_seed(0)
    config = TransformerConfig(frames=4, size=16, patch=8, dim=16, depth=1, heads=2)
    block = DividedSpaceTimeBlock(config).eval()
    torch.nn.init.normal_(block.time_fc.weight)
    x = torch.randn(1, 1 + 4 * 4, 16)  # class token + T'=4 frames x P=4 patches
    poked = x.clone()
    poked[0, 1 + 0 * 4 + 2] += torch.randn(16)  # frame 0, patch 2 (not a constant: LayerNorm would remove it)
    with torch.no_grad():
        changed = (block.attend_time(poked, 4) - block.attend_time(x, 4)).abs().sum(-1)[0, 1:].reshape(4, 4) > 1e-4
    assert changed[:, 2].all()  # patch 2 in every frame
    assert not changed[:, [0, 1, 3]].any()  # no other position
    with torch.no_grad():
        changed_space = (block.attend_space(poked, 4) - block.attend_space(x, 4)).abs().sum(-1)[0, 1:].reshape(
            4, 4
        ) > 1e-4
    assert changed_space[0].all() and not changed_space[1:].any()  # space step: only frame 0


def test_transformer_rejects_a_size_not_divisible_by_the_patch():
    with pytest.raises(ValueError, match="not divisible by the 16px patch"):
        timesformer(size=100)


# ---------------------------------------------------------------- FramePool


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_framepool_pooling_options(pooling):
    torch.manual_seed(0)
    model = FramePool(num_classes=5, widths=TINY, pooling=pooling).eval()
    assert model.input_layout == "NTCHW"
    clip = torch.randn(2, 3, 3, 32, 32)  # (N, T, 3, H, W)
    with torch.no_grad():
        logits = model(clip)
        reversed_logits = model(clip.flip(1))
    assert logits.shape == (2, 5)
    # Order-blind by construction: this is the appearance-only baseline.
    torch.testing.assert_close(logits, reversed_logits, rtol=1e-4, atol=1e-5)


def test_framepool_pooling_differs_and_unknown_pooling_is_rejected():
    torch.manual_seed(0)
    features = torch.randn(1, 3, 4)
    model_mean = FramePool(num_classes=2, widths=TINY, pooling="mean")
    model_max = FramePool(num_classes=2, widths=TINY, pooling="max")
    assert not torch.equal(features.mean(1), features.amax(1))
    assert model_mean.pooling == "mean" and model_max.pooling == "max"
    with pytest.raises(ValueError, match="pooling must be one of"):
        FramePool(pooling="sum")


# ---------------------------------------------------------------- weights


def test_weights_load_from_a_local_checkpoint(tmp_path, resnet2d):
    path = tmp_path / "tiny_resnet18.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in resnet2d.state_dict().items()}}, path)
    assert set(load_state_dict_file(path)) == set(resnet2d.state_dict())

    framepool = framepool_r18(num_classes=3, pretrained_2d=path, widths=TINY)
    torch.testing.assert_close(framepool.backbone.layer3[1].conv2.weight, resnet2d.layer3[1].conv2.weight)
    torch.testing.assert_close(framepool.backbone.bn1.running_var, resnet2d.bn1.running_var)

    i3d = i3d_r18(num_classes=3, time_kernel=3, weights_2d=path, widths=TINY)
    torch.testing.assert_close(i3d.conv1.weight.sum(2), resnet2d.conv1.weight)
    torch.testing.assert_close(i3d.conv1.weight[:, :, 0] * 3, resnet2d.conv1.weight)


def test_missing_weights_give_one_line_with_where_we_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    missing = tmp_path / "nowhere" / "resnet18.pth"
    with pytest.raises(WeightsNotFoundError) as error:
        find_checkpoint(missing)
    message = str(error.value)
    assert "\n" not in message
    assert str(missing) in message and str(tmp_path / "torch_home" / "hub" / "checkpoints") in message
    with pytest.raises(WeightsNotFoundError, match="torchvision.models.resnet18"):
        i3d_r18(weights_2d="resnet18", widths=TINY)


def test_every_builder_loads_through_the_one_loader(tmp_path):
    from temporalkit.reference_models.r2plus1d import R2Plus1dResNet
    from temporalkit.reference_models.weights import load_weights

    torch.manual_seed(1)
    source = R2Plus1dResNet(num_classes=7, widths=TINY)
    path = tmp_path / "tiny_r2plus1d.pth"
    torch.save(source.state_dict(), path)
    model = r2plus1d_r18(num_classes=3, widths=TINY, weights=path)  # 7-class head left at its init
    torch.testing.assert_close(model.layer4[1].conv2[0][3].weight, source.layer4[1].conv2[0][3].weight)
    assert model.fc.out_features == 3

    headless = {k: v for k, v in source.state_dict().items() if not k.startswith("fc.")}
    assert load_weights(R2Plus1dResNet(num_classes=7, widths=TINY), headless) == ["fc.weight", "fc.bias"]
    with pytest.raises(ValueError, match="does not fit R2Plus1dResNet") as error:
        load_weights(R2Plus1dResNet(num_classes=7, widths=TINY), headless, skip_mismatched_head=False)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=r"does not fit I3DResNet: missing \['conv1.weight'"):
        i3d_r18(widths=TINY, weights_2d=path)  # an R(2+1)D checkpoint is no 2D ResNet


def test_motion_checkpoint_loads_strictly_and_a_missing_one_is_one_line(tmp_path):
    from temporalkit.reference_models.training import TrainConfig, load_checkpoint, load_motion_model

    torch.manual_seed(0)
    model = build_tiny("r2plus1d", num_classes=5, frames=8, size=32)
    config = dataclasses.asdict(TrainConfig())
    checkpoint = {"config": config, "class_names": list("abcde"), "state_dict": model.state_dict()}
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    loaded = load_checkpoint(tmp_path / "checkpoint.pt")
    torch.testing.assert_close(loaded.model.fc.weight, model.fc.weight)

    checkpoint["state_dict"] = {k: v for k, v in model.state_dict().items() if k != "fc.bias"}
    torch.save(checkpoint, tmp_path / "no_bias.pt")
    with pytest.raises(ValueError, match=r"missing \['fc.bias'\]"):
        load_checkpoint(tmp_path / "no_bias.pt")  # a trained checkpoint's head is never skipped

    with pytest.raises(WeightsNotFoundError) as error:
        load_motion_model(tmp_path / "absent.pt")
    assert "\n" not in str(error.value) and "temporalkit train --model r2plus1d" in str(error.value)


def test_checkpoint_in_the_hub_cache_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save({}, cached)
    assert find_checkpoint("resnet18") == cached
    assert find_checkpoint("resnet18-f37072fd.pth") == cached


# ---------------------------------------------------------------- tiny builders, device, imports


@pytest.mark.parametrize("family", ["framepool", "i3d", "r2plus1d", "transformer", "tsm"])
def test_build_tiny_runs_on_a_small_clip(family):
    torch.manual_seed(0)
    model = build_tiny(family, num_classes=5, frames=8, size=32)
    shape = (2, 8, 3, 32, 32) if model.input_layout == "NTCHW" else (2, 3, 8, 32, 32)
    assert model(torch.randn(shape)).shape == (2, 5)
    assert count_parameters(model) < 1_000_000


def test_pick_device():
    from temporalkit.reference_models.device import pick_device

    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            pick_device("cuda")
    with pytest.raises(ValueError):
        pick_device("tpu")


def test_package_and_registry_import_without_torch():
    code = (
        "import sys, temporalkit.reference_models as rm, temporalkit.reference_models.registry as r;"
        "assert len(r.MODELS) == 28 and 'build_tiny' in dir(rm);"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- checkpoint layout pinned

STATE_DICT_LAYOUTS = Path(__file__).parent / "data" / "reference_state_dicts.json"


def state_dict_layout(model: torch.nn.Module) -> dict:
    """Parameter count and every state-dict key with its shape: what a checkpoint depends on."""
    return {
        "parameters": count_parameters(model),
        "state_dict": [f"{key} {tuple(value.shape)}" for key, value in sorted(model.state_dict().items())],
    }


def _build_for_layout(name: str) -> torch.nn.Module:
    from temporalkit.reference_models.registry import MODELS

    if name.startswith("tiny_"):
        return build_tiny(name.removeprefix("tiny_"), num_classes=4, frames=8, size=32)
    if name == "resnet2d":
        return ResNet2d()
    return MODELS[name].build(num_classes=400, frames=8, size=224)


@pytest.mark.parametrize("name", sorted(json.loads(STATE_DICT_LAYOUTS.read_text())))
def test_state_dict_keys_shapes_and_parameter_counts_are_unchanged(name):
    """Checkpoints saved from these models (the shipped motion model among them) must keep loading.

    tests/data/reference_state_dicts.json was recorded from the models as they were before their
    stage loops and weight loading were shared; regenerate it only for a deliberate layout change.
    """
    expected = json.loads(STATE_DICT_LAYOUTS.read_text())[name]
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        layout = state_dict_layout(_build_for_layout(name))
    assert layout["state_dict"] == expected["state_dict"]
    assert layout["parameters"] == expected["parameters"]


def test_every_model_we_build_has_a_pinned_layout():
    from temporalkit.reference_models.registry import OURS, TINY_FAMILIES

    pinned = set(json.loads(STATE_DICT_LAYOUTS.read_text()))
    assert {*OURS, *(f"tiny_{family}" for family in TINY_FAMILIES), "resnet2d"} == pinned


def test_shipped_motion_checkpoint_loads_strictly():
    from temporalkit.reference_models.training import MOTION_WEIGHTS, load_motion_model

    classifier = load_motion_model()
    state = torch.load(MOTION_WEIGHTS, map_location="cpu", weights_only=True)["state_dict"]
    assert set(classifier.model.state_dict()) == set(state)
    for key, value in state.items():
        torch.testing.assert_close(classifier.model.state_dict()[key], value)
