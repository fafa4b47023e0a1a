"""Ask any LLM command for an answer: pipe the prompt to it, validate the reply, and ask again with
the validator's findings until a reply passes or the retries run out.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field

from temporalkit.picker.answer import parse_answer, validate_answer
from temporalkit.picker.prompt import render_prompt
from temporalkit.picker.schema import Answer, TaskSpec
from temporalkit.validators.findings import Finding


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


def _run_llm(command: list[str], prompt: str, timeout_s: float) -> str:
    try:
        completed = subprocess.run(command, input=prompt, capture_output=True, text=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise LLMCommandError(f"LLM command not found: {command[0]!r}") from None
    except subprocess.TimeoutExpired:
        raise LLMCommandError(f"LLM command timed out after {timeout_s:g} s: {shlex.join(command)}") from None
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise LLMCommandError(f"LLM command exited with status {completed.returncode}: {tail[0]}")
    return completed.stdout


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
    error findings is accepted; otherwise the last reply's findings come back.
    """
    command = shlex.split(llm_cmd) if isinstance(llm_cmd, str) else list(llm_cmd)
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
