"""Cross-check of `selflearn align` against python-Levenshtein (Debian's python3-levenshtein).

Usage: levenshtein.py PATH_TO_SELFLEARN

Random Unicode strings (ASCII, Latin-1, Greek, CJK and astral-plane emoji), related by random edits or
unrelated, up to 300 code points: the distance must equal Levenshtein.distance, the number of edit
operations must equal the number python-Levenshtein's editops uses (both minimal), and our operations
applied to a must give b. Also the cutoff (--max), bytes (--unit byte) and words (--unit word).
"""

import json
import random
import subprocess
import sys

import Levenshtein

RANGES = [(0x61, 0x66), (0xE0, 0xE6), (0x3B1, 0x3B6), (0x4E00, 0x4E05), (0x1F600, 0x1F605)]


def random_char(rng):
    lo, hi = rng.choice(RANGES)
    return chr(rng.randint(lo, hi))


def random_text(rng, length):
    return "".join(random_char(rng) for _ in range(length))


def edited(rng, s, edits, element):
    s = list(s)
    for _ in range(edits):
        kind = rng.randrange(3)
        if not s or kind == 0:
            s.insert(rng.randint(0, len(s)), element())
        elif kind == 1:
            s[rng.randrange(len(s))] = element()
        else:
            del s[rng.randrange(len(s))]
    return s


def random_pairs(rng, count):
    pairs = []
    for i in range(count):
        longest = 300 if i % 10 == 0 else 40
        a = random_text(rng, rng.randint(0, longest))
        if rng.randrange(3) == 0:
            b = random_text(rng, rng.randint(0, longest))
        else:
            b = "".join(edited(rng, a, rng.randint(0, max(1, len(a) // 3)), lambda: random_char(rng)))
        pairs.append((a, b))
    return pairs


def run(program, pairs, *options):
    lines = "".join(json.dumps({"a": a, "b": b}, ensure_ascii=False) + "\n" for a, b in pairs)
    done = subprocess.run([program, "align", *options], input=lines.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"selflearn align {' '.join(options)} failed ({done.returncode}): {done.stderr.decode()}")
    out = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    if len(out) != len(pairs):
        sys.exit(f"selflearn align {' '.join(options)}: {len(out)} output lines for {len(pairs)} inputs")
    return out


def apply_ops(a, b, ops):
    """Applies python-Levenshtein-style editops to a; None if they are malformed."""
    out = []
    s = t = 0
    for kind, i, j in ops:
        if i < s or j < t or i - s != j - t:
            return None
        while s < i:
            if a[s] != b[t]:
                return None
            out.append(b[t])
            s += 1
            t += 1
        if kind == "replace":
            if s >= len(a) or t >= len(b) or a[s] == b[t]:
                return None
            out.append(b[t])
            s += 1
            t += 1
        elif kind == "insert":
            if t >= len(b):
                return None
            out.append(b[t])
            t += 1
        elif kind == "delete":
            if s >= len(a):
                return None
            s += 1
        else:
            return None
    if len(a) - s != len(b) - t:
        return None
    out.extend(b[t:])
    return out if a[s:] == b[t:] else None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: levenshtein.py PATH_TO_SELFLEARN")
    program = sys.argv[1]
    rng = random.Random(20241121)
    failures = []

    pairs = random_pairs(rng, 3000)
    for (a, b), got in zip(pairs, run(program, pairs, "--ops")):
        expected = Levenshtein.distance(a, b)
        if got["distance"] != expected:
            failures.append(f"distance {a!r} {b!r}: {got['distance']} != {expected}")
        elif len(got["ops"]) != len(Levenshtein.editops(a, b)):
            failures.append(f"editops cost {a!r} {b!r}: {len(got['ops'])} != {len(Levenshtein.editops(a, b))}")
        elif apply_ops(a, b, got["ops"]) != list(b):
            failures.append(f"editops {a!r} {b!r} do not turn a into b: {got['ops']}")

    for limit in (0, 2, 5, 20):
        for (a, b), got in zip(pairs, run(program, pairs, "--max", str(limit))):
            expected = Levenshtein.distance(a, b)
            want = expected if expected <= limit else None
            if got["distance"] != want:
                failures.append(f"--max {limit} {a!r} {b!r}: {got['distance']} != {want}")

    for (a, b), got in zip(pairs, run(program, pairs, "--unit", "byte")):
        expected = Levenshtein.distance(a.encode("utf-8"), b.encode("utf-8"))
        if got["distance"] != expected:
            failures.append(f"--unit byte {a!r} {b!r}: {got['distance']} != {expected}")

    vocabulary = ["play", "the", "song", "by", "queen", "on", "spotify", "please", "résumé", "naïve", "東京"]
    word_pairs = []
    for _ in range(1000):
        a = [rng.choice(vocabulary) for _ in range(rng.randint(0, 40))]
        b = edited(rng, a, rng.randint(0, 6), lambda: rng.choice(vocabulary))
        word_pairs.append((" ".join(a), " ".join(b)))
    letter = {w: chr(0x100 + i) for i, w in enumerate(vocabulary)}
    for (a, b), got in zip(word_pairs, run(program, word_pairs, "--unit", "word", "--ops")):
        sa = "".join(letter[w] for w in a.split())
        sb = "".join(letter[w] for w in b.split())
        expected = Levenshtein.distance(sa, sb)
        if got["distance"] != expected:
            failures.append(f"--unit word {a!r} {b!r}: {got['distance']} != {expected}")
        elif apply_ops(a.split(), b.split(), got["ops"]) != b.split():
            failures.append(f"--unit word editops {a!r} {b!r} do not turn a into b: {got['ops']}")

    checked = len(pairs) * 6 + len(word_pairs)
    if failures:
        print(f"{len(failures)} mismatches against python-Levenshtein out of {checked} checks:")
        for f in failures[:20]:
            print("  " + f)
        sys.exit(1)
    print(f"selflearn align agrees with python-Levenshtein on {checked} checks")


if __name__ == "__main__":
    main()
