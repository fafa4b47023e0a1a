"""What a rule's TRIGGERS mean, in one place: the pre-filter that decides whether a file is parsed.

A plain trigger (`linspace`) is looked for in the file's *code*, with comments and string literals
blanked out, so that a word in a docstring, a comment, a URL or an f-string does not send a file to
the parser. A trigger that itself contains a quote (`"'Resize'"`) is about string content and is
looked for in the raw text. A rule without triggers always runs.

Both the audit driver (from the cached rule index, without importing libcst or the rules) and
`Rule.applies_to` (the engine, the rule tests) ask `matches`, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Comments and string literals, in one left-to-right scan so that a '#' inside a string or a
# quote inside a comment is read correctly.
_COMMENT_OR_STRING = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|#[^\n]*'
)


def code_only(text: str) -> str:
    """`text` with comments and string literals blanked out (line structure kept approximately)."""
    return _COMMENT_OR_STRING.sub(" ", text)


class SourceText:
    """A file's text with its code-only view computed at most once, however many rules ask."""

    __slots__ = ("text", "_code")

    def __init__(self, text: str) -> None:
        self.text = text
        self._code: str | None = None

    @property
    def code(self) -> str:
        if self._code is None:
            self._code = code_only(self.text)
        return self._code


def matches(triggers: Iterable[str], source: SourceText | str) -> bool:
    """Whether a rule with these triggers can report anything on `source` (see the module docstring)."""
    triggers = tuple(triggers)
    if not triggers:
        return True
    if not isinstance(source, SourceText):
        source = SourceText(source)
    if not any(trigger in source.text for trigger in triggers):  # cheap raw-text pass first
        return False
    return any(trigger in (source.text if "'" in trigger or '"' in trigger else source.code) for trigger in triggers)
