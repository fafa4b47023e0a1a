"""The architecture picker: spec loading, the sandboxed prompt, the answer validator, the
recommender's scenario table, the CLI's exit codes and the ask loop with a scripted LLM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from temporalkit import picker
from temporalkit.cli import main
from temporalkit.picker import Answer, TaskSpec, recommend, render_prompt
from temporalkit.picker.answer import extract_json, validate_answer
from temporalkit.picker.costs import measured_cost
from temporalkit.picker.schema import SpecError, default_spec, load_spec, spec_from_mapping

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SCRIPTED_LLM = Path(__file__).with_name("picker_scripted_llm.py")

MOTION_SPEC = TaskSpec(
    task="SSv2-like", motion="motion", train_clips=20000, pretraining="kinetics", frames=16, size=112
)


def good_answer(**changes) -> Answer:
    """A correct answer to MOTION_SPEC with the measured cost, then `changes` applied."""
    fields = dict(
        family="r2plus1d",
        model="r2plus1d_18",
        frames=16,
        size=112,
        sampling="dense",
        test_clips=2,
        test_time="deterministic",
        estimated_gmacs=round(measured_cost("r2plus1d_18", 16, 112).gmacs, 2),
        pretraining="kinetics",
        rationale="motion needs temporal modelling",
        risks=["small data"],
    )
    fields.update(changes)
    if {"model", "frames", "size"} & set(changes) and "estimated_gmacs" not in changes:
        cost = measured_cost(fields["model"], fields["frames"], fields["size"])
        fields["estimated_gmacs"] = round(cost.gmacs, 2) if cost.gmacs else 1.0
    return Answer(**fields)


def rules_of(findings) -> list[str]:
    return sorted(f.rule for f in findings)


# -- the spec ---------------------------------------------------------------------------------


def test_invalid_spec_gets_one_message_per_field():
    with pytest.raises(SpecError) as info:
        spec_from_mapping({"task": "x", "motion": "fast", "train_clips": -3, "colour": "red"}, "spec.yaml")
    text = str(info.value)
    assert "spec.yaml: motion: Input should be 'appearance', 'mixed' or 'motion' (got 'fast')" in text
    assert "spec.yaml: train_clips:" in text and "(got -3)" in text
    assert "spec.yaml: colour: unknown field" in text
    assert len(info.value.problems) == 3


def test_missing_required_field_is_named():
    with pytest.raises(SpecError) as info:
        spec_from_mapping({"task": "x", "motion": "motion"}, "s.json")
    assert info.value.problems == ["train_clips: Field required"]


@pytest.mark.parametrize(
    "name, text",
    [
        ("spec.yaml", "task: t\nmotion: mixed\ntrain_clips: 100\nsize: null\n"),
        ("spec.json", '{"task": "t", "motion": "mixed", "train_clips": 100, "size": null}'),
        ("spec.toml", 'task = "t"\nmotion = "mixed"\ntrain_clips = 100\n'),
    ],
)
def test_spec_loads_from_yaml_json_toml(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    spec = load_spec(path)
    assert (spec.motion, spec.train_clips, spec.size, spec.deployment) == ("mixed", 100, None, "server")


def test_unparseable_and_missing_spec_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SpecError, match=r"broken\.json: cannot parse as json"):
        load_spec(broken)
    with pytest.raises(SpecError, match=r"absent\.yaml: cannot read"):
        load_spec(tmp_path / "absent.yaml")


def test_example_spec_is_the_default_spec():
    assert load_spec(REPO / "examples" / "spec.yaml") == default_spec()


# -- the prompt -------------------------------------------------------------------------------


def test_user_strings_cannot_run_template_code():
    hostile = "{{ 7*7 }} {% for i in range(3) %}LOOP{% endfor %} {{ ''.__class__.__mro__ }}"
    prompt = render_prompt(MOTION_SPEC.model_copy(update={"task": hostile}))
    assert "{{ 7*7 }}" in prompt
    assert "{% for i in range(3) %}LOOP{% endfor %}" in prompt
    assert f"| task | {hostile} |" in prompt  # printed verbatim, not evaluated
    assert json.dumps(hostile) in prompt
    assert "| task | 49" not in prompt and "LOOPLOOP" not in prompt and "<class" not in prompt


def test_environment_is_sandboxed_and_strict():
    from jinja2.exceptions import SecurityError, UndefinedError
    from jinja2.sandbox import SandboxedEnvironment

    environment = picker.template_environment()
    assert isinstance(environment, SandboxedEnvironment)
    with pytest.raises(UndefinedError):
        picker.prompt_template().render()  # every variable missing
    with pytest.raises((SecurityError, UndefinedError)):
        environment.from_string("{{ x.__class__.__subclasses__() }}").render(x="")


def test_prompt_carries_families_sampling_sources_costs_spec_and_schema():
    prompt = render_prompt(MOTION_SPEC)
    for family in ("`2d_pool`", "`i3d`", "`r2plus1d`", "`transformer`", "`tsm`"):
        assert family in prompt
    for attention in ("joint", "divided", "factorised"):
        assert attention in prompt
    for strategy in ("`uniform`", "`dense`", "`multi_clip`"):
        assert strategy in prompt
    assert "arXiv:2102.05095" in prompt and "| 59.5 |" in prompt  # TimeSformer divided on SSv2
    assert "R2Plus1D_18_Weights.KINETICS400_V1.meta" in prompt
    measured = measured_cost("r2plus1d_18", 16, 112).gmacs
    assert f"| `r2plus1d_18` | r2plus1d | 16x112 | 16 | 112 | {round(measured, 2)} |" in prompt
    assert "cannot run: mvit in torchvision is built for exactly 16 frames at 224 px" in prompt
    assert "| train_clips | 20000 |" in prompt
    assert "Reply with JSON only" in prompt
    schema_block = prompt.rsplit("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(schema_block) == Answer.model_json_schema()


def test_default_prompt_is_deterministic_and_committed():
    first = render_prompt(default_spec())
    assert first == render_prompt(default_spec())
    assert (REPO / "outputs" / "prompt-video-architecture-picker.md").read_text() == first


# -- extracting the JSON ----------------------------------------------------------------------

ANSWER_DICT = {"family": "i3d", "model": "r3d_18"}


@pytest.mark.parametrize(
    "text, line",
    [
        (json.dumps(ANSWER_DICT), 1),
        ("\n\n  " + json.dumps(ANSWER_DICT), 3),
        ("Here you go:\n```json\n" + json.dumps(ANSWER_DICT) + "\n```\n", 3),
        ("```\n" + json.dumps(ANSWER_DICT, indent=2) + "\n```", 2),
        ("I recommend this.\n" + json.dumps(ANSWER_DICT) + "\nGood luck!", 2),
        ('With {"T": 16} frames in mind:\n' + json.dumps(ANSWER_DICT) + " done", 2),
        ("```python\nnot json\n```\nanswer: " + json.dumps(ANSWER_DICT), 4),
    ],
)
def test_json_is_found_bare_fenced_or_in_prose(text, line):
    extracted = extract_json(text)
    assert extracted.data == ANSWER_DICT
    assert extracted.line == line


def test_no_json_and_non_object_json_are_format_errors():
    assert rules_of(validate_answer(MOTION_SPEC, "I would use a transformer.")) == ["TKP100"]
    assert rules_of(validate_answer(MOTION_SPEC, "[1, 2, 3]")) == ["TKP100"]


# -- each validator finding -------------------------------------------------------------------


def test_correct_answer_has_no_findings():
    assert validate_answer(MOTION_SPEC, good_answer()) == []
    assert validate_answer(MOTION_SPEC, "```json\n" + good_answer().model_dump_json() + "\n```") == []


def test_schema_mismatch_names_each_field():
    data = good_answer().model_dump()
    data.update(sampling="random", frames="many")
    del data["risks"]
    findings = validate_answer(MOTION_SPEC, json.dumps(data))
    assert rules_of(findings) == ["TKP101"] * 3
    messages = " ".join(f.message for f in findings)
    assert "sampling:" in messages and "frames:" in messages and "risks: Field required" in messages
    assert all(f.severity == "error" and f.source == "picker" for f in findings)


@pytest.mark.parametrize(
    "spec_changes, answer_changes, expected",
    [
        ({}, {"model": "resnet3d_999"}, ["TKP102"]),
        ({}, {"family": "i3d"}, ["TKP103"]),
        (
            {"size": 224},
            {"model": "mvit_v2_s", "family": "transformer", "frames": 16, "size": 112},
            ["TKP104", "TKP105"],
        ),
        ({"frames": 8}, {}, ["TKP105"]),
        ({"budget_gmacs": 20}, {}, ["TKP106"]),
        ({}, {"estimated_gmacs": 12.0}, ["TKP107"]),
        ({}, {"model": "framepool_r18", "family": "2d_pool", "sampling": "uniform", "pretraining": "none"}, ["TKP108"]),
        ({}, {"model": "timesformer_space_only", "family": "transformer", "pretraining": "imagenet"}, ["TKP108"]),
        (
            {"train_clips": 3000, "pretraining": "none"},
            {"model": "swin3d_t", "family": "transformer", "pretraining": "none"},
            ["TKP109"],
        ),
        ({"long_range": True, "video_seconds": 60.0}, {"sampling": "uniform", "test_clips": 2}, ["TKP110"]),
        ({}, {"test_time": "random"}, ["TKP113"]),
        ({}, {"sampling": "multi_clip", "test_clips": 1}, ["TKP110"]),
        ({"long_range": True}, {"test_clips": 1}, ["TKP110"]),
        ({"pretraining": "imagenet"}, {}, ["TKP111"]),
        ({}, {"model": "r2plus1d_r18", "pretraining": "kinetics"}, ["TKP111"]),
    ],
)
def test_each_validator_rule_fires(spec_changes, answer_changes, expected):
    spec = MOTION_SPEC.model_copy(update=spec_changes)
    answer = good_answer(**answer_changes)
    assert rules_of(validate_answer(spec, answer)) == expected


def test_severities_of_judgement_rules():
    scratch = MOTION_SPEC.model_copy(update={"train_clips": 3000, "pretraining": "none"})
    (error,) = validate_answer(scratch, good_answer(model="swin3d_t", family="transformer", pretraining="none"))
    assert (error.severity, error.category) == ("error", "data-hungry")
    assert (
        "published only with ImageNet or Kinetics" not in error.message and "MViT trains from scratch" in error.message
    )
    (error,) = validate_answer(
        MOTION_SPEC, good_answer(model="framepool_r18", family="2d_pool", sampling="uniform", pretraining="none")
    )
    assert (error.severity, error.category) == ("error", "motion-blind")
    (invented,) = validate_answer(MOTION_SPEC, good_answer(estimated_gmacs=12.0))
    assert "use the measured figure" in invented.fix


def test_estimate_within_25_percent_is_accepted():
    measured = measured_cost("r2plus1d_18", 16, 112).gmacs
    assert validate_answer(MOTION_SPEC, good_answer(estimated_gmacs=measured * 1.24)) == []
    assert rules_of(validate_answer(MOTION_SPEC, good_answer(estimated_gmacs=measured * 1.26))) == ["TKP107"]


def test_latency_over_target_is_an_error_when_measured():
    spec = TaskSpec(task="t", motion="appearance", train_clips=1000, frames=1, size=32, latency_ms=1e-6, device="cpu")
    answer = Answer(
        family="2d_pool",
        model="framepool_r18",
        frames=1,
        size=32,
        sampling="uniform",
        test_clips=1,
        test_time="deterministic",
        estimated_gmacs=round(measured_cost("framepool_r18", 1, 32).gmacs, 4),
        pretraining="imagenet",
        rationale="r",
        risks=[],
    )
    (unchecked,) = validate_answer(spec, answer)  # a target is never silently ignored
    assert (unchecked.rule, unchecked.severity) == ("TKP112", "warning") and "device_profile" in unchecked.fix
    (timed,) = validate_answer(spec, answer, measure_latency=True)
    assert (timed.rule, timed.severity) == ("TKP112", "error") and "not the deployment device" in timed.message


# -- the recommender (its scenarios: tests/test_picker_scenarios.py) ---------------------------------


def test_recommend_is_deterministic():
    assert recommend(default_spec()) == recommend(default_spec())


def test_latency_from_a_device_profile_is_checked_per_decision():
    profile = {"name": "phone", "measured_ms": {"r2plus1d_18@16x112": 30.0}}
    spec = TaskSpec.model_validate({**MOTION_SPEC.model_dump(), "latency_ms": 50.0, "device_profile": profile})
    assert validate_answer(spec, good_answer(test_clips=1)) == []
    (error,) = validate_answer(spec, good_answer(test_clips=2))  # 2 x 30 ms > 50 ms
    assert error.rule == "TKP112" and "60.0 ms per decision" in error.message


def test_budget_is_per_decision():
    per_clip = measured_cost("r2plus1d_18", 16, 112).gmacs
    spec = MOTION_SPEC.model_copy(update={"budget_gmacs": per_clip * 1.5})
    assert validate_answer(spec, good_answer(test_clips=1)) == []
    (error,) = validate_answer(spec, good_answer(test_clips=2))
    assert error.rule == "TKP106" and "per decision" in error.message


def test_unknown_model_gets_a_did_you_mean():
    (finding,) = validate_answer(MOTION_SPEC, good_answer(model="r2plus1d18", estimated_gmacs=40.0))
    assert finding.rule == "TKP102" and "did you mean 'r2plus1d_18'" in finding.fix


@pytest.mark.parametrize("spelling", ["2plus1d", "r2plus1d"])
def test_family_aliases_are_normalised(spelling):
    answer = Answer.model_validate({**good_answer().model_dump(), "family": spelling})
    assert answer.family == "r2plus1d" and validate_answer(MOTION_SPEC, answer) == []


def test_numbers_given_as_strings_are_schema_errors():
    data = good_answer().model_dump()
    data.update(frames="16", estimated_gmacs="40.5")
    assert rules_of(validate_answer(MOTION_SPEC, json.dumps(data))) == ["TKP101", "TKP101"]
    with pytest.raises(SpecError, match="budget_gmacs: Input should be a valid number"):
        spec_from_mapping({"task": "t", "motion": "motion", "train_clips": 10, "budget_gmacs": "50"})


# -- the CLI ----------------------------------------------------------------------------------


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(MOTION_SPEC.model_dump_json())
    return path


def test_cli_validate_exit_codes(tmp_path, spec_file, capsys):
    good = tmp_path / "good.md"
    good.write_text("My answer:\n```json\n" + good_answer().model_dump_json() + "\n```\n")
    bad = tmp_path / "bad.json"
    bad.write_text(good_answer(estimated_gmacs=1.0).model_dump_json())
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", str(good)]) == 0
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", str(bad), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out.split("accepted (0 error(s), 0 warning(s))\n")[-1])
    assert report["accepted"] is False and report["findings"][0]["rule"] == "TKP107"
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err


def test_cli_unreadable_spec_is_exit_2_with_one_line_per_field(tmp_path, capsys):
    bad_spec = tmp_path / "spec.yaml"
    bad_spec.write_text("task: t\nmotion: sideways\ntrain_clips: 10\n")
    assert main(["pick", "recommend", "--spec", str(bad_spec)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{bad_spec}: motion: Input should be 'appearance', 'mixed' or 'motion' (got 'sideways')"


def test_cli_spec_from_flags_and_flags_override_file(spec_file, capsys):
    argv = [
        "pick",
        "recommend",
        "--task",
        "gestures",
        "--motion",
        "motion",
        "--train-clips",
        "3000",
        "--pretraining",
        "none",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["pretraining"] in ("none", "self_supervised")
    assert main(["pick", "recommend", "--spec", str(spec_file), "--budget-gmacs", "9", "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["test_clips"] * answer["test_crops"] * answer["estimated_gmacs"] <= 9 * 1.001


def test_cli_recommend_exit_1_when_nothing_fits(spec_file, capsys):
    assert main(["pick", "recommend", "--spec", str(spec_file), "--budget-gmacs", "0.01"]) == 1
    out = capsys.readouterr().out
    assert "verdict:    infeasible" in out and "nearest alternatives:" in out


def test_cli_render_prints_the_prompt(spec_file, capsys):
    assert main(["pick", "render", "--spec", str(spec_file)]) == 0
    assert capsys.readouterr().out == render_prompt(MOTION_SPEC)


# -- asking an LLM ----------------------------------------------------------------------------


def llm(*flags) -> str:
    return " ".join([sys.executable, str(SCRIPTED_LLM), *flags])


def test_ask_reasks_with_findings_and_accepts_the_corrected_answer():
    result = picker.ask(MOTION_SPEC, llm(), retries=2)
    assert result.accepted and len(result.attempts) == 2
    assert "TKP108" in rules_of(result.attempts[0].findings)
    assert "TKP107" in rules_of(result.attempts[0].findings)
    assert result.answer.model == "r2plus1d_18" and result.findings == []
    feedback = picker.feedback_prompt("PROMPT", result.attempts[0].reply, result.attempts[0].findings)
    assert "error TKP108 (motion-blind)" in feedback and feedback.startswith("PROMPT")


def test_ask_gives_the_last_findings_when_retries_run_out():
    result = picker.ask(MOTION_SPEC, llm("--always-bad"), retries=1)
    assert not result.accepted and result.answer is None and len(result.attempts) == 2
    assert "TKP108" in rules_of(result.findings)


def test_cli_ask_exit_codes(spec_file, capsys):
    assert main(["pick", "ask", "--spec", str(spec_file), "--llm-cmd", llm(), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accepted"] and report["attempts"] == 2 and report["answer"]["model"] == "r2plus1d_18"
    assert main(["pick", "ask", "--spec", str(spec_file), "--llm-cmd", llm("--always-bad"), "--retries", "0"]) == 1
    assert "rejected after 1 attempt(s)" in capsys.readouterr().out
    assert main(["pick", "ask", "--spec", str(spec_file), "--llm-cmd", llm("--fail")]) == 2
    assert "exited with status 3: model quota exceeded" in capsys.readouterr().err


def test_pick_command_module_is_light_to_import():
    code = (
        "import sys, temporalkit.commands.pick, temporalkit.cli; temporalkit.cli.build_parser();"
        "print([m for m in ('torch', 'pydantic', 'jinja2') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the new catalogue in the prompt, infeasible answers through ask, one family vocabulary ------------


def test_prompt_lists_the_catalogue_with_protocols_and_no_false_statement():
    prompt = render_prompt(default_spec())
    for model in ("tsm_mobilenet_v2", "x3d_xs", "movinet_a0", "videomae_vit_b", "clip_vit_b32"):
        assert f"| `{model}` |" in prompt
    assert "| `vivit_l_fe_ssv2` | ViViT-L/16x2 factorised encoder | SSv2 | top-1 | 65.9 |" in prompt
    assert "| 65.4 |" not in prompt
    # torchvision's figures carry the protocol their documentation states, not the 16-frame cost clip.
    assert "| torchvision s3d | K400 | top-1 | 68.37 | 128f x 224 px, 1 clip x 1 crop, 15 fps |" in prompt
    assert "| torchvision swin3d_t | K400 | top-1 | 77.72 | 32f x 224 px, 12 clips x 1 crop, 15 fps |" in prompt
    assert "MViT-B 16x4 | K400 | top-1 | 78.4 | 16f x 224 px, 5 clips x 1 crop, 7.5 fps | none |" in prompt
    assert "published only with ImageNet or Kinetics" not in prompt


def test_ask_accepts_an_infeasible_answer_when_nothing_fits(tmp_path):
    infeasible_spec = MOTION_SPEC.model_copy(update={"budget_gmacs": 0.01})
    answer = recommend(infeasible_spec)
    assert answer.verdict == "infeasible"
    reply = tmp_path / "reply.json"
    reply.write_text(answer.model_dump_json())
    script = tmp_path / "llm.py"
    script.write_text(f"import sys\nsys.stdin.read()\nprint(open({str(reply)!r}).read())\n")
    result = picker.ask(infeasible_spec, [sys.executable, str(script)], retries=0)
    assert result.accepted and result.answer.verdict == "infeasible" and result.answer.alternatives


def test_every_command_accepts_every_family_spelling():
    import argparse

    from temporalkit.reference_models.families import ALIASES, Family

    from temporalkit.commands import check, cost, train

    train_parser, check_parser, cost_parser = (argparse.ArgumentParser() for _ in range(3))
    train.add_arguments(train_parser)
    check.add_arguments(check_parser)
    cost.add_arguments(cost_parser)
    for spelling, family in ALIASES.items():
        assert Answer.model_validate({**good_answer().model_dump(), "family": spelling}).family == family.answer_name
        assert train_parser.parse_args(["--model", spelling]).model == family.tiny_name
        assert cost_parser.parse_args(["--family", spelling]).family == family.value
        assert (
            Family.parse(check_parser.parse_args(["x.py:f", "--role", "sampler", "--family", spelling]).family)
            is family
        )
