"""The reference-model family vocabulary: every spelling accepted today keeps meaning the same family.

Pinned before the three vocabularies (registry, picker schema, layout check) became one enum.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# spelling -> (registry family, picker answer family, tiny builder family), as the three former
# vocabularies said: registry.FAMILIES, picker_schema's two translation dicts, layout_checks.FAMILY_ALIASES.
SPELLINGS = {
    "2d_pool": ("2d_pool", "2d_pool", "framepool"),
    "framepool": ("2d_pool", "2d_pool", "framepool"),
    "3d_conv": ("3d_conv", "i3d", "i3d"),
    "i3d": ("3d_conv", "i3d", "i3d"),
    "2plus1d": ("2plus1d", "r2plus1d", "r2plus1d"),
    "r2plus1d": ("2plus1d", "r2plus1d", "r2plus1d"),
    "transformer": ("transformer", "transformer", "transformer"),
    "temporal_shift": ("temporal_shift", "tsm", "tsm"),
    "tsm": ("temporal_shift", "tsm", "tsm"),
    "shift": ("temporal_shift", "tsm", "tsm"),
}

MODEL_ANSWER_FAMILY = {
    "framepool_r18": "2d_pool",
    "i3d_r18": "i3d",
    "r2plus1d_r18": "r2plus1d",
    "timesformer_divided": "transformer",
    "timesformer_joint": "transformer",
    "timesformer_space_only": "transformer",
    "r3d_18": "i3d",
    "mc3_18": "i3d",
    "r2plus1d_18": "r2plus1d",
    "s3d": "r2plus1d",
    "mvit_v1_b": "transformer",
    "mvit_v2_s": "transformer",
    "swin3d_t": "transformer",
    "swin3d_s": "transformer",
    "swin3d_b": "transformer",
    "tsm_r50": "tsm",
    "tsm_mobilenet_v2": "tsm",
    "x3d_xs": "i3d",
    "x3d_s": "i3d",
    "x3d_m": "i3d",
    "slowfast_r50_4x16": "i3d",
    "slowfast_r50_8x8": "i3d",
    "movinet_a0": "i3d",
    "movinet_a1": "i3d",
    "videomae_vit_s": "transformer",
    "videomae_vit_b": "transformer",
    "clip_vit_b32": "2d_pool",
    "clip_vit_b16": "2d_pool",
}


def test_every_spelling_maps_to_the_same_family():
    from temporalkit.reference_models.families import Family

    for spelling, (registry_name, answer_name, tiny_name) in SPELLINGS.items():
        family = Family(spelling)
        assert (family.value, family.answer_name, family.tiny_name) == (registry_name, answer_name, tiny_name), spelling


def test_unknown_spelling_is_refused_with_every_accepted_one():
    from temporalkit.reference_models.families import Family

    with pytest.raises(
        ValueError,
        match="family must be one of 2d_pool, framepool, 3d_conv, i3d, 2plus1d, r2plus1d, transformer, "
        "temporal_shift, tsm, shift, got 'cnn'",
    ):
        Family.parse("cnn")


def test_registry_and_picker_vocabularies():
    from temporalkit.reference_models.registry import FAMILIES, MODELS, TINY_FAMILIES

    from temporalkit.picker.schema import Answer

    assert FAMILIES == ("2d_pool", "3d_conv", "2plus1d", "transformer", "temporal_shift")
    assert TINY_FAMILIES == ("framepool", "i3d", "r2plus1d", "transformer", "tsm")
    assert {entry.family for entry in MODELS.values()} == set(FAMILIES)
    assert Answer.model_json_schema()["properties"]["family"]["enum"] == [
        "2d_pool",
        "i3d",
        "r2plus1d",
        "transformer",
        "tsm",
    ]


def test_each_model_keeps_its_answer_family():
    from temporalkit.picker import costs

    assert {model_id: costs.answer_family(model_id) for model_id in costs.model_ids()} == MODEL_ANSWER_FAMILY
    assert costs.answer_family("no_such_model") is None


def test_pyproject_accepts_every_spelling():
    from temporalkit.validators.dynamic.discover import check_family, dynamic_config_from_table

    for spelling in SPELLINGS:
        assert check_family(spelling) == spelling
        assert dynamic_config_from_table({"family": spelling}).family == spelling
    assert check_family(None) is None
    with pytest.raises(
        ValueError,
        match=r"family must be one of 2d_pool, framepool, 3d_conv, i3d, 2plus1d, r2plus1d, transformer, "
        r"temporal_shift, tsm, shift, got 'cnn'",
    ):
        check_family("cnn")
    with pytest.raises(ValueError, match="family must be one of"):
        check_family(3)


def test_cli_accepts_the_family_spellings():
    from temporalkit.cli import build_parser

    parser = build_parser()
    for spelling in SPELLINGS:
        args = parser.parse_args(["check", "data/t.py:to_tchw", "--role", "transform", "--family", spelling])
        assert args.family == spelling
    for spelling in ("framepool", "i3d", "r2plus1d", "transformer", "tsm"):
        assert parser.parse_args(["train", "--model", spelling]).model == spelling


def test_the_vocabulary_imports_no_torch():
    probe = (
        "import sys\n"
        "import temporalkit.reference_models.families, temporalkit.validators.config\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'libcst', 'pydantic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
