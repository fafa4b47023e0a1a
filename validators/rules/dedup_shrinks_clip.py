from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_UNIQUE = frozenset({"numpy.unique", "torch.unique"})


class DedupShrinksClipRule(Rule):
    """
    What it does:
        Flags de-duplication of sampled frame indices: `np.unique(indices)`, `torch.unique(idx)`,
        `sorted(set(indices))`, `list(dict.fromkeys(indices))`.

    Why is this bad?
        Sampled indices repeat exactly when the video is shorter than the clip (`n < T`), or
        when rounding maps two positions onto one frame. Removing the repeats then returns fewer
        than T frames: batches fail to stack, or models with a fixed temporal size see a
        shorter clip.

    Example:
        ```python
        indices = np.unique(np.linspace(0, n - 1, T).round().astype(int))
        ```

    Fix:
        Keep the repeats (a repeated frame is the honest answer for a short video), or handle
        `n < T` explicitly.
        ```python
        indices = np.linspace(0, n - 1, T).round().astype(int)
        ```

    Known problems:
        What is de-duplicated is taken for frame indices when it comes from a sampler call
        (`linspace`, `arange`, `range`, a random-integer draw, directly or through one
        assignment) or when its text mentions "frame". Frame ids of another kind (`frame_ids`
        of annotations, de-duplicated on purpose) are reported too, and indices held under a
        neutral name built elsewhere are missed. A decode cache is not reported: a dict
        comprehension keyed by the distinct indices, read only as `cache[i]` with `i` running
        over the original (repeating) indices, written as the same expression.
    """

    ID = "TK153"
    CATEGORY = "clip-length"
    SEVERITY = "warning"
    MESSAGE = "de-duplicating sampled frame indices returns fewer than T frames when num_frames < T"
    FIX = "keep repeated indices (repeat frames for short videos) so the clip always has T frames"
    TRIGGERS = ("unique", "set(", "fromkeys")

    VALID = [
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, n - 1, T).round().astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            classes = np.unique(labels)
            """
        ),
        Valid(
            """
            seen = set(indices)
            """
        ),
        Valid(
            """
            import torch
            for class_id in torch.unique(idxs):
                pass
            """
        ),
        # Each distinct frame is decoded once into a lookup, then the clip is rebuilt from the
        # original indices (repeats included): T frames come out.
        Valid(
            """
            import torch

            def decode(reader, frame_idx):
                decoded = {i: reader.get_frame(i) for i in torch.unique(frame_idx)}
                return [decoded[i] for i in frame_idx]
            """
        ),
        Valid(
            """
            import numpy as np

            def load(video, frame_indices):
                cache = {k: video[k] for k in np.unique(frame_indices)}
                clip = []
                for k in frame_indices:
                    clip.append(cache[k])
                return clip
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np
            idx = np.unique(np.linspace(0, n - 1, T).round().astype(int))
            """,
            expected_line=3,
        ),
        Invalid(
            """
            def f(frame_indices):
                return sorted(set(frame_indices))
            """
        ),
        Invalid(
            """
            import numpy as np

            def f(n, T):
                idx = np.round(np.linspace(0, n - 1, T)).astype(int)
                return np.unique(idx)
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import torch
            frame_idx = torch.unique(frame_idx)
            """
        ),
        # A lookup of the distinct frames whose values become the clip: fewer than T frames.
        Invalid(
            """
            import numpy as np

            def load(video, frame_indices):
                cache = {k: video[k] for k in np.unique(frame_indices)}
                return list(cache.values())
            """,
            expected_line=5,
        ),
        # Iterating over the distinct indices to build the clip itself.
        Invalid(
            """
            import numpy as np

            def load(video, frame_indices):
                return [video[k] for k in np.unique(frame_indices)]
            """,
            expected_line=5,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args:
            return
        target = node.args[0].value
        names = au.call_names(self, node)
        if names & _UNIQUE:
            pass
        elif au.is_call_to(node, "sorted", "list", "tuple") and (
            au.is_call_to(target, "set") or au.is_method_call(target, "dict", "fromkeys")
        ):
            if not target.args:
                return
            target = target.args[0].value
        else:
            return
        if not (au.produced_by_sampler(self, target) or "frame" in au.code(target).lower()):
            return
        if isinstance(au.parent(self, node), cst.For):
            return  # iterating over the distinct values, not building a clip
        if _decode_cache(self, node, target):
            return
        self.report(node)


def _decode_cache(rule: Rule, node: cst.Call, indices: cst.BaseExpression) -> bool:
    """`d = {i: ... for i in unique(idx)}` whose only reads are `d[j]` for `j` running over `idx` itself.

    The distinct indices only key a decode cache; the clip is rebuilt per original index, repeats
    included.
    """
    comp_for = au.parent(rule, node)
    if not (isinstance(comp_for, cst.CompFor) and comp_for.iter is node and isinstance(comp_for.target, cst.Name)):
        return False
    comp = au.parent(rule, comp_for)
    if not (isinstance(comp, cst.DictComp) and au.is_name(comp.key, comp_for.target.value)):
        return False
    target = au.bound_name(rule, comp)
    if not isinstance(target, cst.Name):
        return False
    scope = au.enclosing_scope_node(rule, comp)
    original = au.code(indices)
    reexpanded = False
    for use in au.find_all(scope, cst.Name, lambda n: n.value == target.value):
        if use is target:
            continue
        up = au.parent(rule, use)
        if not (isinstance(up, cst.Subscript) and up.value is use and len(up.slice) == 1):
            return False  # `d.values()`, `len(d)`, `d` passed on: the distinct frames themselves are used
        key = up.slice[0].slice
        if (
            isinstance(key, cst.Index)
            and isinstance(key.value, cst.Name)
            and _runs_over(rule, up, key.value.value, original)
        ):
            reexpanded = True
    return reexpanded


def _runs_over(rule: Rule, node: cst.CSTNode, name: str, source: str) -> bool:
    """`name` is the target of a loop or comprehension around `node` iterating over the expression `source`."""
    for anc in au.ancestors(rule, node):
        loops: list = []
        if isinstance(anc, cst.For):
            loops = [anc]
        elif isinstance(anc, (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)):
            loops = list(au.find_all(anc.for_in, cst.CompFor))
        for loop in loops:
            if au.is_name(loop.target, name) and au.code(loop.iter) == source:
                return True
        if isinstance(anc, cst.FunctionDef):
            break
    return False
