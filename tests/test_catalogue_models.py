"""The catalogue models of issue 14 (TSM, X3D, SlowFast, MoViNet, VideoMAE, CLIP frames): each
builder runs a forward pass on a tiny CPU input, and the pieces that define the model (the
temporal shift, the lateral connections, causality) do what their papers say."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_temporal_shift_moves_one_eighth_of_the_channels_each_way():
    from temporalkit.reference_models.tsm import temporal_shift

    frames, channels = 4, 16
    # value = frame index + 1, identical across channels: the shift is visible as a change of value
    x = torch.arange(1, frames + 1, dtype=torch.float32).view(frames, 1, 1, 1).expand(frames, channels, 2, 2)
    out = temporal_shift(x.contiguous(), frames)[:, :, 0, 0]  # (T, C)
    assert out[:, 0].tolist() == [2, 3, 4, 0]  # channels [0, 2): from the next frame, zero after the last
    assert out[:, 2].tolist() == [0, 1, 2, 3]  # channels [2, 4): from the previous frame
    assert out[:, 4:].eq(x[:, 4:, 0, 0]).all()  # the other 3/4 stay
    with pytest.raises(ValueError, match="built for 4-frame clips"):
        temporal_shift(torch.zeros(6, channels, 2, 2), frames)


def test_tsm_output_depends_on_frame_order():
    """A TSM's output depends on frame order (a per-frame 2D network with an average would not)."""
    from temporalkit.reference_models.registry import build_tiny

    torch.manual_seed(0)
    model = build_tiny("tsm", num_classes=3, frames=4, size=32).eval()
    clip = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        forward, backward = model(clip), model(clip.flip(1))
    assert not torch.allclose(forward, backward, atol=1e-6)
    with pytest.raises(ValueError, match="built for 4-frame clips, got 8"):
        model(torch.randn(1, 8, 3, 32, 32))


@pytest.mark.parametrize("builder", ["tsm_resnet50", "tsm_mobilenet_v2"])
def test_tsm_builders_run_on_cpu(builder):
    from temporalkit.reference_models import tsm

    kwargs = {"width_per_group": 4} if builder == "tsm_resnet50" else {"width_mult": 0.1}
    model = getattr(tsm, builder)(num_classes=5, frames=2, **kwargs).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 2, 3, 32, 32)).shape == (1, 5)


def test_layout_check_knows_tsm_takes_frames_first():
    import numpy as np
    from temporalkit.validators.dynamic.layout_checks import check_layout

    tchw = np.random.default_rng(0).random((8, 3, 32, 32), dtype=np.float32)
    assert check_layout(tchw, "tsm") == []
    findings = check_layout(np.ascontiguousarray(tchw.transpose(1, 0, 2, 3)), "temporal_shift")
    assert [finding.rule for finding in findings] == ["TK621"]


def _forward(model, clip):
    with torch.no_grad():
        return model.eval()(clip)


def test_x3d_runs_on_cpu_and_never_strides_time():
    from temporalkit.reference_models.x3d import x3d

    model = x3d(num_classes=5, width_factor=0.5, head_width=32)
    clip = torch.randn(1, 3, 4, 32, 32)
    assert _forward(model, clip).shape == (1, 5)
    with torch.no_grad():
        features = model.res5(model.res4(model.res3(model.res2(model.stem(clip)))))
    assert features.shape[2] == 4  # T kept through every stage; space 32 -> 1
    assert [len(getattr(model, f"res{i}")) for i in range(2, 6)] == [3, 5, 11, 7]  # 1, 2, 5, 3 x 2.2, rounded up


@pytest.mark.parametrize("variant", ["4x16", "8x8"])
def test_slowfast_runs_on_cpu_with_lateral_connections(variant):
    from temporalkit.reference_models.slowfast import slowfast_r50

    model = slowfast_r50(num_classes=5, variant=variant, width=16)
    assert _forward(model, torch.randn(1, 3, 8, 32, 32)).shape == (1, 5)
    # res2's first block reads the Slow stem (16 channels) plus the fused Fast stem (2 x 2 channels)
    assert model.slow_stages[0][0].conv_a[0].in_channels == 16 + 2 * 2
    with pytest.raises(ValueError, match=f"multiple of {model.alpha} frames"):
        _forward(model, torch.randn(1, 3, model.alpha + 1, 32, 32))


@pytest.mark.parametrize("variant", ["a0", "a1", "a2"])
def test_movinet_runs_on_cpu(variant):
    from temporalkit.reference_models.movinet import movinet

    assert _forward(movinet(num_classes=5, variant=variant, width=8), torch.randn(1, 3, 4, 48, 48)).shape == (1, 5)


def test_causal_movinet_features_do_not_see_later_frames():
    """With causal=True no feature of frame t changes when a later frame does; without, some do."""
    from temporalkit.reference_models.movinet import movinet

    torch.manual_seed(0)
    clip = torch.randn(1, 3, 6, 48, 48)
    changed_last = clip.clone()
    changed_last[:, :, -1] += 1.0
    for causal, expect_same in ((True, True), (False, False)):
        model = movinet(num_classes=5, variant="a0", causal=causal, width=8).eval()
        with torch.no_grad():
            before = model.stages(model.stem(clip))[:, :, :-1]
            after = model.stages(model.stem(changed_last))[:, :, :-1]
        assert torch.allclose(before, after, atol=1e-6) is expect_same


def test_videomae_runs_on_cpu_with_two_frame_tubelets():
    from temporalkit.reference_models.transformer import videomae_vit

    model = videomae_vit(num_classes=5, variant="small", frames=4, size=32)
    assert model.embed.projection.kernel_size == (2, 16, 16)
    assert _forward(model, torch.randn(1, 3, 4, 32, 32)).shape == (1, 5)


def test_clip_frame_encoder_runs_on_cpu_and_ignores_frame_order():
    from temporalkit.reference_models.clip_frames import clip_frame_encoder

    torch.manual_seed(0)
    model = clip_frame_encoder(num_classes=5, tower="b32", size=64, width=32)
    clip = torch.randn(1, 4, 3, 64, 64)
    out = _forward(model, clip)
    assert out.shape == (1, 5)
    torch.testing.assert_close(_forward(model, clip.flip(1)), out)  # meanP: an appearance model
    embedding = _forward(
        clip_frame_encoder(num_classes=0, tower="b16", size=32, width=32), torch.randn(2, 3, 3, 32, 32)
    )
    assert embedding.shape == (2, 512)


def test_tsm_published_costs_are_eight_frames_of_torchvision_backbones():
    """TSM adds no multiply-adds: its published cost is T x the 2D backbone's (torchvision's `_ops`)."""
    from temporalkit.reference_models.registry import MODELS
    from torchvision.models import MobileNet_V2_Weights, ResNet50_Weights

    assert MODELS["tsm_mobilenet_v2"].paper.gmacs == pytest.approx(8 * MobileNet_V2_Weights.IMAGENET1K_V1.meta["_ops"])
    assert MODELS["tsm_r50"].paper.gmacs == pytest.approx(8 * ResNet50_Weights.IMAGENET1K_V1.meta["_ops"], rel=0.01)
