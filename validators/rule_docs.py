"""One view of every rule id, static or dynamic: what `temporalkit rule TKnnn` prints and SARIF describes.

Static rules come from the rule registry (`validators.rules.all_rules`), dynamic checks from theirs
(`validators.dynamic.checks.DYNAMIC_CHECKS`); both carry an id, a category, a severity, a fix and
a docstring in the four parts (What it does / Why is this bad? / Example / Fix), so one
`RuleDoc` shape describes either. A dynamic id is answered without importing the static rules
(libcst), and nothing here imports torch.

    doc = rule_doc("TK501")
    print(format_rule_doc(doc))
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass


class UnknownRuleError(KeyError):
    """No static rule and no dynamic check has this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


@dataclass(frozen=True)
class RuleDoc:
    id: str
    name: str
    kind: str  # "static" (a lint rule), "dynamic" (a check that runs the user's code) or "meta" (TK0xx)
    category: str
    severity: str
    summary: str  # one line: a static rule's message, a dynamic check's "What it does" first sentence(s)
    fix: str
    doc: str  # the four-part docstring, dedented
    runs_on: str = ""  # dynamic checks: the kind of object it calls
    autofix: bool = False
    opt_in: bool = False  # a static rule the default run leaves out (`Rule.OPT_IN`)


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def static_rule_doc(rule) -> RuleDoc:
    return RuleDoc(
        id=rule.ID,
        name=rule.name(),
        kind="static",
        category=rule.CATEGORY,
        severity=rule.SEVERITY,
        summary=rule.MESSAGE or rule.name(),
        fix=rule.FIX,
        doc=inspect.cleandoc(rule.__doc__ or ""),
        autofix=any(invalid.expected_fix is not None for invalid in rule.INVALID),
        opt_in=rule.OPT_IN,
    )


OPT_IN_NOTE = "opt-in: not run unless --select or the config names its id, its category or ALL"


def dynamic_check_doc(check) -> RuleDoc:
    from temporalkit.render import docstring_sections

    sections = docstring_sections(check.doc)
    return RuleDoc(
        id=check.id,
        name=check.name,
        kind="dynamic",
        category=check.category,
        severity=check.severity,
        summary=_first_paragraph(sections.get("what") or check.fix),
        fix=check.fix,
        doc=check.doc,
        runs_on=check.runs_on,
    )


def meta_rule_docs() -> list[RuleDoc]:
    """The rules about the audit itself (TK0xx): a suppression comment naming no rule (TK001)."""
    from temporalkit.validators.suppressions import UNKNOWN_SUPPRESSION as meta

    doc = inspect.cleandoc(meta["doc"])
    from temporalkit.render import docstring_sections

    return [
        RuleDoc(
            id=meta["id"],
            name=meta["name"],
            kind="meta",
            category=meta["category"],
            severity=meta["severity"],
            summary=_first_paragraph(docstring_sections(doc).get("what", "")),
            fix=meta["fix"],
            doc=doc,
            runs_on="suppression comments",
        )
    ]


def rule_doc(rule_id: str) -> RuleDoc:
    """The documentation of `rule_id` (case-insensitive); `UnknownRuleError` when no rule has it."""
    from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS

    wanted = rule_id.strip().upper()
    for meta in meta_rule_docs():
        if meta.id == wanted:
            return meta
    if wanted in DYNAMIC_CHECKS:
        return dynamic_check_doc(DYNAMIC_CHECKS[wanted])
    from temporalkit.validators.rules import all_rules

    for rule in all_rules():
        if rule.ID == wanted:
            return static_rule_doc(rule)
    raise UnknownRuleError(f"no rule or dynamic check {rule_id!r}; `temporalkit rule --all` lists them")


def all_rule_docs() -> list[RuleDoc]:
    """Every static rule and dynamic check, in id order."""
    from temporalkit.validators.dynamic.checks import dynamic_checks
    from temporalkit.validators.rules import all_rules

    docs = [static_rule_doc(rule) for rule in all_rules()] + [dynamic_check_doc(check) for check in dynamic_checks()]
    docs += meta_rule_docs()
    return sorted(docs, key=lambda doc: doc.id)


def format_rule_doc(doc: RuleDoc) -> str:
    """The text `temporalkit rule TKnnn` prints: a header, the fix, then the four-part docstring."""
    kind = {"static": "static rule", "meta": f"audit rule, runs on: {doc.runs_on}"}.get(
        doc.kind, f"dynamic check, runs on: {doc.runs_on}"
    )
    autofix = ", autofix: temporalkit audit --fix" if doc.autofix else ""
    lines = [f"{doc.id} {doc.name} ({kind})", f"category: {doc.category}, severity: {doc.severity}{autofix}"]
    if doc.opt_in:
        lines.append(OPT_IN_NOTE)
    if doc.kind == "static" and doc.summary:
        lines.append(f"message: {doc.summary}")
    if doc.fix:
        lines.append(f"fix: {doc.fix}")
    return "\n".join(lines) + "\n\n" + doc.doc.strip() + "\n"


_HELP_SECTIONS = (
    ("what", "What it does"),
    ("why", "Why is this bad?"),
    ("example", "Example"),
    ("fix", "Fix"),
    ("known_problems", "Known problems"),
)


def _sections(doc: RuleDoc) -> list[tuple[str, str]]:
    """(heading, dedented body) of each part the docstring has, in the four-part order."""
    from temporalkit.render import docstring_sections

    sections = docstring_sections(doc.doc)
    parts = [(title, sections[key]) for key, title in _HELP_SECTIONS if sections.get(key)]
    if sections.get("summary"):
        parts.insert(0, ("", sections["summary"]))
    return parts


def rule_help_text(doc: RuleDoc, *, full: bool = True) -> str:
    """Plain text of a rule's docstring with every part dedented (SARIF `help.text`); without
    `full`, only what it does (SARIF `fullDescription`)."""
    parts = _sections(doc)
    if not full:
        what = [body for title, body in parts if title == "What it does"]
        return what[0] if what else doc.summary
    text = "\n\n".join(f"{title}\n{body}" if title else body for title, body in parts)
    return text + (f"\n\nSuggested fix: {doc.fix}" if doc.fix else "")


def rule_help_markdown(doc: RuleDoc) -> str:
    """Markdown of a rule's docstring (SARIF `help.markdown`, what GitHub shows under an alert)."""
    header = f"**{doc.id}** `{doc.name}`: category `{doc.category}`, severity {doc.severity}"
    if doc.autofix:
        header += ", autofix with `temporalkit audit --fix`"
    if doc.opt_in:
        header += f" ({OPT_IN_NOTE})"
    blocks = [header]
    for title, body in _sections(doc):
        blocks.append(f"### {title}\n\n{body}" if title else body)
    if doc.fix:
        blocks.append(f"**Suggested fix:** {doc.fix}")
    blocks.append(f"`temporalkit rule {doc.id}` prints this page.")
    return "\n\n".join(blocks) + "\n"
