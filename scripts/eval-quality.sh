#!/usr/bin/env bash
# Quality of `selflearn pipeline` on hard simulated logs of two corpora (SNIPS and HWU64), for any scorer.
#
#   scripts/eval-quality.sh [--program PATH] [--sessions N] [--seeds "1 2"] [--out DIR]
#                           [--simulate "SIMULATE FLAGS"] [--corpus NAME=FILE]... -- [PIPELINE FLAGS]
#
# For each corpus and seed it simulates a log (by default 20,000 sessions in which a third of the failed
# attempts are said in another carrier phrase of the intent, some of them misheard, and a third of the quick
# follow-ups after a success are other requests of the same intent), runs `selflearn pipeline` with the
# PIPELINE FLAGS (e.g. `--scorer words --threshold 0.5`) and prints one row per run and the mean per corpus:
#   slot F1    of training.jsonl against the log's gold annotations (micro, over distinct examples);
#   cov train  share of the requests that fail at least 5 times whose text is in training.jsonl;
#   cov rewr   share of those requests that have a row in rewrites.jsonl;
#   cov far    the same two shares for the frequent requests far from their goal's request that works
#              (lexical similarity below 0.4: the other-phrasing failures);
#   win/loss   rewrites whose rewrite was said for the request's goal, to those said for another goal
#              (report.json's rewrite_wins / rewrite_losses; "inf" when no loss);
#   unknown    rows of training.jsonl and rewrites.jsonl whose text (request, rewrite) no user said.
# A request is a defect turn's text after normalisation (lower case, word and punctuation tokens joined by
# single spaces); it "fails at least 5 times" when it is said in >= 5 defect turns and in more defect turns
# than successful ones. Corpora: SNIPS from $SELFLEARN_DATA_DIR (or ../shared/data/snips) train.jsonl, and
# tests/data/hwu64/hwu64.jsonl. Outputs go to DIR (default out/eval-quality); a table goes to DIR/table.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
program="$here/build/release/examples/selflearn"
sessions=20000
seeds="1 2"
out="$here/out/eval-quality"
simulate_flags="--other-phrasing 0.3333 --related-follow-up-rate 0.3"
corpora=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --program) program=$2; shift 2 ;;
        --sessions) sessions=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --simulate) simulate_flags=$2; shift 2 ;;
        --corpus) corpora+=("$2"); shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "eval-quality.sh: unknown option '$1' (pipeline flags go after --)" >&2; exit 2 ;;
    esac
done
pipeline_flags=("$@")
if [[ ${#corpora[@]} -eq 0 ]]; then
    snips="${SELFLEARN_DATA_DIR:-$here/../shared/data/snips}/train.jsonl"
    corpora=("snips=$snips" "hwu64=$here/tests/data/hwu64/hwu64.jsonl")
fi
[[ -x $program ]] || { echo "eval-quality.sh: no program at $program (use --program)" >&2; exit 2; }
mkdir -p "$out"
runs=()
for entry in "${corpora[@]}"; do
    name=${entry%%=*}
    file=${entry#*=}
    [[ -f $file ]] || { echo "eval-quality.sh: corpus $name: no file $file" >&2; exit 2; }
    for seed in $seeds; do
        dir="$out/$name-$seed"
        mkdir -p "$dir"
        # shellcheck disable=SC2086
        "$program" simulate --corpus "$file" --sessions "$sessions" --seed "$seed" $simulate_flags \
            --output "$dir/log.jsonl"
        "$program" pipeline --log "$dir/log.jsonl" --out "$dir/out" --quiet "${pipeline_flags[@]}" > /dev/null
        runs+=("$name" "$seed" "$dir")
    done
done

/usr/bin/python3 - "$out/table.md" "${pipeline_flags[*]:-(defaults)}" "$simulate_flags" "$sessions" "${runs[@]}" <<'PY'
import collections, json, re, sys

table_path, flags, simulate_flags, sessions = sys.argv[1:5]
runs = sys.argv[5:]
TOKEN = re.compile(r"\w+(?:(?:[’'&.\-_/@]|(?<=\d)[,:](?=\d))\w+)*|[^\w\s]")
SLOT = re.compile(r"\[([^\[\]\s]+) : ([^\[\]]+)\]")

def norm(text):
    return " ".join(TOKEN.findall(text.lower()))

def strip(markup):
    text, slots, i = "", [], 0
    for m in SLOT.finditer(markup):
        text += markup[i:m.start()]
        begin = len(text)
        text += m.group(2)
        slots.append((m.group(1), begin, len(text)))
        i = m.end()
    return text + markup[i:], slots

def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]

def similarity(a, b):
    longer = max(len(a), len(b))
    return 1.0 if longer == 0 else 1.0 - levenshtein(a, b) / longer

def evaluate(folder):
    defects, successes = collections.Counter(), collections.Counter()
    gold_of_text = collections.defaultdict(collections.Counter)  # raw text -> gold markups
    goals_of_failed = collections.defaultdict(collections.Counter)  # normalised failed text -> goals
    works = collections.defaultdict(collections.Counter)  # goal -> normalised successful texts
    said = set()
    for line in open(f"{folder}/log.jsonl", encoding="utf-8"):
        t = json.loads(line)
        said.add(t["text"])
        gold = t.get("gold_annotation", t.get("annotation"))
        if gold is not None:
            gold_of_text[t["text"]][gold] += 1
        n = norm(t["text"])
        if t["outcome"] == "defect":
            defects[n] += 1
            goals_of_failed[n][t.get("gold_goal")] += 1
        else:
            successes[n] += 1
            works[t.get("gold_goal")][n] += 1
    frequent = {n for n, c in defects.items() if c >= 5 and c > successes[n]}
    far = set()
    for n in frequent:
        goal = goals_of_failed[n].most_common(1)[0][0]
        if works[goal] and similarity(n, works[goal].most_common(1)[0][0]) < 0.4:
            far.add(n)
    training = [json.loads(l) for l in open(f"{folder}/out/training.jsonl", encoding="utf-8")]
    rewrites = [json.loads(l) for l in open(f"{folder}/out/rewrites.jsonl", encoding="utf-8")]
    trained = {norm(r["text"]) for r in training}
    rewritten = {norm(r["request"]) for r in rewrites}
    correct = predicted = expected = 0
    for r in training:
        golds = gold_of_text.get(r["text"])
        if not golds:
            continue
        _, p = strip(r["annotation"])
        _, e = strip(golds.most_common(1)[0][0])
        predicted += len(p)
        expected += len(e)
        correct += sum(1 for s in p if s in e)
    precision = correct / predicted if predicted else 1.0
    recall = correct / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    unknown_training = sum(1 for r in training if r["text"] not in said)
    unknown_rewrites = sum(1 for r in rewrites if r["request"] not in said or r["rewrite"] not in said)
    quality = json.load(open(f"{folder}/out/report.json", encoding="utf-8")).get("quality") or {}
    share = lambda covered, of: len(of & covered) / len(of) if of else float("nan")
    return {
        "f1": f1, "examples": len(training), "rewrites": len(rewrites),
        "frequent": len(frequent), "far": len(far),
        "cov_train": share(trained, frequent), "cov_rewr": share(rewritten, frequent),
        "far_train": share(trained, far), "far_rewr": share(rewritten, far),
        "wins": quality.get("rewrite_wins", 0), "losses": quality.get("rewrite_losses", 0),
        "unknown_training": unknown_training, "unknown_rewrites": unknown_rewrites,
    }

def ratio(w, l):
    return "inf" if l == 0 else f"{w / l:.1f}"

rows, by_corpus = [], collections.defaultdict(list)
for k in range(0, len(runs), 3):
    name, seed, folder = runs[k:k + 3]
    m = evaluate(folder)
    by_corpus[name].append(m)
    rows.append((f"{name} seed {seed}", m))
for name, ms in by_corpus.items():
    mean = {key: sum(m[key] for m in ms) / len(ms) for key in ms[0]}
    mean["wins"], mean["losses"] = sum(m["wins"] for m in ms), sum(m["losses"] for m in ms)
    rows.append((f"**{name} mean**", mean))

lines = [f"pipeline flags: `{flags}`; simulate flags: `{simulate_flags}`; {sessions} sessions per log", "",
         "| log | slot F1 | examples | cov train | cov rewr | frequent | cov far train | cov far rewr | far | "
         "win/loss (wins:losses) | unknown train/rewr |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for label, m in rows:
    lines.append(f"| {label} | {m['f1']:.3f} | {m['examples']:.0f} | {m['cov_train']:.3f} | {m['cov_rewr']:.3f} | "
                 f"{m['frequent']:.0f} | {m['far_train']:.3f} | {m['far_rewr']:.3f} | {m['far']:.0f} | "
                 f"{ratio(m['wins'], m['losses'])} ({m['wins']:.0f}:{m['losses']:.0f}) | "
                 f"{m['unknown_training']:.0f}/{m['unknown_rewrites']:.0f} |")
text = "\n".join(lines) + "\n"
open(table_path, "w", encoding="utf-8").write(text)
print(text, end="")
PY
