"""`temporalkit pick`: render the architecture-picker prompt, recommend, validate or ask an LLM.

Exit codes: 0 accepted answer / success, 1 findings (or nothing fits), 2 unreadable input.
"""

from __future__ import annotations

import argparse

HELP = "Pick a temporal architecture: render the prompt, recommend, validate an answer, or ask an LLM."
EXAMPLE = "temporalkit pick recommend --spec examples/spec.yaml --format json"

# An answer is one small JSON object; a reply file larger than this (or /dev/zero) is refused unread.
MAX_REPLY_BYTES = 4_000_000


def _pretraining(text: str):
    """One value, or several separated by commas (a tuple, as the spec's list form)."""
    values = tuple(part.strip() for part in text.split(",") if part.strip())
    return values[0] if len(values) == 1 else values


# CLI flag → spec field; flags override the same fields of --spec.
_SPEC_FLAGS = (
    ("--task", "task", str, "free-text description of the task"),
    ("--motion", "motion", str, "appearance, mixed or motion"),
    ("--train-clips", "train_clips", int, "number of labelled training clips"),
    (
        "--pretraining",
        "pretraining",
        _pretraining,
        "none, imagenet, kinetics, image_text or self_supervised (comma-separated for several)",
    ),
    ("--frames", "frames", int, "frames per clip T (omit to let the picker choose)"),
    ("--size", "size", int, "input side in px (omit to let the picker choose)"),
    ("--budget-gmacs", "budget_gmacs", float, "compute budget per decision in GMACs (test clips x crops x per clip)"),
    (
        "--latency-ms",
        "latency_ms",
        float,
        "latency target per decision in ms (checked with a device_profile or --device)",
    ),
    ("--video-seconds", "video_seconds", float, "typical video length in seconds (long-range mode from 60 s)"),
    ("--device", "device", str, "device for the latency target: cpu or cuda"),
    ("--deployment", "deployment", str, "edge or server"),
)


def _spec_arguments() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("task spec (a file, flags, or both: flags win)")
    group.add_argument("--spec", metavar="FILE", help="task spec in YAML, JSON or TOML")
    for flag, dest, kind, help_text in _SPEC_FLAGS:
        group.add_argument(flag, dest=f"spec_{dest}", type=kind, metavar=dest.upper(), help=help_text)
    for name in ("long_range", "text"):
        flag = "--" + name.replace("_", "-")
        group.add_argument(flag, dest=f"spec_{name}", action="store_true", default=None, help=f"set {name}: true")
        group.add_argument(
            flag.replace("--", "--no-"), dest=f"spec_{name}", action="store_false", help=f"set {name}: false"
        )
    return parent


def _retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text[:40]!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text[:40]!r}")
    return value


def add_arguments(parser) -> None:
    parent = _spec_arguments()
    sub = parser.add_subparsers(dest="pick_command", metavar="ACTION")
    sub.required = True
    render = sub.add_parser(
        "render",
        parents=[parent],
        help="print the prompt for the spec",
        epilog="Example: temporalkit pick render --spec examples/spec.yaml > prompt.md",
    )
    render.add_argument("--measure-latency", action="store_true", help="time each model on the spec's device")
    recommend = sub.add_parser(
        "recommend", parents=[parent], help="deterministic rule-based recommendation", epilog=f"Example: {EXAMPLE}"
    )
    recommend.add_argument("--format", choices=("text", "json"), default="text")
    validate = sub.add_parser(
        "validate",
        parents=[parent],
        help="check an assistant's answer against the spec",
        epilog="Example: temporalkit pick validate --spec examples/spec.yaml --answer reply.md --format json",
    )
    validate.add_argument("--answer", metavar="FILE", required=True, help="the assistant's reply ('-' for stdin)")
    validate.add_argument(
        "--measure-latency",
        action="store_true",
        help="time the answer on the spec's device when it has no device_profile (host timing, not device latency)",
    )
    validate.add_argument("--format", choices=("text", "json"), default="text")
    ask = sub.add_parser(
        "ask",
        parents=[parent],
        help="pipe the prompt to an LLM command and validate its reply",
        epilog='Example: temporalkit pick ask --spec examples/spec.yaml --llm-cmd "llm -m MODEL" --retries 2',
    )
    ask.add_argument(
        "--llm-cmd", required=True, metavar="COMMAND", help="reads the prompt on stdin, writes the reply on stdout"
    )
    ask.add_argument("--retries", type=_retries, default=2, help="re-asks with the findings appended (default 2)")
    ask.add_argument(
        "--timeout",
        type=_seconds,
        default=600,
        help="seconds per LLM call (default 600); at the end the command's process group is killed",
    )
    ask.add_argument("--format", choices=("text", "json"), default="text")


def load_spec_from_args(args):
    """The TaskSpec from --spec and/or flags. Raises SpecError with field-level lines."""
    from temporalkit.picker.schema import SpecError, read_spec_mapping, spec_from_mapping

    overrides = {
        name[len("spec_") :]: value
        for name, value in vars(args).items()
        if name.startswith("spec_") and value is not None
    }
    if args.spec:
        data = read_spec_mapping(args.spec)
        data.update(overrides)
        return spec_from_mapping(data, args.spec)
    if not overrides:
        raise SpecError("temporalkit pick", ["no task spec: give --spec FILE, or --task, --motion and --train-clips"])
    return spec_from_mapping(overrides, "<flags>")


def _print_findings(findings, stream) -> None:
    for finding in findings:
        print(
            f"{finding.path}:{finding.line}: {finding.severity} {finding.rule} [{finding.category}] {finding.message}",
            file=stream,
        )
        if finding.fix:
            print(f"    fix: {finding.fix}", file=stream)


def _print_answer_text(answer) -> None:
    if answer.verdict == "infeasible":
        print("verdict:    infeasible (nothing meets the spec; the nearest candidate follows)")
    print(f"family:     {answer.family}")
    print(f"model:      {answer.model}")
    print(f"clip:       {answer.frames} frames x {answer.size} px")
    print(
        f"sampling:   {answer.sampling}; test: {answer.test_clips} clip(s) x {answer.test_crops} crop(s), "
        f"{answer.test_time}, {answer.aggregation}"
        + (f" ({answer.clips_per_minute:g} clips per minute)" if answer.clips_per_minute else "")
    )
    print(f"cost:       {answer.estimated_gmacs} GMACs per clip")
    print(f"pretrained: {answer.pretraining}")
    print(f"rationale:  {answer.rationale}")
    print("risks:")
    for risk in answer.risks:
        print(f"  - {risk}")
    if answer.alternatives:
        print("nearest alternatives:")
        for alternative in answer.alternatives:
            print(
                f"  - {alternative.model} {alternative.frames}x{alternative.size}, {alternative.test_clips} clip(s), "
                f"{alternative.estimated_gmacs} GMACs per clip: {alternative.violates}"
            )


def run(args) -> int:
    import json
    import sys

    from temporalkit.extras import missing_modules, require
    from temporalkit.picker.schema import SpecError

    if getattr(args, "measure_latency", False):
        require("models", "temporalkit pick --measure-latency")
    if not missing_modules("models"):  # measured costs; without torch the shipped cost snapshot is read
        import torch

        # Counting on the meta device needs no threads; keep the CPU for whoever shares the machine.
        torch.set_num_threads(1)
    try:
        spec = load_spec_from_args(args)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2

    from temporalkit import picker

    if args.pick_command == "render":
        sys.stdout.write(picker.render_prompt(spec, measure_latency=args.measure_latency))
        return 0

    if args.pick_command == "recommend":
        try:
            answer = picker.recommend(spec)
        except picker.NoFeasibleModel as exc:
            print(f"temporalkit pick: {exc}", file=sys.stderr)
            return 1
        if args.format == "json":
            print(answer.model_dump_json(indent=2))
        else:
            _print_answer_text(answer)
        return 1 if answer.verdict == "infeasible" else 0

    if args.pick_command == "validate":
        path = "<stdin>" if args.answer == "-" else args.answer
        try:
            if args.answer == "-":
                raw = sys.stdin.buffer.read(MAX_REPLY_BYTES + 1)
            else:
                with open(args.answer, "rb") as stream:
                    raw = stream.read(MAX_REPLY_BYTES + 1)
            if len(raw) > MAX_REPLY_BYTES:
                print(
                    f"{path}: cannot read: larger than {MAX_REPLY_BYTES:,} bytes (an answer is one small JSON object)",
                    file=sys.stderr,
                )
                return 2
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 2
        findings = picker.validate_answer(spec, text, path=path, measure_latency=args.measure_latency)
        errors = [f for f in findings if f.severity == "error"]
        if args.format == "json":
            print(json.dumps({"accepted": not errors, "findings": [f.to_dict() for f in findings]}, indent=2))
        else:
            _print_findings(findings, sys.stdout)
            print(
                f"{path}: {'rejected' if errors else 'accepted'} ({len(errors)} error(s), {len(findings) - len(errors)} warning(s))"
            )
        return 1 if errors else 0

    if args.pick_command == "ask":
        try:
            result = picker.ask(spec, args.llm_cmd, args.retries, timeout_s=args.timeout)
        except (picker.LLMCommandError, ValueError) as exc:
            print(f"temporalkit pick: {exc}", file=sys.stderr)
            return 2
        if args.format == "json":
            print(
                json.dumps(
                    {
                        "accepted": result.accepted,
                        "attempts": len(result.attempts),
                        "answer": result.answer.model_dump() if result.answer else None,
                        "findings": [f.to_dict() for f in result.findings],
                    },
                    indent=2,
                )
            )
        elif result.accepted:
            _print_answer_text(result.answer)
            _print_findings(result.findings, sys.stdout)
            print(f"accepted after {len(result.attempts)} attempt(s)")
        else:
            _print_findings(result.findings, sys.stdout)
            print(f"rejected after {len(result.attempts)} attempt(s)")
        return 0 if result.accepted else 1
    return 2
