"""`temporalkit audit`: the static auditor (and, with --dynamic, the dynamic one) over files and directories."""

from __future__ import annotations

import argparse
import sys

HELP = "Audit frame-sampling and cropping code: static rules, optional dynamic checks, fixes."
EXAMPLE = "temporalkit audit examples/pipelines --format sarif > temporalkit.sarif"
ISOLATION_HELP = """\
The code runs in a child process per module: time and memory limits, an allow-listed environment
(no AWS_*, *_TOKEN, *_KEY; add names with TEMPORALKIT_DYNAMIC_ENV), files up to 1 GB, output captured
(the end kept), every process it starts killed at the end. Where Linux allows it without root (unshare
--user) it also has no network and sees the audited tree and $HOME read-only; elsewhere it can use the
network and write wherever you can (a warning says so; TEMPORALKIT_ISOLATION=namespaces|process forces a
mode). Either way it can read your files: a guard against accidents, not a security boundary."""


def _ids(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .); - reads stdin"
    )
    parser.add_argument(
        "--stdin-filename",
        default=None,
        metavar="NAME",
        help="with -: the name findings are reported under (default: -); its folder's pyproject.toml is read",
    )
    parser.add_argument(
        "--format",
        "--output-format",
        dest="format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="output format (--output-format is the same flag, as ruff names it)",
    )
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="print how many findings each rule has (and how many --fix can fix) instead of the findings",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print the findings and nothing else (no summary line)"
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)",
    )
    parser.add_argument(
        "--select",
        type=_ids,
        action="extend",
        metavar="IDS",
        help="only these rules: ids, id prefixes or categories, comma-separated (replaces the config's select)",
    )
    parser.add_argument(
        "--ignore",
        type=_ids,
        action="extend",
        metavar="IDS",
        help="skip these rules: ids, id prefixes or categories (added to the config's ignore)",
    )
    parser.add_argument("--fix", action="store_true", help="apply the safe mechanical fixes in place (atomic writes)")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="with --fix: exit 1 when a file was fixed, even if no finding is left (a pre-commit hook fails then)",
    )
    parser.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        default=None,
        help="lowest severity that makes the exit code 1 (default: the config's, else warning)",
    )
    parser.add_argument(
        "--include-unused",
        action="store_true",
        default=None,
        help="also report the findings held back: TK191 (OpenCV BGR frames) in a project no code of which makes RGB "
        "frames (its models take BGR), and findings in code nothing in the audited tree uses. By default, when only folders "
        "are audited, a finding inside a top-level function or class that some module imports by name but "
        "nothing calls, subclasses, registers (decorator), re-exports from an __init__.py, lists in __all__ "
        "or names in a string or config file is counted in the summary, not shown; a module nothing imports "
        "stays reported; with a file among the paths nothing is held back (config: include-unused = true)",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the results cache")
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="worker processes (default: all cores when many files)"
    )
    parser.add_argument(
        "--config", default=None, metavar="PYPROJECT", help="pyproject.toml to read (default: the nearest one)"
    )
    parser.add_argument(
        "-o", "--output", default=None, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    dynamic = parser.add_argument_group("dynamic checks (run the sampling code in a child process)", ISOLATION_HELP)
    dynamic.add_argument("--dynamic", action="store_true", help="also import and exercise the samplers found")
    dynamic.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --dynamic: list each object exercised (role, how its parameters were filled) and each that "
        "could not be audited, with the reason",
    )
    dynamic.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="time limit per checked object of --dynamic, seconds (default: the dynamic auditor's)",
    )
    dynamic.add_argument(
        "--memory-mb",
        type=int,
        default=None,
        metavar="MB",
        help="memory limit of the --dynamic child process (default: memory-mb of [tool.temporalkit.dynamic], "
        "else 4096; 0: none); enforced on address space, or on resident memory where an NVIDIA GPU is present",
    )


def _output_problem(output: str | None) -> str | None:
    """Why the report cannot be written to `output` (checked before the audit runs), else None."""
    import os

    if not output:
        return None
    if os.path.isdir(output):
        return "is a directory; give a file name"
    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        return f"folder {folder} does not exist"
    return None


def _new_errors(static_errors: list, dynamic_errors: list) -> list:
    """The dynamic pass's file errors less those about a file the static pass already could not read
    or parse: both walk the same files, so a FIFO, an oversized or unreadable file or a syntax error
    was said twice. A static time-budget kill or crash ("could not be audited") says nothing about
    importing the file, so the dynamic pass's word on it is kept."""
    import os

    said = {
        os.path.abspath(e.path)
        for e in static_errors
        if not e.message.startswith(("could not be audited", "internal error"))
    }
    return [e for e in dynamic_errors if os.path.abspath(e.path) not in said]


def _audit_stdin(args: argparse.Namespace, config):
    """Audit the source read from stdin, reported under --stdin-filename (default `-`).

    The text is written to a private temporary folder (never next to the user's files) and audited
    there without the cache; paths in findings, errors and diffs are then given the display name.
    Returns None (after one error line) when stdin cannot be read or is too large.
    """
    import dataclasses
    import os
    import tempfile
    from pathlib import Path

    from temporalkit.validators.audit import audit_paths
    from temporalkit.validators.discovery import MAX_FILE_BYTES, display_path

    display = args.stdin_filename or "-"
    try:
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        print(f"temporalkit audit: -: cannot read stdin ({exc})", file=sys.stderr)
        return None
    if len(data) > MAX_FILE_BYTES:
        print(f"temporalkit audit: -: more than {MAX_FILE_BYTES // (1024 * 1024)} MB on stdin", file=sys.stderr)
        return None
    suffix = ".pyi" if display.endswith(".pyi") else ".py"
    with tempfile.TemporaryDirectory(prefix="temporalkit-stdin-") as folder:
        path = os.path.join(folder, "stdin" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        result = audit_paths(
            [path], select=args.select, ignore=args.ignore, diff=args.diff, config=config, jobs=1, cache=False
        )
        shown = display_path(Path(path))  # how audit_paths names the temporary file
    result.findings = [dataclasses.replace(f, path=display) for f in result.findings]
    result.errors = [dataclasses.replace(e, path=display) for e in result.errors]
    result.diffs = {display: text.replace(shown, display) for text in result.diffs.values()}
    return result


def _say_unused(result, args: argparse.Namespace) -> None:
    """The held-back count on stderr where the report has no summary line (json, sarif, github, --statistics)."""
    if args.quiet:
        return
    from temporalkit.validators.formats import bgr_project_note, unused_note

    if result.unused:
        print(f"temporalkit audit: {unused_note(len(result.unused))}.", file=sys.stderr)
    if result.bgr_project:
        print(f"temporalkit audit: {bgr_project_note(len(result.bgr_project))}.", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from temporalkit.validators.audit import audit_paths
    from temporalkit.validators.config import ConfigError, load_config, read_config
    from temporalkit.validators.formats import render, use_color

    if args.fix and args.diff:
        print("temporalkit audit: use --fix or --diff, not both", file=sys.stderr)
        return 2
    if args.exit_zero and args.exit_non_zero_on_fix:
        print("temporalkit audit: use --exit-zero or --exit-non-zero-on-fix, not both", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("temporalkit audit: --jobs must be at least 1", file=sys.stderr)
        return 2
    if "-" in args.paths and (len(args.paths) > 1 or args.fix or args.dynamic):
        print("temporalkit audit: - (stdin) is audited alone, without --fix or --dynamic (use --diff)", file=sys.stderr)
        return 2
    if args.dynamic:  # said before the static pass, which --fix could otherwise have applied
        from temporalkit.extras import require

        require("dynamic", "temporalkit audit --dynamic")
    output_problem = _output_problem(args.output)
    if output_problem:
        print(f"temporalkit audit: -o {args.output}: {output_problem}", file=sys.stderr)
        return 2
    try:
        from pathlib import Path

        if args.config:
            config = read_config(Path(args.config))
        elif args.paths == ["-"]:
            config = load_config(Path(args.stdin_filename).resolve().parent if args.stdin_filename else Path.cwd())
        else:
            config = load_config(args.paths[0])
    except (ConfigError, OSError) as exc:
        print(f"temporalkit audit: {exc}", file=sys.stderr)
        return 2
    if args.fail_on:
        config = replace(config, fail_on=args.fail_on)

    try:
        if args.paths == ["-"]:
            result = _audit_stdin(args, config)
            if result is None:
                return 2
        else:
            result = audit_paths(
                args.paths,
                select=args.select,
                ignore=args.ignore,
                fix=args.fix,
                diff=args.diff,
                config=config,
                jobs=args.jobs,
                cache=not args.no_cache,
                include_unused=args.include_unused,
            )
    except ConfigError as exc:  # an unknown rule id, prefix or category in --select, --ignore or the config
        print(f"temporalkit audit: {exc}", file=sys.stderr)
        return 2
    if args.dynamic:
        from temporalkit.validators.dynamic import _dynamic_config, run_dynamic
        from temporalkit.validators.dynamic.runner import check_timeout, isolation_mode, memory_limit_mode

        try:
            if args.memory_mb is not None and args.memory_mb < 0:
                raise ValueError(f"--memory-mb must be 0 (no limit) or more, got {args.memory_mb}")
            memory_limit_mode()  # a bad TEMPORALKIT_MEMORY_LIMIT is a usage error, said before anything runs
            isolation_mode()  # so is a bad TEMPORALKIT_ISOLATION
            if args.timeout is not None:
                check_timeout(args.timeout)
            _dynamic_config(config, args.paths)  # and a bad [tool.temporalkit.dynamic] (timeout = 0, ...)
        except ValueError as exc:
            print(f"temporalkit audit: {exc}", file=sys.stderr)
            return 2
        limits = {k: v for k, v in (("timeout", args.timeout),) if v is not None}
        # memory_mb None: the pyproject's memory-mb, else the runner's default; 0: no limit.
        selectors = replace(  # --select / --ignore apply to the dynamic findings as to the static ones
            config,
            select=tuple(args.select) if args.select else config.select,
            ignore=(*config.ignore, *(args.ignore or ())),
        )
        dynamic_results: list = []
        dynamic_skipped: list = []
        dynamic_findings, dynamic_errors = run_dynamic(
            args.paths,
            config=selectors,
            memory_mb=args.memory_mb,
            results_out=dynamic_results,
            progress=not args.quiet,
            skipped_out=dynamic_skipped,
            **limits,
        )
        if args.verbose:
            from temporalkit.validators.dynamic import verbose_lines

            for line in verbose_lines(dynamic_results, dynamic_skipped):
                print(line, file=sys.stderr)
        result.findings.extend(dynamic_findings)
        result.errors.extend(_new_errors(result.errors, dynamic_errors))
        result.findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule))

    try:
        # surrogateescape: a file name that is not UTF-8 is written back as the bytes it has.
        out = open(args.output, "w", encoding="utf-8", errors="surrogateescape") if args.output else sys.stdout
    except OSError as exc:
        print(f"temporalkit audit: -o {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if out is sys.stdout and getattr(out, "errors", None) == "strict" and hasattr(out, "reconfigure"):
        out.reconfigure(errors="surrogateescape")
    try:
        diff_text = "".join(result.diffs[p] for p in sorted(result.diffs))
        if args.statistics:
            from temporalkit.validators.formats import format_statistics

            if args.diff:
                sys.stderr.write(diff_text)
            out.write(format_statistics(result.findings, "json" if args.format == "json" else "text"))
            _say_unused(result, args)
            for error in result.errors:
                print(f"temporalkit audit: {error.path}: {error.message}", file=sys.stderr)
        elif args.diff and args.format == "text":
            # The diff is the report (`--diff | git apply` works); the findings go to stderr.
            out.write(diff_text)
            sys.stderr.write(
                render(
                    "text",
                    result.findings,
                    result.errors,
                    files_audited=result.files_audited,
                    color=use_color(sys.stderr, args.color),
                    quiet=args.quiet,
                    unused=len(result.unused),
                    bgr_project=len(result.bgr_project),
                )
            )
        else:
            if args.diff:
                sys.stderr.write(diff_text)
            text = render(
                args.format,
                result.findings,
                result.errors,
                files_audited=result.files_audited,
                fixed_files=result.fixed_files,
                color=args.format == "text" and use_color(out, args.color),
                quiet=args.quiet,
                unused=len(result.unused),
                bgr_project=len(result.bgr_project),
            )
            if args.format != "text":
                _say_unused(result, args)
            if args.dynamic and args.format == "text" and not args.quiet:
                from temporalkit.validators.dynamic import with_dynamic_summary

                text = with_dynamic_summary(
                    text, dynamic_results, dynamic_skipped
                )  # what ran, what could not be audited
            out.write(text)
    finally:
        if args.output:
            out.close()
    if args.exit_zero:
        return 0
    return 1 if args.exit_non_zero_on_fix and result.fixed_files else result.exit_code
