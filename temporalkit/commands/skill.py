"""`temporalkit skill install`: put the frame-sampler-auditor skill where an assistant reads skills."""

from __future__ import annotations

import argparse
import sys

HELP = "Install the frame-sampler-auditor skill (SKILL.md, reference, helper script) into a skills folder."
EXAMPLE = "temporalkit skill install --target .claude/skills/frame-sampler-auditor"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="skill_action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        help="write the rendered skill folder",
        description="Write the rendered skill folder; refuses to overwrite a changed file without --force.",
        epilog=f"Example: {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    install.add_argument(
        "--target",
        default=None,
        help="the skill folder to write (default: .claude/skills/frame-sampler-auditor)",
    )
    install.add_argument("--force", action="store_true", help="overwrite files that differ from the rendered skill")


def run(args: argparse.Namespace) -> int:
    from temporalkit.render import RenderError
    from temporalkit.skill import DEFAULT_SKILL_TARGET, SkillFileChanged, install_skill

    target = args.target if args.target is not None else DEFAULT_SKILL_TARGET
    try:
        result = install_skill(target, force=args.force)
    except SkillFileChanged as exc:
        print(f"temporalkit skill install: {exc}", file=sys.stderr)
        return 1
    except (RenderError, OSError) as exc:
        print(f"temporalkit skill install: {exc}", file=sys.stderr)
        return 2
    for path in result.written:
        print(f"wrote {path}")
    if not result.written:
        print(f"{result.target}: skill already installed and up to date")
    return 0
