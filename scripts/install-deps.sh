#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking selflearn need, if any is missing.
# Uses apt-get directly as root, through sudo otherwise.
set -euo pipefail

packages=(
    cmake make g++ clang libclang-rt-14-dev pkg-config git   # clang's runtime: sanitizers and libFuzzer
    libeigen3-dev libfmt-dev                 # the library's dependencies
    doctest-dev nlohmann-json3-dev           # tests; JSON for the example program only
    libbenchmark-dev libedlib-dev            # bench/ (edlib is a peer measured side by side)
    python3 python3-levenshtein python3-numpy python3-scipy   # cross-checks and benchmark peers
    python3-sklearn                          # cross-check of the trained logistic models
    r-cran-markovchain r-cran-jsonlite       # cross-check of absorbing chains (markovchain does not pull in jsonlite)
    dpkg-dev                                 # markovchain loads RcppParallel, whose .onLoad runs dpkg-architecture
    time                                     # peak-memory figures of the pipeline benchmark
)

# --list: print the packages, one per line (scripts/check-test-deps.py checks them against what the tests load).
if [ "${1:-}" = --list ]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
