"""Name heuristics of the static rules: what an identifier says a value is (a frame count, frame
indices, frame data, a spatial extent), and the word lists they read.

A rule first establishes meaning from the code (qualified names in `apis`, shapes in `syntax`);
where only the names can tell (is `n` a number of frames or a dataset size? is `idx` indexing
frames or tokens?), it asks here. Every vocabulary below is a guess that some real code defeats:
the rules that read it say so in their docstring's "Known problems" section, and a change to
a word list changes the findings of every rule listed beside it.

Who reads which vocabulary (`->` function, then the rules that call it, directly or through
`windows.window_bound` / `spatial_axis`):

    _COUNT_WORDS, _INDEX_WORDS      -> looks_like_frame_count  TK101 TK102 TK141; TK103 TK112 TK131 TK132
    _FRAME_TOTAL_WORDS              -> looks_like_frame_total  TK105 TK111 TK121
    _NOT_FRAME_WORDS                -> names_non_frames, looks_like_frame_total  TK105 TK111 TK121;
                                       divides_non_frames  TK121 TK151 TK152
    _INDEX_LIKE                     -> looks_like_indices      TK141 TK142
    _NOT_FRAME_DATA, _FRAME_DATA    -> names_non_frame_data    TK141 TK142 TK172
    _FRAME_WORDS                    -> mentions_frames         TK142 TK200; TK103 TK112 TK131 TK132
    _SPATIAL_ROW/_COLUMN/_ANY,
    _FRAME_LIST, _IMAGE_COUNT       -> spatial_axis            TK103 TK112 TK131 TK132

Rule-specific word lists stay in their rule's module (`random_offset_per_frame._SPATIAL`,
`zero_padding_short_clip._NOT_FRAMES`, the evaluation and seeding names of TK211/TK212, the clip
names of TK122). `apis.is_numpy_generator` also reads a name (`rng`, `generator`) for a receiver
it cannot resolve. Only libcst and `re` are imported.
"""

from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators.apis import ARANGE, LINSPACE, call_names
from temporalkit.validators.rule import Rule
from temporalkit.validators.syntax import (
    assigned_values,
    dotted,
    find_all,
    int_value,
    is_call_to,
    is_name,
    last_identifier,
    names_in,
    operand_names,
    positional_args,
)

# -- vocabulary -----------------------------------------------------------------------------

# A count of items, read on the last identifier (`self.num_frames` -> `num_frames`). Case-insensitive
# substrings `num`, `count`, `total`, `length`, `frames`, `size`, `duration`; `len*`, `*_len`, `n_*`, `*_n`;
# exactly `n` or `t`. (`nframes` is already matched by `frames`.) With `_INDEX_WORDS`: a name that also
# reads like a last index (contains `last`, `idx`, `index`, `end`, `stop`, `max`, `high`, or ends in `hi`:
# `max_len`, `end_length`, `last_frames`) is not a count.
# Read by `looks_like_frame_count`: TK101, TK102, TK141; TK103, TK112, TK131, TK132 (bounds read
# through a name in `windows.window_bound`, and `spatial_axis`).
_COUNT_WORDS = re.compile(r"(^n$|^t$|num|count|total|length|^len|_len$|frames|^n_|_n$|size|duration|nframes)", re.I)
_INDEX_WORDS = re.compile(r"(last|idx|index|end|stop|max|hi$|high)", re.I)


# The number of frames of a video, read on every identifier of the expression (`_name_parts`: names,
# attribute tails, string subscript keys such as `results['total_frames']`). Case-insensitive substrings
# `frame`, `duration`, `length`, `total`, `seg`, `video_size`/`videosize`; `*_len`, `len_*`; exactly
# `n`, `nf`, `t`, `vr` (a decord VideoReader), `vlen`, `num`.
# Read by `looks_like_frame_total`: TK105, TK111, TK121.
_FRAME_TOTAL_WORDS = re.compile(
    r"(frame|^n$|^nf$|^t$|duration|length|_len$|^len_|total|seg|^vr$|video_?size|^vlen$|^num$)", re.I
)


# Not a frame count, and it wins over `_FRAME_TOTAL_WORDS` (`num_frames_per_batch` is no frame total).
# Case-insensitive substrings: sizes of batches, worlds, GPUs, threads, workers, processes, replicas,
# ranks, datasets, samplers (`batch`, `world`, `gpu`, `thread`, `worker`, `proc`, `replica`, `rank`,
# `dataset`, `sampler`); how work is shared out (`task`, `chunk`, `shard`, `partition`;
# `part`/`parts`, `split`/`splits`, `job`/`jobs`, `devices` as whole words between underscores:
# `num_tasks`, `n_chunks`, `k_partitions`, `num_parts`, `n_jobs`, `len(devices)`: not `device`,
# which `.to(device)` puts inside frame expressions); text (`quer`, `caption`, `text` but not `context`,
# `sentence`, `word`, `token`); image and model axes (`patch`, `embed`, `channel`, `head`, `layer`,
# `hidden`, `box`, `crop`, `scale`, `height`, `width`, `pixel`); other collections (`videos`, `vids`,
# `infos`, `anno`, `anns`, `class`, `label`, `epoch`, `iter`, `mask`, `audio`, `spec`); diffusion steps
# (`timestep`, `ddim`, `ddpm`); `mel*`;
# `*_size` except `*video_size`; exactly `h`, `w`, `img_h`/`imgh`/`img_w`/`imgw`, `samples`,
# `num_samples`.
# Read by `names_non_frames` and `looks_like_frame_total`: TK105, TK111, TK121, and through
# `divides_non_frames`: TK121, TK151, TK152 (so a frame count called `num_samples` or `clip_size` is
# missed, and so are frames split into `num_chunks` or `num_parts`).
_NOT_FRAME_WORDS = re.compile(
    r"(batch|world|gpu|thread|worker|proc|replica|rank|dataset|sampler|task|chunk|shard|partition|"
    r"(^|_)(parts?|splits?|jobs?|devices)(_|$)|quer|caption|(?<!con)text|sentence|word|token|"
    r"patch|embed|channel|head|layer|hidden|box|crop|scale|height|width|^h$|^w$|^img_?[hw]$|(?<!video)_size$|pixel|"
    r"videos|vids|infos|anno|anns|class|label|epoch|iter|mask|audio|spec|^mel|^(num_)?samples$|timestep|ddim|ddpm)",
    re.I,
)


# An expression of frame indices, read on the last identifier. Case-insensitive substrings `idx`,
# `indices`, `index`, `frame`, `offset`, `start`, `positions`.
# Read by `looks_like_indices`: TK141, TK142.
_INDEX_LIKE = re.compile(r"(idx|indices|index|frame|offset|start|positions)", re.I)


# Indexed or sampled like frames, but not frames, read on every part of every dotted name (`self`
# dropped) and on identifier-like strings (`results["mask"]`). Case-insensitive substrings `mask`, `token`, `patch`,
# `box`, `caption`, `sentence`, `text` (not `context`), `word`, `label`, `class`, `query`/`queries`, `anchor`,
# `proposal`, `embed`, `pos_`, `sinusoid`, `keypoint`, `joint`; `*_pos`; `*_id`/`*_ids`; exactly `pos`,
# `id`, `ids`. With `_FRAME_DATA`: a part that mentions frames (substrings `frame`, `segment`; exactly
# `clip(s)`, `video(s)`, `vid(s)`, `img(s)`, `image(s)`) makes the whole expression frame data
# (`frame_ids`, `frame_mask_idx`).
# Read by `names_non_frame_data`: TK141, TK142, TK172.
_NOT_FRAME_DATA = re.compile(
    r"(mask|token|patch|box|caption|sentence|(?<!con)text|word|label|class|query|queries|anchor|proposal"
    r"|embed|posemb|(^|_)embs?(_|$)|pos_|_pos$|^pos$|sinusoid|keypoint|joint|^ids?$|_ids?$)",
    re.I,
)
_FRAME_DATA = re.compile(r"(frame|segment|^(clips?|videos?|vids?|imgs?|images?)$)", re.I)


# About frames or the clip length, read on every part of every dotted name. Case-insensitive substrings
# `frame`, `video`, `clip`, `length`, `segment`, `num_`; `vid*`, `*vid`, `*_len`; exactly `t` or `n`.
# Read by `mentions_frames`: TK142, TK200; and by `spatial_axis` (a count about frames is no image
# side): TK103, TK112, TK131, TK132.
_FRAME_WORDS = re.compile(r"(frame|video|clip|vid$|^vid|^t$|^n$|num_|_len$|length|segment)", re.I)


# Spatial extents, for `spatial_axis` to tell an offset range in the image plane (`height - crop`)
# from a window of frames. Row: substring `height`, `*_h`, `h_*`, exactly `h`, `ih`, `img_h`/`imgh`,
# `im_h`/`imh`, `image_h`/`imageh` (and likewise `w`/`width` for a column), read on the last part of
# the count's names. Any image-plane size: substrings `crop`, `patch`, `box`, `pixel`; `img*`, `image*`,
# `im_*`; exactly `size`, read on the last part of the count's names, then of the length's.
# Read by `spatial_axis`: TK103, TK112, TK131, TK132 (and by `windows.window_bound` for bounds read
# through a name).
_SPATIAL_ROW = re.compile(r"(^h$|height|^img_?h$|^im_?h$|^image_?h$|_h$|^h_|^ih$)", re.I)
_SPATIAL_COLUMN = re.compile(r"(^w$|width|^img_?w$|^im_?w$|^image_?w$|_w$|^w_|^iw$)", re.I)
_SPATIAL_ANY = re.compile(r"(crop|patch|box|pixel|^size$|^img|^image|^im_)", re.I)
# Counts of frames or images that `_SPATIAL_ANY` would read as image sizes, so `spatial_axis` reads them
# as frames first: the argument of `len(...)` whose last part contains `frame`/`segment` or is a plural
# `clips`, `videos`, `vids`, `imgs`, `images`, `paths`, `files` (`len(imgs)`: a list of frames, where
# `len(img)` of one array would be its rows), and a count name of images (`num_imgs`, `n_images`,
# `img_num`, `image_count`).
_FRAME_LIST = re.compile(r"(frame|segment|^(clips|videos|vids|imgs|images|paths|files)$)", re.I)
_IMAGE_COUNT = re.compile(r"(^(num|n|nb|total)_?(imgs?|images?)$|^(imgs?|images?)_?(num|nums|count|cnt|total)$)", re.I)


# -- what a value is, by its names ----------------------------------------------------------


def looks_like_frame_count(node: cst.CSTNode) -> bool:
    """`len(frames)`, `num_frames`, `n`, `self.total_frames`: an expression that counts items.

    Names that read like a last index (`last`, `end_idx`, `max_index`) are not counts.
    """
    if is_call_to(node, "len"):
        return True
    ident = last_identifier(node)
    if ident is None:
        return False
    return bool(_COUNT_WORDS.search(ident)) and not _INDEX_WORDS.search(ident)


def _name_parts(node: cst.CSTNode) -> list[str]:
    """Identifiers an expression is about: names, attribute tails and string subscript keys
    (`results['total_frames']`); for a shape or size, the array it is read from (`mask.shape[1]`)."""
    parts = []
    for name in operand_names(node):
        pieces = name.split(".")
        parts.append(pieces[-1])
        if len(pieces) > 1 and pieces[-1] in ("shape", "size"):
            parts.append(pieces[-2])
    for sub in find_all(node, cst.Subscript):
        for element in sub.slice:
            if isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.SimpleString):
                parts.append(element.slice.value.evaluated_value)
    return parts


def names_non_frames(node: cst.CSTNode) -> bool:
    """`node` mentions batches, workers, dataset sizes, boxes, crops, tokens...: not a frame count."""
    return any(_NOT_FRAME_WORDS.search(part) for part in _name_parts(node))


def divides_non_frames(division: cst.BinaryOperation) -> bool:
    """`len(files) // num_tasks`, `len(seqlens) // k_partitions`, `len(hidden_states) // 4`: a division whose
    numerator or divisor names something other than frames (`_NOT_FRAME_WORDS`), so the step it gives
    shares out work or walks layers, tokens, batches; it does not sample a clip.

    The strided rules (TK121, TK151, TK152) ask this of the `n // T` / `n / T` behind a step;
    TK111 and TK121's segment offsets ask the stricter `looks_like_frame_total` of the numerator.
    """
    return names_non_frames(division.left) or names_non_frames(division.right)


def looks_like_frame_total(rule: Rule, node: cst.CSTNode, depth: int = 0) -> bool:
    """`node` counts the frames of a video: `len(frames)`, `num_frames`, `video.shape[0]`, `n - L + 1`.

    A name heuristic, read through one or two plain assignments (`nf = len(frames)`): literals,
    dataset/batch/world sizes, image sizes, boxes, tokens and the like are not frame totals.
    """
    if depth > 2 or int_value(node) is not None or isinstance(node, (cst.Float, cst.SimpleString)):
        return False
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, (cst.Add, cst.Subtract)):
            return looks_like_frame_total(rule, node.left, depth)
        return False
    if names_non_frames(node):
        return False
    if isinstance(node, cst.Call):
        args = positional_args(node)
        if is_name(node.func, "len"):
            return bool(args) and not is_name(args[0], "self")
        if is_name(node.func, "int", "round") or dotted(node.func) in ("math.floor", "np.floor"):
            return bool(args) and looks_like_frame_total(rule, args[0], depth)
    if any(_FRAME_TOTAL_WORDS.search(part) for part in _name_parts(node)):
        return True
    if isinstance(node, cst.Subscript) and dotted(node.value) is not None and dotted(node.value).endswith(".shape"):  # type: ignore[union-attr]
        return True  # video.shape[0]
    if isinstance(node, cst.Name):
        return any(looks_like_frame_total(rule, value, depth + 1) for value in assigned_values(rule, node))
    return False


def looks_like_indices(rule: Rule, node: cst.CSTNode) -> bool:
    """An expression of frame indices: a name like `indices`/`frame_ids`, a sampler call, a comprehension."""
    if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return True
    if isinstance(node, cst.Call):
        names = call_names(rule, node)
        if names & (LINSPACE | ARANGE) or "range" in names:
            return True
        if isinstance(node.func, cst.Attribute) and looks_like_indices(rule, node.func.value):
            return True
        return any(looks_like_indices(rule, a.value) for a in node.args[:1])
    ident = last_identifier(node)
    return ident is not None and bool(_INDEX_LIKE.search(ident))


def names_non_frame_data(node: cst.CSTNode) -> bool:
    """`node` names masks, tokens, patches, boxes, captions, labels, embeddings or ids, and no frames.

    `mask_t_ind`, `self.pos_embed`, `token_ids`, `video_ids`, `gt_boxes` are such data;
    `frame_ids`, `frame_mask_idx` mention frames and are not.
    """
    parts = [part for name in names_in(node) for part in name.split(".") if part != "self"]
    for key in find_all(node, cst.SimpleString):  # results["mask"], state["pos_embed"]
        value = key.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            parts.append(value)
    if any(_FRAME_DATA.search(part) for part in parts):
        return False
    return any(_NOT_FRAME_DATA.search(part) for part in parts)


def mentions_frames(node: cst.CSTNode) -> bool:
    """An expression about frames or clip length: `len(frames)`, `video.shape[0]`, `num_frames`, `T - n`."""
    for name in names_in(node):
        if any(_FRAME_WORDS.search(part) for part in name.split(".")):
            return True
    return False


def _counts_frames_or_images(count: cst.CSTNode) -> bool:
    """`len(imgs)`, `len(self.frame_paths)`, `num_imgs`: `count` counts frames or images (`_FRAME_LIST`, `_IMAGE_COUNT`)."""
    for call in find_all(count, cst.Call, lambda c: is_call_to(c, "len")):
        args = positional_args(call)
        if (
            args
            and isinstance(args[0], (cst.Name, cst.Attribute))
            and _FRAME_LIST.search(last_identifier(args[0]) or "")
        ):
            return True
    return any(_IMAGE_COUNT.search(name.split(".")[-1]) for name in names_in(count))


def spatial_axis(count: cst.CSTNode, length: cst.CSTNode) -> str | None:
    """ "row", "column" or "row/column" when `count - length` is a spatial offset range (height - size), else None."""
    for axis, pattern in (("row", _SPATIAL_ROW), ("column", _SPATIAL_COLUMN)):
        if any(pattern.search(part) for name in names_in(count) for part in name.split(".")[-1:]):
            return axis
    if _counts_frames_or_images(count):
        return None  # len(imgs) - clip_len, num_images - T: a window of frames, not an offset in the image
    if any(_SPATIAL_ANY.search(name.split(".")[-1]) for name in names_in(count)):
        return "row/column"  # img_size - crop, image_side - s
    if mentions_frames(count) or looks_like_frame_count(count):
        return None  # num_frames - size, total - size: `size` is a clip length here
    if any(_SPATIAL_ANY.search(name.split(".")[-1]) for name in names_in(length)):
        return "row/column"
    return None
