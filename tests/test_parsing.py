"""A long module parsed in pieces (validators/parsing.py) is the module a whole parse gives."""

from __future__ import annotations

import libcst as cst
import pytest
from temporalkit.validators.parsing import _pieces, parse_module

# Blocks of the shapes that decide where libcst puts lines: comments and blank lines between
# statements, decorators, a comment at the end of an indented block, `;`-joined statements, a
# statement over several lines, an `if` whose `else` is indented, module-level code.
BLOCK = '''\
# a comment before the function


@decorator(arg)
def sample_{i}(num_frames, clip_len):
    """Docstring."""
    step = max(1, num_frames // clip_len)
    return list(
        range(0, num_frames, step)
    )
    # a comment at the end of the block

x_{i} = 1; y_{i} = 2
if x_{i}: pass
else:
{indent}z = 3


class Clip{i}(Base):
{indent}def __len__(self):
{indent}{indent}return {i}
'''


def long_module(blocks: int, indent: str = "    ", newline: str = "\n") -> str:
    text = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport numpy as np\n\n"
    text += "".join(BLOCK.replace("{indent}", indent).format(i=i) for i in range(blocks))
    return text.replace("\n", newline) + "# the end" + newline


@pytest.mark.parametrize("indent", ["    ", "  ", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_pieces_make_the_module_a_whole_parse_makes(indent, newline):
    source = long_module(60, indent, newline)
    assert len(_pieces(source, 40)) > 10
    pieces = parse_module(source, chunk_lines=40)
    whole = cst.parse_module(source)
    assert pieces.deep_equals(whole)
    assert pieces.code == source
    assert (pieces.default_indent, pieces.default_newline, pieces.encoding) == (
        whole.default_indent,
        whole.default_newline,
        whole.encoding,
    )


def test_first_indented_block_in_a_later_piece_sets_the_indentation():
    source = "".join(f"v{i} = {i}\n" for i in range(200)) + "def f():\n  return 1\n" * 50
    assert parse_module(source, chunk_lines=40).deep_equals(cst.parse_module(source))


def test_short_or_uncuttable_text_is_parsed_whole():
    assert _pieces("x = [\n" + "1,\n" * 500 + "]\n", 40) is None  # one statement: nothing to cut
    assert _pieces("def f(:\n" + "x = 1\n" * 500, 40) is None  # Python refuses it


def test_a_syntax_error_is_reported_at_the_files_own_line():
    source = long_module(40) + "def broken(:\n    pass\n"  # libcst refuses it (so does Python)
    with pytest.raises(cst.ParserSyntaxError) as pieces_error:
        parse_module(source, chunk_lines=40)
    with pytest.raises(cst.ParserSyntaxError) as whole_error:
        cst.parse_module(source)
    assert (pieces_error.value.raw_line, pieces_error.value.raw_column) == (
        whole_error.value.raw_line,
        whole_error.value.raw_column,
    )
