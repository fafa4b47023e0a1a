"""The finding model shared by the static auditor, the dynamic auditor and the picker validator.

Kept as a plain dataclass (not pydantic) so the static path starts fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
Source = Literal["static", "dynamic", "picker"]

SEVERITIES: tuple[str, ...] = ("error", "warning")

# The fixed category vocabulary. Rules, dynamic checks, docs and the skill read it from here.
CATEGORIES: dict[str, str] = {
    "index-out-of-range": "an index can reach num_frames or go negative",
    "short-clip": "num_frames < T (or num_frames == 0) crashes, returns fewer than T indices, uses a zero step, or ignores frames that exist",
    "uneven-coverage": "uniform sampling leaves the tail of the video unsampled or clumps",
    "start-range": "a random window's start cannot reach the last valid start n - T, or can pass it",
    "temporal-order": "indices that can come out unsorted or reversed",
    "clip-length": "the number of frames returned can differ from T",
    "frame-count-metadata": "trusting a container's frame count without checking it against decoded frames",
    "aspect-distortion": "resizing frames to a fixed (H, W) that ignores the aspect ratio",
    "inconsistent-crop": "a random spatial transform drawn per frame",
    "color-order": "OpenCV frames (BGR) used without conversion to RGB",
    "zero-padding": "a short clip padded with black frames",
    "nondeterministic-eval": "randomness in test-time or validation sampling",
    "layout": "a clip in (T, C, H, W) fed to a model that expects (N, C, T, H, W) or the reverse",
}

# Categories of findings about the audit itself rather than the audited code (TK0xx): selectable
# and suppressible like the others, but not part of the video-bug vocabulary the skill teaches.
META_CATEGORIES: dict[str, str] = {
    "suppression": "a `# temporalkit: ignore[...]` comment naming no rule id, prefix or category",
}


@dataclass(frozen=True)
class Finding:
    """One problem found in user code (or in an assistant's answer).

    `line`/`column` are 1-based lines and 0-based columns, as libcst reports them (every output
    format of `formats.py` shows the column 1-based).
    `fix` is a human-readable suggested fix (not necessarily auto-applicable).
    """

    rule: str
    category: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    fix: str = ""
    end_line: int | None = None
    end_column: int | None = None
    source: Source = "static"
    extra: dict = field(default_factory=dict, compare=False)
    fixable: bool = field(default=False, compare=False)  # `temporalkit audit --fix` has a mechanical fix for it

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES and self.category not in META_CATEGORIES and self.source != "picker":
            raise ValueError(f"unknown finding category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        if data.pop("extra"):
            data["extra"] = self.extra
        if data.pop("fixable"):  # said only when true: most findings have no mechanical fix
            data["fixable"] = True
        data["end_line"] = self.end_line if self.end_line is not None else self.line
        data["end_column"] = self.end_column if self.end_column is not None else self.column
        return data


@dataclass(frozen=True)
class FileError:
    """A file that could not be audited (unreadable, not UTF-8, syntax error, import failure...)."""

    path: str
    message: str

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
