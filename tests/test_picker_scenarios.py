"""The recommender on 22 realistic task specs: each scenario writes down the SET of answers a
practitioner would accept, and why, and every recommendation must also pass its own validator.

The sets are judgements made before looking at the search's choice (edge: models built for
mobile accelerators that still mix frames; no budget: the most accurate families, never a
ResNet-18 frame average; and so on); a scenario fails when the answer leaves its set, its
rationale does not give the reason, or the validator finds an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

from temporalkit.picker import Answer, TaskSpec, recommend, validate_answer
from temporalkit.picker import catalogue as cat
from temporalkit.picker.answer import decision_gmacs
from temporalkit.picker.costs import measured_cost
from temporalkit.picker.search import enumerate_candidates, read_task_text, search

torch.set_num_threads(1)

PHONE = {"name": "phone CPU (TFLite, 4 threads)", "gmacs_per_s": 100.0}
EDGE_MODELS = {"tsm_mobilenet_v2", "x3d_xs", "x3d_s", "x3d_m", "movinet_a0", "movinet_a1", "movinet_a2"}
ACCURATE_TRANSFORMERS = {"mvit_v2_s", "mvit_v1_b", "swin3d_b", "swin3d_s", "videomae_vit_b", "videomae_vit_s"}
CONVOLUTIONS = {
    row.model for row in cat.CATALOGUE_ROWS if row.family.value != "transformer" and row.temporal_mixing
} | {"i3d_r18", "r2plus1d_r18"}


def per_decision(answer: Answer) -> float:
    row = cat.entry(answer.model)
    per_clip = (
        row.published_gmacs
        if cat.is_published_only(row)
        else measured_cost(answer.model, answer.frames, answer.size).gmacs
    )
    return decision_gmacs(answer, per_clip)[0]


def mixes_frames(answer: Answer) -> bool:
    return cat.entry(answer.model).temporal_mixing


@dataclass
class Scenario:
    name: str
    spec: TaskSpec
    models: set[str]  # the answers a practitioner would accept
    why: str  # the reason, written down with the set
    reason: str  # a phrase the rationale must contain
    check: Callable[[Answer], bool] = field(default=lambda answer: True)


def spec(task: str, motion: str, train_clips: int, pretraining=None, **more) -> TaskSpec:
    """A spec; `pretraining` None leaves the field unset (the default, imagenet, and for text tasks CLIP weights)."""
    if pretraining is not None:
        more["pretraining"] = pretraining
    return TaskSpec(task=task, motion=motion, train_clips=train_clips, **more)


SCENARIOS = [
    Scenario(
        "edge: phone, 20 ms, 2 GMACs, motion",
        spec(
            "hand gesture recognition on a phone",
            "motion",
            20_000,
            "kinetics",
            budget_gmacs=2,
            latency_ms=20,
            device_profile=PHONE,
        ),
        EDGE_MODELS,
        "only mobile-built models that mix frames fit 2 GMACs (X3D, MoViNet, TSM-MobileNetV2 at a small clip)",
        "'phone' in the task text",
        lambda a: per_decision(a) <= 2 and a.test_clips * a.test_crops == 1,
    ),
    Scenario(
        "edge: phone, appearance, 2 GMACs",
        spec("scene type recognition on a smartphone", "appearance", 20_000, "kinetics", budget_gmacs=2),
        EDGE_MODELS | {"framepool_r18"},
        "a mobile 2D/3D network at one clip; a ResNet-18 frame average at a small clip is acceptable too",
        "deployment=edge",
        lambda a: per_decision(a) <= 2,
    ),
    Scenario(
        "tiny budget: 4 GMACs per decision",
        spec("sports classification", "appearance", 20_000, "kinetics", budget_gmacs=4),
        EDGE_MODELS | {"swin3d_t", "swin3d_s", "tsm_r50", "s3d", "framepool_r18"},
        "the efficient families (X3D, MoViNet, TSM-MobileNetV2) or a big model at a small clip; never 'nothing fits'",
        "within the 4 GMACs budget",
        lambda a: a.verdict == "recommended" and per_decision(a) <= 4,
    ),
    Scenario(
        "large data, no budget: accuracy first",
        spec("classify 400 everyday actions", "appearance", 240_000, "kinetics"),
        ACCURATE_TRANSFORMERS,
        "240k clips and Kinetics weights: the transformers that top Kinetics (MViTv2, Video Swin, VideoMAE)",
        "no budget given",
        lambda a: a.model != "framepool_r18" and a.pretraining in ("kinetics", "self_supervised"),
    ),
    Scenario(
        "large data, ImageNet only: self-supervision or a transformer that trains from scratch at this scale",
        spec("classify 400 everyday actions", "appearance", 240_000, "imagenet"),
        ACCURATE_TRANSFORMERS | {"timesformer_divided"},
        "VideoMAE self-supervises on the same 240k clips; MViT trains from scratch on K400",
        "Evidence:",
        lambda a: a.model != "framepool_r18",
    ),
    Scenario(
        "appearance, 2k clips, Kinetics allowed: Kinetics weights are used",
        spec("classify cooking utensils in use", "appearance", 2_000, "kinetics", budget_gmacs=40),
        CONVOLUTIONS | ACCURATE_TRANSFORMERS,
        "with Kinetics weights allowed they are the better start for appearance labels too",
        "Start from kinetics weights",
        lambda a: a.pretraining == "kinetics" and per_decision(a) <= 40,
    ),
    Scenario(
        "SSv2 itself: 169k clips, Kinetics weights",
        spec("Something-Something V2", "motion", 169_000, "kinetics"),
        {"videomae_vit_b", "videomae_vit_s", "swin3d_b", "mvit_v2_s"},
        "the SSv2 leaders in the evidence table (VideoMAE 70.8, Swin-B 69.6, MViTv2-S 68.2)",
        "SSv2",
        mixes_frames,
    ),
    Scenario(
        "SSv2-like, 16 frames fixed, 50 GMACs per decision",
        spec("pushing something left vs right", "motion", 20_000, "kinetics", frames=16, budget_gmacs=50),
        ACCURATE_TRANSFORMERS | {"swin3d_t", "tsm_r50", "x3d_m", "r2plus1d_18", "s3d", "r3d_18", "mc3_18"},
        "any model that mixes frames at 16 frames within 50 GMACs for the whole decision",
        "within the 50 GMACs budget",
        lambda a: a.frames == 16 and per_decision(a) <= 50 and mixes_frames(a),
    ),
    Scenario(
        "fine-grained motion (FineGym-like), 200 GMACs",
        spec("fine-grained gymnastics elements (FineGym-like)", "motion", 30_000, "kinetics", budget_gmacs=200),
        ACCURATE_TRANSFORMERS | {"tsm_r50", "slowfast_r50_8x8", "slowfast_r50_4x16"},
        "fine distinctions of motion: a strong temporal model at 16+ frames",
        "defined by motion",
        lambda a: a.frames >= 16 and mixes_frames(a) and per_decision(a) <= 200,
    ),
    Scenario(
        "sign language (isolated signs), 14k clips",
        spec("isolated sign language recognition (WLASL-like)", "motion", 14_000, "kinetics"),
        ACCURATE_TRANSFORMERS | {"tsm_r50", "slowfast_r50_8x8", "slowfast_r50_4x16"},
        "signs differ by hand motion: a temporal model at 16+ frames from video weights",
        "defined by motion",
        lambda a: a.frames >= 16 and mixes_frames(a) and a.pretraining == "kinetics",
    ),
    Scenario(
        "from scratch, 3k clips, no budget",
        spec("gestures from a new sensor", "motion", 3_000, "none"),
        {"videomae_vit_b", "videomae_vit_s"} | CONVOLUTIONS,
        "no outside weights: self-supervision on the own clips (VideoMAE: 62.6 on HMDB51's 3.5k) or a convolution",
        "Start from",
        lambda a: not (a.family == "transformer" and a.pretraining == "none"),
    ),
    Scenario(
        "from scratch, 3k clips, 50 GMACs: a convolution",
        spec("gestures from a new sensor", "motion", 3_000, "none", budget_gmacs=50),
        CONVOLUTIONS | {"videomae_vit_s", "videomae_vit_b"},
        "within 50 GMACs: a convolution from scratch, or VideoMAE self-supervised on the own clips at a smaller clip",
        "within the 50 GMACs budget",
        lambda a: a.pretraining in ("none", "self_supervised") and per_decision(a) <= 50,
    ),
    Scenario(
        "ImageNet only, 5k clips, motion",
        spec("tool use in surgery videos", "motion", 5_000, "imagenet", budget_gmacs=60),
        CONVOLUTIONS | {"videomae_vit_s", "videomae_vit_b", "timesformer_divided"},
        "ImageNet weights inflate into I3D or start TSM; VideoMAE can self-supervise on the 5k clips",
        "Start from",
        lambda a: mixes_frames(a) and per_decision(a) <= 60,
    ),
    Scenario(
        "long-range: 10-minute videos",
        spec(
            "recognise the recipe from 10-minute cooking videos",
            "mixed",
            8_000,
            "kinetics",
            long_range=True,
            video_seconds=600,
        ),
        ACCURATE_TRANSFORMERS | CONVOLUTIONS,
        "clips over the whole video and a temporal model over their features, not 10 averaged clips",
        "Long-range mode",
        lambda a: (
            a.aggregation == "temporal_model"
            and a.clips_per_minute is not None
            and a.test_clips == max(2, math.ceil(a.clips_per_minute * 10))
        ),
    ),
    Scenario(
        "long-range with a 300 GMACs budget per video",
        spec(
            "recognise the recipe from 10-minute cooking videos",
            "mixed",
            8_000,
            "kinetics",
            long_range=True,
            video_seconds=600,
            budget_gmacs=300,
        ),
        CONVOLUTIONS | {"swin3d_t"},
        "the whole video must fit 300 GMACs: a cheap clip encoder at a few clips per minute",
        "temporal model over clip features",
        lambda a: a.aggregation == "temporal_model" and per_decision(a) <= 300,
    ),
    Scenario(
        "text-video retrieval (read from the text)",
        spec("text-to-video retrieval over a stock-footage library", "appearance", 9_000),
        {"clip_vit_b32"},
        "retrieval starts from an aligned image-text embedding: a CLIP-style frame encoder (CLIP4Clip)",
        "a video+text task",
        lambda a: a.pretraining == "image_text",
    ),
    Scenario(
        "CCTV: long footage read from the text",
        spec("detect fights in CCTV footage", "mixed", 5_000, "kinetics", budget_gmacs=2000),
        ACCURATE_TRANSFORMERS | CONVOLUTIONS,
        "CCTV is long and continuous: long-range mode over the footage, within the budget",
        "CCTV",
        lambda a: a.aggregation == "temporal_model" and per_decision(a) <= 2000,
    ),
    Scenario(
        "fixed 8 x 112 clip rules out MViT",
        spec("pushing something left vs right", "motion", 20_000, "kinetics", frames=8, size=112),
        (ACCURATE_TRANSFORMERS - {"mvit_v2_s", "mvit_v1_b"}) | {"swin3d_t", "tsm_r50", "r2plus1d_18", "r3d_18"},
        "torchvision's MViT runs only 16 x 224; the spec's clip is kept",
        "Evidence:",
        lambda a: (a.frames, a.size) == (8, 112),
    ),
    Scenario(
        "mixed, 200k clips, Kinetics, no budget",
        spec("everyday actions with some direction-dependent classes", "mixed", 200_000, "kinetics"),
        ACCURATE_TRANSFORMERS,
        "a large dataset with video weights: the most accurate transformers",
        "no budget given",
        mixes_frames,
    ),
    Scenario(
        "appearance on an edge device, 5 GMACs: frames before resolution",
        spec("product recognition in shop videos", "appearance", 8_000, "imagenet", budget_gmacs=5, deployment="edge"),
        EDGE_MODELS | {"framepool_r18"},
        "a mobile network at its native side; frames are dropped before resolution",
        "within the 5 GMACs budget",
        lambda a: per_decision(a) <= 5 and a.size >= cat.entry(a.model).native[1],
    ),
]

INFEASIBLE = spec(
    "pushing something left vs right", "motion", 20_000, "kinetics", frames=16, size=224, budget_gmacs=0.5
)


@pytest.mark.slow  # the first scenario measures every catalogue model once (about a minute on a busy CPU)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_answer_is_in_its_expected_set_and_passes_its_validator(scenario):
    answer = recommend(scenario.spec)
    assert answer.model in scenario.models, f"{answer.model} not in {sorted(scenario.models)}: {scenario.why}"
    assert scenario.reason in answer.rationale, answer.rationale
    assert scenario.check(answer), (scenario.why, answer.model_dump())
    assert answer.test_time == "deterministic"
    assert [f for f in validate_answer(scenario.spec, answer) if f.severity == "error"] == []


def test_nothing_fits_gives_an_infeasible_answer_with_the_nearest_alternatives():
    answer = recommend(INFEASIBLE)
    assert answer.verdict == "infeasible" and answer.alternatives
    assert "Nothing in the catalogue meets every constraint" in answer.rationale
    assert all("> budget 0.5" in alternative.violates for alternative in answer.alternatives)
    assert validate_answer(INFEASIBLE, answer) == []  # the validator agrees nothing fits
    # ... and refuses the same claim when something does fit.
    roomy = INFEASIBLE.model_copy(update={"budget_gmacs": 500.0})
    assert "TKP114" in [f.rule for f in validate_answer(roomy, answer)]


def test_appearance_drops_frames_before_resolution():
    """With only TSM-R50 to choose from and a budget a quarter of its 8 x 224 cost, an appearance task
    keeps 224 px and drops frames; a motion task gives up resolution first."""
    rows = {"tsm_r50": cat.entry("tsm_r50")}
    appearance = spec("scenes", "appearance", 50_000, "kinetics", budget_gmacs=9)
    best = max(enumerate_candidates(appearance, rows)[0], key=lambda c: c.score)
    assert (best.size, best.frames < 8) == (224, True)
    motion = spec("directions", "motion", 50_000, "kinetics", budget_gmacs=9)
    best = max(enumerate_candidates(motion, rows)[0], key=lambda c: c.score)
    assert best.size < 224 and best.frames >= 4


def test_task_text_cues_are_applied_only_where_the_spec_is_silent():
    read, notes = read_task_text(TaskSpec(task="gesture control on a phone", motion="motion", train_clips=10))
    assert read.deployment == "edge" and "'phone' in the task text" in notes[0]
    kept, notes = read_task_text(
        TaskSpec(task="gesture control on a phone", motion="motion", train_clips=10, deployment="server")
    )
    assert kept.deployment == "server" and "kept" in notes[0]


def test_search_is_deterministic():
    first, second = search(SCENARIOS[3].spec), search(SCENARIOS[3].spec)
    assert (first.best.model, first.best.frames, first.best.size) == (
        second.best.model,
        second.best.frames,
        second.best.size,
    )


def test_without_the_models_extra_the_search_tries_only_clips_the_snapshot_can_cost(monkeypatch):
    import temporalkit.extras as extras
    from temporalkit.picker import search as search_module
    from temporalkit.picker.cost_snapshot import GRID_FRAMES, GRID_SIZES

    assert search_module._measurable_grid() == (search_module.FRAMES_GRID, search_module.SIZES_GRID)
    monkeypatch.setattr(extras, "missing_modules", lambda extra: ["torch"] if extra == "models" else [])
    assert search_module._measurable_grid() == (GRID_FRAMES, GRID_SIZES)
