"""Settings from the nearest pyproject.toml: `[tool.temporalkit]` and `[tool.temporalkit.dynamic]`.

One reader for both sections (`read_config`), one error type (`ConfigError`), every key checked
when the file is read, whichever command reads it:

    [tool.temporalkit]
    select = ["TK1", "aspect-distortion"]    # rule ids, id prefixes or categories
    ignore = ["TK200"]                        # an unknown id, prefix or category is an error
    exclude = ["third_party/", "*_pb2.py"]
    per-file-ignores = { "tests/*" = ["nondeterministic-eval"] }
    fail-on = "warning"                       # or "error": warnings alone then exit 0

    [tool.temporalkit.dynamic]                # the dynamic auditor (validators/dynamic/discover.py)
    timeout = 60                              # seconds per object
    memory-mb = 4096                          # memory limit of the child process (0: none)
    discover = true                           # false: only the objects listed below
    skip = ["data/video.py:legacy_sampler"]
    family = "3d_conv"                        # loaders/transforms feed this reference model (TK621)
    short-clip = "loop"                       # policies (validators/dynamic/policy.py): repeat_last | loop | error
    multiclip = "train"                       # train (random clips allowed) | test | auto

    [[tool.temporalkit.dynamic.objects]]
    target = "data/video.py:VideoDataset.sample_indices"
    role = "sampler"
    args = { vlen = "num_frames", clip_len = "T", mode = "val" }
    test-time = true

Globs and targets are relative to the directory holding the pyproject.toml. Standard library only
(and the family vocabulary): the static auditor reads this on every run.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A pyproject table, or an object named for the dynamic auditor, that cannot be used
    (bad TOML, wrong types, unknown keys, a target that is not FILE:OBJECT, an unknown role or family)."""


_KNOWN_KEYS = {"select", "ignore", "exclude", "per-file-ignores", "fail-on", "include-unused", "dynamic"}
# What the pipeline does on purpose, respected by every dynamic check (validators/dynamic/policy.py):
# key -> allowed values, the first the default.
POLICY_CHOICES: dict[str, tuple[str, ...]] = {
    "short-clip": ("any", "repeat_last", "loop", "error"),  # any: repeat_last or loop
    "multiclip": ("auto", "train", "test"),  # train: random clips allowed; test: deterministic
    "num-clips": ("any", "fixed"),  # any: a variable clip count is fine unless num_clips is passed
    "empty-video": ("raise", "sentinel"),  # sentinel: an empty return for an empty video is documented
}
_DYNAMIC_KEYS = {"timeout", "memory-mb", "discover", "skip", "objects", "family", *POLICY_CHOICES}
# Keys of one [[tool.temporalkit.dynamic.objects]] entry; the calling-convention ones go to the adapters.
_OBJECT_KEYS = {"target", "role", "args", "test-time", "family"}
_CONVENTION_KEYS = {"init", "inputs", "output", "clip-key", "preset", "fps"}
PRESETS: tuple[str, ...] = ("openmmlab",)  # validators/dynamic/adapters/dict_pipeline.py
# How the dynamic auditor can call an object; `temporalkit check --role` offers the same.
ROLES: tuple[str, ...] = ("sampler", "subsample", "transform", "loader", "multiclip", "image")


@dataclass(frozen=True)
class Candidate:
    """One object of an audited file the dynamic checks will exercise."""

    path: str
    name: str  # "sample", "ClipSampler" or "Dataset.sample_indices"
    role: str
    line: int
    column: int = 0
    args: Mapping[str, str] = field(default_factory=dict)
    test_time: bool | None = None  # None: decide from the name and the parameters
    reason: str = ""
    family: str | None = None  # reference-model family its clips are meant for (layout check TK621)
    # How to call it (validators/dynamic/adapters): init, inputs, output, clip_key, preset, fps.
    convention: Mapping[str, object] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.path}:{self.name}"


@dataclass(frozen=True)
class DynamicConfig:
    """`[tool.temporalkit.dynamic]`, validated."""

    root: Path | None = None
    timeout: float | None = None
    memory_mb: int | None = None
    discover: bool = True
    skip: tuple[str, ...] = ()
    objects: tuple[Candidate, ...] = ()
    family: str | None = None  # default family for loaders and transforms (layout check TK621)
    policy: Mapping[str, str] = field(default_factory=dict)  # short-clip, multiclip, ... as written, validated

    def objects_in(self, path: str | os.PathLike) -> list[Candidate]:
        resolved = _absolute(path)
        return [c for c in self.objects if _absolute(self._resolve(c.path)) == resolved]

    def is_skipped(self, path: str | os.PathLike, name: str) -> bool:
        resolved = _absolute(path)
        for target in self.skip:
            file_part, _, object_part = target.rpartition(":")
            if _absolute(self._resolve(file_part)) == resolved and object_part == name:
                return True
        return False

    def _resolve(self, path: str) -> str:
        if self.root is not None and not os.path.isabs(path):
            return str(self.root / path)
        return path


def _absolute(path: str | os.PathLike) -> str:
    return os.path.normcase(os.path.abspath(path))


@dataclass(frozen=True)
class AuditConfig:
    root: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail_on: str = "warning"
    include_unused: bool = False  # report findings in code nothing in the audited tree uses
    source: Path | None = None  # the pyproject.toml it came from
    dynamic: DynamicConfig = field(default_factory=DynamicConfig)  # [tool.temporalkit.dynamic]

    def relative(self, path: Path) -> str:
        """`path` relative to the config root, posix style ('' when outside it)."""
        base = self.root or Path.cwd()
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
        except ValueError:
            return ""

    def is_excluded(self, path: Path) -> bool:
        rel = self.relative(path)
        return bool(rel) and any(glob_matches(rel, pattern) for pattern in self.exclude)

    def ignored_for(self, path: Path) -> tuple[str, ...]:
        rel = self.relative(path)
        if not rel:
            return ()
        ignored: list[str] = []
        for pattern, selectors in self.per_file_ignores.items():
            if glob_matches(rel, pattern):
                ignored.extend(selectors)
        return tuple(ignored)


def glob_matches(relative_path: str, pattern: str) -> bool:
    """gitignore-ish: `dir/` matches everything under dir; a pattern without '/' also matches a basename."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern.endswith("/"):
        prefix = pattern.rstrip("/")
        return (
            relative_path == prefix
            or relative_path.startswith(prefix + "/")
            or any(fnmatch.fnmatchcase(part, prefix) for part in relative_path.split("/")[:-1])
        )
    if fnmatch.fnmatchcase(relative_path, pattern):
        return True
    if relative_path.startswith(pattern.rstrip("/") + "/"):
        return True
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative_path.split("/"))
    return False


def selector_matches(selector: str, rule_id: str, category: str) -> bool:
    """`TK101` (exact), `TK1` (prefix), `ALL`, or a category name such as `aspect-distortion`.

    Ids, prefixes and `ALL` match whatever their case (`tk101`); so do categories (`Layout`)."""
    selector = selector.strip()
    if not selector:
        return False
    upper = selector.upper()
    return upper == "ALL" or selector.lower() == category or rule_id.upper().startswith(upper)


def selects_opt_in(selector: str, rule_id: str, category: str) -> bool:
    """Whether `selector` names an opt-in rule itself: its id, its category or ALL, not a prefix of its id
    (`select = ["TK1"]` keeps the TK1xx rules of the default run)."""
    selector = selector.strip()
    return selector.upper() in ("ALL", rule_id.upper()) or selector.lower() == category


def unknown_selector(selector: str, rule_ids: Iterable[str], categories: Iterable[str]) -> str | None:
    """None when `selector` names a rule id, an id prefix, a category or ALL; else why not, with the
    closest known names (`unknown rule id, prefix or category 'TK10l' (did you mean TK101?)`)."""
    import difflib

    rule_ids, categories = sorted({r.upper() for r in rule_ids}), sorted(set(categories))
    wanted = selector.strip()
    if wanted.upper() == "ALL" or wanted.lower() in categories:
        return None
    if wanted and any(rule_id.startswith(wanted.upper()) for rule_id in rule_ids):
        return None
    # Look-alike characters first (TK10l, TKl0I, TK1O1), then the closest spellings.
    lookalike = wanted[:2].upper() + wanted[2:].upper().translate(str.maketrans("LIO", "110"))
    close = [lookalike] if lookalike in rule_ids else difflib.get_close_matches(wanted.upper(), rule_ids, 3, 0.6)
    close += difflib.get_close_matches(wanted.lower(), categories, n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else " (`temporalkit rule --all` lists them)"
    return f"unknown rule id, prefix or category {selector!r}{hint}"


def check_selectors(selectors: Iterable[str], where: str, rule_ids: Iterable[str], categories: Iterable[str]) -> None:
    """ConfigError naming `where` (`--select`, `pyproject.toml: select`) for the first unknown selector."""
    rule_ids, categories = list(rule_ids), list(categories)
    for selector in selectors:
        problem = unknown_selector(selector, rule_ids, categories)
        if problem:
            raise ConfigError(f"{where}: {problem}")


def find_pyproject(start: Path) -> Path | None:
    start = Path(os.path.abspath(start))
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | str | None = None) -> AuditConfig:
    """Settings from the nearest pyproject.toml at or above `start` (default: the working directory).

    A pyproject.toml without a `[tool.temporalkit]` table gives the defaults, rooted at its directory.
    """
    pyproject = find_pyproject(Path(start) if start is not None else Path.cwd())
    if pyproject is None:
        return AuditConfig()
    return read_config(pyproject)


def read_tool_table(pyproject: str | os.PathLike) -> dict:
    """The `[tool.temporalkit]` table of `pyproject` ({} when it has none): the one place the file is parsed."""
    import tomllib

    try:
        with open(pyproject, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read [tool.temporalkit]: {exc}") from exc
    tool = document.get("tool", {})
    table = tool.get("temporalkit", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.temporalkit] must be a table")
    return table


def read_config(pyproject: Path) -> AuditConfig:
    """Both sections of `pyproject`, validated; ConfigError names the file and the problem."""
    pyproject = Path(pyproject)
    table = read_tool_table(pyproject)
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{pyproject}: unknown key(s) in [tool.temporalkit]: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_KNOWN_KEYS))})"
        )
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{pyproject}: per-file-ignores must be a table of glob = [rule ids]")
    fail_on = table.get("fail-on", "warning")
    if fail_on not in ("warning", "error"):
        raise ConfigError(f'{pyproject}: fail-on must be "warning" or "error", not {fail_on!r}')
    include_unused = table.get("include-unused", False)
    if not isinstance(include_unused, bool):
        raise ConfigError(f"{pyproject}: include-unused must be true or false, not {include_unused!r}")
    return AuditConfig(
        root=pyproject.parent,
        select=_strings(table, "select", pyproject),
        ignore=_strings(table, "ignore", pyproject),
        exclude=_strings(table, "exclude", pyproject),
        per_file_ignores={
            str(pattern): _as_strings(value, f"per-file-ignores[{pattern!r}]", pyproject)
            for pattern, value in per_file.items()
        },
        fail_on=fail_on,
        include_unused=include_unused,
        source=pyproject,
        dynamic=dynamic_config(table.get("dynamic", {}), root=pyproject.parent, origin=str(pyproject)),
    )


def load_dynamic_config(pyproject: str | os.PathLike | None) -> DynamicConfig:
    """`[tool.temporalkit.dynamic]` of `pyproject` (None or no such file: the defaults)."""
    if pyproject is None or not os.path.isfile(pyproject):
        return DynamicConfig()
    return read_config(Path(pyproject)).dynamic


def dynamic_config(
    table: object, root: Path | None = None, origin: str = "[tool.temporalkit.dynamic]"
) -> DynamicConfig:
    """`[tool.temporalkit.dynamic]` (a mapping), validated; `origin` starts every error message."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{origin}: [tool.temporalkit.dynamic] must be a table")
    unknown = set(table) - _DYNAMIC_KEYS
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) in [tool.temporalkit.dynamic]: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_DYNAMIC_KEYS))})"
        )
    objects = table.get("objects", [])
    if not isinstance(objects, list):
        raise ConfigError(f"{origin}: [[tool.temporalkit.dynamic.objects]] must be an array of tables")
    named: list[Candidate] = []
    for entry in objects:
        if not isinstance(entry, Mapping) or "target" not in entry or "role" not in entry:
            raise ConfigError(
                f"{origin}: each [[tool.temporalkit.dynamic.objects]] needs target = 'FILE:OBJECT' and role"
            )
        where = f"{origin}: {entry['target']}"
        unknown_keys = sorted(set(entry) - _OBJECT_KEYS - _CONVENTION_KEYS)
        if unknown_keys:
            raise ConfigError(
                f"{where}: unknown key {unknown_keys[0]!r} in [[tool.temporalkit.dynamic.objects]] "
                f"(known: {', '.join(sorted(_OBJECT_KEYS | _CONVENTION_KEYS))})"
            )
        try:
            path, name = parse_target(str(entry["target"]))
            args = parse_args(entry.get("args"), "args")
            convention = parse_convention(entry, where)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        role = str(entry["role"])
        if role not in ROLES:
            raise ConfigError(f"{where}: unknown role {role!r} (one of {', '.join(ROLES)})")
        test_time = entry.get("test-time")
        if test_time is not None and not isinstance(test_time, bool):
            raise ConfigError(f"{where}: test-time must be true or false, got {test_time!r}")
        named.append(
            Candidate(
                path=path,
                name=name,
                role=role,
                line=0,
                args=args,
                test_time=test_time,
                reason="named in pyproject",
                family=check_family(entry.get("family"), where),
                convention=convention,
            )
        )
    skip = table.get("skip", [])
    if not isinstance(skip, list) or not all(isinstance(s, str) for s in skip):
        raise ConfigError(f"{origin}: skip must be a list of 'FILE:OBJECT' strings")
    discover = table.get("discover", True)
    if not isinstance(discover, bool):
        raise ConfigError(f"{origin}: discover must be true or false, got {discover!r}")
    memory_mb = table.get("memory-mb")
    if memory_mb is not None:
        memory_mb = _whole_number(memory_mb)
        if memory_mb is None or memory_mb < 0:
            raise ConfigError(
                f"{origin}: memory-mb must be a whole number of MB, 0 or more (0: no limit), got {table['memory-mb']!r}"
            )
    timeout = table.get("timeout")
    return DynamicConfig(
        root=root,
        timeout=None if timeout is None else check_timeout(timeout, f"{origin}: timeout"),
        memory_mb=memory_mb,
        discover=discover,
        skip=tuple(skip),
        objects=tuple(named),
        family=check_family(table.get("family"), origin),
        policy=_policy(table, origin),
    )


def _policy(table: Mapping, origin: str) -> dict[str, str]:
    """The policy keys of [tool.temporalkit.dynamic], each value checked against its choices."""
    from temporalkit.validators.dynamic.policy import Policy, PolicyError

    chosen = {key: table[key] for key in POLICY_CHOICES if key in table}
    try:
        Policy.from_mapping(chosen, origin)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from None
    return {key: str(value) for key, value in chosen.items()}


def _whole_number(value: object) -> int | None:
    """An int from 4096, 4096.0 or "4096" (what `int()` accepted before values were checked); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def check_timeout(value: object, where: str = "--timeout") -> float:
    """`value` as a time limit in seconds: a finite number above 0, else ConfigError (a ValueError)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(value, bool) or not (0 < seconds < float("inf")):
        raise ConfigError(f"{where} must be a number of seconds above 0, got {value!r}")
    return seconds


def check_family(family: object, where: str = "family") -> str | None:
    """`family` validated against every spelling of the reference-model families (None stays None)."""
    if family is None:
        return None
    from temporalkit.reference_models.families import Family

    try:
        Family.parse(family)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return family


def parse_target(target: str) -> tuple[str, str]:
    """`"path/file.py:Object.method"` -> (`"path/file.py"`, `"Object.method"`)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", name):
        raise ConfigError(
            f"{target!r}: expected FILE:OBJECT, e.g. data/video.py:sample_indices or data/video.py:Sampler"
        )
    return path, name


def parse_args(pairs: Iterable[str] | Mapping[str, object] | None, flag: str = "--args") -> dict[str, str]:
    """`["vlen=num_frames", "mode=val"]` (or a mapping) -> {"vlen": "num_frames", "mode": "val"}.

    ConfigError naming the entry for a key that is not a Python name or an empty value."""
    if not pairs:
        return {}
    if isinstance(pairs, Mapping):
        for key in pairs:
            if not str(key).isidentifier():
                raise ConfigError(f"{flag}: {key!r} is not a parameter name")
        return {str(k): v if isinstance(v, str) else repr(v) for k, v in pairs.items()}
    if isinstance(pairs, str):
        pairs = [pairs]
    mapping: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, str):
            raise ConfigError(f"{flag} {pair!r}: expected NAME=VALUE strings")
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{flag} {pair!r}: expected NAME=VALUE, e.g. clip_len=T or mode=val")
        if not value.strip():
            raise ConfigError(f"{flag} {pair!r}: {key.strip()} has no value (NAME=VALUE)")
        mapping[key.strip()] = value.strip()
    return mapping


def parse_convention(entry: Mapping[str, object], where: str = "") -> dict[str, object]:
    """The calling-convention keys of one object (`init`, `inputs`, `output`, `clip-key`, `preset`,
    `fps`; also what `check --init/--inputs/--output/--clip-key/--preset/--fps` give), validated."""
    prefix = f"{where}: " if where else ""
    convention: dict[str, object] = {}
    if entry.get("init") is not None:
        convention["init"] = parse_args(entry["init"], "init")
    inputs = entry.get("inputs")
    if inputs is not None:
        if isinstance(inputs, (list, tuple)):
            inputs = parse_args(inputs, "--inputs")
        if not isinstance(inputs, Mapping) or not all(str(k) for k in inputs):
            raise ConfigError(f"{prefix}inputs must be a table of key = role or value, got {inputs!r}")
        convention["inputs"] = dict(inputs)
    for key in ("output", "clip-key"):
        value = entry.get(key)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{prefix}{key} must be a key name (a string), got {value!r}")
            convention[key.replace("-", "_")] = value
    preset = entry.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"{prefix}unknown preset {preset!r} (one of {', '.join(PRESETS)})")
        convention["preset"] = preset
    fps = entry.get("fps")
    if fps is not None:
        try:
            value = float(fps)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = float("nan")
        if isinstance(fps, bool) or not (0 < value < float("inf")):
            raise ConfigError(f"{prefix}fps must be a number above 0, got {fps!r}")
        convention["fps"] = value
    return convention


def _strings(table: dict, key: str, pyproject: Path) -> tuple[str, ...]:
    return _as_strings(table.get(key, []), key, pyproject)


def _as_strings(value: object, what: str, pyproject: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{pyproject}: [tool.temporalkit] {what} must be a list of strings")
    return tuple(value)
