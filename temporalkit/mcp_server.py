"""`temporalkit mcp`: the auditor and the architecture picker over the Model Context Protocol (stdio).

A thin layer over the library calls the CLI makes (no CLI parsing here), built with the official
`mcp` Python SDK (`pip install 'temporalkit[mcp]'`):

    tools      audit, check, pick_recommend, pick_validate, cost, rule
    prompt     video_architecture_picker (the picker prompt; the spec fields are its arguments)
    resources  temporalkit://skills/<skill>/<file> (the skills), temporalkit://rules (the rule index)
               and temporalkit://rules/{rule_id} (one rule's documentation)

Every path a tool is given is resolved against the server's root (the working directory at
start, or `--root`) and refused when it lies outside it. Failures come back as tool errors
(`is_error`, one line saying what went wrong); the server keeps running.

    from temporalkit.mcp_server import build_server
    build_server(".").run("stdio")
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from temporalkit import __version__

SERVER_NAME = "temporalkit"
INSTRUCTIONS = (
    "temporalkit audits video frame-sampling and cropping code (static rules; `dynamic` also runs the "
    "samplers in a sandboxed child process) and picks a temporal architecture for a video task. "
    "Call `audit` on the data-pipeline files, `rule` to explain a finding's rule id, and "
    "`pick_recommend` / `pick_validate` with a task spec (task, motion, train_clips, ...)."
)


def _tool_error(message: str):
    from mcp.server.mcpserver.exceptions import ToolError

    return ToolError(message)


def _errors_as_tool_errors(fn):
    """Anticipated failures (bad input, a missing extra, an unreadable file) as one-line tool errors.

    A SystemExit raised by library code would otherwise end the server; other exceptions the SDK
    itself returns as tool errors.
    """
    from temporalkit.extras import MissingExtra

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MissingExtra as exc:
            raise _tool_error(str(exc)) from None
        except (ValueError, OSError, KeyError, LookupError) as exc:  # SpecError and ConfigError are ValueErrors
            message = str(exc) if not isinstance(exc, KeyError) else str(exc.args[0] if exc.args else exc)
            raise _tool_error(f"{fn.__name__}: {message}") from None
        except SystemExit as exc:
            raise _tool_error(f"{fn.__name__}: stopped (SystemExit: {exc})") from None

    return wrapper


class Root:
    """The folder the server may read: paths are resolved against it and refused outside it."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).resolve()

    def resolve(self, given: str) -> Path:
        if not isinstance(given, str) or not given.strip():
            raise ValueError("empty path")
        path = Path(given).expanduser()
        resolved = (path if path.is_absolute() else self.path / path).resolve()
        if resolved != self.path and self.path not in resolved.parents:
            raise ValueError(f"{given}: outside the server's root {self.path} (start the server with --root)")
        return resolved

    def relative(self, reported: str) -> str:
        """A path a finding reports, relative to the root (as the CLI run from the root shows it)."""
        try:
            return str(Path(reported).resolve().relative_to(self.path))
        except ValueError:
            return reported


def _spec(spec: dict[str, Any]):
    from temporalkit.picker.schema import spec_from_mapping

    return spec_from_mapping(spec, "spec")


def _argument_value(text: str):
    """A prompt argument (always a string) read as a spec file's value is: `"20000"` -> 20000,
    `"true"` -> True, `"[imagenet, kinetics]"` -> a list, `"{...}"` -> a mapping; else the text."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, list, dict)) else text


def _picker_prompt():
    """The picker prompt, its arguments the task spec's fields (`SPEC_FIELDS`, described from `TaskSpec`)."""
    from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS

    from temporalkit.picker.schema import SPEC_FIELDS, TaskSpec
    from temporalkit.render import spec_field_accepts

    fields = TaskSpec.model_fields
    arguments = [
        PromptArgument(
            name=name,
            description=f"{fields[name].description or name} Accepts: {spec_field_accepts(fields[name].annotation)}.",
            required=fields[name].is_required(),
        )
        for name in SPEC_FIELDS
    ]

    def video_architecture_picker(**given: str) -> str:
        from temporalkit import picker
        from temporalkit.extras import MissingExtra

        spec = {key: value if key == "task" else _argument_value(value) for key, value in given.items() if value}
        try:
            return picker.render_prompt(_spec(spec))
        except (ValueError, MissingExtra) as exc:  # SpecError: a field the spec does not accept
            # An MCPError reaches the client with its message (other errors only as "Error rendering prompt").
            raise MCPError(INVALID_PARAMS, f"video_architecture_picker: {exc}") from None

    return Prompt(
        name="video_architecture_picker",
        description="The architecture-picker prompt for a video task: the measured cost table, published "
        "results and the answer schema. Arguments are the task spec's fields.",
        arguments=arguments,
        fn=video_architecture_picker,
    )


def _findings_document(base: Root, findings, errors, files_audited: int | None = None) -> dict[str, Any]:
    from temporalkit.validators.formats import finding_to_json

    document = {
        "findings": [{**finding_to_json(f), "path": base.relative(f.path)} for f in findings],
        "errors": [{**e.to_dict(), "path": base.relative(e.path)} for e in errors],
    }
    if files_audited is not None:
        document["files_audited"] = files_audited
    return document


def build_server(root: str | os.PathLike = "."):
    """The MCP server over `root` (its tools, the picker prompt, the skills and rule docs)."""
    from mcp.server.mcpserver import MCPServer

    base = Root(root)
    server = MCPServer(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS)

    @server.tool()
    @_errors_as_tool_errors
    def audit(
        paths: list[str], select: list[str] | None = None, ignore: list[str] | None = None, dynamic: bool = False
    ) -> dict[str, Any]:
        """Audit Python files or folders for frame-sampling and cropping bugs.

        paths: files or folders under the server's root. select / ignore: rule ids, id prefixes or
        categories (as `temporalkit audit --select`). dynamic: also import and run the samplers
        found, in a sandboxed child process (executes the code; needs the `dynamic` extra).
        Returns {"findings": [...], "errors": [...], "files_audited": n}; lines and columns are
        1-based; each finding has rule, category, severity, path, line, message and fix.
        """
        from dataclasses import replace

        from temporalkit.validators.audit import audit_paths
        from temporalkit.validators.config import load_config

        if not paths:
            raise ValueError("give at least one path")
        resolved = [base.resolve(p) for p in paths]
        if dynamic:
            from temporalkit.extras import require

            require("dynamic", "audit with dynamic=true")
        config = load_config(resolved[0])
        result = audit_paths(resolved, select=select, ignore=ignore, config=config, jobs=1)
        findings, errors = list(result.findings), list(result.errors)
        if dynamic:
            from temporalkit.validators.dynamic import run_dynamic

            # select / ignore apply to the dynamic findings as to the static ones (as the CLI does)
            selectors = replace(
                config, select=tuple(select) if select else config.select, ignore=(*config.ignore, *(ignore or ()))
            )
            dynamic_findings, dynamic_errors = run_dynamic(resolved, config=selectors)
            findings += dynamic_findings
            errors += [e for e in dynamic_errors if e not in errors]
        return _findings_document(base, findings, errors, result.files_audited)

    @server.tool()
    @_errors_as_tool_errors
    def check(
        target: str,
        role: str,
        args: list[str] | None = None,
        test_time: bool = False,
        family: str | None = None,
    ) -> dict[str, Any]:
        """Run the dynamic checks on one named object (executes it in a sandboxed child process).

        target: FILE:OBJECT under the root, e.g. data/video.py:VideoDataset.sample_indices.
        role: sampler, subsampler, multi_clip, transform, loader or image_reader.
        args: NAME=VALUE parameter mappings, e.g. ["vlen=num_frames", "clip_len=T"].
        Needs the `dynamic` extra. Returns {"findings": [...], "errors": [...]}.
        """
        from temporalkit.extras import require

        require("dynamic", "check")
        from temporalkit.validators.config import parse_target
        from temporalkit.validators.dynamic import check_object_results

        path, name = parse_target(target)
        resolved = base.resolve(path)
        results, errors = check_object_results(
            resolved, name, role, args or [], test_time=True if test_time else None, family=family
        )
        return _findings_document(base, [f for r in results for f in r.findings], errors)

    @server.tool()
    @_errors_as_tool_errors
    def pick_recommend(spec: dict[str, Any]) -> dict[str, Any]:
        """The deterministic architecture recommendation for a video task spec.

        spec: {"task": str, "motion": "appearance"|"mixed"|"motion", "train_clips": int, and
        optionally pretraining, frames, size, budget_gmacs, latency_ms, device, long_range, text,
        deployment}. Returns the answer (family, model, frames, size, sampling, test_clips,
        estimated_gmacs, pretraining, rationale, risks).
        """
        from temporalkit import picker

        try:
            answer = picker.recommend(_spec(spec))
        except picker.NoFeasibleModel as exc:
            raise ValueError(str(exc)) from None
        return answer.model_dump()

    @server.tool()
    @_errors_as_tool_errors
    def pick_validate(spec: dict[str, Any], answer: str) -> dict[str, Any]:
        """Check an assistant's architecture answer (JSON text, or a reply containing one) against a spec.

        Returns {"accepted": bool, "findings": [...]}: errors reject the answer (invented cost,
        over budget, family mismatch, ...), warnings do not.
        """
        from temporalkit import picker

        findings = picker.validate_answer(_spec(spec), answer, path="answer")
        errors = [f for f in findings if f.severity == "error"]
        return {"accepted": not errors, "findings": [f.to_dict() for f in findings]}

    @server.tool()
    @_errors_as_tool_errors
    def cost(model: str = "all", frames: int = 16, size: int = 224) -> list[dict[str, Any]]:
        """Measured GMACs, GFLOPs and parameters of a reference or torchvision video model at frames x size.

        model: a registry id or "all". Counting runs on the meta device (no memory, no weights);
        needs the `models` extra. Unsupported inputs come back with `error` set.
        """
        from temporalkit.extras import require

        require("models", "cost")
        from temporalkit.reference_models.cost import cost_table
        from temporalkit.reference_models.registry import MODELS

        if model != "all" and model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: all, {', '.join(MODELS)}")
        return [row.to_dict() for row in cost_table([model] if model != "all" else "all", frames, size)]

    @server.tool()
    @_errors_as_tool_errors
    def rule(rule_id: str) -> dict[str, Any]:
        """Explain a rule or dynamic check id (e.g. TK101): what it does, why it is a bug, an example, the fix.

        Returns the documentation as fields and as `text` (what `temporalkit rule` prints).
        """
        from dataclasses import asdict

        from temporalkit.validators.rule_docs import format_rule_doc, rule_doc

        doc = rule_doc(rule_id)
        return {**asdict(doc), "text": format_rule_doc(doc)}

    server.add_prompt(_picker_prompt())
    _add_documentation_resources(server)
    return server


def _add_documentation_resources(server) -> None:
    from mcp.server.mcpserver.resources import FunctionResource

    from temporalkit.render import SKILL_NAMES, render_skill_files

    def reader(skill: str, name: str):
        def read() -> str:
            return render_skill_files(skill)[name]

        return read

    for skill, names in SKILL_NAMES.items():
        for name in names:
            server.add_resource(
                FunctionResource.from_function(
                    fn=reader(skill, name),
                    uri=f"temporalkit://skills/{skill}/{name}",
                    name=f"{skill}/{name}",
                    description=f"the {skill} skill: {name}",
                    mime_type="text/markdown" if name.endswith(".md") else "text/x-python",
                )
            )

    @server.resource("temporalkit://rules", name="rules", mime_type="application/json")
    def rule_index() -> str:
        """Every static rule and dynamic check: id, kind, severity, category, name, summary."""
        from temporalkit.validators.rule_docs import all_rule_docs

        return json.dumps(
            [
                {k: getattr(doc, k) for k in ("id", "kind", "severity", "category", "name", "summary")}
                for doc in all_rule_docs()
            ],
            indent=1,
        )

    @server.resource("temporalkit://rules/{rule_id}", name="rule", mime_type="text/markdown")
    def rule_documentation(rule_id: str) -> str:
        """One rule's documentation (what `temporalkit rule ID` prints)."""
        from mcp.server.mcpserver.exceptions import ResourceNotFoundError

        from temporalkit.validators.rule_docs import UnknownRuleError, format_rule_doc, rule_doc

        try:
            return format_rule_doc(rule_doc(rule_id))
        except UnknownRuleError as exc:
            raise ResourceNotFoundError(str(exc)) from None


def serve(root: str | os.PathLike = ".") -> None:
    """Serve over stdio until the client closes the connection."""
    build_server(root).run("stdio")
