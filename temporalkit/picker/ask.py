"""Ask any LLM command for an answer: pipe the prompt to it, validate the reply, and ask again with
the validator's findings until a reply passes or the retries run out.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field

from temporalkit.picker.answer import parse_answer, validate_answer
from temporalkit.picker.prompt import render_prompt
from temporalkit.picker.schema import Answer, TaskSpec, clip
from temporalkit.validators.findings import Finding

# How often a waiting call checks whether the command itself is done while its children hold the pipes.
POLL_S = 1.0


class LLMCommandError(RuntimeError):
    """The LLM command could not be run or exited with an error."""


@dataclass
class AskAttempt:
    reply: str
    findings: list[Finding]


@dataclass
class AskResult:
    """`accepted` when the last reply had no error findings (warnings may remain)."""

    accepted: bool
    answer: Answer | None
    findings: list[Finding]
    attempts: list[AskAttempt] = field(default_factory=list)


def feedback_prompt(prompt: str, reply: str, findings: list[Finding]) -> str:
    """The prompt again, with the rejected reply and the validator's findings appended."""
    lines = [
        prompt.rstrip(),
        "",
        "## Your previous answer was rejected",
        "",
        "Your previous reply:",
        "",
        "````",
        reply.strip(),
        "````",
        "",
        "The validator found these problems:",
        "",
    ]
    for finding in findings:
        lines.append(f"- {finding.severity} {finding.rule} ({finding.category}): {finding.message}. Fix: {finding.fix}")
    lines += ["", "Reply again with the corrected JSON object only."]
    return "\n".join(lines) + "\n"


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the command's whole process group (it was started in a session of its own), so
    that nothing it started in the background (a server, a `sleep`) outlives the call."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already empty


def _run_llm(command: list[str], prompt: str, timeout_s: float) -> str:
    shown = clip(shlex.join(command))
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise LLMCommandError(f"LLM command not found: {clip(repr(command[0]))}") from None
    except OSError as exc:  # not executable, a directory, not a program (ENOEXEC), ...
        raise LLMCommandError(f"cannot run LLM command {clip(repr(command[0]))}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + timeout_s
    stdin_data: bytes | None = prompt.encode("utf-8")
    try:
        while True:
            try:
                stdout, stderr = process.communicate(
                    stdin_data, timeout=min(POLL_S, max(deadline - time.monotonic(), 0.01))
                )
                break
            except subprocess.TimeoutExpired:
                stdin_data = None  # written once; communicate() resumes where it stopped
                if process.poll() is not None:
                    # The command is done but a background child still holds its output pipe.
                    _kill_group(process)
                    continue
                if time.monotonic() >= deadline:
                    _kill_group(process)
                    try:
                        process.communicate(timeout=5)
                    except subprocess.TimeoutExpired:  # a descendant that left the group holds the pipes
                        pass
                    raise LLMCommandError(
                        f"LLM command timed out after {timeout_s:g} s (killed with its children): {shown}"
                    ) from None
    finally:
        _kill_group(process)
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    if process.returncode != 0:
        lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
        tail = clip(lines[-1]) if lines else "(no stderr)"
        raise LLMCommandError(f"LLM command exited with status {process.returncode}: {tail}")
    try:
        return stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LLMCommandError(
            f"LLM command wrote output that is not UTF-8 text (byte 0x{stdout[exc.start]:02x} at offset {exc.start}): {shown}"
        ) from None


def ask(
    spec: TaskSpec,
    llm_cmd: str | list[str],
    retries: int = 2,
    *,
    timeout_s: float = 600,
    measure_latency: bool = False,
) -> AskResult:
    """Pipe the prompt to `llm_cmd` (stdin → stdout), validate, and re-ask with findings up to `retries` times.

    `llm_cmd` is split like a shell command line (no shell is involved). The first reply with no
    error findings is accepted; otherwise the last reply's findings come back. The command runs in
    a session of its own; at its end or timeout its whole process group is killed (a descendant
    that calls `setsid` itself leaves the group and is not). Raises `LLMCommandError` (one line)
    when the command cannot be split or run, fails, times out or writes non-UTF-8 output, and
    `ValueError` for `retries < 0` or a timeout that is not a positive number.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    try:
        command = shlex.split(llm_cmd) if isinstance(llm_cmd, str) else list(llm_cmd)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise LLMCommandError(f"cannot split the LLM command {clip(repr(llm_cmd))}: {exc}") from None
    if not command:
        raise LLMCommandError("empty LLM command")
    base_prompt = render_prompt(spec, measure_latency=measure_latency)
    prompt = base_prompt
    attempts: list[AskAttempt] = []
    for _ in range(retries + 1):
        reply = _run_llm(command, prompt, timeout_s)
        findings = validate_answer(spec, reply, path="<reply>", measure_latency=measure_latency)
        attempts.append(AskAttempt(reply, findings))
        if not any(f.severity == "error" for f in findings):
            answer, _, _ = parse_answer(reply)
            return AskResult(True, answer, findings, attempts)
        prompt = feedback_prompt(base_prompt, reply, findings)
    return AskResult(False, None, attempts[-1].findings, attempts)
