"""Cross-check of `selflearn chain` against exact rational arithmetic (Python's fractions) on
ill-conditioned absorbing chains: a self loop of 1.0 next to an exit of 1e-24, the 32-state regression
chain of R markovchain's tests (tests/testthat/testHittingProbabilities.R, transition probabilities down
to 1e-134), and that chain with its near-absorbing rows made exactly absorbing. The reference reads every
double given to selflearn as the exact rational it is, divides each row by its exact sum, and solves
(I - Q) B = R by Gauss-Jordan elimination over the rationals, with I - Q's diagonal the row's exits.
Usage: markov_exact.py <path of the selflearn program>. Exits non-zero, naming the chain and state, when
selflearn fails, when a row of B does not sum to 1 or has a negative entry, or when an entry differs from
the exact solution by more than 1e-12.
"""

import json
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

TOLERANCE = 1e-12

STATES = ["WT", "A", "B", "D", "E", "F", "A, B", "A, D", "A, E", "A, F", "B, D", "B, E", "B, F", "D, E", "D, F",
          "E, F", "A, B, D", "A, B, E", "A, B, F", "A, D, E", "A, D, F", "A, E, F", "B, D, E", "B, D, F", "B, E, F",
          "D, E, F", "A, B, D, E", "A, B, D, F", "A, B, E, F", "A, D, E, F", "B, D, E, F", "A, B, D, E, F"]

# (from, to, probability) of the 32-state chain, as published in markovchain's regression test (test data).
EDGES = [
    ("WT", "WT", 0.63449850680829512), ("WT", "A", 0.041793041492802649), ("WT", "B", 0.028441840284111373),
    ("WT", "D", 0.062717869820808361), ("WT", "E", 0.21727315706971301), ("WT", "F", 0.015275584524269642),
    ("A", "A", 0.57485088027933162), ("A", "A, B", 0.00041841619555324305), ("A", "A, D", 0.00060531147358965814),
    ("A", "A, E", 0.42412539205152555), ("A", "A, F", 5.5727123836777542e-55),
    ("B", "B", 0.66647990952108571), ("B", "A, B", 0.00022732644835666204), ("B", "B, D", 0.33284801940052894),
    ("B", "B, E", 0.00044474463002869947), ("B", "B, F", 6.5589784682323325e-57),
    ("D", "D", 0.51700377454046575), ("D", "A, D", 6.75560039898472e-06), ("D", "B, D", 0.0077652395471692779),
    ("D", "D, E", 0.47522423031196598), ("D", "D, F", 2.7983195202462127e-24),
    ("E", "E", 0.62040614659464222), ("E", "A, E", 0.0049273518113729601), ("E", "B, E", 7.730104830170793e-06),
    ("E", "D, E", 0.37465875158986894), ("E", "E, F", 1.9899285658071983e-08),
    ("F", "F", 0.99998362954317199), ("F", "A, F", 2.9757984014636251e-52), ("F", "B, F", 1.961158918919403e-52),
    ("F", "D, F", 5.0548037329469435e-20), ("F", "E, F", 1.6370456828126428e-05),
    ("A, B", "A, B", 3.0446260799250989e-14), ("A, B", "A, B, D", 0.99999999999949607),
    ("A, B", "A, B, E", 4.7355752243010144e-13), ("A, B", "A, B, F", 1.0457258192206783e-134),
    ("A, D", "A, D", 0.29890478052849356), ("A, D", "A, B, D", 0.68358435341884782),
    ("A, D", "A, D, E", 0.017510866052658704), ("A, D", "A, D, F", 1.3750128655650268e-52),
    ("A, E", "A, E", 0.71197625806376208), ("A, E", "A, B, E", 3.3248763467787424e-11),
    ("A, E", "A, D, E", 0.28802374190298907), ("A, E", "A, E, F", 1.0259561302774829e-45),
    ("A, F", "A, F", 0.21048650109365852), ("A, F", "A, B, F", 3.5306106557747918e-83),
    ("A, F", "A, D, F", 0.43260041173277847), ("A, F", "A, E, F", 0.3569130871735629),
    ("B, D", "B, D", 0.23612431837855821), ("B, D", "A, B, D", 0.28711333125825389),
    ("B, D", "B, D, E", 0.47676235036318776), ("B, D", "B, D, F", 9.8237991691823307e-51),
    ("B, E", "B, E", 0.17972411354402271), ("B, E", "A, B, E", 1.9267231831583575e-13),
    ("B, E", "B, D, E", 0.82027588645578464), ("B, E", "B, E, F", 5.8179252526038295e-54),
    ("B, F", "B, F", 0.21667137765401343), ("B, F", "A, B, F", 5.3936641286941072e-83),
    ("B, F", "B, D, F", 0.43184914933268037), ("B, F", "B, E, F", 0.35147947301330623),
    ("D, E", "D, E", 0.74472912418700465), ("D, E", "A, D, E", 0.0050770469649198836),
    ("D, E", "B, D, E", 0.25019382884807545), ("D, E", "D, E, F", 6.8057372942585063e-18),
    ("D, F", "D, F", 0.39768189471835552), ("D, F", "A, D, F", 1.8381568635755127e-33),
    ("D, F", "B, D, F", 1.1454793777784797e-33), ("D, F", "D, E, F", 0.60231810528164453),
    ("E, F", "E, F", 0.99999999999999889), ("E, F", "A, E, F", 1.8482961686940169e-48),
    ("E, F", "B, E, F", 1.0223505679033526e-48), ("E, F", "D, E, F", 1.0994420308182125e-15),
    ("A, B, D", "A, B, D", 0.066700029771387268), ("A, B, D", "A, B, D, E", 0.93329997022861266),
    ("A, B, D", "A, B, D, F", 2.454637913964187e-68),
    ("A, B, E", "A, B, E", 0.030760864616504714), ("A, B, E", "A, B, D, E", 0.96923913538349526),
    ("A, B, E", "A, B, E, F", 1.7543062778122525e-97),
    ("A, B, F", "A, B, F", 0.33333333333333331), ("A, B, F", "A, B, D, F", 0.33333333333333331),
    ("A, B, F", "A, B, E, F", 0.33333333333333331),
    ("A, D, E", "A, D, E", 0.031943390019762076), ("A, D, E", "A, B, D, E", 0.96805660998023801),
    ("A, D, E", "A, D, E, F", 5.0765936912656143e-29),
    ("A, D, F", "A, D, F", 0.39858537171400582), ("A, D, F", "A, B, D, F", 2.3037015754144223e-83),
    ("A, D, F", "A, D, E, F", 0.60141462828599423),
    ("A, E, F", "A, E, F", 0.26887179941219236), ("A, E, F", "A, B, E, F", 1.3126358255302064e-62),
    ("A, E, F", "A, D, E, F", 0.73112820058780759),
    ("B, D, E", "B, D, E", 0.11946386921162501), ("B, D, E", "A, B, D, E", 0.880536130788375),
    ("B, D, E", "B, D, E, F", 2.0009523093922217e-28),
    ("B, D, F", "B, D, F", 0.41684611031332863), ("B, D, F", "A, B, D, F", 1.9316209177149799e-77),
    ("B, D, F", "B, D, E, F", 0.58315388968667126),
    ("B, E, F", "B, E, F", 0.27902981223905138), ("B, E, F", "A, B, E, F", 3.5693670222903711e-83),
    ("B, E, F", "B, D, E, F", 0.72097018776094868),
    ("D, E, F", "D, E, F", 1.0), ("D, E, F", "A, D, E, F", 1.8380432217274186e-31),
    ("D, E, F", "B, D, E, F", 9.0480304335098159e-32),
    ("A, B, D, E", "A, B, D, E", 1.0), ("A, B, D, E", "A, B, D, E, F", 1.5449888073552199e-24),
    ("A, B, D, F", "A, B, D, F", 0.5), ("A, B, D, F", "A, B, D, E, F", 0.5),
    ("A, B, E, F", "A, B, E, F", 0.5), ("A, B, E, F", "A, B, D, E, F", 0.5),
    ("A, D, E, F", "A, D, E, F", 1.0), ("A, D, E, F", "A, B, D, E, F", 4.4492695668057762e-39),
    ("B, D, E, F", "B, D, E, F", 1.0), ("B, D, E, F", "A, B, D, E, F", 4.3568057771047043e-37),
    ("A, B, D, E, F", "A, B, D, E, F", 1.0),
]


def normalised(edges):
    """Each row divided by its sum in double, as markovchain's test does (P / rowSums(P))."""
    sums = {}
    for f, _, p in edges:
        sums[f] = sums.get(f, 0.0) + p
    return [(f, t, p / sums[f]) for f, t, p in edges]


def exact_absorption(edges):
    """Exact B over the rationals: states with no positive exit are absorbing (the near-absorbing rule)."""
    rows = {}
    for f, t, p in edges:
        rows.setdefault(f, {})
        rows.setdefault(t, {})
        rows[f][t] = rows[f].get(t, Fraction(0)) + Fraction(p)
    for f, row in rows.items():
        total = sum(row.values(), Fraction(0))
        if total:
            rows[f] = {t: v / total for t, v in row.items()}
    absorbing = sorted(s for s, row in rows.items() if all(t == s or v == 0 for t, v in row.items()))
    transient = sorted(s for s in rows if s not in absorbing)
    index = {s: i for i, s in enumerate(transient)}
    n, a = len(transient), len(absorbing)
    # Augmented [I - Q | R], diagonal = sum of exits.
    m = [[Fraction(0)] * (n + a) for _ in range(n)]
    for s in transient:
        i = index[s]
        for t, v in rows[s].items():
            if t == s:
                continue
            m[i][i] += v
            if t in index:
                m[i][index[t]] -= v
            else:
                m[i][n + absorbing.index(t)] += v
    for c in range(n):
        pivot = next(r for r in range(c, n) if m[r][c] != 0)
        m[c], m[pivot] = m[pivot], m[c]
        inv = 1 / m[c][c]
        m[c] = [v * inv for v in m[c]]
        for r in range(n):
            if r != c and m[r][c] != 0:
                factor = m[r][c]
                m[r] = [x - factor * y for x, y in zip(m[r], m[c])]
    return {s: {absorbing[k]: m[index[s]][n + k] for k in range(a)} for s in transient}


def run_selflearn(program, edges):
    with tempfile.TemporaryDirectory() as directory:
        source = os.path.join(directory, "chain.jsonl")
        target = os.path.join(directory, "out.jsonl")
        with open(source, "w", encoding="utf-8") as out:
            for f, t, p in edges:
                out.write(json.dumps({"from": f, "to": t, "p": p}) + "\n")
        done = subprocess.run([program, "chain", "--output", target, source], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"selflearn chain failed ({done.returncode}): {done.stderr.strip()}")
        with open(target, encoding="utf-8") as rows:
            return {row["state"]: row for row in map(json.loads, rows)}


def compare(program, label, edges):
    exact = exact_absorption(edges)
    ours = run_selflearn(program, edges)
    if set(ours) != set(exact):
        raise SystemExit(f"{label}: transient states differ: selflearn {sorted(ours)}, exact {sorted(exact)}")
    for state, row in exact.items():
        got = ours[state]["absorption"]
        total = sum(got.values())
        if abs(total - 1.0) > TOLERANCE or min(got.values(), default=0.0) < 0.0:
            raise SystemExit(f"{label}: absorption from {state!r} sums to {total!r} or is negative: {got}")
        for target in set(row) | set(got):
            want = float(row.get(target, 0))
            mine = got.get(target, 0.0)
            if abs(mine - want) > TOLERANCE:
                raise SystemExit(f"{label}: absorption from {state!r} into {target!r}: selflearn {mine!r}, "
                                 f"exact {want!r}")
    return len(exact)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: markov_exact.py <selflearn program>")
    program = sys.argv[1]
    tiny = [("0", "0", 0.5), ("0", "1", 0.5), ("1", "1", 1.0), ("1", "2", 1e-24), ("2", "2", 1.0)]
    full = normalised(EDGES)
    # The same chain with every row whose self loop is 1.0 after normalisation made exactly absorbing.
    loops = {f for f, t, p in full if f == t and p == 1.0}
    cut = [(f, t, p) for f, t, p in full if f not in loops or f == t]
    checked = compare(program, "self loop 1.0 with exit 1e-24", tiny)
    checked += compare(program, "markovchain's 32-state chain", full)
    checked += compare(program, "markovchain's 32-state chain, near-absorbing rows cut", cut)
    print(f"markov_exact: {checked} transient states equal to the exact rational solution within {TOLERANCE}")


if __name__ == "__main__":
    main()
