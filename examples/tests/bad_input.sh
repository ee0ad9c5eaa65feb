#!/usr/bin/env bash
# The bad-input catalogue of the program: each case exits with the documented status (1 bad input or a
# write failure, 2 usage error) and a message that names what is wrong and where (file:line).
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
program=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
examples=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS MESSAGE ARGS...: runs the program with stdin from /dev/null (unless ARGS redirect) and
# checks the exit status and that stderr contains MESSAGE (fixed string).
expect() {
    local want=$1 message=$2; shift 2
    set +e
    "$program" "$@" < /dev/null > "$work/out" 2> "$work/err"; local status=$?
    set -e
    [[ $status -eq $want ]] || fail "$*: exit $status, expected $want (stderr: $(cat "$work/err"))"
    grep -qF -- "$message" "$work/err" || fail "$*: stderr lacks '$message': $(cat "$work/err")"
    if grep -qF "[json.exception" "$work/err"; then fail "$*: raw nlohmann message: $(cat "$work/err")"; fi
}

# 1. A text of only Unicode spaces (U+00A0, U+3000) is a bad line named by file:line, with and without
#    --score-field; with --skip-invalid only that line goes and every later session is kept.
cat > "$work/nbsp.jsonl" <<'EOF'
{"session": "s1", "time": 0, "text": "play maj and dragons", "outcome": "defect", "x": 0.1}
{"session": "s1", "time": 5, "text": "play imagine dragons", "outcome": "success", "x": 0.9}
{"session": "s2", "time": 0, "text": "\u00a0\u3000", "outcome": "defect", "x": 0.9}
{"session": "s3", "time": 0, "text": "play maj and dragons", "outcome": "defect", "x": 0.1}
{"session": "s3", "time": 4, "text": "play imagine dragons", "outcome": "success", "x": 0.9}
{"session": "s4", "time": 0, "text": "play maj and dragons", "outcome": "defect", "x": 0.1}
{"session": "s4", "time": 3, "text": "play imagine dragons", "outcome": "success", "x": 0.9}
EOF
grep -v '"s2"' "$work/nbsp.jsonl" > "$work/clean.jsonl"
for args in "" "--score-field x"; do
    # shellcheck disable=SC2086
    expect 1 'nbsp.jsonl:3: field "text" is empty or only spaces' mine $args "$work/nbsp.jsonl"
    set +e
    # shellcheck disable=SC2086
    "$program" mine $args --confidence 0 --skip-invalid "$work/nbsp.jsonl" > "$work/skipped.jsonl" 2> "$work/err"; status=$?
    set -e
    [[ $status -eq 0 ]] || fail "mine $args --skip-invalid: exit $status: $(cat "$work/err")"
    grep -qF 'skipped 1 invalid line(s) of 7' "$work/err" || fail "mine $args --skip-invalid: $(cat "$work/err")"
    # shellcheck disable=SC2086
    "$program" mine $args --confidence 0 "$work/clean.jsonl" > "$work/expected.jsonl"
    [[ -s $work/expected.jsonl ]] || fail "mine $args on the clean log found no rewrite"
    cmp -s "$work/expected.jsonl" "$work/skipped.jsonl" || fail "mine $args --skip-invalid lost data"
done

# 2. JSON the reader refuses, naming file and line: a number out of double range, a repeated key.
printf '%s\n' '{"session": "a", "time": 0, "text": "hi", "outcome": "success"}' \
    '{"session": "a", "time": 1e400, "text": "hi", "outcome": "success"}' > "$work/big.jsonl"
expect 1 'big.jsonl:2: a number does not fit a double' mine "$work/big.jsonl"
printf '%s\n' '{"session": "a", "time": 0, "text": "hi", "outcome": "success"}' \
    '{"session": "a", "time": 1, "text": "hi", "outcome": "success", "time": 0}' > "$work/dup.jsonl"
expect 1 'dup.jsonl:2: key "time" appears twice in one object' mine "$work/dup.jsonl"
printf '%s\n' '{"from": "A", "to": "B", "count": 1, "extra": {"k": 1, "k": 2}}' > "$work/dup2.jsonl"
expect 1 'dup2.jsonl:1: key "k" appears twice in one object' chain "$work/dup2.jsonl"
printf '%s\n' '{"session": "a", "time": 0, "text": "hi"' > "$work/broken.jsonl"
expect 1 'broken.jsonl:1: not valid JSON (parse error' mine "$work/broken.jsonl"

# 3. chain: rows that do not sum to 1, a pair given twice and unreachable absorption name file:line;
#    --skip-invalid skips them (the state is removed with the transitions into it).
printf '%s\n' '{"from": "A", "to": "S", "p": 0.5}' '{"from": "A", "to": "F", "p": 0.4}' \
    '{"from": "B", "to": "S", "p": 1}' > "$work/rows.jsonl"
expect 1 'rows.jsonl:1,2: state "A": probabilities sum to 0.9' chain "$work/rows.jsonl"
"$program" chain --skip-invalid "$work/rows.jsonl" > "$work/out" 2> "$work/err" || fail "chain --skip-invalid rows"
[[ $(cat "$work/out") == '{"absorption":{"S":1.0},"expected_steps":1.0,"state":"B","variance":0.0}' ]] ||
    fail "chain --skip-invalid on a bad row: $(cat "$work/out")"
grep -qF "skipped $work/rows.jsonl:1,2: state \"A\"" "$work/err" || fail "chain --skip-invalid: $(cat "$work/err")"
printf '%s\n' '{"from": "A", "to": "S", "p": 0.5}' '{"from": "A", "to": "F", "p": 0.5}' \
    '{"from": "A", "to": "S", "p": 0.5}' > "$work/twice.jsonl"
expect 1 'twice.jsonl:3: the transition from "A" to "S" is given twice (first at line 1)' chain "$work/twice.jsonl"
"$program" chain --skip-invalid "$work/twice.jsonl" > "$work/out" 2> /dev/null || fail "chain --skip-invalid twice"
[[ $(cat "$work/out") == '{"absorption":{"F":0.5,"S":0.5},"expected_steps":1.0,"state":"A","variance":0.0}' ]] ||
    fail "chain --skip-invalid on a pair given twice: $(cat "$work/out")"
printf '%s\n' '{"from": "A", "to": "S", "count": 1}' '{"from": "B", "to": "C", "count": 1}' \
    '{"from": "C", "to": "B", "count": 2}' '{"from": "A", "to": "B", "count": 1}' > "$work/closed.jsonl"
expect 1 'closed.jsonl:2: state "B": cannot reach any absorbing state' chain "$work/closed.jsonl"
"$program" chain --skip-invalid "$work/closed.jsonl" > "$work/out" 2> "$work/err" || fail "chain --skip-invalid closed"
[[ $(cat "$work/out") == '{"absorption":{"S":1.0},"expected_steps":1.0,"state":"A","variance":0.0}' ]] ||
    fail "chain --skip-invalid on a closed class: $(cat "$work/out")"
grep -qF "skipped $work/closed.jsonl:3: state \"C\"" "$work/err" || fail "chain --skip-invalid closed: $(cat "$work/err")"

printf '%s\n' '{"text": "play pop", "annotation": "play [genre : pop]", "intent": "PlayMusic"}' > "$work/good.jsonl"

# 4. Exit codes: an output file in a missing folder is a write failure (exit 1, naming the path), not a
#    usage error; so is an output folder that cannot be created.
expect 1 "cannot open '$work/missing/out.jsonl' for writing" chain --output "$work/missing/out.jsonl"
expect 1 "cannot open '$work/missing/log.jsonl' for writing" \
    simulate --corpus "$work/good.jsonl" --sessions 1 --output "$work/missing/log.jsonl"
touch "$work/a_file"
expect 1 "$work/a_file/out" pipeline --log "$examples/data/sessions.jsonl" --out "$work/a_file/out" --quiet

# 5. Options: extra FILEs for commands that take their files as options, "-x" is an unknown option
#    (not a file), simulate accepts --skip-invalid for its corpus.
expect 2 "unexpected argument 'extra.jsonl'" pipeline --log "$examples/data/sessions.jsonl" --out "$work/p" extra.jsonl
expect 2 "unexpected argument 'extra.jsonl'" simulate --corpus "$work/good.jsonl" --sessions 1 extra.jsonl
expect 2 "unknown option '-x'" spans -x
expect 2 "unknown option '-k'" mine -k 3
printf '%s\n' '{"text": "play pop", "annotation": "play [genre : pop]", "intent": "PlayMusic"}' \
    '{"text": "nothing", "intent": "PlayMusic"}' > "$work/corpus.jsonl"
expect 1 'corpus.jsonl:2: missing field "annotation"' simulate --corpus "$work/corpus.jsonl" --sessions 1
"$program" simulate --corpus "$work/corpus.jsonl" --sessions 3 --skip-invalid > "$work/out" 2> "$work/err" ||
    fail "simulate --skip-invalid: $(cat "$work/err")"
[[ -s $work/out ]] || fail "simulate --skip-invalid wrote nothing"
grep -qF 'skipped 1 invalid line(s) of 2' "$work/err" || fail "simulate --skip-invalid: $(cat "$work/err")"
# A file whose name starts with "-" is still readable after "--".
printf '%s\n' '{"from": "A", "to": "S", "count": 1}' > "$work/-x"
(cd "$work" && "$program" chain -- -x > out2) || fail "chain -- -x should read the file -x"
[[ -s $work/out2 ]] || fail "chain -- -x wrote nothing"

# 6. pipeline --scorer log on a log without rephrase_score fails clearly instead of finding nothing.
expect 1 'no turn of the log has one' pipeline --log "$examples/data/sessions.jsonl" --out "$work/p" --scorer log --quiet

# 7. Exit status 3 (internal error) is documented with the others.
grep -q "3.*internal error" "$examples/../docs/cli.md" || fail "docs/cli.md does not document exit status 3"
"$program" --help | grep -q "3 internal error" || fail "selflearn --help does not name exit status 3"
echo "bad_input example: all checks passed"

# 8. Stage signals: an unknown resolution value and a confidence outside [0, 1] name file:line.
printf '%s\n' '{"session": "a", "time": 0, "text": "call bob", "outcome": "success"}' \
    '{"session": "a", "time": 1, "text": "call bob", "outcome": "defect", "resolution": "maybe"}' > "$work/res.jsonl"
expect 1 'res.jsonl:2: field "resolution" must be "resolved", "unresolved" or "ambiguous", got "maybe"' mine "$work/res.jsonl"
printf '%s\n' '{"session": "a", "time": 0, "text": "call bob", "outcome": "defect", "confidence": 1.5}' > "$work/conf.jsonl"
expect 1 'conf.jsonl:1: field "confidence" must be in [0, 1], got 1.5' mine "$work/conf.jsonl"
printf '%s\n' '{"session": "a", "time": 0, "text": "call bob", "outcome": "defect", "asr_confidence": -0.1}' > "$work/asr.jsonl"
expect 1 'asr.jsonl:1: field "asr_confidence" must be in [0, 1], got -0.1' mine "$work/asr.jsonl"
