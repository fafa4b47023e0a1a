"""Audit results cached by file content, so unchanged files cost a hash and a dict lookup.

The key of the whole cache is the *rule-set fingerprint*: a hash of the temporalkit version and of
the source of every module that decides findings (rule base, engine, rules). Editing a rule makes a
new fingerprint and the old results are dropped. Within it, an entry's key is the sha256 of the
file's bytes plus the ids of the rules that were run, so the same content under another path or
another `--select` is looked up, not re-linted.

The fingerprint also indexes each rule's TRIGGERS, which lets a run decide that a file cannot
match any rule without importing libcst or the rules at all (the pre-commit fast path).

Location: `$TEMPORALKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/temporalkit` when XDG_CACHE_HOME is set,
else `.temporalkit_cache/` in the project root (it holds a `.gitignore` of `*`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from temporalkit import __version__

_VALIDATORS_DIR = Path(__file__).resolve().parent
_FINGERPRINT_SOURCES = ("rule.py", "engine.py", "astutil.py", "findings.py", "audit.py")
_MAX_ENTRIES = 50_000


def ruleset_fingerprint() -> str:
    """Hash of everything that decides findings; computed from file contents, without importing rules."""
    digest = hashlib.sha256(__version__.encode())
    rule_files = sorted((_VALIDATORS_DIR / "rules").glob("*.py"))
    for path in [_VALIDATORS_DIR / name for name in _FINGERPRINT_SOURCES] + rule_files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:20]


def default_cache_dir(project_root: Path | None) -> Path:
    explicit = os.environ.get("TEMPORALKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "temporalkit"
    return (project_root or Path.cwd()) / ".temporalkit_cache"


def content_key(data: bytes, rule_ids: tuple[str, ...]) -> str:
    digest = hashlib.sha256(data)
    digest.update(b"\0" + ",".join(rule_ids).encode())
    return digest.hexdigest()[:32]


class ResultCache:
    """One JSON file per rule-set fingerprint: {content key: {"findings": [...], "error": str|None}}.

    Findings are stored without their path (the same content may live at several paths).
    Writes are atomic (temp file + os.replace); concurrent runs may lose each other's new
    entries, never corrupt the file.
    """

    def __init__(self, directory: Path, fingerprint: str | None = None) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint or ruleset_fingerprint()
        self._results_path = self.directory / f"results-{self.fingerprint}.json"
        self._rules_path = self.directory / f"rules-{self.fingerprint}.json"
        self._entries: dict[str, dict] | None = None
        self._dirty = False

    # -- per-file results ------------------------------------------------------
    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = _read_json(self._results_path) or {}
        return self._entries

    def get(self, key: str) -> dict | None:
        return self._load().get(key)

    def put(self, key: str, findings: list[dict], error: str | None = None) -> None:
        self._load()[key] = {"findings": findings, "error": error}
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or self._entries is None:
            return
        entries = self._entries
        if len(entries) > _MAX_ENTRIES:  # dicts keep insertion order: drop the oldest
            entries = dict(list(entries.items())[-_MAX_ENTRIES:])
        try:
            self._prepare_directory()
        except OSError:
            return  # a cache that cannot be written (read-only checkout) only costs speed
        _write_json_atomic(self._results_path, entries)
        self._dirty = False

    # -- rule index: id -> triggers, category, severity ------------------------
    def load_rule_index(self) -> dict[str, dict] | None:
        return _read_json(self._rules_path)

    def save_rule_index(self, index: dict[str, dict]) -> None:
        try:
            self._prepare_directory()
        except OSError:
            return
        _write_json_atomic(self._rules_path, index)

    def _prepare_directory(self) -> None:
        fresh = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        if fresh or not (self.directory / ".gitignore").exists():
            (self.directory / ".gitignore").write_text("# created by temporalkit audit\n*\n")
        for stale in self.directory.glob("*.json"):
            if self.fingerprint not in stale.name:
                try:
                    stale.unlink()
                except OSError:
                    pass


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json_atomic(path: Path, data: dict) -> None:
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(temp, path)
    except OSError:
        try:
            os.unlink(temp)
        except (OSError, UnboundLocalError):
            pass
