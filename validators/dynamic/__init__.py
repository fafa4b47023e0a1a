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
    progress: bool = False,
    skipped_out: list | None = None,
) -> tuple[list["ModuleResult"], list["FileError"]]:
    """Per-module results (findings, per-object errors and notes) for the objects found in `paths`.

    `config`: a `DynamicConfig`, the `[tool.temporalkit.dynamic]` table as a mapping, an
    `AuditConfig` (its pyproject is read), or None (the nearest pyproject.toml above `paths[0]`).
    `candidates`: check exactly these objects instead of discovering them.
    """
    from temporalkit.validators.config import ConfigError
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
        import libcst  # discovery only: `check` names its object and does not pay for libcst's import
        from temporalkit.validators.dynamic.discover import discover_file

        files, errors = _python_files(paths, config)
        for path in files:
            try:
                found = discover_file(path, dynamic, skipped_out)
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
        results = _run_modules(by_file, timeout=timeout, memory_mb=memory_mb, probe_dir=probe_dir, progress=progress)
    # select / ignore / per-file-ignores / `# temporalkit: ignore[...]` at the object's def line
    suppress.filter_results(results, suppress.audit_config_for(config, paths))
    for result in results:
        errors += result.errors
    return results, errors


def dynamic_jobs() -> int:
    """How many modules run at once: $TEMPORALKIT_DYNAMIC_JOBS, else the cores this process may use."""
    text = os.environ.get("TEMPORALKIT_DYNAMIC_JOBS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _run_modules(
    by_file: Mapping[str, Sequence["Candidate"]],
    *,
    timeout: float,
    memory_mb: int | None,
    probe_dir: str | None,
    progress: bool = False,
) -> list["ModuleResult"]:
    """`run_module` for each file, independent modules in parallel (each its own child, with the same
    isolation and limits); results in the order of `by_file`. `progress`: a line on stderr (a terminal
    only) saying objects done / total and the object being checked."""
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from temporalkit.validators.dynamic.runner import run_module

    total = sum(len(found) for found in by_file.values())
    done = [0]
    lock = threading.Lock()
    show = progress and sys.stderr.isatty() and total > 0

    def report(event: str, path: str, name: str) -> None:
        if not show:
            return
        with lock:
            if event == "done":
                done[0] += 1
            line = f"temporalkit: dynamic {done[0]}/{total} {os.path.basename(path)}:{name}"
            sys.stderr.write("\r" + line[:120].ljust(120))
            sys.stderr.flush()

    def one(item: tuple[str, Sequence["Candidate"]]) -> "ModuleResult":
        path, found = item
        return run_module(
            path,
            found,
            timeout=timeout,
            memory_mb=memory_mb,
            probe_dir=probe_dir,
            on_event=lambda event, name: report(event, path, name),
        )

    items = list(by_file.items())
    jobs = min(dynamic_jobs(), len(items)) if items else 1
    if jobs <= 1:
        results = [one(item) for item in items]
    else:
        from temporalkit.validators.dynamic import runner, zygote

        try:  # the warm workers this run needs start now, side by side, not when the first module asks
            zygote.prestart(runner.isolation_mode(None)[0], {zygote.wants_torch(path) for path, _ in items})
        except ValueError:
            pass  # a bad TEMPORALKIT_ISOLATION / TEMPORALKIT_WORKER: run_module says so
        # Longest first (by a rough cost per role), so that no long module starts last on its own.
        order = sorted(range(len(items)), key=lambda i: -_estimated_cost(*items[i]))
        torch = [zygote.wants_torch(items[i][0]) for i in order]
        if all(torch[:jobs]) and not all(torch):
            # While torch is imported into its warm worker, a module without torch keeps a core busy.
            order.insert(jobs - 1, order.pop(torch.index(False)))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            done_results = dict(zip(order, pool.map(one, [items[i] for i in order])))
        results = [done_results[i] for i in range(len(items))]
    if show:
        sys.stderr.write("\r" + " " * 120 + "\r")
        sys.stderr.flush()
    return results


# Rough seconds of checking per object of each role (examples/pipelines, idle 2-core machine), to start
# the longest modules first; a module that imports torch also runs the motion check on each object.
_ROLE_COST = {"sampler": 0.5, "multiclip": 0.6, "subsample": 2.5, "loader": 1.5, "transform": 0.35, "image": 0.05}


def _estimated_cost(path: str, found: Sequence["Candidate"]) -> float:
    from temporalkit.validators.dynamic.zygote import wants_torch

    torch = wants_torch(path)
    return sum(_ROLE_COST.get(c.role, 1.0) for c in found) + (1.0 if torch else 0.0)


def exercise_counts(results: Sequence["ModuleResult"], skipped: Sequence = ()) -> tuple[int, int, int]:
    """(objects exercised, files they are in, objects or files that could not be audited, those
    discovery skipped included)."""
    exercised = [r for r in results for o in r.objects if not o.error and not r.import_error]
    files = {r.path for r in results if not r.import_error and any(not o.error for o in r.objects)}
    failed = sum(1 for r in results if r.import_error) + sum(
        1 for r in results if not r.import_error for o in r.objects if o.error
    )
    return len(exercised), len(files), failed + len(skipped)


def summary_line(results: Sequence["ModuleResult"], skipped: Sequence = ()) -> str:
    """``exercised 4 objects in 2 files; 1 could not be audited``."""
    exercised, files, failed = exercise_counts(results, skipped)
    return (
        f"exercised {exercised} object{'s' if exercised != 1 else ''} in {files} file{'s' if files != 1 else ''}; "
        f"{failed} could not be audited"
    )


def with_dynamic_summary(text: str, results: Sequence["ModuleResult"], skipped: Sequence = ()) -> str:
    """The text report with the dynamic summary added; it never opens with "No problems found" when
    nothing was exercised or something could not be audited."""
    exercised, _, failed = exercise_counts(results, skipped)
    line = summary_line(results, skipped)
    if skipped:
        line += f" ({len(skipped)} skipped by discovery; -v says why)"
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if lines and lines[-1].startswith("No problems found") and (exercised == 0 or failed):
        lines[-1] = f"{line[0].upper()}{line[1:]}; no findings in what ran."
        return "\n".join(lines) + "\n"
    return "\n".join([*lines, f"Dynamic checks: {line}."]) + "\n"


def verbose_lines(results: Sequence["ModuleResult"], skipped: Sequence[tuple[str, str]] = ()) -> list[str]:
    """-v: each object exercised (role, adapter, how its parameters were filled), each that could not
    be audited and why, each discovered but skipped and why."""
    lines: list[str] = []
    for result in results:
        if result.import_error:
            lines.append(f"could not audit {result.path}: {result.import_error}")
            continue
        for obj in result.objects:
            where = f"{result.path}:{obj.candidate.name} (line {obj.candidate.line})"
            how = [n.split(": ", 1)[1] for n in obj.notes if n.startswith(f"{obj.candidate.name}: exercised as ")]
            if obj.error:
                lines.append(f"could not audit {where}: {obj.error.removeprefix('could not be audited: ')}")
            else:
                shown = "; ".join(how) or f"exercised as {obj.candidate.role}"
                lines.append(f"exercised {where}: {shown}")
    lines += [f"skipped {target}: {why}" for target, why in skipped]
    return lines


def run_dynamic(
    paths: Sequence[str | os.PathLike],
    *,
    timeout: float | None = None,
    memory_mb: int | None = None,
    config: Any = None,
    roles: Iterable[str] | None = None,
    results_out: list | None = None,
    progress: bool = False,
    skipped_out: list | None = None,
) -> tuple[list["Finding"], list["FileError"]]:
    """Discover samplers, subsamplers, multi-clip samplers, transforms and loaders in `paths` and check them.

    `results_out`: a list that receives the per-module results (for -v and the summary line);
    `progress`: show objects done / total on stderr when it is a terminal.

    `timeout` is per object (and per import), in seconds; `memory_mb` limits the child's memory (0: no
    limit). None takes the pyproject's `timeout` / `memory-mb`, else 60 s / 4096 MB. Returns findings sorted by (path, line, rule) and one `FileError` per file that could not be imported
    or object that could not be checked.
    """
    results, errors = run_dynamic_modules(
        paths,
        timeout=timeout,
        memory_mb=memory_mb,
        config=config,
        roles=roles,
        progress=progress,
        skipped_out=skipped_out,
    )
    if results_out is not None:
        results_out.extend(results)
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
    ("2d_pool", "3d_conv", "2plus1d", "transformer", "temporal_shift" or an alias): for a transform
    or loader, also feed the clip it produces to that reference model (TK621 `layout`).
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
    convention: Mapping[str, Any] | None = None,
) -> tuple[list["ModuleResult"], list["FileError"]]:
    from temporalkit.validators.config import ROLES, Candidate, ConfigError, check_family, parse_args
    from temporalkit.validators.dynamic.vocabulary import definition_lines as _definition_lines
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
        convention=dict(convention or {}),
    )
    return run_dynamic_modules([path], timeout=timeout, memory_mb=memory_mb, candidates=[candidate])
