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

    Known problems:
        "Frame indices" is read from names: a set built from names like `indices`, `frame_ids`,
        `positions`, `start`, or a comprehension over them. Sets of labels, captions, tokens,
        boxes, masks or ids (by their names) are not reported, even though turning a set of
        strings into a list gives a different order in every process; frame indices stored
        under such a name are missed.

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
        Valid(
            """
            idx = sorted(set(indices))
            """
        ),
        Valid(
            """
            seen = set(indices)
            keep = [i for i in range(n) if i in seen]
            """
        ),
        Valid(
            """
            labels = list(set(class_names))
            """
        ),
        Valid(
            """
            idx = list(set(frame_ids))
            idx.sort()
            """
        ),
        # A label vocabulary collected through a set comprehension: labels, not frame indices.
        Valid(
            """
            def class_index(samples, field):
                classes = list({meta[field] for _, meta in samples})
                return {name: i for i, name in enumerate(classes)}
            """
        ),
        Valid(
            """
            def unique_tokens(token_idx):
                return list(set(token_idx))
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            def dedup(indices):
                return list(set(indices))  # unique frames
            """,
            expected_fix="""
            def dedup(indices):
                return sorted(set(indices))  # unique frames
            """,
            expected_line=3,
        ),
        Invalid(
            """
            idx = tuple(set(int(round(x)) for x in positions))
            """,
            expected_fix="""
            idx = tuple(sorted(set(int(round(x)) for x in positions)))
            """,
        ),
        Invalid(
            """
            frame_ids = list({i // 2 for i in frame_ids})
            """,
            expected_fix="""
            frame_ids = sorted({i // 2 for i in frame_ids})
            """,
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
        if not self._frame_indices(content):
            return
        target = au.bound_name(self, node)
        if target is not None and au.names_non_frame_data(target):
            return
        if au.is_sorted_afterwards(self, node):
            return
        sorted_call = cst.Call(func=cst.Name("sorted"), args=[cst.Arg(inner)])
        if node.func.value == "list":
            replacement: cst.BaseExpression = sorted_call.with_changes(lpar=node.lpar, rpar=node.rpar)
        else:
            replacement = node.with_changes(args=[node.args[0].with_changes(value=sorted_call)])
        self.report(node, replacement=replacement)

    def _frame_indices(self, content: cst.CSTNode) -> bool:
        """Frame indices: an index-like name, a sampler call, or a comprehension over / producing them."""
        if au.names_non_frame_data(content):
            return False
        if isinstance(content, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            parts: list[cst.CSTNode] = [content.elt]
            comp = content.for_in
            while comp is not None:
                parts.append(comp.iter)
                comp = comp.inner_for_in
            return any(au.looks_like_indices(self, part) or au.mentions_frames(part) for part in parts)
        return au.looks_like_indices(self, content)
