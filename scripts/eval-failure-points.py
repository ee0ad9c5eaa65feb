#!/usr/bin/env python3
"""Accuracy, macro-F1 and confusion matrix of `selflearn failure-points` against a simulated log's gold.

    scripts/eval-failure-points.py LOG.jsonl FAILURE_POINTS.jsonl

A defect's gold stage is its "gold_stage" field when present (`selflearn simulate --gold-failure on` writes
it, with failures at all four stages); otherwise it is derived from the
simulator's "gold_failure": misrecognition and other_phrasing_misheard -> asr (a misheard word), carrier,
truncation and other_phrasing -> nlu (a phrasing the NLU does not understand). Undetermined predictions
(null) count as wrong. Macro-F1 averages the per-stage F1 over the gold stages present.
"""
import collections
import json
import sys

STAGES = ["asr", "nlu", "resolution", "skill"]


def gold_of(turn):
    if "gold_stage" in turn:
        return turn["gold_stage"]
    failure = turn.get("gold_failure")
    if failure is None:
        return None
    return "asr" if failure in ("misrecognition", "other_phrasing_misheard") else "nlu"


def main(log_path, predictions_path):
    gold = {}
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            turn = json.loads(line)
            if turn["outcome"] == "defect" and gold_of(turn) is not None:
                gold[(turn["session"], turn["time"])] = gold_of(turn)
    confusion = collections.Counter()
    methods = collections.Counter()
    with open(predictions_path, encoding="utf-8") as predictions:
        for line in predictions:
            row = json.loads(line)
            key = (row["session"], row["time"])
            if key not in gold:
                continue
            predicted = row["failure_point"] or "null"
            confusion[(gold[key], predicted)] += 1
            methods[(row["evidence"]["method"], gold[key] == predicted)] += 1
    total = sum(confusion.values())
    if total == 0:
        sys.exit("no defect with a gold stage")
    correct = sum(c for (g, p), c in confusion.items() if g == p)
    present = [s for s in STAGES if any(g == s for g, _ in confusion)]
    f1s = []
    for s in present:
        tp = confusion[(s, s)]
        fp = sum(c for (g, p), c in confusion.items() if p == s and g != s)
        fn = sum(c for (g, p), c in confusion.items() if g == s and p != s)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    print(f"defects {total}  accuracy {correct / total:.3f}  macro-F1 {sum(f1s) / len(f1s):.3f}")
    for method in ("rephrase", "signals"):
        n = methods[(method, True)] + methods[(method, False)]
        if n:
            print(f"  by {method}: {n} defects, accuracy {methods[(method, True)] / n:.3f}")
    columns = STAGES + ["null"]
    print("gold \\ predicted  " + "  ".join(f"{c:>10}" for c in columns))
    for g in present:
        print(f"{g:>17}  " + "  ".join(f"{confusion[(g, c)]:>10}" for c in columns))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
