#!/usr/bin/env bash
# Runs `selflearn failure-points` on a hand-made log whose defects fail at known stages and checks each
# line, the calibrated signal fallback, determinism, and bad input (file:line, --skip-invalid).
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/log.jsonl" <<'LOG'
{"session": "s1", "time": 0, "text": "play blinding light", "outcome": "defect", "intent": "PlayMusic", "annotation": "play [song : blinding light]", "confidence": 0.9, "asr_confidence": 0.55, "resolution": "unresolved"}
{"session": "s1", "time": 5, "text": "play blinding lights", "outcome": "success", "intent": "PlayMusic", "annotation": "play [song : blinding lights]", "confidence": 0.9, "asr_confidence": 0.95, "resolution": "resolved", "status": "ok"}
{"session": "s2", "time": 0, "text": "put on some jazz", "outcome": "defect", "intent": "AddToPlaylist", "confidence": 0.4, "asr_confidence": 0.9}
{"session": "s2", "time": 4, "text": "play some jazz", "outcome": "success", "intent": "PlayMusic", "confidence": 0.9, "asr_confidence": 0.9, "status": "ok"}
{"session": "s3", "time": 0, "text": "call bob", "outcome": "defect", "intent": "Call", "annotation": "call [contact : bob]", "confidence": 0.9, "asr_confidence": 0.9, "resolution": "ambiguous"}
{"session": "s3", "time": 6, "text": "call bob please", "outcome": "success", "intent": "Call", "annotation": "call [contact : bob] please", "confidence": 0.9, "asr_confidence": 0.9, "resolution": "resolved"}
{"session": "s4", "time": 0, "text": "weather in paris", "outcome": "defect", "intent": "Weather", "annotation": "weather in [city : paris]", "confidence": 0.9, "asr_confidence": 0.9, "resolution": "resolved", "status": "timeout"}
{"session": "s4", "time": 3, "text": "weather in paris", "outcome": "success", "intent": "Weather", "annotation": "weather in [city : paris]", "confidence": 0.9, "asr_confidence": 0.9, "resolution": "resolved", "status": "ok"}
{"session": "s5", "time": 0, "text": "play some mosic", "outcome": "defect", "confidence": 0.9, "asr_confidence": 0.3, "resolution": "unresolved"}
{"session": "s6", "time": 0, "text": "hmm", "outcome": "defect"}
LOG

"$selflearn" failure-points --scorer words --threshold 0.3 "$work/log.jsonl" > "$work/out" 2> "$work/err" ||
    fail "failure-points: $(cat "$work/err")"
[ "$(wc -l < "$work/out")" -eq 6 ] || fail "one line per defect: $(cat "$work/out")"
stage_of() { grep "\"session\":\"$1\"" "$work/out" | sed -E 's/.*"failure_point":("[a-z]+"|null).*/\1/'; }
method_of() { grep "\"session\":\"$1\"" "$work/out" | sed -E 's/.*"method":"([a-z]+)".*/\1/'; }
[ "$(stage_of s1)" = '"asr"' ] || fail "s1 (slot word repaired): $(cat "$work/out")"
[ "$(stage_of s2)" = '"nlu"' ] || fail "s2 (other intent): $(cat "$work/out")"
[ "$(stage_of s3)" = '"resolution"' ] || fail "s3 (ambiguous entity): $(cat "$work/out")"
[ "$(stage_of s4)" = '"skill"' ] || fail "s4 (handler timeout): $(cat "$work/out")"
for s in s1 s2 s3 s4; do [ "$(method_of $s)" = rephrase ] || fail "$s by rephrase: $(cat "$work/out")"; done
# No rephrase: the signals, with floors fitted to s1-s4 (ASR floor between 0.55 and 0.9: 0.725).
[ "$(stage_of s5)" = '"asr"' ] || fail "s5 (low asr confidence, no rephrase): $(cat "$work/out")"
[ "$(method_of s5)" = signals ] || fail "s5 by signals: $(cat "$work/out")"
grep -qF '"reason":"asr_confidence 0.3 < 0.725"' "$work/out" || fail "s5 evidence: $(cat "$work/out")"
[ "$(stage_of s6)" = 'null' ] || fail "s6 (nothing known): $(cat "$work/out")"
# Floors per downstream outcome: s2 alone has none bad, s1 and s3 an unresolved entity, s4 a handler error.
grep -qF '6 defect(s), 4 labelled by their rephrase; signal floors (asr, nlu) downstream fine 0, 1; entity not resolved 0.725, 0; handler error 0, 0' "$work/err" ||
    fail "calibration note: $(cat "$work/err")"
grep -qF '"rephrase":"play blinding lights"' "$work/out" || fail "s1 evidence names the rephrase"

# Deterministic: the same output again.
"$selflearn" failure-points --scorer words --threshold 0.3 "$work/log.jsonl" 2> /dev/null | cmp -s - "$work/out" ||
    fail "not deterministic"

# Bad input: an unknown resolution value names file:line; with --skip-invalid nothing valid is lost.
cp "$work/log.jsonl" "$work/bad.jsonl"
echo '{"session": "s7", "time": 0, "text": "call mom", "outcome": "defect", "resolution": "perhaps"}' >> "$work/bad.jsonl"
if "$selflearn" failure-points --scorer words --threshold 0.3 "$work/bad.jsonl" > /dev/null 2> "$work/err"; then
    fail "bad resolution accepted"
fi
grep -qF 'bad.jsonl:11: field "resolution" must be "resolved", "unresolved" or "ambiguous", got "perhaps"' "$work/err" ||
    fail "bad resolution message: $(cat "$work/err")"
"$selflearn" failure-points --scorer words --threshold 0.3 --skip-invalid "$work/bad.jsonl" > "$work/skipped" 2> /dev/null ||
    fail "--skip-invalid failed"
cmp -s "$work/skipped" "$work/out" || fail "--skip-invalid lost data: $(cat "$work/skipped")"
echo '{"session": "s8", "time": 0, "text": "x", "outcome": "defect", "confidence": 2}' > "$work/conf.jsonl"
if "$selflearn" failure-points --scorer words "$work/conf.jsonl" > /dev/null 2> "$work/err"; then fail "confidence 2 accepted"; fi
grep -qF 'conf.jsonl:1: field "confidence" must be in [0, 1], got 2' "$work/err" || fail "confidence message: $(cat "$work/err")"

# A floor on a simulated log (HWU64, in the repository) with failures injected at all four stages
# (--gold-failure on turns on --stage-failures): measured with this seed, 615 defects, accuracy 0.951
# (macro-F1 0.934), 420 labelled by their rephrase at 0.983, 195 by the calibrated signals at 0.882; see
# docs/failure-points.md. Every gold stage occurs.
"$selflearn" simulate --corpus "$2/../tests/data/hwu64/hwu64.jsonl" --sessions 800 --seed 3 --gold-failure on \
    > "$work/sim.jsonl" || fail "simulate"
for stage in asr nlu resolution skill; do
    grep -qF "\"gold_stage\":\"$stage\"" "$work/sim.jsonl" || fail "no simulated $stage failure"
done
"$selflearn" failure-points "$work/sim.jsonl" > "$work/sim_fp.jsonl" 2> "$work/err" || fail "failure-points: $(cat "$work/err")"
python3 "$2/../scripts/eval-failure-points.py" "$work/sim.jsonl" "$work/sim_fp.jsonl" > "$work/eval" || fail "eval"
awk '/^defects/ { if ($2 < 500 || $4 < 0.92 || $6 < 0.90) bad = 1; seen++ }
     /by rephrase:/ { if ($3 < 300 || $NF < 0.95) bad = 1; seen++ }
     /by signals:/ { if ($3 < 100 || $NF < 0.80) bad = 1; seen++ }
     END { exit (bad || seen != 3) }' "$work/eval" || fail "accuracy below the floor: $(cat "$work/eval")"
echo "ok"
