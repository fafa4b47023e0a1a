from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_ZEROS = frozenset({"numpy.zeros", "torch.zeros", "numpy.zeros_like", "torch.zeros_like"})
_PADS = frozenset({"numpy.pad", "torch.nn.functional.pad"})
_CONSTANT = {"'constant'", '"constant"'}
# What a zero array padded "by T - n" is when it is not a clip of frames.
# A list of images padded in a loop (`context_images`, `imgs`): video frames by another name.
_IMAGE_LIST = re.compile(r"(images|imgs)$", re.I)
_NOT_FRAMES = re.compile(
    r"(mask|patch|token|embed|hidden|(^|_)input_ids$|audio|spec|^mel|feat|class|label|box|word|(?<!con)text|caption|query"
    r"|(^|_)pos(_|$|ition)|score|weight|keypoint|^kps?$)",
    re.I,
)
# Calls that join the zero block to the data it pads: what the other operands are named says what is padded.
_JOINS = frozenset(
    {
        "torch.cat",
        "torch.concat",
        "torch.concatenate",
        "torch.stack",
        "numpy.concatenate",
        "numpy.stack",
        "numpy.vstack",
    }
)
_ADDERS = frozenset({"append", "extend", "insert"})
# Calls that turn an array into a frame of another type: PIL's `Image.fromarray`, `torch.from_numpy`...
_ARRAY_WRAPPERS = frozenset({"fromarray", "from_numpy", "as_tensor", "tensor", "asarray", "array"})


class ZeroPaddingShortClipRule(Rule):
    """
    What it does:
        Flags short clips filled up to T frames with black frames: `np.zeros((T - n, H, W, C))`,
        `torch.zeros(T - len(frames), C, H, W)`, `torch.zeros(3, T - n, H, W)` (channels first),
        `[np.zeros_like(f)] * (T - n)`, constant
        `np.pad`/`F.pad` by `T - n`.

    Why is this bad?
        Black frames are not in the data distribution: the model sees a scene cut to black in
        every short video, normalisation turns them into large negative inputs, and temporal
        pooling averages them in. Accuracy on short videos drops and the model can learn "black
        tail ⇒ class X" shortcuts.

    Example:
        ```python
        pad = np.zeros((T - len(frames),) + frames.shape[1:], frames.dtype)
        clip = np.concatenate([frames, pad])
        ```

    Fix:
        Repeat frames instead: sample indices with repetition over the frames that exist (or
        loop the clip, or repeat the last frame).
        ```python
        indices = np.linspace(0, len(frames) - 1, T).round().astype(int)
        clip = frames[indices]
        ```

    Known problems:
        Whether a zero array is a clip of frames is read from names and shape: the shortfall
        `T - n` must mention frames or the clip length (`num_frames`, `len(frames)`, `clip_len`),
        nothing in it may name masks, patches, tokens, embeddings, audio or spectrogram
        features, classes or boxes, and the padding must span at least two more axes (a frame
        is (H, W) or (H, W, C); a dimension written out, `x.shape[1]`, is one axis, a starred or
        added shape, `*frames.shape[1:]`, several: a `(max_len - n, dim)` block pads tokens). A
        zero block is not frames either when its dimensions, dtype or device are read off, or it
        is joined (`torch.cat`, `np.concatenate`) to, appended to, or stored in something named
        for embeddings, hidden states, tokens, masks or features (the sequence padding of a
        multimodal LLM, beside its attention mask); with `F.pad`'s flat list, whose pairs start at the last axis,
        the shortfall must sit in the third pair or later. The shortfall is the first axis, or the
        second when the first is a literal channel count 1 or 3 (a channels-first (C, T, H, W)
        clip). A clip stored under a neutral name (`x`) or padded in a 1-D/2-D layout is missed.
    """

    ID = "TK200"
    CATEGORY = "zero-padding"
    SEVERITY = "warning"
    MESSAGE = "short clip padded with black (all-zero) frames up to T: out-of-distribution input for short videos"
    FIX = "repeat frames instead: indices = linspace(0, n - 1, T).round() (or loop / repeat the last frame)"
    TRIGGERS = ("zeros", "pad(")

    VALID = [
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, len(frames) - 1, T).round().astype(int)
            clip = frames[idx]
            """
        ),
        Valid(
            """
            import numpy as np
            clip = np.pad(frames, ((0, T - len(frames)), (0, 0), (0, 0), (0, 0)), mode='edge')
            """
        ),
        Valid(
            """
            import torch
            mask = torch.zeros(T, dtype=torch.bool)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F
            x = F.pad(x, (1, 1, 1, 1))
            """
        ),
        Valid(
            """
            import torch
            zeros_y1 = torch.zeros(im_h - y_1, mask.size(1))
            """
        ),
        # a tube mask: zeros for the unmasked patches of each frame
        Valid(
            """
            import numpy as np

            class TubeMask:
                def __call__(self):
                    per_frame = np.hstack([
                        np.zeros(self.patches_per_frame - self.masked_per_frame),
                        np.ones(self.masked_per_frame),
                    ])
                    return np.tile(per_frame, (self.frames, 1)).flatten()
            """
        ),
        # a validity mask over time is 1-D: not frames
        Valid(
            """
            import numpy as np
            mask = np.concatenate([np.ones(n), np.zeros((max_frames - n,))])
            """
        ),
        # audio features padded to a fixed length
        Valid(
            """
            import numpy as np

            def fit_audio(audio_clip, fixed_length):
                return np.pad(audio_clip, ((0, fixed_length - audio_clip.shape[0]), (0, 0)), mode='constant')
            """
        ),
        # empty per-class result arrays
        Valid(
            """
            import numpy as np

            def no_detections(num_classes):
                per_class = np.zeros((num_classes - 1, 0, 5))
                return [boxes for boxes in per_class]
            """
        ),
        # token and embedding padding
        Valid(
            """
            import torch

            def pad_tokens(tokens, max_len, dim):
                pad = torch.zeros(max_len - tokens.shape[0], dim, 1)
                return torch.cat([tokens, pad])
            """
        ),
        Valid(
            """
            import torch
            embeds += [torch.zeros_like(embeds[0])] * (num_frames - len(embeds))
            """
        ),
        # Three channels of a 1-D signal padded along time: only two axes, no (T, H, W) clip.
        Valid(
            """
            import torch
            lengths = torch.zeros(3, max_frames - num_frames)
            """
        ),
        # F.pad's flat list starts at the last axis: `[0, 0, 0, k]` pads the second-to-last axis of a
        # 2-D target map (IoU scores over candidate moments), a training label, not frames
        Valid(
            """
            import torch.nn.functional as F

            def fit_score_map(iou_map, num_clips, out_clips):
                return F.pad(iou_map, [0, 0, 0, out_clips - num_clips])
            """
        ),
        # A multimodal LLM pads each sequence of input embeddings (text tokens with image features spliced in)
        # to the longest of the batch, on the right or on the left, beside its attention mask: a (len, dim)
        # block of zeros is no clip of frames (a real-code false alarm, in both branches).
        Valid(
            """
            import torch

            def pad_sequences(sequences, mask, left):
                longest = max(seq.shape[0] for seq in sequences)
                padded_embeds = []
                for row, seq in enumerate(sequences):
                    cur_len = seq.shape[0]
                    gap = torch.zeros((longest - cur_len, seq.shape[1]), dtype=seq.dtype, device=seq.device)
                    if left:
                        padded_embeds.append(torch.cat((gap, seq), dim=0))
                        mask[row, -cur_len:] = True
                    else:
                        padded_embeds.append(torch.cat((seq, gap), dim=0))
                        mask[row, :cur_len] = True
                return torch.stack(padded_embeds), mask
            """
        ),
        Valid(
            """
            import torch

            def right_pad(new_embeds, max_len):
                out = []
                for cur in new_embeds:
                    out.append(torch.cat((cur, torch.zeros((max_len - cur.shape[0], cur.shape[1]), dtype=cur.dtype))))
                return out
            """
        ),
        # Three axes, but joined to hidden states and shaped like them: a sequence of tokens, not frames.
        Valid(
            """
            import torch

            def pad_states(hidden_states, max_len, heads, head_dim):
                cur_len = hidden_states.shape[0]
                fill = torch.zeros(max_len - cur_len, heads, head_dim)
                return torch.cat([hidden_states, fill])
            """
        ),
    ]
    INVALID = [
        # Sampled frames kept as "context images", padded with black ones up to the count.
        Invalid(
            """
            import torch

            def context(frames, wanted, side):
                context_images = [f for f in frames[:wanted]]
                while len(context_images) < wanted:
                    context_images.append(torch.zeros((3, side, side)))
                return context_images
            """,
            expected_line=7,
        ),
        # Beside the padding of token embeddings (quiet), the clips of the batch are padded with black frames.
        Invalid(
            """
            import torch

            def collate(clips, sequences, num_frames):
                longest = max(seq.shape[0] for seq in sequences)
                embeds = [torch.cat((s, torch.zeros((longest - s.shape[0], s.shape[1]), dtype=s.dtype))) for s in sequences]
                videos = []
                for clip in clips:
                    black = torch.zeros((num_frames - clip.shape[0], *clip.shape[1:]), dtype=clip.dtype)
                    videos.append(torch.cat((clip, black)))
                return torch.stack(videos), torch.stack(embeds)
            """,
            expected_line=9,
        ),
        Invalid(
            """
            import numpy as np

            def pad(frames, T):
                pad = np.zeros((T - len(frames),) + frames.shape[1:], frames.dtype)
                return np.concatenate([frames, pad])
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch
            clip = torch.cat([clip, torch.zeros(self.T - clip.shape[0], 3, 224, 224)])
            """
        ),
        Invalid(
            """
            import numpy as np
            frames += [np.zeros_like(frames[0])] * (T - len(frames))
            """
        ),
        Invalid(
            """
            import numpy as np
            clip = np.pad(frames, ((0, T - n), (0, 0), (0, 0), (0, 0)))
            """
        ),
        # A channels-first (C, T, H, W) clip padded along its time axis, the second one.
        Invalid(
            """
            import torch

            def fill_up(video, num_frames, side):
                if video.shape[1] < num_frames:
                    black = torch.zeros((3, num_frames - video.shape[1], side, side), dtype=torch.uint8)
                    video = torch.cat((video, black), dim=1)
                return video
            """,
            expected_line=6,
        ),
        # F.pad reaching the first axis of a (T, C, H, W) clip
        Invalid(
            """
            import torch.nn.functional as F
            clip = F.pad(clip, (0, 0, 0, 0, 0, 0, 0, T - clip.shape[0]))
            """
        ),
        # black frames appended one at a time
        Invalid(
            """
            import numpy as np

            def load(frames, T):
                while len(frames) < T:
                    frames.append(np.zeros_like(frames[0]))
                return np.stack(frames)
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import numpy as np

            def load(frames, num_frames, h, w):
                for _ in range(num_frames - len(frames)):
                    frames.append(np.zeros((h, w, 3), np.uint8))
                return frames
            """,
            expected_line=6,
        ),
        # a black PIL frame: the zeros wrapped in Image.fromarray
        Invalid(
            """
            import numpy as np
            from PIL import Image

            def load_gif(video_data, num_frames):
                while num_frames is not None and len(video_data) < num_frames:
                    video_data.append(Image.fromarray(np.zeros((*video_data[-1].size, 3), dtype=np.uint8)))
                return video_data
            """,
            expected_line=7,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        if names & {"numpy.zeros", "torch.zeros"}:
            if self._pads_frames_along_time(node):
                self.report(node)
        elif names & _PADS:
            mode = au.argument(node, 2, "mode")
            if mode is not None and au.code(mode) not in _CONSTANT:
                return
            if "torch.nn.functional.pad" in names:
                fill = au.argument(node, 3, "value")
            else:
                fill_arg = au.keyword_arg(node, "constant_values")
                fill = fill_arg.value if fill_arg is not None else None
            if fill is not None and au.int_value(fill) != 0:
                return  # padding with a chosen value is a decision, not the black-frame default
            widths = au.argument(node, 1, "pad_width") or au.argument(node, 1, "pad")
            padded = au.argument(node, 0, "array") or au.argument(node, 0, "input")
            if widths is None or (padded is not None and self._not_frames(padded)):
                return
            if (
                isinstance(widths, (cst.Tuple, cst.List))
                and all(isinstance(e.value, (cst.Tuple, cst.List)) for e in widths.elements)
                and len(widths.elements) < 3
            ):
                return  # (T, F) features or a 1-D signal: frames have at least (T, H, W)
            if "torch.nn.functional.pad" in names and isinstance(widths, (cst.Tuple, cst.List)):
                pairs = {
                    i // 2
                    for i, e in enumerate(widths.elements)
                    if any(self._frame_shortfall(d) for d in _subtractions(e.value))
                }
                if pairs and max(pairs) < 2:
                    return  # F.pad pads the last axis first: an axis with at most one after it is no (T, H, W) time axis
            if any(self._frame_shortfall(d) for d in _subtractions(widths)):
                self.report(node)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "append" and len(node.args) == 1:
            self._check_append(node)

    def _pads_frames_along_time(self, node: cst.Call) -> bool:
        """`np.zeros((T - n, H, W, C))`, `np.zeros((T - n,) + frames.shape[1:])`, `torch.zeros(T - n, C, H, W)`."""
        shape = au.argument(node, 0, "shape") or au.argument(node, 0, "size")
        rest: list[cst.BaseExpression] = []
        # Each later axis, with how many axes it stands for: a dimension written out is one (`dim`,
        # `x.shape[1]`); a starred shape or a tuple added on (`*frames.shape[1:]`, `+ frames.shape[1:]`) is several.
        rest: list[tuple[cst.BaseExpression, bool]] = []
        if isinstance(shape, cst.BinaryOperation) and isinstance(shape.operator, cst.Add):
            rest = [(shape.right, True)]  # (T - n,) + frames.shape[1:]
            shape = shape.left
        if isinstance(shape, (cst.Tuple, cst.List)) and shape.elements:
            rest = [(e.value, isinstance(e, cst.StarredElement)) for e in shape.elements[1:]] + rest
            shape = shape.elements[0].value
        elif shape is not None and au.keyword_arg(node, "size") is None and au.keyword_arg(node, "shape") is None:
            rest = [
                (a.value, a.star == "*") for a in node.args[1:] if a.keyword is None
            ] + rest  # zeros(T - n, C, H, W)
        if au.int_value(shape) in (1, 3) and rest and au.is_subtraction(rest[0][0]):
            shape, rest = rest[0][0], rest[1:]  # channels first, (C, T - n, H, W): time is the second axis
        if not (au.is_subtraction(shape) and self._frame_shortfall(shape)):
            return False
        if any(au.int_value(d) == 0 for d, _ in rest):
            return False  # an empty result array, (k, 0, 5)
        # A frame is (H, W) or (H, W, C): a zero block of (T - n, dim) pads tokens, features or a signal.
        spread = len(rest) >= 2 or any(several for _, several in rest)
        return spread and not self._pads_non_frames(node)

    def _check_append(self, node: cst.Call) -> None:
        """`while len(frames) < T: frames.append(np.zeros_like(frames[0]))` and the `for _ in range(T - n)` form."""
        value = node.args[0].value
        if (
            isinstance(value, cst.Call)
            and len(value.args) == 1
            and au.last_identifier(value.func) in _ARRAY_WRAPPERS
            and not au.call_names(self, value) & _ZEROS
        ):
            value = value.args[0].value  # `Image.fromarray(np.zeros(...))`: a black frame all the same
        if not (isinstance(value, cst.Call) and au.call_names(self, value) & _ZEROS):
            return
        receiver = node.func.value  # type: ignore[attr-defined]
        name = au.dotted(receiver)
        if name is None or self._not_frames(receiver):
            return
        zeros_like_item = bool(au.call_names(self, value) & {"numpy.zeros_like", "torch.zeros_like"}) and any(
            isinstance(sub, cst.Subscript) and au.dotted(sub.value) == name for sub in au.find_all(value, cst.Subscript)
        )
        if not (
            zeros_like_item or au.mentions_frames(receiver) or _IMAGE_LIST.search(au.last_identifier(receiver) or "")
        ):
            return
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.While) and any(
                au.is_call_to(c, "len") and c.args and au.dotted(c.args[0].value) == name
                for c in au.find_all(anc.test, cst.Call)
            ):
                self.report(node)
                return
            if (
                isinstance(anc, cst.For)
                and au.is_call_to(anc.iter, "range")
                and any(
                    self._frame_shortfall(b)
                    for b in au.find_all(anc.iter, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Subtract))
                )
            ):
                self.report(node)
                return
            if isinstance(anc, cst.FunctionDef):
                return

    @staticmethod
    def _not_frames(node: cst.CSTNode) -> bool:
        return any(_NOT_FRAMES.search(part) for name in au.names_in(node) for part in name.split("."))

    def _frame_shortfall(self, node: cst.CSTNode) -> bool:
        """`T - n` about frames or the clip length, not about masks, tokens, classes or audio."""
        return au.mentions_frames(node) and not self._not_frames(node)

    def _pads_non_frames(self, node: cst.Call) -> bool:
        """The zero block is made like, joined to, or stored as something named for embeddings, tokens, masks or
        features: `torch.zeros((k, 3, d), dtype=embeds.dtype)`, `torch.cat((cur_embed, torch.zeros(...)))`,
        `padded_embeds.append(...)`, `mask = ...`, or `fill = torch.zeros(...)` later joined to `hidden_states`:
        the padding of a sequence of tokens, not a clip of frames."""
        if self._not_frames(node):
            return True  # its dimensions, dtype or device are read off embeddings, tokens, features...
        if self._joined_to_non_frames(node):
            return True
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.Assign):
                if any(self._not_frames(t.target) for t in anc.targets):
                    return True
                if len(anc.targets) == 1 and isinstance(anc.targets[0].target, cst.Name) and anc.value is node:
                    name = anc.targets[0].target.value
                    scope = au.enclosing_scope_node(self, node)
                    uses = au.find_all(scope, cst.Name, lambda n: n.value == name and n is not anc.targets[0].target)
                    return any(self._joined_to_non_frames(use) for use in uses)
                return False
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return False
        return False

    def _joined_to_non_frames(self, node: cst.CSTNode) -> bool:
        """`node` is joined (`torch.cat`, `np.concatenate`...) to, or added (`.append`) to, a value named for
        embeddings, tokens, masks or features, within its statement."""
        around = {id(node)}
        for anc in au.ancestors(self, node):
            around.add(id(anc))
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return False
            if not isinstance(anc, cst.Call):
                continue
            if isinstance(anc.func, cst.Attribute) and anc.func.attr.value in _ADDERS:
                if self._not_frames(anc.func.value):
                    return True
            elif au.call_names(self, anc) & _JOINS:
                joined = [a.value for a in anc.args if a.keyword is None]
                if len(joined) == 1 and isinstance(joined[0], (cst.Tuple, cst.List)):
                    joined = [e.value for e in joined[0].elements]
                if any(id(value) not in around and self._not_frames(value) for value in joined):
                    return True
        return False

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Multiply):
            return
        for listed, count in ((node.left, node.right), (node.right, node.left)):
            if isinstance(listed, cst.List) and au.is_subtraction(count) and self._frame_shortfall(count):
                for element in listed.elements:
                    if isinstance(element.value, cst.Call) and au.call_names(self, element.value) & _ZEROS:
                        self.report(node)
                        return


def _subtractions(node: cst.CSTNode) -> list[cst.BinaryOperation]:
    return au.find_all(node, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Subtract))
