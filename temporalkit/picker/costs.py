"""Registry access and measured cost for the picker. What else it knows per model (native clip,
weights that exist, evidence) is the catalogue (`catalogue.py`) and its published figures with their
protocols (`evidence.py`).

Costs come from the one cost table (`temporalkit.reference_models.cost.measure_cost`); this module
only caches them per (model, frames, size, device, latency) because building MViT or Swin, even on
the meta device, takes seconds and the recommender asks for the same rows many times.
"""

from __future__ import annotations

import functools

from temporalkit.reference_models.families import Family


def _registry():
    from temporalkit.reference_models.registry import MODELS

    return MODELS


def model_ids() -> list[str]:
    return list(_registry())


def model_entry(model_id: str):
    """The registry entry, or None for an id the cost table does not know."""
    return _registry().get(model_id)


def answer_family(model_id: str) -> str | None:
    entry = model_entry(model_id)
    if entry is None:
        return None
    return Family(entry.family).answer_name


def unsupported_reason(model_id: str, frames: int, size: int) -> str | None:
    entry = model_entry(model_id)
    if entry is None:
        return f"unknown model {model_id!r}"
    return entry.unsupported(frames, size)


@functools.lru_cache(maxsize=None)
def measured_cost(model_id: str, frames: int, size: int, device: str = "meta", latency: bool = False):
    """`measure_cost` from the cost table, once per (model, frames, size, device, latency) per process.

    Without torch (the core install) the counts come from the shipped cost snapshot; a clip off
    its grid, or a latency, raises MissingExtra naming the `models` extra.
    """
    from temporalkit.extras import missing_modules, require

    if missing_modules("models"):
        from temporalkit.picker.cost_snapshot import snapshot_cost

        row = None if latency else snapshot_cost(model_id, frames, size)
        if row is None:
            what = (
                "measuring latency"
                if latency
                else f"the cost of {model_id} at {frames}x{size} (not in the shipped table)"
            )
            require("models", what)
        return row
    from temporalkit.reference_models.cost import measure_cost

    return measure_cost(model_id, frames, size, device=device, latency=latency)


def torchvision_published_rows(measure: bool = False) -> list[dict]:
    """Kinetics-400 accuracies, ops and parameters from torchvision's weights metadata (via the registry).

    Without torchvision (and unless `measure`) the rows come from the shipped cost snapshot.
    """
    from temporalkit.extras import missing_modules

    if not measure and missing_modules("models"):
        from temporalkit.picker.cost_snapshot import load_snapshot

        return load_snapshot()["torchvision_published"]
    rows = []
    for model_id, entry in _registry().items():
        if entry.torchvision_weights is None:
            continue
        published = entry.published
        rows.append(
            {
                "model": model_id,
                "family": Family(entry.family).answer_name,
                "acc1": published["acc1"],
                "acc5": published["acc5"],
                "gflops": published["gmacs"],
                "params_m": published["params"] / 1e6,
                "source": f"torchvision {entry.torchvision_weights}.DEFAULT.meta",
            }
        )
    return rows
