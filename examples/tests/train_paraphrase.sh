#!/usr/bin/env bash
# Runs `selflearn train-paraphrase` as a user would: the model file, the features TSV, determinism, and the
# errors for a corpus of one intent, a bad line and missing options.
set -euo pipefail
selflearn="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '%s\n' \
    '{"text": "play adele", "annotation": "play [artist : adele]", "intent": "PlayMusic"}' \
    '{"text": "put on some sia please", "annotation": "put on some [artist : sia] please", "intent": "PlayMusic"}' \
    '{"text": "i want to hear muse", "annotation": "i want to hear [artist : muse]", "intent": "PlayMusic"}' \
    '{"text": "is dune any good", "annotation": "is [book : dune] any good", "intent": "RateBook"}' \
    '{"text": "rate emma five stars", "annotation": "rate [book : emma] [rating : five] stars", "intent": "RateBook"}' \
    '{"text": "give dune four points", "annotation": "give [book : dune] [rating : four] points", "intent": "RateBook"}' \
    > "$work/corpus.jsonl"

"$selflearn" train-paraphrase --corpus "$work/corpus.jsonl" --out "$work/a.model" --features-out "$work/a.tsv" \
    --seed 3 2> "$work/err" || fail "train-paraphrase failed: $(cat "$work/err")"
grep -q '^selflearn train-paraphrase: 6 utterances, ' "$work/err" || fail "summary: $(cat "$work/err")"
[ "$(head -1 "$work/a.model")" = "selflearn-logistic-model 1" ] || fail "model header: $(head -1 "$work/a.model")"
grep -qx 'kind paraphrase' "$work/a.model" || fail "model kind: $(cat "$work/a.model")"
grep -q '^features 15 char_similarity word_similarity ' "$work/a.model" || fail "feature names: $(cat "$work/a.model")"
[ "$(tail -1 "$work/a.model")" = "end" ] || fail "model end"
head -1 "$work/a.tsv" | grep -q $'^char_similarity\tword_similarity\t.*\tcarrier_intent\tcarrier_intent_word\tlater_coverage\tlabel\tkind$' || fail "tsv header"
grep -q $'\t1\tpositive$' "$work/a.tsv" || fail "no positive row in the TSV"
grep -q $'\t0\tunrelated$' "$work/a.tsv" || fail "no unrelated row in the TSV"
grep -q $'\t0\trelated$' "$work/a.tsv" || fail "no related row in the TSV"
grep -qx 'carrier-lexicon 1 2 [0-9]*' "$work/a.model" || fail "no carrier lexicon after the logistic part"
grep -qx 'intent RateBook' "$work/a.model" || fail "lexicon intents: $(cat "$work/a.model")"

# Same seed, same file, bit for bit; another seed, another model.
"$selflearn" train-paraphrase --corpus "$work/corpus.jsonl" --out "$work/b.model" --seed 3 2> /dev/null
cmp -s "$work/a.model" "$work/b.model" || fail "same seed, different model"
"$selflearn" train-paraphrase --corpus "$work/corpus.jsonl" --out "$work/c.model" --seed 4 2> /dev/null
cmp -s "$work/a.model" "$work/c.model" && fail "another seed gave the same model"

set +e
# One intent: the library's error, exit 1.
grep PlayMusic "$work/corpus.jsonl" > "$work/one.jsonl"
"$selflearn" train-paraphrase --corpus "$work/one.jsonl" --out "$work/d.model" 2> "$work/err"
[ $? -eq 1 ] || fail "one intent: exit status"
grep -q 'it needs at least two intents' "$work/err" || fail "one intent: $(cat "$work/err")"
# A bad line names file and line.
printf '%s\n' '{"text": "play adele", "annotation": "play [artist : sia]", "intent": "PlayMusic"}' > "$work/bad.jsonl"
"$selflearn" train-paraphrase --corpus "$work/bad.jsonl" --out "$work/d.model" 2> "$work/err"
[ $? -eq 1 ] || fail "bad line: exit status"
grep -q 'bad.jsonl:1:' "$work/err" || fail "bad line: $(cat "$work/err")"
# Missing options: usage error, exit 2.
"$selflearn" train-paraphrase --out "$work/d.model" 2> "$work/err"
[ $? -eq 2 ] || fail "missing --corpus: exit status"
grep -q -- '--corpus FILE is required' "$work/err" || fail "missing --corpus: $(cat "$work/err")"
set -e
echo "train-paraphrase: ok"
