#!/usr/bin/env bash
# Runs `selflearn pairs` as a user would and checks its output, determinism and error messages.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '%s\n' \
    '{"text": "play adele", "annotation": "play [artist : adele]", "intent": "PlayMusic"}' \
    '{"text": "put on some sia please", "annotation": "put on some [artist : sia] please", "intent": "PlayMusic"}' \
    '{"text": "is adele any good", "annotation": "is [artist : adele] any good", "intent": "RateBook"}' \
    > "$work/corpus.jsonl"

# Two carriers of PlayMusic{artist} and two values: 2 x 2 ordered positives, nothing more exists.
out=$("$selflearn" pairs --positives 10 --slot-negatives 0 --intent-negatives 0 "$work/corpus.jsonl" 2> "$work/err")
[ "$(echo "$out" | wc -l)" -eq 4 ] || fail "positives: $out"
grep -q 'gave 4 distinct positive pair(s) of the 10 asked for' "$work/err" || fail "shortfall note: $(cat "$work/err")"
# (nlohmann::json writes the keys in alphabetical order)
for expected in \
    '{"first":{"annotation":"play [artist : adele]","intent":"PlayMusic","text":"play adele"},"kind":"positive","paraphrase":true,"second":{"annotation":"put on some [artist : adele] please","intent":"PlayMusic","text":"put on some adele please"}}' \
    '{"first":{"annotation":"play [artist : sia]","intent":"PlayMusic","text":"play sia"},"kind":"positive","paraphrase":true,"second":{"annotation":"put on some [artist : sia] please","intent":"PlayMusic","text":"put on some sia please"}}' \
    '{"first":{"annotation":"put on some [artist : adele] please","intent":"PlayMusic","text":"put on some adele please"},"kind":"positive","paraphrase":true,"second":{"annotation":"play [artist : adele]","intent":"PlayMusic","text":"play adele"}}' \
    '{"first":{"annotation":"put on some [artist : sia] please","intent":"PlayMusic","text":"put on some sia please"},"kind":"positive","paraphrase":true,"second":{"annotation":"play [artist : sia]","intent":"PlayMusic","text":"play sia"}}'; do
    echo "$out" | grep -qxF "$expected" || fail "missing positive $expected in: $out"
done

# Intent negatives: the same value in a RateBook carrier; every line is a negative of another intent.
out=$("$selflearn" pairs --positives 0 --slot-negatives 0 --intent-negatives 3 --seed 9 "$work/corpus.jsonl")
[ "$(echo "$out" | grep -c '"kind":"intent_negative","paraphrase":false')" -eq 3 ] || fail "intent negatives: $out"
echo "$out" | grep -q '"RateBook"' || fail "intent negatives use the other intent: $out"

# Seeded and deterministic.
first=$("$selflearn" pairs --seed 5 --positives 3 "$work/corpus.jsonl" 2>/dev/null)
second=$("$selflearn" pairs --seed 5 --positives 3 "$work/corpus.jsonl" 2>/dev/null)
[ "$first" = "$second" ] || fail "same seed, different output"

# A text that does not match its annotation stops the run with exit 1, naming file and line.
printf '%s\n' '{"text": "play adele", "annotation": "play [artist : sia]", "intent": "PlayMusic"}' > "$work/bad.jsonl"
set +e
"$selflearn" pairs "$work/bad.jsonl" > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for a mismatched text"
grep -q 'bad.jsonl:1: field "text" is not the plain text of field "annotation"' "$work/err" ||
    fail "mismatch message: $(cat "$work/err")"
echo "pairs: all checks passed"
