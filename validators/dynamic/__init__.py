"""The dynamic auditor: import the user's sampling code in a sandboxed child process and exercise it.

    findings, errors = run_dynamic(["data/"], timeout=60.0, memory_mb=4096)
    findings, errors = check_object("data/video.py", "VideoDataset.sample_indices", "sampler",
                                    args={"vlen": "num_frames", "clip_len": "T"})

Findings use the same `Finding` model as the static rules (``source="dynamic"``), located at the
`def`/`class` line of the object that failed, with the smallest failing input in the message.
Nothing is imported or run from the audited files except by these two functions.

Importing this package is cheap (no numpy, no libcst): the work is in the submodules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from temporalkit.validators.config import Candidate, DynamicConfig
    from temporalkit.validators.dynamic.runner import ModuleResult
    from temporalkit.validators.findings import FileError, Finding

__all__ = ["check_object", "run_dynamic", "run_dynamic_modules"]


def _python_files(paths: Iterable[str | os.PathLike], audit_config: Any = None) -> tuple[list[str], list["FileError"]]:
    """The `.py` files under `paths`, found by the static auditor's walker (git / .gitignore aware,
    regular files only, hidden folders, caches and virtual environments skipped)."""
    from temporalkit.validators.discovery import discover_files

    config = audit_config if hasattr(audit_config, "is_excluded") else None
    files, errors = discover_files(list(paths), config, suffixes=(".py",))
    return [str(f) for f in files], errors


def _dynamic_config(config: Any, paths: Sequence[str | os.PathLike]) -> "DynamicConfig":
    """The dynamic section: already read with the rest of an `AuditConfig`, given as a mapping, or
    read (with the rest, by the one reader) from the nearest pyproject.toml above `paths[0]`."""
    from temporalkit.validators.config import (
        AuditConfig,
        DynamicConfig,
        dynamic_config,
        find_pyproject,
        load_dynamic_config,
    )

    if isinstance(config, DynamicConfig):
        return config
    if isinstance(config, AuditConfig):
        return config.dynamic
    if isinstance(config, Mapping):
        return dynamic_config(config)
    source = getattr(config, "source", None)
    if source is not None:
        return load_dynamic_config(source)
    if config is None and paths:
        return load_dynamic_config(find_pyproject(Path(paths[0])))
    return DynamicConfig()


def run_dynamic_modules(
    paths: Sequence[str | os.PathLike],
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    config: Any = None,
    roles: Iterable[str] | None = None,
    candidates: Sequence["Candidate"] | None = None,
    probe_dir: str | None = None,
) -> tuple[list["ModuleResult"], list["FileError"]]:
    """Per-module results (findings, per-object errors and notes) for the objects found in `paths`.

    `config`: a `DynamicConfig`, the `[tool.temporalkit.dynamic]` table as a mapping, an
    `AuditConfig` (its pyproject is read), or None (the nearest pyproject.toml above `paths[0]`).
    `candidates`: check exactly these objects instead of discovering them.
    """
    import libcst
    from temporalkit.validators.config import ConfigError
    from temporalkit.validators.dynamic.discover import discover_file
    from temporalkit.validators.dynamic.runner import run_module
    from temporalkit.validators.findings import FileError

    errors: list[FileError] = []
    try:
        dynamic = _dynamic_config(config, paths)
    except ConfigError as exc:
        return [], [FileError("pyproject.toml", str(exc))]
    # Arguments win; the pyproject's `timeout` / `memory-mb` fill in where the caller passed None.
    if timeout is None:
        timeout = dynamic.timeout if dynamic.timeout is not None else 60.0
    if memory_mb is None:
        memory_mb = dynamic.memory_mb
    wanted_roles = set(roles) if roles is not None else None
    by_file: dict[str, list[Candidate]] = {}
    if candidates is not None:
        for candidate in candidates:
            by_file.setdefault(candidate.path, []).append(candidate)
    else:
        files, errors = _python_files(paths, config)
        for path in files:
            try:
                found = discover_file(path, dynamic)
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(FileError(path, f"cannot read: {exc}"))
                continue
            except libcst.ParserSyntaxError as exc:
                errors.append(FileError(path, f"syntax error at line {exc.raw_line}: {exc.message}"))
                continue
            found = [c for c in found if wanted_roles is None or c.role in wanted_roles]
            if found:
                by_file[path] = found
    from temporalkit.validators.dynamic import policy, suppress

    with policy.in_environment(dynamic.policy):  # the child reads the pyproject's policies from it
        results = [
            run_module(path, found, timeout=timeout, memory_mb=memory_mb, probe_dir=probe_dir)
            for path, found in by_file.items()
        ]
    # select / ignore / per-file-ignores / `# temporalkit: ignore[...]` at the object's def line
    suppress.filter_results(results, suppress.audit_config_for(config, paths))
    for result in results:
        errors += result.errors
    return results, errors


def run_dynamic(
    paths: Sequence[str | os.PathLike],
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    config: Any = None,
    roles: Iterable[str] | None = None,
) -> tuple[list["Finding"], list["FileError"]]:
    """Discover samplers, subsamplers, multi-clip samplers, transforms and loaders in `paths` and check them.

    `timeout` is per object (and per import), in seconds; `memory_mb` limits the child's memory (0: no
    limit). None takes the pyproject's `timeout` / `memory-mb`, else 60 s / 4096 MB. Returns findings sorted by (path, line, rule) and one `FileError` per file that could not be imported
    or object that could not be checked.
    """
    results, errors = run_dynamic_modules(paths, timeout=timeout, memory_mb=memory_mb, config=config, roles=roles)
    findings = sorted((f for r in results for f in r.findings), key=lambda f: (f.path, f.line, f.rule))
    return findings, errors


def check_object(
    path: str | os.PathLike,
    object_name: str,
    role: str,
    args: Mapping[str, str] | Iterable[str] | None = None,
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    test_time: bool | None = None,
    family: str | None = None,
) -> tuple[list["Finding"], list["FileError"]]:
    """Check one named object (`"sample"`, `"ClipSampler"`, `"Dataset.sample_indices"`) in the role given.

    `args` maps parameters to what the check passes (`{"vlen": "num_frames", "clip_len": "T"}`) or
    fixes them (`{"mode": "'val'"}`); see `temporalkit.validators.dynamic.discover`. `family`
    ("2d_pool", "3d_conv", "2plus1d", "transformer"): for a transform or loader, also feed the clip it
    produces to that reference model (TK621 `layout`).
    """
    results, errors = check_object_results(
        path, object_name, role, args, timeout=timeout, memory_mb=memory_mb, test_time=test_time, family=family
    )
    return [f for r in results for f in r.findings], errors


def check_object_results(
    path: str | os.PathLike,
    object_name: str,
    role: str,
    args: Mapping[str, str] | Iterable[str] | None = None,
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    test_time: bool | None = None,
    family: str | None = None,
) -> tuple[list["ModuleResult"], list["FileError"]]:
    from temporalkit.validators.config import ROLES, Candidate, ConfigError, check_family, parse_args
    from temporalkit.validators.dynamic.discover import _definition_lines
    from temporalkit.validators.findings import FileError

    if role not in ROLES:
        return [], [FileError(str(path), f"unknown role {role!r}; choose one of {', '.join(ROLES)}")]
    try:
        mapping = parse_args(args)
        family = check_family(family)
        source = Path(path).read_text(encoding="utf-8")
    except ConfigError as exc:
        return [], [FileError(str(path), str(exc))]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [FileError(str(path), f"cannot read: {exc}")]
    line, column = _definition_lines(source).get(object_name, (1, 0))
    candidate = Candidate(
        path=str(path),
        name=object_name,
        role=role,
        line=line,
        column=column,
        args=mapping,
        test_time=test_time,
        reason="named on the command line",
        family=family,
    )
    return run_dynamic_modules([path], timeout=timeout, memory_mb=memory_mb, candidates=[candidate])
