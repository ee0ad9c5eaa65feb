#!/usr/bin/env bash
# Runs `selflearn spans` as a user would and checks its output against hand-computed answers and against
# an independent brute force in Python (every span enumerated), plus exit codes and error messages.
# Args: program path, examples folder.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The running-argmax shortcut answers [0, 0] here; the true best with L = 2 is [1, 2] = 1 + 5.
out=$(printf '%s\n' '{"start": [5, 1, 0, -4], "end": [-10, -10, 5, -4]}' | "$selflearn" spans --max-length 2)
[ "$out" = '{"spans":[[1,2,6.0]]}' ] || fail "best span: $out"

# Top 4 of log-scores (added), ties broken by smaller start then smaller end: [0,1] and [1,2] both score
# 0.5 + 0.125 = 0.25 + 0.375 = 0.625.
out=$(printf '%s\n' '{"start": [0.5, 0.25, 0.25], "end": [0.5, 0.125, 0.375]}' | "$selflearn" spans --top-k 4)
[ "$out" = '{"spans":[[0,0,1.0],[0,2,0.875],[0,1,0.625],[1,2,0.625]]}' ] || fail "top 4: $out"

# Probabilities multiply; position 0 is the null (0.5 * 0.5 = 0.25) and beats every span: no rephrase.
line='{"start": [0.5, 0.25, 0.25], "end": [0.5, 0.125, 0.375], "null": "position0"}'
out=$(printf '%s\n' "$line" | "$selflearn" spans --scores prob --top-k 5)
[ "$out" = '{"spans":[]}' ] || fail "null wins: $out"
# A threshold of -0.2 lets spans within 0.2 of the null through: [1,2] and [2,2] (0.09375 each), not [1,1].
out=$(printf '%s\n' "$line" | "$selflearn" spans --scores prob --top-k 5 --threshold -0.2)
[ "$out" = '{"spans":[[1,2,0.09375],[2,2,0.09375]]}' ] || fail "threshold: $out"
# A given null value.
out=$(printf '%s\n' '{"start": [1, 2], "end": [0, 1], "null": 3}' | "$selflearn" spans --top-k 4)
[ "$out" = '{"spans":[[1,1,3.0]]}' ] || fail "null value: $out"

# Mask and tokens: the current turn (after [SEP]) is masked out; text comes back for each span.
line='{"start": [0, 1, 3, 0, 0, 9, 0], "end": [0, 0, 0, 3, 0, 0, 9],
       "mask": [0, 1, 1, 1, 0, 0, 0],
       "tokens": ["[CLS]", "play", "maj", "dragons", "[SEP]", "imagine", "dragons"]}'
out=$(printf '%s\n' "$line" | tr -d '\n' | "$selflearn" spans --top-k 2 --non-overlapping)
[ "$out" = '{"spans":[[2,3,6.0],[1,1,1.0]],"text":["maj dragons","play"]}' ] || fail "mask and tokens: $out"
# Without the mask the current turn wins.
out=$(printf '%s\n' '{"start": [0, 1, 3, 0, 0, 9, 0], "end": [0, 0, 0, 3, 0, 0, 9]}' | "$selflearn" spans)
[ "$out" = '{"spans":[[5,6,18.0]]}' ] || fail "unmasked: $out"

# Cross-check against a brute force written here from the definition, on random lines with ties,
# masks, nulls, both score kinds and both overlap modes.
/usr/bin/env python3 - "$selflearn" "$work" <<'PY'
import json, random, subprocess, sys
program, work = sys.argv[1], sys.argv[2]
rng = random.Random(2021)

def brute(start, end, L, k, prob, mask, null, threshold, disjoint):
    n = len(start)
    first = 1 if null == "position0" else 0
    spans = []
    for i in range(first, n):
        for j in range(i, min(n, i + L)):
            if mask is not None and not (mask[i] and mask[j]):
                continue
            s = start[i] * end[j] if prob else start[i] + end[j]
            spans.append((-s, i, j))
    spans.sort()
    if null == "position0":
        null = start[0] * end[0] if prob else start[0] + end[0]
    kept = []
    for neg, i, j in spans:
        if len(kept) == k:
            break
        if disjoint and any(not (j < a or b < i) for a, b, _ in kept):
            continue
        kept.append((i, j, -neg))
    if null is not None:
        cut = [s for s in kept]
        kept = []
        for s in cut:
            if not (s[2] - null >= threshold):
                break
            kept.append(s)
    return kept

for case in range(300):
    prob = case % 2 == 1
    n = rng.randint(1, 40)
    L = rng.randint(1, 12)
    k = rng.randint(1, 25)
    disjoint = case % 3 == 0
    if prob:
        draw = (lambda: rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])) if case % 4 == 1 else rng.random
    else:
        draw = (lambda: float(rng.randint(-3, 3))) if case % 4 == 0 else (lambda: rng.gauss(0.0, 2.0))
    start = [draw() for _ in range(n)]
    end = [draw() for _ in range(n)]
    line = {"start": start, "end": end}
    mask = None
    if case % 5 == 2:
        mask = [rng.random() < 0.7 for _ in range(n)]
        line["mask"] = [1 if m else 0 for m in mask]
    null = None
    threshold = 0.0
    if case % 7 in (1, 2):
        null = "position0"
    elif case % 7 == 3:
        null = 0.4 if prob else 1.0
    if null is not None:
        line["null"] = null
        threshold = [0.0, -0.5, 0.25][case % 3]
    args = [program, "spans", "--max-length", str(L), "--top-k", str(k), "--scores", "prob" if prob else "log",
            "--threshold", repr(threshold)]
    if disjoint:
        args.append("--non-overlapping")
    got = subprocess.run(args, input=json.dumps(line) + "\n", capture_output=True, text=True, check=True).stdout
    got = [tuple(s) for s in json.loads(got)["spans"]]
    want = brute(start, end, L, k, prob, mask, null, threshold, disjoint)
    if got != want:
        sys.exit(f"case {case}: line {json.dumps(line)} args {args[2:]}\n got  {got}\n want {want}")
PY

# Bad input: exit 1 naming file, line and what is wrong.
check_error() {  # input line, options, expected message fragment
    set +e
    printf '%s\n' "$1" > "$work/bad.jsonl"
    "$selflearn" spans $2 "$work/bad.jsonl" > /dev/null 2> "$work/err"; rc=$?
    set -e
    [ $rc -eq 1 ] || fail "exit status $rc for: $1"
    grep -qF "bad.jsonl:1: $3" "$work/err" || fail "message for $1: $(cat "$work/err")"
}
check_error '{"start": [0, 1], "end": [0]}' "" 'fields "start" and "end" have 2 and 1 entries'
check_error '{"start": [0, "x"], "end": [0, 1]}' "" 'field "start" entry 1 must be a number, got string'
check_error '{"end": [0]}' "" 'missing field "start"'
check_error '{"start": [0.5, 1.5], "end": [1, 1]}' "--scores prob" \
    'selflearn::probabilities: start probability at position 1 is 1.5, outside [0, 1]'
check_error '{"start": [0, 1], "end": [0, 1], "mask": [1]}' "" 'field "mask" has 1 entries for 2 positions'
check_error '{"start": [0, 1], "end": [0, 1], "mask": [1, 2]}' "" 'field "mask" entry 1 must be 0, 1, true or false, got 2'
check_error '{"start": [0, 1], "end": [0, 1], "tokens": ["a"]}' "" 'field "tokens" has 1 entries for 2 positions'
check_error '{"start": [0, 1], "end": [0, 1], "null": "first"}' "" 'field "null" must be a number or "position0", got "first"'
check_error '{"start": [0, 1], "end": [0, 1]}' "--threshold 1" '--threshold 1 needs a "null" field to compare with'
check_error '{"start": [], "end": [], "null": "position0"}' "" 'selflearn::top_spans: null_rule::position_zero needs at least one position; got none'

# --skip-invalid keeps the good lines.
printf '%s\n' '{"start": [1], "end": [1]}' '{"start": [1], "end": []}' '{"start": [0, 2], "end": [1, 0]}' \
    > "$work/mixed.jsonl"
"$selflearn" spans --skip-invalid "$work/mixed.jsonl" > "$work/out" 2> "$work/err"
[ "$(cat "$work/out")" = $'{"spans":[[0,0,2.0]]}\n{"spans":[[1,1,2.0]]}' ] || fail "skip-invalid: $(cat "$work/out")"
grep -q "skipped 1 invalid line(s) of 3" "$work/err" || fail "skip report: $(cat "$work/err")"

# Usage errors exit 2.
for bad in "--max-length 0" "--top-k 0" "--scores logit" "--max-length x"; do
    set +e; printf '%s\n' '{"start": [1], "end": [1]}' | "$selflearn" spans $bad > /dev/null 2>&1; rc=$?; set -e
    [ $rc -eq 2 ] || fail "exit $rc for usage error: $bad"
done
"$selflearn" spans --help | grep -q -- "--max-length L" || fail "command help"
echo "spans example: all checks passed"
