#!/usr/bin/env bash
# Quick start, tests: installs what is missing, then configures, builds and runs every test
# (unit tests, header checks, cross-checks against python3-levenshtein and R markovchain, example
# programs, consumer projects) with the `dev` workflow preset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset dev
