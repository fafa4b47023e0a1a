"""Check an assistant's architecture recommendation before anyone acts on it.

`validate_answer(spec, text_or_answer)` returns `Finding`s (source "picker"): the reply must
hold one JSON object (bare, in a Markdown code fence, or inside prose) matching `Answer`; the
model must exist in the cost table and accept the chosen frames and size; its measured cost must
fit the budget and match the assistant's own estimate within 25 %; and the choice must make sense
for the task (no frame-averaging model for a motion-defined label, no transformer from scratch on
a few thousand clips, a sampling strategy that suits the family).

Imports pydantic and, on first cost lookup, torch: keep it off the static audit path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import ValidationError

from temporalkit.picker.schema import (
    Answer,
    TaskSpec,
    describe_validation_error,
    short_repr,
)
from temporalkit.validators.findings import Finding

# Assistants invent GMACs; a figure further than this from the measured one is wrong, not rounded.
ESTIMATE_TOLERANCE = 0.25
# Below this many labelled clips a transformer trained from scratch, without self-supervision on the
# same videos, does not converge to anything useful. (At Kinetics scale it does: MViT trains from
# scratch on K400's 240k clips; on small data VideoMAE self-supervises on the target videos first.)
FEW_CLIPS = 10_000

# The picker's own finding categories (Finding accepts any category when source == "picker").
PICKER_CATEGORIES: dict[str, str] = {
    "answer-format": "the reply holds no parseable JSON object",
    "answer-schema": "the JSON does not match the answer schema",
    "unknown-model": "the model id is not in the cost table",
    "family-mismatch": "the family named does not match the model's family",
    "unsupported-input": "the model cannot run at the frames or size chosen",
    "spec-mismatch": "the answer ignores frames or size fixed by the spec",
    "over-budget": "the measured cost per clip exceeds the budget",
    "invented-cost": "estimated_gmacs is more than 25% away from the measured cost",
    "motion-blind": "a model that cannot see motion for a label defined by motion",
    "data-hungry": "a transformer trained from scratch on a few thousand clips",
    "sampling-mismatch": "a sampling strategy that does not suit the family or test_clips",
    "pretraining": "weights the user cannot use or the model does not have",
    "over-latency": "the latency per decision exceeds the target, or cannot be checked",
    "test-time-random": "test clips placed at random: predictions change from run to run",
    "infeasible-claim": "the answer says nothing fits, but a candidate does (or its alternatives are missing)",
    "text-backbone": "a video+text task without an image-text (CLIP-style) backbone",
}

# Rule ids: one per check, stable so that users can grep and suppress them.
RULE_PARSE = "TKP100"
RULE_SCHEMA = "TKP101"
RULE_UNKNOWN_MODEL = "TKP102"
RULE_FAMILY = "TKP103"
RULE_UNSUPPORTED = "TKP104"
RULE_SPEC_MISMATCH = "TKP105"
RULE_BUDGET = "TKP106"
RULE_ESTIMATE = "TKP107"
RULE_MOTION_BLIND = "TKP108"
RULE_FROM_SCRATCH = "TKP109"
RULE_SAMPLING = "TKP110"
RULE_PRETRAINING = "TKP111"
RULE_LATENCY = "TKP112"
RULE_TEST_TIME = "TKP113"
RULE_INFEASIBLE = "TKP114"
RULE_TEXT = "TKP115"

# Where a JSON object can start: "{" then a key or "}" (prose braces such as "{x" are never tried).
_OBJECT_START = re.compile(r'\{(?=\s*["}])')
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ExtractedJSON:
    data: object
    line: int  # 1-based line in the reply where the JSON starts


class ReplyTooDeep(ValueError):
    """The reply's JSON nests deeper than Python's JSON parser can follow (it raises RecursionError)."""


class ReplyTooLarge(ValueError):
    """Looking for a JSON object in the reply's prose ran past its (linear) work budget."""


# The prose scan may read this many characters per character of reply (plus the slack) in all.
PROSE_SCAN_FACTOR = 16
PROSE_SCAN_SLACK = 1_000_000
# Tries that hit the JSON parser's recursion limit each read ~1000 levels; a few are enough to know.
MAX_DEEP_TRIES = 16
TOO_DEEP = "the reply's JSON nests too deeply to parse (Python's JSON parser stops near 1000 levels; an answer needs 2)"


class _LineCounter:
    """1-based line of an offset, for offsets asked in increasing order: linear over the whole text."""

    def __init__(self, text: str):
        self.text, self.offset, self.line = text, 0, 1

    def line_at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


class _NoObject(ValueError):
    def __init__(self, cost: int):
        self.cost = cost


# A try decodes a window of the reply first and widens it only when the window's end may be the
# cause of the failure: json's error object counts the lines up to the error position, so decoding
# the whole reply from every "{" costs O(position) per try even when it fails at the first character.
FIRST_WINDOW = 64
# Lookahead the decoder may need past an error's position ("-Infinity", a \\uXXXX escape).
WINDOW_MARGIN = 16


def _decode_at(decoder: json.JSONDecoder, text: str, start: int) -> tuple[object, int]:
    """(value decoded at `start`, characters read); raises `_NoObject(characters read)`."""
    window, cost = FIRST_WINDOW, 0
    while True:
        chunk = text[start : start + window]
        truncated = start + window < len(text)
        try:
            data, end = decoder.raw_decode(chunk)
        except json.JSONDecodeError as exc:
            if truncated and (exc.pos >= len(chunk) - WINDOW_MARGIN or exc.msg.startswith("Unterminated")):
                cost += window
                window *= 4
                continue
            raise _NoObject(cost + exc.pos + 1) from None
        except ValueError:  # not JSONDecodeError: an integer of more than 4,300 digits (int's str limit)
            raise _NoObject(cost + len(chunk)) from None
        return data, cost + end


def extract_json(text: str) -> ExtractedJSON | None:
    """The reply's JSON object: the whole text, else a fenced block, else the first object in prose.

    Raises `ReplyTooDeep` when nothing parseable was found and some candidate nested too deeply
    for the parser (a reply of 100,000 `[` is a RecursionError inside `json`, not a traceback here).
    """
    too_deep = False
    try:
        leading = text[: len(text) - len(text.lstrip())]
        return ExtractedJSON(json.loads(text), leading.count("\n") + 1)
    except ValueError:
        pass
    except RecursionError:
        too_deep = True
    lines = _LineCounter(text)
    for match in _FENCE.finditer(text):
        try:
            return ExtractedJSON(json.loads(match.group(1)), lines.line_at(match.start(1)))
        except ValueError:
            continue
        except RecursionError:
            too_deep = True
    # Prose: try a JSON object from every "{". Each try costs the characters the decoder reads, so
    # the whole scan gets a budget linear in the reply; a reply built to make every try read far
    # (thousands of unclosed objects) stops at the budget instead of taking quadratic time.
    decoder = json.JSONDecoder()
    first_object = None
    budget = PROSE_SCAN_FACTOR * len(text) + PROSE_SCAN_SLACK
    deep_tries = 0
    for match in _OBJECT_START.finditer(text):
        start = match.start()
        if budget <= 0 or deep_tries >= MAX_DEEP_TRIES:
            if first_object is None and deep_tries >= MAX_DEEP_TRIES:
                raise ReplyTooDeep(TOO_DEEP)
            if first_object is None:
                raise ReplyTooLarge(
                    f"gave up looking for a JSON object in the reply's prose after line {lines.line_at(start)} "
                    f"(a {len(text):,}-character reply built of unclosed or deeply nested objects)"
                )
            break
        try:
            data, cost = _decode_at(decoder, text, start)
        except _NoObject as miss:
            budget -= miss.cost
            continue
        except RecursionError:
            too_deep = True
            deep_tries += 1
            continue
        budget -= cost
        if not isinstance(data, dict):
            continue
        found = ExtractedJSON(data, lines.line_at(start))
        # Prose may quote a small object ({"T": 16}) before the answer: prefer one with answer keys.
        if {"family", "model"} & set(data):
            return found
        first_object = first_object or found
    if first_object is None and too_deep:
        raise ReplyTooDeep(TOO_DEEP)
    return first_object


def _finding(rule: str, category: str, severity: str, message: str, fix: str, path: str, line: int, **extra) -> Finding:
    return Finding(
        rule=rule,
        category=category,
        severity=severity,
        path=path,
        line=line,
        column=0,
        message=message,
        fix=fix,
        source="picker",
        extra=extra,
    )


def _not_an_answer(message: str, fix: str, path: str, line: int) -> tuple[None, list[Finding], int]:
    """parse_answer's result for a reply that holds no usable JSON object: one answer-format error."""
    return None, [_finding(RULE_PARSE, "answer-format", "error", message, fix, path, line)], line


def parse_answer(text: str, path: str = "<answer>") -> tuple[Answer | None, list[Finding], int]:
    """(answer or None, parse/schema findings, line where the JSON starts)."""
    try:
        extracted = extract_json(text)
    except (ReplyTooDeep, ReplyTooLarge) as exc:
        return _not_an_answer(str(exc), "reply with one flat JSON object matching the answer schema", path, 1)
    if extracted is None:
        return _not_an_answer(
            "no JSON object found in the reply (looked at the whole text, Markdown code fences and prose)",
            "reply with one JSON object matching the answer schema and nothing else",
            path,
            1,
        )
    if not isinstance(extracted.data, dict):
        return _not_an_answer(
            f"the reply's JSON is a {type(extracted.data).__name__}, not an object",
            "reply with one JSON object matching the answer schema",
            path,
            extracted.line,
        )
    try:
        return Answer.model_validate(extracted.data), [], extracted.line
    except ValidationError as exc:
        findings = [
            _finding(
                RULE_SCHEMA,
                "answer-schema",
                "error",
                f"answer field {problem}",
                "follow the answer JSON schema exactly (field names, types, allowed values)",
                path,
                extracted.line,
            )
            for problem in describe_validation_error(exc)
        ]
        return None, findings, extracted.line


def allowed_sampling(family: str) -> tuple[str, ...]:
    """Training-time sampling that suits a family (any spelling `Family.parse` accepts).

    Uniform segments (TSN) suit every family on trimmed clips: it is SSv2 practice for TSM, MViT,
    Video Swin and VideoMAE alike. Per-frame families (2D+pool, temporal shift) only take uniform
    segments (consecutive frames waste their T on near-duplicates); the others also train on dense
    windows, tested with several clips (`multi_clip`) on longer videos.
    """
    from temporalkit.reference_models.families import Family

    which = Family.parse(family)
    if which in (Family.POOL_2D, Family.TEMPORAL_SHIFT):
        return ("uniform",)
    return ("uniform", "dense", "multi_clip")


def suggest_models(name: str, known: list[str]) -> str:
    """`did you mean 'x3d_s'?` for a near miss, else the list of known ids."""
    import difflib

    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}? (known: {', '.join(known)})"
    return f"choose one of: {', '.join(known)}"


def decision_gmacs(answer: Answer, per_clip: float) -> tuple[float, float]:
    """(GMACs per decision, of which the temporal model's): clips x crops x per clip (+ the head)."""
    from temporalkit.picker.search import head_gmacs

    head = head_gmacs(answer.test_clips) if answer.aggregation == "temporal_model" else 0.0
    return per_clip * answer.test_clips * answer.test_crops + head, head


def validate_answer(
    spec: TaskSpec,
    text_or_answer: str | Answer,
    *,
    path: str = "<answer>",
    measure_latency: bool = False,
) -> list[Finding]:
    """Every problem with an answer to `spec`, as picker `Finding`s (errors and warnings).

    The spec is read as the recommender reads it (its free text's obvious cues applied). Latency is
    checked whenever the spec sets a target: from `spec.device_profile`, else timed here on
    `spec.device` when `measure_latency` (host timing, not the deployment device's), else a warning.
    """
    from temporalkit.picker import catalogue as cat
    from temporalkit.picker.search import read_task_text

    if isinstance(text_or_answer, Answer):
        answer, line = text_or_answer, 1
    else:
        answer, findings, line = parse_answer(text_or_answer, path)
        if answer is None:
            return findings
    spec, _ = read_task_text(spec)
    infeasible = answer.verdict == "infeasible"

    findings: list[Finding] = []

    def report(rule, category, severity, message, fix, **extra):
        findings.append(_finding(rule, category, severity, message, fix, path, line, **extra))

    rows = cat.catalogue()
    row = rows.get(answer.model)
    if row is None:
        report(
            RULE_UNKNOWN_MODEL,
            "unknown-model",
            "error",
            f"model {short_repr(answer.model)} is not in the cost table",
            suggest_models(str(answer.model), list(rows)),
        )
        return findings

    family = row.family.answer_name
    if answer.family != family:
        report(
            RULE_FAMILY,
            "family-mismatch",
            "error",
            f"family {answer.family!r} does not match {answer.model}, which is {family!r}",
            f"set family to {family!r} or choose a {answer.family} model",
        )

    for name in ("frames", "size"):
        fixed = getattr(spec, name)
        if fixed is not None and getattr(answer, name) != fixed:
            report(
                RULE_SPEC_MISMATCH,
                "spec-mismatch",
                "error",
                f"the spec fixes {name}={fixed} but the answer uses {name}={getattr(answer, name)}",
                f"answer with {name}={fixed}",
            )

    per_clip = _per_clip_cost(answer, row, report)
    if per_clip is not None:
        _check_cost(spec, answer, per_clip, report, infeasible)
        _check_latency(spec, answer, per_clip, report, infeasible, measure_latency)

    if spec.motion == "motion" and not row.temporal_mixing:
        report(
            RULE_MOTION_BLIND,
            "motion-blind",
            "error",
            f"{answer.model} never mixes information across frames before pooling, but this task's label "
            "is defined by motion: it cannot tell 'left to right' from 'right to left'",
            "choose a model that models time: temporal shift, 3D or (2+1)D convolutions, or a transformer "
            "with temporal attention",
        )
    if row.family.value == "transformer" and answer.pretraining == "none" and spec.train_clips < FEW_CLIPS:
        report(
            RULE_FROM_SCRATCH,
            "data-hungry",
            "error",
            f"a transformer trained from scratch on {spec.train_clips:,} clips: transformers lack the locality "
            "prior of convolutions and overfit this little data (MViT trains from scratch on Kinetics' 240k clips; "
            "VideoMAE self-supervises on the target videos first)",
            "start from pretrained or self_supervised weights, or choose a convolutional family",
        )
    if answer.test_time == "random":
        report(
            RULE_TEST_TIME,
            "test-time-random",
            "error",
            "test clips are placed at random: the same video gets different predictions on every run and "
            "the reported accuracy is not reproducible",
            "set test_time to 'deterministic' (centre clip, or clips evenly spaced over the video)",
        )
    if spec.text and not row.image_text:
        image_text = [m for m, r in rows.items() if r.image_text]
        if image_text:
            report(
                RULE_TEXT,
                "text-backbone",
                "warning",
                f"a video+text task with {answer.model}, which has no text tower: CLIP-style image-text weights "
                "start retrieval from an aligned embedding (CLIP4Clip)",
                f"consider {', '.join(image_text)} with image_text pretraining",
            )

    _check_sampling(spec, answer, row.family.value, report)
    _check_pretraining(spec, answer, row, report)
    if infeasible:
        _check_infeasible(spec, answer, report)
    return findings


def _per_clip_cost(answer: Answer, row, report) -> float | None:
    from temporalkit.picker import catalogue as cat
    from temporalkit.picker import costs

    if cat.is_published_only(row):
        if (answer.frames, answer.size) != row.native:
            report(
                RULE_UNSUPPORTED,
                "unsupported-input",
                "error",
                f"{answer.model} is published-only: its cost is known at {row.native[0]} frames x {row.native[1]} px only",
                f"answer with frames={row.native[0]} and size={row.native[1]}, or choose a measured model",
            )
            return None
        return row.published_gmacs
    reason = costs.unsupported_reason(answer.model, answer.frames, answer.size)
    if reason:
        report(
            RULE_UNSUPPORTED,
            "unsupported-input",
            "error",
            f"{answer.model} cannot run at {answer.frames} frames x {answer.size} px: {reason}",
            "choose frames and size the model supports, or another model",
        )
        return None
    try:
        cost = costs.measured_cost(answer.model, answer.frames, answer.size)
    except Exception as exc:  # noqa: BLE001 - MissingExtra (core install, clip off the shipped grid)
        report(
            RULE_UNSUPPORTED,
            "unsupported-input",
            "error",
            f"cannot measure {answer.model} at {answer.frames} frames x {answer.size} px here: {exc}",
            "install the models extra, or choose a clip in the shipped cost table",
        )
        return None
    if cost.error or cost.gmacs is None:
        report(
            RULE_UNSUPPORTED,
            "unsupported-input",
            "error",
            f"measuring {answer.model} at {answer.frames} frames x {answer.size} px failed: {cost.error}",
            "choose frames and size the model supports, or another model",
        )
        return None
    return cost.gmacs


def _check_cost(spec: TaskSpec, answer: Answer, per_clip: float, report, infeasible: bool) -> None:
    total, head = decision_gmacs(answer, per_clip)
    if spec.budget_gmacs is not None and total > spec.budget_gmacs and not infeasible:
        views = f"{answer.test_clips} clip(s) x {answer.test_crops} crop(s) x {per_clip:.2f}"
        report(
            RULE_BUDGET,
            "over-budget",
            "error",
            f"{answer.model} at {answer.frames}x{answer.size} costs {total:.2f} GMACs per decision "
            f"({views}{f' + {head:.2f} for the temporal model' if head else ''}; measured), over the budget of "
            f"{spec.budget_gmacs:g}",
            "choose a cheaper model, fewer frames, a smaller size or fewer test clips",
            measured_gmacs=per_clip,
            decision_gmacs=total,
        )
    if per_clip > 0:
        relative_error = abs(answer.estimated_gmacs - per_clip) / per_clip
    else:
        relative_error = 0.0 if answer.estimated_gmacs == 0 else float("inf")
    if relative_error > ESTIMATE_TOLERANCE:
        report(
            RULE_ESTIMATE,
            "invented-cost",
            "error",
            f"estimated_gmacs={answer.estimated_gmacs:g} but {answer.model} at {answer.frames}x{answer.size} "
            f"measures {per_clip:.2f} GMACs per clip ({relative_error:.0%} off; allowed {ESTIMATE_TOLERANCE:.0%})",
            f"use the measured figure from the cost table: {per_clip:.2f}",
            measured_gmacs=per_clip,
        )


def _check_latency(spec: TaskSpec, answer: Answer, per_clip: float, report, infeasible: bool, measure: bool) -> None:
    if spec.latency_ms is None:
        return
    views = answer.test_clips * answer.test_crops
    if spec.device_profile is not None:
        clip_ms, how = spec.device_profile.latency_ms(answer.model, answer.frames, answer.size, per_clip)
    elif spec.device and measure:
        from temporalkit.picker import costs

        timed = costs.measured_cost(answer.model, answer.frames, answer.size, spec.device, True)
        clip_ms = timed.latency_ms
        how = f"timed on this host's {timed.latency_device}; host timing is not the deployment device's latency"
    else:
        clip_ms, how = None, "no device_profile" + (" and --measure-latency not given" if spec.device else "")
    if clip_ms is None:
        report(
            RULE_LATENCY,
            "over-latency",
            "warning",
            f"the spec sets a {spec.latency_ms:g} ms target but the latency of {answer.model} cannot be checked "
            f"({how})",
            "give a device_profile measured on the deployment device (per-clip ms or GMACs/s); a host's "
            "single-thread timing is not device latency",
        )
        return
    total = clip_ms * views
    if total > spec.latency_ms and not infeasible:
        report(
            RULE_LATENCY,
            "over-latency",
            "error",
            f"{answer.model} at {answer.frames}x{answer.size} takes {total:.1f} ms per decision ({views} view(s); "
            f"{how}), over the target of {spec.latency_ms:g} ms",
            "choose a cheaper model, fewer frames, a smaller size or fewer test clips",
        )


def _check_sampling(spec: TaskSpec, answer: Answer, family: str, report) -> None:
    allowed = allowed_sampling(family)
    if answer.sampling not in allowed:
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            f"{answer.sampling} sampling does not suit the {family} family (use uniform): it sees frames one at a "
            "time, so consecutive frames waste its T on near-duplicates",
            "set sampling to 'uniform'",
        )
    long_videos = spec.long_range or (spec.video_seconds or 0) > 30
    if answer.sampling == "uniform" and long_videos and family in ("3d_conv", "2plus1d"):
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            "uniform sampling over a long video makes the gap between a 3D kernel's frames depend on the video's "
            "length (fine on trimmed clips such as SSv2's, not over minutes)",
            "use dense clips at a fixed stride (multi_clip with several test clips), or long-range mode",
        )
    if answer.sampling == "multi_clip" and answer.test_clips < 2:
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "error",
            "multi_clip sampling with test_clips=1 is a contradiction",
            "set test_clips to the number of clips averaged at test time (e.g. 5 or 10)",
        )
    if spec.long_range and answer.sampling == "dense" and answer.test_clips < 2:
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            f"the task needs context beyond ~10 s, but one dense clip of {answer.frames} frames covers only a "
            "second or two",
            "use multi_clip with several test clips, or long-range mode (clips per minute + a temporal model)",
        )
    if (
        spec.long_range
        and (spec.video_seconds or 0) >= 120
        and answer.aggregation == "average"
        and family not in ("2d_pool", "temporal_shift")
    ):
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            "averaging clip scores over a video of minutes ignores the order of events",
            "use aggregation 'temporal_model' with clips_per_minute over the whole video",
        )
    if answer.aggregation == "temporal_model" and answer.clips_per_minute is None:
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            "a temporal model over clip features without clips_per_minute: the cost per video is unknown",
            "set clips_per_minute and test_clips = clips per minute x the video's minutes",
        )


def _check_pretraining(spec: TaskSpec, answer: Answer, row, report) -> None:
    from temporalkit.picker.search import effective_pretraining

    allowed = effective_pretraining(spec)
    if answer.pretraining not in allowed:
        report(
            RULE_PRETRAINING,
            "pretraining",
            "error",
            f"the answer starts from {answer.pretraining} weights but the spec allows only {', '.join(sorted(allowed))}",
            "choose weights the spec allows and account for it in the choice",
        )
    if answer.pretraining not in row.pretraining:
        report(
            RULE_PRETRAINING,
            "pretraining",
            "warning",
            f"{answer.model} has no {answer.pretraining} weights to start from (usable: {', '.join(row.pretraining)})",
            f"set pretraining to one of {', '.join(row.pretraining)} or choose a model that has "
            f"{answer.pretraining} weights",
        )


def _check_infeasible(spec: TaskSpec, answer: Answer, report) -> None:
    """An 'infeasible' answer is checked against the search: if a candidate fits, say which."""
    from temporalkit.picker.search import search

    result = search(spec)
    if result.best is not None:
        best = result.best
        report(
            RULE_INFEASIBLE,
            "infeasible-claim",
            "error",
            f"the answer says nothing fits, but {best.model} at {best.frames}x{best.size} with {best.clips} clip(s) "
            f"costs {best.decision_gmacs:.2f} GMACs per decision and meets the spec",
            f"recommend {best.model} (or another model that fits) with verdict 'recommended'",
        )
