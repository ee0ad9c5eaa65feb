#!/usr/bin/env bash
# `selflearn simulate`: determinism, the committed sample, well-formed logs with consistent gold fields,
# the shape of the simulation (recurring goals, failures for a reason, rephrases, abandonment), errors.
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

# Deterministic for a seed; another seed gives another log; session k does not depend on --sessions.
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 5 --output "$work/a.jsonl"
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 5 > "$work/b.jsonl"
cmp -s "$work/a.jsonl" "$work/b.jsonl" || fail "the same seed gave two different logs"
"$program" simulate --corpus "$corpus" --sessions 3000 --seed 6 --output "$work/c.jsonl"
cmp -s "$work/a.jsonl" "$work/c.jsonl" && fail "seeds 5 and 6 gave the same log"
"$program" simulate --corpus "$corpus" --sessions 1000 --seed 5 --output "$work/prefix.jsonl"
lines=$(wc -l < "$work/prefix.jsonl")
head -n "$lines" "$work/a.jsonl" | cmp -s - "$work/prefix.jsonl" || fail "the first 1000 sessions depend on --sessions"

# The committed sample is what the documented command produces (docs/pipeline.md).
"$program" simulate --corpus "$corpus" --sessions 2000 --seed 7 --more-requests 0.2 --gold compact \
    --other-phrasing 0.3333 --related-follow-up-rate 0.3 --output "$work/sample.jsonl"
cmp -s "$work/sample.jsonl" "$examples/data/sessions.jsonl" ||
    fail "examples/data/sessions.jsonl differs from the output of its documented command"
size=$(wc -c < "$examples/data/sessions.jsonl")
(( size < 1000000 )) || fail "the sample log is $size bytes, not under 1 MB"

# Well-formed log, gold consistent, and the simulation has the shape the pipeline relies on.
/usr/bin/python3 - "$work/a.jsonl" "$work/sample.jsonl" <<'PY'
import collections, json, re, sys

def strip(markup):
    """Plain text and (label, begin, end) slots of [label : value] markup."""
    text, slots, i = "", [], 0
    for m in re.finditer(r"\[([^\[\]\s]+) : ([^\[\]]+)\]", markup):
        text += markup[i:m.start()]
        begin = len(text)
        text += m.group(2)
        slots.append((m.group(1), begin, len(text)))
        i = m.end()
    text += markup[i:]
    if "[" in text or "]" in text:
        raise AssertionError(f"unparsed markup: {markup!r}")
    return text, slots

def check(path, compact):
    sessions, order, goals = collections.defaultdict(list), [], collections.Counter()
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        t = json.loads(line)
        where = f"{path}:{n}"
        assert isinstance(t["session"], str) and t["session"], where
        assert isinstance(t["time"], (int, float)), where
        assert isinstance(t["text"], str) and t["text"].strip(), where
        assert t["outcome"] in ("success", "defect"), where
        assert re.fullmatch(r"g[0-9]+", t["gold_goal"]), where
        if t["outcome"] == "success":
            assert "annotation" in t and "intent" in t, f"{where}: a success without annotation or intent"
            assert strip(t["annotation"])[0] == t["text"], f"{where}: annotation is not of the text"
        else:
            assert "annotation" not in t and "intent" not in t, f"{where}: a defect with an annotation"
        if compact and "gold_annotation" not in t:
            assert t["outcome"] == "success", f"{where}: a defect without gold_annotation"
            gold = t["annotation"]
        else:
            gold = t["gold_annotation"]
            if compact:
                assert gold != t.get("annotation"), f"{where}: compact log repeats a correct annotation"
        assert strip(gold)[0] == t["text"], f"{where}: gold_annotation is not of the text"
        t["gold"] = gold
        if not sessions[t["session"]]:
            order.append(t["session"])
        elif order[-1] != t["session"]:
            raise AssertionError(f"{where}: session {t['session']} is not contiguous")
        sessions[t["session"]].append(t)
        goals[t["gold_goal"]] += 1
    turns = sum(len(s) for s in sessions.values())
    for s in sessions.values():
        times = [t["time"] for t in s]
        assert times == sorted(times), f"times decrease in session {s[0]['session']}"
    # Zipf-like popularity: a head of goals recurs across many sessions, and a long tail exists.
    top = goals.most_common(1)[0][1]
    assert top > 0.03 * turns, f"the most popular goal has only {top} of {turns} turns"
    assert len(goals) > 0.1 * len(sessions), f"only {len(goals)} distinct goals"
    # Failures are followed by rephrases of the same goal, which succeed with the canonical annotation,
    # or by giving up; the NLU is right on most successful turns.
    defects = rephrased = recovered = wrong_nlu = successes = 0
    kinds = collections.Counter()
    for s in sessions.values():
        for i, t in enumerate(s):
            if t["outcome"] == "success":
                successes += 1
                wrong_nlu += t["annotation"] != t["gold"]
                continue
            defects += 1
            if i + 1 < len(s) and s[i + 1]["gold_goal"] == t["gold_goal"] and s[i + 1]["time"] - t["time"] <= 60:
                rephrased += 1
            later = [u for u in s[i + 1:] if u["gold_goal"] == t["gold_goal"] and u["outcome"] == "success"]
            if later:
                recovered += 1
                canonical_text, canonical_slots = strip(later[0]["gold"])
                text, slots = strip(t["gold"])
                if len(text) < len(canonical_text) and canonical_text.startswith(text):
                    kinds["truncated"] += 1
                elif [l for l, _, _ in slots] == [l for l, _, _ in canonical_slots] and \
                        [text[b:e] for _, b, e in slots] == [canonical_text[b:e] for _, b, e in canonical_slots]:
                    kinds["carrier"] += 1
                else:
                    kinds["misrecognised"] += 1
    assert 0.15 * turns < defects < 0.5 * turns, f"{defects} defects in {turns} turns"
    assert rephrased > 0.5 * defects, f"only {rephrased} of {defects} defects are rephrased"
    assert recovered < defects, "no user ever gives up"
    assert 0.005 < wrong_nlu / successes < 0.08, f"NLU wrong on {wrong_nlu} of {successes} successes"
    for k in ("truncated", "carrier", "misrecognised"):
        assert kinds[k] > 0.05 * recovered, f"few failures of kind {k}: {dict(kinds)}"
    print(f"{path}: {len(sessions)} sessions, {turns} turns, {len(goals)} goals, {defects} defects, kinds {dict(kinds)}")

check(sys.argv[1], compact=False)
check(sys.argv[2], compact=True)
PY

# Other-phrasing failures (--other-phrasing), related follow-ups and friction signals, on SNIPS and on the
# second corpus (HWU64). Checked here against the corpus itself, not against the simulator's own notion:
# an other-phrasing defect is the goal's slots in the carrier of ANOTHER corpus utterance of the same
# intent, its similarity to the goal's text (recomputed here with Levenshtein over the normalised texts)
# is below 0.4, and they are about a third of the defects when asked for a third. Failures at the
# resolution and skill stages are off here (--stage-failures off); failure_points.sh checks them.
hwu="$examples/../tests/data/hwu64/hwu64.jsonl"
[[ -f $hwu ]] || fail "the HWU64 corpus is missing at $hwu"
for c in "$corpus" "$hwu"; do
    tag=$(basename "$c" .jsonl)
    "$program" simulate --corpus "$c" --sessions 4000 --seed 11 --other-phrasing 0.3333 \
        --related-follow-up-rate 0.3 --gold-failure on --stage-failures off --output "$work/hard-$tag.jsonl"
    "$program" simulate --corpus "$c" --sessions 4000 --seed 11 --other-phrasing 0.3333 \
        --related-follow-up-rate 0.3 --gold-failure on --stage-failures off --output "$work/hard-again-$tag.jsonl"
    cmp -s "$work/hard-$tag.jsonl" "$work/hard-again-$tag.jsonl" || fail "$tag: --other-phrasing is not deterministic"
    "$program" simulate --corpus "$c" --sessions 4000 --seed 11 --gold-failure on --stage-failures off --output "$work/easy-$tag.jsonl"
    # Without the new options the log is the log of earlier versions plus the signals: stripping them
    # (and gold_failure) from the easy log gives the log of --signals off.
    "$program" simulate --corpus "$c" --sessions 4000 --seed 11 --signals off --output "$work/plain-$tag.jsonl"
    sed -E 's/"asr_confidence":[0-9.e-]+,"barge_in":(true|false),//; s/,"gold_failure":"[a-z_]*"//; s/,"status":"[a-z_]*"//' \
        "$work/easy-$tag.jsonl" | cmp -s - "$work/plain-$tag.jsonl" || fail "$tag: the signals changed the log itself"
    /usr/bin/python3 - "$c" "$work/hard-$tag.jsonl" "$work/easy-$tag.jsonl" <<'PY'
import collections, json, re, sys
import Levenshtein

corpus_path, hard_path, easy_path = sys.argv[1:]
SLOT = re.compile(r"\[([^\[\]\s]+) : ([^\[\]]+)\]")
TOKEN = re.compile(r"\w+(?:(?:[’'&.\-_/@]|(?<=\d)[,:](?=\d))\w+)*|[^\w\s]")

def strip(markup):
    text, slots, i = "", [], 0
    for m in SLOT.finditer(markup):
        text += markup[i:m.start()]
        slots.append((m.group(1), m.group(2)))
        text += m.group(2)
        i = m.end()
    return text + markup[i:], slots

def carrier(markup):
    return SLOT.sub(lambda m: f"[{m.group(1)}]", markup).lower()

def similarity(a, b):
    a, b = (" ".join(TOKEN.findall(x.lower())) for x in (a, b))
    return 1.0 - Levenshtein.distance(a, b) / max(len(a), len(b), 1)

corpus = [json.loads(l) for l in open(corpus_path, encoding="utf-8")]
carriers = collections.defaultdict(collections.Counter)  # intent -> carrier patterns of its utterances
for u in corpus:
    carriers[u["intent"]][carrier(u["annotation"])] += 1

def read(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]

def summary(turns, tag):
    kinds = collections.Counter(t.get("gold_failure") for t in turns if t["outcome"] == "defect")
    defects = sum(kinds.values())
    assert None not in kinds, f"{tag}: a defect without gold_failure"
    assert not any("gold_failure" in t for t in turns if t["outcome"] == "success"), f"{tag}: success with gold_failure"
    return kinds, defects

hard, easy = read(hard_path), read(easy_path)
kinds, defects = summary(hard, "hard")
other = kinds["other_phrasing"] + kinds["other_phrasing_misheard"]
share = other / defects
assert 0.26 < share < 0.42, f"other-phrasing share {share:.3f} of {defects} defects, asked for a third: {dict(kinds)}"
assert kinds["other_phrasing_misheard"] > 0.1 * other, f"few misheard other phrasings: {dict(kinds)}"
# HWU64 has few slot words to mishear (four in ten of its utterances have no slot): 2% is the floor.
for k in ("misrecognition", "carrier", "truncation"):
    assert kinds[k] > 0.02 * defects, f"few {k} failures: {dict(kinds)}"
easy_kinds, _ = summary(easy, "easy")
assert easy_kinds["other_phrasing"] + easy_kinds["other_phrasing_misheard"] == 0, "other phrasings without the option"

worst, checked, distinct = 0.0, 0, set()
for t in hard:
    if not t.get("gold_failure", "").startswith("other_phrasing"):
        continue
    goal = corpus[int(t["gold_goal"][1:]) - 1]
    text, slots = strip(t["gold_annotation"])
    assert text == t["text"], t
    canonical_text, canonical_slots = strip(goal["annotation"])
    s = similarity(t["text"], canonical_text)
    worst = max(worst, s)
    assert s < 0.4, f"other phrasing {t['text']!r} of {canonical_text!r}: similarity {s:.3f}"
    pattern = carrier(t["gold_annotation"])
    assert pattern in carriers[goal["intent"]], f"carrier of {t['gold_annotation']!r} is no {goal['intent']} utterance's"
    assert pattern != carrier(goal["annotation"]), f"{t['text']!r}: the goal's own carrier"
    labels = sorted(l for l, _ in slots)
    assert labels == sorted(l for l, _ in canonical_slots), f"{t['text']!r}: slot labels differ from the goal's"
    differing = len(collections.Counter(slots) - collections.Counter(canonical_slots))
    if t["gold_failure"] == "other_phrasing":
        assert differing == 0, f"{t['text']!r}: slot values are not the goal's {canonical_slots}"
    else:
        assert differing == 1, f"{t['text']!r}: a misheard other phrasing changes one slot value"
    checked += 1
    distinct.add(t["text"])
assert checked > 0.5 * other, "other phrasings not checked"
# They recur (two per goal at most): the pipeline sees each popular one many times.
assert len(distinct) < 0.5 * other, f"{len(distinct)} distinct other phrasings in {other}"

# Related follow-ups: after a success, another goal of the same intent within 60 s, more often than without.
intent_of = lambda t: corpus[int(t["gold_goal"][1:]) - 1]["intent"]
def related_pairs(turns):
    return [(a["gold_goal"], b["gold_goal"]) for a, b in zip(turns, turns[1:])
            if a["session"] == b["session"] and a["outcome"] == "success" and b["time"] - a["time"] <= 60 and
            b["gold_goal"] != a["gold_goal"] and intent_of(a) == intent_of(b)]
def related(turns):
    return len(related_pairs(turns)) / len(turns)
assert related(hard) > related(easy) + 0.02, f"related follow-ups: {related(hard):.3f} vs {related(easy):.3f}"
# ... and the same look-alike pair recurs across users (the goal's companion), unlike chance pairs: of the
# goals followed at least 3 times (after any turn) by another goal of their intent, the share whose most
# common follow-up is more than half of them.
def recurring(turns):
    following = collections.defaultdict(collections.Counter)
    for a, b in zip(turns, turns[1:]):
        if (a["session"] == b["session"] and b["time"] - a["time"] <= 60 and b["gold_goal"] != a["gold_goal"]
                and intent_of(a) == intent_of(b)):
            following[a["gold_goal"]][b["gold_goal"]] += 1
    often = [c for c in following.values() if sum(c.values()) >= 3]
    return sum(1 for c in often if 2 * c.most_common(1)[0][1] > sum(c.values())) / max(1, len(often))
assert recurring(hard) > recurring(easy) + 0.15, \
    f"recurring related pairs: {recurring(hard):.3f} vs {recurring(easy):.3f}"

# Friction signals: on every turn, valid, overlapping, and lower confidence for misheard requests.
confidence = collections.defaultdict(list)
status = collections.defaultdict(collections.Counter)
barge = collections.defaultdict(list)
for t in hard:
    assert isinstance(t["asr_confidence"], float) and 0 <= t["asr_confidence"] <= 1, t
    assert t["status"] in ("ok", "handler_error", "timeout"), t
    assert isinstance(t["barge_in"], bool), t
    k = "success" if t["outcome"] == "success" else \
        "misheard" if t["gold_failure"] in ("misrecognition", "other_phrasing_misheard") else "defect"
    confidence[k].append(t["asr_confidence"])
    status[k][t["status"]] += 1
    barge[k].append(t["barge_in"])
mean = {k: sum(v) / len(v) for k, v in confidence.items()}
assert mean["misheard"] + 0.1 < mean["defect"] < mean["success"], f"mean ASR confidence {mean}"
assert max(confidence["misheard"]) > min(confidence["success"]), "misheard and successful confidences do not overlap"
for k in ("success", "defect"):
    assert status[k]["ok"] > 0 and status[k]["handler_error"] > 0, f"status of {k}: {dict(status[k])}"
error = {k: 1 - status[k]["ok"] / sum(status[k].values()) for k in status}
assert error["defect"] > 5 * error["success"], f"handler errors {error}"
rate = {k: sum(v) / len(v) for k, v in barge.items()}
assert 0 < rate["success"] < rate["defect"] / 3, f"barge-in rates {rate}"
print(f"{hard_path}: {defects} defects, other phrasing {share:.3f}, max similarity {worst:.3f}, "
      f"{len(distinct)} distinct; related follow-ups {related(hard):.3f} vs {related(easy):.3f}, "
      f"recurring {recurring(hard):.3f} vs {recurring(easy):.3f}; "
      f"ASR confidence {mean}")
PY
done

# Errors: a missing option is a usage error (2); a bad corpus line is named by file and line (1).
set +e
"$program" simulate --sessions 3 > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 2 ]] || fail "missing --corpus: exit $status, expected 2"
grep -q -- "--corpus" "$work/err" || fail "missing --corpus: message does not name the option"
head -n 3 "$corpus" > "$work/bad.jsonl"
echo '{"intent": "PlayMusic", "annotation": "play [artist : the weeknd"}' >> "$work/bad.jsonl"
set +e
"$program" simulate --corpus "$work/bad.jsonl" --sessions 3 > /dev/null 2> "$work/err"; status=$?
set -e
[[ $status -eq 1 ]] || fail "bad corpus: exit $status, expected 1"
grep -q "bad.jsonl:4:" "$work/err" || fail "bad corpus: message does not name file and line: $(cat "$work/err")"
set +e
"$program" simulate --corpus "$corpus" --sessions 3 --gold partial > /dev/null 2>&1; status=$?
set -e
[[ $status -eq 2 ]] || fail "--gold partial: exit $status, expected 2"
for bad in "--other-phrasing 1.5" "--signals maybe" "--gold-failure yes" "--related-follow-up-rate -1" \
    "--companion-rate 2"; do
    set +e
    # shellcheck disable=SC2086
    "$program" simulate --corpus "$corpus" --sessions 3 $bad > /dev/null 2> "$work/err"; status=$?
    set -e
    [[ $status -eq 2 ]] || fail "$bad: exit $status, expected 2"
    grep -q -- "${bad%% *}" "$work/err" || fail "$bad: message does not name the option: $(cat "$work/err")"
done
echo "simulate: ok"
