#!/usr/bin/env python3
"""Summarise `temporalkit audit --format json` output as a review checklist, grouped by file.

    temporalkit audit src/ --format json > findings.json
    python summarize_findings.py findings.json        # or: ... --format json | python summarize_findings.py

Standard library only, so it runs wherever the skill is installed. Exit code 0 when the input
was read (whatever it contains), 2 when it cannot be read or is not audit JSON.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

# Keys under a dynamic finding's `extra` that hold its minimal failing input, most specific first.
COUNTEREXAMPLE_KEYS = ("counterexample", "minimal_input", "input", "call")


def counterexample(finding: dict) -> str:
    """`num_frames=1, T=2, seed=0 -> returned [0, 1]` from a dynamic finding's `extra`, else ''."""
    extra = finding.get("extra") or {}
    for key in COUNTEREXAMPLE_KEYS:
        if key in extra:
            value = extra[key]
            if isinstance(value, dict):
                text = ", ".join(f"{name}={item}" for name, item in value.items())
            else:
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            if "returned" in extra:
                text += f" -> returned {json.dumps(extra['returned'])}"
            elif "exception" in extra:
                text += f" -> raised {extra['exception']}"
            return text
    return ""


def summarize(report: dict) -> str:
    findings = report.get("findings", [])
    errors = report.get("errors", [])
    by_path: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        by_path[finding.get("path", "?")].append(finding)

    lines: list[str] = []
    for path in sorted(by_path):
        lines.append(path)
        for finding in sorted(by_path[path], key=lambda f: (f.get("line", 0), f.get("column", 0))):
            column = finding.get("column")
            # JSON columns are 1-based, as editors and the other formats count.
            where = f"{finding.get('line', '?')}:{column if isinstance(column, int) else '?'}"
            lines.append(
                f"  [ ] {where:>7}  {finding.get('rule', '?')} {finding.get('severity', '?')}"
                f" [{finding.get('category', '?')}] ({finding.get('source', 'static')})"
            )
            lines.append(f"      {finding.get('message', '')}")
            if finding.get("fix"):
                lines.append(f"      fix: {finding['fix']}")
            example = counterexample(finding)
            if example:
                lines.append(f"      counterexample: {example}")
    if errors:
        lines.append("not audited:")
        for error in errors:
            if isinstance(error, dict):
                lines.append(f"  {error.get('path', '?')}: {error.get('message', '')}")
            else:
                lines.append(f"  {error}")

    severities = Counter(f.get("severity", "?") for f in findings)
    categories = Counter(f.get("category", "?") for f in findings)
    total = (
        f"{len(findings)} finding(s): {severities.get('error', 0)} error(s), {severities.get('warning', 0)} warning(s)"
    )
    if categories:
        total += "; " + ", ".join(f"{name} {count}" for name, count in sorted(categories.items()))
    lines.append(total + (f"; {len(errors)} file(s) not audited" if errors else ""))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    source = argv[1] if len(argv) > 1 else "-"
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        report = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"summarize_findings: cannot read audit JSON from {source}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(report, dict) or "findings" not in report:
        print(
            f"summarize_findings: {source} is not `temporalkit audit --format json` output (no 'findings')",
            file=sys.stderr,
        )
        return 2
    print(summarize(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
