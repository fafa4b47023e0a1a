"""Output formats of `temporalkit audit`: text, json, sarif (2.1.0) and github (workflow annotations).

Columns: `Finding.column` is 0-based (libcst). JSON carries findings as they are; text, github
and SARIF show 1-based columns, as editors, GitHub and the SARIF spec expect.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from temporalkit.validators.findings import FileError, Finding

from temporalkit import __version__
from temporalkit.term import use_color  # noqa: F401  (re-exported: colours on a TTY, never with NO_COLOR)

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/temporalkit/temporalkit"

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "path": "\033[1m", "rule": "\033[36m", "dim": "\033[2m"}
_RESET = "\033[0m"


def render(
    fmt: str,
    findings: Sequence[Finding],
    errors: Sequence[FileError] = (),
    *,
    files_audited: int | None = None,
    fixed_files: Sequence[str] = (),
    color: bool = False,
) -> str:
    if fmt == "text":
        return format_text(findings, errors, files_audited=files_audited, fixed_files=fixed_files, color=color)
    if fmt == "json":
        return format_json(findings, errors)
    if fmt == "sarif":
        return format_sarif(findings, errors)
    if fmt == "github":
        return format_github(findings, errors)
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


# -- text ---------------------------------------------------------------------------------
def format_finding_line(finding: Finding, color: bool = False) -> str:
    """`path:line:col: TK101 [error] message (fix: ...)`"""

    def paint(text: str, key: str) -> str:
        return f"{_COLORS[key]}{text}{_RESET}" if color else text

    fix = f" (fix: {finding.fix})" if finding.fix else ""
    location = paint(f"{finding.path}:{finding.line}:{finding.column + 1}:", "path")
    return f"{location} {paint(finding.rule, 'rule')} {paint(f'[{finding.severity}]', finding.severity)} {finding.message}{fix}"


def format_text(
    findings: Sequence[Finding],
    errors: Sequence[FileError] = (),
    *,
    files_audited: int | None = None,
    fixed_files: Sequence[str] = (),
    color: bool = False,
) -> str:
    lines = [format_finding_line(f, color) for f in findings]
    for error in errors:
        label = f"{_COLORS['error']}[file error]{_RESET}" if color else "[file error]"
        lines.append(f"{error.path}: {label} {error.message}")
    for path in fixed_files:
        lines.append(f"{path}: fixed")
    lines.append(summary_line(findings, errors, files_audited=files_audited, fixed=len(fixed_files)))
    return "\n".join(lines) + "\n"


def summary_line(
    findings: Sequence[Finding], errors: Sequence[FileError] = (), *, files_audited: int | None = None, fixed: int = 0
) -> str:
    errors_n = sum(f.severity == "error" for f in findings)
    warnings_n = len(findings) - errors_n
    files_with = len({f.path for f in findings})
    plural = lambda n, word: f"{n} {word}{'s' if n != 1 else ''}"  # noqa: E731
    parts = []
    if findings:
        where = (
            f"{files_with} of {plural(files_audited, 'file')} audited"
            if files_audited is not None
            else plural(files_with, "file")
        )
        parts.append(
            f"Found {plural(len(findings), 'problem')} ({plural(errors_n, 'error')}, {plural(warnings_n, 'warning')}) in {where}"
        )
    else:
        audited = f" in {plural(files_audited, 'file')} audited" if files_audited is not None else ""
        parts.append(f"No problems found{audited}")
    if errors:
        # one file can carry several errors (e.g. one per dynamic object that could not run)
        unaudited = len({error.path for error in errors})
        parts.append(
            f"{plural(unaudited, 'file')} could not be audited"
            if unaudited == len(errors)
            else f"{plural(len(errors), 'error')} in {plural(unaudited, 'file')} that could not be fully audited"
        )
    if fixed:
        parts.append(f"fixed {fixed} file{'s' if fixed != 1 else ''}")
    return "; ".join(parts) + "."


# -- json ---------------------------------------------------------------------------------
_JSON_FIELDS = (
    "rule",
    "category",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix",
    "source",
)


def finding_to_json(finding: Finding) -> dict:
    data = finding.to_dict()
    out = {key: data[key] for key in _JSON_FIELDS}
    if data.get("extra"):
        out["extra"] = data["extra"]
    return out


def format_json(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    document = {
        "version": __version__,
        "findings": [finding_to_json(f) for f in findings],
        "errors": [e.to_dict() for e in errors],
    }
    return json.dumps(document, indent=2) + "\n"


# -- github workflow annotations ----------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    lines = []
    for f in findings:
        props = [f"file={_escape_property(f.path)}", f"line={f.line}", f"col={f.column + 1}"]
        if f.end_line is not None:
            props.append(f"endLine={f.end_line}")
            if f.end_column is not None and f.end_line == f.line:
                props.append(f"endColumn={f.end_column + 1}")
        props.append(f"title={_escape_property(f.rule)}")
        message = f.message + (f" (fix: {f.fix})" if f.fix else "")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(message)}")
    for e in errors:
        lines.append(f"::error file={_escape_property(e.path)},title=temporalkit::{_escape_data(e.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


# -- SARIF 2.1.0 --------------------------------------------------------------------------
def _uri(path: str) -> str:
    from urllib.parse import quote  # SARIF only

    # errors="surrogateescape": a file name that is not UTF-8 keeps its raw bytes (%E9), no crash.
    return quote(path.replace(os.sep, "/"), safe="/:", errors="surrogateescape")


def _rule_descriptors(rule_ids: Sequence[str], findings: Sequence[Finding]) -> list[dict]:
    """reportingDescriptor per rule: from the static rule or dynamic check registry (`rule_docs`)."""
    from temporalkit.validators.rule_docs import rule_doc

    sample = {f.rule: f for f in findings}
    descriptors = []
    for rule_id in rule_ids:
        try:
            documented = rule_doc(rule_id)
        except Exception:  # an unknown id, or a broken rule module: formats must still work
            documented = None
        finding = sample.get(rule_id)
        if documented is not None:
            doc, short, name = documented.doc, documented.summary, documented.name
            category, severity, fix = documented.category, documented.severity, documented.fix
        else:
            doc, short = "", finding.message if finding else rule_id
            category = finding.category if finding else ""
            severity, fix, name = (
                (finding.severity if finding else "warning"),
                (finding.fix if finding else ""),
                rule_id,
            )
        descriptor: dict = {
            "id": rule_id,
            "name": name,
            "shortDescription": {"text": short.splitlines()[0] if short else rule_id},
            "defaultConfiguration": {"level": severity},
            "properties": {"tags": [t for t in (category, "temporalkit") if t]},
        }
        if doc:
            descriptor["fullDescription"] = {"text": doc}
        help_text = doc or short
        if fix:
            help_text += f"\n\nFix: {fix}"
        descriptor["help"] = {"text": help_text}
        if category:
            descriptor["properties"]["category"] = category
        descriptors.append(descriptor)
    return descriptors


def format_sarif(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    rule_ids = sorted({f.rule for f in findings})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for f in findings:
        region = {"startLine": f.line, "startColumn": f.column + 1}
        if f.end_line is not None:
            region["endLine"] = f.end_line
            if f.end_column is not None:
                region["endColumn"] = max(f.end_column + 1, region["startColumn"] if f.end_line == f.line else 1)
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule],
                "level": f.severity,
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
                "properties": {"category": f.category, "source": f.source},
            }
        )
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path), "uriBaseId": "%SRCROOT%"}}}],
        }
        for e in errors
    ]
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "temporalkit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": _rule_descriptors(rule_ids, findings),
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
