"""The audit driver: discovery, config, suppressions, errors, cache, --fix / --diff, exit codes.

Most tests use `FakeLinspaceRule` below rather than the real rules, so they test the driver and
stay valid whatever the rule set becomes; the last tests run the real registry on examples/.
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import libcst.matchers as m
import pytest
from temporalkit.validators import audit as audit_module
from temporalkit.validators import discovery
from temporalkit.validators.audit import audit_paths, discover_files
from temporalkit.validators.config import AuditConfig, ConfigError, load_config
from temporalkit.validators.engine import parse_suppressions
from temporalkit.validators.rule import Rule

from temporalkit.commands import audit as audit_command

REPO = Path(__file__).resolve().parents[1]


class FakeLinspaceRule(Rule):
    """Test rule: `fake_linspace(0, n, T)` -> `fake_linspace(0, n - 1, T)`."""

    ID = "TK900"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "fake stop is a frame count"
    FIX = "use n - 1"
    TRIGGERS = ("fake_linspace",)

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node, m.Call(func=m.Name("fake_linspace"), args=[m.Arg(), m.Arg(m.Name()), m.Arg()])):
            stop = node.args[1]
            new_stop = stop.with_changes(value=cst.BinaryOperation(stop.value, cst.Subtract(), cst.Integer("1")))
            self.report(node, replacement=node.with_changes(args=[node.args[0], new_stop, node.args[2]]))


class FakeWarningRule(Rule):
    """Test rule: any call to `shuffle_eval` is a warning (no fix)."""

    ID = "TK901"
    CATEGORY = "nondeterministic-eval"
    SEVERITY = "warning"
    MESSAGE = "random in eval"
    TRIGGERS = ("shuffle_eval",)

    def visit_Call(self, node: cst.Call) -> None:
        if m.matches(node, m.Call(func=m.Name("shuffle_eval"))):
            self.report(node)


RULES = (FakeLinspaceRule, FakeWarningRule)
BUGGY = "def sample(n, T):\n    return fake_linspace(0, n, T)  # keep this comment\n"
FIXED = "def sample(n, T):\n    return fake_linspace(0, n - 1, T)  # keep this comment\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def run_audit(tmp_path: Path, *paths, **kwargs):
    kwargs.setdefault("rules", RULES)
    kwargs.setdefault("config", AuditConfig(root=tmp_path))
    kwargs.setdefault("cache_dir", tmp_path / ".cache")
    return audit_paths([str(p) for p in paths] or [str(tmp_path)], **kwargs)


def test_finds_reports_and_exit_code(tmp_path):
    write(tmp_path / "pkg" / "sampler.py", BUGGY)
    write(tmp_path / "pkg" / "clean.py", "def f():\n    return 1\n")
    write(tmp_path / "notes.txt", "fake_linspace(0, n, T)\n")
    result = run_audit(tmp_path, tmp_path)
    assert [(f.rule, f.line, f.column) for f in result.findings] == [("TK900", 2, 11)]
    assert result.findings[0].path.endswith("pkg/sampler.py")
    assert result.files_audited == 2  # notes.txt is not Python
    assert result.exit_code == 1
    clean = run_audit(tmp_path, tmp_path / "pkg" / "clean.py")
    assert clean.findings == [] and clean.exit_code == 0


def test_select_ignore_and_fail_on(tmp_path):
    # (the script calls `sample`: a helper it never called would be held back as dead code)
    write(tmp_path / "a.py", BUGGY + "shuffle_eval(x)\nsample(10, 4)\n")
    assert {f.rule for f in run_audit(tmp_path, tmp_path).findings} == {"TK900", "TK901"}
    assert {f.rule for f in run_audit(tmp_path, tmp_path, select=["TK901"]).findings} == {"TK901"}
    assert {f.rule for f in run_audit(tmp_path, tmp_path, ignore=["index-out-of-range"]).findings} == {"TK901"}
    warnings_only = run_audit(tmp_path, tmp_path, select=["TK901"], config=AuditConfig(root=tmp_path, fail_on="error"))
    assert len(warnings_only.findings) == 1 and warnings_only.exit_code == 0


def test_pyproject_config(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        textwrap.dedent(
            """
            [project]
            name = "x"

            [tool.temporalkit]
            ignore = ["TK901"]
            exclude = ["vendored/", "*_generated.py"]
            per-file-ignores = { "tests/*" = ["TK900"] }
            """
        ),
    )
    for name in ("src/a.py", "tests/test_a.py", "vendored/b.py", "src/c_generated.py"):
        write(tmp_path / name, BUGGY + "shuffle_eval(x)\n")
    config = load_config(tmp_path / "src")
    assert config.root == tmp_path and config.ignore == ("TK901",)
    result = run_audit(tmp_path, tmp_path, config=config)
    assert [(Path(f.path).name, f.rule) for f in result.findings] == [("a.py", "TK900")]
    assert result.files_audited == 2
    # --select on the command line replaces the config's select; ignore adds to it.
    assert {f.rule for f in run_audit(tmp_path, tmp_path / "src", config=config, select=["TK9"]).findings} == {"TK900"}


def test_bad_config_is_one_clear_error(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.temporalkit]\nselekt = ['TK1']\n")
    with pytest.raises(ConfigError, match="unknown key.*selekt"):
        load_config(tmp_path)
    write(tmp_path / "a.py", BUGGY)
    assert cli(["--config", str(tmp_path / "pyproject.toml"), str(tmp_path)]) == 2


def test_inline_suppressions(tmp_path):
    source = textwrap.dedent(
        """\
        a = fake_linspace(0, n, T)  # temporalkit: ignore[TK900]
        b = fake_linspace(0, n, T)  # temporalkit: ignore
        # temporalkit: ignore[TK900]
        c = fake_linspace(0, n, T)
        d = fake_linspace(0, n, T)  # temporalkit: ignore[TK901]
        e = shuffle_eval(fake_linspace(0, n, T))  # temporalkit: ignore[TK901, TK123]
        f = fake_linspace(0, n, T)  # temporalkit: ignore
        g = fake_linspace(0, n, T)
        """
    )
    write(tmp_path / "s.py", source)
    result = run_audit(tmp_path, tmp_path)
    # d: other id; e: only TK901 silenced (and TK123, no rule, is reported: TK001); g: a trailing
    # comment on the line above covers only its own line.
    assert [(f.line, f.rule) for f in result.findings] == [(5, "TK900"), (6, "TK900"), (6, "TK001"), (8, "TK900")]
    assert parse_suppressions("x = 1\n") == {}


def test_suppressed_findings_are_not_fixed(tmp_path):
    path = write(tmp_path / "s.py", "a = fake_linspace(0, n, T)  # temporalkit: ignore\nb = fake_linspace(0, n, T)\n")
    run_audit(tmp_path, path, fix=True)
    assert path.read_text() == "a = fake_linspace(0, n, T)  # temporalkit: ignore\nb = fake_linspace(0, n - 1, T)\n"


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path, monkeypatch):
    write(tmp_path / "good.py", BUGGY)
    write(tmp_path / "latin1.py", b"# caf\xe9\nfake_linspace(0, n, T)\n")
    write(tmp_path / "broken.py", "def f(:\n    fake_linspace(0, n, T)\n")
    write(tmp_path / "locked.py", BUGGY)
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.py":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run_audit(tmp_path, tmp_path, tmp_path / "missing.py")
    errors = {Path(e.path).name: e.message for e in result.errors}
    assert set(errors) == {"latin1.py", "broken.py", "locked.py", "missing.py"}
    assert "UTF-8" in errors["latin1.py"] and "0xe9" in errors["latin1.py"]
    assert "syntax error" in errors["broken.py"]
    assert "Permission denied" in errors["locked.py"]
    assert "no such file" in errors["missing.py"]
    assert all("\n" not in message for message in errors.values())
    assert [Path(f.path).name for f in result.findings] == ["good.py"]
    assert result.exit_code == 1


def test_a_crashing_rule_is_a_file_error_not_a_crash(tmp_path):
    class CrashingRule(FakeWarningRule):
        ID = "TK902"

        def visit_Call(self, node):
            raise RuntimeError("boom")

    write(tmp_path / "a.py", "shuffle_eval(x)\n")
    result = run_audit(tmp_path, tmp_path, rules=(CrashingRule,), cache=False)
    assert len(result.errors) == 1 and "RuntimeError: boom" in result.errors[0].message


def test_gitignore_respected_in_git_repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / ".gitignore", "generated/\nscratch_*.py\n")
    write(tmp_path / "src" / "a.py", BUGGY)
    write(tmp_path / "generated" / "b.py", BUGGY)
    write(tmp_path / "src" / "scratch_c.py", BUGGY)
    files, errors = discover_files([tmp_path], AuditConfig(root=tmp_path))
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["src/a.py"] and errors == []


def test_gitignore_and_venvs_skipped_outside_git(tmp_path, monkeypatch):
    monkeypatch.setattr(discovery, "_git_files", lambda directory: None)
    write(tmp_path / ".gitignore", "# comment\ngenerated/\n/scratch.py\n")
    write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "scratch.py", BUGGY)
    write(tmp_path / "generated" / "b.py", BUGGY)
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "env" / "lib" / "c.py", BUGGY)
    write(tmp_path / ".hidden" / "d.py", BUGGY)
    write(tmp_path / "pkg" / "__pycache__" / "e.py", BUGGY)
    write(tmp_path / "pkg" / "f.py", BUGGY)
    files, _ = discover_files([tmp_path], AuditConfig(root=tmp_path))
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.py", "pkg/f.py"]


def test_fix_is_atomic_keeps_mode_and_is_idempotent(tmp_path):
    path = write(tmp_path / "sampler.py", BUGGY)
    os.chmod(path, 0o754)
    first = run_audit(tmp_path, tmp_path, fix=True)
    assert path.read_text() == FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o754
    assert len(first.fixed_files) == 1 and first.fixed_files[0].endswith("sampler.py")
    assert first.findings == []  # nothing left after the fix
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "sampler.py"]  # no temp files left
    second = run_audit(tmp_path, tmp_path, fix=True, cache=False)
    assert second.fixed_files == [] and second.findings == [] and path.read_text() == FIXED


def test_failed_write_leaves_the_file_untouched(tmp_path, monkeypatch):
    path = write(tmp_path / "sampler.py", BUGGY)

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit_module.os, "replace", failing_replace)
    result = run_audit(tmp_path, path, fix=True, cache=False)
    assert path.read_text() == BUGGY
    assert [p.name for p in tmp_path.iterdir()] == ["sampler.py"]
    assert result.fixed_files == [] and "No space left" in result.errors[0].message
    assert len(result.findings) == 1  # the finding is still reported


def test_diff_writes_nothing(tmp_path):
    path = write(tmp_path / "sampler.py", BUGGY)
    before = path.stat().st_mtime_ns
    result = run_audit(tmp_path, path, diff=True)
    assert path.read_text() == BUGGY and path.stat().st_mtime_ns == before
    (patch,) = result.diffs.values()
    assert "-    return fake_linspace(0, n, T)  # keep this comment" in patch
    assert "+    return fake_linspace(0, n - 1, T)  # keep this comment" in patch
    assert len(result.findings) == 1 and result.fixed_files == []


def test_cache_hit_skips_analysis_and_follows_content(tmp_path, monkeypatch):
    path = write(tmp_path / "sampler.py", BUGGY)
    cold = run_audit(tmp_path, path)

    def no_analysis(*args, **kwargs):
        raise AssertionError("a cached file was analysed again")

    monkeypatch.setattr(audit_module, "_run_work", no_analysis)
    warm = run_audit(tmp_path, path)
    assert warm.findings == cold.findings and len(warm.findings) == 1
    # A changed file is a cache miss.
    write(path, BUGGY + "x = fake_linspace(0, m, T)\n")
    with pytest.raises(AssertionError, match="analysed again"):
        run_audit(tmp_path, path)


def test_process_pool_gives_the_same_results(tmp_path):
    for i in range(audit_module.PARALLEL_THRESHOLD + 6):
        write(tmp_path / f"m{i:02d}.py", "\n" * i + BUGGY)
    write(tmp_path / "broken.py", "fake_linspace(\n")
    serial = run_audit(tmp_path, tmp_path, jobs=1, cache=False)
    parallel = run_audit(tmp_path, tmp_path, jobs=2, cache=False)
    assert serial.findings == parallel.findings and len(serial.findings) == audit_module.PARALLEL_THRESHOLD + 6
    assert serial.errors == parallel.errors and len(serial.errors) == 1


# -- the command ------------------------------------------------------------------------
def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    audit_command.add_arguments(parser)
    return audit_command.run(parser.parse_args(argv))


def test_cli_exit_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPORALKIT_CACHE_DIR", str(tmp_path / ".cache"))
    write(tmp_path / "clean.py", "x = 1\n")
    assert cli(["clean.py"]) == 0
    assert cli(["clean.py", "--fix", "--diff"]) == 2
    assert cli(["clean.py", "--jobs", "0"]) == 2
    with pytest.raises(SystemExit) as excinfo:
        cli(["--format", "xml"])
    assert excinfo.value.code == 2
    write(tmp_path / "broken.py", "def f(:\n")
    assert cli(["broken.py"]) == 1
    assert cli(["broken.py", "--exit-zero"]) == 0
    out = capsys.readouterr().out
    assert "broken.py: [file error] cannot parse" in out


def test_cli_dynamic_missing_is_a_clean_error(tmp_path, capsys, monkeypatch):
    # Without the [dynamic] extra, --dynamic is one line naming the extra and exit 2, before any --fix is written.
    import temporalkit.extras as extras

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPORALKIT_CACHE_DIR", str(tmp_path / ".cache"))
    source = "import numpy as np\nstart = np.random.randint(0, n - T)\n"
    write(tmp_path / "buggy.py", source)
    monkeypatch.setattr(extras, "_installed", lambda module: module != "torch")
    from temporalkit.cli import main

    assert main(["audit", "buggy.py", "--dynamic", "--fix"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'temporalkit[dynamic]'" in err and "torch" in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "buggy.py").read_text() == source


def test_static_path_imports_no_heavy_library(tmp_path):
    write(tmp_path / "a.py", "import numpy as np\nidx = np.linspace(0, n, T).astype(int)\n")
    code = (
        "import sys; from temporalkit.cli import main\n"
        f"rc = main(['audit', '--no-cache', {str(tmp_path)!r}])\n"
        "heavy = [m for m in ('torch', 'torchvision', 'numpy', 'pydantic') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr


# -- the real rules on the bundled examples ----------------------------------------------
EXAMPLES = REPO / "examples" / "pipelines"


# The categories each buggy example was written to exhibit.
EXAMPLE_CATEGORIES = {
    "buggy_sampler.py": {
        "index-out-of-range",
        "short-clip",
        "uneven-coverage",
        "start-range",
        "temporal-order",
        "clip-length",
    },
    "buggy_transforms.py": {"aspect-distortion", "inconsistent-crop", "color-order", "zero-padding"},
    "buggy_loader.py": {"frame-count-metadata", "nondeterministic-eval", "index-out-of-range", "layout", "color-order"},
}


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/pipelines not present")
def test_examples_buggy_flagged_and_correct_clean():
    from temporalkit.validators.rules import all_rules

    result = audit_paths([EXAMPLES], cache=False, config=AuditConfig(root=REPO))
    assert result.errors == []
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        found.setdefault(Path(finding.path).name, set()).add(finding.category)
    assert "correct_pipeline.py" not in found, [f for f in result.findings if f.path.endswith("correct_pipeline.py")]
    ruled = {r.CATEGORY for r in all_rules()}
    for name, categories in EXAMPLE_CATEGORIES.items():
        if categories & ruled:  # some rule exists for what this example shows: it must speak
            assert found.get(name, set()) & categories, (name, found.get(name))


def test_triggers_in_comments_and_strings_do_not_send_a_file_to_the_parser(tmp_path, monkeypatch):
    write(tmp_path / "docs_only.py", '"""See fake_linspace(0, n, T)."""\nURL = "fake_linspace"  # fake_linspace\n')
    analysed: list[str] = []
    real_run_work = audit_module._run_work

    def spy(work, *args):
        analysed.extend(Path(item.path).name for item in work)
        return real_run_work(work, *args)

    monkeypatch.setattr(audit_module, "_run_work", spy)
    assert run_audit(tmp_path, tmp_path, cache=False).findings == []
    assert analysed == []
    write(tmp_path / "code.py", BUGGY)
    assert len(run_audit(tmp_path, tmp_path, cache=False).findings) == 1
    assert analysed == ["code.py"]


def test_diff_shows_what_fix_writes_across_fix_passes(tmp_path):
    """--diff re-reads fixed text with only the rules that can fix (may_fix); its diff must still be
    exactly what --fix writes, including fixes that appear only after a first fix (several passes)."""
    from temporalkit.validators.engine import lint_and_fix, may_fix
    from temporalkit.validators.rules import all_rules

    rules = all_rules()
    fixable = {r.ID for r in rules if may_fix(r)}
    for rule in rules:  # a rule outside may_fix never offers a fix on its own examples
        for example in rule.INVALID:
            if example.expected_fix is not None:
                assert rule.ID in fixable, rule.ID
    sources = [p.read_text() for p in sorted((REPO / "examples" / "pipelines").glob("*.py"))]
    sources += [textwrap.dedent(e.code) for r in rules for e in r.INVALID if e.expected_fix is not None]
    changed = 0
    for source in sources:
        fixed, before, after = lint_and_fix(source, "x.py", rules, fix=True)
        diff_text, diff_before, diff_after = lint_and_fix(source, "x.py", rules, fix=True, findings_after=False)
        assert (diff_text, diff_before, diff_after) == (fixed, before, [])
        changed += fixed != source
    assert changed >= 5


def test_fix_reports_what_a_full_lint_of_the_fixed_text_reports():
    """--fix reads the text as read first with the rules that can fix, and with the others only when
    no fix applies (findings_before=False): what it reports must be what linting the fixed text with
    every rule reports, and with no fix, what a plain lint reports; its fixed text that of the full path."""
    from temporalkit.validators.engine import lint_and_fix
    from temporalkit.validators.rules import all_rules

    rules = all_rules()
    sources = [p.read_text() for p in sorted((REPO / "examples" / "pipelines").glob("*.py"))]
    sources += [textwrap.dedent(e.code) for r in rules for e in [*r.VALID, *r.INVALID]]
    fixed_count = unfixed_with_findings = 0
    for source in sources:
        full_text, full_before, full_after = lint_and_fix(source, "x.py", rules, fix=True)
        fixed, before, after = lint_and_fix(source, "x.py", rules, fix=True, findings_before=False)
        assert (fixed, after) == (full_text, full_after)
        _, relint, _ = lint_and_fix(fixed, "x.py", rules)
        assert after == relint  # what is left is what a fresh audit of the written file finds
        if fixed != source:
            fixed_count += 1
            assert before is None
        else:
            assert before == full_before == after
            unfixed_with_findings += bool(before)
    assert fixed_count >= 10 and unfixed_with_findings >= 20


def test_fix_that_cannot_be_written_reports_the_findings_as_read(tmp_path):
    # --fix does not compute the findings of the text as read when a fix applies; a refused write
    # (here a read-only file) must still report them, not what the unwritten fix would have left.
    path = write(tmp_path / "code.py", BUGGY)
    os.chmod(path, 0o444)
    try:
        result = run_audit(tmp_path, path, fix=True, cache=False)
    finally:
        os.chmod(path, 0o644)
    assert path.read_text() == BUGGY and not result.fixed_files
    assert [e.message for e in result.errors] == ["file is read-only; fix not written (make it writable to fix it)"]
    plain = run_audit(tmp_path, path, cache=False)
    assert [(f.rule, f.line, f.column) for f in result.findings] == [(f.rule, f.line, f.column) for f in plain.findings]
    assert any(f.fixable for f in result.findings)


def test_fixes_put_in_place_without_a_full_transform_give_the_same_code():
    # _ReplaceNodes descends only into the replaced nodes' ancestors when given the parent map; the
    # code must be what libcst's full transform (every node rebuilt) gives, on every fix the rules make.
    from temporalkit.validators.analysis import Analysis
    from temporalkit.validators.engine import _ReplaceNodes, run_rules
    from temporalkit.validators.rules import all_rules

    rules = all_rules()
    sources = [p.read_text() for p in sorted((REPO / "examples" / "pipelines").glob("*.py"))]
    sources += [textwrap.dedent(e.code) for r in rules for e in r.INVALID if e.expected_fix is not None]
    checked = 0
    for source in sources:
        module = cst.parse_module(source)
        analysis = Analysis(module)
        reports = [r for r in run_rules(module, rules, analysis) if r.replacement is not None]
        if not reports:
            continue
        replacements = {}
        for report in reports:
            replacements.setdefault(id(report.node), report.replacement)
        full = module.visit(_ReplaceNodes(replacements)).code
        partial = module.visit(_ReplaceNodes(replacements, analysis.parents, [r.node for r in reports])).code
        assert partial == full != source
        checked += 1
    assert checked >= 10
