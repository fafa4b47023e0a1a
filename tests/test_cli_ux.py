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
