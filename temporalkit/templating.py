"""The one Jinja environment temporalkit renders its templates in, and Markdown table-cell escaping.

Both the skill (`temporalkit.render`) and the picker prompt (`temporalkit.picker`) render here:

- sandboxed: a template cannot reach Python internals, and user text (a picker spec's task)
  reaches a template only as a value, printed, never evaluated;
- strict: a variable the template names but the code does not pass is an error, not "";
- no HTML escaping (the outputs are Markdown), trailing newline kept.

`trim_blocks=True` also strips the newline after a block tag and the indentation before it (the
skill templates are written for that; the picker prompt controls its whitespace with `{%-`).
The filters `cell` and `code_cell` make a value safe inside one Markdown table cell. jinja2 is
imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import Any


def table_cell(value: Any) -> Any:
    """Text made safe for one Markdown table cell: every run of whitespace (newlines included) becomes
    one space and `|` is escaped. Anything but a string (None, numbers) is returned as it is, for the
    template to print or test."""
    if not isinstance(value, str):
        return value
    return " ".join(value.split()).replace("|", "\\|")


def code_cell(code: Any) -> str:
    """Code shown inline in a Markdown table cell: a code span, pipes escaped as GFM requires."""
    code = " ".join(str(code).split())
    if not code:
        return ""
    fence = "``" if "`" in code else "`"
    pad = " " if fence == "``" else ""
    escaped = code.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


def template_environment(loader: Any = None, *, trim_blocks: bool = False):
    """A new sandboxed, strict environment with the `cell` and `code_cell` filters.

    `loader`: a jinja2 loader for `get_template` (None: templates come from `from_string`).
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
        autoescape=False,
    )
    environment.filters["cell"] = table_cell
    environment.filters["code_cell"] = code_cell
    return environment
