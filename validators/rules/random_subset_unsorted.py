from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_SAMPLERS = frozenset({"random.sample", "random.Random.sample"})
_CHOICE = frozenset({"numpy.random.choice", "numpy.random.Generator.choice", "numpy.random.RandomState.choice"})
_PERMUTATION = frozenset({"numpy.random.permutation", "numpy.random.Generator.permutation", "torch.randperm"})


class RandomSubsetUnsortedRule(Rule):
    """
    What it does:
        Flags random subsets of frame indices that are never sorted: `random.sample(range(n), T)`,
        `np.random.choice(n, T, replace=False)`, `rng.choice(...)`, `np.random.permutation(n)[:T]`,
        `torch.randperm(n)[:T]`.

    Why is this bad?
        These return indices in random order. Used as a clip, the frames are shuffled in time:
        motion, causality and the action's direction are destroyed, and temporal models learn
        from noise. Nothing crashes, so it survives into training.

    Example:
        ```python
        indices = random.sample(range(num_frames), T)
        clip = frames[indices]
        ```

    Fix:
        Sort the subset before indexing.
        ```python
        indices = sorted(random.sample(range(num_frames), T))
        ```
    """

    ID = "TK141"
    CATEGORY = "temporal-order"
    SEVERITY = "error"
    MESSAGE = "random subset of frame indices is never sorted: the clip's frames come out in random temporal order"
    FIX = "sort the indices: sorted(random.sample(range(n), T)) / np.sort(rng.choice(n, T, replace=False))"
    TRIGGERS = ("sample(", "choice(", "permutation(", "randperm(")

    VALID = [
        Valid("import random\nidx = sorted(random.sample(range(num_frames), T))\n"),
        Valid("import numpy as np\nidx = np.random.choice(num_frames, T, replace=False)\nidx.sort()\n"),
        Valid("import numpy as np\nrng = np.random.default_rng(0)\nidx = np.sort(rng.choice(n, T, replace=False))\n"),
        Valid("import random\nsubset = random.sample(video_paths, 100)\n"),
        Valid("import torch\norder = torch.randperm(len(dataset))\n"),
        Valid("import torch\nsampled = torch.randperm(length)[:max_clips]  # which clips, not which frames\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\ndef sample(frames, T):\n    idx = random.sample(range(len(frames)), T)\n    return [frames[i] for i in idx]\n",
            expected_line=4,
        ),
        Invalid("import numpy as np\nrng = np.random.default_rng()\nidx = rng.choice(num_frames, size=T, replace=False)\n"),
        Invalid("import torch\nclip = video[torch.randperm(video.shape[0])[:T]]\n"),
        Invalid("import numpy as np\nidx = np.random.permutation(num_frames)[: self.T]\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        if names & _SAMPLERS:
            population = au.argument(node, 0, "population")
            if population is None or not (m_range(population) or self._frame_population(population)):
                return
        elif names & _CHOICE:
            population = au.argument(node, 0, "a")
            if population is None or not self._frame_population(population):
                return
            if au.argument(node, 1, "size") is None:
                return
        elif names & _PERMUTATION:
            up = au.parent(self, node)
            if not (isinstance(up, cst.Subscript) and up.value is node and au._is_head_slice(up)):
                return
            if not node.args or not self._frame_population(node.args[0].value):
                return
        else:
            return
        if au.is_sorted_afterwards(self, node):
            return
        self.report(node)

    def _frame_population(self, node: cst.BaseExpression) -> bool:
        """Frames or frame indices: `frames`, `indices`, `num_frames`, `n`, `len(video)`, `clip.shape[0]`."""
        if "frame" in au.code(node).lower() or au.looks_like_indices(self, node):
            return True
        ident = au.last_identifier(node)
        if ident is not None:
            return ident in ("n", "t", "T")
        owner = node
        if isinstance(owner, cst.Subscript):
            owner = owner.value
        if isinstance(owner, cst.Call):
            owner = owner.args[0].value if au.dotted(owner.func) == "len" and owner.args else owner.func
        while isinstance(owner, cst.Attribute) and owner.attr.value in ("shape", "size"):
            owner = owner.value
        return (au.last_identifier(owner) or "").lower() in _SINGLE_CLIP


_SINGLE_CLIP = {"video", "clip", "vid", "frames"}


def m_range(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range"
