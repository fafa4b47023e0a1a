"""The architecture picker: a prompt with measured costs, an objective-search recommender, and a loop
that asks any LLM command and checks its answer.

    from temporalkit.picker import TaskSpec, recommend, render_prompt, ask, validate_answer
    spec = TaskSpec(task="...", motion="motion", train_clips=5000, pretraining="kinetics")
    answer = recommend(spec)            # deterministic, passes validate_answer(spec, answer)
    prompt = render_prompt(spec)        # Markdown prompt for an assistant
    result = ask(spec, "llm -m some-model", retries=2)

One package for everything the picker knows, each part in its own module:

- `schema`: the two contracts (`TaskSpec`, `Answer`) and their vocabulary (motion, pretraining,
  sampling; the families are `temporalkit.reference_models.families`, shared with the registry);
- `catalogue`: one row per model (family, native clip, weights that exist, evidence, edge, image-text);
- `evidence`: published figures with their protocol (frames x clips x crops, fps, pretraining, split);
- `costs`: registry access and measured cost (cached);
- `search`: the objective search (expected accuracy under budget and latency per decision);
- `answer`: the validator every answer goes through (`validate_answer`, rule ids TKP100-TKP115);
- `prompt`, `recommend`, `ask`: the prompt, the recommender and the LLM loop.

Imports pydantic and jinja2 (and torch when costs are measured): never import it on the static path.
"""

from __future__ import annotations

from temporalkit.picker.answer import parse_answer, validate_answer
from temporalkit.picker.ask import AskAttempt, AskResult, LLMCommandError, ask, feedback_prompt
from temporalkit.picker.prompt import prompt_template, render_prompt, template_environment
from temporalkit.picker.recommend import NoFeasibleModel, recommend
from temporalkit.picker.schema import Answer, SpecError, TaskSpec, default_spec, load_spec, spec_from_mapping
from temporalkit.picker.search import SearchResult, read_task_text

__all__ = [
    "Answer",
    "AskAttempt",
    "AskResult",
    "LLMCommandError",
    "NoFeasibleModel",
    "SpecError",
    "TaskSpec",
    "ask",
    "default_spec",
    "feedback_prompt",
    "load_spec",
    "parse_answer",
    "prompt_template",
    "recommend",
    "read_task_text",
    "render_prompt",
    "SearchResult",
    "spec_from_mapping",
    "template_environment",
    "validate_answer",
]
