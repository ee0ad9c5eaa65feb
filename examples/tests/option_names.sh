#!/usr/bin/env bash
# One name per idea across subcommands (docs/cli.md, "Option names"): the new names work silently; the old
# spellings still work for one release, give the same output and print one deprecation line on stderr.
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
selflearn=$1
examples=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# project --method is now --projection.
line='{"source": "play [artist : the band] on the radio", "target": "on the radio play the band"}'
new=$(echo "$line" | "$selflearn" project --projection greedy 2> "$work/err")
[[ ! -s $work/err ]] || fail "project --projection wrote on stderr: $(cat "$work/err")"
[[ $new == '{"target":"on the radio play [artist : the band]"}' ]] || fail "project --projection greedy: $new"
old=$(echo "$line" | "$selflearn" project --method greedy 2> "$work/err")
[[ $old == "$new" ]] || fail "project --method differs from --projection: $old"
[[ $(wc -l < "$work/err") -eq 1 ]] || fail "not one deprecation line: $(cat "$work/err")"
grep -q "option '--method' is deprecated .*use '--projection'" "$work/err" || fail "deprecation note: $(cat "$work/err")"
old=$(echo "$line" | "$selflearn" project --method=greedy 2> /dev/null)
[[ $old == "$new" ]] || fail "project --method=greedy differs: $old"
"$selflearn" project --help | grep -q -- "--projection M .*(formerly --method, deprecated)" || fail "project --help"

# pipeline --window-seconds is now --window, as in mine and failure-points.
head -n 400 "$examples/data/sessions.jsonl" > "$work/log.jsonl"
"$selflearn" pipeline --log "$work/log.jsonl" --out "$work/new" --window 30 --quiet > /dev/null 2> "$work/err"
[[ ! -s $work/err ]] || fail "pipeline --window wrote on stderr: $(cat "$work/err")"
"$selflearn" pipeline --log "$work/log.jsonl" --out "$work/old" --window-seconds 30 --quiet > /dev/null 2> "$work/err"
grep -q "option '--window-seconds' is deprecated .*use '--window'" "$work/err" || fail "deprecation note: $(cat "$work/err")"
for f in training.jsonl rewrites.jsonl; do
    cmp -s "$work/new/$f" "$work/old/$f" || fail "--window-seconds 30 and --window 30 give different $f"
done
/usr/bin/python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["settings"]["window_seconds"] == 30' \
    "$work/old/report.json" || fail "--window-seconds did not set the window"
"$selflearn" pipeline --help | grep -q -- "--window S .*(formerly --window-seconds, deprecated)" || fail "pipeline --help"
echo "option names: ok"
