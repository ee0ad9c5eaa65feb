#!/usr/bin/env bash
# The session reader streams: a log sorted by time (sessions interleaved) gives the same outputs as the
# log grouped by session, byte for byte; sessions close after --session-timeout seconds without a turn
# (the session count is checked against a brute-force sessionisation); a session id seen again after
# its session closed starts a new session; a turn out of time order in its open session is a bad line.
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
program=$1
examples=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
sample="$examples/data/sessions.jsonl"

# Reorderings of the grouped sample: sorted by time (ties in file order), and nearly sorted (fixed seed).
/usr/bin/python3 - "$sample" "$work" <<'PY'
import json, random, sys
sample, work = sys.argv[1], sys.argv[2]
lines = [l for l in open(sample, encoding="utf-8") if l.strip()]
turns = [json.loads(l) for l in lines]
order = sorted(range(len(lines)), key=lambda i: (turns[i]["time"], i))
assert order != list(range(len(lines))), "the sample is already sorted by time"
open(f"{work}/by_time.jsonl", "w", encoding="utf-8").writelines(lines[i] for i in order)
# Nearly sorted, as a logging system with clock skew delivers it: sorted by time plus a random delay of
# up to 30 s, each session's own turns kept in time order.
rng = random.Random(7)
noisy = sorted(range(len(lines)), key=lambda i: (turns[i]["time"] + rng.uniform(0, 30), i))
slots = {}
for position, i in enumerate(noisy):
    slots.setdefault(turns[i]["session"], []).append(position)
out = [None] * len(lines)
for session, positions in slots.items():
    own = sorted((i for i in noisy if turns[i]["session"] == session), key=lambda i: (turns[i]["time"], i))
    for position, i in zip(positions, own):
        out[position] = i
assert out != order, "the noisy order should differ from the sorted one"
open(f"{work}/interleaved.jsonl", "w", encoding="utf-8").writelines(lines[i] for i in out)
PY

# 1. pipeline: training, rewrites and the report's counts and quality are byte-identical.
strip_time() { /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for key in ("seconds", "time", "log"):  # timings and the log path differ by nature
    r.pop(key, None)
print(json.dumps(r, sort_keys=True))' "$1"; }
for variant in grouped by_time interleaved; do
    log=$work/$variant.jsonl
    [[ $variant == grouped ]] && log=$sample
    "$program" pipeline --log "$log" --out "$work/p_$variant" --quiet > /dev/null
    strip_time "$work/p_$variant/report.json" > "$work/p_$variant/report.notime.json"
    "$program" mine "$log" --output "$work/m_$variant.jsonl"
    "$program" mine --emit-counts "$log" --output "$work/c_$variant.jsonl"
done
[[ -s $work/p_grouped/training.jsonl && -s $work/p_grouped/rewrites.jsonl ]] || fail "the sample gave no outputs"
[[ -s $work/m_grouped.jsonl ]] || fail "mine on the sample gave no rewrites"
for variant in by_time interleaved; do
    for f in training.jsonl rewrites.jsonl report.notime.json support.svg rewrite_probability.svg failure_points.svg; do
        cmp -s "$work/p_grouped/$f" "$work/p_$variant/$f" || fail "pipeline on the $variant log: $f differs"
    done
    cmp -s "$work/m_grouped.jsonl" "$work/m_$variant.jsonl" || fail "mine on the $variant log differs"
    cmp -s "$work/c_grouped.jsonl" "$work/c_$variant.jsonl" || fail "mine --emit-counts on the $variant log differs"
done

# 2. The session count in the report equals a brute-force sessionisation (per id, turns in time order,
#    cut where the gap exceeds the timeout), for several timeouts, on both orders.
for timeout in 60 300 1800 100000; do
    expected=$(/usr/bin/python3 - "$sample" "$timeout" <<'PY'
import json, sys
timeout = float(sys.argv[2])
times = {}
for l in open(sys.argv[1], encoding="utf-8"):
    if l.strip():
        t = json.loads(l)
        times.setdefault(t["session"], []).append(t["time"])
print(sum(1 + sum(1 for a, b in zip(ts, ts[1:]) if b - a > timeout) for ts in times.values()))
PY
)
    for log in "$sample" "$work/by_time.jsonl"; do
        "$program" pipeline --log "$log" --out "$work/t" --session-timeout "$timeout" --quiet > /dev/null
        got=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["sessions"])' "$work/t/report.json")
        [[ $got == "$expected" ]] || fail "--session-timeout $timeout on $(basename "$log"): $got sessions, brute force $expected"
    done
done
# The sample has gaps above 30 minutes inside a session, so the timeouts above do cut: check that they did.
n60=$("$program" pipeline --log "$sample" --out "$work/t" --session-timeout 60 --quiet > /dev/null &&
      /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["sessions"])' "$work/t/report.json")
[[ $n60 -gt 2000 ]] || fail "--session-timeout 60 should cut some of the 2000 sessions, got $n60"

# 3. A session id seen again after its session closed starts a new session: the same rephrase twice,
#    two hours apart, in session "a" is supported by two sessions; with a longer timeout, by one.
cat > "$work/again.jsonl" <<'EOF'
{"session": "a", "time": 0, "text": "play maj and dragons", "outcome": "defect"}
{"session": "b", "time": 1, "text": "what's the weather", "outcome": "success"}
{"session": "a", "time": 5, "text": "play imagine dragons", "outcome": "success"}
{"session": "a", "time": 7200, "text": "play maj and dragons", "outcome": "defect"}
{"session": "a", "time": 7204, "text": "play imagine dragons", "outcome": "success"}
EOF
# (Two sessions are too little for the default --confidence 0.95; 0 keeps the point-estimate rule.)
out=$("$program" mine --confidence 0 "$work/again.jsonl")
echo "$out" | grep -q '"request":"play maj and dragons","request_key":"play maj and dragons","rewrite":"play imagine dragons","rewrite_key":"play imagine dragons",' &&
    echo "$out" | grep -q '"success_probability":1.0,"support":2' ||
    fail "a session id seen after the timeout should be a new session: $out"
[[ -z $("$program" mine --confidence 0 --session-timeout 10000 "$work/again.jsonl") ]] ||
    fail "with --session-timeout 10000 session a is one session (support 1, below --min-support 2)"

# 4. A turn earlier than the last turn of its open session: a bad line naming file and line, skippable.
cat > "$work/order.jsonl" <<'EOF'
{"session": "a", "time": 10, "text": "play maj and dragons", "outcome": "defect"}
{"session": "b", "time": 11, "text": "what's the weather", "outcome": "success"}
{"session": "a", "time": 3, "text": "play imagine dragons", "outcome": "success"}
EOF
set +e
"$program" mine "$work/order.jsonl" > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 1 ]] || fail "turn out of order: exit $status, expected 1"
grep -qF 'order.jsonl:3: turn of session "a" at time 3 comes after a turn at time 10 (line 1)' "$work/err" ||
    fail "turn out of order: $(cat "$work/err")"
"$program" mine --skip-invalid "$work/order.jsonl" > /dev/null 2> "$work/err" || fail "--skip-invalid should skip line 3"
grep -q "skipped 1 invalid line(s) of 3" "$work/err" || fail "--skip-invalid: $(cat "$work/err")"

# 5. The timeout must be positive and at least the rephrase window (usage errors, exit 2).
for args in "mine --session-timeout 30" "mine --session-timeout 0" "mine --session-timeout -5" \
            "pipeline --log $sample --out $work/x --session-timeout 59"; do
    set +e
    # shellcheck disable=SC2086
    "$program" $args < /dev/null > /dev/null 2> "$work/err"; status=$?
    set -e
    [[ $status -eq 2 ]] || fail "$args: exit $status, expected 2"
    grep -q "session-timeout" "$work/err" || fail "$args: message does not name the option: $(cat "$work/err")"
done
echo "session_stream example: all checks passed"
