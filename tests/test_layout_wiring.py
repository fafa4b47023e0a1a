"""The layout check (TK621) wired into the dynamic runner: `family` on check_object, the CLI and pyproject."""

import subprocess
import sys
import textwrap

import pytest
from temporalkit.validators.dynamic import check_object
from temporalkit.validators.dynamic.discover import DiscoveryError, dynamic_config_from_table

pytest.importorskip("torch")

TRANSFORMS = textwrap.dedent(
    """
    import torch

    def to_tchw(clip):
        # takes a (T, C, H, W) float tensor, returns it as is: wrong for a 3D conv model
        if not (isinstance(clip, torch.Tensor) and clip.ndim == 4 and clip.shape[1] == 3):
            raise TypeError("wants a (T, C, H, W) tensor")
        return clip[:, :, :112, :112].float()

    def to_cthw(clip):
        if not (isinstance(clip, torch.Tensor) and clip.ndim == 4 and clip.shape[1] == 3):
            raise TypeError("wants a (T, C, H, W) tensor")
        return clip[:, :, :112, :112].float().permute(1, 0, 2, 3).contiguous()

    def crop_any_layout(clip):
        # keeps whatever 4D layout it is given: the layout is the caller's, not this transform's
        if not (isinstance(clip, torch.Tensor) and clip.ndim == 4):
            raise TypeError("wants a 4D tensor")
        return clip[..., :112, :112].float()
    """
)


@pytest.fixture()
def transforms(tmp_path):
    path = tmp_path / "transforms.py"
    path.write_text(TRANSFORMS)
    return path


def layout(findings):
    return [f for f in findings if f.rule == "TK621"]


def test_family_reports_a_tchw_transform_for_a_3d_conv_model(transforms):
    findings, errors = check_object(transforms, "to_tchw", "transform", family="3d_conv", timeout=60)
    assert errors == []
    found = layout(findings)
    assert [f.category for f in found] == ["layout"] and found[0].source == "dynamic"
    assert found[0].path == str(transforms) and found[0].line > 0


def test_a_transform_that_keeps_any_layout_is_not_blamed_for_the_one_the_auditor_fed_it(transforms):
    findings, errors = check_object(transforms, "crop_any_layout", "transform", family="3d_conv", timeout=60)
    assert errors == [] and layout(findings) == []


def test_family_passes_a_cthw_transform_and_no_family_changes_nothing(transforms):
    # one child for both objects, to keep the test fast
    from temporalkit.validators.dynamic import run_dynamic_modules
    from temporalkit.validators.dynamic.discover import Candidate

    candidates = [
        Candidate(path=str(transforms), name="to_cthw", role="transform", line=1, family="3d_conv"),
        Candidate(path=str(transforms), name="to_tchw", role="transform", line=1),
    ]
    results, errors = run_dynamic_modules([transforms], timeout=60, candidates=candidates)
    assert errors == [] and layout(f for r in results for f in r.findings) == []


def test_unknown_family_is_an_error(transforms):
    findings, errors = check_object(transforms, "to_tchw", "transform", family="4d_conv")
    assert findings == [] and "family must be one of" in errors[0].message


def test_cli_family(transforms):
    command = [
        sys.executable,
        "-m",
        "temporalkit",
        "check",
        f"{transforms}:to_tchw",
        "--role",
        "transform",
        "--family",
        "3d_conv",
        "--format",
        "json",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "TK621" in result.stdout, result.stderr


def test_pyproject_family_keys():
    config = dynamic_config_from_table(
        {
            "family": "3d_conv",
            "objects": [
                {"target": "data/t.py:to_tchw", "role": "transform", "family": "2d_pool"},
                {"target": "data/t.py:load", "role": "loader"},
            ],
        }
    )
    assert config.family == "3d_conv"
    assert [c.family for c in config.objects] == ["2d_pool", None]
    with pytest.raises(DiscoveryError, match="family"):
        dynamic_config_from_table({"family": "cnn"})


def test_pyproject_family_reaches_discovered_objects(tmp_path, transforms):
    from temporalkit.validators.dynamic.discover import discover_file

    config = dynamic_config_from_table(
        {"family": "3d_conv", "discover": False, "objects": [{"target": f"{transforms}:to_tchw", "role": "transform"}]}
    )
    found = discover_file(transforms, config)
    assert [(c.name, c.family) for c in found] == [("to_tchw", "3d_conv")]
