"""`temporalkit rule TKnnn`: print a static rule's or a dynamic check's documentation (as `ruff rule`)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "Explain a rule or dynamic check: what it does, why it is a bug, an example, the fix (--all lists every id)."
EXAMPLE = "temporalkit rule TK501"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_id", nargs="?", help="the id to explain, e.g. TK101 (static) or TK501 (dynamic)")
    parser.add_argument("--all", action="store_true", help="list every static rule and dynamic check, one per line")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from temporalkit.validators.rule_docs import UnknownRuleError, all_rule_docs, format_rule_doc, rule_doc

    if args.all == bool(args.rule_id):
        print("temporalkit rule: give one rule id (e.g. TK101) or --all", file=sys.stderr)
        return 2
    if args.all:
        docs = all_rule_docs()
        if args.format == "json":
            print(json.dumps([asdict(doc) for doc in docs], indent=2))
        else:
            for doc in docs:
                opt_in = "  (opt-in)" if doc.opt_in else ""
                print(f"{doc.id}  {doc.kind:7}  {doc.severity:7}  {doc.category:21}  {doc.name}{opt_in}")
        return 0
    try:
        doc = rule_doc(args.rule_id)
    except UnknownRuleError as exc:
        print(f"temporalkit rule: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(asdict(doc), indent=2))
    else:
        print(format_rule_doc(doc), end="")
    return 0
