#!/usr/bin/env bash
# Runs `selflearn mine` as a user would: a hand-made log with a known answer, the map/reduce contract
# (split a log by session, --emit-counts on each part in its own process, --from-counts on all parts:
# the result equals the single run byte for byte), --score-field, exit codes and error messages.
# Args: program path, examples folder.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A hand-made log: "play maj and dragons" is rephrased into "play imagine dragons" (which works) in two
# sessions, abandoned in one, followed by an unrelated request in another. B = 2/4, t = 1 + 1/2 * 1.
cat > "$work/log.jsonl" <<'EOF'
{"session": "s1", "time": 0, "text": "play maj and dragons", "outcome": "defect"}
{"session": "s1", "time": 5, "text": "play imagine dragons", "outcome": "success"}
{"session": "s2", "time": 100, "text": "Play maj and dragons", "outcome": "defect"}
{"session": "s2", "time": 104, "text": "play Imagine Dragons", "outcome": "success"}
{"session": "s3", "time": 0, "text": "play maj and dragons", "outcome": "defect"}
{"session": "s4", "time": 0, "text": "play maj and dragons", "outcome": "defect"}
{"session": "s4", "time": 10, "text": "what's the weather", "outcome": "success"}
EOF
# Two sessions are too little evidence for the default --confidence 0.95: P(Beta(3, 1) > 1/2) = 0.875.
[ -z "$("$selflearn" mine "$work/log.jsonl")" ] || fail "--confidence 0.95 should drop the rewrite"
out=$("$selflearn" mine --confidence 0.8 "$work/log.jsonl")
# request and rewrite are what users said most often ("play maj and dragons" 3 times, "Play maj and
# dragons" once; the rewrite's two spellings once each, the tie to the smaller in byte order); the keys
# are the normalised forms. lower_bound: the 0.2 quantile of Beta(1 + 2, 1 + 4 - 2).
expected=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert abs(r.pop("confidence") - 0.875) < 1e-12, r
assert abs(r.pop("lower_bound") - 0.3265979) < 1e-6, r
assert r.pop("served_successes") == 0 and r.pop("served_failures") == 0, r
print(json.dumps(r, sort_keys=True, separators=(",", ":")))' "$out") || fail "hand-made log: $out"
[ "$expected" = '{"expected_steps":1.5,"probability":0.5,"request":"play maj and dragons","request_key":"play maj and dragons","rewrite":"play Imagine Dragons","rewrite_key":"play imagine dragons","success_probability":0.5,"support":2}' ] ||
    fail "hand-made log: $out"
expected="$out"
[ -z "$("$selflearn" mine --confidence 0 --min-support 3 "$work/log.jsonl")" ] || fail "--min-support 3 should drop the rewrite"
[ -z "$("$selflearn" mine --confidence 0 --window 3 "$work/log.jsonl")" ] || fail "--window 3 should link nothing"
[ -z "$("$selflearn" mine --confidence 0 --threshold 0.8 "$work/log.jsonl")" ] || fail "--threshold 0.8 should link nothing"

# The count lines of the hand-made log.
"$selflearn" mine --emit-counts "$work/log.jsonl" > "$work/log.counts"
grep -qxF '{"count":2.0,"from":"play maj and dragons","kind":"utterance","to":"play imagine dragons","type":"transition"}' \
    "$work/log.counts" || fail "count lines: $(cat "$work/log.counts")"
grep -qxF '{"count":2.0,"from":"play maj and dragons","kind":"failure","type":"transition"}' "$work/log.counts" ||
    fail "failure count line: $(cat "$work/log.counts")"
grep -qxF '{"request":"play maj and dragons","rewrite":"play imagine dragons","sessions":2,"type":"support"}' \
    "$work/log.counts" || fail "support line: $(cat "$work/log.counts")"
grep -qxF '{"count":1,"text":"play Imagine Dragons","type":"surface","utterance":"play imagine dragons"}' \
    "$work/log.counts" || fail "surface line: $(cat "$work/log.counts")"
[ "$("$selflearn" mine --confidence 0.8 --from-counts "$work/log.counts")" = "$expected" ] || fail "--from-counts of the whole log"
# A log without annotations gives the default learned scorer nothing to learn from: it says so on stderr
# and falls back to character similarity (the output above).
"$selflearn" mine "$work/log.jsonl" 2> "$work/note" > /dev/null
grep -q "too few to learn a paraphrase detector" "$work/note" || fail "no fallback note: $(cat "$work/note")"

# A bigger generated log: request families with misspelt and correct phrasings, rephrase chains,
# abandonment and unrelated follow-ups; 3000 sessions.
python3 - "$work/big.jsonl" <<'EOF'
import json, random, sys
rng = random.Random(7)
families = [
    ("play imagine dragons", ["play maj and dragons", "play imagine drag", "play imagine dragon"]),
    ("set an alarm for seven", ["set a alarm for seven", "set alarm for seven am", "set an alarm four seven"]),
    ("what's the weather in paris", ["what is the weather in pari", "weather in paris france", "whats the wether in paris"]),
    ("turn on the kitchen lights", ["turn on kitchen light", "turn the kitchen lights on", "turn on the kitchen lites"]),
]
with open(sys.argv[1], "w") as out:
    for s in range(3000):
        time = rng.uniform(0, 1e5)
        for _ in range(rng.randint(1, 3)):
            good, bad = rng.choice(families)
            attempt = rng.choice(bad) if rng.random() < 0.6 else good
            while True:
                ok = attempt == good and rng.random() < 0.9 or attempt != good and rng.random() < 0.1
                out.write(json.dumps({"session": f"s{s}", "time": round(time, 1), "text": attempt,
                                      "outcome": "success" if ok else "defect"}) + "\n")
                time += rng.uniform(2, 20)
                if ok or rng.random() < 0.2:
                    break
                attempt = good if rng.random() < 0.6 else rng.choice(bad)
            time += rng.uniform(5, 200)
EOF
"$selflearn" mine "$work/big.jsonl" > "$work/single.jsonl"
[ "$(wc -l < "$work/single.jsonl")" -ge 8 ] || fail "too few rewrites: $(cat "$work/single.jsonl")"
grep -q '"request":"play maj and dragons","request_key":"play maj and dragons","rewrite":"play imagine dragons"' "$work/single.jsonl" ||
    fail "expected rewrite missing: $(cat "$work/single.jsonl")"

# Map: split by session into 3 slices (each session whole, in its slice), count each in its own process.
python3 - "$work/big.jsonl" "$work/part" <<'EOF'
import json, sys, zlib
parts = [open(f"{sys.argv[2]}{i}.jsonl", "w") for i in range(3)]
for line in open(sys.argv[1]):
    parts[zlib.crc32(json.loads(line)["session"].encode()) % 3].write(line)
EOF
for i in 0 1 2; do
    [ -s "$work/part$i.jsonl" ] || fail "empty slice $i"
    "$selflearn" mine --emit-counts "$work/part$i.jsonl" --output "$work/counts$i.jsonl" &
done
wait
# Reduce: any number of count files, as separate inputs or concatenated, in any order.
"$selflearn" mine --from-counts "$work/counts0.jsonl" "$work/counts1.jsonl" "$work/counts2.jsonl" > "$work/merged.jsonl"
cmp -s "$work/single.jsonl" "$work/merged.jsonl" || fail "sharded run differs: $(diff "$work/single.jsonl" "$work/merged.jsonl" | head)"
cat "$work/counts2.jsonl" "$work/counts0.jsonl" "$work/counts1.jsonl" | "$selflearn" mine --from-counts > "$work/merged2.jsonl"
cmp -s "$work/single.jsonl" "$work/merged2.jsonl" || fail "sharded run (stdin, other order) differs"
# Counting is a sum: re-emitting the merged counts gives the whole log's counts.
cat "$work"/counts*.jsonl | "$selflearn" mine --from-counts --emit-counts > "$work/recount.jsonl"
"$selflearn" mine --emit-counts "$work/big.jsonl" > "$work/whole.counts"
cmp -s "$work/recount.jsonl" "$work/whole.counts" || fail "merged counts differ from the whole log's counts"

# --score-field: a model's score per turn pair replaces the lexical similarity.
cat > "$work/scored.jsonl" <<'EOF'
{"session": "a", "time": 0, "text": "weather tomorrow", "outcome": "defect"}
{"session": "a", "time": 4, "text": "will it rain on saturday", "outcome": "success", "rephrase_score": 0.93}
{"session": "b", "time": 0, "text": "weather tomorrow", "outcome": "defect"}
{"session": "b", "time": 4, "text": "will it rain on saturday", "outcome": "success", "rephrase_score": 0.88}
EOF
out=$("$selflearn" mine --confidence 0 --score-field rephrase_score "$work/scored.jsonl")
echo "$out" | grep -q '"probability":1.0,"request":"weather tomorrow","request_key":"weather tomorrow","rewrite":"will it rain on saturday"' ||
    fail "--score-field: $out"
[ -z "$("$selflearn" mine --confidence 0 "$work/scored.jsonl")" ] || fail "lexically these are not rephrases"

# Errors: exit 1 naming the line; usage errors exit 2.
check_error() {  # expected-message args...
    local message="$1"; shift
    set +e
    "$selflearn" mine "$@" > /dev/null 2> "$work/err"; rc=$?
    set -e
    [ $rc -eq 1 ] || fail "exit status $rc for: $*"
    grep -qF -- "$message" "$work/err" || fail "message for $*: $(cat "$work/err")"
}
printf '%s\n' '{"session": "a", "time": 0, "text": "x", "outcome": "defect"}' \
    '{"session": "b", "time": 0, "text": "y", "outcome": "defect"}' \
    '{"session": "a", "time": 9, "text": "z", "outcome": "defect"}' > "$work/split.jsonl"
# Sessions interleaved (a log sorted by time): "a" is still open at line 3, so the result is the grouped log's.
printf '%s\n' '{"session": "a", "time": 0, "text": "x", "outcome": "defect"}' \
    '{"session": "a", "time": 9, "text": "z", "outcome": "defect"}' \
    '{"session": "b", "time": 0, "text": "y", "outcome": "defect"}' > "$work/grouped.jsonl"
for args in "" "--score-field s"; do
    # shellcheck disable=SC2086
    [ "$("$selflearn" mine --emit-counts $args "$work/split.jsonl")" = "$("$selflearn" mine --emit-counts $args "$work/grouped.jsonl")" ] ||
        fail "mine --emit-counts $args: the interleaved log differs from the grouped one"
done
printf '%s\n' '{"session": "a", "time": 5, "text": "x", "outcome": "defect"}' \
    '{"session": "a", "time": 1, "text": "y", "outcome": "defect", "s": 1}' > "$work/order.jsonl"
check_error 'order.jsonl:2: turn of session "a" at time 1 comes after a turn at time 5' --score-field s "$work/order.jsonl"
printf '%s\n' '{"session": "a", "time": 0, "text": "x", "outcome": "defect"}' \
    '{"session": "a", "time": 1, "text": "y", "outcome": "defect", "s": "high"}' > "$work/badscore.jsonl"
check_error 'badscore.jsonl:2: field "s" must be number' --score-field s "$work/badscore.jsonl"
printf '%s\n' '{"type": "transition", "from": "a", "kind": "elsewhere", "count": 1}' > "$work/c1"
check_error 'c1:1: "kind" must be "utterance", "success" or "failure"' --from-counts "$work/c1"
printf '%s\n' '{"type": "transition", "from": "a", "kind": "utterance", "count": 1}' > "$work/c2"
check_error 'c2:1: missing field "to"' --from-counts "$work/c2"
printf '%s\n' '{"type": "transition", "from": "a", "kind": "failure", "count": -2}' > "$work/c3"
check_error 'c3:1: rewrite counts: transition count -2' --from-counts "$work/c3"
printf '%s\n' '{"type": "support", "request": "a", "rewrite": "b", "sessions": -1}' > "$work/c4"
check_error 'c4:1: "sessions" must be a non-negative integer' --from-counts "$work/c4"
printf '%s\n' '{"type": "nothing"}' > "$work/c5"
check_error 'c5:1: "type" must be "transition", "support", "served" or "surface"' --from-counts "$work/c5"
printf '%s\n' '{"type": "transition", "from": "a", "kind": "utterance", "to": "b", "count": 1}' \
    '{"type": "transition", "from": "b", "kind": "utterance", "to": "a", "count": 1}' \
    '{"type": "transition", "from": "c", "kind": "failure", "count": 1}' > "$work/c6"
check_error "2 utterances never reach success or failure: 'a', 'b'" --from-counts "$work/c6"
printf '%s\n' '{"type": "served", "request": "a", "rewrite": "b", "successes": 1, "failures": -1}' > "$work/c7"
check_error 'c7:1: "failures" must be a non-negative integer' --from-counts "$work/c7"
printf '%s\n' '{"session": "a", "time": 0, "text": "x", "outcome": "defect", "served_rewrite": 3}' > "$work/served_bad.jsonl"
check_error 'served_bad.jsonl:1: field "served_rewrite" must be string' "$work/served_bad.jsonl"

# Served turns (a deployed rewrite): evidence about the rule, carried through --emit-counts/--from-counts.
{ cat "$work/log.jsonl"
  for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
      printf '{"session": "r%s", "time": 0, "text": "play maj and dragons", "outcome": "success", "served_rewrite": "play Imagine Dragons"}\n' "$i"
  done; } > "$work/served.jsonl"
"$selflearn" mine --emit-counts "$work/served.jsonl" > "$work/served.counts"
grep -qxF '{"failures":0,"request":"play maj and dragons","rewrite":"play imagine dragons","successes":12,"type":"served"}' \
    "$work/served.counts" || fail "served line: $(cat "$work/served.counts")"
out=$("$selflearn" mine "$work/served.jsonl")
echo "$out" | grep -q '"rewrite_key":"play imagine dragons","served_failures":0,"served_successes":12' || fail "served rule: $out"
[ "$("$selflearn" mine --from-counts "$work/served.counts")" = "$out" ] || fail "served rule from counts"
# Count files without served lines (older ones) still read.
grep -v '"type":"served"' "$work/served.counts" | "$selflearn" mine --from-counts --confidence 0.8 > /dev/null

set +e
"$selflearn" mine --min-probability 2 < /dev/null > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad --min-probability"
"$selflearn" mine --from-counts --score-field x < /dev/null > /dev/null 2>&1; [ $? -eq 2 ] || fail "from + score"
set -e
"$selflearn" mine --help | grep -q -- "--emit-counts" || fail "help"
echo "mine example: all checks passed"
