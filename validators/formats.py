"""Output formats of `temporalkit audit`: text, json, sarif (2.1.0) and github (workflow annotations).

Columns: `Finding.column` is 0-based (libcst); every format shows it 1-based (text, json, github
and SARIF alike), as editors, GitHub, ruff's JSON and the SARIF spec count.
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
    quiet: bool = False,
    unused: int = 0,
    bgr_project: int = 0,
) -> str:
    """The report in `fmt`; `quiet` (text only) leaves out everything but the findings and file errors.
    unused: how many findings in code nothing in the audited tree uses were held back (text summary);
    bgr_project: how many TK191 findings in a project that never makes RGB frames were."""
    if fmt == "text":
        return format_text(
            findings,
            errors,
            files_audited=files_audited,
            fixed_files=fixed_files,
            color=color,
            quiet=quiet,
            unused=unused,
            bgr_project=bgr_project,
        )
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
    fixable = " [*]" if finding.fixable else ""  # as ruff marks what --fix can apply
    severity = paint(f"[{finding.severity}]", finding.severity)
    return f"{location} {paint(finding.rule, 'rule')}{fixable} {severity} {finding.message}{fix}"


def format_text(
    findings: Sequence[Finding],
    errors: Sequence[FileError] = (),
    *,
    files_audited: int | None = None,
    fixed_files: Sequence[str] = (),
    color: bool = False,
    quiet: bool = False,
    unused: int = 0,
    bgr_project: int = 0,
) -> str:
    """One line per finding and per file error; then, unless `quiet`, the fixed files and a summary."""
    lines = [format_finding_line(f, color) for f in findings]
    for error in errors:
        label = f"{_COLORS['error']}[file error]{_RESET}" if color else "[file error]"
        lines.append(f"{error.path}: {label} {error.message}")
    if not quiet:
        for path in fixed_files:
            lines.append(f"{path}: fixed")
        lines.append(
            summary_line(
                findings,
                errors,
                files_audited=files_audited,
                fixed=len(fixed_files),
                unused=unused,
                bgr_project=bgr_project,
            )
        )
    return "\n".join(lines) + "\n" if lines else ""


def summary_line(
    findings: Sequence[Finding],
    errors: Sequence[FileError] = (),
    *,
    files_audited: int | None = None,
    fixed: int = 0,
    unused: int = 0,
    bgr_project: int = 0,
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
    fixable = sum(f.fixable for f in findings)
    if fixable:
        parts.append(f"{fixable} fixable with --fix (marked [*])")
    if unused:
        parts.append(unused_note(unused))
    if bgr_project:
        parts.append(bgr_project_note(bgr_project))
    return "; ".join(parts) + "."


def bgr_project_note(count: int) -> str:
    """What the summary says of the TK191 findings held back in a project that never makes RGB frames."""
    were = "finding was" if count == 1 else "findings were"
    return f"{count} TK191 {were} not reported: no code in the project makes RGB frames, so its models take BGR (--include-unused to show them)"


def unused_note(count: int) -> str:
    """What the summary says of the findings held back in code nothing in the audited tree uses."""
    were = (
        "finding in code nothing in the audited tree uses was"
        if count == 1
        else "findings in code nothing in the audited tree uses were"
    )
    return f"{count} {were} not reported (--include-unused to show them)"


# -- statistics ---------------------------------------------------------------------------
def statistics(findings: Sequence[Finding]) -> list[dict]:
    """One row per rule, most frequent first: {code, name, count, fixable, category, severity}
    (`fixable`: how many of its findings --fix can apply), as `ruff --statistics` counts."""
    rows: dict[str, dict] = {}
    for f in findings:
        row = rows.setdefault(
            f.rule, {"code": f.rule, "count": 0, "fixable": 0, "category": f.category, "severity": f.severity}
        )
        row["count"] += 1
        row["fixable"] += int(f.fixable)
    return sorted(rows.values(), key=lambda row: (-row["count"], row["code"]))


def format_statistics(findings: Sequence[Finding], fmt: str = "text") -> str:
    """`--statistics`: the per-rule counts as a table (text) or a JSON list (json)."""
    rows = statistics(findings)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(row["count"])) for row in rows), default=1)
    lines = [
        f"{row['count']:>{width}}  {row['code']:<6} {'[*]' if row['fixable'] else '   '}  "
        f"{'[' + row['severity'] + ']':<9}  {row['category']}"
        for row in rows
    ]
    return "\n".join(lines) + "\n" if lines else ""


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
    "fixable",
    "source",
)


def finding_to_json(finding: Finding) -> dict:
    """A finding as the JSON format carries it: lines and columns 1-based (end exclusive, as the
    text, github and SARIF formats count), `fixable` when --fix can apply a fix."""
    data = finding.to_dict()
    data["column"] += 1
    data["end_column"] += 1
    data["fixable"] = finding.fixable
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
# What GitHub code scanning needs from a SARIF upload: URIs relative to the repository root (it
# resolves them against the checkout, whatever folder the audit ran in), `partialFingerprints` on
# every result (so an alert keeps its identity when lines move), rule help in markdown, and
# `executionSuccessful: false` when some files could not be audited.
def _uri(path: str) -> str:
    from urllib.parse import quote  # SARIF only

    # errors="surrogateescape": a file name that is not UTF-8 keeps its raw bytes (%E9), no crash.
    return quote(path.replace(os.sep, "/"), safe="/:", errors="surrogateescape")


def repository_root(start: str | os.PathLike) -> str | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file for worktrees)."""
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


class _Locator:
    """Artifact locations and source lines of reported paths, each file read at most once."""

    def __init__(self, root: str | None) -> None:
        self.root = root
        self._roots: dict[str, str | None] = {}
        self._lines: dict[str, list[str]] = {}

    def _root_of(self, absolute: str) -> str | None:
        if self.root is not None:
            return self.root
        folder = os.path.dirname(absolute)
        if folder not in self._roots:
            self._roots[folder] = repository_root(folder)
        return self._roots[folder]

    def location(self, path: str) -> dict:
        """`{"uri", "uriBaseId": "%SRCROOT%"}` relative to the repository root; outside any
        repository relative to the current folder, or a `file://` URI for a file above it;
        `-` (stdin) as it is."""
        if not path or path == "-":
            return {"uri": _uri(path or "-")}
        absolute = os.path.abspath(path)
        for base in (self._root_of(absolute), os.getcwd()):
            if base is not None:
                relative = os.path.relpath(absolute, base)
                if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
                    return {"uri": _uri(relative), "uriBaseId": "%SRCROOT%"}
        from pathlib import Path

        return {"uri": Path(absolute).as_uri()}

    def line(self, path: str, number: int) -> str:
        if path not in self._lines:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    self._lines[path] = handle.read().splitlines()
            except (OSError, ValueError):
                self._lines[path] = []
        lines = self._lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


def _fingerprint(finding: Finding, uri: str, line_text: str, seen: dict[str, int]) -> str:
    """`hash:n` of the rule, the file and the reported line's text (whitespace ignored, so the
    alert survives re-indentation and lines moving); `n` counts equal hashes in one run. Without
    the source (stdin, a deleted file) the message stands in for the line."""
    import hashlib

    text = " ".join(line_text.split()) or finding.message
    digest = hashlib.sha256(f"{finding.rule}\0{uri}\0{text}".encode("utf-8", "surrogateescape")).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"


def _rule_descriptors(rule_ids: Sequence[str], findings: Sequence[Finding]) -> list[dict]:
    """reportingDescriptor per rule: from the static rule or dynamic check registry (`rule_docs`)."""
    from temporalkit.validators.rule_docs import rule_doc, rule_help_markdown, rule_help_text

    sample = {f.rule: f for f in findings}
    descriptors = []
    for rule_id in rule_ids:
        try:
            documented = rule_doc(rule_id)
        except Exception:  # an unknown id, or a broken rule module: formats must still work
            documented = None
        finding = sample.get(rule_id)
        descriptor: dict = {"id": rule_id}
        if documented is not None:
            category, severity = documented.category, documented.severity
            descriptor["name"] = documented.name
            descriptor["shortDescription"] = {"text": documented.summary.splitlines()[0] or rule_id}
            descriptor["fullDescription"] = {"text": rule_help_text(documented, full=False)}
            descriptor["help"] = {"text": rule_help_text(documented), "markdown": rule_help_markdown(documented)}
        else:
            category = finding.category if finding else ""
            severity = finding.severity if finding else "warning"
            short = (finding.message if finding else "") or rule_id
            fix = finding.fix if finding else ""
            descriptor["name"] = rule_id
            descriptor["shortDescription"] = {"text": short.splitlines()[0]}
            help_text = short + (f"\n\nFix: {fix}" if fix else "")
            descriptor["help"] = {"text": help_text, "markdown": help_text}
        descriptor["defaultConfiguration"] = {"level": severity}
        descriptor["properties"] = {"tags": [t for t in (category, "temporalkit") if t]}
        if category:
            descriptor["properties"]["category"] = category
        descriptors.append(descriptor)
    return descriptors


def format_sarif(findings: Sequence[Finding], errors: Sequence[FileError] = (), *, root: str | None = None) -> str:
    """SARIF 2.1.0 for GitHub code scanning. `root`: the folder URIs are relative to (default:
    each file's repository, found by its `.git`; outside one, the current folder)."""
    locator = _Locator(root)
    rule_ids = sorted({f.rule for f in findings})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    seen: dict[str, int] = {}
    for f in findings:
        region = {"startLine": f.line, "startColumn": f.column + 1}
        if f.end_line is not None:
            region["endLine"] = f.end_line
            if f.end_column is not None:
                region["endColumn"] = max(f.end_column + 1, region["startColumn"] if f.end_line == f.line else 1)
        location = locator.location(f.path)
        # The message says what is wrong; the fix stays apart (markdown paragraph, properties.fix).
        message: dict = {"text": f.message}
        if f.fix:
            message["markdown"] = f"{f.message}\n\n**Fix:** {f.fix}"
        properties = {"category": f.category, "source": f.source, "fixable": f.fixable}
        if f.fix:
            properties["fix"] = f.fix
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule],
                "level": f.severity,
                "message": message,
                "locations": [{"physicalLocation": {"artifactLocation": location, "region": region}}],
                "partialFingerprints": {
                    "primaryLocationLineHash": _fingerprint(f, location["uri"], locator.line(f.path, f.line), seen)
                },
                "properties": properties,
            }
        )
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {"artifactLocation": locator.location(e.path)}}],
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
                # Files that could not be audited (unreadable, unparsable, a crashed check): the
                # run did not do all it was asked, and the notifications say where.
                "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notifications}],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
