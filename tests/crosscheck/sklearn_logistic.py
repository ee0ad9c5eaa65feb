"""Cross-check of the paraphrase detector's training against scikit-learn (Debian's python3-sklearn).

Usage: sklearn_logistic.py PATH_TO_SELFLEARN

Runs `selflearn train-paraphrase` on the SNIPS training file (the folder named by the SELFLEARN_DATA_DIR
environment variable, else ../shared/data/snips next to the source tree) with --features-out, then fits
sklearn.linear_model.LogisticRegression with the same C on the dumped features, standardised here with
numpy (population standard deviation, 1 for a constant column), and asserts that the model file's
standardisation equals numpy's, its coefficients and intercept equal scikit-learn's newton-cg solution
within 1e-4, and its objective is no higher than the one scikit-learn's lbfgs reaches, for two values of C.
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

TOLERANCE = 1e-4


def data_dir():
    env = os.environ.get("SELFLEARN_DATA_DIR")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "snips"


def read_model(path):
    fields = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == "selflearn-logistic-model 1", lines[0]
    end = lines.index("end")  # the logistic part; the carrier lexicon of the intent features follows it
    assert lines[end + 1].startswith("carrier-lexicon "), lines[end + 1]
    for line in lines[1:end]:
        key, *values = line.split(" ")
        fields[key] = values
    assert fields["kind"] == ["paraphrase"], fields["kind"]
    names = fields["features"][1:]
    assert int(fields["features"][0]) == len(names)
    return {
        "names": names,
        "c": float(fields["c"][0]),
        "intercept": float(fields["intercept"][0]),
        "coefficients": np.array([float(v) for v in fields["coefficients"]]),
        "mean": np.array([float(v) for v in fields["mean"]]),
        "scale": np.array([float(v) for v in fields["scale"]]),
    }


def read_features(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f]
    assert header[-2:] == ["label", "kind"], header
    names = header[:-2]
    x = np.array([[float(v) for v in r[: len(names)]] for r in rows])
    y = np.array([int(r[len(names)]) for r in rows])
    return names, x, y


def objective(xs, y, w, b, c):
    """C * sum of log-losses + 0.5 ||w||^2, as scikit-learn minimises it."""
    z = xs @ w + b
    return c * np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * float(w @ w)


def main():
    warnings.simplefilter("ignore")  # the peers' convergence chatter; the checks below decide
    program = sys.argv[1]
    corpus = data_dir() / "train.jsonl"
    if not corpus.is_file():
        sys.exit(f"FAIL: the SNIPS corpus is missing: {corpus}")
    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for c, seed in ((1.0, 3), (0.05, 4)):
            model_path = os.path.join(tmp, f"p{seed}.model")
            tsv_path = os.path.join(tmp, f"p{seed}.tsv")
            subprocess.run([program, "train-paraphrase", "--corpus", str(corpus), "--out", model_path,
                            "--features-out", tsv_path, "--seed", str(seed), "--c", repr(c)], check=True)
            model = read_model(model_path)
            names, x, y = read_features(tsv_path)
            assert names == model["names"], (names, model["names"])
            assert model["c"] == c
            assert 0 < y.sum() < len(y)
            mean = x.mean(axis=0)
            scale = x.std(axis=0)
            scale[scale == 0] = 1.0
            checks += 1
            if not (np.allclose(model["mean"], mean, rtol=1e-12, atol=1e-14)
                    and np.allclose(model["scale"], scale, rtol=1e-12, atol=1e-14)):
                failures += 1
                print(f"FAIL C={c}: standardisation differs\n ours  {model['mean']} {model['scale']}\n numpy {mean} {scale}")
            xs = (x - mean) / scale
            # newton-cg converges to the tolerance asked for: the coefficients must agree within 1e-4.
            peer = LogisticRegression(C=c, solver="newton-cg", tol=1e-12, max_iter=100000)
            peer.fit(xs, y)
            diff_w = np.max(np.abs(peer.coef_[0] - model["coefficients"]))
            diff_b = abs(peer.intercept_[0] - model["intercept"])
            checks += 1
            status = "ok" if max(diff_w, diff_b) <= TOLERANCE else "FAIL"
            print(f"{status} C={c} newton-cg: {len(y)} pairs, {x.shape[1]} features, "
                  f"max |coef diff| {diff_w:.2e}, |intercept diff| {diff_b:.2e}")
            if status == "FAIL":
                failures += 1
                print("  ours   ", model["coefficients"], model["intercept"])
                print("  sklearn", peer.coef_[0], peer.intercept_[0])
            # lbfgs stops on a relative decrease of the objective (scipy's ftol) before 1e-4 on the
            # coefficients: our minimum must be at least as low as the one it finds.
            lbfgs = LogisticRegression(C=c, solver="lbfgs", tol=1e-12, max_iter=100000)
            lbfgs.fit(xs, y)
            ours = objective(xs, y, model["coefficients"], model["intercept"], c)
            theirs = objective(xs, y, lbfgs.coef_[0], lbfgs.intercept_[0], c)
            checks += 1
            status = "ok" if ours <= theirs + 1e-9 * abs(theirs) else "FAIL"
            print(f"{status} C={c} lbfgs: objective ours {ours:.12g}, lbfgs {theirs:.12g}, "
                  f"max |coef diff| {np.max(np.abs(lbfgs.coef_[0] - model['coefficients'])):.2e}")
            if status == "FAIL":
                failures += 1
    print(f"{checks - failures} of {checks} checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
