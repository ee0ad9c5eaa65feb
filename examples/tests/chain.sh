#!/usr/bin/env bash
# Runs `selflearn chain` as a user would: the drunkard's walk of Grinstead and Snell (answers from the
# book), counts and probabilities, --fundamental, exit codes and error messages.
# Args: program path, examples folder.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The drunkard's walk: corners 0 and 4 absorb; N = [[1.5,1,.5],[1,2,1],[.5,1,1.5]], t = [3,4,3],
# B = [[.75,.25],[.5,.5],[.25,.75]], variance (2N - I)t - t*t = [8,8,8].
cat > "$work/walk.jsonl" <<'EOF'
{"from": "1", "to": "0", "p": 0.5}
{"from": "1", "to": "2", "p": 0.5}
{"from": "2", "to": "1", "p": 0.5}
{"from": "2", "to": "3", "p": 0.5}
{"from": "3", "to": "2", "p": 0.5}
{"from": "3", "to": "4", "p": 0.5}
EOF
"$selflearn" chain --fundamental "$work/walk.jsonl" > "$work/walk.out"
python3 - "$work/walk.out" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
expected = [
    ("1", {"1": 1.5, "2": 1.0, "3": 0.5}, {"0": 0.75, "4": 0.25}, 3.0),
    ("2", {"1": 1.0, "2": 2.0, "3": 1.0}, {"0": 0.5, "4": 0.5}, 4.0),
    ("3", {"1": 0.5, "2": 1.0, "3": 1.5}, {"0": 0.25, "4": 0.75}, 3.0),
]
assert len(rows) == 3, rows
for row, (state, n, b, t) in zip(rows, expected):
    assert sorted(row) == ["N", "absorption", "expected_steps", "state", "variance"], row
    assert row["state"] == state, row
    assert row["N"].keys() == n.keys() and all(abs(row["N"][k] - v) < 1e-12 for k, v in n.items()), row
    assert row["absorption"].keys() == b.keys(), row
    assert all(abs(row["absorption"][k] - v) < 1e-12 for k, v in b.items()), row
    assert abs(row["expected_steps"] - t) < 1e-12 and abs(row["variance"] - 8.0) < 1e-10, row
EOF

# Counts: A goes to B twice and fails once; B succeeds 3 times out of 4 (and once retries A).
# From B: x = 3/4 + 1/4 * (2/3 x) so x = 9/10; from A: 2/3 * 9/10 = 0.6.
cat > "$work/counts.jsonl" <<'EOF'
{"from": "A", "to": "B", "count": 2}
{"from": "A", "to": "F", "count": 1}
{"from": "B", "to": "S", "count": 3}
{"from": "B", "to": "A", "count": 1}
EOF
"$selflearn" chain "$work/counts.jsonl" --output "$work/out.jsonl"
python3 - "$work/out.jsonl" <<'EOF'
import json, sys
rows = {r["state"]: r for r in map(json.loads, open(sys.argv[1]))}
assert list(rows) == ["A", "B"], rows
assert abs(rows["A"]["absorption"]["S"] - 0.6) < 1e-12 and abs(rows["A"]["absorption"]["F"] - 0.4) < 1e-12, rows
assert abs(rows["B"]["absorption"]["S"] - 0.9) < 1e-12, rows
# t_A = 1 + 2/3 t_B, t_B = 1 + 1/4 t_A  =>  t_A = (1 + 2/3) / (1 - 1/6) = 2, t_B = 1.5
assert abs(rows["A"]["expected_steps"] - 2.0) < 1e-12 and abs(rows["B"]["expected_steps"] - 1.5) < 1e-12, rows
EOF

# Errors: exit 1 with a message naming the problem (and the line, for line-level problems).
check_error() {  # expected-message input-text
    set +e
    printf '%s\n' "$2" | "$selflearn" chain > /dev/null 2> "$work/err"; rc=$?
    set -e
    [ $rc -eq 1 ] || fail "exit status $rc for: $2"
    grep -qF -- "$1" "$work/err" || fail "message for '$2': $(cat "$work/err")"
}
check_error '<stdin>:1: "count" is -1, not a finite non-negative number' '{"from": "a", "to": "b", "count": -1}'
check_error '<stdin>:1: "p" is 1.5, outside [0, 1]' '{"from": "a", "to": "b", "p": 1.5}'
check_error '<stdin>:1: expected exactly one of "count"' '{"from": "a", "to": "b"}'
check_error '<stdin>:1: missing field "to"' '{"from": "a", "count": 1}'
check_error '<stdin>:2: all lines must give "count" or all must give "p"' '{"from": "a", "to": "b", "p": 1}
{"from": "b", "to": "c", "count": 1}'
check_error '<stdin>:1: state "a": probabilities sum to 0.5, not 1' '{"from": "a", "to": "b", "p": 0.5}'
check_error '<stdin>:1: state "x": cannot reach any absorbing state' '{"from": "x", "to": "y", "count": 1}
{"from": "y", "to": "x", "count": 1}
{"from": "z", "to": "y", "count": 1}
{"from": "z", "to": "out", "count": 1}'
set +e
"$selflearn" chain --threads -1 < /dev/null > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad --threads"
set -e
"$selflearn" chain --help | grep -q -- "--fundamental" || fail "help"
echo "chain example: all checks passed"
