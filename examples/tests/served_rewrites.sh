#!/usr/bin/env bash
# The self-aware loop (docs/rewrite.md): round 1 is mined into a rewrite table; round 2 is simulated with
# that table deployed (--serve-rewrites) and a quarter of its targets broken (--broken-share); mining both
# rounds' counts together must keep >= 0.95 of the working rules and retire or change >= 0.90 of the
# broken ones among the rules served in round 2 (a rule whose request did not come back has no evidence
# after deployment, and keeps its round-1 verdict), while the confidence rule keeps round 1's win/loss. Without "served_rewrite" (a served
# success read as the request succeeding by itself) the same two rounds lose most working rules.
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
program=$1
examples=$2
corpus="$examples/../../shared/data/snips/train.jsonl"
if [[ ! -f $corpus ]]; then
    echo "FAIL: the SNIPS corpus is missing at $corpus" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
sessions=${SERVED_SESSIONS:-20000}

# Round 1, mined map/reduce-style.
"$program" simulate --corpus "$corpus" --sessions "$sessions" --seed 21 --output "$work/r1.jsonl"
"$program" mine --scorer chars --emit-counts "$work/r1.jsonl" --output "$work/r1.counts"
"$program" mine --from-counts "$work/r1.counts" --output "$work/table1.jsonl"
"$program" mine --from-counts --confidence 0 "$work/r1.counts" --output "$work/table1_point.jsonl"
[ "$(wc -l < "$work/table1.jsonl")" -ge 50 ] || fail "round 1 gave too few rules: $(wc -l < "$work/table1.jsonl")"

# Round 2: the table deployed, a quarter of its targets broken.
"$program" simulate --corpus "$corpus" --sessions "$sessions" --seed 22 --serve-rewrites "$work/table1.jsonl" \
    --broken-share 0.25 --served-failure-rate 0.02 --broken-output "$work/broken.jsonl" --output "$work/r2.jsonl"
grep -q '"served_rewrite"' "$work/r2.jsonl" || fail "round 2 has no served turns"
"$program" mine --scorer chars --emit-counts "$work/r2.jsonl" --output "$work/r2.counts"
grep -q '"type":"served"' "$work/r2.counts" || fail "round 2 counted no served rules"
"$program" mine --from-counts "$work/r1.counts" "$work/r2.counts" --output "$work/table2.jsonl"
# The same two rounds read the old way: the served turns as plain turns of the request.
python3 - "$work/r2.jsonl" "$work/r2_plain.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        turn = json.loads(line)
        turn.pop("served_rewrite", None)
        out.write(json.dumps(turn) + "\n")
PY
"$program" mine --scorer chars --emit-counts "$work/r2_plain.jsonl" --output "$work/r2_plain.counts"
"$program" mine --from-counts --confidence 0 "$work/r1.counts" "$work/r2_plain.counts" --output "$work/table2_plain.jsonl"

python3 - "$work" <<'PY'
import collections, json, os, sys
work = sys.argv[1]
def rules(name):
    return {r["request_key"]: r for r in map(json.loads, open(os.path.join(work, name)))}
def ratio(w, l):
    return w / l if l else float("inf")
r1, r2, plain = rules("table1.jsonl"), rules("table2.jsonl"), rules("table2_plain.jsonl")
broken = {json.loads(line)["rewrite_key"] for line in open(os.path.join(work, "broken.jsonl"))}
served = set()
for line in open(os.path.join(work, "r2.counts")):
    c = json.loads(line)
    if c["type"] == "served":
        served.add(c["request"])
unserved = [k for k in r1 if k not in served]
working = [k for k, r in r1.items() if r["rewrite_key"] not in broken and k in served]
failing = [k for k, r in r1.items() if r["rewrite_key"] in broken and k in served]
unserved_kept = sum(k in r2 and r2[k]["rewrite_key"] == r1[k]["rewrite_key"] for k in unserved)
kept = sum(k in r2 and r2[k]["rewrite_key"] == r1[k]["rewrite_key"] for k in working)
retired = sum(k not in r2 or r2[k]["rewrite_key"] != r1[k]["rewrite_key"] for k in failing)
plain_kept = sum(k in plain and plain[k]["rewrite_key"] == r1[k]["rewrite_key"] for k in working)
plain_retired = sum(k not in plain or plain[k]["rewrite_key"] != r1[k]["rewrite_key"] for k in failing)
# Round 1's win/loss against gold: a rule wins when users said its rewrite for the request's goal.
goals = collections.defaultdict(collections.Counter)
for line in open(os.path.join(work, "r1.jsonl")):
    t = json.loads(line)
    goals[t["text"]][t["gold_goal"]] += 1
def win_loss(table):
    wins = losses = 0
    for r in table.values():
        want, said = goals.get(r["request"]), goals.get(r["rewrite"])
        if not want or not said:
            continue
        if want.most_common(1)[0][0] in said:
            wins += 1
        else:
            losses += 1
    return wins, losses
w1, l1 = win_loss(r1)
wp, lp = win_loss(rules("table1_point.jsonl"))
print(f"round 1: {len(r1)} rules at confidence 0.95 (win/loss {ratio(w1, l1):.1f}, {w1}:{l1}); "
      f"{wp + lp} judged of the point-estimate table (win/loss {ratio(wp, lp):.1f}, {wp}:{lp})")
print(f"round 2: {len(served)} rules served: {len(working)} working, {len(failing)} broken; "
      f"{len(unserved)} not served (kept {unserved_kept} of them)")
print(f"served-aware: kept {kept}/{len(working)} = {kept / len(working):.3f} working, "
      f"retired or changed {retired}/{len(failing)} = {retired / len(failing):.3f} broken")
print(f"served turns read as plain turns: kept {plain_kept}/{len(working)} working, "
      f"retired or changed {plain_retired}/{len(failing)} broken")
assert len(failing) >= 10 and len(working) >= 30, (len(failing), len(working))
assert kept >= 0.95 * len(working), (kept, len(working))
assert retired >= 0.90 * len(failing), (retired, len(failing))
assert ratio(w1, l1) >= ratio(wp, lp), ((w1, l1), (wp, lp))
PY
echo "served rewrites: all checks passed"
