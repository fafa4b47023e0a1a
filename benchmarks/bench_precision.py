"""Precision of the static auditor on real repositories, judged against labels kept in the project.

    .venv/bin/python benchmarks/bench_precision.py CORPUS_DIR [--labels benchmarks/precision_labels.json]
        [--unlabelled FILE] [--output outputs/bench_precision.md] [--select ALL]

CORPUS_DIR holds one checkout per repository of `benchmarks/precision_corpus.json`, named
`OWNER+NAME` (a `.git` there is checked against the pinned commit; a missing repository is skipped
with one line). No upstream code is in this project: only the verdicts in the labels file
(repo, commit, path, line, rule, verdict TP / FP / debatable, reason).

Every finding of `temporalkit audit` (the default run: no cache, default settings, the rules that
are not opt-in; `--select ALL` adds those) is matched to a label
by (repo, path, line, rule). The report gives, per rule and per split (tuning / held-out):
findings, TP, FP, debatable, unlabelled, precision TP / (TP + FP), a strict precision that counts
debatable findings as false, and false alarms per 10k lines. Labelled true findings that the
current rules no longer report are listed as lost (or as kept under another rule on the same line,
or as left out with an opt-in rule the run did not select).
Unlabelled findings are listed for triage; `--unlabelled FILE` writes them as label skeletons.

Targets (issue 11): precision >= 0.8 overall, >= 0.6 for every rule with 5 or more findings,
at most 0.5 false alarms per 10k lines, no true finding lost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "benchmarks" / "precision_corpus.json"
LABELS = REPO / "benchmarks" / "precision_labels.json"
VERDICTS = ("TP", "FP", "debatable")
TARGET_PRECISION = 0.8
TARGET_RULE_PRECISION = 0.6
RULE_MIN_FINDINGS = 5
TARGET_FP_PER_10K = 0.5


def load_labels(path: Path) -> dict[tuple[str, str, int, str], dict]:
    labels: dict[tuple[str, str, int, str], dict] = {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: cannot read the labels ({exc})") from None
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
            verdict = entry.get("verdict") if isinstance(entry, dict) else None
            raise SystemExit(f"{path}: label {entry} has verdict {verdict!r}, not one of {VERDICTS}")
        try:
            labels[(entry["repo"], entry["path"], int(entry["line"]), entry["rule"])] = entry
        except (KeyError, TypeError, ValueError) as exc:
            raise SystemExit(f"{path}: label {entry} lacks a usable repo, path, line or rule ({exc!r})") from None
    return labels


def checkout_commit(directory: Path) -> str | None:
    if not (directory / ".git").exists():
        return None
    done = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or None


def audit_repository(directory: Path, select: list[str] | None = None) -> tuple[list[dict], int, int, float]:
    """Findings (path relative to the repository), files audited, lines audited, seconds."""
    from temporalkit.validators.audit import audit_paths, discover_files
    from temporalkit.validators.config import AuditConfig

    config = AuditConfig(root=directory)
    files, _ = discover_files([directory], config)
    lines = 0
    for path in files:
        try:
            lines += path.read_bytes().count(b"\n")
        except OSError:
            pass
    started = time.perf_counter()
    result = audit_paths([directory], config=config, cache=False, select=select)
    seconds = time.perf_counter() - started
    findings = []
    for finding in result.findings:
        relative = Path(finding.path).resolve().relative_to(directory.resolve()).as_posix()
        findings.append({"path": relative, "line": finding.line, "rule": finding.rule, "message": finding.message})
    return findings, len(files), lines, seconds


def selected_rules(select: list[str] | None) -> set[str]:
    """The ids of the static rules a run with `select` runs (None: the default run)."""
    from temporalkit.validators.audit import _is_active
    from temporalkit.validators.rules import all_rules

    return {r.ID for r in all_rules() if _is_active(r.ID, r.CATEGORY, select or (), (), opt_in=r.OPT_IN)}


def precision(tp: int, fp: int) -> float | None:
    return tp / (tp + fp) if tp + fp else None


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder with one OWNER+NAME checkout per repository")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--unlabelled", type=Path, help="write unlabelled findings here as label skeletons")
    parser.add_argument("--output", type=Path, default=REPO / "outputs" / "bench_precision.md")
    parser.add_argument("--json", type=Path, default=REPO / "outputs" / "bench_precision.json")
    parser.add_argument(
        "--select", type=lambda text: [s for s in text.split(",") if s], help="rules to run (default: the default run)"
    )
    args = parser.parse_args(argv)
    selected = selected_rules(args.select)

    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))["repos"]
    labels = load_labels(args.labels)

    per_rule: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (split, rule) -> verdict counts
    per_split: dict[str, Counter] = defaultdict(Counter)
    repo_rows: list[dict] = []
    unlabelled: list[dict] = []
    false_alarms: list[dict] = []
    found_keys: set[tuple[str, str, int, str]] = set()
    found_lines: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    audited_repos: set[str] = set()

    for entry in manifest:
        name, commit, split = entry["repo"], entry["commit"], entry["split"]
        directory = args.corpus / name.replace("/", "+")
        if not directory.is_dir():
            print(f"{directory}: missing, skipped (clone {name} at {commit} there)", file=sys.stderr)
            continue
        head = checkout_commit(directory)
        if head is not None and head != commit:
            print(f"{directory}: checked out at {head}, labels are for {commit}; skipped", file=sys.stderr)
            continue
        findings, files, lines, seconds = audit_repository(directory, args.select)
        audited_repos.add(name)
        counts: Counter = Counter()
        for finding in findings:
            key = (name, finding["path"], finding["line"], finding["rule"])
            found_keys.add(key)
            found_lines[key[:3]].add(finding["rule"])
            label = labels.get(key)
            verdict = label["verdict"] if label else "unlabelled"
            counts[verdict] += 1
            per_rule[(split, finding["rule"])][verdict] += 1
            if label is not None and verdict == "FP":
                false_alarms.append({**label, "message": finding["message"]})
            if label is None:
                unlabelled.append({"repo": name, "commit": commit, **finding, "verdict": "", "reason": ""})
        per_split[split].update(counts)
        per_split[split]["lines"] += lines
        per_split[split]["files"] += files
        repo_rows.append(
            {
                "repo": name,
                "commit": commit,
                "split": split,
                "files": files,
                "lines": lines,
                "seconds": round(seconds, 2),
                "findings": len(findings),
                **counts,
            }
        )

    kept_elsewhere, lost, not_selected = [], [], []
    for key, label in sorted(labels.items()):
        if label["verdict"] != "TP" or key[0] not in audited_repos or key in found_keys:
            continue
        other_rules = found_lines.get(key[:3], set())
        if other_rules:
            kept_elsewhere.append({**label, "now": sorted(other_rules)})
        else:
            (lost if key[3] in selected else not_selected).append({**label, "now": []})

    report = render(
        repo_rows,
        per_rule,
        per_split,
        unlabelled,
        kept_elsewhere,
        lost,
        false_alarms,
        args.manifest,
        args.labels,
        not_selected=not_selected,
        select=args.select,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    args.json.write_text(
        json.dumps(
            {
                "repos": repo_rows,
                "rules": {f"{split}:{rule}": dict(c) for (split, rule), c in sorted(per_rule.items())},
                "false_alarms": false_alarms,
                "lost": lost,
                "kept_under_other_rule": kept_elsewhere,
                "not_selected": not_selected,
                "select": args.select,
                "unlabelled": len(unlabelled),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    if args.unlabelled:
        args.unlabelled.write_text(json.dumps(unlabelled, indent=1) + "\n", encoding="utf-8")
    print(report)
    return 0


def shown_path(path: Path) -> str:
    """`path` relative to the project when it lies in it, else as given."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def render(
    repo_rows,
    per_rule,
    per_split,
    unlabelled,
    kept_elsewhere,
    lost,
    false_alarms,
    manifest=MANIFEST,
    labels=LABELS,
    *,
    not_selected=(),
    select=None,
) -> str:
    option = f" --select {','.join(select)}" if select else ""
    out = [
        "# Static auditor precision on real repositories",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_precision.py CORPUS_DIR{option}` "
        f"(corpus: `{shown_path(manifest)}`, labels: `{shown_path(labels)}`; "
        + ("rules: as selected" if select else "the default run: opt-in rules left out")
        + ").",
        "",
        "| repo | split | commit | files | lines | findings | TP | FP | debatable | unlabelled | audit s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in repo_rows:
        out.append(
            f"| {row['repo']} | {row['split']} | {row['commit'][:10]} | {row['files']} | {row['lines']} | "
            f"{row['findings']} | {row.get('TP', 0)} | {row.get('FP', 0)} | {row.get('debatable', 0)} | "
            f"{row.get('unlabelled', 0)} | {row['seconds']} |"
        )

    out += [
        "",
        "## Per split",
        "",
        "| split | lines | findings | TP | FP | debatable | unlabelled | precision | strict precision | FP per 10k lines |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    splits = sorted(per_split) + (["all"] if len(per_split) > 1 else [])
    totals = {split: per_split[split] for split in per_split}
    totals["all"] = sum(per_split.values(), Counter())
    for split in splits:
        c = totals[split]
        findings = c["TP"] + c["FP"] + c["debatable"] + c["unlabelled"]
        fp_rate = 1e4 * c["FP"] / c["lines"] if c["lines"] else None
        out.append(
            f"| {split} | {c['lines']} | {findings} | {c['TP']} | {c['FP']} | {c['debatable']} | "
            f"{c['unlabelled']} | {fmt(precision(c['TP'], c['FP']))} | "
            f"{fmt(precision(c['TP'], c['FP'] + c['debatable']))} | {fmt(fp_rate)} |"
        )

    out += [
        "",
        "## Per rule (all repositories)",
        "",
        "| rule | findings | TP | FP | debatable | unlabelled | precision | strict precision |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_rule: dict[str, Counter] = defaultdict(Counter)
    for (split, rule), counts in per_rule.items():
        by_rule[rule].update(counts)
    failing_rules = []
    for rule in sorted(by_rule):
        c = by_rule[rule]
        total = sum(c.values())
        p = precision(c["TP"], c["FP"])
        if total >= RULE_MIN_FINDINGS and p is not None and p < TARGET_RULE_PRECISION:
            failing_rules.append(rule)
        out.append(
            f"| {rule} | {total} | {c['TP']} | {c['FP']} | {c['debatable']} | {c['unlabelled']} | "
            f"{fmt(p)} | {fmt(precision(c['TP'], c['FP'] + c['debatable']))} |"
        )

    everything = totals["all"]
    overall = precision(everything["TP"], everything["FP"])
    fp_rate = 1e4 * everything["FP"] / everything["lines"] if everything["lines"] else None
    verdict = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    out += [
        "",
        "## Targets",
        "",
        f"- precision >= {TARGET_PRECISION} overall: {fmt(overall)} ({verdict(overall is not None and overall >= TARGET_PRECISION)})",
        f"- precision >= {TARGET_RULE_PRECISION} for every rule with >= {RULE_MIN_FINDINGS} findings: "
        + (f"below for {', '.join(failing_rules)} (**missed**)" if failing_rules else "met"),
        f"- at most {TARGET_FP_PER_10K} false alarms per 10k lines: {fmt(fp_rate)} "
        f"({verdict(fp_rate is not None and fp_rate <= TARGET_FP_PER_10K)})",
        f"- no labelled true finding lost: {len(lost)} lost, {len(kept_elsewhere)} now reported under another rule "
        f"on the same line ({verdict(not lost)})"
        + (f"; {len(not_selected)} found only by opt-in rules this run left out" if not_selected else ""),
        f"- unlabelled findings (to triage; not counted in precision): {everything['unlabelled']}",
    ]
    if false_alarms:
        out += ["", "## False alarms still reported", ""]
        out += [f"- {x['repo']} `{x['path']}:{x['line']}` {x['rule']}: {x['reason']}" for x in false_alarms]
    if lost:
        out += ["", "## Labelled true findings no longer reported", ""]
        out += [f"- {x['repo']} `{x['path']}:{x['line']}` {x['rule']}: {x['reason']}" for x in lost]
    if not_selected:
        out += ["", "## Labelled true findings of opt-in rules this run left out (`--select ALL` runs them)", ""]
        out += [f"- {x['repo']} `{x['path']}:{x['line']}` {x['rule']}: {x['reason']}" for x in not_selected]
    if kept_elsewhere:
        out += ["", "## Labelled true findings now reported under another rule", ""]
        out += [f"- {x['repo']} `{x['path']}:{x['line']}` {x['rule']} -> {', '.join(x['now'])}" for x in kept_elsewhere]
    if unlabelled:
        out += ["", "## Unlabelled findings (triage these)", ""]
        out += [f"- {x['repo']} `{x['path']}:{x['line']}` {x['rule']}: {x['message']}" for x in unlabelled]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
