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
    PRETRAINING_STRENGTH,
    Answer,
    TaskSpec,
    describe_validation_error,
    short_repr,
)
from temporalkit.validators.findings import Finding

# Assistants invent GMACs; a figure further than this from the measured one is wrong, not rounded.
ESTIMATE_TOLERANCE = 0.25
# Below this many labelled clips a transformer without pretraining does not converge to anything
# useful (TimeSformer, ViViT and MViT all start from ImageNet or Kinetics weights).
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
    "over-latency": "the measured latency exceeds the target",
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
    """Sampling strategies that suit a family (answer vocabulary).

    2D+pool sees frames independently, so frames spread over the whole video (TSN's uniform
    segments) give it the most; 3D and (2+1)D convolutions learn motion from neighbouring
    frames, so they need dense consecutive frames (and several clips at test time for coverage).
    Transformers are trained either way (TimeSformer samples sparsely, MViT and Swin densely).
    """
    return {
        "2d_pool": ("uniform",),
        "i3d": ("dense", "multi_clip"),
        "r2plus1d": ("dense", "multi_clip"),
        "transformer": ("uniform", "dense", "multi_clip"),
    }[family]


def validate_answer(
    spec: TaskSpec,
    text_or_answer: str | Answer,
    *,
    path: str = "<answer>",
    measure_latency: bool = False,
) -> list[Finding]:
    """Every problem with an answer to `spec`, as picker `Finding`s (errors and warnings)."""
    from temporalkit.picker import costs

    if isinstance(text_or_answer, Answer):
        answer, line = text_or_answer, 1
    else:
        answer, findings, line = parse_answer(text_or_answer, path)
        if answer is None:
            return findings

    findings: list[Finding] = []

    def report(rule, category, severity, message, fix, **extra):
        findings.append(_finding(rule, category, severity, message, fix, path, line, **extra))

    entry = costs.model_entry(answer.model)
    if entry is None:
        report(
            RULE_UNKNOWN_MODEL,
            "unknown-model",
            "error",
            f"model {short_repr(answer.model)} is not in the cost table",
            f"choose one of: {', '.join(costs.model_ids())}",
        )
        return findings

    model_family = costs.answer_family(answer.model)
    if model_family != answer.family:
        report(
            RULE_FAMILY,
            "family-mismatch",
            "error",
            f"family {answer.family!r} does not match {answer.model}, which is {model_family!r}",
            f"set family to {model_family!r} or choose a {answer.family} model",
        )
    family = model_family or answer.family

    if spec.frames is not None and answer.frames != spec.frames:
        report(
            RULE_SPEC_MISMATCH,
            "spec-mismatch",
            "error",
            f"the spec fixes frames={spec.frames} but the answer uses frames={answer.frames}",
            f"answer with frames={spec.frames}",
        )
    if spec.size is not None and answer.size != spec.size:
        report(
            RULE_SPEC_MISMATCH,
            "spec-mismatch",
            "error",
            f"the spec fixes size={spec.size} but the answer uses size={answer.size}",
            f"answer with size={spec.size}",
        )

    reason = costs.unsupported_reason(answer.model, answer.frames, answer.size)
    if reason:
        report(
            RULE_UNSUPPORTED,
            "unsupported-input",
            "error",
            f"{answer.model} cannot run at {answer.frames} frames x {answer.size} px: {reason}",
            "choose frames and size the model supports, or another model",
        )
    else:
        cost = costs.measured_cost(answer.model, answer.frames, answer.size)
        if cost.error or cost.gmacs is None:
            report(
                RULE_UNSUPPORTED,
                "unsupported-input",
                "error",
                f"measuring {answer.model} at {answer.frames} frames x {answer.size} px failed: {cost.error}",
                "choose frames and size the model supports, or another model",
            )
        else:
            _check_cost(spec, answer, cost.gmacs, report)
            if measure_latency and spec.latency_ms is not None and spec.device:
                _check_latency(spec, answer, costs, report)

    if spec.motion == "motion" and answer.model in costs.NO_TEMPORAL_MIXING:
        report(
            RULE_MOTION_BLIND,
            "motion-blind",
            "error",
            f"{answer.model} never mixes information across frames before pooling, but this task's label "
            "is defined by motion: it cannot tell 'left to right' from 'right to left'",
            "choose a model that models time: i3d, r2plus1d, or a transformer with temporal attention",
        )
    if family == "transformer" and answer.pretraining == "none" and spec.train_clips < FEW_CLIPS:
        report(
            RULE_FROM_SCRATCH,
            "data-hungry",
            "warning",
            f"a transformer trained from scratch on {spec.train_clips} clips: video transformers are "
            "published only with ImageNet or Kinetics initialisation and overfit small datasets",
            "start from pretrained weights or choose a convolutional family (r2plus1d, i3d)",
        )

    _check_sampling(spec, answer, family, report)
    _check_pretraining(spec, answer, costs, report)
    return findings


def _check_cost(spec: TaskSpec, answer: Answer, measured_gmacs: float, report) -> None:
    if spec.budget_gmacs is not None and measured_gmacs > spec.budget_gmacs:
        report(
            RULE_BUDGET,
            "over-budget",
            "error",
            f"{answer.model} at {answer.frames}x{answer.size} costs {measured_gmacs:.1f} GMACs per clip "
            f"(measured), over the budget of {spec.budget_gmacs:g}",
            "choose a cheaper model, fewer frames or a smaller size",
            measured_gmacs=measured_gmacs,
        )
    if measured_gmacs > 0:
        relative_error = abs(answer.estimated_gmacs - measured_gmacs) / measured_gmacs
    else:
        relative_error = 0.0 if answer.estimated_gmacs == 0 else float("inf")
    if relative_error > ESTIMATE_TOLERANCE:
        report(
            RULE_ESTIMATE,
            "invented-cost",
            "error",
            f"estimated_gmacs={answer.estimated_gmacs:g} but {answer.model} at {answer.frames}x{answer.size} "
            f"measures {measured_gmacs:.2f} GMACs per clip ({relative_error:.0%} off; allowed {ESTIMATE_TOLERANCE:.0%})",
            f"use the measured figure from the cost table: {measured_gmacs:.2f}",
            measured_gmacs=measured_gmacs,
        )


def _check_latency(spec: TaskSpec, answer: Answer, costs, report) -> None:
    cost = costs.measured_cost(answer.model, answer.frames, answer.size, spec.device, True)
    if cost.latency_ms is not None and cost.latency_ms > spec.latency_ms:
        report(
            RULE_LATENCY,
            "over-latency",
            "error",
            f"{answer.model} at {answer.frames}x{answer.size} measured {cost.latency_ms:.1f} ms per clip on "
            f"{spec.device}, over the target of {spec.latency_ms:g} ms",
            "choose a cheaper model, fewer frames or a smaller size",
        )


def _check_sampling(spec: TaskSpec, answer: Answer, family: str, report) -> None:
    allowed = allowed_sampling(family)
    if answer.sampling not in allowed:
        report(
            RULE_SAMPLING,
            "sampling-mismatch",
            "warning",
            f"{answer.sampling} sampling does not suit the {family} family (use {' or '.join(allowed)}): "
            + (
                "a 2D+pool model sees frames one at a time, so consecutive frames waste its T on near-duplicates"
                if family == "2d_pool"
                else "3D and (2+1)D kernels learn motion from neighbouring frames; uniform sampling over a "
                "long video makes the gaps between frames vary with its length"
            ),
            f"set sampling to {allowed[0]!r}",
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
            "use multi_clip with several test clips, or uniform sampling over the whole video",
        )


def _check_pretraining(spec: TaskSpec, answer: Answer, costs, report) -> None:
    if PRETRAINING_STRENGTH[answer.pretraining] > PRETRAINING_STRENGTH[spec.pretraining]:
        report(
            RULE_PRETRAINING,
            "pretraining",
            "error",
            f"the answer starts from {answer.pretraining} weights but the spec allows at most {spec.pretraining}",
            f"set pretraining to {spec.pretraining!r} (or lower) and account for it in the choice",
        )
    usable = costs.usable_pretraining(answer.model)
    if answer.pretraining not in usable:
        report(
            RULE_PRETRAINING,
            "pretraining",
            "warning",
            f"{answer.model} has no {answer.pretraining} weights to start from (usable: {', '.join(usable)})",
            f"set pretraining to one of {', '.join(usable)} or choose a model that has {answer.pretraining} weights",
        )
