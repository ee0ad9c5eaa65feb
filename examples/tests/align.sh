#!/usr/bin/env bash
# Runs `selflearn align` as a user would and checks its output, exit codes and error messages.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Code points (the default unit): one output line per input line, in order.
printf '%s\n' '{"a": "kitten", "b": "sitting"}' '{"a": "", "b": ""}' '{"a": "naïve café", "b": "naive cafe"}' \
    > "$work/pairs.jsonl"
out=$("$selflearn" align "$work/pairs.jsonl")
expected='{"distance":3}
{"distance":0}
{"distance":2}'
[ "$out" = "$expected" ] || fail "char distances: $out"

# --ops: python-Levenshtein editops [kind, position in a, position in b].
out=$(printf '%s\n' '{"a": "kitten", "b": "sitting"}' | "$selflearn" align --ops)
[ "$out" = '{"distance":3,"ops":[["replace",0,0],["replace",4,4],["insert",6,6]]}' ] || fail "ops: $out"

# Code points versus bytes: "ï" and "é" are one code point but two bytes each.
out=$(printf '%s\n' '{"a": "naïve café", "b": "naive cafe"}' | "$selflearn" align --unit byte)
[ "$out" = '{"distance":4}' ] || fail "byte distance: $out"
out=$(printf '%s\n' '{"a": "a😀b", "b": "ab"}' | "$selflearn" align --ops)
[ "$out" = '{"distance":1,"ops":[["delete",1,1]]}' ] || fail "astral code point: $out"

# Words: positions are token indices; punctuation is a token of its own.
out=$(printf '%s\n' '{"a": "play the song by queen", "b": "play song by the queen, please"}' |
    "$selflearn" align --unit word --ops)
[ "$out" = '{"distance":4,"ops":[["delete",1,1],["insert",4,3],["insert",5,5],["insert",5,6]]}' ] ||
    fail "word ops: $out"
out=$(printf '%s\n' '{"a": "Play Queen", "b": "play queen"}' | "$selflearn" align --unit word --fold-case)
[ "$out" = '{"distance":0}' ] || fail "fold-case: $out"

# --max K: null beyond K, ops too.
out=$(printf '%s\n' '{"a": "kitten", "b": "sitting"}' '{"a": "abc", "b": "abd"}' | "$selflearn" align --max 2 --ops)
expected='{"distance":null,"ops":null}
{"distance":1,"ops":[["replace",2,2]]}'
[ "$out" = "$expected" ] || fail "max: $out"

# Bad lines stop the run with exit 1, naming file, line and what is wrong.
printf '%s\n' '{"a": "ok", "b": "ok"}' '{"a": "x", "b": "\u00e9\u00e9"}' '{"a": "only a"}' > "$work/bad.jsonl"
set +e
"$selflearn" align "$work/bad.jsonl" > "$work/out" 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for a missing field"
grep -q 'bad.jsonl:3: missing field "b"' "$work/err" || fail "missing field message: $(cat "$work/err")"
printf '{"a": "ab\xffc", "b": "abc"}\n' > "$work/utf8.jsonl"
set +e
"$selflearn" align "$work/utf8.jsonl" > "$work/out" 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for invalid UTF-8"
grep -q 'utf8.jsonl:1:' "$work/err" || fail "invalid UTF-8 message: $(cat "$work/err")"

# With --skip-invalid the bad line is reported and skipped.
"$selflearn" align --skip-invalid "$work/bad.jsonl" > "$work/out" 2> "$work/err"
[ "$(wc -l < "$work/out")" -eq 2 ] || fail "skip-invalid kept $(wc -l < "$work/out") lines"

# Usage errors exit 2.
set +e
printf '%s\n' '{"a": "x", "b": "y"}' | "$selflearn" align --unit letters > /dev/null 2> "$work/err"; rc=$?
[ $rc -eq 2 ] || fail "exit $rc for a bad --unit"
grep -q "must be char, word or byte" "$work/err" || fail "bad unit message: $(cat "$work/err")"
printf '%s\n' '{"a": "x", "b": "y"}' | "$selflearn" align --max -1 > /dev/null 2>&1; [ $? -eq 2 ] || fail "negative --max"
printf '%s\n' '{"a": "x", "b": "y"}' | "$selflearn" align --fold-case > /dev/null 2>&1; [ $? -eq 2 ] || fail "--fold-case without --unit word"
set -e
"$selflearn" align --help | grep -q -- "--unit UNIT" || fail "command help"
echo "align example: all checks passed"
