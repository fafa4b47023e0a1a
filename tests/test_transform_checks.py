"""Each transform check catches its buggy transform and stays quiet on the correct one."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from temporalkit.validators.dynamic.clips import UnusableCallable, clip_to_frames, make_clip
from temporalkit.validators.dynamic.transform_checks import audit_transform, check_transform

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
F = torch.nn.functional

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "pipelines"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def categories(findings):
    return sorted(f.category for f in findings)


# --- buggy / correct pairs written here, one per check, in different clip types ---------------


def per_frame_flip(clip):  # list of PIL images; flips each frame on its own coin
    import random

    from PIL import ImageOps

    return [ImageOps.mirror(frame) if random.random() < 0.5 else frame for frame in clip]


def clip_flip(clip):  # the same coin for the whole clip
    import random

    from PIL import ImageOps

    flip = random.random() < 0.5
    return [ImageOps.mirror(frame) if flip else frame for frame in clip]


def squash_cthw(clip):  # (C, T, H, W) resized to a fixed 96x96
    if clip.ndim != 4 or clip.shape[0] != 3:
        raise ValueError("expects (C, T, H, W)")
    return F.interpolate(clip.transpose(0, 1), size=(96, 96), mode="bilinear").transpose(0, 1)


def center_crop_cthw(clip):
    if clip.ndim != 4 or clip.shape[0] != 3:
        raise ValueError("expects (C, T, H, W)")
    _, _, height, width = clip.shape
    top, left = (height - 96) // 2, (width - 96) // 2
    return clip[:, :, top : top + 96, left : left + 96]


def random_resized_crop_clip(clip):  # aspect jitter drawn per clip, as RandomResizedCrop does
    from torchvision.transforms import v2

    return v2.RandomResizedCrop(112, scale=(0.5, 1.0), antialias=True)(clip)


def bgr_list(clip):
    return [np.ascontiguousarray(frame[..., ::-1]) for frame in clip]


def rgb_list(clip):
    return [frame.astype(np.float32) / 255.0 for frame in clip]


def zero_pad_uint8(clip):
    if clip.dtype != torch.uint8:
        raise TypeError("uint8 only")
    return (
        torch.cat([clip, torch.zeros((8 - clip.shape[0], *clip.shape[1:]), dtype=clip.dtype)])
        if len(clip) < 8
        else clip
    )


def refuses_short(clip):
    if clip.shape[0] < 8:
        raise ValueError(f"clip of {clip.shape[0]} frames is shorter than 8")
    return clip


def crashes_on_short(clip):
    if clip.shape[0] < 8:
        raise IndexError("index 3 is out of bounds for dimension 0 with size 3")
    return clip


def test_inconsistent_crop_is_found_per_frame_and_not_per_clip():
    report = audit_transform(per_frame_flip)
    assert report.clip_type == "pil-list"
    assert categories(report.findings) == ["inconsistent-crop"]
    message = report.findings[0].message
    assert "8 identical 256x144 frames" in message and "frame 0 vs" in message and "seed" in message
    assert check_transform(clip_flip) == []


def test_aspect_distortion_is_found_for_fixed_resize_only():
    report = audit_transform(squash_cthw)
    assert report.clip_type == "tensor-CTHW" and "tensor-TCHW" in report.tried
    assert categories(report.findings) == ["aspect-distortion"]
    assert "16:9" in report.findings[0].message and "9:16" in report.findings[0].message
    assert check_transform(center_crop_cthw) == []
    assert check_transform(random_resized_crop_clip) == []


def test_color_order_is_found_in_bgr_output():
    findings = check_transform(bgr_list, clip_type="array-list")
    assert categories(findings) == ["color-order"] and "channel 2" in findings[0].message
    assert check_transform(rgb_list, clip_type="array-list") == []


def test_zero_padding_and_short_clip_crash():
    report = audit_transform(zero_pad_uint8)
    assert report.clip_type == "tensor-TCHW-uint8"
    assert categories(report.findings) == ["zero-padding"]
    assert "5 blank frames (frames 3..7)" in report.findings[0].message
    assert categories(check_transform(crashes_on_short)) == ["short-clip"]
    from temporalkit.validators.dynamic import policy

    with policy.use({"short-clip": "error"}):  # refusing short clips clearly is the declared policy
        assert check_transform(refuses_short) == []
        assert categories(check_transform(crashes_on_short)) == ["short-clip"]  # an IndexError is a crash


def crop_exclusive_bound(clip):  # numpy's randint(0, h - size): the last offset is never drawn
    if clip.ndim != 4 or clip.shape[1] != 3:
        raise ValueError("expects (T, C, H, W)")
    _, _, height, width = clip.shape
    top, left = np.random.randint(0, height - 96), np.random.randint(0, width - 96)
    return clip[:, :, top : top + 96, left : left + 96]


def crop_inclusive_bound_and_flip(clip):
    if clip.ndim != 4 or clip.shape[1] != 3:
        raise ValueError("expects (T, C, H, W)")
    _, _, height, width = clip.shape
    top, left = np.random.randint(0, height - 96 + 1), np.random.randint(0, width - 96 + 1)
    out = clip[:, :, top : top + 96, left : left + 96]
    return out.flip(-1) if np.random.rand() < 0.5 else out


def random_resized_crop_small_scale(clip):  # scale down to 0.08: resizes, so not judged by TK606
    from torchvision.transforms import v2

    return v2.RandomResizedCrop(112, scale=(0.08, 1.0), antialias=True)(clip)


def test_a_random_crop_must_reach_the_last_row_and_column():
    findings = check_transform(crop_exclusive_bound, clip_type="tensor-TCHW")
    assert [f.rule for f in findings] == ["TK606"]
    assert "never reached the last row" in findings[0].message and "the last column" in findings[0].message
    assert "probability <= 1e-06" in findings[0].message
    assert check_transform(crop_inclusive_bound_and_flip, clip_type="tensor-TCHW") == []
    assert check_transform(center_crop_cthw) == []
    assert check_transform(random_resized_crop_small_scale, clip_type="tensor-TCHW") == []


def test_a_callable_that_takes_no_clip_type_is_unusable():
    def takes_nothing(clip):
        raise RuntimeError("no")

    with pytest.raises(UnusableCallable, match="no clip type was accepted"):
        check_transform(takes_nothing)


def test_clip_round_trip_through_every_type():
    frames = [np.full((8, 10, 3), value, np.uint8) for value in (0, 128, 255)]
    for clip_type in ("tensor-TCHW", "tensor-CTHW", "tensor-TCHW-uint8", "array-THWC", "pil-list", "array-list"):
        out = clip_to_frames(make_clip(frames, clip_type), clip_type)
        assert [round(float(frame.mean()), 2) for frame in out] == [0.0, 0.5, 1.0], clip_type


def test_bundled_examples_planted_bugs_found_and_correct_file_clean():
    buggy = load(EXAMPLES / "dynamic_transforms.py")
    expected = {
        "random_crop_each_frame": ["inconsistent-crop"],
        "resize_to_square": ["aspect-distortion"],
        "opencv_style_color": ["color-order"],
        "pad_to_clip_len": ["zero-padding"],
        "random_crop_never_last_row": ["start-range"],
    }
    for name, wanted in expected.items():
        assert categories(check_transform(getattr(buggy, name))) == wanted, name
    correct = load(EXAMPLES / "dynamic_transforms_correct.py")
    for name in ("random_crop_clip", "resize_short_side", "normalize_rgb", "pad_by_looping", "normalize_clip"):
        assert check_transform(getattr(correct, name)) == [], name
