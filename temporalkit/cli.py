"""The `temporalkit` console script: a thin argparse layer over the library API.

Each subcommand lives in `temporalkit.commands.<name>` and exposes
`HELP` (one line), `EXAMPLE` (shown under --help), `add_arguments(parser)` and
`run(args) -> int`. Command modules import nothing heavy at module level, so
`temporalkit --help` and the static auditor start fast (no torch).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from temporalkit import __version__

# Order is the order shown in --help.
COMMANDS = ("audit", "check", "rule", "probe", "cost", "pick", "train", "render", "skill", "mcp")


def _load(name: str):
    return importlib.import_module(f"temporalkit.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="temporalkit",
        description="Pick the right temporal architecture for a video task, and audit frame-sampling and cropping code.",
        epilog="Example: temporalkit audit examples/ --format json",
    )
    parser.add_argument("--version", action="version", version=f"temporalkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"temporalkit.commands.{name}":
                raise
            continue  # command not shipped in this build
        # A command marked HIDDEN (a maintainer's) is given no help, which keeps it out of the listing.
        listed = {} if getattr(module, "HIDDEN", False) else {"help": module.HELP}
        command_parser = sub.add_parser(
            name,
            **listed,
            description=module.HELP,
            epilog=f"Example: {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from temporalkit.extras import MissingExtra

    try:
        return int(args._run(args) or 0)
    except MissingExtra as exc:  # one line naming the extra to install
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("temporalkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
