"""A stand-in for an LLM command: reads the prompt on stdin, writes a reply on stdout.

First call (no feedback in the prompt): a typical bad answer, wrapped in prose, choosing a
frame-averaging model for a motion task with an invented cost. Once the prompt carries the
validator's feedback, it answers with `r2plus1d_18`, copying frames, size and GMACs from the
prompt's measured cost table, as a careful assistant would. With --always-bad it never learns.
"""

import json
import re
import sys

prompt = sys.stdin.read()
if "--fail" in sys.argv:
    print("model quota exceeded", file=sys.stderr)
    sys.exit(3)
if "Your previous answer was rejected" not in prompt or "--always-bad" in sys.argv:
    bad = {
        "family": "2d_pool",
        "model": "framepool_r18",
        "frames": 8,
        "size": 224,
        "sampling": "uniform",
        "test_clips": 1,
        "test_time": "deterministic",
        "estimated_gmacs": 1.0,
        "pretraining": "imagenet",
        "rationale": "Cheap and simple.",
        "risks": [],
    }
    print("Sure! Here is my recommendation:\n\n```json\n" + json.dumps(bad, indent=2) + "\n```\nHope this helps.")
    sys.exit(0)
row = re.search(r"^\| `r2plus1d_18` \| r2plus1d \| [^|]+ \| (\d+) \| (\d+) \| ([\d.]+) \|", prompt, re.MULTILINE)
good = {
    "family": "r2plus1d",
    "model": "r2plus1d_18",
    "frames": int(row.group(1)),
    "size": int(row.group(2)),
    "sampling": "dense",
    "test_clips": 2,
    "test_time": "deterministic",
    "estimated_gmacs": float(row.group(3)),
    "pretraining": "kinetics",
    "rationale": "Motion-defined labels need temporal modelling; (2+1)D with Kinetics weights fits the data size.",
    "risks": ["Kinetics weights are appearance-biased."],
}
print(json.dumps(good))
