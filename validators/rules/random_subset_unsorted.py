from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_SAMPLERS = frozenset({"random.sample", "random.Random.sample"})
_CHOICE = frozenset({"numpy.random.choice", "numpy.random.Generator.choice", "numpy.random.RandomState.choice"})
_PERMUTATION = frozenset({"numpy.random.permutation", "numpy.random.Generator.permutation", "torch.randperm"})
# A range over the samples of a batch, the processes or a dataset, not the frames of a clip: read on the last
# part of each name in the range's stop (`batch_size`, `len(batch)`, `B`, `bsz`, `world_size`, `len(dataset)`).
_BATCH_LIKE = re.compile(r"(batch|^bs$|^bsz$|^b$|world|worker|dataset|gpu|rank|replica)", re.I)


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

    Known problems:
        Whether a population is "frames" is read from names: `range(n)` / `range(num_frames)`,
        `len(frames)`, `video.shape[0]`, names like `indices`; a `range(x)` / `np.arange(x)`
        population is judged by `x` (`np.arange(scores.shape[0])` draws rows of `scores`). A subset stored in, or only used to
        index, something named like a mask, tokens, patches, boxes, captions, labels or ids
        (`mask[idx] = 1`, `token_ids`) is taken to be no frame index and is not reported; a frame
        subset given such a name is missed. A draw of one value (`choice(range(n - T), 1)`,
        `sample(pop, 1)`) is a start offset, not a subset, and is not reported. A range whose stop
        is named like a batch, a dataset or processes (`batch_size`, `len(batch)`, `B`, `bsz`,
        `world_size`), or a local name assigned such a value (`n = len(loader.dataset)`), draws
        samples, not frames, and is not reported: frames under such a name are missed. A draw in
        an `__init__` (or a method only `__init__` calls) builds a dataset once (a random subset of
        its videos) and is not reported.
        The indices count as sorted when a sort follows on them or on what carries their values
        (`np.tile`, `base + offsets`), three assignments deep.

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
    OPT_IN = True

    VALID = [
        # Built once in the constructor: a random subset of the dataset's videos.
        Valid(
            """
            import numpy as np

            class Videos:
                def __init__(self, paths, valid_indices, limit):
                    self.valid_indices = valid_indices
                    self._subsample(limit)

                def _subsample(self, limit):
                    if limit is not None:
                        keep = np.random.choice(range(len(self.valid_indices)), limit, replace=False)
                        self.valid_indices = np.array(self.valid_indices)[keep]
            """
        ),
        # Offsets drawn without order, added to the group starts, and the sum sorted before use.
        Valid(
            """
            import numpy as np

            def group_indices(n, groups, per_group):
                base = np.repeat(np.arange(groups) * (n // groups), per_group)
                offsets = np.random.choice(n // groups, per_group, replace=False)
                offsets = np.tile(offsets, groups)
                frame_idx = base + offsets
                frame_idx = np.sort(frame_idx)
                return frame_idx
            """
        ),
        Valid(
            """
            import random
            idx = sorted(random.sample(range(num_frames), T))
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.random.choice(num_frames, T, replace=False)
            idx.sort()
            """
        ),
        Valid(
            """
            import numpy as np
            rng = np.random.default_rng(0)
            idx = np.sort(rng.choice(n, T, replace=False))
            """
        ),
        Valid(
            """
            import random
            subset = random.sample(video_paths, 100)
            """
        ),
        Valid(
            """
            import torch
            order = torch.randperm(len(dataset))
            """
        ),
        Valid(
            """
            import torch
            sampled = torch.randperm(length)[:max_clips]  # which clips, not which frames
            """
        ),
        # Which time steps of a tube mask to switch on: a mask, indexed in any order.
        Valid(
            """
            import random
            import numpy as np

            def time_mask(cfg):
                mask = np.zeros(cfg.window, dtype=int)
                picked = random.sample(range(0, cfg.window[0]), cfg.num_masked)
                mask[picked, :, :] = 1
                return mask
            """
        ),
        # Tokens dropped at random (positions are already embedded): token indices, not frames.
        Valid(
            """
            import numpy as np

            def drop_tokens(tokens, n, keep):
                kept = np.random.choice(n, keep, replace=False)
                return tokens[kept]
            """
        ),
        Valid(
            """
            import torch

            def shuffle_boxes(boxes, n):
                picked = torch.randperm(n)[:8]
                return boxes[picked]
            """
        ),
        Valid(
            """
            import random

            def pick(n, T, seed):
                r = random.Random(seed)
                return sorted(r.sample(range(n), T))
            """
        ),
        # Which videos to keep for a quick evaluation: video ids, not frame indices.
        Valid(
            """
            import random

            def subset(video_ids, k):
                keep = random.sample(range(len(video_ids)), k)
                return [video_ids[i] for i in keep]
            """
        ),
        # Which rows of a similarity matrix to display (a fixed seed keeps the same rows):
        # the population is the matrix's rows, not the frames of a clip.
        Valid(
            """
            import numpy as np

            def show(scores, k):
                np.random.seed(1)
                rows = np.random.choice(np.arange(scores.shape[0]), size=k, replace=False)
                return [scores[r].argmax() for r in rows]
            """
        ),
        # Negatives for a contrastive loss: for each sample of the batch, another sample of the same
        # batch, drawn by adding a random non-zero shift modulo the batch size. Batch rows, not frames.
        Valid(
            """
            import numpy as np

            def shuffled_negatives(features, batch_size):
                shift = np.random.choice(np.arange(1, batch_size), batch_size)
                other = (shift + np.arange(batch_size)) % batch_size
                return features[other]
            """
        ),
        Valid(
            """
            import random

            class PairMixer:
                def wrong_pairs(self, clips, k):
                    rows = random.sample(range(self.batch_size), k)
                    return [clips[r] for r in rows]
            """
        ),
        # One random start (size 1) from a range of frame positions, then a strided clip from it: in order.
        Valid(
            """
            import numpy as np

            def strided_clip(total, num_frames, stride):
                first = np.random.choice(range(total - num_frames * stride), 1)
                return np.arange(num_frames) * stride + first
            """
        ),
        # Which rows of the evaluation set to show in a logged table of generations: the stop is the size of a
        # dataset, read through a local name (a real-code false alarm).
        Valid(
            """
            import random

            def preview(loader, k, generate, log):
                num_samples = len(loader.dataset)
                rows = random.sample(range(num_samples), k=k)
                log({"samples": [generate(loader.dataset[r]) for r in rows]})
            """
        ),
    ]
    INVALID = [
        # What is sorted is a lookup through the indices (scores of the clip), not the indices.
        Invalid(
            """
            import random

            def ranked_clip(frames, model, T):
                idx = random.sample(range(len(frames)), T)
                scores = model(frames[idx])
                return sorted(scores)
            """,
            expected_line=5,
        ),
        # The same read through a local name, when the name counts frames: reported.
        Invalid(
            """
            import random

            def clip(video, k):
                num_samples = len(video)
                rows = random.sample(range(num_samples), k=k)
                return video[rows]
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import random

            def sample(frames, T):
                idx = random.sample(range(len(frames)), T)
                return [frames[i] for i in idx]
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import numpy as np
            rng = np.random.default_rng()
            idx = rng.choice(num_frames, size=T, replace=False)
            """
        ),
        Invalid(
            """
            import torch
            clip = video[torch.randperm(video.shape[0])[:T]]
            """
        ),
        Invalid(
            """
            import numpy as np
            idx = np.random.permutation(num_frames)[: self.T]
            """
        ),
        Invalid(
            """
            import numpy as np
            idx = np.random.choice(np.arange(num_frames), size=T, replace=False)
            """
        ),
        Invalid(
            """
            import numpy as np
            clip = video[np.random.choice(np.arange(len(video)), T, replace=False)]
            """
        ),
        # A seeded Python generator bound to a name draws in random order too.
        Invalid(
            """
            import random

            def pick(n, T, seed):
                r = random.Random(seed)
                idx = r.sample(range(n), T)
                return idx
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import random

            class Sampler:
                def __init__(self, seed):
                    self.rng = random.Random(seed)

                def __call__(self, frames, T):
                    chosen = self.rng.sample(range(len(frames)), T)
                    return [frames[i] for i in chosen]
            """,
            expected_line=9,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "sample":
            if au.generator_kind(self, func.value) == "random.Random":
                names = names | {"random.Random.sample"}
        if names & _SAMPLERS:
            population = au.argument(node, 0, "population")
            stop = _range_stop(population) if population is not None else None
            if stop is not None:
                if self._batch_like(stop):
                    return
                # range(len(x)) counts frames when x is frames; range(n) when n reads like a count.
                counts = self._frame_population(stop) or (
                    not au.is_call_to(stop, "len") and au.looks_like_frame_count(stop)
                )
                if not counts:
                    return
            elif population is None or not self._frame_population(population):
                return
        elif names & _CHOICE:
            population = au.argument(node, 0, "a")
            if population is None:
                return
            stop = _range_stop(population, self) if not au.is_call_to(population, "range") else None
            if stop is not None:
                # choice(np.arange(x)) draws from 0..x-1: x decides, as for sample(range(x)).
                if self._batch_like(stop) or not (
                    self._frame_population(stop) or (not au.is_call_to(stop, "len") and au.looks_like_frame_count(stop))
                ):
                    return
            elif not self._frame_population(population):
                return
            if au.argument(node, 1, "size") is None:
                return
        elif names & _PERMUTATION:
            up = au.parent(self, node)
            if not (isinstance(up, cst.Subscript) and up.value is node and au.is_head_slice(up)):
                return
            if not node.args or not self._frame_population(node.args[0].value):
                return
        else:
            return
        if names & (_SAMPLERS | _CHOICE) and _one_value(au.argument(node, 1, "k" if names & _SAMPLERS else "size")):
            return  # choice(range(n - T), 1): one start offset, nothing to put in order
        if au.is_sorted_afterwards(self, node):
            return
        if self._not_frames(node):
            return
        if self._builds_once(node):
            return  # a dataset built once: a random subset of its videos, not the frames of a clip
        self.report(node)

    def _builds_once(self, node: cst.Call) -> bool:
        """The draw runs in `__init__`, or in a method of the class that only `__init__` calls."""
        function = au.enclosing_function(self, node)
        if function is None:
            return False
        if function.name.value == "__init__":
            return True
        cls = next((a for a in au.ancestors(self, function) if isinstance(a, cst.ClassDef)), None)
        if cls is None or au.parent(self, au.parent(self, function)) is not cls:
            return False
        name = function.name.value
        callers = [
            au.enclosing_function(self, call)
            for call in au.find_all(cls, cst.Call)
            if isinstance(call.func, cst.Attribute)
            and call.func.attr.value == name
            and au.is_name(call.func.value, "self")
        ]
        return bool(callers) and all(c is not None and c.name.value == "__init__" for c in callers)

    def _batch_like(self, stop: cst.BaseExpression) -> bool:
        """`_batch_like`, also through a local name: `n = len(loader.dataset); random.sample(range(n), k)`."""
        if _batch_like(stop):
            return True
        if isinstance(stop, cst.Name) and "frame" not in stop.value.lower():
            values = au.local_assigned_values(self, stop)
            return bool(values) and all(_batch_like(value) for value in values)
        return False

    def _not_frames(self, node: cst.Call) -> bool:
        """The subset is stored as, or only indexes, masks / tokens / boxes / captions / labels / ids."""
        target = au.bound_name(self, node)
        if target is None:
            return False
        if au.names_non_frame_data(target):
            return True
        name = au.dotted(target)
        if name is None:
            return False
        indexed = au.subscripted_by(name, au.enclosing_scope_node(self, node))
        return bool(indexed) and all(au.names_non_frame_data(value) for value in indexed)

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


def _batch_like(stop: cst.BaseExpression) -> bool:
    """`batch_size`, `len(batch)`, `B`, `world_size`: the range draws samples of a batch or a dataset, or
    processes (contrastive negatives, a split across ranks), not frames; a name with `frame` in it stays frames."""
    if "frame" in au.code(stop).lower():
        return False
    return any(_BATCH_LIKE.search(name.split(".")[-1]) for name in au.names_in(stop))


def _one_value(size: cst.BaseExpression | None) -> bool:
    """A draw of a single value: size `1`, `(1,)` or `[1]`."""
    if isinstance(size, (cst.Tuple, cst.List)) and len(size.elements) == 1:
        size = size.elements[0].value
    return au.int_value(size) == 1


def _range_stop(node: cst.CSTNode, rule: Rule | None = None) -> cst.BaseExpression | None:
    """`n` for `range(n)` / `range(0, n)` / `range(a, n, s)` (and `np.arange(...)` when `rule` is given), else None.

    (`choice(range(x))` keeps being judged on the whole population, which reads a plain `range`
    as no frames; only `choice(np.arange(x))` is judged on `x`.)
    """
    if isinstance(node, cst.Call) and (
        au.is_name(node.func, "range") or (rule is not None and au.calls(rule, node, au.ARANGE))
    ):
        args = au.positional_args(node)
        return args[0] if len(args) == 1 else (args[1] if len(args) >= 2 else None)
    return None
