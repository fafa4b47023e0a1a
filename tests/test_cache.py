"""The results cache never touches what it did not write, and is never trusted blindly.

Regressions of issue 16: `TEMPORALKIT_CACHE_DIR` / `$XDG_CACHE_HOME/temporalkit` deleted the
user's `*.json` files and wrote a `.gitignore` into folders the cache did not create; a malformed
entry was a traceback on every later run; a cache committed to the repository made CI report no
problems; an entry could stand for another file's result; `--no-cache` still wrote the cache.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from temporalkit.validators import audit as audit_module
from temporalkit.validators import cache as cache_module
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.cache import MARKER_NAME, SUBFOLDER
from temporalkit.validators.config import AuditConfig
from temporalkit.validators.rule import Rule


class FakeStopRule(Rule):
    """Test rule: any call to `fake_linspace` is an error."""

    ID = "TK900"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "fake stop is a frame count"
    TRIGGERS = ("fake_linspace",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "fake_linspace":
            self.report(node)


BUGGY = "def sample(n, T):\n    return fake_linspace(0, n, T)\n"
CLEAN = "def sample(n, T):\n    return fake_other(0, n, T)  # fake_linspace in a comment only\n"
# Found by the real registry (TK101), for the tests that need the rule index.
REAL_BUGGY = "import numpy as np\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"

USER_FILES = {"package.json": '{"name": "mine"}\n', "settings.json": "{}\n", "notes.txt": "keep\n"}


@pytest.fixture(autouse=True)
def no_cache_environment(monkeypatch):
    monkeypatch.delenv("TEMPORALKIT_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)


def audit(root: Path, *paths: Path, **kwargs):
    kwargs.setdefault("rules", (FakeStopRule,))
    kwargs.setdefault("config", AuditConfig(root=root))
    return audit_paths([str(p) for p in paths or (root,)], **kwargs)


def populate(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in USER_FILES.items():
        (folder / name).write_text(text)


def assert_untouched(folder: Path, extra: set[str] = frozenset()) -> None:
    assert {p.name for p in folder.iterdir()} == set(USER_FILES) | set(extra)
    for name, text in USER_FILES.items():
        assert (folder / name).read_text() == text


def results_files(root: Path) -> list[Path]:
    return sorted(root.rglob("results-*.json"))


# -- whose folder ------------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["TEMPORALKIT_CACHE_DIR", "XDG_CACHE_HOME"])
def test_an_existing_user_folder_is_never_emptied_nor_given_a_gitignore(tmp_path, monkeypatch, variable):
    project = tmp_path / "project"
    (project / "sampler.py").parent.mkdir()
    (project / "sampler.py").write_text(BUGGY)
    user = tmp_path / "mine"
    folder = user if variable == "TEMPORALKIT_CACHE_DIR" else user / "temporalkit"
    populate(folder)
    monkeypatch.setenv(variable, str(user))
    for _ in range(2):
        assert len(audit(project, project / "sampler.py").findings) == 1
    assert_untouched(folder, {SUBFOLDER})  # one new entry, the cache's own subfolder
    own = folder / SUBFOLDER
    assert (own / MARKER_NAME).is_file() and (own / ".gitignore").is_file() and results_files(own)


def test_the_cache_in_a_users_folder_still_saves_work(tmp_path, monkeypatch):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    populate(tmp_path / "mine")
    monkeypatch.setenv("TEMPORALKIT_CACHE_DIR", str(tmp_path / "mine"))
    cold = audit(tmp_path, path)

    def no_analysis(*args, **kwargs):
        raise AssertionError("a cached file was analysed again")

    monkeypatch.setattr(audit_module, "_run_work", no_analysis)
    assert audit(tmp_path, path).findings == cold.findings


def test_a_created_folder_is_marked_and_only_own_stale_entries_are_pruned(tmp_path):
    path = tmp_path / "src" / "sampler.py"
    path.parent.mkdir()
    path.write_text(BUGGY)
    cache = tmp_path / "cache"
    audit(tmp_path, path, cache_dir=cache)
    assert (cache / MARKER_NAME).is_file() and (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    stale = cache / "results-0123456789abcdef0123.json"
    stale.write_text("{}")
    planted = {"notes.json": "{}", "results-mine.json": "{}", "rules.json": "{}", "keep.txt": "x"}
    for name, text in planted.items():
        (cache / name).write_text(text)
    path.write_text(BUGGY + "x = 1\n")  # a new entry, so the cache is written again
    audit(tmp_path, path, cache_dir=cache)
    assert not stale.exists()
    for name, text in planted.items():
        assert (cache / name).read_text() == text


def test_an_old_cache_folder_is_adopted_and_pruned(tmp_path):
    """A folder made by the previous version (its .gitignore and entry files only) stays the cache."""
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    cache = tmp_path / ".temporalkit_cache"
    cache.mkdir()
    (cache / ".gitignore").write_text("# created by temporalkit audit\n*\n")
    stale = cache / "rules-0123456789abcdef0123.json"
    stale.write_text("{}")
    audit(tmp_path, path, cache_dir=cache)
    assert (cache / MARKER_NAME).is_file() and not stale.exists() and not (cache / SUBFOLDER).exists()


def test_the_shared_xdg_folder_holding_only_probe_videos_is_used_as_is(tmp_path, monkeypatch):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    folder = tmp_path / "xdg" / "temporalkit"
    (folder / "probes" / "0123").mkdir(parents=True)
    (folder / "probes" / "0123" / "manifest.json").write_text("{}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    audit(tmp_path, path)
    assert (folder / MARKER_NAME).is_file() and results_files(folder) and not (folder / SUBFOLDER).exists()
    assert (folder / "probes" / "0123" / "manifest.json").read_text() == "{}"


# -- what the cache trusts -------------------------------------------------------------------------
FINDING = {"rule": "TK900", "category": "short-clip", "severity": "error", "line": 2, "column": 0, "message": "m"}
BAD_ENTRIES = [
    [],
    "findings",
    {"findings": None, "error": None},
    {"findings": [{"bogus": 1}], "error": None},
    {"findings": [{"rule": "TK900"}], "error": None},
    {"findings": [dict(FINDING, category="no-such")], "error": None},
    {"findings": [dict(FINDING, line="2")], "error": None},
    {"findings": [dict(FINDING, extra=[])], "error": None},
    {"findings": [FINDING], "error": 5},
]


@pytest.mark.parametrize("bad", BAD_ENTRIES, ids=range(len(BAD_ENTRIES)))
def test_a_wrong_shaped_entry_is_a_miss(tmp_path, bad):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    cache = tmp_path / "cache"
    cold = audit(tmp_path, path, cache_dir=cache)
    (results,) = results_files(cache)
    entries = json.loads(results.read_text())
    binding = {key: {k: v for k, v in entry.items() if k in ("sha256", "rules")} for key, entry in entries.items()}
    # The entry's own content and rule hashes are kept, so only its shape is wrong.
    results.write_text(json.dumps({key: {**binding[key], **bad} if isinstance(bad, dict) else bad for key in entries}))
    warm = audit(tmp_path, path, cache_dir=cache)
    assert warm.findings == cold.findings and len(warm.findings) == 1 and warm.errors == []


@pytest.mark.parametrize("content", ["[" * 100_000, '{"a": ' * 50_000, "not json", "[1, 2]", ""])
def test_an_unreadable_results_file_is_a_miss(tmp_path, content):
    path = tmp_path / "sampler.py"
    path.write_text(BUGGY)
    cache = tmp_path / "cache"
    cold = audit(tmp_path, path, cache_dir=cache)
    (results,) = results_files(cache)
    results.write_text(content)
    assert audit(tmp_path, path, cache_dir=cache).findings == cold.findings


def test_a_wrong_shaped_rule_index_is_rebuilt(tmp_path):
    path = tmp_path / "sampler.py"
    path.write_text(REAL_BUGGY)
    cache = tmp_path / "cache"
    cold = audit(tmp_path, path, cache_dir=cache, rules=None)
    assert [f.rule for f in cold.findings] == ["TK101"]
    (index,) = sorted(cache.glob("rules-*.json"))
    for bad in ({"TK101": {"category": 1}}, {"TK101": []}, {"TK101": {"category": "short-clip", "severity": "error"}}):
        index.write_text(json.dumps(bad))
        assert audit(tmp_path, path, cache_dir=cache, rules=None, cache=False).findings == cold.findings


def test_an_entry_copied_under_another_files_key_is_not_believed(tmp_path):
    clean, buggy = tmp_path / "clean.py", tmp_path / "buggy.py"
    clean.write_text(CLEAN)
    buggy.write_text(BUGGY)
    cache = tmp_path / "cache"
    assert len(audit(tmp_path, cache_dir=cache).findings) == 1
    (results,) = results_files(cache)
    entries = json.loads(results.read_text())
    (clean_entry,) = [entry for entry in entries.values() if not entry["findings"]]
    results.write_text(json.dumps({key: clean_entry for key in entries}))  # every key says "clean"
    again = audit(tmp_path, cache_dir=cache)
    assert [f.path.rsplit("/", 1)[-1] for f in again.findings] == ["buggy.py"]


def git(repo: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    env.pop("GIT_DIR", None)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_a_cache_committed_to_the_repository_is_ignored(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "sampler.py").write_text(BUGGY)
    assert len(audit(repo).findings) == 1  # default location: <root>/.temporalkit_cache
    (results,) = results_files(repo / ".temporalkit_cache")
    entries = json.loads(results.read_text())
    for entry in entries.values():
        entry["findings"] = []  # the planted "all clear"
    results.write_text(json.dumps(entries))
    planted = results.read_text()
    git(repo, "add", "-f", ".temporalkit_cache", "sampler.py")
    git(repo, "commit", "-q", "-m", "sampler, with a cache that says it is clean")
    assert len(audit(repo).findings) == 1  # the committed cache is not read
    assert results.read_text() == planted  # nor written


def test_no_cache_creates_and_writes_nothing(tmp_path):
    (tmp_path / "sampler.py").write_text(REAL_BUGGY)
    code = "import sys; from temporalkit.cli import main\nsys.exit(main(['audit', '--no-cache', 'sampler.py']))\n"
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORALKIT_CACHE_DIR", "XDG_CACHE_HOME")}
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert completed.returncode == 1, completed.stderr  # the finding is reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sampler.py"]
    explicit = tmp_path / "explicit-cache"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(env, TEMPORALKIT_CACHE_DIR=str(explicit)),
    )
    assert completed.returncode == 1 and not explicit.exists()


def modules_the_rules_import() -> set[Path]:
    """Files of `temporalkit.validators` (not `dynamic/`) that the rules and the engine import, transitively.

    Read from the import statements (those inside functions and `TYPE_CHECKING` blocks too), not by
    importing: a helper imported lazily decides findings as much as one imported at the top.
    """
    validators = Path(cache_module.__file__).resolve().parent
    pending = [validators / "engine.py", *sorted((validators / "rules").glob("*.py"))]
    found: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[:2] != ["temporalkit", "validators"] or parts[2:3] == ["dynamic"]:
                    continue
                target = validators.joinpath(*parts[2:])
                for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                    if parts[2:] and candidate.is_file():
                        pending.append(candidate)
    return found


def test_every_module_the_rules_import_is_in_the_fingerprint():
    """Issue 17: a heuristic moved out of `astutil` into a module the fingerprint does not hash would
    keep serving cached results after it is edited."""
    validators = Path(cache_module.__file__).resolve().parent
    imported = modules_the_rules_import()
    assert validators / "names.py" in imported and validators / "analysis.py" in imported  # the walk sees through au
    unhashed = sorted(
        str(path.relative_to(validators))
        for path in imported
        if not (
            path.parent == validators / "rules"
            or (path.parent == validators and path.name in cache_module._FINGERPRINT_SOURCES)
        )
    )
    assert unhashed == [], f"add to cache._FINGERPRINT_SOURCES: {unhashed}"


def test_editing_any_module_the_rules_import_changes_the_fingerprint(tmp_path, monkeypatch):
    validators = Path(cache_module.__file__).resolve().parent
    copy = tmp_path / "validators"
    shutil.copytree(validators, copy, ignore=shutil.ignore_patterns("dynamic", "__pycache__"))
    monkeypatch.setattr(cache_module, "_VALIDATORS_DIR", copy)
    before = cache_module.ruleset_fingerprint()
    for path in sorted(modules_the_rules_import()):
        edited = copy / path.relative_to(validators)
        original = edited.read_bytes()
        edited.write_bytes(original + b"\n# edited\n")
        assert cache_module.ruleset_fingerprint() != before, path.name
        edited.write_bytes(original)
    assert cache_module.ruleset_fingerprint() == before
