"""Select, ignore, per-file-ignores and inline suppressions, applied to dynamic findings.

A dynamic finding sits at the ``def`` / ``class`` line of the object that failed, so the static
auditor's suppression comment works for it as for a static finding on that line:

    # temporalkit: ignore[TK505] -- the tail is credits, never sampled on purpose
    def sample_indices(num_frames, T): ...

    def sample_window(num_frames, T, rng):  # temporalkit: ignore[start-range]
        ...

`[tool.temporalkit] select / ignore / per-file-ignores` (and `audit --select / --ignore`) apply
too, with the same selectors (ids, id prefixes, categories). One reader of each: the comment
syntax is `validators/suppressions.py`'s, the selectors `validators/config.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalkit.validators.config import AuditConfig, ConfigError, load_config, selector_matches
from temporalkit.validators.findings import Finding
from temporalkit.validators.suppressions import is_suppressed, parse_suppressions


def audit_config_for(config: Any, paths: Sequence[Any]) -> AuditConfig | None:
    """The `AuditConfig` whose selectors apply: the one given, else the nearest pyproject's above `paths[0]`."""
    if isinstance(config, AuditConfig):
        return config
    if config is not None or not paths:
        return None  # a bare [tool.temporalkit.dynamic] table or DynamicConfig: no selectors given
    try:
        return load_config(Path(paths[0]))
    except (ConfigError, OSError):
        return None  # the dynamic config reader reports a bad pyproject


def kept(findings: Sequence[Finding], config: AuditConfig | None) -> list[Finding]:
    """`findings` less those deselected, ignored (everywhere or for their file) or suppressed by a comment."""
    sources: dict[str, dict[int, frozenset[str]]] = {}
    result = []
    for finding in findings:
        if config is not None and not _selected(finding, config):
            continue
        if finding.path not in sources:
            try:
                sources[finding.path] = parse_suppressions(Path(finding.path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                sources[finding.path] = {}
        if is_suppressed(finding.rule, finding.line, sources[finding.path], finding.category):
            continue
        result.append(finding)
    return result


def _selected(finding: Finding, config: AuditConfig) -> bool:
    rule, category = finding.rule, finding.category
    if config.select and not any(selector_matches(s, rule, category) for s in config.select):
        return False
    ignored = (*config.ignore, *config.ignored_for(Path(finding.path)))
    return not any(selector_matches(s, rule, category) for s in ignored)


def filter_results(results: Sequence[Any], config: AuditConfig | None) -> None:
    """Drop, in place, the findings of each `ModuleResult`'s objects that `kept` leaves out."""
    for result in results:
        for obj in result.objects:
            obj.findings = kept(obj.findings, config)
