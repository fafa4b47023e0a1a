"""The deterministic recommender: the objective search (`search.py`) picks the model, clip and test
protocol; this module writes the answer, with its reasons and risks, and checks it with the
picker's own validator. When nothing fits, the answer says "infeasible" and lists the nearest
candidates with what each misses.
"""

from __future__ import annotations

import math

from temporalkit.picker import catalogue as cat
from temporalkit.picker.answer import FEW_CLIPS, validate_answer
from temporalkit.picker.schema import Alternative, Answer, TaskSpec
from temporalkit.picker.search import (
    Candidate,
    SearchResult,
    long_range_mode,
    search,
    video_minutes,
)
from temporalkit.reference_models.families import Family


class NoFeasibleModel(ValueError):
    """The catalogue has no candidate at all for the spec (not even an infeasible nearest one)."""


FAMILY_REASONS = {
    Family.POOL_2D: "a 2D network per frame, averaged (TSN-style): the label can be read from single frames",
    Family.TEMPORAL_SHIFT: "a 2D network whose blocks shift channels between neighbouring frames (TSM): "
    "temporal modelling at 2D cost",
    Family.CONV_3D: "3D convolutions learn local motion directly",
    Family.CONV_2PLUS1D: "(2+1)D convolutions model time with a spatial and a temporal convolution per block",
    Family.TRANSFORMER: "attention over space-time tokens: the most accurate family with enough data or pretraining",
}


def sampling_for(candidate: Candidate, spec: TaskSpec) -> str:
    """Uniform segments (TSN) for per-frame families and for every model on short trimmed clips of
    motion-defined labels (SSv2 practice: TSM, MViT, Video Swin and VideoMAE all sample segments);
    dense windows with several test clips for 3D/(2+1)D/transformers on longer videos."""
    if candidate.long_range:
        return "multi_clip"
    family = Family(candidate.family)
    if family in (Family.POOL_2D, Family.TEMPORAL_SHIFT) or spec.motion == "motion":
        return "uniform"
    return "multi_clip" if candidate.clips > 1 else "dense"


def _evidence_sentence(candidate: Candidate) -> str:
    evidence = candidate.evidence
    if evidence is None:
        return "No published figure for this model: ranked by cost only."
    sentence = (
        f"Evidence: {evidence.method} {evidence.value:g} {evidence.metric} on {evidence.benchmark} "
        f"({evidence.protocol}; from {evidence.pretraining}; {evidence.split}) - {evidence.source}."
    )
    adjustments = "; ".join(candidate.expected_notes)
    return sentence + (
        f" Expected ~{candidate.expected:.1f} on that scale at this clip and protocol"
        + (f" ({adjustments})." if adjustments else ".")
    )


def _cost_sentence(candidate: Candidate, spec: TaskSpec) -> str:
    how = "published, not measured" if candidate.published_only else "measured on the meta device"
    text = (
        f"{candidate.model} at {candidate.frames} frames x {candidate.size} px costs {candidate.gmacs_per_clip:.2f} "
        f"GMACs per clip ({how}); {candidate.clips} clip(s) x {candidate.crops} crop(s)"
    )
    if candidate.long_range:
        text += (
            f" ({candidate.clips_per_minute:g} per minute over a {video_minutes(spec):g}-minute video) plus "
            f"{candidate.head_gmacs:.2f} GMACs for the temporal model over clip features"
        )
    text += f" = {candidate.decision_gmacs:.2f} GMACs per decision"
    if spec.budget_gmacs is not None:
        text += f", within the {spec.budget_gmacs:g} GMACs budget"
    else:
        text += " (no budget given: the most accurate candidate wins, ties to the cheaper)"
    text += "."
    if spec.latency_ms is not None:
        if candidate.latency_ms is not None:
            text += (
                f" Latency {candidate.latency_ms:.1f} ms per decision ({candidate.latency_source}), "
                f"target {spec.latency_ms:g} ms."
            )
        else:
            text += (
                f" The {spec.latency_ms:g} ms target is not checked: give a device_profile measured on the "
                "deployment device (host timing is not device latency)."
            )
    return text


def _risks(spec: TaskSpec, candidate: Candidate) -> list[str]:
    risks = []
    row = cat.entry(candidate.model)
    family = Family(candidate.family)
    if row is not None and not row.temporal_mixing:
        risks.append(
            "Frame order is ignored: classes that differ only by motion (direction, reversal) will be confused; "
            "check the confusion matrix for such pairs."
        )
    if candidate.pretraining == "none":
        risks.append(
            f"Training from scratch on {spec.train_clips:,} clips: expect overfitting; use strong augmentation and "
            "early stopping on a held-out split."
        )
    elif candidate.pretraining == "self_supervised":
        risks.append(
            "Self-supervised pretraining on your own videos (VideoMAE: 800-2400 epochs of masked reconstruction) "
            "costs far more compute than fine-tuning; budget it before committing."
        )
    elif spec.train_clips < FEW_CLIPS:
        risks.append(
            f"Fine-tuning on only {spec.train_clips:,} clips: freeze the early layers first and watch the gap "
            "between training and validation accuracy."
        )
    if candidate.pretraining == "kinetics" and spec.motion == "motion":
        risks.append("Kinetics weights are appearance-biased; gains on a motion-defined label can be smaller.")
    if candidate.published_only:
        risks.append(
            f"{candidate.model} is published-only here: its cost is the paper's figure at its published clip, "
            "not measured by temporalkit."
        )
    if candidate.model.startswith("mvit"):
        risks.append("torchvision's MViT is built for exactly 16 frames at 224 px.")
    if spec.budget_gmacs and candidate.decision_gmacs > 0.8 * spec.budget_gmacs:
        risks.append(
            f"{candidate.decision_gmacs:.1f} GMACs per decision is within 20% of the {spec.budget_gmacs:g} budget; "
            "pre-processing or a larger head may push it over."
        )
    if candidate.long_range:
        risks.append(
            "The temporal model over clip features is trained on whole videos: you need video-level labels, and "
            "few videos per class make it overfit (freeze the clip encoder and train the head first)."
        )
    if spec.text:
        risks.append("The text tower and the contrastive objective are not counted in the cost.")
    if spec.deployment == "edge" or spec.latency_ms is not None:
        risks.append(
            "GMACs are not latency: measure on the target device (a host's timing is not the device's latency)."
        )
    if family is Family.TRANSFORMER and spec.deployment == "edge":
        risks.append("Attention kernels are poorly supported by mobile accelerators.")
    if not risks:
        risks.append("Published accuracies come from other datasets; validate on a held-out split of your own data.")
    return risks


def _violation_text(candidate: Candidate) -> str:
    return "; ".join(candidate.violations) or "fits"


def _answer_from(candidate: Candidate, result: SearchResult, infeasible: bool = False) -> Answer:
    spec = result.spec
    family = Family(candidate.family)
    parts: list[str] = []
    if result.text_notes:
        parts.append("Read from the task text: " + "; ".join(result.text_notes) + ".")
    if infeasible:
        parts.append(
            "Nothing in the catalogue meets every constraint; this is the nearest candidate "
            f"({_violation_text(candidate)}), and the alternatives below are the next nearest."
        )
    parts.append(f"{candidate.model} ({family.answer_name}): {FAMILY_REASONS[family]}.")
    if spec.motion == "motion":
        parts.append(
            "The label is defined by motion (SSv2-like), so only models that mix information across frames are "
            "considered, ranked by their SSv2 figures."
        )
    if long_range_mode(spec):
        parts.append(
            "Long-range mode: clips are spread over the whole video and a small temporal model (2 layers, width "
            "512) reads their features in order, instead of averaging clip scores."
        )
    parts.append(_evidence_sentence(candidate))
    parts.append(_cost_sentence(candidate, spec))
    parts.append(f"Start from {candidate.pretraining} weights.")
    if result.runners_up:
        parts.append(
            "Next best: "
            + "; ".join(
                f"{c.model} {c.frames}x{c.size}, {c.clips}x{c.crops} views (~{c.expected:.1f}, "
                f"{c.decision_gmacs:.1f} GMACs)"
                for c in result.runners_up
            )
            + "."
        )
    alternatives = []
    if infeasible:
        alternatives = [
            Alternative(
                model=c.model,
                frames=c.frames,
                size=c.size,
                test_clips=c.clips,
                estimated_gmacs=round(c.gmacs_per_clip, 3),
                violates=_violation_text(c),
            )
            for c in result.closest
        ]
    return Answer(
        verdict="infeasible" if infeasible else "recommended",
        family=family.answer_name,
        model=candidate.model,
        frames=candidate.frames,
        size=candidate.size,
        sampling=sampling_for(candidate, spec),
        test_clips=candidate.clips,
        test_crops=candidate.crops,
        test_time="deterministic",
        aggregation="temporal_model" if candidate.long_range else "average",
        clips_per_minute=candidate.clips_per_minute,
        estimated_gmacs=round(candidate.gmacs_per_clip, 3),
        pretraining=candidate.pretraining,
        rationale=" ".join(parts),
        risks=_risks(spec, candidate),
        alternatives=alternatives,
    )


def recommend(spec: TaskSpec) -> Answer:
    """A deterministic answer in the `Answer` schema that passes `validate_answer(spec, answer)`.

    `verdict` is "infeasible" (with the nearest alternatives) when no candidate meets the budget
    and latency; NoFeasibleModel only when the catalogue has no candidate at all.
    """
    result = search(spec)
    if result.best is not None:
        answer = _answer_from(result.best, result)
    elif result.closest:
        nearest = result.closest[0]
        _measure_exactly(nearest)
        answer = _answer_from(nearest, result, infeasible=True)
    else:
        raise NoFeasibleModel(
            "no model in the catalogue can run this spec: " + "; ".join(result.rejected[:6] or ["empty catalogue"])
        )
    findings = [f for f in validate_answer(spec, answer) if f.severity == "error"]
    if findings:  # a bug in the search or the validator: say so rather than hand out a rejected answer
        raise AssertionError(f"recommend() produced an answer its validator rejects: {[f.message for f in findings]}")
    return answer


def _measure_exactly(candidate: Candidate) -> None:
    if candidate.published_only:
        return
    from temporalkit.picker import costs

    cost = costs.measured_cost(candidate.model, candidate.frames, candidate.size)
    if cost.gmacs is not None and not cost.error:
        candidate.gmacs_per_clip = cost.gmacs
        candidate.measured = True
    if math.isnan(candidate.gmacs_per_clip):  # pragma: no cover - defensive
        raise NoFeasibleModel(f"{candidate.model} could not be measured")
