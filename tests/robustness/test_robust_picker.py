"""pick validate inputs the fuzz benchmark (benchmarks/fuzz_audit.py) found to be tracebacks or
unbounded messages (issue 16, "Picker and CLI inputs")."""

from __future__ import annotations

import pytest

from temporalkit.picker import SpecError, TaskSpec, spec_from_mapping, validate_answer

SPEC = TaskSpec(task="SSv2-like", motion="motion", train_clips=20000, pretraining="kinetics", frames=16, size=112)


def test_an_integer_of_10000_digits_in_the_reply_is_a_finding_not_a_traceback():
    # json raises a plain ValueError (int's 4,300-digit limit), not JSONDecodeError, from the prose scan.
    reply = '{"family": "r2plus1d", "model": "r2plus1d_18", "frames": ' + "9" * 10_000 + "}"
    findings = validate_answer(SPEC, reply)
    assert findings and all("\n" not in f.message for f in findings)


def test_a_spec_of_500_unknown_keys_is_a_short_error():
    data = {"task": "t", "motion": "motion", "train_clips": 100, **{f"k{i}": 1 for i in range(500)}}
    with pytest.raises(SpecError) as caught:
        spec_from_mapping(data, "spec.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) <= 10 and lines[-1].endswith("more problems") and "k0: unknown field" in lines[0]
