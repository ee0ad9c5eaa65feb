#!/usr/bin/env bash
# Runs `selflearn markup` as a user would and checks its output, exit codes and error messages.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A well-formed line: text, tokens and BIO tags.
out=$(printf '%s\n' '{"annotation": "add [artist : Somi]'"'"'s song to [playlist : R&B Jams]."}' | "$selflearn" markup)
expected='{"bio":["O","B-artist","O","O","O","B-playlist","I-playlist","O"],"text":"add Somi'"'"'s song to R&B Jams.","tokens":["add","Somi","'"'"'s","song","to","R&B","Jams","."]}'
[ "$out" = "$expected" ] || fail "markup output: $out"

# --fold-case and --output FILE.
printf '%s\n' '{"annotation": "Play [artist : ÉDITH Piaf]"}' | "$selflearn" markup --fold-case --output "$work/o.jsonl"
grep -q '"tokens":\["play","édith","piaf"\]' "$work/o.jsonl" || fail "fold-case: $(cat "$work/o.jsonl")"

# A malformed line stops the run with exit 1, naming file and line; nothing is written for it.
printf '%s\n%s\n%s\n' '{"annotation": "ok [a : b]"}' '{"annotation": "bad [a : b"}' '{"annotation": "c"}' > "$work/in.jsonl"
set +e
"$selflearn" markup "$work/in.jsonl" > "$work/out" 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for a malformed line"
grep -q "in.jsonl:2: unclosed '\[' at byte 4" "$work/err" || fail "error message: $(cat "$work/err")"

# With --skip-invalid the bad line is reported and skipped, the others are kept.
"$selflearn" markup --skip-invalid "$work/in.jsonl" > "$work/out" 2> "$work/err"
[ "$(wc -l < "$work/out")" -eq 2 ] || fail "skip-invalid kept $(wc -l < "$work/out") lines"
grep -q "skipped 1 invalid line(s) of 3" "$work/err" || fail "skip report: $(cat "$work/err")"

# Not JSON, missing field, wrong type.
for bad in 'not json' '{"text": "x"}' '{"annotation": 3}' '[1]'; do
    set +e; printf '%s\n' "$bad" | "$selflearn" markup > /dev/null 2> "$work/err"; rc=$?; set -e
    [ $rc -eq 1 ] || fail "exit $rc for: $bad"
    grep -q '<stdin>:1:' "$work/err" || fail "no location for: $bad: $(cat "$work/err")"
done

# Usage errors exit 2; --help and --version exit 0.
set +e
"$selflearn" markup --no-such-option > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option"
"$selflearn" no-such-command > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command"
"$selflearn" markup --output > /dev/null 2>&1; [ $? -eq 2 ] || fail "missing option value"
"$selflearn" markup /no/such/file > /dev/null 2>&1; [ $? -eq 1 ] || fail "missing input file"
set -e
"$selflearn" --help | grep -q "markup" || fail "program help"
"$selflearn" markup --help | grep -q -- "--skip-invalid" || fail "command help"
"$selflearn" --version | grep -Eq '^selflearn [0-9]+\.[0-9]+\.[0-9]+$' || fail "version"
echo "markup example: all checks passed"
