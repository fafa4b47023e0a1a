"""`temporalkit cost`: GMACs, GFLOPs, parameters (and optionally latency) of video models."""

from __future__ import annotations

HELP = "Measure GMACs/GFLOPs/params (and latency) of reference and torchvision video models."
EXAMPLE = "temporalkit cost --model all --frames 16 --size 224 --format json"


def _family_value(name: str) -> str:
    """Any family spelling `Family.parse` accepts, as the registry's value (the `family` column)."""
    import argparse

    from temporalkit.reference_models.families import Family  # standard library only

    try:
        return Family.parse(name).value
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="all", help="model id from the registry, or 'all' (default)")
    parser.add_argument(
        "--family",
        type=_family_value,
        default=None,
        metavar="FAMILY",
        help="only the models of this family; any spelling the picker, `check --family` and `train` accept "
        "(3d_conv or i3d, 2plus1d or r2plus1d, 2d_pool or framepool, temporal_shift or tsm, transformer)",
    )
    parser.add_argument("--frames", type=int, default=16, help="clip length T (default 16)")
    parser.add_argument("--size", type=int, default=224, help="frame height = width in px (default 224)")
    parser.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parser.add_argument(
        "--device",
        choices=("meta", "cpu", "cuda", "auto"),
        default="meta",
        help="where counting runs (default meta: no memory, no weights); latency uses it unless meta",
    )
    parser.add_argument(
        "--latency", action="store_true", help="also time the forward pass (median of 5 after 2 warm-up)"
    )


def run(args) -> int:
    import json
    import sys

    from temporalkit.extras import require

    require("models", "temporalkit cost")
    from temporalkit.reference_models.cost import cost_table, format_markdown, format_table
    from temporalkit.reference_models.registry import MODELS, PUBLISHED_ONLY

    if args.model != "all" and args.model not in MODELS and args.model not in PUBLISHED_ONLY:
        print(f"temporalkit cost: unknown model {args.model!r}; known: all, {', '.join(MODELS)}", file=sys.stderr)
        return 2
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print("temporalkit cost: --device cuda asked for but CUDA is not available here", file=sys.stderr)
            return 2
    models = [args.model] if args.model != "all" else list(MODELS)
    if args.family is not None:
        models = [model_id for model_id in models if model_id in MODELS and MODELS[model_id].family == args.family]
    rows = cost_table(models, args.frames, args.size, device=args.device, latency=args.latency)
    if args.format == "json":
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    elif args.format == "markdown":
        print(format_markdown(rows))
    else:
        print(format_table(rows))
    return 0
