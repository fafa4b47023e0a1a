"""libcst's parse of one module, in pieces when it is long.

libcst's parser takes about twice as long per line on one 50,000-line module as on the same text
split into files of a few hundred lines (7.1 s against 3.6 s on bench_scaling's big file). A long
module is therefore cut between top-level statements into pieces of about CHUNK_LINES lines
(Python's own parser says where each statement starts and ends), each piece is parsed alone, and
their bodies make one `cst.Module`. A cut is made right after a statement that only empty lines
(not even spaces) separate from the next; those lines (the next piece's header) become the next
statement's leading lines, where a parse of the whole text puts them. The first piece gives the
module's header, encoding and newline, the first piece that indents a block its indentation, the
last its footer; a piece whose own defaults differ (a file that mixes indentations or newlines)
has its blocks and newlines spelt out against the file's. The result equals the whole parse
(`deep_equals`) and its code is the whole parse's: tests/test_parsing.py checks constructed files,
and with pieces of 40 lines it held on all 5,126 Python files over 80 lines of the 139-repository
precision corpus.

Anything unusual gets the whole parse instead: Python's parser refusing the text, a piece with
text after its last statement, lines that do not join back into the source, a byte-order mark. A
syntax error libcst finds in a piece is found again by parsing the whole text, so its position is
the file's.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

CHUNK_LINES = 1000
# Lines as Python counts them (\r\n, \r or \n), each with its ending; str.splitlines also splits at
# form feeds and other separators that Python's tokenizer reads as white space.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def parse_module(source: str, chunk_lines: int = CHUNK_LINES) -> cst.Module:
    """`cst.parse_module(source)`, in pieces of about `chunk_lines` lines when the text has more than
    twice that many. Raises libcst.ParserSyntaxError as `cst.parse_module` does."""
    if source.count("\n") <= 2 * chunk_lines or source.startswith("\ufeff"):
        return cst.parse_module(source)  # short, or a byte-order mark only the whole parse keeps
    pieces = _pieces(source, chunk_lines)
    if pieces is None:
        return cst.parse_module(source)
    try:
        modules, indent = _parsed(pieces)
    except cst.ParserSyntaxError:
        return cst.parse_module(source)  # raises again, at the file's own line and column
    return _joined(modules, indent) or cst.parse_module(source)


def _parsed(pieces: list[str]) -> tuple[list[cst.Module], str]:
    """(each piece parsed, then given the whole file's defaults; the file's indentation). libcst leaves out of a node what equals
    its module's default (an indented block's indentation, a line's newline), and it detects the
    defaults per text: the file's newline is its first piece's, its indentation that of the first
    piece that indents a block (earlier pieces indent nothing). A piece of a file that mixes them has
    other defaults (rare), and its blocks and newlines are rewritten against the file's."""
    modules = [cst.parse_module(piece) for piece in pieces]
    indents = [_has_indented_block(m) for m in modules]
    newline = modules[0].default_newline
    indent = next((m.default_indent for m, has in zip(modules, indents) if has), modules[0].default_indent)
    parsed = [
        m
        if m.default_newline == newline and (m.default_indent == indent or not has)
        else m.visit(_FileDefaults(m, indent, newline))
        for m, has in zip(modules, indents)
    ]
    return parsed, indent


class _FileDefaults(cst.CSTTransformer):
    """Blocks and newlines of a piece spelt out against the file's defaults instead of the piece's."""

    def __init__(self, piece: cst.Module, indent: str, newline: str) -> None:
        super().__init__()
        self._piece, self._indent, self._newline = piece, indent, newline

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        actual = updated.indent if updated.indent is not None else self._piece.default_indent
        return updated.with_changes(indent=None if actual == self._indent else actual)

    def leave_Newline(self, original: cst.Newline, updated: cst.Newline) -> cst.Newline:
        actual = updated.value if updated.value is not None else self._piece.default_newline
        return updated.with_changes(value=None if actual == self._newline else actual)


def _pieces(source: str, chunk_lines: int) -> list[str] | None:
    """The source cut at line starts between top-level statements, about `chunk_lines` lines apart;
    None when Python's parser refuses it or there is nothing to cut."""
    try:
        statements = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = _LINE.findall(source)
    if "".join(lines) != source:
        return None
    cuts = [0]
    end = 0  # last line (1-based) of the statements so far
    for statement in statements:
        start = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        if (
            start > end
            and end - cuts[-1] >= chunk_lines
            and all(not line.rstrip("\r\n") for line in lines[end : start - 1])
        ):
            # Right after the previous statement, where only empty lines come before the next: they are
            # the next statement's leading lines in the whole parse too. (Where libcst puts comments and
            # lines of spaces in between depends on their indentation and on what follows them.)
            cuts.append(end)
        end = max(end, statement.end_lineno or statement.lineno)
    if len(cuts) == 1:
        return None
    cuts.append(len(lines))
    return ["".join(lines[a:b]) for a, b in zip(cuts, cuts[1:])]


def _joined(modules: list[cst.Module], indent: str) -> cst.Module | None:
    body: list[cst.BaseStatement] = []
    for index, module in enumerate(modules):
        statements = list(module.body)
        if index < len(modules) - 1 and (module.footer or not module.has_trailing_newline):
            return None  # text after the last statement of a piece that is not the last
        if index > 0:
            if not statements:
                return None
            first = statements[0]
            statements[0] = first.with_changes(leading_lines=(*module.header, *first.leading_lines))
        body.extend(statements)
    first, last = modules[0], modules[-1]
    return first.with_changes(
        body=tuple(body),
        footer=last.footer,
        has_trailing_newline=last.has_trailing_newline,
        default_indent=indent,
    )  # the first piece's header, encoding and newline


def _has_indented_block(module: cst.Module) -> bool:
    """Whether the module indents a block anywhere: libcst takes its default indentation from the
    first indented block, so the first piece that has one sets the whole module's. A block nested in
    another comes after it, so the top-level statements' own blocks decide."""
    return any(_indents(statement) for statement in module.body if isinstance(statement, cst.BaseCompoundStatement))


def _indents(node: cst.CSTNode | None) -> bool:
    """`node` (a compound statement or one of its clauses) has an indented block of its own."""
    if node is None:
        return False
    if isinstance(getattr(node, "body", None), cst.IndentedBlock):
        return True
    clauses = [getattr(node, "orelse", None), getattr(node, "finalbody", None), *getattr(node, "handlers", ())]
    clauses += list(getattr(node, "cases", ()))
    return any(_indents(clause) for clause in clauses)
