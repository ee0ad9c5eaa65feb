#!/usr/bin/env bash
# Runs `selflearn project` as a user would and checks its output, exit codes and error messages.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Misrecognised slot words keep their labels; the optional intent is copied; one output line per input line.
printf '%s\n' \
    '{"source": "play [artist : the weeknd] on [service : spotify]", "target": "play the weekend on spotifi", "intent": "PlayMusic"}' \
    '{"source": "[city : new york] weather for [date : tomorrow]", "target": "tomorrow what is the weather in new york"}' \
    '{"source": "play [artist : adele]", "target": ""}' > "$work/in.jsonl"
out=$("$selflearn" project "$work/in.jsonl")
expected='{"intent":"PlayMusic","target":"play [artist : the weekend] on [service : spotifi]"}
{"target":"[date : tomorrow] what is the weather in [city : new york]"}
{"reason":"slot 0 '"'"'artist'"'"' (source tokens 1-2): no word maps onto the target","target":null}'
[ "$out" = "$expected" ] || fail "default projection: $out"

# Monotone keeps the word order, so the reordered request loses its date: rejected.
out=$(sed -n 2p "$work/in.jsonl" | "$selflearn" project --projection monotone)
echo "$out" | grep -q '"target":null' || fail "monotone should reject: $out"
echo "$out" | grep -q "slot 1 'date'" || fail "monotone reason: $out"

# Repeated words: the paper's greedy without the context term takes the first "the" and splits the slot.
line='{"source": "play [artist : the band] on the radio", "target": "on the radio play the band"}'
out=$(echo "$line" | "$selflearn" project --projection greedy)
[ "$out" = '{"target":"on the radio play [artist : the band]"}' ] || fail "greedy with context: $out"
out=$(echo "$line" | "$selflearn" project --projection greedy --context-weight 0)
echo "$out" | grep -q '"target":null' || fail "plain greedy should reject: $out"

# Split slots: rejected by default, the covering span with --on-split keep.
line='{"source": "[city : new york] weather", "target": "new weather york"}'
out=$(echo "$line" | "$selflearn" project --on-split keep)
[ "$out" = '{"target":"[city : new weather york]"}' ] || fail "on-split keep: $out"

# A word split by misrecognition at a slot edge is joined back, unless --no-join.
line='{"source": "play [artist : the weeknd] now", "target": "play the week nd now"}'
[ "$(echo "$line" | "$selflearn" project)" = '{"target":"play [artist : the week nd] now"}' ] || fail "join"
[ "$(echo "$line" | "$selflearn" project --no-join)" = '{"target":"play [artist : the week] nd now"}' ] ||
    fail "no-join"

# --details: per-slot outcome, word map (null: maps to nothing) and total cost.
out=$(echo '{"source": "play [artist : the weeknd]", "target": "play weeknd"}' | "$selflearn" project --details)
expected='{"cost":0.5,"slots":[{"cost":0.0,"kept":true,"label":"artist","mapped_words":1,"source":[1,3],"status":"partial","target":[1,2]}],"target":"play [artist : weeknd]","word_map":[0,null,1]}'
[ "$out" = "$expected" ] || fail "details: $out"

# Bad lines stop the run with exit 1, naming the line; bad options exit 2.
printf '%s\n' '{"source": "play [artist : x]", "target": "play x"}' '{"source": "play [artist : x", "target": "a"}' \
    > "$work/bad.jsonl"
set +e
"$selflearn" project "$work/bad.jsonl" > "$work/out" 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for bad markup"
grep -q "bad.jsonl:2: unclosed '\[' at byte 5 of the markup" "$work/err" || fail "markup message: $(cat "$work/err")"
set +e
echo '{"source": "a", "target": "a"}' | "$selflearn" project --projection fast > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "exit status $rc for an unknown method"
grep -q "unknown projection method 'fast'" "$work/err" || fail "method message: $(cat "$work/err")"
set +e
echo '{"source": "a"}' | "$selflearn" project > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "exit status $rc for a missing field"
grep -q 'missing field "target"' "$work/err" || fail "missing field message: $(cat "$work/err")"
echo "project: all checks passed"
