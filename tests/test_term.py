"""Colour and progress appear only on a terminal, and colour honours NO_COLOR."""

import io

import pytest

from temporalkit.term import colorize, progress, use_color


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(FakeTerminal())
    assert not use_color(io.StringIO())
    assert colorize("error", "red", FakeTerminal()) == "\033[31merror\033[0m"
    assert colorize("error", "red", io.StringIO()) == "error"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(FakeTerminal())
    assert colorize("error", "red", FakeTerminal()) == "error"


def test_force_color_and_the_color_flag(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # CI logs that render colour
    assert use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")  # turning colour off wins over forcing it on
    assert not use_color(FakeTerminal())
    assert use_color(io.StringIO(), mode="always")  # --color always / never decide alone
    monkeypatch.delenv("NO_COLOR")
    assert not use_color(FakeTerminal(), mode="never")
    with pytest.raises(ValueError, match="auto, always, never"):
        use_color(io.StringIO(), mode="sometimes")


def test_progress_is_silent_off_a_terminal():
    stream = io.StringIO()
    assert list(progress(range(5), label="work", stream=stream)) == [0, 1, 2, 3, 4]
    assert stream.getvalue() == ""


def test_progress_draws_and_clears_on_a_terminal():
    stream = FakeTerminal()
    with progress(iter(range(3)), total=3, label="probes", stream=stream) as bar:
        items = list(bar)
    assert items == [0, 1, 2]
    text = stream.getvalue()
    assert "probes  3/3 100%" in text
    assert text.endswith("\r\033[K")  # the line is erased at the end
