"""Everything under `outputs/` that comes from templates, rendered from the code that defines it.

The skill's rule table is built from the rule registry, its category list from
`findings.CATEGORIES` and the picker prompt from the picker's own template, so a committed
output can only drift from the code by not being regenerated, and `check_outputs` catches that.

    from temporalkit.render import check_outputs, write_outputs
    write_outputs()          # what `temporalkit render` does
    stale = check_outputs()  # what `temporalkit render --check` does
"""

from __future__ import annotations

import difflib
import importlib.resources
import inspect
import os
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

from temporalkit.fileio import write_atomic

SKILL_NAME = "frame-sampler-auditor"
PICKER_SKILL_NAME = "video-architecture-picker"
SKILL_OUTPUT = f"skill-{SKILL_NAME}.md"
PICKER_SKILL_OUTPUT = f"skill-{PICKER_SKILL_NAME}.md"
PICKER_OUTPUT = "prompt-video-architecture-picker.md"

# Files of the installed skill folder: rendered templates, then scripts copied as they are.
SKILL_TEMPLATES: dict[str, str] = {"SKILL.md": "SKILL.md.j2", "REFERENCE.md": "REFERENCE.md.j2"}
SKILL_SCRIPTS: tuple[str, ...] = ("summarize_findings.py",)
PICKER_SKILL_TEMPLATES: dict[str, str] = {"SKILL.md": "SKILL.md.j2"}

# Every skill (a folder of skills/): its name -> (templates by output name, scripts).
SKILLS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    SKILL_NAME: (SKILL_TEMPLATES, SKILL_SCRIPTS),
    PICKER_SKILL_NAME: (PICKER_SKILL_TEMPLATES, ()),
}
# The files each installed skill folder holds.
SKILL_NAMES: dict[str, tuple[str, ...]] = {
    name: (*templates, *scripts) for name, (templates, scripts) in SKILLS.items()
}

_DOC_SECTIONS = {
    "what it does": "what",
    "why is this bad": "why",
    "why is this bad?": "why",
    "example": "example",
    "fix": "fix",
    "known problems": "known_problems",
}
_DOC_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(what it does|why is this bad\??|example|fix|known problems)\s*(?::\s*(.*))?$", re.IGNORECASE
)
_UNDERLINE = re.compile(r"^\s*[-=]{3,}\s*$")


class RenderError(RuntimeError):
    """An output cannot be rendered (a source it comes from is missing or broken)."""


@dataclass(frozen=True)
class RuleEntry:
    """What the skill says about one rule; every field comes from the rule class."""

    id: str
    name: str
    category: str
    severity: str
    what: str
    why: str
    known_problems: str  # when the rule leans on a name heuristic: where it can be wrong
    how_to_fix: str
    message: str
    fix: str
    autofix: bool
    opt_in: bool  # left out of the default run (`Rule.OPT_IN`)
    bad_line: str
    good_line: str
    bad_code: str
    good_code: str


# -- templates ------------------------------------------------------------------------------


def _skill_resource(name: str):
    skill, _, file = name.rpartition("/")
    return importlib.resources.files("temporalkit.skills").joinpath(skill or SKILL_NAME, file)


def _load_skill_template(name: str) -> str:
    """A file of a skill's source folder: "SKILL.md.j2" (the auditor's) or "<skill>/SKILL.md.j2"."""
    resource = _skill_resource(name)
    if not resource.is_file():
        shown = name if "/" in name else f"{SKILL_NAME}/{name}"
        raise RenderError(f"template {shown} is missing from the temporalkit.skills package data")
    return resource.read_text(encoding="utf-8")


def template_environment():
    """The one template environment (`temporalkit.templating`), loading the skill's templates."""
    import jinja2

    from temporalkit import templating

    return templating.template_environment(jinja2.FunctionLoader(_load_skill_template), trim_blocks=True)


# -- rule registry -> template context ------------------------------------------------------


def docstring_sections(doc: str | None) -> dict[str, str]:
    """Split a rule docstring written in the four ruff-style parts into {"what", "why", "example", "fix"}.

    Text before the first heading is kept under "summary". Headings may be `## What it does`,
    `What it does:` or `What it does: text on the same line`.
    """
    sections: dict[str, list[str]] = {"summary": []}
    current = "summary"
    for line in inspect.cleandoc(doc or "").splitlines():
        heading = _DOC_HEADING.match(line)
        if heading:
            current = _DOC_SECTIONS[heading.group(1).lower()]
            sections.setdefault(current, [])
            if heading.group(2):
                sections[current].append(heading.group(2))
            continue
        if _UNDERLINE.match(line) and not "".join(sections[current]).strip():
            continue
        sections[current].append(line)
    return {key: textwrap.dedent("\n".join(lines)).strip() for key, lines in sections.items()}


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def _meaningful_lines(code: str) -> list[str]:
    lines = []
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "import ", "from ", '"""', "'''")):
            continue
        lines.append(stripped)
    return lines


def _without_comment(line: str) -> str:
    """`line` without its trailing `# comment` (left as is when it does not tokenize on its own)."""
    try:
        tokens = list(tokenize.generate_tokens(iter([line + "\n"]).__next__))
    except (tokenize.TokenError, SyntaxError):
        return line
    for token in tokens:
        if token.type == tokenize.COMMENT:
            return line[: token.start[1]].rstrip()
    return line


def _example_code(code: str) -> str:
    return textwrap.dedent(code).strip("\n")


def _flagged_line(rule, code: str, expected_line: int | None) -> str:
    """The line of `code` the rule reports (what the table shows as the bad example)."""
    lines = code.splitlines()
    line_number = expected_line
    try:
        from temporalkit.validators.engine import lint_source

        reports = lint_source(code, "<example>", [rule])
        if reports:
            line_number = reports[0].line
    except Exception:  # a rule that crashes on its own example is the generic test's to report
        pass
    if line_number and 1 <= line_number <= len(lines) and lines[line_number - 1].strip():
        return _without_comment(lines[line_number - 1].strip())
    meaningful = _meaningful_lines(code)
    return _without_comment(meaningful[-1]) if meaningful else ""


def _closest_line(code: str, to: str, bad_code: str = "") -> str:
    """The line of `code` most like `to`: the corrected counterpart of the flagged line.

    Lines the bad example has too (`ok, frame = cap.read()`) are not the correction, so lines
    unique to `code` are preferred.
    """
    shared = {" ".join(line.split()) for line in _meaningful_lines(bad_code)}
    candidates = [line for line in _meaningful_lines(code) if " ".join(line.split()) not in shared]
    candidates = candidates or _meaningful_lines(code)
    if not candidates:
        return ""
    closest = max(candidates, key=lambda line: difflib.SequenceMatcher(None, line, to).ratio())
    return _without_comment(closest)


_CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)


def rule_entry(rule) -> RuleEntry:
    sections = docstring_sections(rule.__doc__)
    what = _first_paragraph(sections.get("what") or sections.get("summary") or rule.MESSAGE)
    why = sections.get("why", "")
    bad = rule.INVALID[0] if rule.INVALID else None
    good = rule.VALID[0] if rule.VALID else None
    bad_code = _example_code(bad.code) if bad else ""
    good_code = _example_code(good.code) if good else ""
    # Lint the example exactly as the generic rule test does, so reported lines match expected_line.
    bad_line = _flagged_line(rule, bad.code, bad.expected_line) if bad else ""
    return RuleEntry(
        id=rule.ID,
        name=rule.__name__,
        category=rule.CATEGORY,
        severity=rule.SEVERITY,
        what=what,
        why=why,
        known_problems=sections.get("known_problems", ""),
        how_to_fix=sections.get("fix", ""),
        message=rule.MESSAGE,
        fix=rule.FIX,
        autofix=any(invalid.expected_fix is not None for invalid in rule.INVALID),
        opt_in=rule.OPT_IN,
        bad_line=bad_line,
        good_line=_good_line(sections.get("fix", ""), good_code, bad_line, bad_code),
        bad_code=bad_code,
        good_code=good_code,
    )


@dataclass(frozen=True)
class DynamicCheckEntry:
    """What the skill says about one dynamic check; every field comes from `checks.DYNAMIC_CHECKS`."""

    id: str
    name: str
    applies_to: str
    category: str
    severity: str
    expects: str  # the first paragraph of "What it does": the property checked
    why: str
    example: str
    how_to_fix: str
    fix: str  # the one-line fix its findings carry


def _good_line(fix_section: str, good_code: str, bad_line: str, bad_code: str) -> str:
    """The corrected counterpart of `bad_line`: from the code the docstring's Fix part shows, which
    is written as the fix of exactly this pattern, else from the rule's first VALID example."""
    fix_code = "\n".join(_example_code(block) for block in _CODE_BLOCK.findall(fix_section))
    if fix_code.strip():
        return _closest_line(fix_code, bad_line, bad_code)
    return _closest_line(good_code, bad_line, bad_code) if good_code else ""


def dynamic_check_entry(check) -> DynamicCheckEntry:
    sections = docstring_sections(check.doc)
    return DynamicCheckEntry(
        id=check.id,
        name=check.name,
        applies_to=check.runs_on,
        category=check.category,
        severity=check.severity,
        expects=_first_paragraph(sections.get("what") or check.fix),
        why=sections.get("why", ""),
        example=sections.get("example", ""),
        how_to_fix=sections.get("fix", ""),
        fix=check.fix,
    )


def dynamic_check_entries() -> list[DynamicCheckEntry]:
    """The dynamic auditor's checks, from their one registry (`validators.dynamic.checks`), in id order."""
    from temporalkit.validators.dynamic.checks import dynamic_checks

    return [dynamic_check_entry(check) for check in dynamic_checks()]


def default_skill_dir(skill: str = SKILL_NAME) -> str:
    """Where `temporalkit skill install` puts a skill by default (the path the rendered outputs name)."""
    return f".claude/skills/{skill}"


def skill_context(skill_dir: str | None = None) -> dict:
    from temporalkit.validators.findings import CATEGORIES
    from temporalkit.validators.rules import all_rules

    return {
        "skill_name": SKILL_NAME,
        "skill_dir": skill_dir or default_skill_dir(SKILL_NAME),
        "categories": CATEGORIES,
        "rules": [rule_entry(rule) for rule in all_rules()],
        "dynamic_checks": dynamic_check_entries(),
        "scripts": SKILL_SCRIPTS,
    }


def spec_field_accepts(annotation) -> str:
    """What a spec field accepts, read from its type: `appearance | mixed | motion` for a Literal,
    `whole number or null` for `int | None` (constraints of an Annotated type are left to the
    description), `a list of ...` for a tuple, `a mapping (Name)` for a model."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return spec_field_accepts(args[0])
    if origin is typing.Literal:
        return " | ".join(str(value) for value in args)
    if origin in (typing.Union, types.UnionType):
        kinds = [spec_field_accepts(member) for member in args if member is not type(None)]
        return " or ".join(kinds) + (" or null" if type(None) in args else "")
    if origin in (tuple, list):
        return f"a list of {spec_field_accepts(args[0])}" if args else "a list"
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return f"a mapping ({annotation.__name__})"
    names = {str: "text", int: "whole number", float: "number", bool: "true | false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def picker_skill_context(skill_dir: str | None = None) -> dict:
    """The picker skill's facts, from the picker's own schema (its spec fields and answer families)."""
    from temporalkit.picker.schema import SPEC_FIELDS, TaskSpec
    from temporalkit.reference_models.families import ANSWER_FAMILIES

    fields = TaskSpec.model_fields
    return {
        "skill_name": PICKER_SKILL_NAME,
        "skill_dir": skill_dir or default_skill_dir(PICKER_SKILL_NAME),
        "spec_fields": [
            {
                "name": name,
                "required": fields[name].is_required(),
                "accepts": spec_field_accepts(fields[name].annotation),
                "description": fields[name].description or "",
            }
            for name in SPEC_FIELDS
        ],
        "families": ANSWER_FAMILIES,
    }


# -- rendering ------------------------------------------------------------------------------


def render_skill_files(skill: str = SKILL_NAME, skill_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """A skill folder's files, by name relative to the folder: rendered templates and helper scripts.

    `skill_dir` is the folder the skill is installed in, which the skill names so that an assistant
    can run its scripts by full path (default: `default_skill_dir(skill)`).
    """
    if skill not in SKILLS:
        raise RenderError(f"unknown skill {skill!r}; known: {', '.join(SKILLS)}")
    templates, scripts = SKILLS[skill]
    environment = template_environment()
    shown_dir = str(skill_dir) if skill_dir is not None else None
    context = skill_context(shown_dir) if skill == SKILL_NAME else picker_skill_context(shown_dir)
    files = {
        name: environment.get_template(f"{skill}/{template}").render(context) for name, template in templates.items()
    }
    for script in scripts:
        files[script] = _load_skill_template(f"{skill}/{script}")
    return files


def render_skill(skill: str = SKILL_NAME) -> str:
    """The rendered SKILL.md (YAML front matter and body)."""
    return render_skill_files(skill)["SKILL.md"]


def render_picker_prompt(out_dir: str | os.PathLike = "outputs") -> str:
    """The architecture-picker prompt for the picker's default spec."""
    try:
        from temporalkit.picker import default_spec, render_prompt
    except ImportError as exc:
        raise RenderError(
            f"cannot render {Path(out_dir) / PICKER_OUTPUT}: temporalkit.picker with render_prompt() and "
            f"default_spec() is not available ({exc})"
        ) from exc
    text = render_prompt(default_spec())
    return text if text.endswith("\n") else text + "\n"


def render_all(out_dir: str | os.PathLike = "outputs") -> dict[Path, str]:
    """Every template-made output, by its path under `out_dir`, as the code produces it now."""
    out = Path(out_dir)
    return {
        out / PICKER_OUTPUT: render_picker_prompt(out),
        out / SKILL_OUTPUT: render_skill(),
        out / PICKER_SKILL_OUTPUT: render_skill(PICKER_SKILL_NAME),
    }


def write_atomically(path: Path, text: str, executable: bool = False) -> None:
    """Replace `path` with `text` in one step (temporalkit.fileio.write_atomic), mode 0o755 or 0o644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, mode=0o755 if executable else 0o644)


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):  # missing, a folder, unreadable, under a file
        return None


def write_outputs(out_dir: str | os.PathLike = "outputs") -> list[Path]:
    """Regenerate the outputs; returns the paths whose content changed (unchanged files are not touched)."""
    written = []
    for path, text in render_all(out_dir).items():
        if _read_or_none(path) != text:
            try:
                write_atomically(path, text)
            except OSError as exc:  # a read-only or missing place, a file where a folder should be
                raise RenderError(f"{path}: cannot write ({exc.strerror or exc})") from None
            written.append(path)
    return written


def check_outputs(out_dir: str | os.PathLike = "outputs") -> list[Path]:
    """The outputs that are missing or differ from what the templates and code produce now."""
    return [path for path, text in render_all(out_dir).items() if _read_or_none(path) != text]
