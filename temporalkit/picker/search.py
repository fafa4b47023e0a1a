"""The objective search behind `recommend`: every catalogue model, clip and test protocol, scored.

For each model (`catalogue.py`), starting weights the spec allows, frames T in 2..64, input side
in 64..448 (each model's valid set) and test views (clips x crops), the search estimates

* the cost per decision: GMACs per clip (measured at the model's native clip on the meta device,
  scaled by T x side^2, and measured exactly before an answer is given) x clips x crops, plus the
  temporal model over clip features in long-range mode;
* the latency per decision, when the spec sets a target: from the user's device profile, or timed
  here on `spec.device` (host timing, which is not the deployment device's latency);
* the expected accuracy: the model's published figure for the kind of label (`evidence.py`;
  Kinetics for appearance, SSv2 for motion, both averaged for mixed), adjusted from the figure's
  protocol to the candidate's frames, side and views, and for the weights and data available.

It keeps what fits the budget and latency and returns the most accurate (ties: the cheaper).
When nothing fits it returns the closest candidates, ranked by how far they miss the constraints.

The accuracy adjustments are ranking heuristics, not predictions; their constants are below, each
with its reason, and every answer states the figure, its protocol and the adjustments applied.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from temporalkit.picker import catalogue as cat
from temporalkit.picker import evidence as ev
from temporalkit.picker.schema import TaskSpec
from temporalkit.reference_models.families import Family

FRAMES_GRID = (2, 4, 8, 12, 16, 24, 32, 48, 64)
SIZES_GRID = (64, 96, 112, 128, 160, 172, 192, 224, 256, 288, 320, 384, 448)
SERVER_VIEWS = tuple((clips, crops) for clips in (1, 2, 3, 4, 5, 10) for crops in (1, 3))
EDGE_VIEWS = ((1, 1), (2, 1))

# Points lost per halving of frames / side / views below the published protocol, by how much the
# label depends on motion. Appearance labels survive fewer frames far better than lower resolution
# (TSN: 8 frames of a 10 s clip already reach its Kinetics figure; the side sets how well each
# frame is recognised), so the search drops frames before resolution there; motion labels lose
# more with each halving of T (a motion sampled at half the rate is a different motion).
FRAME_POINTS = {"appearance": 1.0, "mixed": 2.0, "motion": 3.5}
SIZE_POINTS = {"appearance": 4.0, "mixed": 3.5, "motion": 3.0}
VIEW_POINTS = {"appearance": 1.0, "mixed": 0.8, "motion": 0.5}
# Above the published protocol the figure is not extrapolated: a quarter of the points per
# doubling, for at most one doubling (half a doubling of the side); with COST_POINTS that makes
# a clip larger than the published one worth its cost only when the gain is real.
ABOVE_FRACTION = 0.25
# SSv2 when only a Kinetics figure exists: the SSv2 figure of models with both runs 11-15 points
# below their K400 one (TSM 12.9, MViT-B 13.7, MViTv2-S 12.8, Swin-B 11.0, VideoMAE-B 10.7);
# models that never mix frames lose 40 (TimeSformer space-only: 76.9 vs 36.6).
SSV2_GAP = 13.0
SSV2_GAP_NO_MIXING = 40.0
# A model that is not built for mobile accelerators, deployed on one.
EDGE_PENALTY = 3.0
# Ties in accuracy go to the cheaper decision: this many points per doubling of GMACs.
COST_POINTS = 0.4
# Long-range mode: clips per minute to choose from, and the points lost per halving of coverage below 12.
CLIPS_PER_MINUTE = (2, 4, 6, 12)
COVERAGE_POINTS = 1.0
ASSUMED_VIDEO_SECONDS = 300.0
# The temporal model over clip features: a 2-layer transformer of width 512.
HEAD_LAYERS, HEAD_DIM = 2, 512
SMALL_DATA, MID_DATA, LARGE_DATA = 10_000, 50_000, 200_000
# How many candidates are measured exactly (cost) or timed (latency) before giving up on the best.
MAX_VERIFIED = 8


# -- the task's free text ---------------------------------------------------------------------------

# (pattern, spec field, value, what it means). Applied only to fields the spec leaves at their default.
TEXT_CUES: tuple[tuple[str, str, object, str], ...] = (
    (
        r"\b(phones?|smartphones?|mobile|on-device|embedded|raspberry pi|jetson|edge device)\b",
        "deployment",
        "edge",
        "runs on a phone/edge device",
    ),
    (r"\b(cctv|surveillance|security cameras?)\b", "long_range", True, "CCTV footage is long and continuous"),
    (
        r"\b(retriev\w*|text[- ]to[- ]video|video[- ]to[- ]text|captions?|captioning|natural[- ]language quer\w*)\b",
        "text",
        True,
        "a video+text task",
    ),
    (
        r"\b(minutes? long|\d+\s*min(ute)?s?\b|hours?|full[- ]length|whole (video|match|film))",
        "long_range",
        True,
        "videos of minutes",
    ),
)


def read_task_text(spec: TaskSpec) -> tuple[TaskSpec, list[str]]:
    """The spec with the obvious constraints of its free text applied, and one note per cue used.

    A field the spec sets explicitly wins; a cue that contradicts it is reported, not applied."""
    updates: dict[str, object] = {}
    notes: list[str] = []
    for pattern, name, value, meaning in TEXT_CUES:
        match = re.search(pattern, spec.task, re.IGNORECASE)
        if not match or name in updates:
            continue
        word = match.group(0)
        if name in spec.model_fields_set:
            if getattr(spec, name) != value:
                notes.append(
                    f"the task text says '{word}' ({meaning}) but the spec sets {name}={getattr(spec, name)}; kept"
                )
            continue
        if getattr(spec, name) != value:
            updates[name] = value
            notes.append(f"'{word}' in the task text: {name}={value} ({meaning})")
    return (spec.model_copy(update=updates) if updates else spec), notes


def effective_pretraining(spec: TaskSpec) -> frozenset[str]:
    """What the spec allows; a text task may also use CLIP-style image-text weights unless the spec
    names its pretraining explicitly without them."""
    allowed = spec.allowed_pretraining
    if spec.text and "pretraining" not in spec.model_fields_set:
        allowed = allowed | {"image_text"}
    return allowed


# -- candidates -------------------------------------------------------------------------------------


@dataclass
class Candidate:
    model: str
    family: str
    frames: int
    size: int
    clips: int
    crops: int
    pretraining: str
    gmacs_per_clip: float
    head_gmacs: float = 0.0
    clips_per_minute: float | None = None
    expected: float = 0.0
    expected_notes: list[str] = field(default_factory=list)
    evidence: ev.Evidence | None = None
    latency_ms: float | None = None
    latency_source: str = ""
    violations: list[str] = field(default_factory=list)
    distance: float = 0.0
    measured: bool = False
    published_only: bool = False

    @property
    def decision_gmacs(self) -> float:
        return self.gmacs_per_clip * self.clips * self.crops + self.head_gmacs

    @property
    def score(self) -> float:
        return self.expected - COST_POINTS * math.log2(max(self.decision_gmacs, 1e-3))

    @property
    def long_range(self) -> bool:
        return self.clips_per_minute is not None


@dataclass
class SearchResult:
    spec: TaskSpec  # with the task text's cues applied
    text_notes: list[str]
    best: Candidate | None
    runners_up: list[Candidate]
    closest: list[Candidate]
    checked: int
    rejected: list[str]


def _anchor_cost(row: cat.CatalogueEntry) -> tuple[float | None, str | None]:
    """GMACs per clip at the row's native clip: measured for registry models, published otherwise."""
    if cat.is_published_only(row):
        return row.published_gmacs, None
    from temporalkit.picker import costs

    frames, size = row.native
    snapshot = _snapshot_gmacs(row.model, frames, size)
    if snapshot is not None:
        return snapshot, None
    try:
        cost = costs.measured_cost(row.model, frames, size)
    except Exception as exc:  # noqa: BLE001 - a model that cannot be measured is skipped, with its reason
        return None, f"{type(exc).__name__}: {exc}"
    if cost.error or cost.gmacs is None:
        return None, cost.error
    return cost.gmacs, None


def _snapshot_gmacs(model_id: str, frames: int, size: int) -> float | None:
    """The shipped cost snapshot's count for this clip, when there is one (it holds `measure_cost`'s
    own figures, so the search's estimates need no model built; answers are still measured exactly)."""
    try:
        from temporalkit.picker.cost_snapshot import snapshot_cost

        row = snapshot_cost(model_id, frames, size)
    except Exception:  # noqa: BLE001 - no snapshot shipped: measure instead
        return None
    return row.gmacs if row is not None and not row.error else None


def _measurable_grid() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The frames and sides the search tries: the full grid where costs can be measured (the models
    extra), else the shipped cost snapshot's grid, the only clips the core install can cost."""
    from temporalkit.extras import missing_modules

    if not missing_modules("models"):
        return FRAMES_GRID, SIZES_GRID
    from temporalkit.picker.cost_snapshot import GRID_FRAMES, GRID_SIZES

    return GRID_FRAMES, GRID_SIZES


def clip_options(row: cat.CatalogueEntry, spec: TaskSpec) -> list[tuple[int, int]]:
    """(frames, side) pairs the model accepts, limited to the spec's when it fixes them."""
    if cat.is_published_only(row):
        options = [row.native]
    else:
        from temporalkit.picker import costs

        frames_grid, sizes_grid = _measurable_grid()
        frames = [spec.frames] if spec.frames else sorted({*frames_grid, row.native[0]})
        sizes = [spec.size] if spec.size else sorted({*sizes_grid, row.native[1]})
        options = [(t, s) for t in frames for s in sizes if costs.unsupported_reason(row.model, t, s) is None]
    if spec.frames:
        options = [o for o in options if o[0] == spec.frames]
    if spec.size:
        options = [o for o in options if o[1] == spec.size]
    return options


def _evidence_for(row: cat.CatalogueEntry, key: str | None) -> ev.Evidence | None:
    if key is None:
        return None
    if key in ev.EVIDENCE:
        return ev.EVIDENCE[key]
    if key.startswith(ev.REGISTRY_PREFIX):
        return ev.registry_evidence(key.removeprefix(ev.REGISTRY_PREFIX))
    if key.startswith("torchvision_"):
        return torchvision_evidence(key.removeprefix("torchvision_"))
    return None


_TORCHVISION_CACHE: dict[str, ev.Evidence | None] = {}


def torchvision_evidence(model_id: str) -> ev.Evidence | None:
    if model_id not in _TORCHVISION_CACHE:
        from temporalkit.reference_models.registry import MODELS

        entry = MODELS.get(model_id)
        try:
            _TORCHVISION_CACHE[model_id] = (
                ev.torchvision_evidence(model_id, entry.torchvision_weights)
                if entry and entry.torchvision_weights
                else None
            )
        except Exception:  # noqa: BLE001 - no torchvision (core install): the model is ranked without it
            _TORCHVISION_CACHE[model_id] = None
    return _TORCHVISION_CACHE[model_id]


def _torchvision_size(model_id: str) -> int:
    return 112 if model_id in ("r3d_18", "mc3_18", "r2plus1d_18") else 224


def base_accuracy(row: cat.CatalogueEntry, motion: str) -> tuple[float | None, ev.Evidence | None, list[str]]:
    """(figure on the scale of the label's benchmark, the evidence used, notes)."""
    appearance = _evidence_for(row, row.k400)
    motion_row = _evidence_for(row, row.ssv2)
    notes: list[str] = []
    k400 = None
    if appearance is not None:
        k400 = appearance.value + row.k400_offset
        if appearance.benchmark == "K600":
            k400 -= ev.K600_OVER_K400
            notes.append(f"K600 figure minus {ev.K600_OVER_K400} for a K400 scale")
        if row.k400_offset:
            notes.append(f"{row.k400_offset:+g} ({row.note})")
    ssv2 = motion_row.value if motion_row is not None else None
    if ssv2 is None and k400 is not None:
        gap = SSV2_GAP if row.temporal_mixing else SSV2_GAP_NO_MIXING
        ssv2 = k400 - gap
        if motion != "appearance":
            notes.append(f"no SSv2 figure: K400 minus {gap:g} (estimated)")
    if motion == "appearance":
        return k400, appearance, notes
    if motion == "motion":
        return ssv2, motion_row or appearance, notes
    if k400 is None or ssv2 is None:
        return None, None, notes
    return (k400 + ssv2) / 2, motion_row or appearance, notes + ["mixed: mean of the K400 and SSv2 scales"]


def _protocol_of(row: cat.CatalogueEntry, evidence: ev.Evidence | None) -> tuple[int, int, int | None]:
    frames = (evidence.frames if evidence and evidence.frames else None) or row.native[0]
    size = (evidence.size if evidence and evidence.size else None) or row.native[1]
    if evidence and evidence.key.startswith("torchvision_"):
        size = _torchvision_size(row.model)
    views = evidence.views if evidence else None
    if frames == 128:  # S3D's torchvision figure is one 128-frame clip: rank it as 16-frame clips x 8
        return 16, size, 8
    return frames, size, views


def pretraining_adjustment(
    row: cat.CatalogueEntry, pretraining: str, evidence: ev.Evidence | None, spec: TaskSpec
) -> tuple[float, str]:
    """Points for starting from `pretraining` with `spec.train_clips` labelled clips, relative to the figure.

    From scratch costs most on small data, and most for transformers (no locality prior); even at
    Kinetics scale a video-pretrained start is never worse, so scratch and ImageNet lose a point
    there, which is what makes Kinetics weights win on appearance tasks too when they are allowed."""
    clips = spec.train_clips
    transformer = row.family is Family.TRANSFORMER
    if pretraining == "none":
        if transformer:
            points = (
                -25.0 if clips < SMALL_DATA else -10.0 if clips < MID_DATA else -3.0 if clips < LARGE_DATA else -1.0
            )
        else:
            points = -8.0 if clips < SMALL_DATA else -4.0 if clips < MID_DATA else -2.0 if clips < LARGE_DATA else -1.0
        return points, f"{points:+g} for training from scratch on {clips:,} clips"
    if pretraining == "self_supervised":
        points = -6.0 if clips < SMALL_DATA else -3.0 if clips < MID_DATA else 0.0
        return points, f"{points:+g} for self-supervised pretraining on {clips:,} own clips only"
    if pretraining == "imagenet":
        points = -1.0 + (-3.0 if evidence is not None and evidence.pretraining == "kinetics" else 0.0)
        points += -2.0 if clips < MID_DATA else 0.0
        return points, f"{points:+g} for ImageNet rather than video weights on {clips:,} clips"
    return 0.0, ""


def expected_accuracy(
    row: cat.CatalogueEntry, spec: TaskSpec, frames: int, size: int, views: int, pretraining: str
) -> tuple[float | None, ev.Evidence | None, list[str]]:
    """(expected figure on the label's benchmark scale, the evidence it starts from, the adjustments)."""
    model = _AccuracyModel.build(row, spec, pretraining)
    if model is None:
        return None, None, []
    return model.at(frames, size, views)


@dataclass
class _AccuracyModel:
    """The expected accuracy of one model with one set of weights, as a function of clip and views."""

    base: float
    evidence: ev.Evidence | None
    notes: list[str]
    frames0: int
    size0: int
    views0: int | None
    motion: str
    fixed: float  # pretraining and deployment points
    fixed_notes: list[str]

    @classmethod
    def build(cls, row: cat.CatalogueEntry, spec: TaskSpec, pretraining: str) -> _AccuracyModel | None:
        if spec.text and row.image_text:
            evidence = _evidence_for(row, row.retrieval)
            if evidence is None:
                return None
            return cls(
                evidence.value,
                evidence,
                [],
                evidence.frames or row.native[0],
                evidence.size or row.native[1],
                None,
                "appearance",
                0.0,
                [],
            )
        base, evidence, notes = base_accuracy(row, spec.motion)
        if base is None:
            return None
        frames0, size0, views0 = _protocol_of(row, evidence)
        fixed, fixed_notes = 0.0, []
        points, note = pretraining_adjustment(row, pretraining, evidence, spec)
        if note:
            fixed += points
            fixed_notes.append(note)
        if spec.deployment == "edge" and not row.edge:
            fixed -= EDGE_PENALTY
            fixed_notes.append(f"-{EDGE_PENALTY:g}: not built for edge accelerators")
        return cls(base, evidence, list(notes), frames0, size0, views0, spec.motion, fixed, fixed_notes)

    def parts(self, frames: int, size: int, views: int) -> tuple[float, float, float]:
        return (
            _step(frames, self.frames0, FRAME_POINTS[self.motion]),
            _step(size, self.size0, SIZE_POINTS[self.motion], 0.5),
            _step(views, self.views0, VIEW_POINTS[self.motion]) if self.views0 else 0.0,
        )

    def at(self, frames: int, size: int, views: int) -> tuple[float, ev.Evidence | None, list[str]]:
        frame_points, size_points, view_points = self.parts(frames, size, views)
        notes = list(self.notes)
        for points, what in (
            (frame_points, f"{frames} frames vs {self.frames0}"),
            (size_points, f"{size} px vs {self.size0}"),
            (view_points, f"{views} view(s) vs {self.views0}"),
        ):
            if points:
                notes.append(f"{points:+.1f} for {what}")
        notes += self.fixed_notes
        return self.base + frame_points + size_points + view_points + self.fixed, self.evidence, notes


@functools.lru_cache(maxsize=4096)
def _step(value: float, reference: float, points: float, most_doublings: float = 1.0) -> float:
    """Points for `value` against the protocol's `reference`: -points per halving below, a capped
    ABOVE_FRACTION per doubling above (no extrapolation beyond the published protocol)."""
    steps = math.log2(value / reference)
    if steps < 0:
        return steps * points
    return min(steps, most_doublings) * points * ABOVE_FRACTION


def head_gmacs(tokens: int) -> float:
    """GMACs of the temporal model over `tokens` clip features (HEAD_LAYERS layers of width HEAD_DIM)."""
    d = HEAD_DIM
    return HEAD_LAYERS * (12 * tokens * d * d + 2 * tokens * tokens * d) / 1e9


def long_range_mode(spec: TaskSpec) -> bool:
    return spec.long_range and (spec.video_seconds is None or spec.video_seconds >= 60)


def video_minutes(spec: TaskSpec) -> float:
    return (spec.video_seconds or ASSUMED_VIDEO_SECONDS) / 60


def _views(spec: TaskSpec):
    """(clips, crops, clips_per_minute) options for the spec's test protocol."""
    if long_range_mode(spec):
        minutes = video_minutes(spec)
        return [(max(2, math.ceil(cpm * minutes)), 1, float(cpm)) for cpm in CLIPS_PER_MINUTE]
    views = EDGE_VIEWS if spec.deployment == "edge" else SERVER_VIEWS
    return [(clips, crops, None) for clips, crops in views]


def excluded(row: cat.CatalogueEntry, spec: TaskSpec, pretraining: str) -> str | None:
    """Why the validator would refuse this model with these weights, or None."""
    if spec.motion == "motion" and not row.temporal_mixing:
        return "never mixes frames: blind to a motion-defined label"
    if row.family is Family.TRANSFORMER and pretraining == "none" and spec.train_clips < SMALL_DATA:
        return f"a transformer from scratch on {spec.train_clips:,} clips"
    return None


def _latency(spec: TaskSpec, candidate: Candidate) -> tuple[float | None, str]:
    if spec.device_profile is not None:
        per_clip, how = spec.device_profile.latency_ms(
            candidate.model, candidate.frames, candidate.size, candidate.gmacs_per_clip
        )
        if per_clip is None:
            return None, how
        return per_clip * candidate.clips * candidate.crops, how
    return None, ""


def _violations(spec: TaskSpec, candidate: Candidate) -> tuple[list[str], float]:
    violations, distance = [], 0.0
    if spec.budget_gmacs is not None and candidate.decision_gmacs > spec.budget_gmacs:
        violations.append(f"{candidate.decision_gmacs:.2f} GMACs per decision > budget {spec.budget_gmacs:g}")
        distance += math.log2(candidate.decision_gmacs / spec.budget_gmacs)
    if spec.latency_ms is not None and candidate.latency_ms is not None and candidate.latency_ms > spec.latency_ms:
        violations.append(f"{candidate.latency_ms:.1f} ms per decision > target {spec.latency_ms:g} ms")
        distance += math.log2(candidate.latency_ms / spec.latency_ms)
    return violations, distance


# Feasible candidates kept per model (the best first) for exact verification and runners-up.
KEEP_PER_MODEL = 3


def enumerate_candidates(spec: TaskSpec, rows: dict[str, cat.CatalogueEntry] | None = None):
    """(the best feasible candidates of each model, the closest infeasible candidate per model, rejections).

    Scores every combination as plain numbers and builds `Candidate`s only for those it keeps."""
    rows = rows if rows is not None else cat.catalogue()
    allowed = effective_pretraining(spec)
    image_text_models = [r for r in rows.values() if r.image_text and "image_text" in allowed]
    views_options = _views(spec)
    long_mode = long_range_mode(spec)
    profile = spec.device_profile
    budget, target = spec.budget_gmacs, spec.latency_ms
    feasible: list[Candidate] = []
    closest: dict[str, Candidate] = {}
    rejected: list[str] = []
    for row in rows.values():
        if spec.text and image_text_models and not row.image_text:
            continue
        if row.image_text and not spec.text:
            continue  # ranked by retrieval evidence only
        options = [p for p in row.pretraining if p in allowed]
        if not options:
            rejected.append(f"{row.model}: no weights the spec allows ({', '.join(row.pretraining)})")
            continue
        anchor, error = _anchor_cost(row)
        if anchor is None:
            rejected.append(f"{row.model}: cannot be measured ({error})")
            continue
        clip_list = clip_options(row, spec)
        if not clip_list:
            rejected.append(f"{row.model}: cannot run the spec's frames/size")
            continue
        t0, s0 = row.native
        kept: list[tuple] = []  # (score, decision, key) of feasible combinations
        nearest: tuple | None = None  # (distance, -score, key)
        for pretraining in options:
            reason = excluded(row, spec, pretraining)
            if reason:
                rejected.append(f"{row.model} ({pretraining}): {reason}")
                continue
            accuracy = _AccuracyModel.build(row, spec, pretraining)
            if accuracy is None:
                continue
            for frames, size in clip_list:
                per_clip = anchor * (frames / t0) * (size / s0) ** 2
                clip_ms = None
                if profile is not None and target is not None:
                    clip_ms, _ = profile.latency_ms(row.model, frames, size, per_clip)
                frame_points, size_points, _ = accuracy.parts(frames, size, 1)
                clip_value = accuracy.base + accuracy.fixed + frame_points + size_points
                for clips, crops, cpm in views_options:
                    views = clips * crops
                    value = clip_value + (
                        _step(views, accuracy.views0, VIEW_POINTS[accuracy.motion])
                        if accuracy.views0 and not long_mode
                        else 0.0
                    )
                    head = 0.0
                    if cpm is not None:
                        head = head_gmacs(clips)
                        value -= COVERAGE_POINTS * math.log2(max(CLIPS_PER_MINUTE) / cpm)
                    decision = per_clip * views + head
                    score = value - COST_POINTS * math.log2(max(decision, 1e-3))
                    distance = 0.0
                    if budget is not None and decision > budget:
                        distance += math.log2(decision / budget)
                    if clip_ms is not None and clip_ms * views > target:
                        distance += math.log2(clip_ms * views / target)
                    key = (pretraining, frames, size, clips, crops, cpm)
                    if distance > 0:
                        if nearest is None or (distance, -score) < nearest[:2]:
                            nearest = (distance, -score, key)
                        continue
                    entry = (-score, decision, key)
                    if len(kept) < KEEP_PER_MODEL:
                        kept.append(entry)
                        kept.sort()
                    elif entry < kept[-1]:
                        kept[-1] = entry
                        kept.sort()
        feasible += [_candidate(row, spec, anchor, key) for _, _, key in kept]
        if nearest is not None:
            closest[row.model] = _candidate(row, spec, anchor, nearest[2])
    return feasible, closest, rejected


def _candidate(row: cat.CatalogueEntry, spec: TaskSpec, anchor: float, key: tuple) -> Candidate:
    pretraining, frames, size, clips, crops, cpm = key
    t0, s0 = row.native
    accuracy = _AccuracyModel.build(row, spec, pretraining)
    views = clips * crops if cpm is None else (accuracy.views0 or 1)
    expected, evidence, notes = accuracy.at(frames, size, views)
    candidate = Candidate(
        row.model,
        row.family.value,
        frames,
        size,
        clips,
        crops,
        pretraining,
        anchor * (frames / t0) * (size / s0) ** 2,
        clips_per_minute=cpm,
        expected=expected,
        expected_notes=notes,
        evidence=evidence,
        published_only=cat.is_published_only(row),
    )
    if cpm is not None:
        candidate.head_gmacs = head_gmacs(clips)
        loss = COVERAGE_POINTS * math.log2(max(CLIPS_PER_MINUTE) / cpm)
        if loss:
            candidate.expected -= loss
            candidate.expected_notes.append(f"-{loss:.1f} for {cpm:g} clips per minute")
    candidate.latency_ms, candidate.latency_source = _latency(spec, candidate)
    candidate.violations, candidate.distance = _violations(spec, candidate)
    return candidate


def _verify(spec: TaskSpec, candidate: Candidate) -> str | None:
    """Measure the candidate exactly (cost; latency on spec.device when no profile); None if it still fits."""
    if candidate.published_only:
        return None
    from temporalkit.picker import costs

    try:
        cost = costs.measured_cost(candidate.model, candidate.frames, candidate.size)
    except Exception as exc:  # noqa: BLE001 - MissingExtra (core install, clip off the shipped grid)
        return f"{candidate.model} {candidate.frames}x{candidate.size}: {exc}"
    if cost.error or cost.gmacs is None:
        return f"{candidate.model} {candidate.frames}x{candidate.size}: {cost.error}"
    candidate.gmacs_per_clip = cost.gmacs
    candidate.measured = True
    if spec.latency_ms is not None and spec.device_profile is None and spec.device:
        timed = costs.measured_cost(candidate.model, candidate.frames, candidate.size, spec.device, True)
        if timed.latency_ms is not None:
            candidate.latency_ms = timed.latency_ms * candidate.clips * candidate.crops
            candidate.latency_source = f"timed on this host's {timed.latency_device} (not the deployment device)"
    else:
        candidate.latency_ms, candidate.latency_source = _latency(spec, candidate)
    violations, _ = _violations(spec, candidate)
    if violations:
        return f"{candidate.model} {candidate.frames}x{candidate.size}: " + "; ".join(violations) + " (measured)"
    return None


def search(spec: TaskSpec) -> SearchResult:
    """The best candidate for `spec` (after its free text is read), or the closest ones when none fits."""
    spec, notes = read_task_text(spec)
    feasible, closest, rejected = enumerate_candidates(spec)
    feasible.sort(key=lambda c: (-round(c.score, 6), c.decision_gmacs, c.model, c.frames, c.size, c.clips, c.crops))
    best = None
    tried: set[str] = set()
    verified = 0
    for candidate in feasible:
        if verified >= MAX_VERIFIED:
            break
        problem = _verify(spec, candidate)
        verified += 1
        if problem is None:
            best = candidate
            break
        rejected.append(problem)
        tried.add(candidate.model)
    runners_up: list[Candidate] = []
    if best is not None:
        seen = {best.model}
        for candidate in feasible:
            if candidate.model not in seen and len(runners_up) < 3:
                seen.add(candidate.model)
                runners_up.append(candidate)
    nearest = sorted(closest.values(), key=lambda c: (c.distance, -c.score, c.model))[:3]
    return SearchResult(spec, notes, best, runners_up, nearest, len(feasible), rejected)
