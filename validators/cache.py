"""Audit results cached by file content, so unchanged files cost a hash and a dict lookup.

The key of the whole cache is the *rule-set fingerprint*: a hash of the temporalkit version and of
the source of every module that decides findings (rule base, engine, the rules' helpers, rules).
Editing a rule or a helper makes a new fingerprint and the old results are dropped. Within it, an
entry's key is derived from the sha256 of the file's bytes and the ids of the rules that were run,
so the same content under another path or another `--select` is looked up, not re-linted.

The fingerprint also indexes each rule's TRIGGERS, which lets a run decide that a file cannot
match any rule without importing libcst or the rules at all (the pre-commit fast path).

Location: `$TEMPORALKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/temporalkit` when XDG_CACHE_HOME is set,
else `.temporalkit_cache/` in the project root.

Whose folder it is. The cache only ever deletes files in a folder it created itself, and there
only its own `results-` / `rules-` / `facts-<fingerprint>.json` of other fingerprints (and
its own temporary files left by a killed run):
- the folder does not exist: it is created with a marker file (`.temporalkit-cache`) and a
  `.gitignore` of `*`; stale entries are pruned there;
- it exists and carries the marker, or holds nothing but what temporalkit writes (an older
  version's `.gitignore` and entry files, the dynamic auditor's `probes/` and
  `probe-images/` folders): the same;
- it exists without the marker (someone else's folder, e.g. `TEMPORALKIT_CACHE_DIR=~/stuff`):
  the cache lives in a subfolder `temporalkit-cache/` of it, created and marked as above; the
  user's folder gains that one entry and nothing else. (If that subfolder too exists unmarked,
  the cache only adds its own two files there and never deletes or writes anything else.)

What the cache trusts. A cache folder that git tracks files in (`git ls-files` lists any) is not
read or written at all: a cache committed to a repository could otherwise make CI report "no
problems" for code it never audited. Every entry records the full content hash and a hash of the
rule ids it was made for, and is used only when both match the file being audited, so an entry
moved or copied under another key never stands for another file's result (someone who can write
the folder can also write matching hashes: that is what the git check is for). An entry or rule
index of any other shape (hand-edited, truncated, from another version) is a miss, never an error.

`--no-cache` (`writable=False`) creates and writes nothing; a rule index already there is still
read (it only spares importing libcst).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import NamedTuple

from temporalkit.validators.findings import CATEGORIES, SEVERITIES, Finding

from temporalkit import __version__
from temporalkit.fileio import write_atomic

_VALIDATORS_DIR = Path(__file__).resolve().parent
# Every module the rules import (tests/test_cache.py checks it): an edited heuristic must make a new fingerprint.
_FINGERPRINT_SOURCES = (
    "rule.py",
    "engine.py",
    "suppressions.py",
    "config.py",
    "analysis.py",
    "tree.py",
    "parsing.py",
    "astutil.py",
    "syntax.py",
    "apis.py",
    "names.py",
    "windows.py",
    "triggers.py",
    "findings.py",
    "audit.py",
    "cache.py",
    "unused.py",  # the per-file facts kept in facts-<fingerprint>.json
)
_MAX_ENTRIES = 50_000

MARKER_NAME = ".temporalkit-cache"
MARKER_TEXT = (
    "This folder was created by temporalkit as its audit cache.\n"
    "temporalkit deletes only its own results-*.json / rules-*.json / facts-*.json files here; delete the folder at will.\n"
)
SUBFOLDER = "temporalkit-cache"
_GITIGNORE_TEXT = "# created by temporalkit audit\n*\n"
_ENTRY_FILE = re.compile(r"(?:results|rules|facts)-([0-9a-f]{20})\.json")
# Temporary files of fileio.write_atomic for our entry files, and those of temporalkit <= 0.1.0.
_TEMP_FILE = re.compile(
    r"\.(?:results|rules|facts)-[0-9a-f]{20}\.json\.[0-9a-f]{8}\.tmp\.json|\.tmp-[a-z0-9_]{8}\.json"
)
_STALE_TEMP_AGE_S = 3600
# validators/dynamic/probes.py keeps its probe files under $XDG_CACHE_HOME/temporalkit/ too.
_PROBE_FOLDERS = ("probes", "probe-images")


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


class ContentKey(NamedTuple):
    """Where a file's result is stored (`key`) and what the stored entry must match to be used."""

    key: str
    sha256: str  # of the file's bytes
    rules: str  # hash of the rule ids that were run


def content_key(data: bytes, rule_ids: tuple[str, ...]) -> ContentKey:
    content = hashlib.sha256(data).hexdigest()
    rules = hashlib.sha256(",".join(rule_ids).encode()).hexdigest()[:16]
    return ContentKey(hashlib.sha256(f"{content}\0{rules}".encode()).hexdigest()[:32], content, rules)


class ResultCache:
    """One JSON file per rule-set fingerprint: {key: {"sha256", "rules", "findings": [...], "error"}}.

    Findings are stored without their path (the same content may live at several paths).
    Writes are atomic; concurrent runs may lose each other's new entries, never corrupt the file.
    `writable=False` (`--no-cache`) reads the rule index at most and never creates or writes anything.
    """

    def __init__(self, directory: Path, fingerprint: str | None = None, *, writable: bool = True) -> None:
        self.requested = Path(directory)
        self.directory = _choose_directory(self.requested)
        self.fingerprint = fingerprint or ruleset_fingerprint()
        self.writable = writable
        self._results_path = self.directory / f"results-{self.fingerprint}.json"
        self._rules_path = self.directory / f"rules-{self.fingerprint}.json"
        self._facts_path = self.directory / f"facts-{self.fingerprint}.json"
        self._entries: dict[str, dict] | None = None
        self._dirty = False
        self._facts: dict[str, object] | None = None
        self._facts_dirty = False
        self._trusted: bool | None = None

    # -- per-file results ------------------------------------------------------
    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = (_read_json(self._results_path) if self.trusted() else None) or {}
        return self._entries

    def get(self, key: ContentKey) -> dict | None:
        entry = self._load().get(key.key)
        return entry if _valid_entry(entry, key) else None

    def put(self, key: ContentKey, findings: list[dict], error: str | None = None) -> None:
        self._load()[key.key] = {"sha256": key.sha256, "rules": key.rules, "findings": findings, "error": error}
        self._dirty = True

    # -- per-file facts of the unused-code pass (validators/unused.py), by content hash ----------
    # A file of their own: only a directory audit with findings reads it, never the pre-commit path.
    def get_facts(self, sha256: str) -> object:
        if self._facts is None:
            self._facts = (_read_json(self._facts_path) if self.trusted() else None) or {}
        return self._facts.get(sha256)

    def put_facts(self, sha256: str, facts: dict) -> None:
        if self._facts is None:
            self.get_facts(sha256)
        self._facts[sha256] = facts
        self._facts_dirty = True

    def save(self) -> None:
        if self._facts_dirty and self._facts is not None and self.writable:
            facts = self._facts
            if len(facts) > _MAX_ENTRIES:
                facts = dict(list(facts.items())[-_MAX_ENTRIES:])
            if self._write(self._facts_path, facts):
                self._facts_dirty = False
        if not self._dirty or self._entries is None or not self.writable:
            return
        entries = self._entries
        if len(entries) > _MAX_ENTRIES:  # dicts keep insertion order: drop the oldest
            entries = dict(list(entries.items())[-_MAX_ENTRIES:])
        if self._write(self._results_path, entries):
            self._dirty = False

    # -- rule index: id -> triggers, category, severity ------------------------
    def load_rule_index(self) -> dict[str, dict] | None:
        if not self.trusted():
            return None
        index = _read_json(self._rules_path)
        return index if _valid_rule_index(index) else None

    def save_rule_index(self, index: dict[str, dict]) -> None:
        if self.writable:
            self._write(self._rules_path, index)

    # -- the folder ------------------------------------------------------------
    def trusted(self) -> bool:
        """False when git tracks files in the cache folder (a committed cache is never believed)."""
        if self._trusted is None:
            self._trusted = not (self.directory.exists() and _tracked_by_git(self.directory))
        return self._trusted

    def _write(self, path: Path, data: dict) -> bool:
        if not self.trusted():
            return False  # never write into a folder git tracks
        try:
            owned = self._prepare_directory()
            write_atomic(path, json.dumps(data, separators=(",", ":")), fsync=False)
        except OSError:
            return False  # a cache that cannot be written (read-only checkout) only costs speed
        if owned:
            _prune(self.directory, self.fingerprint)
        return True

    def _prepare_directory(self) -> bool:
        """Create the folder if needed; True when it is ours (created and marked by us)."""
        if _is_ours(self.directory):
            marker = self.directory / MARKER_NAME
            if not marker.is_file():  # an old temporalkit cache, adopted
                marker.write_text(MARKER_TEXT)
            return True
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.directory.mkdir()
        except FileExistsError:
            return _is_ours(self.directory)  # someone else's (or another run just made it)
        (self.directory / MARKER_NAME).write_text(MARKER_TEXT)
        (self.directory / ".gitignore").write_text(_GITIGNORE_TEXT)
        return True


def _choose_directory(requested: Path) -> Path:
    """`requested`, unless it is an existing folder the cache did not create: then its subfolder."""
    if not os.path.lexists(requested) or _is_ours(requested):
        return requested
    return requested / SUBFOLDER


def _is_ours(directory: Path) -> bool:
    if (directory / MARKER_NAME).is_file():
        return True
    return _is_old_cache(directory)


def _is_old_cache(directory: Path) -> bool:
    """A folder that holds nothing but what temporalkit writes there: an older version's cache
    (its `.gitignore` of `*` and entry files) and/or the dynamic auditor's probe folders (which
    share `$XDG_CACHE_HOME/temporalkit`). Adopted (marked on the next write); no other folder is."""
    try:
        names = os.listdir(directory)
        if ".gitignore" in names and (directory / ".gitignore").read_text() != _GITIGNORE_TEXT:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    return bool(names) and all(
        name == ".gitignore"
        or _ENTRY_FILE.fullmatch(name)
        or _TEMP_FILE.fullmatch(name)
        or (name in _PROBE_FOLDERS and (directory / name).is_dir())
        for name in names
    )


def _prune(directory: Path, fingerprint: str) -> None:
    """Delete our entry files of other fingerprints and our temporary files older than an hour."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    for name in names:
        match = _ENTRY_FILE.fullmatch(name)
        if match:
            stale = match.group(1) != fingerprint
        elif _TEMP_FILE.fullmatch(name):
            try:
                stale = now - os.lstat(directory / name).st_mtime > _STALE_TEMP_AGE_S
            except OSError:
                continue
        else:
            continue
        if stale:
            try:
                os.unlink(directory / name)
            except OSError:
                pass


def _tracked_by_git(directory: Path) -> bool:
    """Whether git tracks any file under `directory` (or the path itself, e.g. a committed symlink).

    Outside a git work tree this costs a few stat calls; inside one, one `git ls-files`. When git
    cannot answer (not installed, an ownership refusal), the folder is not trusted."""
    absolute = Path(os.path.abspath(directory))
    if not any((parent / ".git").exists() for parent in (absolute, *absolute.parents)):
        return False
    import subprocess  # only here: runs outside git never need it

    try:
        completed = subprocess.run(
            ["git", "--literal-pathspecs", "ls-files", "-z", "--", absolute.name],
            cwd=absolute.parent,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    if completed.returncode != 0:
        # "not a git repository" (a stray .git above, e.g. GIT_DIR games) means nothing tracks it.
        return b"not a git repository" not in completed.stderr
    return bool(completed.stdout.strip(b"\0"))


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


_FINDING_FIELDS = {
    "rule",
    "category",
    "severity",
    "line",
    "column",
    "message",
    "fix",
    "end_line",
    "end_column",
    "source",
    "extra",
    "fixable",
}
_REQUIRED_FIELDS = {"rule", "category", "severity", "line", "column", "message"}


def _valid_entry(entry: object, key: ContentKey) -> bool:
    if not isinstance(entry, dict) or entry.get("sha256") != key.sha256 or entry.get("rules") != key.rules:
        return False
    error, findings = entry.get("error"), entry.get("findings")
    if not (error is None or isinstance(error, str)) or not isinstance(findings, list):
        return False
    return all(_valid_finding(finding) for finding in findings)


def _valid_finding(finding: object) -> bool:
    if not isinstance(finding, dict) or not _REQUIRED_FIELDS <= finding.keys() <= _FINDING_FIELDS:
        return False
    if not all(isinstance(finding.get(name), str) for name in ("rule", "category", "severity", "message")):
        return False
    if not all(_is_int(finding[name]) for name in ("line", "column")):
        return False
    if not all(finding.get(name) is None or _is_int(finding[name]) for name in ("end_line", "end_column")):
        return False
    if not isinstance(finding.get("fix", ""), str) or not isinstance(finding.get("extra", {}), dict):
        return False
    if not isinstance(finding.get("fixable", False), bool):
        return False
    if finding["category"] not in CATEGORIES or finding["severity"] not in SEVERITIES:
        return False
    try:
        Finding(path="", **finding)
    except (TypeError, ValueError):
        return False
    return True


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_rule_index(index: object) -> bool:
    if not isinstance(index, dict):
        return False
    for rule_id, info in index.items():
        if not isinstance(info, dict) or not isinstance(info.get("category"), str):
            return False
        if not isinstance(info.get("severity"), str) or not isinstance(info.get("opt_in"), bool):
            return False
        triggers = info.get("triggers")
        if not isinstance(triggers, list) or not all(isinstance(t, str) for t in triggers):
            return False
    return True
