"""`temporalkit probe make DIR`: write the probe videos (and manifest.json) for your own tests."""

from __future__ import annotations

import argparse
import sys

HELP = "write probe videos whose frames carry their own index, for testing video loaders"
EXAMPLE = "temporalkit probe make tests/probes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="probe_action", metavar="ACTION")
    make = actions.add_parser(
        "make",
        help="write the probe set and manifest.json into DIR (reused when already there)",
        description="Write H.264/MPEG-4 probe videos (lengths, fps, aspects, VFR, missing and wrong "
        "frame counts) and manifest.json into DIR. Frame i of each video carries index i; decode it "
        "with temporalkit.validators.dynamic.frame_code.decode_frame_index.",
        epilog=f"Example: {EXAMPLE}",
    )
    make.add_argument("directory", metavar="DIR", help="directory to write into (created if missing)")
    make.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "probe_action", None) != "make":
        print("temporalkit probe: choose an action, e.g. `temporalkit probe make DIR`", file=sys.stderr)
        return 2
    from temporalkit.extras import require

    require("dynamic", "temporalkit probe make")
    from temporalkit.term import progress
    from temporalkit.validators.dynamic.probes import PROBE_SPECS, iter_probe_set

    try:
        probes = list(progress(iter_probe_set(args.directory), total=len(PROBE_SPECS), label="probes"))
    except OSError as exc:
        print(f"temporalkit probe: {args.directory}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        for probe in probes:
            claim = f"claims {probe.claimed_frames}" if probe.claimed_frames else "claims no count"
            rate = "vfr" if probe.vfr else f"{probe.fps:g} fps"
            print(
                f"{probe.path}  {probe.frames} frames  {rate}  {probe.aspect}  "
                f"{probe.width}x{probe.height}  {probe.codec}/{probe.container}  {claim}"
            )
        print(f"{len(probes)} probes and manifest.json in {args.directory}")
    return 0
