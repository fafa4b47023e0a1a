"""`temporalkit render`: regenerate the template-made files under outputs/, or check they are current."""

from __future__ import annotations

import argparse
import sys

HELP = "Regenerate outputs/ from the templates (the picker prompt, the skill); --check fails on stale files."
EXAMPLE = "temporalkit render --check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out-dir", default="outputs", help="folder the outputs live in (default: outputs)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name each output that differs from what the templates produce now",
    )


def run(args: argparse.Namespace) -> int:
    from temporalkit.render import RenderError, check_outputs, write_outputs

    try:
        if args.check:
            stale = check_outputs(args.out_dir)
            for path in stale:
                print(
                    f"{path}: stale (differs from its template); run `temporalkit render` and commit it",
                    file=sys.stderr,
                )
            if not stale:
                print(f"{args.out_dir}: all rendered outputs are up to date")
            return 1 if stale else 0
        written = write_outputs(args.out_dir)
    except RenderError as exc:
        print(f"temporalkit render: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{args.out_dir}: all rendered outputs were already up to date")
    return 0
