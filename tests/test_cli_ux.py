"""Every command explains itself with an example, and the static path never imports torch."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys

import pytest

from temporalkit.cli import COMMANDS, build_parser

HEAVY = ("torch", "torchvision")


def _subparsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command path, parser) for every subcommand, nested ones included (`pick render`, `skill install`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*prefix, name), child
                yield from _subparsers(child, (*prefix, name))


def test_every_listed_command_ships_a_module():
    missing = [name for name in COMMANDS if importlib.util.find_spec(f"temporalkit.commands.{name}") is None]
    assert missing == []


def test_top_level_help_has_an_example():
    assert "Example:" in build_parser().format_help()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_help_has_an_example(command):
    if importlib.util.find_spec(f"temporalkit.commands.{command}") is None:
        pytest.skip(f"temporalkit.commands.{command} is not shipped (see test_every_listed_command_ships_a_module)")
    parsers = {path: parser for path, parser in _subparsers(build_parser()) if path[0] == command}
    assert (command,) in parsers
    for path, parser in parsers.items():  # the command and its actions (`pick render`, `skill install`)
        help_text = parser.format_help()
        assert "Example:" in help_text, f"`temporalkit {' '.join(path)} --help` shows no example"
        assert f"temporalkit {command}" in help_text.split("Example:", 1)[1]


def _modules_after(code: str) -> list[str]:
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cli_help_does_not_import_torch():
    code = (
        "import contextlib, io\n"
        "from temporalkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert _modules_after(code) == []


def test_validators_and_rules_do_not_import_torch():
    code = (
        "import temporalkit.validators\n"
        "from temporalkit.validators.rules import all_rules\n"
        "all_rules()\n"
        "import temporalkit.validators.engine, temporalkit.term\n"
    )
    assert _modules_after(code) == []


def test_check_roles_are_the_discovery_roles():
    from temporalkit.validators.dynamic.discover import ROLES

    from temporalkit.commands import check

    assert check.ROLES == ROLES


def test_one_file_audit_start_up_stays_lean():
    """What `temporalkit audit FILE` imports before it reads the file: no libcst, no dynamic auditor.

    A file no rule triggers on is answered without parsing (pre-commit on most files), so libcst must
    not be imported by building the CLI.
    """
    probe = (
        "import json, sys\n"
        "from temporalkit.cli import build_parser\n"
        "build_parser().parse_args(['audit', 'x.py'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'torch', 'numpy')"
        " or m.startswith('temporalkit.validators.dynamic.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# -- ruff's conventions for `temporalkit audit` ------------------------------------------------
BUGGY_SAMPLER = (
    "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
)


def _audit(tmp_path, monkeypatch, capsys, *argv: str, source: str = BUGGY_SAMPLER) -> tuple[int, str, str]:
    from temporalkit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPORALKIT_CACHE_DIR", str(tmp_path / ".cache"))
    if not (tmp_path / "s.py").exists():
        (tmp_path / "s.py").write_text(source)
    code = main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--select", "TK10l"], "--select: unknown rule id, prefix or category 'TK10l' (did you mean TK101?)"),
        (
            ["--ignore", "TK101,short-clp"],
            "--ignore: unknown rule id, prefix or category 'short-clp' (did you mean short-clip?)",
        ),
        (["--select", "TK9"], "--select: unknown rule id, prefix or category 'TK9'"),
    ],
)
def test_an_unknown_selector_is_a_usage_error_not_a_silent_pass(tmp_path, monkeypatch, capsys, argv, expected):
    code, out, err = _audit(tmp_path, monkeypatch, capsys, "s.py", *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"temporalkit audit: {expected}") and err.count("\n") == 1


def test_selectors_match_ids_whatever_their_case_and_accept_dynamic_ids(tmp_path, monkeypatch, capsys):
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--select", "tk101", "-q")[:2] == (1, _audit_line(tmp_path))
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--ignore", "Index-Out-Of-Range")[0] == 0
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--select", "TK5,TK501,tk7,all")[0] == 1


def _audit_line(tmp_path) -> str:
    return (
        "s.py:5:27: TK101 [*] [error] linspace stop `num_frames` is a frame count, not the last index: the last "
        "sampled index equals `num_frames` and is out of range for every video (IndexError on frames[num_frames]) "
        "(fix: stop at the last valid index: linspace(0, num_frames - 1, T) (or endpoint=False))\n"
    )


def test_suppression_comments_take_categories_any_case_and_report_unknown_ids(tmp_path, monkeypatch, capsys):
    lines = BUGGY_SAMPLER.splitlines()
    by_category = "\n".join([*lines[:-1], lines[-1] + "  # temporalkit: ignore[index-out-of-range] -- a test"])
    (tmp_path / "s.py").write_text(by_category + "\n")
    assert _audit(tmp_path, monkeypatch, capsys, "s.py")[:2] == (0, "No problems found in 1 file audited.\n")
    (tmp_path / "s.py").write_text(by_category.replace("index-out-of-range", "tk101") + "\n")
    assert _audit(tmp_path, monkeypatch, capsys, "s.py")[0] == 0
    (tmp_path / "s.py").write_text(by_category.replace("index-out-of-range", "tk101, TK10l") + "\n")
    code, out, _ = _audit(tmp_path, monkeypatch, capsys, "s.py")
    assert code == 1 and out.startswith(
        "s.py:5:84: TK001 [warning] suppression comment: unknown rule id, prefix or category 'TK10l' "
        "(did you mean TK101?); it suppresses nothing"
    )
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--ignore", "suppression")[0] == 0


def test_fixable_marker_statistics_quiet_and_output_format(tmp_path, monkeypatch, capsys):
    code, out, _ = _audit(tmp_path, monkeypatch, capsys, "s.py")
    assert code == 1 and out == _audit_line(tmp_path) + (
        "Found 1 problem (1 error, 0 warnings) in 1 of 1 file audited; 1 fixable with --fix (marked [*]).\n"
    )
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "-q")[1] == _audit_line(tmp_path)
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--statistics")[1] == (
        "1  TK101  [*]  [error]    index-out-of-range\n"
    )
    rows = json.loads(_audit(tmp_path, monkeypatch, capsys, "s.py", "--statistics", "--output-format", "json")[1])
    assert rows == [{"code": "TK101", "count": 1, "fixable": 1, "category": "index-out-of-range", "severity": "error"}]
    (finding,) = json.loads(_audit(tmp_path, monkeypatch, capsys, "s.py", "--output-format=json")[1])["findings"]
    assert (finding["line"], finding["column"], finding["fixable"]) == (5, 27, True)  # 1-based, as the text


def test_exit_non_zero_on_fix(tmp_path, monkeypatch, capsys):
    code, out, _ = _audit(tmp_path, monkeypatch, capsys, "s.py", "--fix", "--exit-non-zero-on-fix")
    assert code == 1 and "s.py: fixed" in out and "No problems found" in out
    assert "num_frames - 1" in (tmp_path / "s.py").read_text()
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--fix", "--exit-non-zero-on-fix")[0] == 0  # nothing left
    assert _audit(tmp_path, monkeypatch, capsys, "s.py", "--exit-zero", "--exit-non-zero-on-fix")[0] == 2


def test_color_flag_and_force_color(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\033[" not in _audit(tmp_path, monkeypatch, capsys, "s.py")[1]  # captured: not a terminal
    assert "\033[31m[error]" in _audit(tmp_path, monkeypatch, capsys, "s.py", "--color", "always")[1]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\033[" in _audit(tmp_path, monkeypatch, capsys, "s.py")[1]
    assert "\033[" not in _audit(tmp_path, monkeypatch, capsys, "s.py", "--color=never")[1]
    assert "\033[" not in _audit(tmp_path, monkeypatch, capsys, "s.py", "--format", "json")[1]


def test_stdin_with_a_display_name(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "temporalkit.cli", "audit", "-", "--stdin-filename", "data/sampler.py", "-q"],
        input=BUGGY_SAMPLER,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("data/sampler.py:5:27: TK101 ")


def test_rule_prints_what_the_skill_reference_says(capsys):
    """`temporalkit rule TKnnn` and the skill's REFERENCE.md are rendered from the same docstring:
    every part the skill shows for a rule or check is in what `rule` prints for it."""
    from temporalkit.cli import main
    from temporalkit.render import skill_context

    def words(text: str) -> str:
        return " ".join(text.split())

    context = skill_context()
    assert main(["rule", "TK131"]) == 0
    printed = words(capsys.readouterr().out)
    (tk131,) = [entry for entry in context["rules"] if entry.id == "TK131"]
    for part in (tk131.message, tk131.fix, tk131.what, tk131.why, tk131.known_problems, tk131.how_to_fix):
        assert words(part) in printed
    assert main(["rule", "--all"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    shown = {entry.id for entry in context["rules"]} | {check.id for check in context["dynamic_checks"]}
    assert shown <= listed and listed - shown == {"TK001"}  # TK001: the audit's own rule (suppressions)
    for entry in context["dynamic_checks"]:
        assert main(["rule", entry.id]) == 0
        printed = words(capsys.readouterr().out)
        assert all(words(part) in printed for part in (entry.fix, entry.expects, entry.why) if part)


def test_train_compare_writes_to_runs_not_the_committed_outputs(monkeypatch, capsys):
    pytest.importorskip("torch")
    from types import SimpleNamespace

    from temporalkit.reference_models import motion_compare

    from temporalkit.cli import main

    asked = {}

    def fake_comparison(config, out_dir, **kwargs):
        asked["out_dir"] = out_dir
        return SimpleNamespace(written=[])

    monkeypatch.setattr(motion_compare, "run_comparison", fake_comparison)
    assert main(["train", "--compare"]) == 0
    assert asked["out_dir"] == "runs/compare"
    assert main(["train", "--compare", "--out", "outputs"]) == 0  # the committed results: only when asked
    assert asked["out_dir"] == "outputs"


@pytest.mark.parametrize("path", ["runs/compare/motion_results.json", ".temporalkit_cache/x.json", ".ruff_cache/x"])
def test_scratch_runs_and_caches_are_git_ignored(path):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", path], cwd=repo, timeout=60)
    assert done.returncode == 0, f"{path} is not git-ignored"
