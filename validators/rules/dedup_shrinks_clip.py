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
        neutral name built elsewhere are missed.
    """

    ID = "TK153"
    CATEGORY = "clip-length"
    SEVERITY = "warning"
    MESSAGE = "de-duplicating sampled frame indices returns fewer than T frames when num_frames < T"
    FIX = "keep repeated indices (repeat frames for short videos) so the clip always has T frames"
    TRIGGERS = ("unique", "set(", "fromkeys")

    VALID = [
        Valid("import numpy as np\nidx = np.linspace(0, n - 1, T).round().astype(int)\n"),
        Valid("import numpy as np\nclasses = np.unique(labels)\n"),
        Valid("seen = set(indices)\n"),
        Valid("import torch\nfor class_id in torch.unique(idxs):\n    pass\n"),
    ]
    INVALID = [
        Invalid("import numpy as np\nidx = np.unique(np.linspace(0, n - 1, T).round().astype(int))\n", expected_line=2),
        Invalid("def f(frame_indices):\n    return sorted(set(frame_indices))\n"),
        Invalid("import numpy as np\n\ndef f(n, T):\n    idx = np.round(np.linspace(0, n - 1, T)).astype(int)\n    return np.unique(idx)\n", expected_line=5),
        Invalid("import torch\nframe_idx = torch.unique(frame_idx)\n"),
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
        self.report(node)
