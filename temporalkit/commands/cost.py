"""`temporalkit cost`: GMACs, GFLOPs, parameters (and optionally latency) of video models."""

from __future__ import annotations

HELP = "Measure GMACs/GFLOPs/params (and latency) of reference and torchvision video models."
EXAMPLE = "temporalkit cost --model all --frames 16 --size 224 --format json"


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="all", help="model id from the registry, or 'all' (default)")
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
    rows = cost_table(
        [args.model] if args.model != "all" else "all", args.frames, args.size, device=args.device, latency=args.latency
    )
    if args.format == "json":
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    elif args.format == "markdown":
        print(format_markdown(rows))
    else:
        print(format_table(rows))
    return 0
