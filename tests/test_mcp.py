"""`temporalkit mcp`, for real: the server runs as a subprocess and the official SDK's stdio client drives it.

Rendering the picker prompt measures every catalogue model (minutes on a loaded 2-core machine),
so that test runs with TEMPORALKIT_SLOW_TESTS=1 (CI sets it); the others take seconds.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

import anyio  # noqa: E402  (installed with mcp)
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

BUGGY = "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
SPEC = {
    "task": "tell pushing left from pushing right",
    "motion": "motion",
    "train_clips": 20000,
    "pretraining": "kinetics",
    "frames": 16,
    "budget_gmacs": 50,
}


def _text(result) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


async def _session_run(root: Path, body):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "temporalkit", "mcp", "--root", str(root)],
        env={"TEMPORALKIT_CACHE_DIR": str(root.parent / "cache"), "NO_COLOR": "1"},
        cwd=str(root.parent),
    )
    with open(root.parent / "server.err", "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await body(session)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "sampler.py").write_text(BUGGY)
    (tmp_path / "outside.py").write_text(BUGGY)
    return root


@pytest.mark.slow
def test_server_lists_and_answers_over_stdio(project):
    async def body(session):
        tools = {tool.name for tool in (await session.list_tools()).tools}
        prompts = {prompt.name: prompt for prompt in (await session.list_prompts()).prompts}
        resources = {str(resource.uri) for resource in (await session.list_resources()).resources}
        audit = await session.call_tool("audit", {"paths": ["sampler.py"]})
        rule = await session.call_tool("rule", {"rule_id": "tk101"})
        skill = await session.read_resource("temporalkit://skills/frame-sampler-auditor/SKILL.md")
        rule_doc = await session.read_resource("temporalkit://rules/TK101")
        validate = await session.call_tool("pick_validate", {"spec": SPEC, "answer": "not an answer"})
        return tools, prompts, resources, audit, rule, skill, rule_doc, validate

    tools, prompts, resources, audit, rule, skill, rule_doc, validate = anyio.run(_session_run, project, body)
    assert {"audit", "check", "pick_recommend", "pick_validate", "cost", "rule"} <= tools
    from temporalkit.picker.schema import SPEC_FIELDS

    arguments = prompts["video_architecture_picker"].arguments
    assert [arg.name for arg in arguments] == list(SPEC_FIELDS)  # the spec's fields, from the schema
    assert {arg.name for arg in arguments if arg.required} == {"task", "motion", "train_clips"}
    assert "temporalkit://skills/frame-sampler-auditor/SKILL.md" in resources
    assert "temporalkit://skills/video-architecture-picker/SKILL.md" in resources
    assert "temporalkit://rules" in resources

    assert not audit.is_error, _text(audit)
    report = audit.structured_content  # structured JSON, not only text
    assert isinstance(report, dict) and json.loads(_text(audit)) == report
    (finding,) = report["findings"]
    assert (finding["rule"], finding["path"], finding["line"]) == ("TK101", "sampler.py", 5)
    assert report["files_audited"] == 1 and report["errors"] == []

    assert not rule.is_error and "TK101" in (rule.structured_content or {}).get("text", _text(rule))
    assert skill.contents[0].text.startswith("---\nname: frame-sampler-auditor\n")
    assert rule_doc.contents[0].text.startswith("TK101 ")

    assert not validate.is_error  # an unusable answer is a rejected answer, not a failure
    assert (validate.structured_content or json.loads(_text(validate)))["accepted"] is False


@pytest.mark.slow
def test_path_outside_the_root_and_bad_input_are_tool_errors_and_the_server_lives_on(project):
    async def body(session):
        outside = await session.call_tool("audit", {"paths": ["../outside.py"]})
        absolute = await session.call_tool("audit", {"paths": [str(project.parent / "outside.py")]})
        bad_spec = await session.call_tool("pick_recommend", {"spec": {"task": "x", "motion": "sideways"}})
        unknown_rule = await session.call_tool("rule", {"rule_id": "TK10l"})
        try:
            await session.get_prompt(
                "video_architecture_picker", {"task": "x", "motion": "sideways", "train_clips": "9"}
            )
            bad_prompt = None
        except MCPError as exc:
            bad_prompt = exc.message
        still_alive = await session.call_tool("audit", {"paths": ["."]})
        return outside, absolute, bad_spec, unknown_rule, bad_prompt, still_alive

    outside, absolute, bad_spec, unknown_rule, bad_prompt, still_alive = anyio.run(_session_run, project, body)
    for refused in (outside, absolute):
        assert refused.is_error and "outside the server's root" in _text(refused), _text(refused)
    assert bad_spec.is_error and "motion" in _text(bad_spec)
    assert unknown_rule.is_error and "TK10l" in _text(unknown_rule)
    assert bad_prompt is not None and "motion" in bad_prompt, bad_prompt
    assert not still_alive.is_error
    assert [f["rule"] for f in (still_alive.structured_content or json.loads(_text(still_alive)))["findings"]] == [
        "TK101"
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TEMPORALKIT_SLOW_TESTS") != "1",
    reason="renders the picker prompt (measures every catalogue model); set TEMPORALKIT_SLOW_TESTS=1",
)
def test_picker_prompt_takes_the_spec_fields_as_arguments(project):
    arguments = {"task": SPEC["task"], "motion": "motion", "train_clips": "20000", "frames": "16", "size": "224"}

    async def body(session):
        return await session.get_prompt("video_architecture_picker", arguments)

    prompt = anyio.run(_session_run, project, body)
    text = prompt.messages[0].content.text
    assert SPEC["task"] in text and "estimated_gmacs" in text
