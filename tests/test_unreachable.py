"""Code after a statement that always leaves its block is never run: no rule reports it
(validators/engine.py, `_after_an_exit`)."""

from __future__ import annotations

import textwrap

import pytest
from temporalkit.validators.engine import lint_source

DRAW = "start = np.random.randint(0, num_frames - clip_len)"


def lines_reported(source: str) -> list[int]:
    return sorted(r.line for r in lint_source(textwrap.dedent(source)))


@pytest.mark.parametrize(
    "exit_statement",
    ['assert False, "not supported"', "raise NotImplementedError", "return None", "sys.exit(1)", "assert 0"],
)
def test_a_draw_after_an_exit_is_not_reported(exit_statement):
    source = f"""
        import sys
        import numpy as np

        def sample(num_frames, clip_len):
            {exit_statement}
            {DRAW}
            return start
    """
    assert lines_reported(source) == []


def test_an_exit_inside_a_branch_leaves_only_that_branch():
    source = f"""
        import numpy as np

        def sample(num_frames, clip_len):
            if num_frames < clip_len:
                return 0
                {DRAW}
            for _ in range(3):
                continue
                {DRAW}
            {DRAW}
            return start
    """
    assert lines_reported(source) == [11]


def test_an_exit_in_another_function_does_not_hide_code():
    source = f"""
        import numpy as np

        def fail():
            raise ValueError

        def sample(num_frames, clip_len):
            fail()
            {DRAW}
            return start
    """
    assert lines_reported(source) == [9]
