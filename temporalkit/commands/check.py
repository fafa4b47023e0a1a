"""`temporalkit check FILE:OBJECT --role ROLE`: run the dynamic checks on one named object."""

from __future__ import annotations

# ROLES from the configuration module (standard library only), not from discover, which would put libcst
# on the start-up path of every command, `temporalkit audit FILE` included.
from temporalkit.validators.config import ROLES

HELP = "Run the dynamic checks on one sampler, subsampler, multi-clip sampler, transform, loader or image reader (in a child process)."
EXAMPLE = "temporalkit check examples/pipelines/dynamic_bugs.py:sample_dense_window --role sampler"
ISOLATION_HELP = """\
The code runs in a child process per module: time and memory limits, an allow-listed environment
(no AWS_*, *_TOKEN, *_KEY; add names with TEMPORALKIT_DYNAMIC_ENV), files up to 1 GB, output captured
(the end kept), every process it starts killed at the end. Where Linux allows it without root (unshare
--user) it also has no network and sees the audited tree and $HOME read-only; elsewhere it can use the
network and write wherever you can (a warning says so; TEMPORALKIT_ISOLATION=namespaces|process forces a
mode). Either way it can read your files: a guard against accidents, not a security boundary."""


def add_arguments(parser) -> None:
    parser.description = f"{HELP}\n\n{ISOLATION_HELP}"
    from temporalkit.reference_models.families import ALIASES  # standard library only

    parser.add_argument(
        "target", metavar="FILE:OBJECT", help="e.g. data/video.py:sample_indices or data/video.py:Dataset.sample"
    )
    parser.add_argument("--role", choices=ROLES, required=True, help="how to call the object")
    parser.add_argument(
        "--args",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="map parameters: NAME=num_frames|T|seed|num_clips|video|path gives the value being tried, "
        "anything else is passed as a Python literal (e.g. vlen=num_frames clip_len=T mode=\"'val'\")",
    )
    parser.add_argument(
        "--init",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="build the class (or the class of a method) with these __init__ arguments first, "
        "e.g. --init clip_len=T frame_interval=2 (same values as --args)",
    )
    parser.add_argument(
        "--preset",
        choices=("openmmlab",),
        default=None,
        help="a dict pipeline's inputs/output/clip key as OpenMMLab writes them "
        "(transform(results) with total_frames, start_index; frame_inds out; imgs for clips)",
    )
    parser.add_argument(
        "--inputs",
        nargs="+",
        default=None,
        metavar="KEY=VALUE",
        help="dict pipeline: the results dict passed in, e.g. total_frames=num_frames start_index=0",
    )
    parser.add_argument("--output", default=None, metavar="KEY", help="dict pipeline: the key holding the indices")
    parser.add_argument("--clip-key", default=None, metavar="KEY", help="dict pipeline: the key holding a clip")
    parser.add_argument(
        "--fps", type=float, default=None, help="seconds-based samplers: frames per second of the grid (default 30)"
    )
    parser.add_argument(
        "--test-time", action="store_true", help="the object is used at test time: it must be deterministic"
    )
    parser.add_argument(
        "--family",
        choices=tuple(ALIASES),
        default=None,
        metavar="FAMILY",
        help="transform/loader: feed the clip it produces to this reference model and report a wrong layout (TK621); "
        f"one of {', '.join(ALIASES)}",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="time limit for the object, in seconds (default: timeout of [tool.temporalkit.dynamic], else 60)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=None,
        metavar="MB",
        help="memory limit of the child process (default: memory-mb of [tool.temporalkit.dynamic], else 4096; 0: none); "
        "enforced on address space, or on resident memory where an NVIDIA GPU is present",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also print how the object was called (role, adapter, each parameter's value) and how long it took",
    )


def run(args) -> int:
    import sys

    from temporalkit.extras import require

    require("dynamic", "temporalkit check")
    from temporalkit.validators.config import parse_args, parse_convention, parse_target
    from temporalkit.validators.dynamic import (
        _dynamic_config,
        check_object_results,
        verbose_lines,
        with_dynamic_summary,
    )
    from temporalkit.validators.dynamic.runner import check_timeout, isolation_mode, memory_limit_mode
    from temporalkit.validators.formats import render, use_color

    try:
        path, name = parse_target(args.target)
        parse_args(args.args)  # a bad --args / --init entry is a usage error, one line naming it
        convention = parse_convention(
            {
                "init": parse_args(args.init, "--init") if args.init else None,
                "inputs": args.inputs,
                "output": args.output,
                "clip-key": args.clip_key,
                "preset": args.preset,
                "fps": args.fps,
            }
        )
        if args.memory_mb is not None and args.memory_mb < 0:
            raise ValueError(f"--memory-mb must be 0 (no limit) or more, got {args.memory_mb}")
        memory_limit_mode()  # a bad TEMPORALKIT_MEMORY_LIMIT is a usage error, said before anything runs
        isolation_mode()  # so is a bad TEMPORALKIT_ISOLATION
        if args.timeout is not None:
            check_timeout(args.timeout)
        _dynamic_config(None, [path])  # and a bad [tool.temporalkit.dynamic] (timeout = 0, ...)
    except ValueError as exc:  # ConfigError included
        print(f"temporalkit check: {exc}", file=sys.stderr)
        return 2
    # None: the pyproject's memory-mb, else the runner's default; 0 stays 0 (no limit).
    results, errors = check_object_results(
        path,
        name,
        args.role,
        args.args,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        test_time=True if args.test_time else None,
        family=args.family,
        convention=convention,
    )
    findings = [f for result in results for f in result.findings]
    if args.verbose:
        for line in verbose_lines(results):
            print(line, file=sys.stderr)
        for result in results:
            if result.isolation:
                print(f"note: isolation: {result.isolation}", file=sys.stderr)
            for obj in result.objects:
                for note in obj.notes:
                    if ": exercised as " not in note:
                        print(f"note: {note}", file=sys.stderr)
            if result.captured.strip():
                print(f"note: {path} printed:\n{result.captured.rstrip()}", file=sys.stderr)
    text = render(args.format, findings, errors, files_audited=1, color=args.format == "text" and use_color())
    if args.format == "text":
        text = with_dynamic_summary(text, results)
    print(text, end="")
    if errors:
        return 2
    return 1 if findings else 0
