#!/usr/bin/env bash
# `selflearn pipeline --scorer log`: the paraphrase decision comes from a model's score carried in the log
# ("rephrase_score" of a turn, versus the turn before it), not from lexical similarity.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Three sessions in which a failed request is followed by a lexically distant rephrase that a model
# scored 0.9, and three in which the model scored a lexically close follow-up 0.1.
log="$work/log.jsonl"
: > "$log"
for s in 1 2 3; do
    printf '%s\n' \
        "{\"session\": \"a$s\", \"time\": 0, \"text\": \"put on that dragons band\", \"outcome\": \"defect\"}" \
        "{\"session\": \"a$s\", \"time\": 6, \"text\": \"play imagine dragons\", \"outcome\": \"success\", \"annotation\": \"play [artist : imagine dragons]\", \"intent\": \"PlayMusic\", \"rephrase_score\": 0.9}" >> "$log"
done
for s in 1 2 3; do
    printf '%s\n' \
        "{\"session\": \"b$s\", \"time\": 0, \"text\": \"play jazz musik\", \"outcome\": \"defect\"}" \
        "{\"session\": \"b$s\", \"time\": 6, \"text\": \"play jazz music\", \"outcome\": \"success\", \"annotation\": \"play [genre : jazz] music\", \"intent\": \"PlayMusic\", \"rephrase_score\": 0.1}" >> "$log"
done

"$selflearn" pipeline --quiet --log "$log" --out "$work/log" --scorer log > /dev/null
grep -q '"request":"put on that dragons band"' "$work/log/rewrites.jsonl" || fail "the model-scored rephrase gave no rewrite"
grep -q '"rewrite":"play imagine dragons"' "$work/log/rewrites.jsonl" || fail "wrong rewrite: $(cat "$work/log/rewrites.jsonl")"
grep -q 'jazz' "$work/log/rewrites.jsonl" && fail "a pair the model scored 0.1 became a rewrite"

# The default lexical scorer decides the other way round on the same log.
"$selflearn" pipeline --quiet --log "$log" --out "$work/lex" > /dev/null
grep -q '"request":"play jazz musik"' "$work/lex/rewrites.jsonl" || fail "lexical scorer missed the close pair"
grep -q 'dragons band' "$work/lex/rewrites.jsonl" && fail "lexical scorer took the distant pair"

# A score outside [0, 1] is an error naming file and line.
printf '%s\n' '{"session": "x", "time": 0, "text": "hi", "outcome": "success", "rephrase_score": 1.5}' > "$work/bad.jsonl"
set +e
"$selflearn" pipeline --quiet --log "$work/bad.jsonl" --out "$work/bad" --scorer log > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit $rc for a bad rephrase_score"
grep -q 'bad.jsonl:1: field "rephrase_score" must be in \[0, 1\], got 1.5' "$work/err" || fail "message: $(cat "$work/err")"
echo "pipeline --scorer log: all checks passed"
