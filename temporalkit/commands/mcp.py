"""`temporalkit mcp`: serve the auditor and the picker to an assistant over the Model Context Protocol (stdio)."""

from __future__ import annotations

import argparse
import sys

HELP = "Serve the auditor and the architecture picker over the Model Context Protocol (stdio), for assistants."
EXAMPLE = "claude mcp add temporalkit -- temporalkit mcp --root ."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="the folder the tools may read; paths outside it are refused (default: the working directory)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from temporalkit.extras import require

    require("mcp", "temporalkit mcp")
    root = Path(args.root)
    if not root.is_dir():
        print(f"temporalkit mcp: --root {args.root}: not a folder", file=sys.stderr)
        return 2
    from temporalkit.mcp_server import serve

    serve(root)
    return 0
