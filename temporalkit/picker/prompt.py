"""The architecture-picker prompt: the task spec (with what its free text implies), the catalogue
with each model's cost for this task, the evidence table with every figure's protocol, the rules
the answer is checked against and the answer schema, rendered from
`prompts/architecture_picker.md.j2` in the one template environment (`temporalkit.templating`).
Deterministic unless latency is measured.
"""

from __future__ import annotations

import json
from importlib import resources

from temporalkit.picker import catalogue as cat
from temporalkit.picker import costs
from temporalkit.picker import evidence as ev
from temporalkit.picker.answer import ESTIMATE_TOLERANCE, FEW_CLIPS, allowed_sampling
from temporalkit.picker.schema import SPEC_FIELDS, Answer, TaskSpec
from temporalkit.picker.search import effective_pretraining, long_range_mode, read_task_text
from temporalkit.reference_models.families import ALIASES, Family
from temporalkit.templating import table_cell, template_environment

TEMPLATE_NAME = "architecture_picker.md.j2"

FAMILY_ROWS = (
    (
        Family.POOL_2D,
        "a 2D image network on each frame, features averaged over time (TSN; CLIP frame encoders)",
        "cheapest per frame; reuses image weights; uniform frames cover the whole video",
        "blind to frame order: cannot tell 'pushing left' from 'pushing right'",
    ),
    (
        Family.TEMPORAL_SHIFT,
        "a 2D network whose blocks shift a fraction of channels to the neighbouring frames (TSM)",
        "temporal modelling at 2D cost; runs on phones (MobileNetV2 variant)",
        "a local temporal receptive field per block",
    ),
    (
        Family.CONV_3D,
        "3D convolutions (I3D inflation, R3D, MC3, X3D, SlowFast, MoViNet)",
        "learns local motion directly; X3D and MoViNet are built for small budgets",
        "full 3D kernels cost more per frame and optimise less easily from scratch",
    ),
    (
        Family.CONV_2PLUS1D,
        "each 3D conv factorised into a spatial and a temporal conv (R(2+1)D, S3D)",
        "motion modelling with an extra non-linearity; easier to optimise than 3D",
        "local temporal receptive field; needs neighbouring frames",
    ),
    (
        Family.TRANSFORMER,
        "attention over space-time tokens: joint (all to all, cost quadratic in tokens), divided (time then "
        "space per block, TimeSformer), factorised encoder (spatial then temporal encoder, ViViT), multiscale "
        "or windowed (MViT, Video Swin), masked-autoencoder pretrained (VideoMAE)",
        "most accurate with enough data: MViT trains from scratch at Kinetics scale, VideoMAE self-supervises on "
        "the target videos, the others start from ImageNet or Kinetics weights",
        "from scratch on a few thousand clips it overfits; attention is poorly supported on mobile accelerators; "
        "space-only attention ignores motion like 2D+pool",
    ),
)


def _catalogue_rows(spec: TaskSpec, measure_latency: bool) -> list[dict]:
    rows = []
    for model_id, row in cat.catalogue().items():
        frames = spec.frames or row.native[0]
        size = spec.size or row.native[1]
        published_only = cat.is_published_only(row)
        gmacs, params, latency, latency_device, error = None, None, None, None, None
        if published_only:
            if (frames, size) == row.native:
                gmacs = row.published_gmacs
            else:
                error = f"published-only: cost known at {row.native[0]}x{row.native[1]} only"
        else:
            with_latency = measure_latency and spec.device is not None
            cost = costs.measured_cost(model_id, frames, size, spec.device if with_latency else "meta", with_latency)
            error = cost.error
            if not error:
                gmacs, params = round(cost.gmacs, 2), round(cost.params / 1e6, 2)
                latency = None if cost.latency_ms is None else round(cost.latency_ms, 1)
                latency_device = cost.latency_device
        evidence = [key for key in (row.k400, row.ssv2, row.retrieval) if key]
        rows.append(
            {
                "model": model_id,
                "family": row.family.answer_name,
                "frames": frames,
                "size": size,
                "native": f"{row.native[0]}x{row.native[1]}",
                "gmacs": gmacs,
                "params_m": params,
                "latency_ms": latency,
                "latency_device": latency_device,
                "pretraining": ", ".join(row.pretraining),
                "mixes_frames": "yes" if row.temporal_mixing else "no",
                "edge": "yes" if row.edge else "",
                "image_text": "yes" if row.image_text else "",
                "source": "published" if published_only else "measured",
                "evidence": ", ".join(f"`{key}`" for key in evidence),
                "note": ("cannot run: " + error) if error else row.note,
            }
        )
    return rows


def _evidence_rows() -> list[ev.Evidence]:
    from temporalkit.reference_models.registry import MODELS, PUBLISHED_ONLY

    rows = list(ev.PAPER_EVIDENCE)
    for model_id in [*MODELS, *PUBLISHED_ONLY]:
        declared = ev.registry_evidence(model_id)
        if declared is not None:
            rows.append(declared)

    for model_id, entry in MODELS.items():
        if entry.torchvision_weights:
            try:
                rows.append(ev.torchvision_evidence(model_id, entry.torchvision_weights))
            except Exception:  # noqa: BLE001 - no torchvision in this install: its rows are left out
                continue
    return rows


def _cell_text(value):
    if isinstance(value, tuple):
        return ", ".join(value)
    if hasattr(value, "model_dump"):
        return json.dumps(value.model_dump(), sort_keys=True)
    return value


def prompt_template():
    source = resources.files("temporalkit.prompts").joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
    return template_environment().from_string(source)


def render_prompt(spec: TaskSpec, *, measure_latency: bool = False) -> str:
    """The Markdown prompt for `spec`. Deterministic unless `measure_latency` (and `spec.device`)."""
    read, text_notes = read_task_text(spec)
    spec_items = [(name, table_cell(_cell_text(getattr(spec, name)))) for name in SPEC_FIELDS]
    return prompt_template().render(
        spec=spec_items,
        spec_json=json.dumps(spec.model_dump(), indent=2),
        text_notes=text_notes,
        allowed_pretraining=sorted(effective_pretraining(read)),
        long_range_mode=long_range_mode(read),
        families=[
            {
                "value": family.answer_name,
                "aliases": [
                    alias for alias, which in ALIASES.items() if which is family and alias != family.answer_name
                ],
                "what": what,
                "strengths": strengths,
                "weaknesses": weaknesses,
                "sampling": allowed_sampling(family.value),
            }
            for family, what, strengths, weaknesses in FAMILY_ROWS
        ],
        catalogue_rows=_catalogue_rows(spec, measure_latency),
        cost_at_native=spec.frames is None or spec.size is None,
        latency_measured=measure_latency and spec.device is not None,
        evidence_rows=_evidence_rows(),
        k600_over_k400=ev.K600_OVER_K400,
        answer_schema=json.dumps(Answer.model_json_schema(), indent=2),
        few_clips=FEW_CLIPS,
        tolerance_percent=round(ESTIMATE_TOLERANCE * 100),
    )
