"""The committed outputs/ match what the templates and code produce now, and staleness is detected."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.sandbox
import pytest

import temporalkit.render as render
from temporalkit.cli import main
from temporalkit.render import (
    PICKER_OUTPUT,
    PICKER_SKILL_OUTPUT,
    SKILL_OUTPUT,
    check_outputs,
    docstring_sections,
    render_all,
    template_environment,
    write_outputs,
)

REPO_OUTPUTS = Path(__file__).resolve().parents[1] / "outputs"


def test_committed_outputs_are_current():
    stale = check_outputs(REPO_OUTPUTS)
    assert stale == [], f"stale outputs (run `temporalkit render` and commit): {[str(p) for p in stale]}"


@pytest.fixture
def fixed_picker_prompt(monkeypatch):
    """Checks of the staleness mechanics should not depend on the picker's content."""
    monkeypatch.setattr(render, "render_picker_prompt", lambda out_dir="outputs": "picker prompt\n")


def test_render_all_covers_the_picker_prompt_and_the_skill(tmp_path, fixed_picker_prompt):
    rendered = render_all(tmp_path)
    assert set(rendered) == {tmp_path / PICKER_OUTPUT, tmp_path / SKILL_OUTPUT, tmp_path / PICKER_SKILL_OUTPUT}
    assert rendered[tmp_path / SKILL_OUTPUT].startswith("---\nname: frame-sampler-auditor\n")
    assert rendered[tmp_path / PICKER_SKILL_OUTPUT].startswith("---\nname: video-architecture-picker\n")


def test_modified_or_missing_output_is_stale(tmp_path, fixed_picker_prompt):
    assert sorted(write_outputs(tmp_path)) == sorted(
        [tmp_path / PICKER_OUTPUT, tmp_path / SKILL_OUTPUT, tmp_path / PICKER_SKILL_OUTPUT]
    )
    assert check_outputs(tmp_path) == []
    assert write_outputs(tmp_path) == []  # unchanged files are not rewritten

    skill = tmp_path / SKILL_OUTPUT
    skill.write_text(skill.read_text() + "\nhand edit\n")
    assert check_outputs(tmp_path) == [skill]
    (tmp_path / PICKER_OUTPUT).unlink()
    assert sorted(check_outputs(tmp_path)) == sorted([tmp_path / PICKER_OUTPUT, skill])


def test_render_check_cli_names_the_stale_file_and_exits_1(tmp_path, fixed_picker_prompt, capsys):
    assert main(["render", "--out-dir", str(tmp_path)]) == 0
    assert main(["render", "--check", "--out-dir", str(tmp_path)]) == 0
    (tmp_path / SKILL_OUTPUT).write_text("stale\n")
    capsys.readouterr()
    assert main(["render", "--check", "--out-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path / SKILL_OUTPUT) in err[0] and "stale" in err[0]
    assert (tmp_path / SKILL_OUTPUT).read_text() == "stale\n"  # --check writes nothing


def test_missing_picker_is_one_clear_error(tmp_path, monkeypatch, capsys):
    def unavailable(out_dir="outputs"):
        raise render.RenderError(f"cannot render {Path(out_dir) / PICKER_OUTPUT}: temporalkit.picker is not available")

    monkeypatch.setattr(render, "render_picker_prompt", unavailable)
    assert main(["render", "--check", "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and PICKER_OUTPUT in err[0]


def test_templates_are_strict_and_sandboxed():
    environment = template_environment()
    with pytest.raises(jinja2.UndefinedError):
        environment.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.sandbox.SecurityError):
        environment.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


def test_docstring_sections_reads_the_four_parts():
    doc = """Flags linspace that reaches num_frames.

    What it does:
        Finds `np.linspace(0, n, T)`.

    Why is this bad?
        Index n does not exist.

    Known problems:
        Recognises frame counts by name.

    Example:
        np.linspace(0, n, T)

    Fix: use `n - 1` as the end point.
    """
    sections = docstring_sections(doc)
    assert sections["summary"] == "Flags linspace that reaches num_frames."
    assert sections["what"] == "Finds `np.linspace(0, n, T)`."
    assert sections["why"] == "Index n does not exist."
    assert sections["known_problems"] == "Recognises frame counts by name."
    assert sections["example"] == "np.linspace(0, n, T)"
    assert sections["fix"] == "use `n - 1` as the end point."


def test_render_to_a_place_it_cannot_write_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render, "render_all", lambda out_dir="outputs": {Path(out_dir) / SKILL_OUTPUT: "skill\n"})
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    assert main(["render", "--out-dir", str(blocker / "outputs")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"temporalkit render: {blocker / 'outputs' / SKILL_OUTPUT}: cannot write"
    )
    assert "Traceback" not in captured.err and blocker.read_text() == "not a folder\n"


def test_render_is_a_maintainer_command(monkeypatch, capsys):
    from temporalkit.cli import build_parser
    from temporalkit.commands import render as render_command

    listing = build_parser().format_help()
    assert "\n    render " not in listing and "\n    audit " in listing  # runnable, but not listed
    assert render_command.source_checkout() == REPO_OUTPUTS.parent
    monkeypatch.setattr(render_command, "source_checkout", lambda: None)  # an installed package
    assert main(["render", "--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "maintainer command" in err[0]
