#!/usr/bin/env bash
# `selflearn simulate`: determinism, the committed sample, well-formed logs with consistent gold fields,
# the shape of the simulation (recurring goals, failures for a reason, rephrases, abandonment), errors.
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
program=$1
examples=$2
corpus="$examples/../../shared/data/snips/train.jsonl"
if [[ ! -f $corpus ]]; then
    echo "FAIL: the SNIPS corpus is missing at $corpus" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Deterministic for a seed; another seed gives another log; session k does not depend on --sessions.
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 5 --output "$work/a.jsonl"
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 5 > "$work/b.jsonl"
cmp -s "$work/a.jsonl" "$work/b.jsonl" || fail "the same seed gave two different logs"
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 6 --output "$work/c.jsonl"
cmp -s "$work/a.jsonl" "$work/c.jsonl" && fail "seeds 5 and 6 gave the same log"
"$program" simulate --corpus "$corpus" --sessions 1000 --seed 5 --output "$work/prefix.jsonl"
lines=$(wc -l < "$work/prefix.jsonl")
head -n "$lines" "$work/a.jsonl" | cmp -s - "$work/prefix.jsonl" || fail "the first 1000 sessions depend on --sessions"

# The committed sample is what the documented command produces (docs/pipeline.md).
"$program" simulate --corpus "$corpus" --sessions 2000 --seed 7 --more-requests 0.2 --gold compact \
    --output "$work/sample.jsonl"
cmp -s "$work/sample.jsonl" "$examples/data/sessions.jsonl" ||
    fail "examples/data/sessions.jsonl differs from the output of its documented command"
size=$(wc -c < "$examples/data/sessions.jsonl")
(( size < 1000000 )) || fail "the sample log is $size bytes, not under 1 MB"

# Well-formed log, gold consistent, and the simulation has the shape the pipeline relies on.
/usr/bin/python3 - "$work/a.jsonl" "$work/sample.jsonl" <<'PY'
import collections, json, re, sys

def strip(markup):
    """Plain text and (label, begin, end) slots of [label : value] markup."""
    text, slots, i = "", [], 0
    for m in re.finditer(r"\[([^\[\]\s]+) : ([^\[\]]+)\]", markup):
        text += markup[i:m.start()]
        begin = len(text)
        text += m.group(2)
        slots.append((m.group(1), begin, len(text)))
        i = m.end()
    text += markup[i:]
    if "[" in text or "]" in text:
        raise AssertionError(f"unparsed markup: {markup!r}")
    return text, slots

def check(path, compact):
    sessions, order, goals = collections.defaultdict(list), [], collections.Counter()
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        t = json.loads(line)
        where = f"{path}:{n}"
        assert isinstance(t["session"], str) and t["session"], where
        assert isinstance(t["time"], (int, float)), where
        assert isinstance(t["text"], str) and t["text"].strip(), where
        assert t["outcome"] in ("success", "defect"), where
        assert re.fullmatch(r"g[0-9]+", t["gold_goal"]), where
        if t["outcome"] == "success":
            assert "annotation" in t and "intent" in t, f"{where}: a success without annotation or intent"
            assert strip(t["annotation"])[0] == t["text"], f"{where}: annotation is not of the text"
        else:
            assert "annotation" not in t and "intent" not in t, f"{where}: a defect with an annotation"
        if compact and "gold_annotation" not in t:
            assert t["outcome"] == "success", f"{where}: a defect without gold_annotation"
            gold = t["annotation"]
        else:
            gold = t["gold_annotation"]
            if compact:
                assert gold != t.get("annotation"), f"{where}: compact log repeats a correct annotation"
        assert strip(gold)[0] == t["text"], f"{where}: gold_annotation is not of the text"
        t["gold"] = gold
        if not sessions[t["session"]]:
            order.append(t["session"])
        elif order[-1] != t["session"]:
            raise AssertionError(f"{where}: session {t['session']} is not contiguous")
        sessions[t["session"]].append(t)
        goals[t["gold_goal"]] += 1
    turns = sum(len(s) for s in sessions.values())
    for s in sessions.values():
        times = [t["time"] for t in s]
        assert times == sorted(times), f"times decrease in session {s[0]['session']}"
    # Zipf-like popularity: a head of goals recurs across many sessions, and a long tail exists.
    top = goals.most_common(1)[0][1]
    assert top > 0.03 * turns, f"the most popular goal has only {top} of {turns} turns"
    assert len(goals) > 0.1 * len(sessions), f"only {len(goals)} distinct goals"
    # Failures are followed by rephrases of the same goal, which succeed with the canonical annotation,
    # or by giving up; the NLU is right on most successful turns.
    defects = rephrased = recovered = wrong_nlu = successes = 0
    kinds = collections.Counter()
    for s in sessions.values():
        for i, t in enumerate(s):
            if t["outcome"] == "success":
                successes += 1
                wrong_nlu += t["annotation"] != t["gold"]
                continue
            defects += 1
            if i + 1 < len(s) and s[i + 1]["gold_goal"] == t["gold_goal"] and s[i + 1]["time"] - t["time"] <= 60:
                rephrased += 1
            later = [u for u in s[i + 1:] if u["gold_goal"] == t["gold_goal"] and u["outcome"] == "success"]
            if later:
                recovered += 1
                canonical_text, canonical_slots = strip(later[0]["gold"])
                text, slots = strip(t["gold"])
                if len(text) < len(canonical_text) and canonical_text.startswith(text):
                    kinds["truncated"] += 1
                elif [l for l, _, _ in slots] == [l for l, _, _ in canonical_slots] and \
                        [text[b:e] for _, b, e in slots] == [canonical_text[b:e] for _, b, e in canonical_slots]:
                    kinds["carrier"] += 1
                else:
                    kinds["misrecognised"] += 1
    assert 0.15 * turns < defects < 0.5 * turns, f"{defects} defects in {turns} turns"
    assert rephrased > 0.5 * defects, f"only {rephrased} of {defects} defects are rephrased"
    assert recovered < defects, "no user ever gives up"
    assert 0.005 < wrong_nlu / successes < 0.08, f"NLU wrong on {wrong_nlu} of {successes} successes"
    for k in ("truncated", "carrier", "misrecognised"):
        assert kinds[k] > 0.05 * recovered, f"few failures of kind {k}: {dict(kinds)}"
    print(f"{path}: {len(sessions)} sessions, {turns} turns, {len(goals)} goals, {defects} defects, kinds {dict(kinds)}")

check(sys.argv[1], compact=False)
check(sys.argv[2], compact=True)
PY

# Errors: a missing option is a usage error (2); a bad corpus line is named by file and line (1).
set +e
"$program" simulate --sessions 3 > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 2 ]] || fail "missing --corpus: exit $status, expected 2"
grep -q -- "--corpus" "$work/err" || fail "missing --corpus: message does not name the option"
head -n 3 "$corpus" > "$work/bad.jsonl"
echo '{"intent": "PlayMusic", "annotation": "play [artist : the weeknd"}' >> "$work/bad.jsonl"
set +e
"$program" simulate --corpus "$work/bad.jsonl" --sessions 3 > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 1 ]] || fail "bad corpus: exit $status, expected 1"
grep -q "bad.jsonl:4:" "$work/err" || fail "bad corpus: message does not name file and line: $(cat "$work/err")"
set +e
"$program" simulate --corpus "$corpus" --sessions 3 --gold partial > /dev/null 2>&1; status=$?
set -e
[[ $status -eq 2 ]] || fail "--gold partial: exit $status, expected 2"
echo "simulate: ok"
