from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_SEQUENCES = ("list", "tuple")


class SetOrderIndicesRule(Rule):
    """
    What it does:
        Flags frame indices de-duplicated through a `set` and turned back into a sequence without
        sorting: `list(set(indices))`, `tuple(set(...))`, `[*set(...)]`.

    Why is this bad?
        A set has no order. For small integers CPython often happens to iterate in ascending order,
        which hides the bug in tests, but hash order is not guaranteed and breaks as soon as
        indices grow past the table size (`list({8, 1, 16})` is `[16, 1, 8]`); the clip's frames
        then come out of temporal order. A set used only for membership (`i in seen`) is fine.

    Example:
        ```python
        indices = list(set(indices))
        ```

    Fix:
        Sort when converting back (autofix).
        ```python
        indices = sorted(set(indices))
        ```
    """

    ID = "TK142"
    CATEGORY = "temporal-order"
    SEVERITY = "error"
    MESSAGE = "frame indices turned from a set back into a list without sorting: their temporal order is not defined"
    FIX = "use sorted(set(indices))"
    # Every flagged call is `list(...)` / `tuple(...)`: the name, then the parenthesis after any
    # whitespace, a line continuation or a comment (which the prefilter blanks to a space).
    TRIGGERS = tuple(name + sep for name in ("list", "tuple") for sep in "( \t\n\r\f\\")

    VALID = [
        Valid("idx = sorted(set(indices))\n"),
        Valid("seen = set(indices)\nkeep = [i for i in range(n) if i in seen]\n"),
        Valid("labels = list(set(class_names))\n"),
        Valid("idx = list(set(frame_ids))\nidx.sort()\n"),
    ]
    INVALID = [
        Invalid(
            "def dedup(indices):\n    return list(set(indices))  # unique frames\n",
            expected_fix="def dedup(indices):\n    return sorted(set(indices))  # unique frames\n",
            expected_line=2,
        ),
        Invalid(
            "idx = tuple(set(int(round(x)) for x in positions))\n",
            expected_fix="idx = tuple(sorted(set(int(round(x)) for x in positions)))\n",
        ),
        Invalid(
            "frame_ids = list({i // 2 for i in frame_ids})\n",
            expected_fix="frame_ids = sorted({i // 2 for i in frame_ids})\n",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value in _SEQUENCES and len(node.args) == 1):
            return
        inner = node.args[0].value
        if isinstance(inner, cst.SetComp):
            content: cst.CSTNode = inner
        elif au.is_call_to(inner, "set", "frozenset") and inner.args:
            content = inner.args[0].value
        else:
            return
        if not au.looks_like_indices(self, content):
            return
        if au.is_sorted_afterwards(self, node):
            return
        sorted_call = cst.Call(func=cst.Name("sorted"), args=[cst.Arg(inner)])
        if node.func.value == "list":
            replacement: cst.BaseExpression = sorted_call.with_changes(lpar=node.lpar, rpar=node.rpar)
        else:
            replacement = node.with_changes(args=[node.args[0].with_changes(value=sorted_call)])
        self.report(node, replacement=replacement)
