"""The architecture-picker prompt: the task spec, the measured cost table, the published results
and the answer schema, rendered from `prompts/architecture_picker.md.j2` in the one template
environment (`temporalkit.templating`). Deterministic unless latency is measured.
"""

from __future__ import annotations

import json
from importlib import resources

from temporalkit.picker import costs
from temporalkit.picker.answer import ESTIMATE_TOLERANCE, FEW_CLIPS, allowed_sampling
from temporalkit.picker.schema import SPEC_FIELDS, Answer, TaskSpec
from temporalkit.reference_models.families import ANSWER_FAMILIES
from temporalkit.templating import table_cell, template_environment

TEMPLATE_NAME = "architecture_picker.md.j2"


def _cost_rows_for(spec: TaskSpec, measure_latency: bool) -> list[dict]:
    rows = []
    for model_id in costs.model_ids():
        native_frames, native_size = costs.NATIVE_CLIP[model_id]
        frames = spec.frames or native_frames
        size = spec.size or native_size
        with_latency = measure_latency and spec.device is not None
        cost = costs.measured_cost(model_id, frames, size, spec.device if with_latency else "meta", with_latency)
        rows.append(
            {
                "model": model_id,
                "family": costs.answer_family(model_id),
                "frames": frames,
                "size": size,
                "gmacs": None if cost.error else round(cost.gmacs, 2),
                "params_m": None if cost.error else round(cost.params / 1e6, 2),
                "latency_ms": None if cost.latency_ms is None else round(cost.latency_ms, 1),
                "latency_device": cost.latency_device,
                "pretraining": ", ".join(costs.usable_pretraining(model_id)),
                "error": cost.error,
            }
        )
    return rows


def prompt_template():
    source = resources.files("temporalkit.prompts").joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
    return template_environment().from_string(source)


def render_prompt(spec: TaskSpec, *, measure_latency: bool = False) -> str:
    """The Markdown prompt for `spec`. Deterministic unless `measure_latency` (and `spec.device`)."""
    spec_items = [(name, table_cell(getattr(spec, name))) for name in SPEC_FIELDS]
    return prompt_template().render(
        spec=spec_items,
        spec_json=json.dumps(spec.model_dump(), indent=2),
        cost_rows=_cost_rows_for(spec, measure_latency),
        cost_at_native=spec.frames is None or spec.size is None,
        latency_measured=measure_latency and spec.device is not None,
        paper_results=costs.PAPER_RESULTS,
        torchvision_rows=costs.torchvision_published_rows(),
        answer_schema=json.dumps(Answer.model_json_schema(), indent=2),
        few_clips=FEW_CLIPS,
        tolerance_percent=round(ESTIMATE_TOLERANCE * 100),
        sampling_by_family={family: allowed_sampling(family) for family in ANSWER_FAMILIES},
    )
