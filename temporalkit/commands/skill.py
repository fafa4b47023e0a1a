"""`temporalkit skill install [SKILL]`: put a skill (the auditor's or the picker's) where an assistant reads skills."""

from __future__ import annotations

import argparse
import sys

HELP = "Install an assistant skill (frame-sampler-auditor or video-architecture-picker) into a skills folder."
EXAMPLE = "temporalkit skill install --target .claude/skills"


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
        "skill",
        nargs="?",
        default="frame-sampler-auditor",
        help="frame-sampler-auditor (default) or video-architecture-picker",
    )
    install.add_argument(
        "--target",
        default=None,
        metavar="DIR",
        help="the skills folder: the skill goes into DIR/SKILL/ (DIR itself when it is named as the skill); "
        "default .claude/skills",
    )
    install.add_argument("--force", action="store_true", help="overwrite files that differ from the rendered skill")


def run(args: argparse.Namespace) -> int:
    from temporalkit.render import SKILLS, RenderError
    from temporalkit.skill import DEFAULT_SKILLS_DIR, SkillFileChanged, SkillTargetError, install_skill

    if args.skill not in SKILLS:
        print(f"temporalkit skill install: unknown skill {args.skill!r}; known: {', '.join(SKILLS)}", file=sys.stderr)
        return 2
    target = args.target if args.target is not None else DEFAULT_SKILLS_DIR
    try:
        result = install_skill(target, force=args.force, skill=args.skill)
    except SkillTargetError as exc:
        print(f"temporalkit skill install: {exc}", file=sys.stderr)
        return 2
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
