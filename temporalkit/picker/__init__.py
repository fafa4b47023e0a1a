"""The architecture picker: a prompt with measured costs, a rule-based recommender, and a loop
that asks any LLM command and checks its answer.

    from temporalkit.picker import TaskSpec, recommend, render_prompt, ask, validate_answer
    spec = TaskSpec(task="...", motion="motion", train_clips=5000, pretraining="kinetics")
    answer = recommend(spec)            # deterministic, passes validate_answer(spec, answer)
    prompt = render_prompt(spec)        # Markdown prompt for an assistant
    result = ask(spec, "llm -m some-model", retries=2)

One package for everything the picker knows, each part in its own module:

- `schema`: the two contracts (`TaskSpec`, `Answer`) and their vocabulary (motion, pretraining,
  sampling; the families are `temporalkit.reference_models.families`, shared with the registry);
- `costs`: what the picker knows per model (measured cost, usable weights, native clip, published results);
- `answer`: the validator every answer goes through (`validate_answer`, rule ids TKP100-TKP112);
- `prompt`, `recommend`, `ask`: the prompt, the rule-based recommender and the LLM loop.

Imports pydantic and jinja2 (and torch when costs are measured): never import it on the static path.
"""

from __future__ import annotations

from temporalkit.picker.answer import parse_answer, validate_answer
from temporalkit.picker.ask import AskAttempt, AskResult, LLMCommandError, ask, feedback_prompt
from temporalkit.picker.prompt import prompt_template, render_prompt, template_environment
from temporalkit.picker.recommend import NoFeasibleModel, clip_options, family_preference, models_for_family, recommend
from temporalkit.picker.schema import Answer, SpecError, TaskSpec, default_spec, load_spec, spec_from_mapping

__all__ = [
    "Answer",
    "AskAttempt",
    "AskResult",
    "LLMCommandError",
    "NoFeasibleModel",
    "SpecError",
    "TaskSpec",
    "ask",
    "clip_options",
    "default_spec",
    "family_preference",
    "feedback_prompt",
    "load_spec",
    "models_for_family",
    "parse_answer",
    "prompt_template",
    "recommend",
    "render_prompt",
    "spec_from_mapping",
    "template_environment",
    "validate_answer",
]
