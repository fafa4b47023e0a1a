"""The pyproject reader: `[tool.temporalkit]` and `[tool.temporalkit.dynamic]`, their values and their errors.

The error cases were pinned (as ValueErrors with these messages) while the two sections still had two
readers and two error classes; now one reader raises one `ConfigError` for both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from temporalkit.validators.config import ConfigError, load_config, read_config
from temporalkit.validators.dynamic.discover import DiscoveryError, dynamic_config_from_table, load_dynamic_config

GOOD = """
[tool.temporalkit]
select = ["TK1", "aspect-distortion"]
ignore = "TK205"
exclude = ["third_party/"]
per-file-ignores = { "tests/*" = ["nondeterministic-eval"] }
fail-on = "error"

[tool.temporalkit.dynamic]
timeout = 30
memory-mb = 2048
discover = false
skip = ["data/video.py:legacy"]
family = "i3d"

[[tool.temporalkit.dynamic.objects]]
target = "data/video.py:VideoDataset.sample_indices"
role = "sampler"
args = { vlen = "num_frames", clip_len = "T", mode = "val", stride = 2 }
test-time = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_both_sections_are_read(tmp_path):
    pyproject = write(tmp_path, GOOD)
    config = read_config(pyproject)
    assert (config.root, config.source) == (tmp_path, pyproject)
    assert config.select == ("TK1", "aspect-distortion") and config.ignore == ("TK205",)
    assert config.exclude == ("third_party/",) and config.per_file_ignores == {"tests/*": ("nondeterministic-eval",)}
    assert config.fail_on == "error"
    assert load_config(tmp_path / "sub" / "x.py") == config
    dynamic = load_dynamic_config(pyproject)
    assert (dynamic.root, dynamic.timeout, dynamic.memory_mb, dynamic.discover) == (tmp_path, 30.0, 2048, False)
    assert dynamic.skip == ("data/video.py:legacy",) and dynamic.family == "i3d"
    (named,) = dynamic.objects
    assert (named.path, named.name, named.role, named.test_time, named.family) == (
        "data/video.py",
        "VideoDataset.sample_indices",
        "sampler",
        True,
        None,
    )
    assert dict(named.args) == {"vlen": "num_frames", "clip_len": "T", "mode": "val", "stride": "2"}
    assert dynamic.is_skipped(tmp_path / "data" / "video.py", "legacy")
    assert [c.name for c in dynamic.objects_in(tmp_path / "data" / "video.py")] == ["VideoDataset.sample_indices"]


def test_no_pyproject_and_no_table_give_defaults(tmp_path):
    assert load_dynamic_config(None).objects == () and load_dynamic_config(tmp_path / "missing.toml").timeout is None
    pyproject = write(tmp_path, "[project]\nname = 'x'\n")
    assert read_config(pyproject).select == () and load_dynamic_config(pyproject).discover is True


STATIC_ERRORS = [
    ("[tool.temporalkit\n", r"cannot read"),
    ("[tool]\ntemporalkit = 3\n", r"\[tool.temporalkit\] must be a table"),
    ("[tool.temporalkit]\nselekt = ['TK1']\n", r"unknown key\(s\) in \[tool.temporalkit\]: selekt"),
    ("[tool.temporalkit]\nper-file-ignores = ['x']\n", r"per-file-ignores must be a table"),
    ("[tool.temporalkit]\nfail-on = 'info'\n", r"fail-on must be \"warning\" or \"error\", not 'info'"),
    ("[tool.temporalkit]\nselect = [1]\n", r"\[tool.temporalkit\] select must be a list of strings"),
]

DYNAMIC_ERRORS = [
    ("[tool.temporalkit]\ndynamic = 3\n", r"\[tool.temporalkit.dynamic\] must be a table"),
    ("[tool.temporalkit.dynamic]\ntimout = 3\n", r"unknown key\(s\) in \[tool.temporalkit.dynamic\]: timout"),
    ("[[tool.temporalkit.dynamic.objects]]\nrole = 'sampler'\n", r"needs target = 'FILE:OBJECT' and role"),
    ("[[tool.temporalkit.dynamic.objects]]\ntarget = 'data.py'\nrole = 'sampler'\n", r"expected FILE:OBJECT"),
    ("[[tool.temporalkit.dynamic.objects]]\ntarget = 'd.py:f'\nrole = 'sampel'\n", r"unknown role 'sampel'"),
    ("[tool.temporalkit.dynamic]\nskip = 'd.py:f'\n", r"skip must be a list of 'FILE:OBJECT' strings"),
    ("[tool.temporalkit.dynamic]\nfamily = 'cnn'\n", r"family must be one of 2d_pool, framepool, 3d_conv"),
]


@pytest.mark.parametrize(("text", "message"), STATIC_ERRORS)
def test_static_section_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        read_config(write(tmp_path, text))


@pytest.mark.parametrize(("text", "message"), DYNAMIC_ERRORS)
def test_dynamic_section_errors(tmp_path, text, message):
    pyproject = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as caught:
        load_dynamic_config(pyproject)
    assert str(pyproject) in str(caught.value)
    with pytest.raises(DiscoveryError, match=message):
        load_dynamic_config(pyproject)


@pytest.mark.parametrize(("text", "message"), DYNAMIC_ERRORS)
def test_one_reader_validates_both_sections(tmp_path, text, message):
    """A bad dynamic section is a configuration error for every command, the static audit included."""
    with pytest.raises(ConfigError, match=message):
        read_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"timeout": 0}, r"timeout must be a number of seconds above 0, got 0"),
        ({"timeout": "soon"}, r"timeout must be a number of seconds above 0, got 'soon'"),
        ({"memory-mb": -1}, r"memory-mb must be a whole number of MB, 0 or more \(0: no limit\), got -1"),
        ({"memory-mb": 1.5}, r"memory-mb must be a whole number of MB"),
        ({"discover": "no"}, r"discover must be true or false, got 'no'"),
    ],
)
def test_dynamic_values_are_checked(table, message):
    with pytest.raises(ConfigError, match=message):
        dynamic_config_from_table(table)


def test_one_error_type():
    assert DiscoveryError is ConfigError


def test_configuration_errors_exit_2(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    for text in ("[tool.temporalkit]\nselekt = 1\n", "[tool.temporalkit.dynamic]\ntimout = 3\n"):
        pyproject = write(tmp_path, text)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "temporalkit",
                "audit",
                "--no-cache",
                "--config",
                str(pyproject),
                str(tmp_path / "a.py"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (text, done.stdout, done.stderr)
        assert done.stderr.startswith("temporalkit audit: ") and "unknown key" in done.stderr


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('select = ["TK10l"]', "[tool.temporalkit] select"),
        ('ignore = ["TK101", "short-clp"]', "[tool.temporalkit] ignore"),
        ('per-file-ignores = { "tests/*" = ["tk21", "TK2l1"] }', "[tool.temporalkit] per-file-ignores['tests/*']"),
    ],
)
def test_an_unknown_rule_in_the_config_is_an_error_not_a_check_turned_off(tmp_path, capsys, table, where):
    from temporalkit.cli import main

    pyproject = write(tmp_path, f"[tool.temporalkit]\n{table}\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    assert main(["audit", "--no-cache", str(tmp_path / "a.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"temporalkit audit: {pyproject}: {where}: unknown rule id, prefix or category")
    assert "(did you mean " in err and err.count("\n") == 1


def test_config_selectors_take_any_case_categories_and_dynamic_ids(tmp_path, capsys):
    from temporalkit.cli import main

    write(tmp_path, '[tool.temporalkit]\nselect = ["tk1", "Layout", "TK501", "TK6"]\nignore = ["tk001"]\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    assert main(["audit", "--no-cache", str(tmp_path / "a.py")]) == 0
