"""Inline suppression comments, and the meta rule that reports the ones naming nothing (TK001).

    x = frames[idx]  # temporalkit: ignore[TK101] -- idx is clamped by the loader
    # temporalkit: ignore[layout] -- the model permutes its input itself
    clip = clip.permute(1, 0, 2, 3)

A comment suppresses findings on its own line, or, alone on a line, on the next one. Inside the
brackets go rule ids, id prefixes or categories (what `--select` takes, any case); a bare
`# temporalkit: ignore` suppresses every rule. Text after the comment is its reason.

A name in the brackets that no rule, prefix or category answers to is a typo that silently
suppresses nothing: `unknown_suppressions` reports it as a TK001 warning. Standard library only,
so the static fast path (no libcst import) can run it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from temporalkit.validators.config import selector_matches, unknown_selector
from temporalkit.validators.findings import Finding

# `# temporalkit: ignore[TK101, layout] -- reason` or bare `# temporalkit: ignore -- reason`
_SUPPRESSION = re.compile(r"#\s*temporalkit:\s*ignore\b(?:\[(?P<ids>[^\]]*)\])?", re.IGNORECASE)

ALL_RULES = frozenset({"*"})


def _directive(text: str) -> re.Match | None:
    """The first suppression in `text` that is not quoted: `` `# temporalkit: ignore[...]` `` in a
    comment or docstring shows the syntax, it suppresses nothing."""
    for match in _SUPPRESSION.finditer(text):
        if not text[: match.start()].endswith("`"):
            return match
    return None


UNKNOWN_SUPPRESSION = {
    "id": "TK001",
    "name": "unknown-suppression",
    "category": "suppression",
    "severity": "warning",
    "fix": "Correct the rule id, prefix or category in the comment, or remove it (`temporalkit rule --all` lists them).",
    "doc": """
        What it does:
            Reports a name in a `# temporalkit: ignore[...]` comment that is not a rule id, an id
            prefix or a category (ids match whatever their case; `temporalkit rule --all` lists them).

        Why is this bad?
            A typo in a suppression (`TK10l` for `TK101`) suppresses nothing: the finding it was
            meant to silence is still reported, and the comment reads as a documented exception
            that covers nothing.

        Example:
            ```python
            x = frames[idx]  # temporalkit: ignore[TK10l]
            ```

        Fix:
            Name the rule (or its category) and say why it does not apply here.
            ```python
            x = frames[idx]  # temporalkit: ignore[TK101] -- idx is clamped by the loader
            ```
    """,
}


def parse_suppressions(source: str) -> dict[int, frozenset[str]]:
    """Line number (1-based) -> rule selectors suppressed on it (`ALL_RULES` for a bare ignore)."""
    if "temporalkit:" not in source:
        return {}
    suppressed: dict[int, frozenset[str]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        if "temporalkit:" not in line:
            continue
        match = _directive(line)
        if match is None:
            continue
        ids = match.group("ids")
        rule_ids = ALL_RULES if ids is None else frozenset(i.strip() for i in ids.split(",") if i.strip())
        suppressed[number] = rule_ids
        if line.lstrip().startswith("#"):  # a comment line of its own covers the next line
            suppressed[number + 1] = suppressed.get(number + 1, frozenset()) | rule_ids
    return suppressed


def is_suppressed(rule_id: str, line: int, suppressions: dict[int, frozenset[str]], category: str = "") -> bool:
    """Whether a finding of `rule_id` (in `category`) on `line` is suppressed by a comment."""
    selectors = suppressions.get(line)
    return bool(selectors) and ("*" in selectors or any(selector_matches(s, rule_id, category) for s in selectors))


@dataclass(frozen=True)
class Directive:
    """One `# temporalkit: ignore[...]` comment: where it is, what it names, the reason after it."""

    line: int
    column: int  # 0-based, of the comment's `#`
    comment: str
    match: re.Match

    @property
    def selectors(self) -> list[tuple[int, str]]:
        """(0-based column, text) of each name in the brackets; [] for a bare ignore."""
        if self.match.group("ids") is None:
            return []
        names, offset = [], self.column + self.match.start("ids")
        for part in self.match.group("ids").split(","):
            if part.strip():
                names.append((offset + len(part) - len(part.lstrip()), part.strip()))
            offset += len(part) + 1
        return names

    @property
    def reason(self) -> str:
        """The text after the directive (`-- the model permutes its input itself`), without the dashes."""
        return self.comment[self.match.end() :].strip().lstrip("-—:;,. ").strip()


def directives(source: str) -> list[Directive]:
    """Every suppression comment of `source`, tokenized, so that the same words in a string (a
    docstring explaining the syntax) are not taken for one."""
    if "temporalkit:" not in source:
        return []
    import io
    import tokenize

    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and "temporalkit:" in token.string:
                match = _directive(token.string)
                if match is not None:
                    found.append(Directive(token.start[0], token.start[1], token.string, match))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # a file Python cannot tokenize is reported as a parse error elsewhere
    return found


def unknown_suppressions(source: str, path: str, rule_ids: Iterable[str], categories: Iterable[str]) -> list[Finding]:
    """A TK001 warning for each name in a suppression comment of `source` that is not one of
    `rule_ids`, a prefix of one, one of `categories` or ALL."""
    if "temporalkit:" not in source:
        return []
    rule_ids, categories = list(rule_ids), list(categories)
    findings = []
    for directive in directives(source):
        for column, name in directive.selectors:
            problem = unknown_selector(name, rule_ids, categories)
            if problem:
                findings.append(
                    Finding(
                        rule=UNKNOWN_SUPPRESSION["id"],
                        category=UNKNOWN_SUPPRESSION["category"],
                        severity=UNKNOWN_SUPPRESSION["severity"],
                        path=path,
                        line=directive.line,
                        column=column,
                        end_line=directive.line,
                        end_column=column + len(name),
                        message=f"suppression comment: {problem}; it suppresses nothing",
                        fix=UNKNOWN_SUPPRESSION["fix"],
                    )
                )
    return findings
