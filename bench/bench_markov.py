"""Peer side of bench_markov: numpy / scipy solving the same absorbing-chain systems that bench_markov.cpp
writes to binary files. Prints one wall-clock time in seconds per repetition, one per line.

Usage (called by bench_markov, not by hand):
  bench_markov.py dense  DIR N A REPS     numpy.linalg.solve(I - Q, [R 1]) (LAPACK gesv; one factorisation,
                                          where the C++ side also validates, solves y = N t and checks B)
  bench_markov.py sparse DIR N K REPS     scipy.sparse.linalg.splu(I - Q), solve K right-hand sides, then
                                          one more solve (y = N t for the variance)
  bench_markov.py batch  DIR C M W REPS   numpy.linalg.solve on C stacked M x M systems with W columns
"""

import sys
import time

import numpy as np


def dense(folder, n, a, reps):
    q = np.fromfile(f"{folder}/q.bin", dtype=np.float64).reshape(n, n)
    r = np.fromfile(f"{folder}/r.bin", dtype=np.float64).reshape(n, a)
    for _ in range(reps):
        start = time.perf_counter()
        lhs = np.eye(n) - q
        rhs = np.hstack([r, np.ones((n, 1))])
        x = np.linalg.solve(lhs, rhs)
        elapsed = time.perf_counter() - start
        assert np.all(np.abs(x[:, :a].sum(axis=1) - 1.0) < 1e-9)
        print(f"{elapsed:.9f}", flush=True)


def sparse(folder, n, k, reps):
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    indptr = np.fromfile(f"{folder}/indptr.bin", dtype=np.int32)
    indices = np.fromfile(f"{folder}/indices.bin", dtype=np.int32)
    values = np.fromfile(f"{folder}/values.bin", dtype=np.float64)
    rhs = np.fromfile(f"{folder}/rhs.bin", dtype=np.float64).reshape(k, n).T.copy()
    q = sp.csr_matrix((values, indices, indptr), shape=(n, n))
    for _ in range(reps):
        start = time.perf_counter()
        lhs = (sp.identity(n, format="csr") - q).tocsc()
        lu = spla.splu(lhs)
        x = lu.solve(rhs)
        y = lu.solve(x[:, k - 1].copy())
        elapsed = time.perf_counter() - start
        assert np.all(x[:, : k - 1] > -1e-9) and np.all(y > 0)
        print(f"{elapsed:.9f}", flush=True)


def batch(folder, count, m, width, reps):
    lhs = np.fromfile(f"{folder}/a.bin", dtype=np.float64).reshape(count, m, m)
    rhs = np.fromfile(f"{folder}/b.bin", dtype=np.float64).reshape(count, m, width)
    for _ in range(reps):
        start = time.perf_counter()
        x = np.linalg.solve(lhs, rhs)
        elapsed = time.perf_counter() - start
        assert np.all(np.isfinite(x))
        print(f"{elapsed:.9f}", flush=True)


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    numbers = [int(v) for v in sys.argv[3:]]
    {"dense": dense, "sparse": sparse, "batch": batch}[mode](folder, *numbers)


if __name__ == "__main__":
    main()
