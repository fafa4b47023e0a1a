"""The rendered skill: front matter, a table row per registered rule, install / refuse / --force."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from temporalkit.validators.findings import CATEGORIES
from temporalkit.validators.rules import all_rules

from temporalkit.cli import build_parser, main
from temporalkit.render import PICKER_SKILL_NAME, SKILL_NAME, SKILL_SCRIPTS, SKILLS, render_skill_files
from temporalkit.skill import SkillFileChanged, SkillTargetError, install_skill


@pytest.fixture(scope="module")
def skill_files() -> dict[str, str]:
    return render_skill_files()


def front_matter_and_body(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    header, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(header), body


def section(body: str, heading: str) -> str:
    start = body.index(f"\n## {heading}\n")
    end = body.find("\n## ", start + 1)
    return body[start : end if end != -1 else None]


def test_front_matter_names_the_skill_and_says_when_to_use_it(skill_files):
    meta, body = front_matter_and_body(skill_files["SKILL.md"])
    assert meta["name"] == "frame-sampler-auditor"
    description = meta["description"]
    assert isinstance(description, str) and len(description) <= 1024
    for when in ("video data pipelines", "frame samplers", "crops"):
        assert when in description
    assert "temporalkit audit" in body and "--format json" in body and "--dynamic" in body


def test_every_registered_rule_has_a_table_row(skill_files):
    rules = all_rules()
    assert rules, "the rule registry is empty"
    _, body = front_matter_and_body(skill_files["SKILL.md"])
    table = [line for line in section(body, "Rules").splitlines() if line.startswith("| TK")]
    rows = {line.split("|")[1].split()[0]: line for line in table}
    assert set(rows) == {rule.ID for rule in rules}
    for rule in rules:
        cells = [cell.strip() for cell in rows[rule.ID].strip("|").split(" | ")]
        assert cells[1] == f"`{rule.CATEGORY}`" and cells[2] == rule.SEVERITY
        assert cells[3], f"{rule.ID}: no 'what it catches' text"
        if rule.INVALID:
            assert cells[4].strip("`") in " ".join(rule.INVALID[0].code.split()).replace("|", "\\|")
    reference = skill_files["REFERENCE.md"]
    for rule in rules:
        assert f"## {rule.ID} `{rule.__name__}`" in reference


def test_every_category_is_listed(skill_files):
    categories = section(skill_files["SKILL.md"], "Categories")
    for name in CATEGORIES:
        assert f"| `{name}` |" in categories


def test_body_references_only_files_the_install_writes(skill_files):
    for script in SKILL_SCRIPTS:
        assert script in skill_files["SKILL.md"]
    assert "REFERENCE.md" in skill_files["SKILL.md"]


def test_install_into_a_scratch_project_then_refuse_then_force(tmp_path, capsys):
    target = tmp_path / "project" / ".claude" / "skills" / "frame-sampler-auditor"
    first = install_skill(target)
    assert sorted(p.name for p in first.written) == sorted(render_skill_files())
    meta, _ = front_matter_and_body((target / "SKILL.md").read_text())
    assert meta["name"] == "frame-sampler-auditor"
    assert (target / "summarize_findings.py").stat().st_mode & 0o111

    again = install_skill(target)
    assert again.written == [] and len(again.unchanged) == len(first.written)

    edited = target / "SKILL.md"
    edited.write_text(edited.read_text() + "\nmy local note\n")
    (target / "REFERENCE.md").unlink()
    with pytest.raises(SkillFileChanged) as refused:
        install_skill(target)
    assert refused.value.path == edited
    assert edited.read_text().endswith("my local note\n")
    assert not (target / "REFERENCE.md").exists()  # a refused install writes nothing

    assert main(["skill", "install", "--target", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(edited) in err[0] and "--force" in err[0]

    assert main(["skill", "install", "--target", str(target), "--force"]) == 0
    assert edited.read_text() == render_skill_files(skill_dir=target.resolve())["SKILL.md"]
    assert (target / "REFERENCE.md").exists()


def test_summarize_findings_script_reads_audit_json(tmp_path):
    script = install_skill(tmp_path).target / "summarize_findings.py"
    report = {
        "version": "0.1.0",
        "findings": [
            {
                "rule": "TK999",
                "category": "index-out-of-range",
                "severity": "error",
                "path": "data/sampler.py",
                "line": 12,
                "column": 5,
                "end_line": 12,
                "end_column": 31,
                "message": "index can reach num_frames",
                "fix": "use num_frames - 1",
                "source": "dynamic",
                "extra": {"counterexample": "sample(num_frames=7, T=8) returned index 7"},
            },
            {
                "rule": "TK503",
                "category": "temporal-order",
                "severity": "error",
                "path": "data/sampler.py",
                "line": 30,
                "column": 0,
                "message": "indices must not decrease",
                "fix": "",
                "source": "dynamic",
                "extra": {"counterexample": {"num_frames": 2, "T": 2, "seed": 2}, "returned": [1, 0]},
            },
        ],
        "errors": [{"path": "broken.py", "message": "syntax error at line 3"}],
    }
    findings = tmp_path / "findings.json"
    findings.write_text(json.dumps(report))
    done = subprocess.run([sys.executable, str(script), str(findings)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "data/sampler.py" in done.stdout and "12:5" in done.stdout  # 1-based column, as editors count
    assert "counterexample: sample(num_frames=7, T=8) returned index 7" in done.stdout
    assert "broken.py: syntax error at line 3" in done.stdout
    assert "counterexample: num_frames=2, T=2, seed=2 -> returned [1, 0]" in done.stdout
    assert "2 finding(s): 2 error(s), 0 warning(s)" in done.stdout

    findings.write_text("not json")
    bad = subprocess.run([sys.executable, str(script), str(findings)], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def _commands_in(markdown: str) -> list[str]:
    """The `temporalkit ...` command lines the skill tells an assistant to run."""
    commands = re.findall(r"`(temporalkit [^`]+)`", markdown)
    commands += [line.strip() for line in markdown.splitlines() if line.strip().startswith("temporalkit ")]
    cleaned = []
    for command in commands:
        command = command.split(" > ", 1)[0].split("  #", 1)[0]
        cleaned.append(command.replace("PATH ...", "src").replace("PATH", "src"))
    return cleaned


def test_every_command_the_skill_gives_parses(skill_files):
    commands = _commands_in(skill_files["SKILL.md"])
    assert any("--format json" in c for c in commands) and any("--dynamic" in c for c in commands)
    parser = build_parser()
    for command in commands:
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit:
            pytest.fail(f"the skill tells the assistant to run `{command}`, which the CLI rejects")


def test_skill_procedure_end_to_end_on_a_buggy_sampler(tmp_path, capsys):
    skill = install_skill(tmp_path / "skill").target
    sampler = tmp_path / "project" / "sampler.py"
    sampler.parent.mkdir()
    sampler.write_text(
        "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
    )
    assert main(["audit", str(sampler), "--format", "json", "--no-cache"]) == 1
    findings = tmp_path / "findings.json"
    findings.write_text(capsys.readouterr().out)
    done = subprocess.run(
        [sys.executable, str(skill / "summarize_findings.py"), str(findings)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "TK101" in done.stdout and "5:" in done.stdout and "index-out-of-range" in done.stdout


def test_every_dynamic_check_id_is_documented(skill_files):
    import temporalkit.validators.dynamic as dynamic
    from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS

    sources = "\n".join(path.read_text() for path in Path(dynamic.__file__).parent.glob("*.py"))
    mentioned = set(re.findall(r"\bTK\d{3}\b", sources))
    undeclared = sorted(mentioned - set(DYNAMIC_CHECKS))
    assert not undeclared, f"ids used but not declared in checks.py: {undeclared}"
    checks = section(skill_files["SKILL.md"], "Dynamic checks (`--dynamic`)")
    rows = re.findall(r"^\| (TK\d{3}) \| (.+?) \| `([a-z-]+)` \| (.+?) \| (.+?) \|$", checks, re.MULTILINE)
    assert [row[0] for row in rows] == sorted(DYNAMIC_CHECKS), "one row per declared dynamic check, in id order"
    for check_id, runs_on, category, _what, fix in rows:
        check = DYNAMIC_CHECKS[check_id]
        assert (runs_on, category) == (check.runs_on, check.category)
        assert fix.replace("\\|", "|") == check.fix
    reference = skill_files["REFERENCE.md"]
    assert all(f"## {check_id} `{DYNAMIC_CHECKS[check_id].name}`" in reference for check_id in DYNAMIC_CHECKS)


def test_known_problems_of_a_rule_reach_the_reference_not_its_why(skill_files):
    from temporalkit.validators.rules import all_rules

    from temporalkit.render import docstring_sections

    with_known = [rule for rule in all_rules() if docstring_sections(rule.__doc__).get("known_problems")]
    assert with_known, "no rule documents its known problems"
    reference = skill_files["REFERENCE.md"]
    for rule in with_known:
        known = docstring_sections(rule.__doc__)["known_problems"]
        first_words = " ".join(known.split()[:6])
        assert f"Known problems: {first_words}" in " ".join(reference.split()), rule.ID


def test_target_is_the_skills_folder_and_another_skills_folder_is_refused(tmp_path, capsys):
    skills = tmp_path / ".claude" / "skills"
    assert main(["skill", "install", "--target", str(skills)]) == 0
    assert main(["skill", "install", PICKER_SKILL_NAME, "--target", str(skills)]) == 0
    assert sorted(p.name for p in skills.iterdir()) == sorted(SKILLS)
    assert (skills / SKILL_NAME / "SKILL.md").is_file() and (skills / PICKER_SKILL_NAME / "SKILL.md").is_file()
    capsys.readouterr()

    # the picker's folder is not the auditor's: refused, one line, nothing written
    assert main(["skill", "install", "--target", str(skills / PICKER_SKILL_NAME)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another skill" in err[0] and SKILL_NAME in err[0]
    assert not (skills / PICKER_SKILL_NAME / SKILL_NAME).exists()
    with pytest.raises(SkillTargetError):
        install_skill(skills / PICKER_SKILL_NAME)
    assert main(["skill", "install", "no-such-skill", "--target", str(skills)]) == 2


def test_installed_skills_pass_the_skills_ref_validator(tmp_path):
    validator = pytest.importorskip("skills_ref.validator")
    for skill in SKILLS:
        folder = install_skill(tmp_path, skill=skill).target
        assert validator.validate(folder) == [], skill
    wrong = tmp_path / "renamed"
    folder = tmp_path / SKILL_NAME
    folder.rename(wrong)
    assert validator.validate(wrong), "the validator must object to a folder not named as the skill"


def test_skill_gives_the_full_path_of_its_script_and_what_to_do_without_temporalkit(tmp_path, capsys):
    folder = install_skill(tmp_path / "skills").target
    text = (folder / "SKILL.md").read_text()
    script = folder.resolve() / "summarize_findings.py"
    (line,) = [line for line in text.splitlines() if "summarize_findings.py" in line and "python" in line]
    command = shlex.split(line.strip())
    assert command[1] == str(script)
    project = tmp_path / "project"
    project.mkdir()
    (project / "sampler.py").write_text(
        "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
    )
    assert main(["audit", str(project / "sampler.py"), "--format", "json", "--no-cache"]) == 1
    (project / "findings.json").write_text(capsys.readouterr().out)
    done = subprocess.run([sys.executable, *command[1:]], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0 and "TK101" in done.stdout, done.stderr  # run from another folder, by full path
    assert "not on PATH" in text and "python -m temporalkit" in text
    assert "pip install 'temporalkit[dynamic]'" in text


def test_skill_teaches_suppressions_that_reach_dynamic_findings(skill_files):
    body = " ".join(skill_files["SKILL.md"].split())
    assert "# temporalkit: ignore[TK101] -- reason" in body
    assert "A dynamic finding points to the `def` (or `class`) line" in body
    assert "per-file-ignores" in body


def test_picker_skill_lists_every_spec_field_and_its_commands_parse(tmp_path):
    from temporalkit.picker.schema import SPEC_FIELDS

    text = render_skill_files(PICKER_SKILL_NAME)["SKILL.md"]
    meta, body = front_matter_and_body(text)
    assert meta["name"] == PICKER_SKILL_NAME and "video" in meta["description"]
    rows = re.findall(r"^\| `(\w+)` \| (yes|no) \|", body, re.MULTILINE)
    assert [name for name, _ in rows] == list(SPEC_FIELDS)
    commands = _commands_in(text)
    assert {c.split()[2] for c in commands if c.startswith("temporalkit pick ")} >= {"render", "validate", "recommend"}
    parser = build_parser()
    for command in commands:
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit:
            pytest.fail(f"the picker skill tells the assistant to run `{command}`, which the CLI rejects")
