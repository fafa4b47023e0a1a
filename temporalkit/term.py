"""Terminal helpers: colour and a progress line, both only when a person is watching.

Standard library only, so the static path (`temporalkit audit`, the pre-commit hook) can use
them without slowing its start. Colour follows https://no-color.org: any non-empty `NO_COLOR`
turns it off, a non-empty `FORCE_COLOR` turns it on, `--color always|never` overrides both;
otherwise output that is not a terminal (a pipe, a file, CI logs) gets neither colour nor
progress, so machine-readable formats stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Generic, TypeVar

T = TypeVar("T")

_ANSI_CODES: dict[str, str] = {
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "bold": "1",
    "dim": "2",
}

# Redrawing on every item would cost more than the work on fast loops; ten frames a second is enough.
_MIN_REDRAW_SECONDS = 0.1


def is_terminal(stream: IO[str] | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


COLOR_MODES: tuple[str, ...] = ("auto", "always", "never")


def use_color(stream: IO[str] | None = None, mode: str = "auto") -> bool:
    """Whether to colour what is written to `stream` (default stdout).

    `mode` "always" / "never" (a `--color` flag) decides alone. "auto": never with a non-empty
    `NO_COLOR` (https://no-color.org); always with a non-empty `FORCE_COLOR`
    (https://force-color.org: CI logs that render colour); never with `TERM=dumb`; else only
    when `stream` is a terminal.
    """
    if mode not in COLOR_MODES:
        raise ValueError(f"unknown colour mode {mode!r}; choose one of {', '.join(COLOR_MODES)}")
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(sys.stdout if stream is None else stream)


def colorize(text: str, color: str, stream: IO[str] | None = None) -> str:
    """`text` wrapped in the ANSI code for `color` when `use_color(stream)`, else unchanged.

    `color` is one of red, green, yellow, blue, magenta, cyan, bold, dim.
    """
    code = _ANSI_CODES.get(color)
    if code is None:
        raise ValueError(f"unknown color {color!r}; choose one of {', '.join(_ANSI_CODES)}")
    if not use_color(stream):
        return text
    return f"\033[{code}m{text}\033[0m"


def severity_color(severity: str) -> str:
    """The colour findings of `severity` are printed in."""
    return "red" if severity == "error" else "yellow"


class progress(Generic[T]):
    """Iterate over `iterable`, drawing `label  done/total  elapsed` on `stream` when it is a terminal.

    Silent (no bytes written) when `stream` is not a terminal. Usable as an iterator or a context
    manager; the line is cleared when the iteration ends, is broken off, or the block exits.

        for path in progress(paths, label="auditing"):
            ...

        with progress(videos, total=len(videos), label="probes") as bar:
            for video in bar:
                ...
    """

    def __init__(
        self,
        iterable: Iterable[T],
        total: int | None = None,
        label: str = "",
        stream: IO[str] | None = None,
    ) -> None:
        self._iterable = iterable
        if total is None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.total = total
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._active = is_terminal(self.stream)
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __enter__(self) -> "progress[T]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        self._started = time.monotonic()
        try:
            for item in self._iterable:
                yield item
                self.done += 1
                self._draw()
        finally:
            self.close()

    def line(self) -> str:
        """The text of the progress line as it would be drawn now."""
        elapsed = time.monotonic() - self._started
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        percent = f" {100 * self.done // self.total:3d}%" if self.total else ""
        label = f"{self.label}  " if self.label else ""
        return f"{label}{count}{percent}  {elapsed:5.1f}s"

    def _draw(self, force: bool = False) -> None:
        if not self._active:
            return
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if not (force or finished) and now - self._last_draw < _MIN_REDRAW_SECONDS:
            return
        self._last_draw = now
        self.stream.write("\r\033[K" + self.line())
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the progress line (if one was drawn) so later output starts on a clean line."""
        if self._active and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
        self._active = False
