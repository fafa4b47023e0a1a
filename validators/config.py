"""`[tool.temporalkit]` settings from the nearest pyproject.toml.

    [tool.temporalkit]
    select = ["TK1", "aspect-distortion"]    # rule ids, id prefixes or categories
    ignore = ["TK205"]
    exclude = ["third_party/", "*_pb2.py"]
    per-file-ignores = { "tests/*" = ["nondeterministic-eval"] }
    fail-on = "warning"                       # or "error": warnings alone then exit 0

Globs are matched against paths relative to the directory holding the pyproject.toml.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A `[tool.temporalkit]` table that cannot be used (bad TOML, wrong types, unknown keys)."""


_KNOWN_KEYS = {"select", "ignore", "exclude", "per-file-ignores", "fail-on", "dynamic"}  # "dynamic": read by validators/dynamic/discover.py


@dataclass(frozen=True)
class AuditConfig:
    root: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail_on: str = "warning"
    source: Path | None = None  # the pyproject.toml it came from

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
        return relative_path == prefix or relative_path.startswith(prefix + "/") or any(
            fnmatch.fnmatchcase(part, prefix) for part in relative_path.split("/")[:-1]
        )
    if fnmatch.fnmatchcase(relative_path, pattern):
        return True
    if relative_path.startswith(pattern.rstrip("/") + "/"):
        return True
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative_path.split("/"))
    return False


def selector_matches(selector: str, rule_id: str, category: str) -> bool:
    """`TK101` (exact), `TK1` (prefix), `ALL`, or a category name such as `aspect-distortion`."""
    selector = selector.strip()
    return selector == "ALL" or selector == category or rule_id.startswith(selector)


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


def read_config(pyproject: Path) -> AuditConfig:
    import tomllib

    try:
        with open(pyproject, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read [tool.temporalkit]: {exc}") from exc
    table = document.get("tool", {}).get("temporalkit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.temporalkit] must be a table")
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
        raise ConfigError(f"{pyproject}: fail-on must be \"warning\" or \"error\", not {fail_on!r}")
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
        source=pyproject,
    )


def _strings(table: dict, key: str, pyproject: Path) -> tuple[str, ...]:
    return _as_strings(table.get(key, []), key, pyproject)


def _as_strings(value: object, what: str, pyproject: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{pyproject}: [tool.temporalkit] {what} must be a list of strings")
    return tuple(value)
