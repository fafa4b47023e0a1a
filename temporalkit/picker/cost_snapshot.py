"""The shipped cost snapshot: what the picker reads when torch is not installed.

The picker's costs are measured (`temporalkit.reference_models.cost.measure_cost`, torch on the
meta device). The core install has no torch, so the package ships the measurements of every
registry model on a grid of clips (GRID_FRAMES x GRID_SIZES) and at its native clip (the
catalogue's and the registry's default), plus torchvision's published Kinetics-400 rows the
prompt quotes. A clip off the grid needs the `models` extra.
With torch installed the picker measures and this file is not read.

Regenerate after changing a model or the registry (takes a minute or two on a CPU):

    python -m temporalkit.picker.cost_snapshot --write
"""

from __future__ import annotations

import argparse
import functools
import json
from importlib import resources

SNAPSHOT_NAME = "cost_snapshot.json"
GRID_FRAMES = (4, 8, 16, 32)
GRID_SIZES = (112, 160, 224)


@functools.lru_cache(maxsize=1)
def load_snapshot() -> dict:
    """The shipped snapshot: {"rows": [CostRow dicts], "torchvision_published": [...]}."""
    text = resources.files("temporalkit.picker").joinpath(SNAPSHOT_NAME).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _rows_by_clip() -> dict[tuple[str, int, int], dict]:
    return {(row["model"], row["frames"], row["size"]): row for row in load_snapshot()["rows"]}


def snapshot_cost(model_id: str, frames: int, size: int):
    """The CostRow the snapshot holds for this clip, or None when the clip is not on its grid."""
    from temporalkit.reference_models.cost import CostRow

    row = _rows_by_clip().get((model_id, frames, size))
    return CostRow(**row) if row is not None else None


def snapshot_clips(model_id: str) -> set[tuple[int, int]]:
    """The (frames, size) clips the snapshot holds for `model_id`: all a search without torch can cost."""
    return {(frames, size) for (model, frames, size) in _rows_by_clip() if model == model_id}


def build_snapshot() -> dict:
    """Measure every registry model on the grid (needs torch and torchvision)."""
    from temporalkit.picker import catalogue, costs
    from temporalkit.reference_models.cost import measure_cost

    rows = []
    for model_id in costs.model_ids():
        clips = {(frames, size) for frames in GRID_FRAMES for size in GRID_SIZES}
        row = catalogue.entry(model_id)
        clips |= {row.native} if row is not None else set()
        default_clip = getattr(costs.model_entry(model_id), "default_clip", None)
        clips |= {tuple(default_clip)} if default_clip else set()
        rows += [measure_cost(model_id, frames, size).to_dict() for frames, size in sorted(clips)]
    return {
        "command": "python -m temporalkit.picker.cost_snapshot --write",
        "device": "meta",
        "rows": rows,
        "torchvision_published": costs.torchvision_published_rows(measure=True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure and write the picker's shipped cost snapshot.")
    parser.add_argument("--write", action="store_true", help=f"write temporalkit/picker/{SNAPSHOT_NAME}")
    args = parser.parse_args(argv)
    text = json.dumps(build_snapshot(), indent=1) + "\n"
    if args.write:
        from pathlib import Path

        from temporalkit.fileio import write_atomic

        path = Path(__file__).with_name(SNAPSHOT_NAME)
        write_atomic(path, text)
        print(f"wrote {path}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
