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
