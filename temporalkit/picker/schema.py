"""The picker's two public contracts and their vocabulary: the user's `TaskSpec` and the assistant's `Answer`.

Both are pydantic v2 models, so invalid input gets a message per field. This module imports
pydantic, so nothing on the static path (`temporalkit audit`, `temporalkit --help`) imports it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from temporalkit.reference_models.families import ANSWER_FAMILIES

Motion = Literal["appearance", "mixed", "motion"]
Pretraining = Literal["none", "imagenet", "kinetics"]
Deployment = Literal["edge", "server"]
# The answer speaks the papers' names (`i3d`, `r2plus1d`); `Family.parse` maps them to the registry's.
AnswerFamily = Literal[ANSWER_FAMILIES]  # "2d_pool", "i3d", "r2plus1d", "transformer"
Sampling = Literal["uniform", "dense", "multi_clip"]

# "none" < "imagenet" < "kinetics": a Kinetics-pretrained user can also start from ImageNet.
PRETRAINING_STRENGTH: dict[str, int] = {"none": 0, "imagenet": 1, "kinetics": 2}

SPEC_FIELDS: tuple[str, ...] = (
    "task",
    "motion",
    "train_clips",
    "pretraining",
    "frames",
    "size",
    "budget_gmacs",
    "latency_ms",
    "device",
    "long_range",
    "text",
    "deployment",
)


class TaskSpec(BaseModel):
    """What the user's video task needs. `frames`/`size` = None means "choose for me"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str = Field(min_length=1, description="Free-text description of the task.")
    motion: Motion = Field(
        description="How much the label depends on motion: 'pushing something left vs right' is motion."
    )
    train_clips: int = Field(ge=1, description="Number of labelled training clips.")
    pretraining: Pretraining = Field(
        default="imagenet", description="The strongest pretrained weights the user may start from."
    )
    frames: int | None = Field(default=None, ge=1, le=512, description="Frames per clip T, or null to choose.")
    size: int | None = Field(default=None, ge=32, le=1024, description="Input side in pixels, or null to choose.")
    budget_gmacs: float | None = Field(default=None, gt=0, description="Compute budget per clip in GMACs.")
    latency_ms: float | None = Field(default=None, gt=0, description="Latency target per clip in milliseconds.")
    device: str | None = Field(default=None, description="Device the latency target is measured on (cpu, cuda).")
    long_range: bool = Field(default=False, description="Context beyond ~10 s matters.")
    text: bool = Field(default=False, description="A video+text task (retrieval, captioning, QA).")
    deployment: Deployment = Field(default="server")


class Answer(BaseModel):
    """The architecture recommendation an assistant (or `recommend`) must reply with."""

    model_config = ConfigDict(extra="forbid")

    family: AnswerFamily = Field(description="2d_pool, i3d (inflated 3D conv), r2plus1d or transformer.")
    model: str = Field(description="A model id from the cost table.")
    frames: int = Field(ge=1, description="Frames per clip T.")
    size: int = Field(ge=1, description="Input side in pixels (square crop).")
    sampling: Sampling = Field(description="Training-time frame sampling: uniform, dense or multi_clip.")
    test_clips: int = Field(ge=1, description="Clips averaged per video at test time.")
    estimated_gmacs: float = Field(ge=0, description="GMACs per clip of the model at frames x size.")
    pretraining: Pretraining = Field(description="Weights to start from: none, imagenet or kinetics.")
    rationale: str = Field(min_length=1, description="Why this family and model fit the task.")
    risks: list[str] = Field(description="What could go wrong with this choice.")


class SpecError(ValueError):
    """A spec that cannot be read or does not validate; `str()` is one line per problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


# Error messages that echo input (a value, a field name, a parser's message) show at most this much
# of it: a 1 KB YAML alias bomb once made a 351 MB message.
ECHO_LIMIT = 200
# A spec is a dozen fields; a larger file is not a spec (and /dev/zero must not fill the memory).
MAX_SPEC_BYTES = 1_000_000


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters with a note of how much was left out."""
    text = " ".join(str(text).split("\n"))
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def short_repr(value: Any, limit: int = ECHO_LIMIT) -> str:
    """A repr of `value` that stays short however large or deep the value is."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxstring, shortener.maxother = 3, limit, limit
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 8
    try:
        text = shortener.repr(value)
    except Exception:  # a hostile __repr__ (not reachable from YAML/JSON/TOML, but cheap to guard)
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def describe_validation_error(error: ValidationError) -> list[str]:
    """One `field: message (got value)` line per pydantic error; echoed values are cut short."""
    lines = []
    for item in error.errors():
        where = clip(".".join(str(part) for part in item["loc"]) or "(top level)")
        if item["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown field")
            continue
        got = "" if item["type"] == "missing" else f" (got {short_repr(item.get('input'))})"
        lines.append(f"{where}: {clip(item['msg'])}{got}")
    return lines


def _yaml_loader():
    """yaml.SafeLoader that refuses aliases (`*name`): a spec never needs them, and a few nested
    aliases expand a 1 KB file into billions of values (the "billion laughs")."""
    import yaml

    class SpecLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"aliases (*{event.anchor}) are not allowed in a spec", event.start_mark
                )
            return super().compose_node(parent, index)

    return SpecLoader


def spec_from_mapping(data: Any, source: str = "<spec>") -> TaskSpec:
    if not isinstance(data, dict):
        raise SpecError(source, [f"expected a mapping of spec fields, got {type(data).__name__}"])
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, describe_validation_error(exc)) from None


def read_spec_mapping(path: str | Path) -> dict:
    """The raw mapping in a YAML, JSON or TOML file (chosen by extension; YAML otherwise)."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_SPEC_BYTES + 1)
        if len(raw) > MAX_SPEC_BYTES:
            raise SpecError(
                str(path), [f"cannot read: larger than {MAX_SPEC_BYTES:,} bytes (a spec is a dozen fields)"]
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [f"cannot read: {exc.strerror if isinstance(exc, OSError) else exc}"]) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader without aliases
    except RecursionError:
        raise SpecError(str(path), [f"cannot parse as {suffix.lstrip('.') or 'yaml'}: nested too deeply"]) from None
    except Exception as exc:  # the parsers raise their own error types; all mean "not parseable"
        mark = getattr(exc, "problem_mark", None)  # PyYAML: say where, without its "<unicode string>"
        if mark is not None and getattr(exc, "problem", None):
            context = f"{exc.context}: " if getattr(exc, "context", None) else ""
            message = f"line {mark.line + 1}, column {mark.column + 1}: {context}{exc.problem}"
        else:
            message = " ".join(str(exc).split())
        raise SpecError(
            str(path), [f"cannot parse as {suffix.lstrip('.') or 'yaml'}: {clip(message or type(exc).__name__)}"]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(str(path), [f"expected a mapping of spec fields, got {type(data).__name__}"])
    return data


def load_spec(path: str | Path, overrides: dict | None = None) -> TaskSpec:
    """Read a spec file, apply `overrides` (e.g. CLI flags; None values are ignored), validate."""
    data = read_spec_mapping(path)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return spec_from_mapping(data, str(path))


def default_spec() -> TaskSpec:
    """An SSv2-like task: labels defined by motion, mid-sized data, Kinetics weights allowed."""
    return TaskSpec(
        task="Classify hand-object interactions such as 'pushing something from left to right' "
        "versus 'from right to left' (Something-Something V2-like)",
        motion="motion",
        train_clips=20000,
        pretraining="kinetics",
        frames=16,
        size=None,
        budget_gmacs=50.0,
        deployment="server",
    )
