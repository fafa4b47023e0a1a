"""What the user declared their pipeline does on purpose: the policies every dynamic check respects.

Set in `[tool.temporalkit.dynamic]` (validated in `validators/config.py`) and carried to the
child process with each object:

    [tool.temporalkit.dynamic]
    short-clip = "loop"            # repeat_last | loop | error | any (default: repeat_last or loop)
    multiclip = "train"            # train (random clips allowed) | test (deterministic) | auto (default)
    num-clips = "any"              # any (variable count allowed unless num_clips is passed) | fixed
    empty-video = "raise"          # raise (default) | sentinel (a documented empty return is fine)

Why settings and not guesses: a loader that pads a short clip by looping, a training-time
multi-clip sampler that draws its clips at random, or a sampler that returns ``[]`` for an empty
video are deliberate choices; a check that cannot tell them from a bug must be told, once, rather
than contradict the advice of another check (TK504 recommends "repeat the last frame, or loop").

The checks read `current()`. The parent sets `ENV` around the child processes it starts
(`in_environment`), so the child reads the pyproject's policy without a new field in its request;
`use(policy)` overrides it in-process (tests, the library API).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from temporalkit.validators.config import POLICY_CHOICES as CHOICES  # key -> allowed values, default first


class PolicyError(ValueError):
    """An unknown policy key or value (a usage error)."""


@dataclass(frozen=True)
class Policy:
    short_clip: str = "any"
    multiclip: str = "auto"
    num_clips: str = "any"
    empty_video: str = "raise"

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None, where: str = "[tool.temporalkit.dynamic]") -> Policy:
        """From ``{"short-clip": "loop", ...}`` (dashes or underscores); PolicyError names a bad key or value."""
        fields: dict[str, str] = {}
        for key, value in (values or {}).items():
            dashed = str(key).replace("_", "-")
            if dashed not in CHOICES:
                raise PolicyError(f"{where}: unknown policy {key!r} (known: {', '.join(CHOICES)})")
            if not isinstance(value, str) or value.replace("-", "_") not in {
                c.replace("-", "_") for c in CHOICES[dashed]
            }:
                raise PolicyError(f"{where}: {dashed} = {value!r} is not one of {', '.join(CHOICES[dashed])}")
            fields[dashed.replace("-", "_")] = value.replace("-", "_")
        return cls(**fields)

    def as_mapping(self) -> dict[str, str]:
        return {key.replace("_", "-"): value for key, value in asdict(self).items()}

    def allows_short_clip(self, how: str) -> bool:
        """Whether a short clip padded `how` ("repeat_last" or "loop") is deliberate."""
        return self.short_clip in ("any", how)


# The parent hands the pyproject's policy to the child process in this variable (JSON).
ENV = "TEMPORALKIT_DYNAMIC_POLICY"
_CURRENT: list[Policy] = []


def current() -> Policy:
    """The policy in force: the innermost `use`, else the one the parent passed in `ENV`, else the defaults."""
    if _CURRENT:
        return _CURRENT[-1]
    try:
        return Policy.from_mapping(json.loads(os.environ.get(ENV) or "{}"))
    except (ValueError, TypeError, AttributeError):
        return Policy()  # the parent validated it; a hand-set bad value falls back to the defaults


@contextmanager
def in_environment(policy: Mapping[str, object] | None) -> Iterator[None]:
    """Set `ENV` for the child processes started inside the block (restored after)."""
    before = os.environ.get(ENV)
    os.environ[ENV] = json.dumps(dict(policy or {}))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


@contextmanager
def use(policy: Policy | Mapping[str, object] | None) -> Iterator[Policy]:
    """Make `policy` the one `current()` returns inside the block."""
    chosen = policy if isinstance(policy, Policy) else Policy.from_mapping(policy)
    _CURRENT.append(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.pop()
