"""The precision benchmark's bookkeeping, on a tiny corpus this test writes (the real corpus is not in the repo)."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_precision", REPO / "benchmarks" / "bench_precision.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLER = textwrap.dedent(
    """
    import numpy as np

    def sample(num_frames, clip_len):
        return np.linspace(0, num_frames, clip_len).astype(int)

    def start(num_frames, clip_len):
        return np.random.randint(0, num_frames - clip_len)
    """
)


def test_counts_verdicts_lost_and_unlabelled(tmp_path):
    bench = _bench()
    corpus = tmp_path / "corpus"
    (corpus / "someone+video").mkdir(parents=True)
    (corpus / "someone+video" / "sampler.py").write_text(SAMPLER)
    (corpus / "someone+other").mkdir()
    (corpus / "someone+other" / "clean.py").write_text("x = 1\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "repos": [
                    {"repo": "someone/video", "commit": "a" * 40, "split": "tuning"},
                    {"repo": "someone/other", "commit": "b" * 40, "split": "held-out"},
                    {"repo": "someone/absent", "commit": "c" * 40, "split": "held-out"},
                ]
            }
        )
    )
    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps(
            [
                {
                    "repo": "someone/video",
                    "commit": "a" * 40,
                    "path": "sampler.py",
                    "line": 5,
                    "rule": "TK101",
                    "verdict": "TP",
                    "reason": "linspace reaches num_frames",
                },
                {
                    "repo": "someone/video",
                    "commit": "a" * 40,
                    "path": "sampler.py",
                    "line": 40,
                    "rule": "TK101",
                    "verdict": "TP",
                    "reason": "a true finding the rules no longer report",
                },
                {
                    "repo": "someone/absent",
                    "commit": "c" * 40,
                    "path": "x.py",
                    "line": 1,
                    "rule": "TK101",
                    "verdict": "TP",
                    "reason": "not in the corpus: neither kept nor lost",
                },
            ]
        )
    )
    output, data = tmp_path / "out.md", tmp_path / "out.json"
    unlabelled = tmp_path / "unlabelled.json"
    assert (
        bench.main(
            [
                str(corpus),
                "--manifest",
                str(manifest),
                "--labels",
                str(labels),
                "--output",
                str(output),
                "--json",
                str(data),
                "--unlabelled",
                str(unlabelled),
            ]
        )
        == 0
    )

    result = json.loads(data.read_text())
    [video, other] = result["repos"]
    assert video["TP"] == 1 and video["findings"] == 1 + video["unlabelled"] and video["unlabelled"] >= 1
    assert other["findings"] == 0 and other["lines"] == 1
    assert [x["line"] for x in result["lost"]] == [40]
    skeletons = json.loads(unlabelled.read_text())
    assert {x["line"] for x in skeletons} == {8} and all(x["verdict"] == "" for x in skeletons)
    report = output.read_text()
    assert "1 lost" in report and "someone/absent" not in report
    assert f"corpus: `{manifest}`, labels: `{labels}`" in report  # the files it read, not the defaults


def test_rejects_an_unknown_verdict(tmp_path):
    bench = _bench()
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"repo": "r/r", "path": "a.py", "line": 1, "rule": "TK101", "verdict": "maybe"}]))
    try:
        bench.load_labels(labels)
    except SystemExit as exc:
        assert "maybe" in str(exc)
    else:
        raise AssertionError("an unknown verdict was accepted")


def test_a_label_without_a_line_is_one_clear_error(tmp_path):
    bench = _bench()
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"repo": "r/r", "path": "a.py", "rule": "TK101", "verdict": "TP"}]))
    try:
        bench.load_labels(labels)
    except SystemExit as exc:
        assert "lacks a usable repo, path, line or rule" in str(exc)
    else:
        raise AssertionError("a label without a line was accepted")


def test_true_findings_of_opt_in_rules_left_out_are_not_lost(tmp_path):
    """A TP of an opt-in rule is 'left out' by the default run and found again with --select ALL."""
    bench = _bench()
    corpus = tmp_path / "corpus"
    (corpus / "someone+video").mkdir(parents=True)
    (corpus / "someone+video" / "resize.py").write_text(
        "import torch.nn.functional as F\n\n\ndef resize_clip(frames):\n"
        "    return F.interpolate(frames, size=(224, 224), mode='bilinear')\n"
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"repos": [{"repo": "someone/video", "commit": "a" * 40, "split": "tuning"}]}))
    label = {"repo": "someone/video", "commit": "a" * 40, "path": "resize.py", "line": 5, "rule": "TK172"}
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{**label, "verdict": "TP", "reason": "squashes 16:9 frames"}]))
    common = [str(corpus), "--manifest", str(manifest), "--labels", str(labels)]

    bench.main([*common, "--output", str(tmp_path / "d.md"), "--json", str(tmp_path / "d.json")])
    default = json.loads((tmp_path / "d.json").read_text())
    assert default["lost"] == [] and [x["rule"] for x in default["not_selected"]] == ["TK172"]
    assert "1 found only by opt-in rules this run left out" in (tmp_path / "d.md").read_text()

    bench.main([*common, "--select", "ALL", "--output", str(tmp_path / "a.md"), "--json", str(tmp_path / "a.json")])
    everything = json.loads((tmp_path / "a.json").read_text())
    assert everything["lost"] == [] and everything["not_selected"] == []
    assert everything["rules"] == {"tuning:TK172": {"TP": 1}}
