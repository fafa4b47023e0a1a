"""The layout check: a clip in the wrong axis order is rejected, or runs only because T == 3."""

import numpy as np
import pytest
from temporalkit.validators.dynamic.frame_code import encode_frame
from temporalkit.validators.dynamic.layout_checks import check_layout, read_clip_layout

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def coded_clip(frames: int, layout: str, size: int = 96) -> np.ndarray:
    """A (T, C, H, W) or (C, T, H, W) float clip whose frames carry their index."""
    thwc = np.stack([encode_frame(i, size, size) for i in range(frames)]).astype(np.float32) / 255.0
    tchw = thwc.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(tchw if layout == "TCHW" else tchw.transpose(1, 0, 2, 3))


def test_layout_is_read_from_the_frame_code_even_when_t_is_3():
    assert read_clip_layout(coded_clip(3, "TCHW"))[0] == "TCHW"
    assert read_clip_layout(coded_clip(3, "CTHW"))[0] == "CTHW"
    assert read_clip_layout(np.zeros((3, 3, 8, 8)))[0] is None


@pytest.mark.parametrize("family", ["3d_conv", "transformer"])
def test_tchw_clip_fed_to_a_ncthw_model(family):
    rejected = check_layout(coded_clip(8, "TCHW"), family)
    assert [f.category for f in rejected] == ["layout"] and "rejected" in rejected[0].message
    silent = check_layout(torch.from_numpy(coded_clip(3, "TCHW")), family)
    assert [f.category for f in silent] == ["layout"] and "only because T == C == 3" in silent[0].message
    assert check_layout(coded_clip(8, "CTHW"), family) == []
    assert check_layout(coded_clip(3, "CTHW"), family) == []


def test_framepool_takes_tchw():
    assert check_layout(coded_clip(8, "TCHW"), "2d_pool") == []
    findings = check_layout(coded_clip(3, "CTHW"), "2d_pool")
    assert [f.rule for f in findings] == ["TK621"] and findings[0].source == "dynamic"
