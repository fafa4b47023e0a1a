"""The rule-based recommender: readable rules order the families, then the first model and clip
whose measured cost fits the spec wins, and every answer passes the picker's own validator.
"""

from __future__ import annotations

from temporalkit.picker import costs
from temporalkit.picker.answer import FEW_CLIPS, validate_answer
from temporalkit.picker.schema import PRETRAINING_STRENGTH, Answer, TaskSpec

# Datasets this large (SSv2 has 169k training clips) let a Kinetics-initialised transformer beat
# convolutions; below FEW_CLIPS only convolutions or frozen features are safe.
LARGE_CLIPS = 50_000
# Test-time clips: one for edge (the budget is per prediction), two as TSM evaluates SSv2,
# ten spread over the video when context beyond ~10 s matters (the Kinetics protocol).
TEST_CLIPS_EDGE = 1
TEST_CLIPS_SERVER = 2
TEST_CLIPS_LONG_RANGE = 10
# Fallback input sides when the spec leaves the size open and the native one is over budget.
FALLBACK_SIZES = (160, 112)
FALLBACK_FRAMES = (8,)


class NoFeasibleModel(ValueError):
    """No model in the cost table satisfies the spec (budget, latency, fixed frames/size)."""


def family_preference(spec: TaskSpec) -> tuple[list[str], list[str]]:
    """Families in the order to try, and the reasons (one sentence per rule that fired)."""
    few = spec.train_clips < FEW_CLIPS
    video_pretrained = spec.pretraining == "kinetics"
    reasons: list[str] = []
    if spec.motion == "appearance":
        order = ["2d_pool", "r2plus1d", "i3d", "transformer"]
        reasons.append(
            "The label can be read from single frames, so a 2D network on uniformly spread frames, averaged "
            "(TSN-style 2D+pool), gives most of the accuracy at a fraction of a 3D network's cost and reuses "
            "ImageNet features."
        )
    elif spec.motion == "mixed":
        order = ["r2plus1d", "i3d", "2d_pool", "transformer"]
        reasons.append(
            "The label depends partly on motion, so the network must model time; (2+1)D convolutions do that "
            "with an extra non-linearity between space and time and optimise more easily than full 3D kernels."
        )
        if spec.train_clips >= LARGE_CLIPS and video_pretrained:
            order = ["transformer", "r2plus1d", "i3d", "2d_pool"]
            reasons.append(
                f"With {spec.train_clips} clips and Kinetics weights, a pretrained video transformer is "
                "affordable and the most accurate in the published tables."
            )
    else:
        reasons.append(
            "The label is defined by motion (SSv2-like): models that average frames cannot tell a motion from "
            "its reverse (TimeSformer space-only attention: 36.6% on SSv2 vs 59.5% divided), so only families "
            "that model time are considered."
        )
        if video_pretrained and not few:
            order = ["transformer", "r2plus1d", "i3d"]
            reasons.append(
                f"With Kinetics weights and {spec.train_clips} clips, a video transformer fine-tunes well "
                "(MViTv2-S 68.2% and Video Swin-B 69.6% on SSv2 from Kinetics-400 initialisation)."
            )
        else:
            order = ["r2plus1d", "i3d", "transformer"]
            reasons.append(
                f"With {spec.train_clips} clips and {spec.pretraining} pretraining, convolutions are preferred: "
                "their locality is a prior that transformers must learn from data."
            )
    if spec.motion != "appearance" and spec.pretraining == "imagenet" and order.index("i3d") > order.index("r2plus1d"):
        order.remove("i3d")
        order.insert(order.index("r2plus1d"), "i3d")
        reasons.append(
            "Only ImageNet weights are available: an inflated 3D network (I3D) starts from them by repeating "
            "each 2D kernel over time, which a (2+1)D network cannot do as directly."
        )
    if spec.text:
        if spec.motion == "appearance":
            reasons.append(
                "For video+text, per-frame features averaged into one embedding (as in CLIP4Clip's mean pooling) "
                "pair directly with an image-text encoder."
            )
        elif not few or spec.pretraining != "none":
            order.remove("transformer")
            order.insert(0, "transformer")
            reasons.append(
                "For video+text, a transformer's token sequence can be attended to by the text model "
                "(Frozen in Time uses a divided space-time TimeSformer)."
            )
    if spec.deployment == "edge":
        order.remove("transformer")
        order.append("transformer")
        reasons.append(
            "On edge devices convolutions are preferred (attention kernels are poorly supported by mobile "
            "accelerators and memory grows with the number of tokens) and the smallest input size is tried first."
        )
    if spec.long_range:
        reasons.append(
            "Context beyond ~10 s matters: "
            + (
                "uniform sampling spreads the frames over the whole video."
                if order[0] == "2d_pool"
                else f"clips are sampled densely for training and {TEST_CLIPS_LONG_RANGE} clips spread over the "
                "video are averaged at test time."
            )
        )
    return order, reasons


def models_for_family(family: str, spec: TaskSpec) -> list[str]:
    """Model ids of a family, most suitable first for this spec's pretraining and range."""
    video_pretrained = spec.pretraining == "kinetics"
    if family == "2d_pool":
        return ["framepool_r18"]
    if family == "i3d":
        return ["r3d_18", "mc3_18", "i3d_r18"] if video_pretrained else ["i3d_r18", "mc3_18", "r3d_18"]
    if family == "r2plus1d":
        return ["r2plus1d_18", "s3d", "r2plus1d_r18"] if video_pretrained else ["r2plus1d_r18", "s3d", "r2plus1d_18"]
    if video_pretrained:
        ordered = ["mvit_v2_s", "swin3d_t", "mvit_v1_b", "swin3d_s", "swin3d_b", "timesformer_divided"]
    else:
        # ImageNet-initialised TimeSformer as in its paper; divided attention before joint because its
        # cost grows linearly, not quadratically, with T (TimeSformer-L runs 96 frames).
        ordered = ["timesformer_divided", "timesformer_joint", "mvit_v2_s", "swin3d_t"]
    if spec.motion != "motion":
        ordered.append("timesformer_space_only")
    return ordered


def clip_options(model_id: str, spec: TaskSpec) -> list[tuple[int, int]]:
    """(frames, size) to try: the spec's when fixed, else the model's native clip, then cheaper ones.

    For motion-defined labels the size shrinks before the number of frames (temporal resolution
    carries the label); otherwise frames go first. Edge deployments try the smallest size first.
    """
    native_frames, native_size = costs.NATIVE_CLIP[model_id]
    frames_options = (
        [spec.frames] if spec.frames else [native_frames, *(f for f in FALLBACK_FRAMES if f < native_frames)]
    )
    size_options = [spec.size] if spec.size else [native_size, *(s for s in FALLBACK_SIZES if s < native_size)]
    if spec.deployment == "edge" and not spec.size:
        size_options = sorted(size_options)
    if spec.motion == "motion":
        return [(f, s) for f in frames_options for s in size_options]
    return [(f, s) for s in size_options for f in frames_options]


def _sampling_for(family: str, model_id: str, spec: TaskSpec) -> tuple[str, int]:
    if family == "2d_pool":
        return "uniform", 1
    if spec.long_range:
        return "multi_clip", TEST_CLIPS_LONG_RANGE
    if model_id.startswith("timesformer"):
        return "uniform", 1
    return "dense", TEST_CLIPS_EDGE if spec.deployment == "edge" else TEST_CLIPS_SERVER


def _pretraining_for(model_id: str, spec: TaskSpec) -> str:
    usable = [
        p
        for p in costs.usable_pretraining(model_id)
        if PRETRAINING_STRENGTH[p] <= PRETRAINING_STRENGTH[spec.pretraining]
    ]
    return max(usable, key=PRETRAINING_STRENGTH.__getitem__)


def _risks(
    spec: TaskSpec, family: str, model_id: str, frames: int, size: int, gmacs: float, test_clips: int, pretraining: str
) -> list[str]:
    risks = []
    if family == "2d_pool":
        risks.append(
            "Frame order is ignored: if some classes turn out to differ only by motion (direction, "
            "reversal), they will be confused; check the confusion matrix for such pairs."
        )
    if pretraining == "none":
        risks.append(
            f"Training from scratch on {spec.train_clips} clips: expect overfitting; use strong augmentation "
            "and early stopping on a held-out split."
        )
    elif spec.train_clips < FEW_CLIPS:
        risks.append(
            f"Fine-tuning on only {spec.train_clips} clips: freeze the early layers first and watch the gap "
            "between training and validation accuracy."
        )
    if pretraining == "kinetics" and spec.motion == "motion":
        risks.append(
            "Kinetics weights are appearance-biased; gains on a motion-defined label can be smaller than on Kinetics-like tasks."
        )
    if model_id.startswith("mvit"):
        risks.append(
            "torchvision's MViT is built for exactly 16 frames at 224 px; changing T or size means retraining its position embeddings."
        )
    if spec.budget_gmacs and gmacs > 0.8 * spec.budget_gmacs:
        risks.append(
            f"{gmacs:.1f} GMACs per clip is within 20% of the {spec.budget_gmacs:g} GMACs budget; heads or pre-processing may push it over."
        )
    if test_clips > 1:
        risks.append(
            f"Testing with {test_clips} clips costs {gmacs * test_clips:.1f} GMACs per video, not {gmacs:.1f}."
        )
    if spec.long_range and family != "2d_pool":
        risks.append(
            f"Each clip sees {frames} consecutive frames; averaging clip scores ignores the order of events "
            "across the video. If that order matters, aggregate clip features with a temporal model."
        )
    if spec.text:
        risks.append(
            "The video encoder needs a text encoder and a contrastive or captioning objective; its cost is not counted here."
        )
    if spec.deployment == "edge":
        risks.append(
            "GMACs on the meta device are not latency: measure on the target device (temporalkit cost --latency)."
        )
    if not risks:
        risks.append(
            "Published accuracies come from other datasets and protocols; validate on a held-out split of your own data."
        )
    return risks


def _first_rejection_per_model(rejected: list[str], chosen: str) -> list[str]:
    seen, kept = {chosen}, []
    for line in rejected:
        model_id = line.split(" ", 1)[0]
        if model_id not in seen:
            seen.add(model_id)
            kept.append(line)
    return kept


def recommend(spec: TaskSpec) -> Answer:
    """A deterministic answer in the `Answer` schema that passes `validate_answer(spec, answer)`.

    Families are ordered by readable rules (`family_preference`); within a family, models and
    clips are tried in order (`models_for_family`, `clip_options`) and the first whose measured
    cost fits the budget (and latency, when a device and target are given) wins.
    Raises NoFeasibleModel when nothing fits.
    """
    order, reasons = family_preference(spec)
    rejected: list[str] = []
    check_latency = spec.latency_ms is not None and spec.device is not None
    for family in order:
        for model_id in models_for_family(family, spec):
            for frames, size in clip_options(model_id, spec):
                reason = costs.unsupported_reason(model_id, frames, size)
                if reason:
                    rejected.append(f"{model_id} {frames}x{size}: {reason}")
                    continue
                cost = costs.measured_cost(model_id, frames, size)
                if cost.error:
                    rejected.append(f"{model_id} {frames}x{size}: {cost.error}")
                    continue
                if spec.budget_gmacs is not None and cost.gmacs > spec.budget_gmacs:
                    rejected.append(
                        f"{model_id} {frames}x{size}: {cost.gmacs:.1f} GMACs > budget {spec.budget_gmacs:g}"
                    )
                    continue
                if check_latency:
                    timed = costs.measured_cost(model_id, frames, size, spec.device, True)
                    if timed.latency_ms is None or timed.latency_ms > spec.latency_ms:
                        measured = (
                            "no latency"
                            if timed.latency_ms is None
                            else f"{timed.latency_ms:.1f} ms on {timed.latency_device}"
                        )
                        rejected.append(f"{model_id} {frames}x{size}: {measured} > target {spec.latency_ms:g} ms")
                        continue
                sampling, test_clips = _sampling_for(family, model_id, spec)
                pretraining = _pretraining_for(model_id, spec)
                cost_sentence = (
                    f"{model_id} at {frames} frames x {size} px measures {cost.gmacs:.2f} GMACs per clip "
                    f"({cost.params / 1e6:.1f} M parameters)"
                    + (f", within the {spec.budget_gmacs:g} GMACs budget" if spec.budget_gmacs else "")
                    + f"; sampling: {sampling}, {test_clips} test clip(s); start from {pretraining} weights."
                )
                skipped = _first_rejection_per_model(rejected, chosen=model_id)
                answer = Answer(
                    family=family,
                    model=model_id,
                    frames=frames,
                    size=size,
                    sampling=sampling,
                    test_clips=test_clips,
                    estimated_gmacs=round(cost.gmacs, 2),
                    pretraining=pretraining,
                    rationale=" ".join(
                        reasons + [cost_sentence] + ([f"Rejected first: {'; '.join(skipped[:4])}."] if skipped else [])
                    ),
                    risks=_risks(spec, family, model_id, frames, size, cost.gmacs, test_clips, pretraining),
                )
                findings = validate_answer(spec, answer)
                if not findings:
                    return answer
                rejected.append(f"{model_id} {frames}x{size}: " + "; ".join(f.rule for f in findings))
    raise NoFeasibleModel(
        "no model in the cost table satisfies the spec; closest candidates: " + "; ".join(rejected[:6])
    )
