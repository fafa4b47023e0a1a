"""`temporalkit render`: regenerate the template-made files under outputs/, or check they are current.

A maintainer command: it rewrites the committed outputs of a temporalkit source checkout, so it is
not listed in `temporalkit --help` (HIDDEN) and refuses to run from an installed package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Regenerate outputs/ from the templates (the picker prompt, the skill); --check fails on stale files."
EXAMPLE = "temporalkit render --check"
HIDDEN = True  # a maintainer command: runnable, not listed in `temporalkit --help`


def source_checkout() -> Path | None:
    """The temporalkit source tree this package runs from (an editable install or a checkout on
    sys.path: its pyproject.toml beside the templates' skills/ and validators/), or None for an
    installed package, whose parent folder is site-packages."""
    import temporalkit

    root = Path(temporalkit.__file__).resolve().parent.parent
    if all((root / part).exists() for part in ("pyproject.toml", "skills", "validators", "outputs")):
        return root
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out-dir", default=None, help="folder the outputs live in (default: outputs/ of the source checkout)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name each output that differs from what the templates produce now",
    )


def run(args: argparse.Namespace) -> int:
    from temporalkit.render import RenderError, check_outputs, write_outputs

    checkout = source_checkout()
    if checkout is None:
        print(
            "temporalkit render: a maintainer command; it regenerates outputs/ of a temporalkit source "
            "checkout, and this installation is not one",
            file=sys.stderr,
        )
        return 2
    out_dir = args.out_dir if args.out_dir is not None else str(checkout / "outputs")
    try:
        if args.check:
            stale = check_outputs(out_dir)
            for path in stale:
                print(
                    f"{path}: stale (differs from its template); run `temporalkit render` and commit it",
                    file=sys.stderr,
                )
            if not stale:
                print(f"{out_dir}: all rendered outputs are up to date")
            return 1 if stale else 0
        written = write_outputs(out_dir)
    except RenderError as exc:
        print(f"temporalkit render: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{out_dir}: all rendered outputs were already up to date")
    return 0
