#!/usr/bin/env bash
# `selflearn pipeline` end to end on simulated logs with fixed seeds: well-formed outputs, quality against
# the gold fields above thresholds set from measurement, determinism, bad lines, options.
# Arguments: path of the selflearn program, the examples folder.
set -euo pipefail
program=$1
examples=$2
corpus="${SELFLEARN_DATA_DIR:-$examples/../../shared/data/snips}/train.jsonl"
if [[ ! -f $corpus ]]; then
    echo "FAIL: the SNIPS corpus is missing at $corpus (set SELFLEARN_DATA_DIR, see README.md)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The quick start: the committed sample. Outputs exist and are well formed; the summary names them.
"$program" pipeline --log "$examples/data/sessions.jsonl" --out "$work/sample" > "$work/summary" 2> "$work/stderr"
[[ ! -s $work/stderr ]] || fail "stderr is not a terminal, yet the pipeline wrote: $(cat "$work/stderr")"
for f in training.jsonl rewrites.jsonl report.md report.json support.svg rewrite_probability.svg; do
    [[ -s $work/sample/$f ]] || fail "missing or empty output $f"
    grep -q "$f" "$work/summary" || [[ $f == *.svg || $f == report.json ]] || fail "summary does not name $f"
done
grep -q "slot F1" "$work/summary" || fail "summary has no headline quality"

# 1b. The default paraphrase detector is learned from the log and written beside the outputs; running
#     again with that model file gives the same outputs, byte for byte. Rewrites are in the users' own
#     words: every request and rewrite is a text some turn of the log said.
[[ -s $work/sample/paraphrase_model.txt ]] || fail "no paraphrase_model.txt with the learned default"
grep -q '^kind paraphrase$' "$work/sample/paraphrase_model.txt" || fail "paraphrase_model.txt is not a paraphrase model"
"$program" pipeline --log "$examples/data/sessions.jsonl" --out "$work/again" --scorer model \
    --model "$work/sample/paraphrase_model.txt" --quiet > /dev/null
for f in training.jsonl rewrites.jsonl; do
    cmp -s "$work/sample/$f" "$work/again/$f" || fail "--scorer model with the learned model changes $f"
done
[[ ! -e $work/again/paraphrase_model.txt ]] || fail "--scorer model should not write the model again"
/usr/bin/python3 - "$examples/data/sessions.jsonl" "$work/sample/rewrites.jsonl" <<'PY' || fail "rewrites not in users' words"
import json, sys
said = {json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8") if l.strip()}
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert rows, "no rewrites"
for r in rows:
    assert r["request"] in said and r["rewrite"] in said, r
PY
# Too few annotated turns to learn from: the word scorer decides, and the report says so.
head -n 20 "$examples/data/sessions.jsonl" > "$work/tiny.jsonl"
"$program" pipeline --log "$work/tiny.jsonl" --out "$work/tiny" --quiet > /dev/null
grep -q "too few to learn a paraphrase detector" "$work/tiny/report.md" || fail "no fallback note in report.md"
grep -q "too few to learn" "$work/tiny/report.json" || fail "no fallback note in report.json"
[[ ! -e $work/tiny/paraphrase_model.txt ]] || fail "a fallback run wrote a model"

# 2. A bigger log (seed 3, 20,000 sessions): quality against gold, recomputed here from the outputs and
#    the log's gold fields, must match the report and stay above thresholds set from measurement
#    (measured: slot F1 0.990, win/loss 468 = 935 wins to 2 losses, paraphrase precision 0.993).
"$program" simulate --corpus "$corpus" --sessions 20000 --seed 3 --output "$work/run.jsonl"
"$program" pipeline --log "$work/run.jsonl" --out "$work/run" --quiet > /dev/null
# A harder log: more abandonment, every user who gives up asks at once for a related request, a noisier
# NLU (measured: slot F1 0.948, win/loss 324 = 971:3, paraphrase precision 0.861: the detector accepts more
# rephrases said in other words, and some related requests with them). The issue's floors apply: F1 >= 0.9,
# win/loss >= 8.5.
"$program" simulate --corpus "$corpus" --sessions 20000 --seed 3 --abandon-rate 0.5 --switch-rate 1 \
    --nlu-error-rate 0.1 --failure-rate 0.5 --output "$work/hard.jsonl"
"$program" pipeline --log "$work/hard.jsonl" --out "$work/hard" --quiet > /dev/null

/usr/bin/python3 - "$work" <<'PY'
import collections, json, re, sys, xml.etree.ElementTree as ET
work = sys.argv[1]

def strip(markup):
    text, slots, i = "", [], 0
    for m in re.finditer(r"\[([^\[\]\s]+) : ([^\[\]]+)\]", markup):
        text += markup[i:m.start()]
        begin = len(text)
        text += m.group(2)
        slots.append((m.group(1), begin, len(text)))
        i = m.end()
    text += markup[i:]
    assert "[" not in text and "]" not in text, f"unparsed markup: {markup!r}"
    return text, slots

def outputs(folder, min_support):
    training = [json.loads(l) for l in open(f"{folder}/training.jsonl", encoding="utf-8")]
    for t in training:
        assert set(t) == {"text", "annotation", "intent", "support"}, t
        assert isinstance(t["support"], int) and t["support"] >= min_support, t
        assert strip(t["annotation"])[0] == t["text"], f"annotation is not of the text: {t}"
    keys = [(t["text"], t["annotation"], t["intent"]) for t in training]
    assert len(set(keys)) == len(keys), "duplicate training examples"
    rewrites = [json.loads(l) for l in open(f"{folder}/rewrites.jsonl", encoding="utf-8")]
    for r in rewrites:
        assert set(r) == {"request", "rewrite", "request_key", "rewrite_key", "probability", "support",
                          "success_probability", "expected_steps", "confidence", "lower_bound",
                          "served_successes", "served_failures"}, r
        assert 0 <= r["confidence"] <= 1 and 0 <= r["lower_bound"] <= 1, r
        assert r["served_successes"] == 0 and r["served_failures"] == 0, r
        assert r["request_key"] != r["rewrite_key"], r
        assert 0.2 <= r["probability"] <= r["success_probability"] + 1e-9, r
        assert r["success_probability"] <= 1 + 1e-9, r
        assert r["support"] >= 2 and r["expected_steps"] >= 1, r
    assert len({r["request_key"] for r in rewrites}) == len(rewrites), "two rewrites for one request"
    report = json.load(open(f"{folder}/report.json"))
    assert report["counts"]["training_examples"] == len(training)
    assert report["counts"]["rewrites"] == len(rewrites)
    assert sum(report["support_histogram"].values()) == report["counts"]["distinct_examples"]
    assert sum(report["rewrite_probability_histogram"].values()) == len(rewrites)
    for svg in ("support.svg", "rewrite_probability.svg", "failure_points.svg"):
        assert ET.parse(f"{folder}/{svg}").getroot().tag.endswith("svg"), svg
    # Every friction turn gets a failure point (or undetermined), by its rephrase or by its signals.
    fp = report["failure_points"]
    assert sum(fp["stages"].values()) == report["counts"]["friction_turns"] == fp["by_rephrase"] + fp["by_signals"], fp
    assert set(fp["stages"]) == {"asr", "nlu", "resolution", "skill", "undetermined"}, fp
    assert len(fp["signal_floors"]) == 3, fp
    md = open(f"{folder}/report.md", encoding="utf-8").read()
    for heading in ("## Headline", "## What to do next", "## Stages", "## Quality against the gold fields",
                    "## Where defects come from", "## Time"):
        assert heading in md, f"report.md has no '{heading}'"
    # The report says what to do next, with the outputs' sizes, and explains win/loss in words.
    assert f"Add the {len(training)} examples of `training.jsonl` to the NLU's training data" in md, "no training step"
    assert f"Load the {len(rewrites)} rewrites of `rewrites.jsonl`" in md and "after `selflearn::normalize_utterance`" in md
    assert "keep the request's goal" in md or "win/loss is not measured" in md, "win/loss not in words"
    # Every ratio of the quality table carries its "(x of y)".
    for measure in ("paraphrase precision", "paraphrase recall", "slot precision", "slot recall", "exact examples",
                    "intent accuracy", "training coverage", "rewrite coverage"):
        m = re.search(rf"^\| {measure} \| ([0-9.]+|n/a) \|.*\((\d+) of (\d+)\) \|$", md, re.M)
        assert m, f"report.md: {measure} without (x of y)"
        if m.group(1) != "n/a":
            assert abs(float(m.group(1)) - int(m.group(2)) / int(m.group(3))) < 5e-4, m.group(0)
    # Axes: round tick values; the support histogram on a log scale with the kept threshold drawn; no
    # probability bin below the kept probability.
    min_support = report["settings"]["min_support"]
    for svg in ("support.svg", "rewrite_probability.svg", "failure_points.svg"):
        root = ET.parse(f"{folder}/{svg}").getroot()
        ticks = [int(t.text) for t in root.iter() if t.tag.endswith("text") and t.get("text-anchor") == "end"]
        assert len(ticks) >= 2, (svg, ticks)
        round_number = lambda v: int(str(v)[0]) in (1, 2, 5) and set(str(v)[1:]) <= {"0"}
        if svg == "support.svg":
            assert ticks == [10 ** i for i in range(len(ticks))], f"support.svg: not a log axis: {ticks}"
            lines = [t for t in root.iter() if t.tag.endswith("line") and t.get("class") == "threshold"]
            labels = [t.text for t in root.iter() if t.tag.endswith("text") and t.text == f"kept: support >= {min_support}"]
            assert len(lines) == 1 and len(labels) == 1, "support.svg: no kept threshold drawn"
        else:
            steps = {b - a for a, b in zip(ticks, ticks[1:])}
            assert ticks[0] == 0 and len(steps) == 1 and round_number(steps.pop()), f"{svg}: ticks not round {ticks}"
    lowest = int(report["settings"]["rewrite_min_probability"] * 10 + 1e-9) / 10
    for label in report["rewrite_probability_histogram"]:
        assert float(label.split("-")[0]) >= lowest - 1e-9, f"impossible probability bin {label}"
    return training, rewrites, report

def slot_f1(log, training):
    """Slot F1 of the training examples against the gold annotations of the same texts in the log."""
    gold = {}
    for line in open(log, encoding="utf-8"):
        t = json.loads(line)
        g = t.get("gold_annotation", t.get("annotation"))
        gold.setdefault(t["text"], g)
    correct = predicted = expected = 0
    for t in training:
        text, slots = strip(t["annotation"])
        gtext, gslots = strip(gold[t["text"]])
        assert gtext == text
        predicted += len(slots)
        expected += len(gslots)
        correct += len(set(slots) & set(gslots))
    return 2 * correct / (predicted + expected)

def check(name, f1_floor, win_loss_floor, precision_floor):
    training, rewrites, report = outputs(f"{work}/{name}", 2)
    q = report["quality"]
    f1 = slot_f1(f"{work}/{name}.jsonl", training)
    assert abs(f1 - q["slot_f1"]) < 1e-9, f"{name}: slot F1 recomputed {f1}, report says {q['slot_f1']}"
    wins, losses = q["rewrite_wins"], q["rewrite_losses"]
    assert wins + losses + q["rewrite_unknown"] == len(rewrites)
    ratio = wins / losses if losses else float("inf")
    print(f"{name}: {len(training)} training examples, slot F1 {f1:.3f}; {len(rewrites)} rewrites, "
          f"win/loss {wins}:{losses}; paraphrase precision {q['paraphrase_precision']:.3f}")
    assert len(training) > 300 and len(rewrites) > 300, f"{name}: too little output"
    assert f1 >= f1_floor, f"{name}: slot F1 {f1:.3f} < {f1_floor}"
    assert ratio >= win_loss_floor, f"{name}: win/loss {ratio:.1f} < {win_loss_floor}"
    assert q["paraphrase_precision"] >= precision_floor, f"{name}: paraphrase precision {q['paraphrase_precision']}"
    assert q["intent_accuracy"] == 1.0, f"{name}: intent accuracy {q['intent_accuracy']}"

check("run", 0.97, 100.0, 0.97)
check("hard", 0.93, 8.5, 0.80)
outputs(f"{work}/sample", 2)
PY

# 3. Deterministic: the same log gives the same outputs.
"$program" pipeline --log "$work/run.jsonl" --out "$work/again" --quiet > /dev/null
for f in training.jsonl rewrites.jsonl; do
    cmp -s "$work/run/$f" "$work/again/$f" || fail "two runs gave different $f"
done

# 3b. The rewrite stage is the library's rewrite miner: with the miner's own scorer, rewrites.jsonl is
#     byte for byte what `selflearn mine` writes for the same log.
"$program" pipeline --log "$work/run.jsonl" --out "$work/chars" --scorer chars --quiet > /dev/null
"$program" mine --scorer chars --confidence 0 "$work/run.jsonl" --output "$work/mined.jsonl"
[[ -s $work/mined.jsonl ]] || fail "selflearn mine wrote nothing"
cmp -s "$work/chars/rewrites.jsonl" "$work/mined.jsonl" || fail "pipeline --scorer chars differs from selflearn mine"

# 4. Options change what they should: a higher support threshold keeps a subset.
"$program" pipeline --log "$work/run.jsonl" --out "$work/k5" --min-support 5 --rewrite-min-support 5 --quiet > /dev/null
/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
load = lambda p: [json.loads(l) for l in open(p, encoding="utf-8")]
all2, all5 = load(f"{work}/run/training.jsonl"), load(f"{work}/k5/training.jsonl")
assert all5 == [t for t in all2 if t["support"] >= 5], "--min-support 5 is not the subset with support >= 5"
assert all(r["support"] >= 5 for r in load(f"{work}/k5/rewrites.jsonl"))
PY

# 5. Bad lines: an error naming file and line (exit 1), or skipped with --skip-invalid.
head -n 100 "$work/run.jsonl" > "$work/bad.jsonl"
echo '{"session": "s1", "time": "noon", "text": "hi", "outcome": "success"}' >> "$work/bad.jsonl"
sed -n '101,200p' "$work/run.jsonl" >> "$work/bad.jsonl"
set +e
"$program" pipeline --log "$work/bad.jsonl" --out "$work/bad" > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 1 ]] || fail "bad line: exit $status, expected 1"
grep -q "bad.jsonl:101:" "$work/err" || fail "bad line: message does not name file and line: $(cat "$work/err")"
grep -q '"time"' "$work/err" || fail "bad line: message does not name the field: $(cat "$work/err")"
"$program" pipeline --log "$work/bad.jsonl" --out "$work/bad" --skip-invalid > /dev/null 2> "$work/err" ||
    fail "--skip-invalid did not skip the bad line"
grep -q "skipped 1 invalid line" "$work/err" || fail "--skip-invalid: no count of skipped lines: $(cat "$work/err")"
# A turn earlier than the last turn of its open session is a bad line naming the line (a log sorted by
# time, or grouped by session, is fine: examples/tests/session_stream.sh).
{ head -n 50 "$work/run.jsonl"; sed -n '50p' "$work/run.jsonl" | sed -E 's/"time":[0-9.e+-]+/"time":-1/'; } > "$work/split.jsonl"
set +e
"$program" pipeline --log "$work/split.jsonl" --out "$work/split" > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 1 ]] || fail "turn out of order: exit $status, expected 1"
grep -q "split.jsonl:51: turn of session" "$work/err" || fail "turn out of order: message does not name the line: $(cat "$work/err")"

# 6. Usage errors exit 2; a log without gold fields has no quality section.
set +e
"$program" pipeline --out "$work/x" > /dev/null 2>&1; status=$?
set -e
[[ $status -eq 2 ]] || fail "missing --log: exit $status, expected 2"
set +e
"$program" pipeline --log "$work/run.jsonl" --out "$work/x" --projection nearest > /dev/null 2>&1; status=$?
set -e
[[ $status -eq 2 ]] || fail "bad --projection: exit $status, expected 2"
sed -E 's/,"gold_goal":"[^"]*"//; s/"gold_annotation":"[^"]*",//' "$examples/data/sessions.jsonl" > "$work/nogold.jsonl"
grep -q gold "$work/nogold.jsonl" && fail "could not strip the gold fields"
"$program" pipeline --log "$work/nogold.jsonl" --out "$work/nogold" --quiet > "$work/summary"
grep -q "slot F1" "$work/summary" && fail "quality printed for a log without gold fields"
/usr/bin/python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["quality"] is None' "$work/nogold/report.json"
cmp -s "$work/nogold/training.jsonl" "$work/sample/training.jsonl" || fail "gold fields changed the training output"
cmp -s "$work/nogold/rewrites.jsonl" "$work/sample/rewrites.jsonl" || fail "gold fields changed the rewrites"
echo "pipeline: ok"
