#!/usr/bin/python3
"""Converts the annotated HWU64 corpus (NLU-Evaluation-Data, Liu et al. 2019) to the SNIPS JSON Lines format.

Usage: convert-hwu64.py TRAIN_DIR TEST_DIR OUT.jsonl

TRAIN_DIR and TEST_DIR are the `trainset` and `testset/csv` folders of one fold of the repository's
10-fold cross-validation (CrossValidation/autoGeneFromRealAnno/.../KFold_1): together they hold every
annotated utterance of that evaluation sample, one semicolon-separated CSV per intent with the columns
answerid;scenario;intent;answer_annotation;answer_from_anno;answer_from_user.

Each row becomes {"intent": "<scenario>_<intent>", "text": ..., "annotation": ...}; "annotation" is the
row's answer_annotation in `[label : value]` markup with runs of white space folded to one space and
spaces inside the brackets normalised; "text" is the annotation without its markup. Rows whose markup
does not parse (unbalanced or nested brackets, no ':' between label and value, an empty value or label)
are skipped and counted; a row with the same intent and annotation as an earlier one is dropped (answerid
is not unique in the source, so it is not used). Rows are written in input order: TRAIN_DIR then TEST_DIR,
files by name, rows as in the file.
Standard library only; the output is the same for the same input.
"""
import csv
import json
import os
import re
import sys

SLOT = re.compile(r"\[\s*([^\[\]\s:]+)\s*:\s*([^\[\]]*?)\s*\]")


def convert(markup):
    """(text, annotation) of a markup string, or None when it does not parse."""
    markup = " ".join(markup.split())
    out_text, out_markup, at = "", "", 0
    for m in SLOT.finditer(markup):
        outside = markup[at:m.start()]
        if "[" in outside or "]" in outside:
            return None
        label, value = m.group(1), m.group(2)
        if not value or ":" in label:
            return None
        out_text += outside + value
        out_markup += outside + f"[{label} : {value}]"
        at = m.end()
    rest = markup[at:]
    if "[" in rest or "]" in rest:
        return None
    out_text += rest
    out_markup += rest
    if not out_text.strip():
        return None
    return out_text, out_markup


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    rows, seen, skipped, duplicates = [], set(), 0, 0
    for folder in argv[1:3]:
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".csv"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8", newline="") as f:
                for n, row in enumerate(csv.DictReader(f, delimiter=";"), 2):
                    try:
                        intent = f"{row['scenario'].strip()}_{row['intent'].strip()}"
                        converted = convert(row["answer_annotation"])
                    except (KeyError, AttributeError, TypeError):
                        converted = None
                    if converted is None:
                        skipped += 1
                        print(f"{path}:{n}: skipped, unparsable row", file=sys.stderr)
                        continue
                    if (intent, converted[1]) in seen:
                        duplicates += 1
                        continue
                    seen.add((intent, converted[1]))
                    rows.append({"intent": intent, "text": converted[0], "annotation": converted[1]})
    with open(argv[3], "w", encoding="utf-8", newline="\n") as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    intents = len({r["intent"] for r in rows})
    print(f"{len(rows)} utterances, {intents} intents, {skipped} unparsable rows skipped, "
          f"{duplicates} duplicate rows dropped", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
