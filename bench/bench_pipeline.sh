#!/usr/bin/env bash
# End-to-end throughput of `selflearn pipeline` on a simulated log: turns per second and per minute
# (wall clock and CPU), the stage breakdown from report.json, and peak memory (GNU time's maximum
# resident set size). Two references in the same run: reading the log with `wc -l` (the I/O floor) and
# parsing it with Python's json module (what a scripted pipeline would spend before doing any work).
#
# usage: bench/bench_pipeline.sh PROGRAM [SESSIONS] [CORPUS]
#   PROGRAM   the selflearn program (e.g. build/release/examples/selflearn)
#   SESSIONS  simulated sessions (default 1000000)
#   CORPUS    annotated corpus (default: ../shared/data/snips/train.jsonl next to the checkout)
# Needs GNU time (Debian package `time`) and python3.
set -euo pipefail
program=$1
sessions=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
corpus=${3:-$here/../../shared/data/snips/train.jsonl}
[[ -x /usr/bin/time ]] || { echo "bench_pipeline: needs GNU time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "simulating $sessions sessions (seed 1)..."
/usr/bin/time -f "%e %U %S %M" -o "$work/sim.time" \
    "$program" simulate --corpus "$corpus" --sessions "$sessions" --seed 1 --output "$work/log.jsonl"
turns=$(wc -l < "$work/log.jsonl")
bytes=$(wc -c < "$work/log.jsonl")

/usr/bin/time -f "%e %U %S %M" -o "$work/wc.time" wc -l "$work/log.jsonl" > /dev/null
/usr/bin/time -f "%e %U %S %M" -o "$work/py.time" /usr/bin/python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    json.loads(line)
    n += 1
' "$work/log.jsonl"
/usr/bin/time -f "%e %U %S %M" -o "$work/pipeline.time" \
    "$program" pipeline --log "$work/log.jsonl" --out "$work/out" --quiet > "$work/summary"

/usr/bin/python3 - "$work" "$turns" "$bytes" "$sessions" "$(nproc)" <<'PY'
import json, sys
work, turns, size, sessions, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def timing(name):
    wall, user, system, rss = open(f"{work}/{name}.time").read().split()
    return float(wall), float(user) + float(system), int(rss)
report = json.load(open(f"{work}/out/report.json"))
wall, cpu, rss = timing("pipeline")
print(f"\nlog: {sessions} sessions, {turns} turns, {size / 1e6:.0f} MB; machine: {cores} cores")
print(f"\n| run | wall s | cpu s | turns/s (wall) | turns/min (wall) | turns/min (cpu) | peak RSS MB |")
print(f"|---|---:|---:|---:|---:|---:|---:|")
for name, label in (("pipeline", "selflearn pipeline (end to end)"), ("py", "reference: python3 json.loads of each line"),
                    ("wc", "reference: wc -l (I/O floor)"), ("sim", "selflearn simulate (making the log)")):
    w, c, r = timing(name)
    print(f"| {label} | {w:.1f} | {c:.1f} | {turns / w:,.0f} | {60 * turns / w:,.0f} | {60 * turns / c:,.0f} | {r / 1024:.0f} |")
py_wall, py_cpu, _ = timing("py")
print(f"\nratio: the whole pipeline takes {cpu / py_cpu:.2f}x the CPU time Python needs only to parse the log.")
print("\nstage breakdown (seconds, wall clock, from report.json):\n")
for stage, seconds in report["seconds"].items():
    print(f"  {stage:28} {seconds:8.2f}")
q = report["quality"]
print(f"\noutputs: {report['counts']['training_examples']} training examples, {report['counts']['rewrites']} rewrites; "
      f"slot F1 {q['slot_f1']:.3f}, rewrite win/loss {q['rewrite_wins']}:{q['rewrite_losses']}")
print(f"aim >= 1,000,000 turns/min: {'met' if 60 * turns / wall >= 1e6 else 'NOT met'} on wall clock "
      f"({60 * turns / wall:,.0f}/min)")
PY
