"""The one template environment and the Markdown table-cell filters the skill and the picker prompt share."""

from __future__ import annotations

import pytest

from temporalkit.templating import code_cell, table_cell, template_environment

# (value, what a table cell shows): pinned against render._table_cell and picker._table_cell before they merged.
CELLS = [
    ("plain", "plain"),
    ("a | b", "a \\| b"),
    ("two\nlines,  and\ttabs ", "two lines, and tabs"),
    ("| leading and trailing |", "\\| leading and trailing \\|"),
    ("", ""),
]
CODE_CELLS = [
    ("x = a | b", "`x = a \\| b`"),
    ("np.linspace(0,\n    n, T)", "`np.linspace(0, n, T)`"),
    ("s = `x`", "`` s = `x` ``"),
    ("   ", ""),
]


@pytest.mark.parametrize(("text", "shown"), CELLS)
def test_table_cell(text, shown):
    assert table_cell(text) == shown


def test_table_cell_leaves_non_strings_to_the_template():
    assert table_cell(None) is None and table_cell(16) == 16 and table_cell(True) is True


@pytest.mark.parametrize(("code", "shown"), CODE_CELLS)
def test_code_cell(code, shown):
    assert code_cell(code) == shown


def test_one_environment_for_the_skill_and_the_picker():
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from temporalkit import picker, render

    skill, prompt = render.template_environment(), picker.template_environment()
    for environment in (skill, prompt):
        assert isinstance(environment, SandboxedEnvironment) and environment.undefined is jinja2.StrictUndefined
        assert environment.keep_trailing_newline and not environment.autoescape
        assert environment.filters["cell"] is table_cell and environment.filters["code_cell"] is code_cell
    assert skill.trim_blocks and skill.lstrip_blocks
    assert not prompt.trim_blocks and not prompt.lstrip_blocks
    rendered = (
        template_environment()
        .from_string("| {{ text | cell }} | {{ code | code_cell }} |")
        .render(text="a\n| b", code="x | y")
    )
    assert rendered == "| a \\| b | `x \\| y` |"
