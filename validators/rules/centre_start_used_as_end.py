from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class CentreStartUsedAsEndRule(Rule):
    """
    What it does:
        Flags a centred window position `x = (n - L) // 2` from which the window length is
        subtracted again (`start = x - L`): the centred start taken for the window's end.

    Why is this bad?
        `(n - L) // 2` is where a centred window of L frames starts. Used as its end, the window
        covers `[(n - 3L) / 2, (n - L) / 2]`: L frames left of the centre, and when `n < 3L` its
        start is negative, so the indices wrap to the end of the video or raise, depending on the
        reader. Evaluation-time centre clips are where this hides: training draws the end at
        random and looks right.

    Example:
        ```python
        end_idx = (seg_len - clip_span) // 2
        start_idx = end_idx - clip_span
        ```

    Fix:
        Take the centred position as the start and add the length for the end.
        ```python
        start_idx = (seg_len - clip_span) // 2
        end_idx = start_idx + clip_span
        ```

    Known problems:
        The length is matched by its spelling (`clip_span` in both places). A centre written
        another way (`n // 2 - L // 2`) is not recognised.
    """

    ID = "TK133"
    CATEGORY = "start-range"
    SEVERITY = "error"
    MESSAGE = (
        "(n - L) // 2 is a centred window's start, but L is subtracted from it again: the clip sits L frames "
        "left of the centre and starts below 0 when n < 3L"
    )
    FIX = "use the centred value as the start and add L for the end"
    TRIGGERS = ("// 2", "//2", "/ 2)", "/2)", ">> 1", ">>1")

    VALID = [
        Valid(
            """
            def centre_clip(n, span):
                start = (n - span) // 2
                end = start + span
                return start, end
            """
        ),
        # A crop's top-left corner: the length is added, not subtracted.
        Valid(
            """
            def centre_crop(img, h, th):
                top = (h - th) // 2
                return img[top : top + th]
            """
        ),
        # Another quantity subtracted (a margin, not the window length).
        Valid(
            """
            def window(n, span, margin):
                mid = (n - span) // 2
                return mid - margin, mid + span
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np

            def val_indices(seg_len, clip_len, rate, training):
                span = int(clip_len * rate)
                if training:
                    end_idx = np.random.randint(span, seg_len)
                else:
                    end_idx = (seg_len - span) // 2
                start_idx = end_idx - span
                return np.linspace(start_idx, end_idx, num=clip_len).astype(int)
            """,
            expected_line=9,
        ),
        Invalid(
            """
            def centre(total, length):
                last = int((total - length) / 2)
                return range(last - length, last)
            """,
            expected_line=3,
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        length = _centred_length(node.value)
        if length is None:
            return
        name = node.targets[0].target.value
        spelled = au.code(length)
        scope = au.enclosing_scope_node(self, node)
        subtracted = au.find_all(
            scope,
            cst.BinaryOperation,
            lambda b: isinstance(b.operator, cst.Subtract) and au.is_name(b.left, name) and au.code(b.right) == spelled,
        )
        if subtracted:
            self.report(node.value)


def _centred_length(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """L of `(n - L) // 2`, `(n - L) / 2` inside `int(...)`, or `(n - L) >> 1`; None otherwise (or when L is a literal)."""
    if au.is_call_to(value, "int") and len(value.args) == 1:  # type: ignore[union-attr]
        value = value.args[0].value  # type: ignore[union-attr]
        if not (isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Divide)):
            return None
    if not isinstance(value, cst.BinaryOperation):
        return None
    halves = isinstance(value.operator, (cst.FloorDivide, cst.Divide)) and au.int_value(value.right) == 2
    if not halves and not (isinstance(value.operator, cst.RightShift) and au.int_value(value.right) == 1):
        return None
    difference = value.left
    if not (isinstance(difference, cst.BinaryOperation) and isinstance(difference.operator, cst.Subtract)):
        return None
    if au.int_value(difference.right) is not None:
        return None
    return difference.right
