"""The picker's two public contracts and their vocabulary: the user's `TaskSpec` and the assistant's `Answer`.

Both are pydantic v2 models, so invalid input gets a message per field. This module imports
pydantic, so nothing on the static path (`temporalkit audit`, `temporalkit --help`) imports it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from temporalkit.reference_models.families import ALIASES, ANSWER_FAMILIES, Family

Motion = Literal["appearance", "mixed", "motion"]
# image_text: CLIP-style image-text weights; self_supervised: pretrained without labels on the
# user's own videos (VideoMAE-style), which needs no outside data and so is always allowed.
Pretraining = Literal["none", "self_supervised", "imagenet", "image_text", "kinetics"]
Deployment = Literal["edge", "server"]
Sampling = Literal["uniform", "dense", "multi_clip"]


def _family_value(value: Any) -> Any:
    """Any spelling `Family.parse` accepts (`3d_conv`, `2plus1d`, `framepool`, `shift`) becomes the answer name."""
    if isinstance(value, str):
        try:
            return Family.parse(value).answer_name
        except ValueError:
            return value  # the Literal below reports it, with the accepted values
    return value


# One vocabulary (`families.py`) with the registry, `temporalkit cost`, `check --family` and `train`:
# every spelling `Family.parse` accepts is accepted here and normalised to the family's answer name.
FamilyName = Annotated[Literal[ANSWER_FAMILIES], BeforeValidator(_family_value)]

# A single `pretraining` value allows the weaker ones too: kinetics allows imagenet, image_text
# allows imagenet; a list allows exactly what it names. Own-data self-supervision is always allowed.
_IMPLIED_PRETRAINING: dict[str, tuple[str, ...]] = {
    "none": ("none",),
    "self_supervised": ("none", "self_supervised"),
    "imagenet": ("none", "imagenet"),
    "image_text": ("none", "imagenet", "image_text"),
    "kinetics": ("none", "imagenet", "kinetics"),
}

# Numbers are strict: "16" or "50" as strings are errors, not silently converted (ints are floats).
StrictCount = Annotated[int, Field(strict=True)]
StrictNumber = Annotated[float, Field(strict=True)]

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
    "video_seconds",
    "text",
    "deployment",
    "device_profile",
)


class DeviceProfile(BaseModel):
    """What the user measured on the deployment device: the only honest source of its latency.

    `measured_ms` holds per-clip latencies keyed `model@FRAMESxSIZE` (e.g. `tsm_mobilenet_v2@8x224`);
    otherwise latency is estimated as GMACs / `gmacs_per_s` (the throughput measured there)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="The device, e.g. 'Pixel 7 CPU, TFLite, 4 threads'.")
    gmacs_per_s: StrictNumber | None = Field(
        default=None, gt=0, description="Sustained GMACs per second measured there."
    )
    measured_ms: dict[str, StrictNumber] = Field(default_factory=dict, description="Per-clip ms by 'model@TxS'.")

    def latency_ms(self, model: str, frames: int, size: int, gmacs: float) -> tuple[float | None, str]:
        """(per-clip latency, how it was obtained) or (None, why not)."""
        key = f"{model}@{frames}x{size}"
        if key in self.measured_ms:
            return self.measured_ms[key], f"measured on {self.name}"
        if self.gmacs_per_s:
            return 1000 * gmacs / self.gmacs_per_s, f"{gmacs:.2f} GMACs at {self.gmacs_per_s:g} GMACs/s on {self.name}"
        return None, f"the profile of {self.name} has no {key} and no gmacs_per_s"


class TaskSpec(BaseModel):
    """What the user's video task needs. `frames`/`size` = None means "choose for me"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str = Field(min_length=1, description="Free-text description of the task.")
    motion: Motion = Field(
        description="How much the label depends on motion: 'pushing something left vs right' is motion."
    )
    train_clips: StrictCount = Field(ge=1, description="Number of labelled training clips.")
    pretraining: Pretraining | tuple[Pretraining, ...] = Field(
        default="imagenet",
        description="The pretrained weights the user may start from: one value (weaker ones allowed too) or a list.",
    )
    frames: StrictCount | None = Field(default=None, ge=1, le=512, description="Frames per clip T, or null to choose.")
    size: StrictCount | None = Field(default=None, ge=32, le=1024, description="Input side in pixels, or null.")
    budget_gmacs: StrictNumber | None = Field(
        default=None, gt=0, description="Compute budget per decision in GMACs: test clips x crops x per-clip cost."
    )
    latency_ms: StrictNumber | None = Field(default=None, gt=0, description="Latency target per decision in ms.")
    device: str | None = Field(default=None, description="Device to time the latency on here (cpu, cuda).")
    long_range: bool = Field(default=False, description="Context beyond ~10 s matters.")
    video_seconds: StrictNumber | None = Field(default=None, gt=0, description="Typical video length in seconds.")
    text: bool = Field(default=False, description="A video+text task (retrieval, captioning, QA).")
    deployment: Deployment = Field(default="server")
    device_profile: DeviceProfile | None = Field(
        default=None, description="Latency measured on the deployment device (see DeviceProfile)."
    )

    @property
    def allowed_pretraining(self) -> frozenset[str]:
        """Every starting point this spec allows (own-data self-supervision always)."""
        values = (self.pretraining,) if isinstance(self.pretraining, str) else self.pretraining
        allowed = {"self_supervised"}
        for value in values:
            allowed.update(_IMPLIED_PRETRAINING[value])
        return frozenset(allowed)


class Alternative(BaseModel):
    """One of the nearest candidates of an infeasible answer, and what it violates."""

    model_config = ConfigDict(extra="forbid")

    model: str
    frames: StrictCount = Field(ge=1)
    size: StrictCount = Field(ge=1)
    test_clips: StrictCount = Field(ge=1)
    estimated_gmacs: StrictNumber = Field(ge=0, description="GMACs per clip.")
    violates: str = Field(min_length=1, description="Which constraint it misses, and by how much.")


class Answer(BaseModel):
    """The architecture recommendation an assistant (or `recommend`) must reply with.

    `verdict: "infeasible"` says that nothing in the cost table meets the spec: the fields then
    describe the nearest candidate and `alternatives` lists the nearest ones with what each misses.
    """

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["recommended", "infeasible"] = Field(
        default="recommended", description="'infeasible' when no model meets the spec (then give alternatives)."
    )
    family: FamilyName = Field(
        description=f"The model's family: {', '.join(ANSWER_FAMILIES)} (also accepted: {', '.join(ALIASES)})."
    )
    model: str = Field(description="A model id from the cost table.")
    frames: StrictCount = Field(ge=1, description="Frames per clip T.")
    size: StrictCount = Field(ge=1, description="Input side in pixels (square crop).")
    sampling: Sampling = Field(description="Training-time frame sampling: uniform, dense or multi_clip.")
    test_clips: StrictCount = Field(
        ge=1, description="Clips per video at test time (long-range: over the whole video)."
    )
    test_crops: StrictCount = Field(default=1, ge=1, description="Spatial crops per clip at test time.")
    test_time: Literal["deterministic", "random"] = Field(
        description="How test clips are placed: deterministic (centre or evenly spaced, same every run) or random."
    )
    aggregation: Literal["average", "temporal_model"] = Field(
        default="average",
        description="How clip outputs are combined: averaged, or a temporal model over clip features.",
    )
    clips_per_minute: StrictNumber | None = Field(
        default=None, gt=0, description="Long-range mode: clips sampled per minute over the whole video."
    )
    estimated_gmacs: StrictNumber = Field(ge=0, description="GMACs per clip of the model at frames x size.")
    pretraining: Pretraining = Field(description="Weights to start from.")
    rationale: str = Field(min_length=1, description="Why this family and model fit the task.")
    risks: list[str] = Field(description="What could go wrong with this choice.")
    alternatives: list[Alternative] = Field(
        default_factory=list, description="With verdict 'infeasible': the nearest candidates, nearest first."
    )

    @model_validator(mode="after")
    def _infeasible_needs_alternatives(self) -> Answer:
        if self.verdict == "infeasible" and not self.alternatives:
            raise ValueError("verdict 'infeasible' needs at least one entry in alternatives")
        return self


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
# At most this many lines of field problems are listed (the last one says how many were left out).
MAX_PROBLEM_LINES = 10


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
    if len(lines) > MAX_PROBLEM_LINES:  # a spec of 500 unknown keys made a 500-line error
        lines[MAX_PROBLEM_LINES - 1 :] = [f"... and {len(lines) - MAX_PROBLEM_LINES + 1} more problems"]
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
